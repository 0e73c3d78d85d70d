@testable import AirlockCore
@testable import AirlockEval
import Foundation
import Testing

/// The scipy reference values in Fixtures/statistics-reference.json.
private struct StatisticsReference: Decodable {
    struct Wilson: Decodable { var successes: Int; var n: Int; var lower: Double; var upper: Double }
    struct Descriptive: Decodable {
        var name: String
        var data: [Double]
        var n: Int
        var mean: Double
        var std: Double
        var se: Double
        var t_crit: Double
        var t_lower: Double
        var t_upper: Double
        var z: Double
        var z_lower: Double
        var z_upper: Double
    }
    struct ClusterSE: Decodable { var name: String; var values: [Double]; var clusters: [String]; var n: Int; var g: Int; var mean: Double; var se: Double }
    struct TQuantiles: Decodable {
        struct Row: Decodable { var df: Int; var value: Double }
        var p: Double
        var rows: [Row]
        var normal: Double
    }
    struct F1: Decodable {
        var prediction: String
        var target: String
        var prediction_tokens: [String]
        var target_tokens: [String]
        var precision: Double
        var recall: Double
        var f1: Double
    }

    var wilson: [Wilson]
    var descriptive: [Descriptive]
    var cluster_se: [ClusterSE]
    var t_quantiles: TQuantiles
    var f1: [F1]

    static let shared: StatisticsReference = {
        let url = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent() // UnitTests
            .deletingLastPathComponent() // AirlockEvalTests
            .appendingPathComponent("Fixtures/statistics-reference.json")
        do {
            return try JSONDecoder().decode(StatisticsReference.self, from: Data(contentsOf: url))
        } catch {
            fatalError("cannot read \(url.path): \(error)")
        }
    }()
}

/// |actual - expected| within `relative` of the expected magnitude (absolute near zero).
private func isClose(_ actual: Double, _ expected: Double, relative: Double = 1e-9) -> Bool {
    abs(actual - expected) <= relative * max(1, abs(expected)) && !actual.isNaN
}

@Suite struct StatisticsReferenceTests {
    private let reference = StatisticsReference.shared

    @Test func fixtureIsNotEmpty() {
        #expect(reference.wilson.count >= 5)
        #expect(reference.descriptive.count >= 3)
        #expect(reference.cluster_se.count >= 2)
        #expect(reference.t_quantiles.rows.count >= 10)
        #expect(reference.f1.count >= 5)
    }

    @Test func wilsonIntervals() {
        for row in reference.wilson {
            let interval = Statistics.wilsonInterval(successes: row.successes, n: row.n)
            #expect(isClose(interval.lower, row.lower), "\(row.successes)/\(row.n) lower: \(interval.lower) vs \(row.lower)")
            #expect(isClose(interval.upper, row.upper), "\(row.successes)/\(row.n) upper: \(interval.upper) vs \(row.upper)")
        }
    }

    @Test func wilsonEdgesAreExact() {
        #expect(Statistics.wilsonInterval(successes: 0, n: 10).lower == 0)
        #expect(Statistics.wilsonInterval(successes: 10, n: 10).upper == 1)
        let none = Statistics.wilsonInterval(successes: 0, n: 0)
        #expect(none.lower == 0 && none.upper == 1)
    }

    @Test func descriptiveStatistics() {
        for row in reference.descriptive {
            #expect(row.data.count == row.n)
            #expect(isClose(Statistics.mean(row.data), row.mean), "\(row.name) mean")
            #expect(isClose(Statistics.standardDeviation(row.data), row.std), "\(row.name) std")
            #expect(isClose(Statistics.standardError(row.data), row.se), "\(row.name) se")
            #expect(isClose(Statistics.tQuantile(0.975, degreesOfFreedom: Double(row.n - 1)), row.t_crit), "\(row.name) t_crit")
            let interval = Statistics.tInterval(row.data)
            #expect(isClose(interval.lower, row.t_lower), "\(row.name) t_lower \(interval.lower) vs \(row.t_lower)")
            #expect(isClose(interval.upper, row.t_upper), "\(row.name) t_upper \(interval.upper) vs \(row.t_upper)")
            #expect(isClose(Statistics.normalQuantile(0.975), row.z), "\(row.name) z")
        }
    }

