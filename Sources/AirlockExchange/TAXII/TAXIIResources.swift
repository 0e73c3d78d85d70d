import AirlockCore

/// The discovery resource (`GET /taxii2/`, TAXII 2.1 §4.1.1).
public struct TAXIIDiscovery: Sendable, Hashable {
    public var title: String
    public var description: String?
    public var contact: String?
    /// The default API root; one of ``apiRoots``.
    public var defaultAPIRoot: String?
    /// API root URLs, absolute or relative to the discovery URL (taxii2-client joins them).
    public var apiRoots: [String]

    public init(title: String, description: String? = nil, contact: String? = nil, defaultAPIRoot: String? = nil, apiRoots: [String]) {
        self.title = title
        self.description = description
        self.contact = contact
        self.defaultAPIRoot = defaultAPIRoot
        self.apiRoots = apiRoots
    }

    /// `{"title","description"?,"contact"?,"default"?,"api_roots"?}`; `api_roots` left out when empty.
    public var jsonBytes: [UInt8] {
        var writer = JSONWriter()
        writer.beginObject()
        writer.field("title", title)
        writer.field("description", ifPresent: description)
        writer.field("contact", ifPresent: contact)
        writer.field("default", ifPresent: defaultAPIRoot)
        if !apiRoots.isEmpty { writer.field("api_roots", strings: apiRoots) }
        writer.endObject()
        return writer.bytes
    }
}

/// The API root resource (`GET {api-root}/`, TAXII 2.1 §4.2.1).
public struct TAXIIAPIRoot: Sendable, Hashable {
    public var title: String
    public var description: String?
    /// The TAXII versions served: ``TAXIIMediaType/taxii``.
    public var versions: [String]
    /// The largest POST body accepted, in bytes; larger ones get 413.
    public var maxContentLength: Int

    public init(title: String, description: String? = nil, versions: [String] = [TAXIIMediaType.taxii], maxContentLength: Int) {
        self.title = title
        self.description = description
        self.versions = versions
        self.maxContentLength = maxContentLength
    }

    /// `{"title","description"?,"versions","max_content_length"}`.
    public var jsonBytes: [UInt8] {
        var writer = JSONWriter()
        writer.beginObject()
        writer.field("title", title)
        writer.field("description", ifPresent: description)
        writer.field("versions", strings: versions)
        writer.field("max_content_length", maxContentLength)
        writer.endObject()
        return writer.bytes
    }

    /// Throws 413 when a POST body of `length` bytes is over ``maxContentLength``.
    public func checkContentLength(_ length: Int) throws(TAXIIError) {
        guard length > maxContentLength else { return }
        throw TAXIIError.contentTooLarge(length: length, maximum: maxContentLength)
    }
}

/// A collection resource (`GET …/collections/{id}/`, TAXII 2.1 §5.2.1).
public struct TAXIICollection: Sendable, Hashable {
    /// The collection id; it is part of the collection's URL (taxii2-client checks).
    public var id: String
    public var title: String
    public var description: String?
    public var alias: String?
    /// Whether this caller may read the collection.
    public var canRead: Bool
    /// Whether this caller may write the collection.
    public var canWrite: Bool
    public var mediaTypes: [String]

    public init(
        id: String, title: String, description: String? = nil, alias: String? = nil, canRead: Bool, canWrite: Bool,
        mediaTypes: [String] = [TAXIIMediaType.stix]
    ) {
        self.id = id
        self.title = title
        self.description = description
        self.alias = alias
        self.canRead = canRead
        self.canWrite = canWrite
        self.mediaTypes = mediaTypes
    }

    /// `{"id","title","description"?,"alias"?,"can_read","can_write","media_types"?}`.
    public var jsonBytes: [UInt8] {
        var writer = JSONWriter()
        write(into: &writer)
        return writer.bytes
    }

    /// The collections resource: `{"collections":[…]}`; `{}` when there are none (the key may be
    /// left out when empty, and medallion does).
    public static func collectionsJSON(_ collections: [TAXIICollection]) -> [UInt8] {
        var writer = JSONWriter(capacity: 32 + collections.count * 256)
        writer.beginObject()
        if !collections.isEmpty {
            writer.key("collections")
            writer.beginArray()
            for collection in collections { collection.write(into: &writer) }
            writer.endArray()
        }
        writer.endObject()
        return writer.bytes
    }

    func write(into writer: inout JSONWriter) {
        writer.beginObject()
        writer.field("id", id)
        writer.field("title", title)
        writer.field("description", ifPresent: description)
        writer.field("alias", ifPresent: alias)
        writer.field("can_read", canRead)
        writer.field("can_write", canWrite)
        if !mediaTypes.isEmpty { writer.field("media_types", strings: mediaTypes) }
        writer.endObject()
    }

