/// A CVSS 4.0 vector with its score.
///
/// Reads `CVSS:4.0/AV:N/AC:L/…`: the eleven base metrics mandatory, the threat (`E`),
/// environmental and supplemental metrics optional (`X` = not defined), all in the
/// specification's order (§7; out-of-order vectors are invalid). The score follows §8.2:
/// macrovector lookup, then interpolation by severity distance. Supplemental metrics never change
/// it. Encodes as its vector string.
public struct CVSS40: CVSSVector {
    /// Which metric groups a score reflects (§1.3).
    public enum Nomenclature: String, Sendable, Hashable, Codable {
        case base = "CVSS-B"
        case baseThreat = "CVSS-BT"
        case baseEnvironmental = "CVSS-BE"
        case baseThreatEnvironmental = "CVSS-BTE"
    }

    /// The vector in canonical form: every defined metric in the specification's order.
    public let vector: String
    /// The score (§8.2), one decimal.
    public let score: Double
    /// The six EQ levels as digits (`"000200"`), the key of the macrovector table (§8.3).
    public let macroVector: String
    /// Index of each metric's value in `Self.metrics[i].values`.
    private let chosen: [UInt8]

    /// Reads a `CVSS:4.0/…` vector string.
    public init(_ vector: String) throws(CVSSError) {
        guard vector.hasPrefix("CVSS:4.0/") else {
            if vector.isEmpty { throw CVSSError(.malformed, vector: vector, version: "4.0", reason: "empty vector") }
            throw CVSSError(.missingPrefix, vector: vector, version: "4.0", reason: "does not start with \"CVSS:4.0/\"")
        }
        let chosen = try Self.reader.read(vector.dropFirst("CVSS:4.0/".count), vector: vector, version: "4.0")
        self.chosen = chosen
        self.vector = "CVSS:4.0/" + Self.reader.canonicalBody(chosen)
        let effective = Self.effectiveValues(chosen)
        let levels = Self.equivalenceLevels(effective)
        self.macroVector = levels.map(String.init).joined()
        self.score = Self.score(effective, levels: levels, macroVector: macroVector)
    }

    /// The score's rating (§6).
    public var severity: CVSSSeverity { CVSSSeverity(score: score) }

    /// Whether the threat metric or any environmental metric is defined, named as §1.3 does.
    public var nomenclature: Nomenclature {
        let threat = chosen[Self.exploitMaturitySlot] != 0
        let environmental = Self.environmentalSlots.contains { chosen[$0] != 0 }
        switch (threat, environmental) {
        case (false, false): return .base
        case (true, false): return .baseThreat
        case (false, true): return .baseEnvironmental
        case (true, true): return .baseThreatEnvironmental
        }
    }

    /// A metric's value as the vector writes it (`"N"`, `"Amber"`), `"X"` for an optional metric
    /// the vector leaves undefined, nil for a name that is not a CVSS 4.0 metric.
    public func value(of metric: String) -> String? { Self.metrics.value(of: metric, chosen: chosen) }

    /// The metrics under the CVSS v4.0 JSON schema's names (CSAF 2.1's `cvss_v4`): every base
    /// metric (`("attackVector", "NETWORK")`, …), then each other metric the vector defines. The
    /// caller adds `version`, `vectorString`, `baseScore` and `baseSeverity`.
    public func csafProperties() -> [(name: String, value: String)] { Self.metrics.schemaProperties(chosen: chosen) }
}

