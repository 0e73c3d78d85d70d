import AirlockCore

/// One STIX 2.1 object as JSON properties, with typed access to the common ones.
///
/// Kept as JSON rather than one Swift type per object kind: versioning compares whole objects,
/// objects come back from storage as JSON, and the TAXII layer serves them as they are.
public struct STIXObject: Sendable, Hashable {
    /// The object's JSON members.
    public var properties: [String: JSONValue]

    public init(_ properties: [String: JSONValue]) {
        self.properties = properties
    }

    /// Reads an object from JSON bytes.
    public init(json bytes: some Collection<UInt8>) throws(SharingDocumentError) {
        guard case .object(let properties)? = try? SharingJSON.parse(bytes) else {
            throw SharingDocumentError(.invalidInput, "a STIX object is a JSON object")
        }
        guard properties["type"]?.stringValue != nil, properties["id"]?.stringValue != nil else {
            throw SharingDocumentError(.invalidInput, "a STIX object has a type and an id")
        }
        self.properties = properties
    }

    /// A property by its STIX name.
    public subscript(_ name: String) -> JSONValue? {
        get { properties[name] }
        set { properties[name] = newValue }
    }

    /// The common properties (§3.2), read from the JSON; empty or nil when missing or malformed.
    public var type: String { properties["type"]?.stringValue ?? "" }
    public var id: String { properties["id"]?.stringValue ?? "" }
    public var created: STIXTimestamp? { properties["created"]?.stringValue.flatMap(STIXTimestamp.init) }
    public var modified: STIXTimestamp? { properties["modified"]?.stringValue.flatMap(STIXTimestamp.init) }
    public var createdByRef: String? { properties["created_by_ref"]?.stringValue }
    public var isRevoked: Bool { properties["revoked"] == .bool(true) }

    /// The ids in `object_marking_refs`.
    public var markingRefs: [String] {
        guard case .array(let refs)? = properties["object_marking_refs"] else { return [] }
        return refs.compactMap(\.stringValue)
    }

    /// The TLP 2.0 level the object is marked with (the strictest, should it carry several); nil when unmarked.
    public var tlp: TrafficLightProtocol? { markingRefs.compactMap(STIXMarking.level(ofMarking:)).max() }

    /// The object as canonical JSON bytes (RFC 8785): the same version always serialises the same (§3.6).
    public var jsonBytes: [UInt8] { SharingJSON.bytes(.object(properties)) }

    /// The object as a JSON value.
    public var json: JSONValue { .object(properties) }
}

/// A STIX bundle (§8): a wrapper for sharing objects, not itself versioned.
public struct STIXBundle: Sendable, Hashable {
    /// `bundle--` and a UUID.
    public var id: String
    public var objects: [STIXObject]

    public init(id: String, objects: [STIXObject]) {
        self.id = id
        self.objects = objects
    }

    /// The bundle as JSON: `type`, `id`, `objects` (no `spec_version` in 2.1).
    public var json: JSONValue {
        .object(["type": .string("bundle"), "id": .string(id), "objects": .array(objects.map(\.json))])
    }

    /// The bundle as JSON bytes, indented for people or compact.
    public func jsonBytes(pretty: Bool = false) -> [UInt8] { SharingJSON.bytes(json, pretty: pretty) }
}
