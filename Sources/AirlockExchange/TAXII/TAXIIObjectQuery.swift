/// The TAXII endpoints that read (or delete) a collection's objects, each with the query
/// parameters it allows (TAXII 2.1 §5.3–§5.8).
public enum TAXIIObjectEndpoint: Sendable, Hashable {
    /// `GET …/collections/{id}/objects/`: an envelope.
    case objects
    /// `GET …/collections/{id}/manifest/`: manifest records.
    case manifest
    /// `GET …/objects/{object-id}/`: an envelope of that object's selected versions.
    case object(id: String)
    /// `GET …/objects/{object-id}/versions/`: the object's version timestamps.
    case objectVersions(id: String)
    /// `DELETE …/objects/{object-id}/`: removes the selected versions.
    case deleteObject(id: String)

    /// The query parameters the endpoint takes; any other known parameter is a 400.
    ///
    /// objects and manifest: all of them; one object: `added_after`, `limit`, `next`,
    /// `match[version]`, `match[spec_version]`; versions: `added_after`, `limit`, `next`,
    /// `match[spec_version]`; delete: `match[version]`, `match[spec_version]`.
    public var allowedParameters: Set<TAXIIQueryParameter> {
        switch self {
        case .objects, .manifest: Set(TAXIIQueryParameter.allCases)
        case .object: [.addedAfter, .limit, .next, .matchVersion, .matchSpecVersion]
        case .objectVersions: [.addedAfter, .limit, .next, .matchSpecVersion]
        case .deleteObject: [.matchVersion, .matchSpecVersion]
        }
    }

    /// The object id in the path, for the endpoints that have one.
    public var objectID: String? {
        switch self {
        case .objects, .manifest: nil
        case .object(let id), .objectVersions(let id), .deleteObject(let id): id
        }
    }

    /// The endpoint's name in the specification, for messages.
    public var name: String {
        switch self {
        case .objects: "Get Objects"
        case .manifest: "Get Object Manifests"
        case .object: "Get an Object"
        case .objectVersions: "Get Object Versions"
        case .deleteObject: "Delete an Object"
        }
    }

    /// A short stable name that binds `next` tokens to the endpoint.
    var tokenName: String {
        switch self {
        case .objects: "objects"
        case .manifest: "manifest"
        case .object: "object"
        case .objectVersions: "versions"
        case .deleteObject: "delete"
        }
    }
}

/// The query parameters of the object endpoints, by their names in the URL.
public enum TAXIIQueryParameter: String, Sendable, Hashable, CaseIterable {
    case addedAfter = "added_after"
    case limit
    case next
    case matchID = "match[id]"
    case matchType = "match[type]"
    case matchVersion = "match[version]"
    case matchSpecVersion = "match[spec_version]"
}

/// Which versions of each object a request selects (`match[version]`).
///
/// The keywords and timestamps combine as a union: `first,last` gives an object's oldest and
/// newest versions, once each where they are the same one.
public struct TAXIIVersionSelection: Sendable, Hashable {
    /// `all`: every version; the other members then do not matter.
    public var all: Bool
    /// `first`: each object's oldest version.
    public var first: Bool
    /// `last`: each object's newest version (the default).
    public var last: Bool
    /// Versions named by timestamp, ascending, each once.
    public var timestamps: [TAXIITimestamp]

    public init(all: Bool = false, first: Bool = false, last: Bool = false, timestamps: [TAXIITimestamp] = []) {
        self.all = all
        self.first = first
        self.last = last
        self.timestamps = Array(Set(timestamps)).sorted()
    }

    /// Each object's newest version: the default where `match[version]` is absent.
    public static let last = TAXIIVersionSelection(last: true)
    /// Each object's oldest version.
    public static let first = TAXIIVersionSelection(first: true)
    /// Every version.
    public static let all = TAXIIVersionSelection(all: true)

    /// The normalised `match[version]` value: `all`, or `first`, `last` and the timestamps.
    public var canonicalText: String {
        if all { return "all" }
        var parts: [String] = []
        if first { parts.append("first") }
        if last { parts.append("last") }
        parts += timestamps.map(\.description)
        return parts.joined(separator: ",")
    }
}