extension CVSS40 {
    /// The metrics in the specification's order (§7, Table 23), values in its order.
    static let metrics: [CVSSMetric] = {
        let attackVector = (["N", "A", "L", "P"], ["NETWORK", "ADJACENT", "LOCAL", "PHYSICAL"])
        let attackComplexity = (["L", "H"], ["LOW", "HIGH"])
        let attackRequirements = (["N", "P"], ["NONE", "PRESENT"])
        let privileges = (["N", "L", "H"], ["NONE", "LOW", "HIGH"])
        let interaction = (["N", "P", "A"], ["NONE", "PASSIVE", "ACTIVE"])
        let impact = (["H", "L", "N"], ["HIGH", "LOW", "NONE"])
        let requirement = (["X", "H", "M", "L"], ["NOT_DEFINED", "HIGH", "MEDIUM", "LOW"])
        // Modified subsequent-system impacts say "negligible" for N, and I and A may be Safety.
        let modifiedSubsequent = (["X", "H", "L", "N"], ["NOT_DEFINED", "HIGH", "LOW", "NEGLIGIBLE"])
        let modifiedSubsequentSafety = (["X", "S", "H", "L", "N"], ["NOT_DEFINED", "SAFETY", "HIGH", "LOW", "NEGLIGIBLE"])
        func modified(_ values: ([String], [String])) -> ([String], [String]) { (["X"] + values.0, ["NOT_DEFINED"] + values.1) }
        func base(_ abbreviation: String, _ values: ([String], [String]), _ key: String) -> CVSSMetric {
            CVSSMetric(abbreviation, values.0, key, values.1, mandatory: true)
        }
        func optional(_ abbreviation: String, _ values: ([String], [String]), _ key: String) -> CVSSMetric {
            CVSSMetric(abbreviation, values.0, key, values.1)
        }
        return [
            base("AV", attackVector, "attackVector"),
            base("AC", attackComplexity, "attackComplexity"),
            base("AT", attackRequirements, "attackRequirements"),
            base("PR", privileges, "privilegesRequired"),
            base("UI", interaction, "userInteraction"),
            base("VC", impact, "vulnConfidentialityImpact"),
            base("VI", impact, "vulnIntegrityImpact"),
            base("VA", impact, "vulnAvailabilityImpact"),
            base("SC", impact, "subConfidentialityImpact"),
            base("SI", impact, "subIntegrityImpact"),
            base("SA", impact, "subAvailabilityImpact"),
            optional("E", (["X", "A", "P", "U"], ["NOT_DEFINED", "ATTACKED", "PROOF_OF_CONCEPT", "UNREPORTED"]), "exploitMaturity"),
            optional("CR", requirement, "confidentialityRequirement"),
            optional("IR", requirement, "integrityRequirement"),
            optional("AR", requirement, "availabilityRequirement"),
            optional("MAV", modified(attackVector), "modifiedAttackVector"),
            optional("MAC", modified(attackComplexity), "modifiedAttackComplexity"),
            optional("MAT", modified(attackRequirements), "modifiedAttackRequirements"),
            optional("MPR", modified(privileges), "modifiedPrivilegesRequired"),
            optional("MUI", modified(interaction), "modifiedUserInteraction"),
            optional("MVC", modified(impact), "modifiedVulnConfidentialityImpact"),
            optional("MVI", modified(impact), "modifiedVulnIntegrityImpact"),
            optional("MVA", modified(impact), "modifiedVulnAvailabilityImpact"),
            optional("MSC", modifiedSubsequent, "modifiedSubConfidentialityImpact"),
            optional("MSI", modifiedSubsequentSafety, "modifiedSubIntegrityImpact"),
            optional("MSA", modifiedSubsequentSafety, "modifiedSubAvailabilityImpact"),
            optional("S", (["X", "N", "P"], ["NOT_DEFINED", "NEGLIGIBLE", "PRESENT"]), "Safety"),
            optional("AU", (["X", "N", "Y"], ["NOT_DEFINED", "NO", "YES"]), "Automatable"),
            optional("R", (["X", "A", "U", "I"], ["NOT_DEFINED", "AUTOMATIC", "USER", "IRRECOVERABLE"]), "Recovery"),
            optional("V", (["X", "D", "C"], ["NOT_DEFINED", "DIFFUSE", "CONCENTRATED"]), "valueDensity"),
            optional("RE", (["X", "L", "M", "H"], ["NOT_DEFINED", "LOW", "MODERATE", "HIGH"]), "vulnerabilityResponseEffort"),
            optional("U", (["X", "Clear", "Green", "Amber", "Red"], ["NOT_DEFINED", "CLEAR", "GREEN", "AMBER", "RED"]), "providerUrgency"),
        ]
    }()

    static let reader = CVSSVectorReader(metrics: metrics, requiresOrder: true)

    // Positions in `metrics`: base AV…SA, threat E, environmental CR…MSA, then supplemental.
    private static let baseSlots = 0...10
    private static let exploitMaturitySlot = 11
    private static let requirementSlots = 12...14
    private static let environmentalSlots = 12...25

    /// The value each scored metric takes (`m()` in FIRST's calculator): a defined modified metric
    /// replaces its base metric, an undefined `E` counts as A (attacked) and undefined
    /// requirements as H. Keyed by the base metric's abbreviation.
    private static func effectiveValues(_ chosen: [UInt8]) -> [String: String] {
        var effective: [String: String] = [:]
        effective.reserveCapacity(15)
        for slot in baseSlots {
            let metric = metrics[slot]
            let modifiedSlot = modifiedSlotByBase[slot]
            effective[metric.abbreviation] = chosen[modifiedSlot] != 0
                ? metrics[modifiedSlot].values[Int(chosen[modifiedSlot])]
                : metric.values[Int(chosen[slot])]
        }
        for (slot, fallback) in [(exploitMaturitySlot, "A")] + requirementSlots.map({ ($0, "H") }) {
            effective[metrics[slot].abbreviation] = chosen[slot] == 0 ? fallback : metrics[slot].values[Int(chosen[slot])]
        }
        return effective
    }

