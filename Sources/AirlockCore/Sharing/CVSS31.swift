import Foundation

/// A CVSS 3.1 (or 3.0) vector with its base, temporal and environmental scores.
///
/// Reads `CVSS:3.1/AV:N/AC:L/…` with the eight base metrics mandatory and the temporal and
/// environmental ones optional (`X` = not defined), in any order as §6 allows; `vector` gives
/// them back in the specification's order. `CVSS:3.0/` vectors are read as 3.0, whose modified
/// impact for a changed scope differs (§7.3). Encodes as its vector string.
public struct CVSS31: CVSSVector {
    /// The minor version named by the vector's prefix.
    public enum Version: String, Sendable, Hashable, Codable {
        case v3_0 = "3.0"
        case v3_1 = "3.1"
    }

    public let version: Version
    /// The vector in canonical form: prefix, then every defined metric in the specification's order.
    public let vector: String
    /// The base score (§7.1), one decimal.
    public let baseScore: Double
    /// The temporal score (§7.2), one decimal; the base score when no temporal metric is defined.
    public let temporalScore: Double
    /// The environmental score (§7.3), one decimal.
    public let environmentalScore: Double
    /// Index of each metric's value in `Self.metrics[i].values`.
    private let chosen: [UInt8]

    /// Reads a `CVSS:3.1/…` or `CVSS:3.0/…` vector string.
    public init(_ vector: String) throws(CVSSError) {
        let version: Version
        if vector.hasPrefix("CVSS:3.1/") {
            version = .v3_1
        } else if vector.hasPrefix("CVSS:3.0/") {
            version = .v3_0
        } else if vector.isEmpty {
            throw CVSSError(.malformed, vector: vector, version: "3.1", reason: "empty vector")
        } else {
            throw CVSSError(.missingPrefix, vector: vector, version: "3.1", reason: "does not start with \"CVSS:3.1/\" or \"CVSS:3.0/\"")
        }
        let body = vector.dropFirst("CVSS:3.x/".count)
        let chosen = try Self.reader.read(body, vector: vector, version: version.rawValue)
        self.version = version
        self.chosen = chosen
        self.vector = "CVSS:\(version.rawValue)/" + Self.reader.canonicalBody(chosen)
        (baseScore, temporalScore, environmentalScore) = Self.scores(chosen, version: version)
    }

    /// The base score's rating.
    public var baseSeverity: CVSSSeverity { CVSSSeverity(score: baseScore) }
    /// The temporal score's rating.
    public var temporalSeverity: CVSSSeverity { CVSSSeverity(score: temporalScore) }
    /// The environmental score's rating.
    public var environmentalSeverity: CVSSSeverity { CVSSSeverity(score: environmentalScore) }

    /// Whether any temporal metric (E, RL, RC) is defined.
    public var hasTemporalMetrics: Bool { (Slot.e.rawValue...Slot.rc.rawValue).contains { chosen[$0] != 0 } }
    /// Whether any environmental metric (CR … MA) is defined.
    public var hasEnvironmentalMetrics: Bool { (Slot.cr.rawValue...Slot.ma.rawValue).contains { chosen[$0] != 0 } }

    /// A metric's value as the vector writes it (`"N"`), `"X"` for an optional metric the vector
    /// leaves undefined, nil for a name that is not a CVSS 3.x metric.
    public func value(of metric: String) -> String? { Self.metrics.value(of: metric, chosen: chosen) }

    /// The metrics under the CVSS v3.x JSON schema's names, which CSAF's `cvss_v3` uses:
    /// every base metric (`("attackVector", "NETWORK")`, …), then each temporal and environmental
    /// metric the vector defines. The caller adds `version`, `vectorString`, the scores and
    /// severities (`CVSSSeverity.schemaName`).
    public func csafProperties() -> [(name: String, value: String)] { Self.metrics.schemaProperties(chosen: chosen) }
}

