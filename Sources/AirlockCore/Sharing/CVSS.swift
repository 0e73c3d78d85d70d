/// The qualitative rating of a CVSS score.
///
/// CVSS 3.x (§5) and CVSS 4.0 (§6) use the same scale: 0.0 none, 0.1–3.9 low, 4.0–6.9 medium,
/// 7.0–8.9 high, 9.0–10.0 critical.
public enum CVSSSeverity: String, Sendable, Codable, CaseIterable {
    case none, low, medium, high, critical

    /// The rating of a score on the scale shared by CVSS 3.x and 4.0.
    public init(score: Double) {
        switch score {
        case ..<0.05: self = .none
        case ..<3.95: self = .low
        case ..<6.95: self = .medium
        case ..<8.95: self = .high
        default: self = .critical
        }
    }

    /// The name in the CVSS JSON schemas and CSAF (`"NONE"`, `"LOW"`, … `"CRITICAL"`).
    public var schemaName: String { rawValue.uppercased() }
}

/// A CVSS vector string that could not be read: which rule it broke, and the metric involved.
///
/// Codes wrap a private enum so that new ones can be added without breaking callers.
public struct CVSSError: Error, Hashable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case missingPrefix, unknownMetric, badValue, duplicateMetric, missingMetric, outOfOrder, malformed
        }

        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// The vector does not start with a supported `CVSS:x.y/` prefix.
        public static let missingPrefix = Code(.missingPrefix)
        /// A field names a metric the version does not have.
        public static let unknownMetric = Code(.unknownMetric)
        /// A metric has a value it does not allow.
        public static let badValue = Code(.badValue)
        /// A metric appears more than once.
        public static let duplicateMetric = Code(.duplicateMetric)
        /// A mandatory (base) metric is absent.
        public static let missingMetric = Code(.missingMetric)
        /// A metric appears after one that the specification puts after it (CVSS 4.0).
        public static let outOfOrder = Code(.outOfOrder)
        /// The vector is empty, has an empty field, or a field that is not `METRIC:VALUE`.
        public static let malformed = Code(.malformed)

        public var description: String { base.rawValue }
    }

    public var code: Code
    /// The metric the error is about (`"AV"`), when there is one.
    public var metric: String?
    /// The vector as given.
    public var vector: String
    /// The CVSS version the vector was read as (`"3.1"`, `"3.0"`, `"4.0"`).
    public var version: String
    /// What is wrong, for people.
    public var reason: String

    public init(_ code: Code, metric: String? = nil, vector: String, version: String, reason: String) {
        self.code = code
        self.metric = metric
        self.vector = vector
        self.version = version
        self.reason = reason
    }

    public var description: String { "CVSS \(version) vector \"\(vector)\": \(reason)" }
}

/// What CVSS 3.x and 4.0 vectors share: each is parsed from and written as its vector string,
/// and equal to another when their canonical vectors are.
public protocol CVSSVector: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The vector in canonical form: the specification's order, undefined metrics left out.
    var vector: String { get }
    init(_ vector: String) throws(CVSSError)
}

extension CVSSVector {
    public var description: String { vector }

    public static func == (lhs: Self, rhs: Self) -> Bool { lhs.vector == rhs.vector }
    public func hash(into hasher: inout Hasher) { hasher.combine(vector) }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let string = try container.decode(String.self)
        do {
            self = try Self(string)
        } catch {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: error.description, underlyingError: error))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(vector)
    }
}

extension [CVSSMetric] {
    /// A metric's value as a vector writes it, `"X"` where undefined, nil for an unknown name.
    func value(of metric: String, chosen: [UInt8]) -> String? {
        guard let index = firstIndex(where: { $0.abbreviation == metric }) else { return nil }
        return self[index].values[Int(chosen[index])]
    }

    /// The CVSS JSON schema's names and values: every mandatory metric, then each defined one.
    func schemaProperties(chosen: [UInt8]) -> [(name: String, value: String)] {
        zip(self, chosen).compactMap { metric, valueIndex in
            metric.isMandatory || valueIndex != 0 ? (metric.schemaKey, metric.schemaValues[Int(valueIndex)]) : nil
        }
    }
}

/// One metric of a CVSS version: its abbreviation, the values a vector may give it, and their
/// names in the CVSS JSON schema.
struct CVSSMetric: Sendable {
    let abbreviation: String
    /// The values in the specification's order; optional metrics list `X` (not defined) first.
    let values: [String]
    let schemaKey: String
    /// The schema's name for each value, parallel to `values`.
    let schemaValues: [String]
    let isMandatory: Bool

