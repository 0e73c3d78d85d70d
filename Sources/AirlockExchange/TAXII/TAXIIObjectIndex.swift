/// A collection's records in memory, with the TAXII selection and keyset paging over them.
///
/// It is the reference for what a store's queries must return (``TAXIIObjectFilters`` spells the
/// steps out) and serves tests and small deployments as it is. Records are kept in collection
/// order: ascending `date_added`, then sequence.
public struct TAXIIObjectIndex: Sendable {
    /// Every record, in collection order.
    public private(set) var records: [TAXIIObjectRecord]
    /// The highest sequence number given out.
    public private(set) var lastSequence: Int64
    /// A small number for each object id, so that per-object work indexes arrays instead of
    /// hashing ids.
    private var slotOfID: [String: Int] = [:]
    /// The slot of each record's id, parallel to ``records``.
    private var slots: [Int] = []
    /// The indices in ``records`` of each slot's versions, ascending.
    private var indicesBySlot: [[Int]] = []
    /// How many slots hold more than one version; while none do, version selection is trivial.
    private var multiVersionSlots = 0

    /// An index of `records` (in any order; sorted here).
    public init(records: [TAXIIObjectRecord] = []) {
        self.records = records.sorted { $0.position < $1.position }
        self.lastSequence = records.map(\.sequence).max() ?? 0
        rebuildSlots()
    }

    /// Whether any version of the object is held.
    public func contains(objectID: String) -> Bool {
        slotOfID[objectID].map { !indicesBySlot[$0].isEmpty } ?? false
    }

    /// The records the filters select, in collection order (all pages together).
    public func selection(_ filters: TAXIIObjectFilters) -> [TAXIIObjectRecord] {
        selectedIndices(filters, after: nil, limit: Int.max).map { records[$0] }
    }

    /// The page a query asks for.
    ///
    /// Throws 404 for one object (or its versions) when no version of it is held at all; a held
    /// object that the filters leave out gives an empty page (as medallion answers).
    public func page(_ query: TAXIIObjectQuery) throws(TAXIIError) -> TAXIIObjectPage {
        if let objectID = query.endpoint.objectID, !contains(objectID: objectID) {
            throw TAXIIError.notFound("object '\(objectID)'")
        }
        let fetchLimit = query.limit < Int.max ? query.limit + 1 : Int.max
        let indices = selectedIndices(query.filters, after: query.after, limit: fetchLimit)
        return TAXIIObjectPage(fetched: indices.map { records[$0] }, query: query)
    }

    /// Adds a POST's drafts as one batch: they share a `date_added` later than any held
    /// (``TAXIITimestamp/dateAdded(now:previous:)``) and take the next sequence numbers in order.
    /// A draft that duplicates a held record (or one earlier in the batch) is refused.
    public mutating func add(_ drafts: [TAXIIObjectDraft], now: TAXIITimestamp) -> [TAXIIAddOutcome] {
        let dateAdded = TAXIITimestamp.dateAdded(now: now, previous: records.last?.dateAdded)
        var outcomes: [TAXIIAddOutcome] = []
        outcomes.reserveCapacity(drafts.count)
        for draft in drafts {
            if let slot = slotOfID[draft.id], indicesBySlot[slot].contains(where: { draft.duplicates(records[$0]) }) {
                outcomes.append(.duplicate(draft, dateAdded: dateAdded))
                continue
            }
            lastSequence += 1
            let record = draft.record(dateAdded: dateAdded, sequence: lastSequence)
            records.append(record)
            appendSlot(for: records.count - 1)
            outcomes.append(.added(record))
        }
        return outcomes
    }

    /// Removes the versions of one object that a delete query selects (`match[version]`, default
    /// `last`, and `match[spec_version]`), and returns them. Throws 404 when none is selected.
    public mutating func delete(_ query: TAXIIObjectQuery) throws(TAXIIError) -> [TAXIIObjectRecord] {
        guard let objectID = query.endpoint.objectID, contains(objectID: objectID) else {
            throw TAXIIError.notFound("object '\(query.endpoint.objectID ?? "")'")
        }
        let removed = selection(query.filters)
        guard !removed.isEmpty else {
            throw TAXIIError.notFound("version of object '\(objectID)' that matches these filters")
        }
        let positions = Set(removed.map(\.position))
        records.removeAll { positions.contains($0.position) }
        rebuildSlots()
        return removed
    }

    // MARK: - Slots

    private mutating func rebuildSlots() {
        slotOfID = [:]
        slots = []
        slots.reserveCapacity(records.count)
        indicesBySlot = []
        multiVersionSlots = 0
        for index in records.indices { appendSlot(for: index) }
    }

    private mutating func appendSlot(for index: Int) {
        let id = records[index].id
        let slot: Int
        if let held = slotOfID[id] {
            slot = held
        } else {
            slot = indicesBySlot.count
            slotOfID[id] = slot
            indicesBySlot.append([])
        }
        slots.append(slot)
        indicesBySlot[slot].append(index)
        if indicesBySlot[slot].count == 2 { multiVersionSlots += 1 }
    }

    // MARK: - Selection