/// A request's filters, normalised: lists sorted with duplicates removed, the object endpoints'
/// path id folded into ``ids``, the defaults applied. Two requests with the same filters have equal
/// values here whatever the order or spacing of their query strings.
///
/// What they select (medallion 3.0.0's `BasicFilter`, step by step), for a store to reproduce:
/// 1. the records whose `id` is in ``ids`` and whose `type` is in ``types`` (each when not empty)
///    and whose `date_added` is strictly later than ``addedAfter`` (when set);
/// 2. of those, the ones whose `spec_version` is in ``specVersions``; or, when that is empty, for
///    each object id the ones with the newest spec version among the step-1 records of that id;
/// 3. of those, per ``versions``: all; or those whose version is one of the timestamps, or is the
///    oldest (`first`) or newest (`last`) version among the step-2 records of that id;
/// 4. ordered by `date_added`, then by the store's sequence number.
/// Version selection runs after `added_after`, so `last` is the newest version added after it.
public struct TAXIIObjectFilters: Sendable, Hashable {
    /// `added_after`: only records added strictly later.
    public var addedAfter: TAXIITimestamp?
    /// `match[id]`, or the object endpoints' path id; empty for any.
    public var ids: [String]
    /// `match[type]`; empty for any.
    public var types: [String]
    /// `match[version]`: ``TAXIIVersionSelection/last`` by default; ``TAXIIVersionSelection/all``
    /// on the versions endpoint.
    public var versions: TAXIIVersionSelection
    /// `match[spec_version]`; empty for each object's newest spec version.
    public var specVersions: [String]

    public init(
        addedAfter: TAXIITimestamp? = nil, ids: [String] = [], types: [String] = [],
        versions: TAXIIVersionSelection = .last, specVersions: [String] = []
    ) {
        self.addedAfter = addedAfter
        self.ids = Array(Set(ids)).sorted()
        self.types = Array(Set(types)).sorted()
        self.versions = versions
        self.specVersions = Array(Set(specVersions)).sorted()
    }

    /// One line that names every filter; equal filters give equal text (`next` tokens carry its
    /// digest).
    public var canonicalText: String {
        var text = "added_after=" + (addedAfter.map { String($0.microsecondsSince1970) } ?? "")
        text += "|id=" + ids.joined(separator: ",")
        text += "|type=" + types.joined(separator: ",")
        text += "|version=" + versions.canonicalText
        text += "|spec_version=" + specVersions.joined(separator: ",")
        return text
    }
}

/// How many records a page holds: `limit` when given, lowered to ``maximumLimit``; otherwise
/// ``defaultLimit``.
public struct TAXIIPageLimits: Sendable, Hashable {
    /// The page size where the request gives no `limit`.
    public var defaultLimit: Int
    /// The largest page served, whatever `limit` asks.
    public var maximumLimit: Int

    public init(defaultLimit: Int = 100, maximumLimit: Int = 1000) {
        precondition(defaultLimit > 0 && maximumLimit >= defaultLimit, "0 < defaultLimit ≤ maximumLimit")
        self.defaultLimit = defaultLimit
        self.maximumLimit = maximumLimit
    }
}

/// One request to an object endpoint, read from its query string: the filters, the page size and
/// where the page starts.
public struct TAXIIObjectQuery: Sendable, Hashable {
    public var endpoint: TAXIIObjectEndpoint
    /// What `next` tokens are bound to beside the endpoint and filters: the server passes the API
    /// root and collection (`"api1/collections/91a7b528-…"`), so a token from another collection
    /// is refused.
    public var scope: String
    public var filters: TAXIIObjectFilters
    /// Records per page, after the server's limits.
    public var limit: Int
    /// From `next`: the page holds only records after this position.
    public var after: TAXIIPagePosition?

    public init(
        endpoint: TAXIIObjectEndpoint, scope: String = "", filters: TAXIIObjectFilters = TAXIIObjectFilters(),
        limit: Int = TAXIIPageLimits().defaultLimit, after: TAXIIPagePosition? = nil
    ) {
        self.endpoint = endpoint
        self.scope = scope
        self.filters = filters
        self.limit = limit
        self.after = after
    }