    init(_ abbreviation: String, _ values: [String], _ schemaKey: String, _ schemaValues: [String], mandatory: Bool = false) {
        precondition(values.count == schemaValues.count, "\(abbreviation): a schema name per value")
        precondition(mandatory != (values.first == "X"), "\(abbreviation): optional metrics, and only they, start with X")
        self.abbreviation = abbreviation
        self.values = values
        self.schemaKey = schemaKey
        self.schemaValues = schemaValues
        self.isMandatory = mandatory
    }
}

/// Reads `PREFIX/M:V/M:V/…` against a version's metric table; shared by CVSS 3.x and 4.0.
struct CVSSVectorReader {
    let metrics: [CVSSMetric]
    /// Whether metrics must appear in table order (CVSS 4.0) or may come in any order (CVSS 3.x).
    let requiresOrder: Bool
    private let indexByAbbreviation: [Substring: Int]

    init(metrics: [CVSSMetric], requiresOrder: Bool) {
        self.metrics = metrics
        self.requiresOrder = requiresOrder
        self.indexByAbbreviation = Dictionary(uniqueKeysWithValues: metrics.enumerated().map { (Substring($1.abbreviation), $0) })
    }

    /// The index of each metric's value in `metrics[i].values`; absent optional metrics read as
    /// `X` (index 0). `body` is the vector after its prefix.
    func read(_ body: Substring, vector: String, version: String) throws(CVSSError) -> [UInt8] {
        func failure(_ code: CVSSError.Code, _ metric: String?, _ reason: String) -> CVSSError {
            CVSSError(code, metric: metric, vector: vector, version: version, reason: reason)
        }
        var chosen = [UInt8](repeating: 0, count: metrics.count)
        var seen = [Bool](repeating: false, count: metrics.count)
        var lastIndex = -1
        for field in Self.split(body, at: UInt8(ascii: "/")) {
            if field.isEmpty { throw failure(.malformed, nil, "empty field (a \"//\" or a trailing \"/\")") }
            let parts = Self.split(field, at: UInt8(ascii: ":"))
            guard parts.count == 2 else { throw failure(.malformed, nil, "field \"\(field)\" is not METRIC:VALUE") }
            guard let index = indexByAbbreviation[parts[0]] else {
                throw failure(.unknownMetric, String(parts[0]), "no metric \"\(parts[0])\" in CVSS \(version)")
            }
            let metric = metrics[index]
            guard let valueIndex = metric.values.firstIndex(of: String(parts[1])) else {
                throw failure(.badValue, metric.abbreviation,
                              "\(metric.abbreviation) has no value \"\(parts[1])\" (expected \(Self.alternatives(metric.values)))")
            }
            if seen[index] { throw failure(.duplicateMetric, metric.abbreviation, "\(metric.abbreviation) appears twice") }
            if requiresOrder && index < lastIndex {
                throw failure(.outOfOrder, metric.abbreviation,
                              "\(metric.abbreviation) must come before \(metrics[lastIndex].abbreviation) (the specification's order)")
            }
            seen[index] = true
            chosen[index] = UInt8(valueIndex)
            lastIndex = max(lastIndex, index)
        }
        let missing = metrics.indices.filter { metrics[$0].isMandatory && !seen[$0] }.map { metrics[$0].abbreviation }
        if let first = missing.first {
            throw failure(.missingMetric, first, "missing base metric\(missing.count > 1 ? "s" : "") \(missing.joined(separator: ", "))")
        }
        return chosen
    }

    /// The canonical body: every metric in table order, leaving out optional ones not defined.
    func canonicalBody(_ chosen: [UInt8]) -> String {
        var fields: [String] = []
        fields.reserveCapacity(metrics.count)
        for (metric, valueIndex) in zip(metrics, chosen) where metric.isMandatory || valueIndex != 0 {
            fields.append(metric.abbreviation + ":" + metric.values[Int(valueIndex)])
        }
        return fields.joined(separator: "/")
    }

    /// Splits at an ASCII separator by UTF-8 bytes, several times faster than `Character` splitting.
    private static func split(_ text: Substring, at separator: UInt8) -> [Substring] {
        text.utf8.split(separator: separator, omittingEmptySubsequences: false).map { text[$0.startIndex..<$0.endIndex] }
    }

    /// "N, A, L or P".
    static func alternatives(_ values: [String]) -> String {
        guard let last = values.last, values.count > 1 else { return values.first ?? "" }
        return values.dropLast().joined(separator: ", ") + " or " + last
    }
}