    @Test func clusteredStandardErrors() {
        for row in reference.cluster_se {
            #expect(Set(row.clusters).count == row.g)
            #expect(isClose(Statistics.mean(row.values), row.mean), "\(row.name) mean")
            let se = Statistics.clusteredStandardError(row.values, clusters: row.clusters)
            #expect(isClose(se, row.se), "\(row.name) se: \(se) vs \(row.se)")
        }
    }

    @Test func tQuantiles() {
        let table = reference.t_quantiles
        for row in table.rows {
            let value = Statistics.tQuantile(table.p, degreesOfFreedom: Double(row.df))
            #expect(isClose(value, row.value), "df \(row.df): \(value) vs \(row.value)")
            // Symmetric about zero.
            #expect(isClose(Statistics.tQuantile(1 - table.p, degreesOfFreedom: Double(row.df)), -row.value), "df \(row.df) lower tail")
        }
        #expect(isClose(Statistics.normalQuantile(table.p), table.normal))
        #expect(isClose(Statistics.normalQuantile(1 - table.p), -table.normal))
    }

    @Test func f1AgainstReference() {
        for row in reference.f1 {
            #expect(F1Scorer.tokens(row.prediction) == row.prediction_tokens, "tokens of \(row.prediction)")
            #expect(F1Scorer.tokens(row.target) == row.target_tokens, "tokens of \(row.target)")
            #expect(isClose(F1Scorer.f1(prediction: row.prediction, target: row.target), row.f1), "f1 of \(row.prediction) / \(row.target)")
        }
    }
}

@Suite struct StatisticsHandComputedTests {
    @Test func knownQuantiles() {
        #expect(Statistics.normalQuantile(0.5) == 0)
        // scipy.stats.norm.ppf(0.995), (0.841344746068543) = 1, (0.001)
        #expect(isClose(Statistics.normalQuantile(0.995), 2.5758293035489004))
        #expect(isClose(Statistics.normalQuantile(0.8413447460685429), 1.0, relative: 1e-9))
        #expect(isClose(Statistics.normalQuantile(0.001), -3.090232306167813))
        // t with 1 degree of freedom is Cauchy: quantile tan(pi (p - 1/2)).
        #expect(isClose(Statistics.tQuantile(0.75, degreesOfFreedom: 1), 1.0))
        #expect(isClose(Statistics.tQuantile(0.9, degreesOfFreedom: 1), tan(Double.pi * 0.4)))
        #expect(Statistics.tQuantile(0.5, degreesOfFreedom: 3) == 0)
    }

    @Test func smallSamples() {
        #expect(Statistics.mean([]).isNaN)
        #expect(Statistics.standardDeviation([4]) == 0)
        #expect(Statistics.standardError([4]) == 0)
        let single = Statistics.tInterval([0.3])
        #expect(single.lower == 0.3 && single.upper == 0.3)
        // [1, 3]: mean 2, sd sqrt(2), se 1.
        #expect(isClose(Statistics.standardDeviation([1, 3]), 2.0.squareRoot()))
        #expect(isClose(Statistics.standardError([1, 3]), 1))
    }

    @Test func clusteredStandardErrorByHand() {
        // mean 0.5; cluster sums of deviations: a = 0.5 + 0.5 = 1, b = -0.5 - 0.5 = -1.
        // CR1: sqrt(g/(g-1) * (1 + 1)) / n = sqrt(2 * 2) / 4 = 0.5.
        let se = Statistics.clusteredStandardError([1, 1, 0, 0], clusters: ["a", "a", "b", "b"])
        #expect(isClose(se, 0.5))
        // One cluster: no estimate.
        #expect(Statistics.clusteredStandardError([1, 0], clusters: ["x", "x"]) == 0)
    }

    @Test func percentileInterpolates() {
        let sorted: [Double] = [0, 10, 20, 30, 40]
        #expect(Statistics.percentile(sorted, 0) == 0)
        #expect(Statistics.percentile(sorted, 1) == 40)
        #expect(Statistics.percentile(sorted, 0.5) == 20)
        #expect(isClose(Statistics.percentile(sorted, 0.1), 4))
        #expect(isClose(Statistics.percentile(sorted, 0.975), 39))
    }

