/// One stored version of a STIX object in a collection: what the filters, the manifest and the
/// date headers need, and the object's compact JSON, served as it is.
///
/// A store keeps one row per record, unique on (collection, ``id``, ``version``), with columns for
/// every property here (``version`` and ``dateAdded`` as microsecond integers, which sort and
/// compare like the instants).
public struct TAXIIObjectRecord: Sendable, Hashable {
    /// The STIX identifier (`indicator--8e2e2d2b-…`).
    public var id: String
    /// The STIX type (`indicator`).
    public var type: String
    /// `"2.1"`.
    public var specVersion: String
    /// The version: `modified`, else `created`, else ``dateAdded`` (objects with neither).
    public var version: TAXIITimestamp
    /// The version as the object writes it (`"2016-04-06T20:03:48.000Z"`), for the manifest and the
    /// versions resource; ``dateAdded`` written out where the object has neither property.
    public var versionText: String
    /// When the server added the record, to the microsecond.
    public var dateAdded: TAXIITimestamp
    /// The store's sequence number, increasing with every record added; orders equal ``dateAdded``.
    public var sequence: Int64
    /// `application/stix+json;version=2.1`.
    public var mediaType: String
    /// The object as compact JSON.
    public var json: [UInt8]

    public init(
        id: String, type: String, specVersion: String, version: TAXIITimestamp, versionText: String,
        dateAdded: TAXIITimestamp, sequence: Int64, mediaType: String? = nil, json: [UInt8]
    ) {
        self.id = id
        self.type = type
        self.specVersion = specVersion
        self.version = version
        self.versionText = versionText
        self.dateAdded = dateAdded
        self.sequence = sequence
        self.mediaType = mediaType ?? TAXIIMediaType.stix(specVersion: specVersion)
        self.json = json
    }

    /// Where the record stands in the collection's order.
    public var position: TAXIIPagePosition {
        TAXIIPagePosition(dateAdded: dateAdded, sequence: sequence)
    }
}

/// An object accepted from a POST, before the store gives it a `date_added` and a sequence number.
public struct TAXIIObjectDraft: Sendable, Hashable {
    public var id: String
    public var type: String
    public var specVersion: String
    /// `modified`, else `created`; `nil` for an object with neither (a cyber-observable), whose
    /// version becomes its `date_added`.
    public var version: TAXIITimestamp?
    /// The version as the object writes it; `nil` with ``version``.
    public var versionText: String?
    /// The object as compact JSON: its own bytes with the whitespace between tokens removed.
    public var json: [UInt8]

    public init(
        id: String, type: String, specVersion: String = "2.1", version: TAXIITimestamp?, versionText: String?,
        json: [UInt8]
    ) {
        self.id = id
        self.type = type
        self.specVersion = specVersion
        self.version = version
        self.versionText = versionText
        self.json = json
    }

    /// The record the draft becomes once added.
    public func record(dateAdded: TAXIITimestamp, sequence: Int64) -> TAXIIObjectRecord {
        TAXIIObjectRecord(
            id: id, type: type, specVersion: specVersion, version: version ?? dateAdded,
            versionText: versionText ?? dateAdded.description, dateAdded: dateAdded, sequence: sequence, json: json)
    }

    /// Whether the store already holding `existing` (a record of the same id) must refuse this
    /// draft as a duplicate: the same version, or, for an object without `created` and `modified`
    /// (which cannot change), any stored copy at all (as medallion decides).
    public func duplicates(_ existing: TAXIIObjectRecord) -> Bool {
        guard existing.id == id else { return false }
        guard let version else { return true }
        return existing.version == version
    }
}

extension TAXIITimestamp {
    /// The `date_added` for the next batch of records: `now`, but always later than the previous
    /// batch's, so that a client that polls with `added_after` set to the last
    /// `X-TAXII-Date-Added-Last` it saw misses nothing even when the clock stands still or steps
    /// back. A store assigns it under the lock that orders its inserts, and the records of one
    /// POST share it (ordered by sequence).
    public static func dateAdded(now: TAXIITimestamp, previous: TAXIITimestamp?) -> TAXIITimestamp {
        guard let previous, now <= previous else { return now }
        return previous.advanced(byMicroseconds: 1)
    }
}