    /// The indices of the selected records after `after`, in order, at most `limit` of them: the
    /// steps of ``TAXIIObjectFilters``. Per-object choices (newest spec, first, last) are made
    /// over all the records that pass step 1, before and after the position alike.
    private func selectedIndices(_ filters: TAXIIObjectFilters, after: TAXIIPagePosition?, limit: Int) -> [Int] {
        if filters.ids.isEmpty {
            // Records are in date_added order, so added_after cuts off a prefix.
            var start = records.startIndex
            if let addedAfter = filters.addedAfter {
                start = firstIndex { $0.dateAdded > addedAfter }
            }
            return selectedIndices(in: start..<records.endIndex, filters, after: after, limit: limit)
        }
        var candidates: [Int] = []
        for id in filters.ids {
            if let slot = slotOfID[id] { candidates += indicesBySlot[slot] }
        }
        candidates.sort()
        return selectedIndices(in: candidates, filters, after: after, limit: limit)
    }

    private func selectedIndices(
        in candidates: some BidirectionalCollection<Int>, _ filters: TAXIIObjectFilters, after: TAXIIPagePosition?, limit: Int
    ) -> [Int] {
        let types = Set(filters.types)
        let specVersions = Set(filters.specVersions)
        let versions = filters.versions
        let versionTimestamps = Set(versions.timestamps)
        let addedAfter = filters.addedAfter

        // Step 1 (ids come from the candidates).
        func passesBase(_ index: Int) -> Bool {
            let record = records[index]
            if let addedAfter, record.dateAdded <= addedAfter { return false }
            return types.isEmpty || types.contains(record.type)
        }
        func isAlone(_ index: Int) -> Bool { indicesBySlot[slots[index]].count == 1 }

        // Step 2: each multi-version object's newest spec version among its step-1 records.
        var newestSpec: [Int: String] = [:]
        if specVersions.isEmpty, multiVersionSlots > 0 {
            for index in candidates where !isAlone(index) && passesBase(index) {
                let spec = records[index].specVersion
                let slot = slots[index]
                if let held = newestSpec[slot], held == spec || !TAXIISpecVersion.isNewer(spec, than: held) { continue }
                newestSpec[slot] = spec
            }
        }
        func passesSpec(_ index: Int) -> Bool {
            if !specVersions.isEmpty { return specVersions.contains(records[index].specVersion) }
            return isAlone(index) || newestSpec[slots[index]] == records[index].specVersion
        }

        // Step 3: each multi-version object's oldest and newest version among its step-2 records.
        let needsBounds = !versions.all && (versions.first || versions.last)
        var bounds: [Int: (oldest: TAXIITimestamp, newest: TAXIITimestamp)] = [:]
        if needsBounds, multiVersionSlots > 0 {
            for index in candidates where !isAlone(index) && passesBase(index) && passesSpec(index) {
                let version = records[index].version
                let slot = slots[index]
                if let held = bounds[slot] {
                    bounds[slot] = (min(held.oldest, version), max(held.newest, version))
                } else {
                    bounds[slot] = (version, version)
                }
            }
        }
        func passesVersion(_ index: Int) -> Bool {
            if versions.all { return true }
            let version = records[index].version
            if versionTimestamps.contains(version) { return true }
            guard versions.first || versions.last else { return false }
            if isAlone(index) { return true }
            guard let bound = bounds[slots[index]] else { return false }
            return (versions.first && bound.oldest == version) || (versions.last && bound.newest == version)
        }

        // Step 4: in order, after the position.
        var start = candidates.startIndex
        if let after {
            start = candidates.taxiiPartitioningIndex { records[$0].position > after }
        }
        var selected: [Int] = []
        for index in candidates[start...] {
            guard selected.count < limit else { break }
            if passesBase(index) && passesSpec(index) && passesVersion(index) { selected.append(index) }
        }
        return selected
    }

    /// The first index of ``records`` whose record satisfies a predicate that is false for a
    /// prefix of the records and true for the rest.
    private func firstIndex(where predicate: (TAXIIObjectRecord) -> Bool) -> Int {
        records.indices.taxiiPartitioningIndex { predicate(records[$0]) }
    }
}

extension BidirectionalCollection {
    /// Binary search: the first index where `predicate` holds, for a predicate that is false for a
    /// prefix of the collection and true for the rest.
    fileprivate func taxiiPartitioningIndex(where predicate: (Element) -> Bool) -> Index {
        var low = startIndex
        var count = distance(from: startIndex, to: endIndex)
        while count > 0 {
            let half = count / 2
            let middle = index(low, offsetBy: half)
            if predicate(self[middle]) {
                count = half
            } else {
                low = index(after: middle)
                count -= half + 1
            }
        }
        return low
    }
}

/// What became of one draft given to ``TAXIIObjectIndex/add(_:now:)``.
public enum TAXIIAddOutcome: Sendable, Hashable {
    case added(TAXIIObjectRecord)
    /// The collection holds this version already (or, for an object without `created` and
    /// `modified`, any copy).
    case duplicate(TAXIIObjectDraft, dateAdded: TAXIITimestamp)

    /// The status detail: a success, or a failure with its message.
    public var statusDetail: TAXIIStatusDetail {
        switch self {
        case .added(let record):
            TAXIIStatusDetail(added: record)
        case .duplicate(let draft, let dateAdded):
            TAXIIStatusDetail(
                id: draft.id, version: draft.versionText ?? dateAdded.description,
                message: "The collection already holds this version of the object.")
        }
    }

    /// Whether the draft was added (a success in the status).
    public var isAdded: Bool {
        if case .added = self { true } else { false }
    }
}