    @Test func regularizedIncompleteBetaKnownValues() {
        // I_x(1, 1) = x; I_x(2, 1) = x^2; I_0.5(a, a) = 0.5.
        #expect(isClose(Statistics.regularizedIncompleteBeta(0.3, a: 1, b: 1), 0.3))
        #expect(isClose(Statistics.regularizedIncompleteBeta(0.6, a: 2, b: 1), 0.36))
        #expect(isClose(Statistics.regularizedIncompleteBeta(0.5, a: 3.5, b: 3.5), 0.5))
        #expect(Statistics.regularizedIncompleteBeta(0, a: 2, b: 3) == 0)
        #expect(Statistics.regularizedIncompleteBeta(1, a: 2, b: 3) == 1)
    }
}

@Suite struct StatisticsSummarizeTests {
    @Test func binaryValuesUseWilson() {
        let values: [Double] = [1, 0, 1, 1, 0, 1, 1, 1, 0, 1] // 7 of 10
        let summary = Statistics.summarize(values)
        #expect(summary.method == .wilson)
        #expect(summary.name == "accuracy")
        #expect(summary.count == 10)
        #expect(isClose(summary.value, 0.7))
        let wilson = Statistics.wilsonInterval(successes: 7, n: 10)
        #expect(summary.lower == wilson.lower && summary.upper == wilson.upper)
        // scipy: centre = (p + z²/2n) / (1 + z²/n), half = z sqrt(p(1-p)/n + z²/4n²) / (1 + z²/n).
        #expect(isClose(summary.lower, 0.39677814746114537))
        #expect(isClose(summary.upper, 0.8922087325936989))
        // Standard error of 0/1 values with n - 1: sqrt(0.7 * 0.3 * 10 / 9 / 10).
        #expect(isClose(summary.standardError, (0.21 / 9).squareRoot()))
    }

    @Test func fractionalValuesUseT() {
        let values: [Double] = [0.5, 1.0, 0.0, 1.0, 0.25]
        let summary = Statistics.summarize(values)
        #expect(summary.method == .t)
        #expect(summary.name == "mean")
        #expect(isClose(summary.value, 0.55))
        // From the scipy fixture ("mixed-scores").
        #expect(isClose(summary.standardError, 0.19999999999999998))
        // scipy's t interval is [-0.0053, 1.1053]; scores live in [0, 1], so it is cut there.
        let t = Statistics.tInterval(values)
        #expect(isClose(t.lower, -0.005289021039558639) && isClose(t.upper, 1.1052890210395587))
        #expect(summary.lower == 0 && summary.upper == 1)
    }

    @Test func singleClusterFallsBackToWilson() {
        let summary = Statistics.summarize([1, 0, 1], clusters: ["a", "a", "a"])
        #expect(summary.method == .wilson)
    }

    @Test func clustersUseBootstrap() {
        let values: [Double] = [0.9, 0.7, 1.0, 0.8, 0.6, 0.2, 0.4, 0.3, 1.0, 0.0, 1.0, 0.5]
        let clusters = ["a", "a", "a", "a", "a", "b", "b", "b", "c", "c", "c", "d"]
        let summary = Statistics.summarize(values, clusters: clusters, resamples: 2000, seed: 42)
        #expect(summary.method == .clusterBootstrap)
        #expect(summary.name == "mean")
        #expect(isClose(summary.value, 0.6166666666666667))
        // scipy-checked CR1 standard error ("uneven-4-clusters").
        #expect(isClose(summary.standardError, 0.12834014732591612))
        #expect(summary.lower < summary.value && summary.value < summary.upper)
        // Cluster means range from 0.3 to 0.8, so no resampled mean leaves that range.
        let bootstrap = Statistics.clusterBootstrapInterval(values, clusters: clusters, resamples: 2000, seed: 42)
        #expect(bootstrap.lower >= 0.3 && bootstrap.upper <= 0.8)
        #expect(bootstrap.upper - bootstrap.lower > 0.1)
        // The reported interval is the wider of the bootstrap and the t interval.
        let t = Statistics.tInterval(values)
        #expect(summary.lower == min(bootstrap.lower, t.lower) && summary.upper == max(bootstrap.upper, t.upper))
    }