    /// Reads the query items of a request (names and values already percent-decoded).
    ///
    /// Values are comma-separated lists (OR within a parameter; spaces around items ignored); a
    /// `match[…]` parameter given twice adds to its list, any other given twice is a 400. A
    /// parameter the endpoint does not take, and any `match[…]` field other than `id`, `type`,
    /// `version` and `spec_version`, is a 400; other names (`_=…` cache busters) are ignored.
    /// `next` must come from a page of this endpoint, scope and filters (`limit` may change).
    public init(
        parsing items: [(name: String, value: String)], endpoint: TAXIIObjectEndpoint, scope: String = "",
        limits: TAXIIPageLimits = TAXIIPageLimits()
    ) throws(TAXIIError) {
        var reader = TAXIIQueryReader(endpoint: endpoint)
        for (name, value) in items {
            try reader.read(name: name, value: value)
        }
        var ids = reader.ids
        if let objectID = endpoint.objectID { ids = [objectID] }
        var versions = reader.versions ?? .last
        if case .objectVersions = endpoint { versions = .all }
        self.endpoint = endpoint
        self.scope = scope
        self.filters = TAXIIObjectFilters(
            addedAfter: reader.addedAfter, ids: ids, types: reader.types, versions: versions,
            specVersions: reader.specVersions)
        self.limit = min(reader.limit ?? limits.defaultLimit, limits.maximumLimit)
        self.after = nil
        if let next = reader.next {
            self.after = try TAXIIPageToken.position(from: next, for: self)
        }
    }

    /// The `next` token for a page that ended at `position`.
    public func nextToken(after position: TAXIIPagePosition) -> String {
        TAXIIPageToken.token(after: position, for: self)
    }
}

/// Reads query items one at a time into the parts of a ``TAXIIObjectQuery``.
private struct TAXIIQueryReader {
    let endpoint: TAXIIObjectEndpoint
    var seen: Set<TAXIIQueryParameter> = []
    var addedAfter: TAXIITimestamp?
    var limit: Int?
    var next: String?
    var ids: [String] = []
    var types: [String] = []
    var versions: TAXIIVersionSelection?
    var specVersions: [String] = []

    init(endpoint: TAXIIObjectEndpoint) {
        self.endpoint = endpoint
    }

    mutating func read(name: String, value: String) throws(TAXIIError) {
        guard let parameter = TAXIIQueryParameter(rawValue: name) else {
            if name.hasPrefix("match[") {
                throw TAXIIError(
                    .unsupportedParameter,
                    "'\(name)' is not a filter this server knows; it filters on match[id], match[type], match[version] and match[spec_version].",
                    parameter: name, value: value)
            }
            return
        }
        guard endpoint.allowedParameters.contains(parameter) else {
            let allowed = TAXIIQueryParameter.allCases.filter(endpoint.allowedParameters.contains).map(\.rawValue)
            throw TAXIIError(
                .unsupportedParameter,
                "\(name) is not a parameter of the \(endpoint.name) endpoint, which takes \(allowed.joined(separator: ", ")).",
                parameter: name, value: value)
        }
        let repeatable: Set<TAXIIQueryParameter> = [.matchID, .matchType, .matchVersion, .matchSpecVersion]
        guard !seen.contains(parameter) || repeatable.contains(parameter) else {
            throw TAXIIError(.unsupportedParameter, "\(name) is given more than once.", parameter: name, value: value)
        }
        seen.insert(parameter)
        let trimmed = value.trimmingTAXIIWhitespace
        guard !trimmed.isEmpty else {
            throw TAXIIError(.invalidParameter, "\(name) has an empty value.", parameter: name, value: value)
        }
        switch parameter {
        case .addedAfter:
            guard let timestamp = TAXIITimestamp(trimmed) else {
                throw TAXIIError(
                    .invalidParameter, "added_after must be one STIX timestamp such as 2016-02-01T00:00:01.000Z.",
                    parameter: name, value: value)
            }
            addedAfter = timestamp
        case .limit:
            limit = try Self.limit(trimmed, raw: value)
        case .next:
            next = trimmed
        case .matchID:
            for item in try Self.items(trimmed, name: name, raw: value) {
                guard TAXIISTIXIdentifier.type(ofID: item) != nil else {
                    throw TAXIIError(
                        .invalidParameter, "match[id] takes STIX identifiers such as indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f; '\(item)' is not one.",
                        parameter: name, value: value)
                }
                ids.append(item)
            }
        case .matchType:
            for item in try Self.items(trimmed, name: name, raw: value) {
                guard TAXIISTIXIdentifier.isValidType(item) else {
                    throw TAXIIError(
                        .invalidParameter, "match[type] takes STIX type names (a–z, 0–9 and '-', 3 to 250 characters); '\(item)' is not one.",
                        parameter: name, value: value)
                }
                types.append(item)
            }
        case .matchVersion:
            var selection = versions ?? TAXIIVersionSelection()
            var timestamps = selection.timestamps
            for item in try Self.items(trimmed, name: name, raw: value) {
                switch item {
                case "all": selection.all = true
                case "first": selection.first = true
                case "last": selection.last = true
                default:
                    guard let timestamp = TAXIITimestamp(item) else {
                        throw TAXIIError(
                            .invalidParameter, "match[version] takes first, last, all or STIX timestamps; '\(item)' is none of them.",
                            parameter: name, value: value)
                    }
                    timestamps.append(timestamp)
                }
            }
            versions = TAXIIVersionSelection(
                all: selection.all, first: selection.first, last: selection.last, timestamps: timestamps)
        case .matchSpecVersion:
            for item in try Self.items(trimmed, name: name, raw: value) {
                guard TAXIISpecVersion.isValid(item) else {
                    throw TAXIIError(
                        .invalidParameter, "match[spec_version] takes STIX versions such as 2.1; '\(item)' is not one.",
                        parameter: name, value: value)
                }
                specVersions.append(item)
            }
        }
    }

