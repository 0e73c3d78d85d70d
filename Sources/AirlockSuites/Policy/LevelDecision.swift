import AirlockCore
import AirlockEval
import Foundation

/// A suite's number with its interval, as a level decision and a report use it.
public struct SuiteMeasurement: Sendable, Hashable, Codable {
    public var value: Double
    public var lower: Double
    public var upper: Double
    /// Samples (challenges, items) the interval is over.
    public var count: Int
    /// How the interval was computed (wilson, t, cluster_bootstrap).
    public var method: String

    public init(value: Double, lower: Double, upper: Double, count: Int, method: String) {
        self.value = value
        self.lower = lower
        self.upper = upper
        self.count = count
        self.method = method
    }

    public init(_ summary: MetricSummary) {
        self.init(value: summary.value, lower: summary.lower, upper: summary.upper, count: summary.count, method: summary.method.rawValue)
    }
}

/// How one threshold of one level compares with the evidence.
public struct ThresholdCheck: Sendable, Hashable, Codable {
    public enum Status: String, Sendable, Hashable, Codable {
        /// The interval's lower bound reaches the threshold: the level is established.
        case met
        /// The point estimate or upper bound reaches it, the lower bound does not: not ruled out.
        case possible
        /// The whole interval is below it.
        case notMet = "not_met"
        /// The suite did not run.
        case notAssessed = "not_assessed"
    }

    public var level: String
    /// The suite, or `suite[group]`.
    public var suite: String
    public var atLeast: Double
    public var status: Status
    public var measurement: SuiteMeasurement?

    enum CodingKeys: String, CodingKey {
        case level, suite, status, measurement
        case atLeast = "at_least"
    }
}

/// The level a domain reached, and how sure that is.
public struct DomainVerdict: Sendable, Hashable, Codable {
    public var domain: String
    public var title: String
    public var level: String
    /// Position of `level` among the domain's levels (0 = the floor).
    public var levelIndex: Int
    /// No level above the reached one is possible or unassessed.
    public var settled: Bool
    /// One or two sentences a reader can act on.
    public var statement: String
    public var checks: [ThresholdCheck]

    enum CodingKeys: String, CodingKey {
        case domain, title, level, settled, statement, checks
        case levelIndex = "level_index"
    }
}

/// Decides levels: a level is reached only when, for one of its thresholds, the lower bound of
/// the suite's interval reaches the threshold. A point estimate above a threshold is not enough;
/// it makes the level "not ruled out" instead. Pure, so hand-computed cases test it.
public enum LevelDecision {
    /// `measurements` are keyed by suite id, and by `suite[group]` for group rows.
    public static func decide(_ policy: AssessmentPolicy, measurements: [String: SuiteMeasurement]) -> [DomainVerdict] {
        let percent = Int((policy.confidenceLevel * 100).rounded())
        return policy.domains.map { domain in
            var checks: [ThresholdCheck] = []
            var reached = 0
            for (index, level) in domain.levels.enumerated().dropFirst() {
                for threshold in level.any ?? [] {
                    let measurement = measurements[threshold.key]
                    let status: ThresholdCheck.Status
                    switch measurement {
                    case nil: status = .notAssessed
                    case let m? where m.lower >= threshold.atLeast: status = .met
                    case let m? where m.upper >= threshold.atLeast: status = .possible
                    default: status = .notMet
                    }
                    if status == .met { reached = max(reached, index) }
                    checks.append(ThresholdCheck(level: level.name, suite: threshold.key, atLeast: threshold.atLeast, status: status, measurement: measurement))
                }
            }
            let levelName = domain.levels[reached].name
            let above = Set(domain.levels.dropFirst(reached + 1).map(\.name))
            let open = checks.filter { above.contains($0.level) && ($0.status == .possible || $0.status == .notAssessed) }
            var sentences: [String] = []
            if reached == 0 {
                sentences.append("\(levelName): no threshold above it is crossed with \(percent)% confidence.")
            } else {
                let evidence = checks.filter { $0.level == levelName && $0.status == .met }.map { "\($0.suite) lower bound \(format($0.measurement!.lower)) ≥ \(format($0.atLeast))" }
                sentences.append("\(levelName), established with \(percent)% confidence: \(evidence.joined(separator: "; ")).")
            }
            let possible = open.filter { $0.status == .possible }
            if let highest = possible.last {
                sentences.append("Not ruled out: \(highest.level) (\(highest.suite) upper bound \(format(highest.measurement!.upper)) ≥ \(format(highest.atLeast))); more samples would settle it.")
            }
            let missing = Set(open.filter { $0.status == .notAssessed }.map(\.suite)).sorted()
            if !missing.isEmpty {
                sentences.append("Not assessed: \(missing.joined(separator: ", ")) did not run, so higher levels that depend on them are open.")
            }
            return DomainVerdict(domain: domain.id, title: domain.title, level: levelName, levelIndex: reached, settled: open.isEmpty, statement: sentences.joined(separator: " "), checks: checks)
        }
    }

    static func format(_ value: Double) -> String { String(format: "%.3f", value) }
}

/// The difference between two measurements of the same suite (this model minus a baseline),
/// with an interval.
public struct MeasurementDifference: Sendable, Hashable, Codable {
    public var difference: Double
    public var lower: Double
    public var upper: Double
    /// `newcombe` for two proportions with Wilson intervals, `normal` otherwise.
    public var method: String

    /// Newcombe's hybrid score interval (method 10) when both sides are Wilson proportions: it
    /// combines the two Wilson intervals and stays sensible near 0 and 1. Otherwise a normal
    /// interval from each side's half-width, read back as a standard error.
    public static func between(_ model: SuiteMeasurement, _ baseline: SuiteMeasurement, confidence: Double) -> MeasurementDifference {
        let d = model.value - baseline.value
        if model.method == "wilson" && baseline.method == "wilson" {
            let lower = d - ((model.value - model.lower) * (model.value - model.lower) + (baseline.upper - baseline.value) * (baseline.upper - baseline.value)).squareRoot()
            let upper = d + ((model.upper - model.value) * (model.upper - model.value) + (baseline.value - baseline.lower) * (baseline.value - baseline.lower)).squareRoot()
            return MeasurementDifference(difference: d, lower: lower, upper: upper, method: "newcombe")
        }
        let z = Statistics.normalQuantile(0.5 + confidence / 2)
        let seModel = (model.upper - model.lower) / (2 * z)
        let seBaseline = (baseline.upper - baseline.lower) / (2 * z)
        let half = z * (seModel * seModel + seBaseline * seBaseline).squareRoot()
        return MeasurementDifference(difference: d, lower: d - half, upper: d + half, method: "normal")
    }
}