extension CVSS31 {
    /// The metrics in the specification's order (Table 15), values in its tables' order.
    static let metrics: [CVSSMetric] = {
        let impact = (["H", "L", "N"], ["HIGH", "LOW", "NONE"])
        let requirement = (["X", "H", "M", "L"], ["NOT_DEFINED", "HIGH", "MEDIUM", "LOW"])
        let attackVector = (["N", "A", "L", "P"], ["NETWORK", "ADJACENT_NETWORK", "LOCAL", "PHYSICAL"])
        let attackComplexity = (["L", "H"], ["LOW", "HIGH"])
        let privileges = (["N", "L", "H"], ["NONE", "LOW", "HIGH"])
        let interaction = (["N", "R"], ["NONE", "REQUIRED"])
        let scope = (["U", "C"], ["UNCHANGED", "CHANGED"])
        // A modified metric takes its base metric's values plus X, which means "as the base".
        func modified(_ values: ([String], [String])) -> ([String], [String]) { (["X"] + values.0, ["NOT_DEFINED"] + values.1) }
        return [
            CVSSMetric("AV", attackVector.0, "attackVector", attackVector.1, mandatory: true),
            CVSSMetric("AC", attackComplexity.0, "attackComplexity", attackComplexity.1, mandatory: true),
            CVSSMetric("PR", privileges.0, "privilegesRequired", privileges.1, mandatory: true),
            CVSSMetric("UI", interaction.0, "userInteraction", interaction.1, mandatory: true),
            CVSSMetric("S", scope.0, "scope", scope.1, mandatory: true),
            CVSSMetric("C", impact.0, "confidentialityImpact", impact.1, mandatory: true),
            CVSSMetric("I", impact.0, "integrityImpact", impact.1, mandatory: true),
            CVSSMetric("A", impact.0, "availabilityImpact", impact.1, mandatory: true),
            CVSSMetric("E", ["X", "H", "F", "P", "U"], "exploitCodeMaturity",
                       ["NOT_DEFINED", "HIGH", "FUNCTIONAL", "PROOF_OF_CONCEPT", "UNPROVEN"]),
            CVSSMetric("RL", ["X", "U", "W", "T", "O"], "remediationLevel",
                       ["NOT_DEFINED", "UNAVAILABLE", "WORKAROUND", "TEMPORARY_FIX", "OFFICIAL_FIX"]),
            CVSSMetric("RC", ["X", "C", "R", "U"], "reportConfidence", ["NOT_DEFINED", "CONFIRMED", "REASONABLE", "UNKNOWN"]),
            CVSSMetric("CR", requirement.0, "confidentialityRequirement", requirement.1),
            CVSSMetric("IR", requirement.0, "integrityRequirement", requirement.1),
            CVSSMetric("AR", requirement.0, "availabilityRequirement", requirement.1),
            CVSSMetric("MAV", modified(attackVector).0, "modifiedAttackVector", modified(attackVector).1),
            CVSSMetric("MAC", modified(attackComplexity).0, "modifiedAttackComplexity", modified(attackComplexity).1),
            CVSSMetric("MPR", modified(privileges).0, "modifiedPrivilegesRequired", modified(privileges).1),
            CVSSMetric("MUI", modified(interaction).0, "modifiedUserInteraction", modified(interaction).1),
            CVSSMetric("MS", modified(scope).0, "modifiedScope", modified(scope).1),
            CVSSMetric("MC", modified(impact).0, "modifiedConfidentialityImpact", modified(impact).1),
            CVSSMetric("MI", modified(impact).0, "modifiedIntegrityImpact", modified(impact).1),
            CVSSMetric("MA", modified(impact).0, "modifiedAvailabilityImpact", modified(impact).1),
        ]
    }()

    static let reader = CVSSVectorReader(metrics: metrics, requiresOrder: false)

    /// Each metric's position in `metrics`.
    private enum Slot: Int {
        case av, ac, pr, ui, s, c, i, a, e, rl, rc, cr, ir, ar, mav, mac, mpr, mui, ms, mc, mi, ma
    }

    // Weights (§7.4), parallel to the value lists above.
    private static let attackVectorWeights = [0.85, 0.62, 0.55, 0.2]
    private static let attackComplexityWeights = [0.77, 0.44]
    private static let privilegesUnchangedWeights = [0.85, 0.62, 0.27]
    private static let privilegesChangedWeights = [0.85, 0.68, 0.5]
    private static let interactionWeights = [0.85, 0.62]
    private static let impactWeights = [0.56, 0.22, 0.0]
    private static let exploitMaturityWeights = [1.0, 1.0, 0.97, 0.94, 0.91]
    private static let remediationWeights = [1.0, 1.0, 0.97, 0.96, 0.95]
    private static let confidenceWeights = [1.0, 1.0, 0.96, 0.92]
    private static let requirementWeights = [1.0, 1.5, 1.0, 0.5]