    @Test func partialCreditMeansStayWithinZeroAndOne() {
        let summary = Statistics.summarize([1, 1, 1, 0.5])
        #expect(summary.method == .t)
        #expect(summary.upper == 1)
        #expect(summary.lower > 0.4 && summary.lower < 0.875)
    }

    @Test func aClusterBootstrapIsNeverNarrowerThanWilson() {
        // 4 of 4 in 4 clusters: every resample is 1, but four successes cannot prove a rate of 1.
        let summary = Statistics.summarize([1, 1, 1, 1], clusters: ["a", "b", "c", "d"], resamples: 500, seed: 3)
        #expect(summary.method == .clusterBootstrap)
        #expect(abs(summary.lower - 0.5101091635454027) < 1e-6 && summary.upper == 1)
    }

    @Test func bootstrapIsDeterministicForASeed() {
        let values: [Double] = [1, 0, 1, 1, 1, 0, 0, 1, 1, 0]
        let clusters = ["q1", "q2", "q1", "q3", "q1", "q2", "q2", "q3", "q3", "q1"]
        let first = Statistics.summarize(values, clusters: clusters, resamples: 500, seed: 7)
        let second = Statistics.summarize(values, clusters: clusters, resamples: 500, seed: 7)
        #expect(first == second)
        #expect(first.method == .clusterBootstrap)
        #expect(first.name == "accuracy")
        #expect(isClose(first.standardError, 0.2749545416973504))
        let other = Statistics.clusterBootstrapInterval(values, clusters: clusters, resamples: 500, seed: 8)
        let same = Statistics.clusterBootstrapInterval(values, clusters: clusters, resamples: 500, seed: 7)
        #expect(same.lower == first.lower && same.upper == first.upper)
        // A different seed draws different resamples; with 500 resamples at least one bound moves.
        #expect(other.lower != first.lower || other.upper != first.upper)
    }

    @Test func bootstrapDegenerateCases() {
        let oneCluster = Statistics.clusterBootstrapInterval([0.2, 0.4], clusters: ["a", "a"])
        #expect(isClose(oneCluster.lower, 0.3) && isClose(oneCluster.upper, 0.3))
        let noResamples = Statistics.clusterBootstrapInterval([0, 1], clusters: ["a", "b"], resamples: 0)
        #expect(noResamples.lower == 0.5 && noResamples.upper == 0.5)
        // Identical clusters: every resample has the same mean.
        let flat = Statistics.clusterBootstrapInterval([1, 0, 1, 0], clusters: ["a", "a", "b", "b"], resamples: 200, seed: 1)
        #expect(isClose(flat.lower, 0.5) && isClose(flat.upper, 0.5))
    }

    @Test func summaryEncodesStderrKey() throws {
        let summary = Statistics.summarize([1, 0])
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let text = String(decoding: try encoder.encode(summary), as: UTF8.self)
        #expect(text.contains(#""stderr":"#))
        #expect(text.contains(#""method":"wilson""#))
        #expect(try JSONDecoder().decode(MetricSummary.self, from: encoder.encode(summary)) == summary)
    }

    /// A summary of no values (every attempt failed) has no value: JSON has no NaN, so it is
    /// written as null and read back as NaN, instead of failing the whole results' encoding.
    @Test func aSummaryOfNoValuesEncodesAsNull() throws {
        let empty = Statistics.summarize([])
        #expect(empty.value.isNaN && empty.count == 0)
        let text = String(decoding: try JSONEncoder().encode(empty), as: UTF8.self)
        #expect(text.contains(#""value":null"#))
        let read = try JSONDecoder().decode(MetricSummary.self, from: Data(text.utf8))
        #expect(read.value.isNaN && read.count == 0 && read.name == empty.name)
        #expect(read.lower.isNaN == empty.lower.isNaN && read.upper.isNaN == empty.upper.isNaN)
    }
}
