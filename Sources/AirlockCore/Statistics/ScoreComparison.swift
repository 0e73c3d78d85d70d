import Foundation

/// Two runs' scores on the same task: the difference of their means (b − a) with its interval.
///
/// Each sample counts once, as the mean of its epochs. Where the runs share samples (the same
/// task, two models or versions), the difference is paired on those samples: each sample's own
/// difference, with a Student-t interval, which is far narrower than comparing two independent
/// means because a sample's difficulty cancels out. With fewer than two shared samples, the
/// means are compared as independent (Welch's interval).
public struct ScoreComparison: Sendable, Hashable {
    public enum Method: String, Sendable, Hashable {
        case paired
        case independent
    }

    /// One shared sample's means in each run.
    public struct SampleDifference: Sendable, Hashable {
        public var sampleId: String
        public var a: Double
        public var b: Double
        public var difference: Double { b - a }
    }

    public var meanA: Double
    public var meanB: Double
    public var samplesA: Int
    public var samplesB: Int
    public var difference: Double
    public var lower: Double
    public var upper: Double
    public var method: Method
    /// The samples both runs have, by how much they differ (most first).
    public var shared: [SampleDifference]

    /// Whether the interval leaves out zero: the runs differ at this confidence.
    public var isSignificant: Bool { lower > 0 || upper < 0 }

    /// `a` and `b`: each run's values by sample (one per epoch).
    public static func compare(_ a: [String: [Double]], _ b: [String: [Double]], confidence: Double = 0.95) -> ScoreComparison {
        let meansA = a.compactMapValues { $0.isEmpty ? nil : Statistics.mean($0) }
        let meansB = b.compactMapValues { $0.isEmpty ? nil : Statistics.mean($0) }
        let shared = meansA.keys.filter { meansB[$0] != nil }.sorted().map { SampleDifference(sampleId: $0, a: meansA[$0]!, b: meansB[$0]!) }
            .sorted { abs($0.difference) != abs($1.difference) ? abs($0.difference) > abs($1.difference) : $0.sampleId < $1.sampleId }
        let valuesA = Array(meansA.values)
        let valuesB = Array(meansB.values)
        var comparison = ScoreComparison(
            meanA: Statistics.mean(valuesA), meanB: Statistics.mean(valuesB), samplesA: valuesA.count, samplesB: valuesB.count, difference: .nan,
            lower: .nan, upper: .nan, method: .independent, shared: shared)
        if shared.count >= 2 {
            let differences = shared.map(\.difference)
            let interval = Statistics.tInterval(differences, confidence: confidence)
            comparison.method = .paired
            comparison.difference = Statistics.mean(differences)
            (comparison.lower, comparison.upper) = interval
        } else if valuesA.count >= 2, valuesB.count >= 2 {
            let varianceA = pow(Statistics.standardError(valuesA), 2)
            let varianceB = pow(Statistics.standardError(valuesB), 2)
            let standardError = (varianceA + varianceB).squareRoot()
            comparison.difference = comparison.meanB - comparison.meanA
            if standardError == 0 {
                (comparison.lower, comparison.upper) = (comparison.difference, comparison.difference)
            } else {
                // Welch–Satterthwaite degrees of freedom.
                let df = pow(varianceA + varianceB, 2)
                    / (pow(varianceA, 2) / Double(valuesA.count - 1) + pow(varianceB, 2) / Double(valuesB.count - 1))
                let half = Statistics.tQuantile(0.5 + confidence / 2, degreesOfFreedom: df) * standardError
                (comparison.lower, comparison.upper) = (comparison.difference - half, comparison.difference + half)
            }
        } else {
            comparison.difference = comparison.meanB - comparison.meanA
        }
        return comparison
    }

    /// Two runs known only by their summaries (runs imported without their samples): the
    /// difference of the means, independent, with a normal interval from their standard errors.
    public static func compare(_ a: MetricSummary, _ b: MetricSummary, confidence: Double = 0.95) -> ScoreComparison {
        let difference = b.value - a.value
        let half = Statistics.normalQuantile(0.5 + confidence / 2) * (a.standardError * a.standardError + b.standardError * b.standardError).squareRoot()
        return ScoreComparison(
            meanA: a.value, meanB: b.value, samplesA: a.count, samplesB: b.count, difference: difference, lower: difference - half,
            upper: difference + half, method: .independent, shared: [])
    }
}