    /// The §7 equations; the order of operations follows the specification's formulas.
    private static func scores(_ chosen: [UInt8], version: Version) -> (base: Double, temporal: Double, environmental: Double) {
        func at(_ slot: Slot) -> Int { Int(chosen[slot.rawValue]) }
        // A modified metric's index in its base value list: X (0) falls back to the base metric.
        func effective(_ modified: Slot, base: Slot) -> Int {
            at(modified) == 0 ? at(base) : at(modified) - 1
        }
        let scopeChanged = at(.s) == 1
        let c = impactWeights[at(.c)], i = impactWeights[at(.i)], a = impactWeights[at(.a)]
        let iss = 1 - (1 - c) * (1 - i) * (1 - a)
        let impact = scopeChanged ? 7.52 * (iss - 0.029) - 3.25 * pow(iss - 0.02, 15) : 6.42 * iss
        let privileges = (scopeChanged ? privilegesChangedWeights : privilegesUnchangedWeights)[at(.pr)]
        let exploitability = 8.22 * attackVectorWeights[at(.av)] * attackComplexityWeights[at(.ac)] * privileges * interactionWeights[at(.ui)]
        let base: Double
        if impact <= 0 {
            base = 0
        } else {
            base = roundUp(min(scopeChanged ? 1.08 * (impact + exploitability) : impact + exploitability, 10))
        }

        let e = exploitMaturityWeights[at(.e)], rl = remediationWeights[at(.rl)], rc = confidenceWeights[at(.rc)]
        let temporal = roundUp(base * e * rl * rc)

        let modifiedScopeChanged = effective(.ms, base: .s) == 1
        let mc = impactWeights[effective(.mc, base: .c)], mi = impactWeights[effective(.mi, base: .i)], ma = impactWeights[effective(.ma, base: .a)]
        let cr = requirementWeights[at(.cr)], ir = requirementWeights[at(.ir)], ar = requirementWeights[at(.ar)]
        let miss = min(1 - (1 - mc * cr) * (1 - mi * ir) * (1 - ma * ar), 0.915)
        let modifiedImpact: Double
        if !modifiedScopeChanged {
            modifiedImpact = 6.42 * miss
        } else if version == .v3_0 {
            modifiedImpact = 7.52 * (miss - 0.029) - 3.25 * pow(miss - 0.02, 15)
        } else {
            modifiedImpact = 7.52 * (miss - 0.029) - 3.25 * pow(miss * 0.9731 - 0.02, 13)
        }
        // MPR takes the changed-scope weights from the modified scope, whether or not MPR is defined.
        let modifiedPrivileges = (modifiedScopeChanged ? privilegesChangedWeights : privilegesUnchangedWeights)[effective(.mpr, base: .pr)]
        let modifiedExploitability = 8.22 * attackVectorWeights[effective(.mav, base: .av)] * attackComplexityWeights[effective(.mac, base: .ac)]
            * modifiedPrivileges * interactionWeights[effective(.mui, base: .ui)]
        let environmental: Double
        if modifiedImpact <= 0 {
            environmental = 0
        } else {
            let sum = modifiedImpact + modifiedExploitability
            let modifiedBase = roundUp(min(modifiedScopeChanged ? 1.08 * sum : sum, 10))
            environmental = roundUp(modifiedBase * e * rl * rc)
        }
        return (base, temporal, environmental)
    }

    /// Appendix A's Roundup: the smallest one-decimal number not below `x`, after rounding `x` to
    /// five decimals so that floating-point noise (4.000000000000001) does not round up.
    static func roundUp(_ x: Double) -> Double {
        let hundredThousandths = Int((x * 100_000).rounded())
        if hundredThousandths % 10_000 == 0 { return Double(hundredThousandths) / 100_000 }
        return Double(hundredThousandths / 10_000 + 1) / 10
    }
}