    /// The items of a comma-separated value, each trimmed; an empty item is a 400.
    private static func items(_ value: String, name: String, raw: String) throws(TAXIIError) -> [String] {
        var items: [String] = []
        for part in value.split(separator: ",", omittingEmptySubsequences: false) {
            let item = String(part).trimmingTAXIIWhitespace
            guard !item.isEmpty else {
                throw TAXIIError(.invalidParameter, "\(name) has an empty item in its list.", parameter: name, value: raw)
            }
            items.append(item)
        }
        return items
    }

    /// A positive whole number; one too large for `Int` is simply large (the page maximum applies).
    private static func limit(_ value: String, raw: String) throws(TAXIIError) -> Int {
        let isNegative = value.hasPrefix("-")
        let digits = value.utf8.dropFirst(isNegative ? 1 : 0)
        guard !digits.isEmpty, digits.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else {
            throw TAXIIError(.invalidParameter, "limit must be a positive whole number.", parameter: "limit", value: raw)
        }
        let number = isNegative ? 0 : Int(value) ?? Int.max
        guard number > 0 else {
            throw TAXIIError(.invalidParameter, "limit must be greater than zero.", parameter: "limit", value: raw)
        }
        return number
    }
}

/// STIX spec versions as `match[spec_version]` and the `spec_version` property give them.
enum TAXIISpecVersion {
    /// `MAJOR.MINOR`, digits only.
    static func isValid(_ text: String) -> Bool {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 2 && parts.allSatisfy { !$0.isEmpty && $0.count <= 4 && $0.allSatisfy(\.isTAXIIDigit) }
    }

    /// Whether `lhs` is a newer spec version than `rhs` (by number; by text where they are not
    /// numbers).
    static func isNewer(_ lhs: String, than rhs: String) -> Bool {
        let left = lhs.split(separator: ".").map { Int($0) }
        let right = rhs.split(separator: ".").map { Int($0) }
        if left.count == 2, right.count == 2, let l0 = left[0], let l1 = left[1], let r0 = right[0], let r1 = right[1] {
            return (l0, l1) > (r0, r1)
        }
        return lhs > rhs
    }
}

/// The forms of STIX names: types and identifiers (`type--UUID`).
enum TAXIISTIXIdentifier {
    /// 3 to 250 characters of `a`–`z`, `0`–`9` and `-` (STIX 2.1 §3.1).
    static func isValidType(_ text: some StringProtocol) -> Bool {
        let utf8 = text.utf8
        guard utf8.count >= 3, utf8.count <= 250 else { return false }
        return utf8.allSatisfy { byte in
            (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z"))
                || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || byte == UInt8(ascii: "-")
        }
    }

    /// The type part of `type--xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`; `nil` when it is not an
    /// identifier.
    static func type(ofID id: String) -> Substring? {
        let utf8 = Array(id.utf8)
        guard utf8.count > 38 else { return nil }
        let uuidStart = utf8.count - 36
        guard utf8[uuidStart - 1] == UInt8(ascii: "-"), utf8[uuidStart - 2] == UInt8(ascii: "-") else { return nil }
        for (offset, byte) in utf8[uuidStart...].enumerated() {
            switch offset {
            case 8, 13, 18, 23: guard byte == UInt8(ascii: "-") else { return nil }
            default:
                let isHex = (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
                    || (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "f"))
                    || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "F"))
                guard isHex else { return nil }
            }
        }
        let typeEnd = id.utf8.index(id.utf8.startIndex, offsetBy: uuidStart - 2)
        let type = id[..<typeEnd]
        return isValidType(type) ? type : nil
    }
}

extension Character {
    fileprivate var isTAXIIDigit: Bool { isASCII && isNumber }
}
