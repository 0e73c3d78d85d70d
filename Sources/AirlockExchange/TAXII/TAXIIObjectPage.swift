import AirlockCore

/// One page of records for an object endpoint, with what the response needs: `more`, `next`, the
/// date headers, and the body for the endpoint (``jsonBytes``).
///
/// A store fetches, in order, up to `query.limit + 1` selected records after `query.after` and
/// hands them to ``init(fetched:query:)``; the extra record only tells that there are more. In SQL,
/// with the steps of ``TAXIIObjectFilters`` (here the defaults: newest spec, `last`):
///
///     WITH base AS (SELECT * FROM taxii_object WHERE collection = ?
///                     [AND object_id IN (…)] [AND type IN (…)] [AND date_added_us > ?]),
///          spec AS (SELECT * FROM base b WHERE b.spec_version =
///                     (SELECT max(spec_version) FROM base WHERE object_id = b.object_id)),
///          chosen AS (SELECT * FROM spec s WHERE s.version_us =
///                     (SELECT max(version_us) FROM spec WHERE object_id = s.object_id))
///     SELECT * FROM chosen WHERE (date_added_us, seq) > (?, ?)   -- query.after, when set
///     ORDER BY date_added_us, seq LIMIT ?                        -- query.limit + 1
///
/// The position applies last: `first` and `last` are chosen over all pages, not within one.
public struct TAXIIObjectPage: Sendable {
    /// The request the page answers; its endpoint decides the body.
    public var query: TAXIIObjectQuery
    /// The page's records, in collection order.
    public var records: [TAXIIObjectRecord]
    /// Whether records follow this page.
    public var more: Bool
    /// The token for the following page; `nil` on the last.
    public var next: String?

    public init(fetched: [TAXIIObjectRecord], query: TAXIIObjectQuery) {
        self.query = query
        self.more = fetched.count > query.limit
        self.records = more ? Array(fetched.prefix(query.limit)) : fetched
        self.next = more ? records.last.map { query.nextToken(after: $0.position) } : nil
    }

    /// `date_added` of the page's first record.
    public var dateAddedFirst: TAXIITimestamp? { records.first?.dateAdded }
    /// `date_added` of the page's last record: what a client polls with as `added_after`.
    public var dateAddedLast: TAXIITimestamp? { records.last?.dateAdded }

    /// `X-TAXII-Date-Added-First` and `X-TAXII-Date-Added-Last` (microsecond timestamps); none for
    /// an empty page.
    public var headers: [(name: String, value: String)] {
        guard let first = dateAddedFirst, let last = dateAddedLast else { return [] }
        return [
            (name: "X-TAXII-Date-Added-First", value: first.description),
            (name: "X-TAXII-Date-Added-Last", value: last.description),
        ]
    }

    /// The body for the query's endpoint: an envelope for objects and one object, the manifest
    /// resource, or the versions resource.
    public var jsonBytes: [UInt8] {
        switch query.endpoint {
        case .objects, .object, .deleteObject: envelopeJSON()
        case .manifest: manifestJSON()
        case .objectVersions: versionsJSON()
        }
    }

    /// The envelope: `{"more":…,"next":…,"objects":[…]}`, the objects' stored bytes copied in.
    /// `next` only when there is more; `objects` left out when empty (as medallion does).
    public func envelopeJSON() -> [UInt8] {
        var capacity = 64
        for record in records { capacity += record.json.count + 1 }
        var writer = pageWriter(capacity: capacity)
        if !records.isEmpty {
            writer.key("objects")
            writer.beginArray()
            for record in records { writer.raw(record.json) }
            writer.endArray()
        }
        writer.endObject()
        return writer.bytes
    }

    /// The manifest resource: `{"more":…,"next":…,"objects":[{id,date_added,version,media_type}]}`.
    public func manifestJSON() -> [UInt8] {
        var writer = pageWriter(capacity: 64 + records.count * 200)
        if !records.isEmpty {
            writer.key("objects")
            writer.beginArray()
            for record in records {
                writer.beginObject()
                writer.field("id", record.id)
                writer.field("date_added", record.dateAdded)
                writer.field("version", record.versionText)
                writer.field("media_type", record.mediaType)
                writer.endObject()
            }
            writer.endArray()
        }
        writer.endObject()
        return writer.bytes
    }

    /// The versions resource: `{"more":…,"next":…,"versions":["…"]}`, in `date_added` order like the
    /// other pages (medallion sorts each page's versions newest first instead).
    public func versionsJSON() -> [UInt8] {
        var writer = pageWriter(capacity: 64 + records.count * 32)
        if !records.isEmpty {
            writer.field("versions", strings: records.map(\.versionText))
        }
        writer.endObject()
        return writer.bytes
    }

    private func pageWriter(capacity: Int) -> JSONWriter {
        var writer = JSONWriter(capacity: capacity)
        writer.beginObject()
        writer.field("more", more)
        writer.field("next", ifPresent: next)
        return writer
    }
}
