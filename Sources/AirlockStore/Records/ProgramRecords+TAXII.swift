import Foundation
import SQLKit

/// One version of one STIX object in one TAXII collection, as stored.
public struct TAXIIStoredObject: Sendable, Hashable {
    /// The store's order of insertion; with `dateAddedMicros`, the collection's paging order.
    public var sequence: Int64
    public var collectionId: String
    public var objectId: String
    public var type: String
    /// The version as the object writes it (`modified`, else `created`), and in microseconds.
    public var version: String
    public var versionMicros: Int64
    public var specVersion: String
    /// When the collection received it, in microseconds since 1970.
    public var dateAddedMicros: Int64
    public var mediaType: String
    /// The TLP 2.0 level the object is marked with (`clear` … `red`), which decides who reads it.
    public var tlp: String
    /// The disclosure case the object belongs to, whose participants alone read it at TLP:RED.
    public var caseId: String?
    /// The object's JSON, byte for byte as served.
    public var body: String
    /// The organisation that posted this version over TAXII; nil for what the program shares itself.
    public var organisationId: String?

    public init(
        sequence: Int64 = 0, collectionId: String, objectId: String, type: String, version: String, versionMicros: Int64,
        specVersion: String, dateAddedMicros: Int64, mediaType: String, tlp: String, caseId: String?, body: String,
        organisationId: String? = nil
    ) {
        self.sequence = sequence
        self.collectionId = collectionId
        self.objectId = objectId
        self.type = type
        self.version = version
        self.versionMicros = versionMicros
        self.specVersion = specVersion
        self.dateAddedMicros = dateAddedMicros
        self.mediaType = mediaType
        self.tlp = tlp
        self.caseId = caseId
        self.body = body
        self.organisationId = organisationId
    }
}

/// What a collection holds of one STIX id: its versions, and its author.
public struct TAXIIHeldObject: Sendable, Hashable {
    /// The versions held, as `version_micros`.
    public var versions: [Int64]
    /// The organisation that posted the earliest version held; nil when the program shared it itself.
    public var authorId: String?

    public init(versions: [Int64], authorId: String?) {
        self.versions = versions
        self.authorId = authorId
    }
}

/// What changes when a collection's contents change: servers keep collections in memory and
/// reload one when its stamp moves.
///
/// The latest `date_added` is part of it because SQLite may give a deleted last row's sequence
/// number to the next insert; that insert's later `date_added` still moves the stamp.
public struct TAXIICollectionStamp: Sendable, Hashable {
    public var count: Int64
    public var lastSequence: Int64
    public var lastDateAdded: Int64

    public init(count: Int64, lastSequence: Int64, lastDateAdded: Int64 = 0) {
        self.count = count
        self.lastSequence = lastSequence
        self.lastDateAdded = lastDateAdded
    }
}

extension ProgramRecords {
    /// Every object version in a collection, in paging order.
    public func taxiiObjects(collectionId: String) async throws -> [TAXIIStoredObject] {
        try await taxiiObjects(collectionId: collectionId, afterSequence: nil)
    }

    /// The object versions of a collection whose sequence number is above `afterSequence` (all
    /// when nil), in paging order: what a cached copy lacks when only inserts happened since.
    public func taxiiObjects(collectionId: String, afterSequence: Int64?) async throws -> [TAXIIStoredObject] {
        var query: SQLQueryString = "SELECT * FROM taxii_objects WHERE collection_id = \(bind: collectionId)"
        if let afterSequence { query = query + " AND seq > \(bind: afterSequence)" }
        return try await sql.raw(query + " ORDER BY date_added, seq").all().map { row in
            TAXIIStoredObject(
                sequence: try row.decode(column: "seq", as: Int64.self), collectionId: collectionId,
                objectId: try row.decode(column: "object_id", as: String.self), type: try row.decode(column: "type", as: String.self),
                version: try row.decode(column: "version", as: String.self), versionMicros: try row.decode(column: "version_micros", as: Int64.self),
                specVersion: try row.decode(column: "spec_version", as: String.self),
                dateAddedMicros: try row.decode(column: "date_added", as: Int64.self), mediaType: try row.decode(column: "media_type", as: String.self),
                tlp: try row.decode(column: "tlp", as: String.self), caseId: try row.decode(column: "case_id", as: String?.self),
                body: try row.decode(column: "body", as: String.self),
                organisationId: try row.decode(column: "organisation_id", as: String?.self))
        }
    }

    public func taxiiStamp(collectionId: String) async throws -> TAXIICollectionStamp {
        let row = try await sql.raw("""
            SELECT COUNT(*) AS count, MAX(seq) AS last, MAX(date_added) AS last_added FROM taxii_objects \
            WHERE collection_id = \(bind: collectionId)
            """).first()
        return TAXIICollectionStamp(
            count: try row?.decode(column: "count", as: Int64.self) ?? 0, lastSequence: try row?.decode(column: "last", as: Int64?.self) ?? 0,
            lastDateAdded: try row?.decode(column: "last_added", as: Int64?.self) ?? 0)
    }

    /// Makes concurrent writers of one collection take turns until the transaction ends, so that
    /// batches commit in `date_added` order and a client polling with `added_after` misses none.
    /// PostgreSQL: a transaction-scoped advisory lock; SQLite's `BEGIN IMMEDIATE` already
    /// serialises writers.
    public func lockTAXIICollection(collectionId: String) async throws {
        guard flavour == .postgres else { return }
        try await sql.raw("SELECT pg_advisory_xact_lock(hashtext(\(bind: "taxii:" + collectionId)))").run()
    }

