import AirlockCore
import AirlockExchange
import AirlockStore
import Synchronization

/// Each collection's objects in memory, so that pages are served without SQL: per collection, its
/// records with their TLP levels, and a ``TAXIIObjectIndex`` for each set of markings that some
/// caller reads.
///
/// Every request first asks the store for the collection's stamp (``TAXIICollectionStamp``: one
/// aggregate query); when it moved, the records are reloaded: only those with a higher sequence
/// number when nothing else changed, all of them otherwise. So several servers over one
/// PostgreSQL database serve the same objects, and a server sees writes made outside the TAXII
/// endpoints (a case's STIX objects, shared by the cases API) without being told.
final class TAXIIObjectCache: Sendable {
    /// One stored version and its marking.
    struct Record: Sendable {
        var record: TAXIIObjectRecord
        var tlp: TrafficLightProtocol
    }

    private struct Entry: Sendable {
        /// The store's stamp when the entry was loaded.
        var stamp: TAXIICollectionStamp
        /// The rows actually loaded, all of them (those the collection may not serve included),
        /// counted as a stamp counts them.
        var rows: TAXIICollectionStamp
        /// The records the collection may serve at all, in paging order.
        var records: [Record]
        /// An index per set of readable markings, built on first use.
        var indexes: [Set<TrafficLightProtocol>: TAXIIObjectIndex] = [:]
    }

    private let entries = Mutex<[String: Entry]>([:])

    init() {}

    /// The index of what a caller with `access` reads from the collection, current as of the
    /// store's stamp read on `records`.
    func index(for access: TAXIICollectionAccess, records: ProgramRecords) async throws -> TAXIIObjectIndex {
        let stamp = try await records.taxiiStamp(collectionId: access.id)
        let markings = access.readableMarkings
        let held: Entry? = entries.withLock { entries in entries[access.id] }
        var entry: Entry
        if let held, held.stamp == stamp {
            if let index = held.indexes[markings] { return index }
            entry = held
        } else {
            entry = try await load(access, stamp: stamp, after: held, records: records)
        }
        let index = TAXIIObjectIndex(records: entry.records.compactMap { markings.contains($0.tlp) ? $0.record : nil })
        entry.indexes[markings] = index
        // Two racing loads: the last one stays; a stale one is replaced at the next request, which
        // compares stamps again.
        entries.withLock { entries in entries[access.id] = entry }
        return index
    }

    private func load(
        _ access: TAXIICollectionAccess, stamp: TAXIICollectionStamp, after held: Entry?, records: ProgramRecords
    ) async throws -> Entry {
        // Only inserts since the rows held: fetch the new ones and add them. The rows held may be
        // newer than the stamp they were stored with (a write between the two reads), so the
        // check counts rows, not stamps; and a deleted last row whose sequence number SQLite gave
        // to the next insert shows in the latest date_added.
        if let held, stamp.count >= held.rows.count, stamp.lastSequence >= held.rows.lastSequence {
            let added = try await records.taxiiObjects(collectionId: access.id, afterSequence: held.rows.lastSequence)
            var rows = held.rows
            for row in added { rows.add(row) }
            if rows.count == stamp.count, rows.lastDateAdded == stamp.lastDateAdded {
                var merged = held.records
                merged += added.compactMap { Self.record($0, in: access) }
                if let firstNew = added.first, let lastHeld = held.records.last?.record,
                   TAXIIPagePosition(dateAdded: TAXIITimestamp(microsecondsSince1970: firstNew.dateAddedMicros), sequence: firstNew.sequence)
                    < lastHeld.position {
                    merged.sort { $0.record.position < $1.record.position }
                }
                return Entry(stamp: stamp, rows: rows, records: merged)
            }
        }
        let all = try await records.taxiiObjects(collectionId: access.id, afterSequence: nil)
        var rows = TAXIICollectionStamp(count: 0, lastSequence: 0, lastDateAdded: 0)
        for row in all { rows.add(row) }
        return Entry(stamp: stamp, rows: rows, records: all.compactMap { Self.record($0, in: access) })
    }

    /// A stored row as a cached record; nil for a row the collection must never serve: one marked
    /// stricter than the collection allows (a RED or AMBER object in the community collection), or,
    /// in a case collection, one that belongs to another case. An unknown marking reads as RED.
    static func record(_ stored: TAXIIStoredObject, in access: TAXIICollectionAccess) -> Record? {
        let tlp = TrafficLightProtocol(rawValue: stored.tlp) ?? .red
        guard tlp <= access.collection.strictestMarking else { return nil }
        if let caseId = access.caseId, let objectCase = stored.caseId, objectCase != caseId { return nil }
        return Record(
            record: TAXIIObjectRecord(
                id: stored.objectId, type: stored.type, specVersion: stored.specVersion,
                version: TAXIITimestamp(microsecondsSince1970: stored.versionMicros), versionText: stored.version,
                dateAdded: TAXIITimestamp(microsecondsSince1970: stored.dateAddedMicros), sequence: stored.sequence,
                mediaType: stored.mediaType, json: Array(stored.body.utf8)),
            tlp: tlp)
    }
}

extension TAXIICollectionStamp {
    /// Counts one more row, as ``ProgramRecords/taxiiStamp(collectionId:)`` would.
    fileprivate mutating func add(_ row: TAXIIStoredObject) {
        count += 1
        lastSequence = max(lastSequence, row.sequence)
        lastDateAdded = max(lastDateAdded, row.dateAddedMicros)
    }
}