    /// For each base metric's slot, the slot of its modified metric (AV → MAV, …).
    private static let modifiedSlotByBase: [Int] = baseSlots.map { slot in
        metrics.firstIndex { $0.abbreviation == "M" + metrics[slot].abbreviation }!
    }

    /// EQ1…EQ6 (§8.2, Tables 24–29).
    private static func equivalenceLevels(_ m: [String: String]) -> [Int] {
        let av = m["AV"], pr = m["PR"], ui = m["UI"]
        let eq1 = av == "N" && pr == "N" && ui == "N" ? 0
            : (av == "N" || pr == "N" || ui == "N") && av != "P" ? 1 : 2
        let eq2 = m["AC"] == "L" && m["AT"] == "N" ? 0 : 1
        let vc = m["VC"], vi = m["VI"], va = m["VA"]
        let eq3 = vc == "H" && vi == "H" ? 0 : vc == "H" || vi == "H" || va == "H" ? 1 : 2
        // SI and SA hold MSI and MSA when those are defined, so S (safety) can only come from them.
        let eq4 = m["SI"] == "S" || m["SA"] == "S" ? 0 : m["SC"] == "H" || m["SI"] == "H" || m["SA"] == "H" ? 1 : 2
        let eq5 = m["E"] == "U" ? 2 : m["E"] == "P" ? 1 : 0
        let eq6 = (m["CR"] == "H" && vc == "H") || (m["IR"] == "H" && vi == "H") || (m["AR"] == "H" && va == "H") ? 0 : 1
        return [eq1, eq2, eq3, eq4, eq5, eq6]
    }

    // Severity levels within an EQ: distance from the most severe value, in steps of 0.1.
    private static let severityLevels: [String: [String: Double]] = [
        "AV": ["N": 0.0, "A": 0.1, "L": 0.2, "P": 0.3],
        "PR": ["N": 0.0, "L": 0.1, "H": 0.2],
        "UI": ["N": 0.0, "P": 0.1, "A": 0.2],
        "AC": ["L": 0.0, "H": 0.1],
        "AT": ["N": 0.0, "P": 0.1],
        "VC": ["H": 0.0, "L": 0.1, "N": 0.2],
        "VI": ["H": 0.0, "L": 0.1, "N": 0.2],
        "VA": ["H": 0.0, "L": 0.1, "N": 0.2],
        "SC": ["H": 0.1, "L": 0.2, "N": 0.3],
        "SI": ["S": 0.0, "H": 0.1, "L": 0.2, "N": 0.3],
        "SA": ["S": 0.0, "H": 0.1, "L": 0.2, "N": 0.3],
        "CR": ["H": 0.0, "M": 0.1, "L": 0.2],
        "IR": ["H": 0.0, "M": 0.1, "L": 0.2],
        "AR": ["H": 0.0, "M": 0.1, "L": 0.2],
    ]
    /// The metrics compared with a max-composed vector, in the order FIRST's calculator compares them.
    private static let distanceMetrics = ["AV", "PR", "UI", "AC", "AT", "VC", "VI", "VA", "SC", "SI", "SA", "CR", "IR", "AR"]

    /// A part of a max-composed vector as (index in `distanceMetrics`, severity level) pairs.
    private typealias LevelPart = [(slot: Int, level: Double)]

    /// The max-composed tables with each value turned into its severity level once, so that
    /// scoring compares numbers rather than looking letters up.
    private static let maxComposedLevels: (eq1: [[LevelPart]], eq2: [[LevelPart]], eq3eq6: [[[LevelPart]]], eq4: [[LevelPart]], eq5: [[LevelPart]]) = {
        func levels(_ part: [String: String]) -> LevelPart {
            // E has no severity distance; it only picks the EQ5 level.
            part.compactMap { metric, value in
                distanceMetrics.firstIndex(of: metric).map { ($0, severityLevels[metric]![value]!) }
            }
        }
        return (maxComposedEQ1.map { $0.map(levels) }, maxComposedEQ2.map { $0.map(levels) },
                maxComposedEQ3EQ6.map { $0.map { $0.map(levels) } }, maxComposedEQ4.map { $0.map(levels) },
                maxComposedEQ5.map { $0.map(levels) })
    }()