    /// Throws 403 unless the caller may read.
    public func checkCanRead() throws(TAXIIError) {
        guard !canRead else { return }
        throw TAXIIError(.forbidden, "This collection may not be read with these credentials.")
    }

    /// Throws 403 unless the caller may write.
    public func checkCanWrite() throws(TAXIIError) {
        guard !canWrite else { return }
        throw TAXIIError(.forbidden, "This collection may not be written with these credentials.")
    }
}

/// What happened to one object of a POST (TAXII 2.1 §4.3.1 status details).
public struct TAXIIStatusDetail: Sendable, Hashable {
    /// The object's id.
    public var id: String
    /// The object's version: `modified`, else `created`, else the time of the request.
    public var version: String
    /// Why it failed, or any note.
    public var message: String?

    public init(id: String, version: String, message: String? = nil) {
        self.id = id
        self.version = version
        self.message = message
    }

    /// The success detail for a record that was added.
    public init(added record: TAXIIObjectRecord) {
        self.init(id: record.id, version: record.versionText)
    }
}

/// The status resource for a POST (`GET {api-root}/status/{id}/`, TAXII 2.1 §4.3.1).
///
/// The counts are computed from the lists, so they always agree with them and add up to
/// `total_count` (taxii2-client raises otherwise).
public struct TAXIIStatus: Sendable, Hashable {
    /// The status resource's `status`.
    public enum State: String, Sendable, Hashable {
        case pending, complete
    }

    /// The status id (a UUID); the status URL is `{api-root}/status/{id}/`.
    public var id: String
    /// When the POST arrived.
    public var requestTimestamp: TAXIITimestamp
    /// Objects added.
    public var successes: [TAXIIStatusDetail]
    /// Objects refused, each with its reason.
    public var failures: [TAXIIStatusDetail]
    /// Objects not yet processed (none while POSTs are processed at once).
    public var pendings: [TAXIIStatusDetail]

    public init(
        id: String, requestTimestamp: TAXIITimestamp, successes: [TAXIIStatusDetail] = [],
        failures: [TAXIIStatusDetail] = [], pendings: [TAXIIStatusDetail] = []
    ) {
        self.id = id
        self.requestTimestamp = requestTimestamp
        self.successes = successes
        self.failures = failures
        self.pendings = pendings
    }

    /// The status of a POST carried out at once: the reader's rejections
    /// (``TAXIIEnvelopeItem/rejection``), then the store's outcomes for the accepted drafts, the
    /// added ones as successes and the duplicates as failures.
    public init(id: String, requestTimestamp: TAXIITimestamp, rejected: [TAXIIStatusDetail], outcomes: [TAXIIAddOutcome]) {
        self.init(
            id: id, requestTimestamp: requestTimestamp,
            successes: outcomes.filter(\.isAdded).map(\.statusDetail),
            failures: rejected + outcomes.filter { !$0.isAdded }.map(\.statusDetail))
    }

    /// `complete` once nothing is pending.
    public var state: State { pendings.isEmpty ? .complete : .pending }
    /// All objects of the POST.
    public var totalCount: Int { successes.count + failures.count + pendings.count }

    /// `{"id","status","request_timestamp","total_count","success_count","successes"?,
    /// "failure_count","failures"?,"pending_count","pendings"?}`; an empty list is left out, as
    /// medallion does.
    public var jsonBytes: [UInt8] {
        var writer = JSONWriter(capacity: 256 + totalCount * 96)
        writer.beginObject()
        writer.field("id", id)
        writer.field("status", state.rawValue)
        writer.field("request_timestamp", requestTimestamp)
        writer.field("total_count", totalCount)
        writer.field("success_count", successes.count)
        Self.write("successes", successes, into: &writer)
        writer.field("failure_count", failures.count)
        Self.write("failures", failures, into: &writer)
        writer.field("pending_count", pendings.count)
        Self.write("pendings", pendings, into: &writer)
        writer.endObject()
        return writer.bytes
    }

    private static func write(_ name: String, _ details: [TAXIIStatusDetail], into writer: inout JSONWriter) {
        guard !details.isEmpty else { return }
        writer.key(name)
        writer.beginArray()
        for detail in details {
            writer.beginObject()
            writer.field("id", detail.id)
            writer.field("version", detail.version)
            writer.field("message", ifPresent: detail.message)
            writer.endObject()
        }
        writer.endArray()
    }
}