    /// The versions (`version_micros`) and the author a collection holds of each of `objectIds`,
    /// for refusing duplicates and others' changes before inserting.
    public func taxiiHeldObjects(collectionId: String, objectIds: [String]) async throws -> [String: TAXIIHeldObject] {
        var held: [String: (object: TAXIIHeldObject, firstSequence: Int64)] = [:]
        let unique = Array(Set(objectIds))
        for start in stride(from: 0, to: unique.count, by: 500) {
            var query: SQLQueryString = """
                SELECT object_id, version_micros, organisation_id, seq FROM taxii_objects WHERE collection_id = \(bind: collectionId) \
                AND object_id IN (
                """
            for (offset, id) in unique[start..<min(start + 500, unique.count)].enumerated() {
                if offset > 0 { query = query + ", " }
                query = query + "\(bind: id)"
            }
            for row in try await sql.raw(query + ")").all() {
                let id = try row.decode(column: "object_id", as: String.self)
                let sequence = try row.decode(column: "seq", as: Int64.self)
                let poster = try row.decode(column: "organisation_id", as: String?.self)
                var entry = held[id] ?? (TAXIIHeldObject(versions: [], authorId: poster), sequence)
                entry.object.versions.append(try row.decode(column: "version_micros", as: Int64.self))
                // The author is whoever posted the earliest version still held.
                if sequence < entry.firstSequence { (entry.object.authorId, entry.firstSequence) = (poster, sequence) }
                held[id] = entry
            }
        }
        return held.mapValues(\.object)
    }

    /// The cases an organisation takes part in, each with its roles (raw values of `CaseRole`).
    public func taxiiCaseRoles(organisationId: String) async throws -> [String: [String]] {
        var roles: [String: [String]] = [:]
        let rows = try await sql.raw("SELECT case_id, role FROM case_participants WHERE organisation_id = \(bind: organisationId)").all()
        for row in rows {
            roles[try row.decode(column: "case_id", as: String.self), default: []].append(try row.decode(column: "role", as: String.self))
        }
        return roles
    }

    /// The latest `date_added` in a collection, so that a batch added after it sorts after it.
    public func taxiiLastDateAdded(collectionId: String) async throws -> Int64? {
        try await sql.raw("SELECT MAX(date_added) AS last FROM taxii_objects WHERE collection_id = \(bind: collectionId)")
            .first()?.decode(column: "last", as: Int64?.self)
    }

    /// Whether the collection holds this version of the object already.
    public func taxiiHolds(collectionId: String, objectId: String, version: String) async throws -> Bool {
        try await sql.raw("""
            SELECT 1 AS held FROM taxii_objects WHERE collection_id = \(bind: collectionId) AND object_id = \(bind: objectId) \
            AND version = \(bind: version)
            """).first() != nil
    }

    /// Adds object versions; returns them with their sequence numbers.
    public func insert(_ objects: [TAXIIStoredObject]) async throws -> [TAXIIStoredObject] {
        var stored: [TAXIIStoredObject] = []
        stored.reserveCapacity(objects.count)
        for object in objects {
            let row = try await sql.raw("""
                INSERT INTO taxii_objects (collection_id, object_id, type, version, version_micros, spec_version, date_added, \
                media_type, tlp, case_id, body, organisation_id) VALUES (\(bind: object.collectionId), \(bind: object.objectId), \
                \(bind: object.type), \(bind: object.version), \(bind: object.versionMicros), \(bind: object.specVersion), \
                \(bind: object.dateAddedMicros), \(bind: object.mediaType), \(bind: object.tlp), \(bind: object.caseId), \
                \(bind: object.body), \(bind: object.organisationId)) RETURNING seq
                """).first()
            var object = object
            object.sequence = try row?.decode(column: "seq", as: Int64.self) ?? 0
            stored.append(object)
        }
        return stored
    }

    /// Removes object versions by sequence number.
    public func deleteTAXIIObjects(collectionId: String, sequences: [Int64]) async throws {
        for sequence in sequences {
            try await sql.raw("DELETE FROM taxii_objects WHERE collection_id = \(bind: collectionId) AND seq = \(bind: sequence)").run()
        }
    }

    /// Keeps a POST's status resource, as JSON, for `GET …/status/{id}/`.
    public func insertTAXIIStatus(id: String, collectionId: String, organisationId: String?, document: String, at date: Date) async throws {
        try await sql.raw("""
            INSERT INTO taxii_statuses (id, collection_id, organisation_id, document, created_at) VALUES (\(bind: id), \
            \(bind: collectionId), \(bind: organisationId), \(bind: document), \(bind: date.storedMilliseconds))
            """).run()
    }

    /// A status resource and the organisation whose request it describes.
    public func taxiiStatus(id: String) async throws -> (document: String, organisationId: String?, collectionId: String)? {
        guard let row = try await sql.raw("SELECT * FROM taxii_statuses WHERE id = \(bind: id)").first() else { return nil }
        return (
            try row.decode(column: "document", as: String.self), try row.decode(column: "organisation_id", as: String?.self),
            try row.decode(column: "collection_id", as: String.self)
        )
    }
}