    /// §8.2: the macrovector's score, less the mean of each EQ's proportional distance from the
    /// most severe vector in its level. Follows FIRST's calculator operation by operation, so that
    /// the floating-point results, and hence the roundings, are the same.
    private static func score(_ m: [String: String], levels: [Int], macroVector: String) -> Double {
        if ["VC", "VI", "VA", "SC", "SI", "SA"].allSatisfy({ m[$0] == "N" }) { return 0 }
        guard let value = macroVectorScores[macroVector] else {
            preconditionFailure("macrovector \(macroVector) is not in the table; every reachable one is")
        }
        let (eq1, eq2, eq3, eq4, eq5, eq6) = (levels[0], levels[1], levels[2], levels[3], levels[4], levels[5])

        // The score of the next lower macrovector in each EQ; NaN where there is none.
        func scoreOf(_ digits: [Int]) -> Double { macroVectorScores[digits.map(String.init).joined()] ?? .nan }
        let nextLowerEQ1 = scoreOf([eq1 + 1, eq2, eq3, eq4, eq5, eq6])
        let nextLowerEQ2 = scoreOf([eq1, eq2 + 1, eq3, eq4, eq5, eq6])
        let nextLowerEQ3EQ6: Double
        switch (eq3, eq6) {
        case (0, 0):
            // Two ways down; take the higher score (Python's max: the first argument unless the second is greater).
            let left = scoreOf([eq1, eq2, eq3, eq4, eq5, eq6 + 1])
            let right = scoreOf([eq1, eq2, eq3 + 1, eq4, eq5, eq6])
            nextLowerEQ3EQ6 = right > left ? right : left
        case (1, 0): nextLowerEQ3EQ6 = scoreOf([eq1, eq2, eq3, eq4, eq5, eq6 + 1])
        case (_, 1) where eq3 < 2: nextLowerEQ3EQ6 = scoreOf([eq1, eq2, eq3 + 1, eq4, eq5, eq6])
        default: nextLowerEQ3EQ6 = scoreOf([eq1, eq2, eq3 + 1, eq4, eq5, eq6 + 1])
        }
        let nextLowerEQ4 = scoreOf([eq1, eq2, eq3, eq4 + 1, eq5, eq6])
        let nextLowerEQ5 = scoreOf([eq1, eq2, eq3, eq4, eq5 + 1, eq6])

        // The first max-composed vector of the macrovector that is at least as severe as this one
        // in every metric; the distances to it. (Should none be, the last one tried counts, as in the calculator.)
        let ours = distanceMetrics.map { severityLevels[$0]![m[$0]!]! }
        var distances = [Double](repeating: 0, count: distanceMetrics.count)
        search: for first in maxComposedLevels.eq1[eq1] {
            for second in maxComposedLevels.eq2[eq2] {
                for third in maxComposedLevels.eq3eq6[eq3][eq6] {
                    for fourth in maxComposedLevels.eq4[eq4] {
                        for fifth in maxComposedLevels.eq5[eq5] {
                            for part in [first, second, third, fourth, fifth] {
                                for (slot, level) in part { distances[slot] = ours[slot] - level }
                            }
                            if distances.allSatisfy({ $0 >= 0 }) { break search }
                        }
                    }
                }
            }
        }
        func d(_ metric: String) -> Double { distances[distanceMetrics.firstIndex(of: metric)!] }
        let currentEQ1 = d("AV") + d("PR") + d("UI")
        let currentEQ2 = d("AC") + d("AT")
        let currentEQ3EQ6 = d("VC") + d("VI") + d("VA") + d("CR") + d("IR") + d("AR")
        let currentEQ4 = d("SC") + d("SI") + d("SA")

        let step = 0.1
        // Per EQ: the score available down to the next lower macrovector, and how far into it this vector is.
        let parts: [(available: Double, proportion: Double)] = [
            (value - nextLowerEQ1, currentEQ1 / (Double(maxSeverityEQ1[eq1]) * step)),
            (value - nextLowerEQ2, currentEQ2 / (Double(maxSeverityEQ2[eq2]) * step)),
            (value - nextLowerEQ3EQ6, currentEQ3EQ6 / (Double(maxSeverityEQ3EQ6[eq3][eq6]) * step)),
            (value - nextLowerEQ4, currentEQ4 / (Double(maxSeverityEQ4[eq4]) * step)),
            // EQ5 has no distance within a level.
            (value - nextLowerEQ5, 0),
        ]
        var existingLower = 0
        var normalizedSum = 0.0
        for part in parts where part.available >= 0 {  // NaN (no lower macrovector) fails this
            existingLower += 1
            normalizedSum += part.available * part.proportion
        }
        let meanDistance = existingLower == 0 ? 0 : normalizedSum / Double(existingLower)
        return roundHalfUp(min(10, max(0, value - meanDistance)))
    }

    /// The calculator's final rounding: add 1e-6, then round half up to one decimal, judged on the
    /// exact binary value (as Python's `Decimal(x).quantize(0.1, ROUND_HALF_UP)` does).
    static func roundHalfUp(_ x: Double) -> Double {
        let y = x + 1e-6
        let tenths = y * 10
        var rounded = tenths.rounded(.down)
        let fraction = tenths - rounded
        // When the product lands exactly on .5, its rounding error decides which side y*10 was on.
        if fraction > 0.5 || (fraction == 0.5 && (-tenths).addingProduct(y, 10) >= 0) { rounded += 1 }
        return rounded / 10
    }
}
