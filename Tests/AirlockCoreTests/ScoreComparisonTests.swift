import AirlockCore
import Foundation
import Testing

/// Two runs' scores compared: paired on shared samples, independent (Welch) otherwise, each
/// interval worked by hand from its formula.
@Suite struct ScoreComparisonTests {
    @Test func sharedSamplesArePairedOnTheirEpochMeans() throws {
        // Differences per sample: +1, 0, +1, +1, 0 (sample s2's epochs average to 0.5 in both).
        let a: [String: [Double]] = ["s0": [0], "s1": [1], "s2": [0, 1], "s3": [0, 0], "s4": [1], "only-a": [1]]
        let b: [String: [Double]] = ["s0": [1], "s1": [1], "s2": [1, 1], "s3": [1, 1], "s4": [1], "only-b": [0]]
        let result = ScoreComparison.compare(a, b)
        #expect(result.method == .paired && result.shared.count == 5)
        #expect(result.shared.map(\.sampleId) == ["s0", "s3", "s2", "s1", "s4"])
        // Mean difference (1 + 0 + 0.5 + 1 + 0) / 5 = 0.5; sd of [1, 0, 0.5, 1, 0] = sqrt(0.25); t(0.975, 4) = 2.7764451051977987.
        #expect(abs(result.difference - 0.5) < 1e-12)
        let half = 2.7764451051977987 * 0.5 / 5.0.squareRoot()
        #expect(abs(result.lower - (0.5 - half)) < 1e-9 && abs(result.upper - (0.5 + half)) < 1e-9)
        #expect(!result.isSignificant)
        #expect(result.samplesA == 6 && result.samplesB == 6)
        #expect(abs(result.meanA - 3.5 / 6) < 1e-12 && abs(result.meanB - 5.0 / 6) < 1e-12)
    }

    @Test func aConsistentGainIsSignificantWhenPaired() {
        // Samples of very different difficulty, each 0.1 better in b: independent means would
        // not tell them apart; pairing does.
        let a = Dictionary(uniqueKeysWithValues: (0..<20).map { ("s\($0)", [Double($0) / 20]) })
        let b = a.mapValues { $0.map { $0 + 0.1 } }
        let paired = ScoreComparison.compare(a, b)
        #expect(paired.method == .paired && paired.isSignificant && abs(paired.difference - 0.1) < 1e-12)
        #expect(abs(paired.upper - paired.lower) < 1e-9)
        let renamed = Dictionary(uniqueKeysWithValues: b.map { ("other-\($0.key)", $0.value) })
        let independent = ScoreComparison.compare(a, renamed)
        #expect(independent.method == .independent && !independent.isSignificant && abs(independent.difference - 0.1) < 1e-12)
    }

    @Test func withoutSharedSamplesTheMeansAreWelchs() {
        let a: [String: [Double]] = ["a1": [0], "a2": [1], "a3": [1], "a4": [0]]
        let b: [String: [Double]] = ["b1": [1], "b2": [1], "b3": [1], "b4": [0], "b5": [1], "b6": [1]]
        let result = ScoreComparison.compare(a, b)
        #expect(result.method == .independent && result.shared.isEmpty)
        let varianceA = (4 * 0.25 / 3) / 4
        let varianceB = ((5 * (1.0 / 6) * (1.0 / 6)) + (5.0 / 6) * (5.0 / 6)) / 5 / 6
        let df = pow(varianceA + varianceB, 2) / (varianceA * varianceA / 3 + varianceB * varianceB / 5)
        let half = Statistics.tQuantile(0.975, degreesOfFreedom: df) * (varianceA + varianceB).squareRoot()
        #expect(abs(result.difference - (5.0 / 6 - 0.5)) < 1e-12)
        #expect(abs(result.lower - (result.difference - half)) < 1e-9 && abs(result.upper - (result.difference + half)) < 1e-9)
    }

    @Test func tooFewSamplesHaveNoInterval() {
        let result = ScoreComparison.compare(["s": [1]], ["t": [0]])
        #expect(result.difference == -1 && result.lower.isNaN && !result.isSignificant)
        let empty = ScoreComparison.compare([:], [:])
        #expect(empty.difference.isNaN && empty.shared.isEmpty)
    }

    @Test func summariesCompareWithANormalInterval() {
        let a = MetricSummary(name: "accuracy", value: 0.5, standardError: 0.03, lower: 0.44, upper: 0.56, count: 300, method: .wilson)
        let b = MetricSummary(name: "accuracy", value: 0.6, standardError: 0.04, lower: 0.52, upper: 0.68, count: 200, method: .wilson)
        let result = ScoreComparison.compare(a, b)
        #expect(abs(result.difference - 0.1) < 1e-12)
        #expect(abs(result.upper - result.difference - 1.959963984540054 * 0.05) < 1e-9)
        #expect(result.isSignificant && result.method == .independent)
    }
}
