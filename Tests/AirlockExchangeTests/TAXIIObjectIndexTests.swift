import AirlockExchange
import Testing

/// The selection rules (medallion 3.0.0's, step by step) over a small collection whose records
/// are named by object and version.
@Suite struct TAXIISelectionTests {
    static let a = TAXIIFixture.id("indicator", 1)
    static let b = TAXIIFixture.id("malware", 2)
    static let c = TAXIIFixture.id("indicator", 3)
    static let d = TAXIIFixture.id("indicator", 4)

    // Collection order: a1, b1, a2, c20, a3, c21, d5, d4.
    static let records: [String: TAXIIObjectRecord] = [
        "a1": TAXIIFixture.record(a, version: 1, added: 10, sequence: 1),
        "b1": TAXIIFixture.record(b, version: 1, added: 10, sequence: 2),
        "a2": TAXIIFixture.record(a, version: 2, added: 20, sequence: 3),
        "c20": TAXIIFixture.record(c, version: 1, added: 20, sequence: 4, spec: "2.0"),
        "a3": TAXIIFixture.record(a, version: 3, added: 30, sequence: 5),
        "c21": TAXIIFixture.record(c, version: 2, added: 30, sequence: 6),
        "d5": TAXIIFixture.record(d, version: 5, added: 30, sequence: 7),
        // An older version of d, added after the newer one.
        "d4": TAXIIFixture.record(d, version: 4, added: 40, sequence: 8),
    ]

    let index = TAXIIObjectIndex(records: Array(records.values))

    private func names(_ items: [(name: String, value: String)], endpoint: TAXIIObjectEndpoint = .objects) throws -> [String] {
        let page = try index.page(TAXIIFixture.query(items, endpoint: endpoint))
        return page.records.map { record in
            Self.records.first { $0.value == record }?.key ?? "?"
        }
    }

    @Test func keepsCollectionOrderWhateverTheInputOrder() {
        #expect(index.records.map(\.sequence) == [1, 2, 3, 4, 5, 6, 7, 8])
        #expect(index.lastSequence == 8)
    }

    @Test func lastVersionOfTheNewestSpecIsTheDefault() throws {
        #expect(try names([]) == ["b1", "a3", "c21", "d5"])
        #expect(try names([("match[version]", "last")]) == ["b1", "a3", "c21", "d5"])
    }

    @Test func versionSelection() throws {
        #expect(try names([("match[version]", "first")]) == ["a1", "b1", "c21", "d4"])
        // `all` still takes each object's newest spec version only.
        #expect(try names([("match[version]", "all")]) == ["a1", "b1", "a2", "a3", "c21", "d5", "d4"])
        // A version that is both first and last appears once.
        #expect(try names([("match[version]", "first,last")]) == ["a1", "b1", "a3", "c21", "d5", "d4"])
        let two = TAXIIFixture.time(2).description
        #expect(try names([("match[version]", two)]) == ["a2", "c21"])
        #expect(try names([("match[version]", "\(two),first")]) == ["a1", "b1", "a2", "c21", "d4"])
        // A timestamp of another precision names the same version.
        #expect(try names([("match[version]", "2020-01-01T00:00:02Z")]) == ["a2", "c21"])
        #expect(try names([("match[version]", TAXIIFixture.time(99).description)]).isEmpty)
    }

    @Test func addedAfterIsStrictAndComesBeforeVersionSelection() throws {
        let ten = TAXIIFixture.time(10).description
        #expect(try names([("added_after", ten)]) == ["a3", "c21", "d5"])
        // `first` is the oldest version added after the time, as medallion selects it.
        #expect(try names([("added_after", ten), ("match[version]", "first")]) == ["a2", "c21", "d4"])
        #expect(try names([("added_after", TAXIIFixture.time(30).description)]) == ["d4"])
        #expect(try names([("added_after", TAXIIFixture.time(40).description)]).isEmpty)
        #expect(try names([("added_after", TAXIIFixture.time(9).description)]) == ["b1", "a3", "c21", "d5"])
        // One microsecond before a date_added includes it.
        let justBefore = TAXIIFixture.time(40, micros: -1).description
        #expect(try names([("added_after", justBefore)]) == ["d4"])
    }

    @Test func specVersionSelection() throws {
        #expect(try names([("match[spec_version]", "2.0")]) == ["c20"])
        #expect(try names([("match[spec_version]", "2.1")]) == ["b1", "a3", "c21", "d5"])
        #expect(try names([("match[spec_version]", "2.0,2.1"), ("match[version]", "all")])
            == ["a1", "b1", "a2", "c20", "a3", "c21", "d5", "d4"])
        #expect(try names([("match[spec_version]", "2.0,2.1"), ("match[version]", "first")]) == ["a1", "b1", "c20", "d4"])
        #expect(try names([("match[spec_version]", "3.0")]).isEmpty)
    }

    @Test func theNewestSpecIsChosenAfterAddedAfter() throws {
        let e = TAXIIFixture.id("indicator", 5)
        let e21 = TAXIIFixture.record(e, version: 1, added: 10, sequence: 1)
        let e20 = TAXIIFixture.record(e, version: 2, added: 20, sequence: 2, spec: "2.0")
        let index = TAXIIObjectIndex(records: [e21, e20])
        #expect(try index.page(TAXIIFixture.query([])).records == [e21])
        #expect(try index.page(TAXIIFixture.query([("added_after", TAXIIFixture.time(10).description)])).records == [e20])
    }

    @Test func typeAndIDFilters() throws {
        #expect(try names([("match[type]", "malware")]) == ["b1"])
        #expect(try names([("match[type]", "indicator")]) == ["a3", "c21", "d5"])
        #expect(try names([("match[type]", "indicator,malware")]) == ["b1", "a3", "c21", "d5"])
        #expect(try names([("match[type]", "tool")]).isEmpty)
        #expect(try names([("match[id]", Self.a)]) == ["a3"])
        #expect(try names([("match[id]", "\(Self.d),\(Self.b)"), ("match[version]", "all")]) == ["b1", "d5", "d4"])
        // AND across parameters.
        #expect(try names([("match[id]", Self.b), ("match[type]", "indicator")]).isEmpty)
    }

    @Test func theManifestSelectsAsTheObjectsEndpointDoes() throws {
        for items: [(name: String, value: String)] in [[], [("match[version]", "all")], [("match[type]", "malware")]] {
            #expect(try names(items, endpoint: .manifest) == names(items))
        }
    }

    @Test func oneObject() throws {
        #expect(try names([], endpoint: .object(id: Self.a)) == ["a3"])
        #expect(try names([("match[version]", "all")], endpoint: .object(id: Self.a)) == ["a1", "a2", "a3"])
        #expect(try names([("match[version]", "first")], endpoint: .object(id: Self.d)) == ["d4"])
        #expect(try names([("match[spec_version]", "2.0")], endpoint: .object(id: Self.c)) == ["c20"])

        // A held object that the filters leave out gives an empty page, not 404.
        let empty = try index.page(TAXIIFixture.query(
            [("added_after", TAXIIFixture.time(30).description)], endpoint: .object(id: Self.a)))
        #expect(empty.records.isEmpty)
        #expect(!empty.more)
        #expect(empty.headers.isEmpty)
        #expect(TAXIITestJSON.decode(empty.jsonBytes) == .object(["more": .bool(false)]))

        let unknown = TAXIIFixture.id("indicator", 77)
        for endpoint in [TAXIIObjectEndpoint.object(id: unknown), .objectVersions(id: unknown)] {
            let error = #expect(throws: TAXIIError.self) { try index.page(TAXIIFixture.query([], endpoint: endpoint)) }
            #expect(error?.code == .notFound)
            #expect(error?.httpStatus == 404)
        }
    }

    @Test func versionsOfOneObject() throws {
        #expect(try names([], endpoint: .objectVersions(id: Self.a)) == ["a1", "a2", "a3"])
        #expect(try names([], endpoint: .objectVersions(id: Self.c)) == ["c21"])
        #expect(try names([("match[spec_version]", "2.0,2.1")], endpoint: .objectVersions(id: Self.c)) == ["c20", "c21"])
        #expect(try names([("added_after", TAXIIFixture.time(10).description)], endpoint: .objectVersions(id: Self.a))
            == ["a2", "a3"])
        let page = try index.page(TAXIIFixture.query([], endpoint: .objectVersions(id: Self.d)))
        #expect(TAXIITestJSON.decode(page.jsonBytes) == .object([
            "more": .bool(false),
            "versions": .array([.string(TAXIIFixture.time(5).description), .string(TAXIIFixture.time(4).description)]),
        ]))
    }

    @Test func deleteRemovesTheSelectedVersions() throws {
        var index = self.index
        let removed = try index.delete(TAXIIFixture.query([], endpoint: .deleteObject(id: Self.a)))
        #expect(removed == [Self.records["a3"]!])
        #expect(try index.page(TAXIIFixture.query([], endpoint: .object(id: Self.a))).records == [Self.records["a2"]!])

        let nothing = #expect(throws: TAXIIError.self) {
            try index.delete(TAXIIFixture.query(
                [("match[version]", TAXIIFixture.time(99).description)], endpoint: .deleteObject(id: Self.a)))
        }
        #expect(nothing?.code == .notFound)

        let rest = try index.delete(TAXIIFixture.query([("match[version]", "all")], endpoint: .deleteObject(id: Self.a)))
        #expect(rest == [Self.records["a1"]!, Self.records["a2"]!])
        #expect(!index.contains(objectID: Self.a))
        #expect(throws: TAXIIError.self) { try index.page(TAXIIFixture.query([], endpoint: .object(id: Self.a))) }
        #expect(throws: TAXIIError.self) { try index.delete(TAXIIFixture.query([], endpoint: .deleteObject(id: Self.a))) }
        #expect(index.records.count == 5)
    }
}

/// Keyset paging and `next` tokens.
@Suite struct TAXIIPagingTests {
    /// 250 objects in three POSTs: 100 and 100 sharing a date_added each, then 50; every other one
    /// a malware.
    static func collection() -> TAXIIObjectIndex {
        var index = TAXIIObjectIndex()
        var number = 0
        for (batch, size) in [100, 100, 50].enumerated() {
            var drafts: [TAXIIObjectDraft] = []
            for _ in 0..<size {
                number += 1
                let type = number % 2 == 0 ? "malware" : "indicator"
                let id = TAXIIFixture.id(type, number)
                let version = TAXIIFixture.time(Int64(number))
                drafts.append(TAXIIObjectDraft(
                    id: id, type: type, version: version, versionText: version.description,
                    json: Array(#"{"type":"\#(type)","id":"\#(id)","n":\#(number)}"#.utf8)))
            }
            _ = index.add(drafts, now: TAXIIFixture.time(Int64(1000 * (batch + 1))))
        }
        return index
    }

    let index = collection()

    @Test func pagesCoverTheSelectionOnceInOrder() throws {
        for filters: [(name: String, value: String)] in [[], [("match[type]", "malware")]] {
            let pages = try TAXIIFixture.allPages(index, filters + [("limit", "30")])
            let expected = index.selection(try TAXIIFixture.query(filters).filters)
            #expect(pages.flatMap(\.records) == expected)
            #expect(pages.count == (expected.count + 29) / 30)
            #expect(pages.dropLast().allSatisfy { $0.more && $0.next != nil && $0.records.count == 30 })
            #expect(pages.last?.more == false)
            #expect(pages.last?.next == nil)
            for page in pages {
                #expect(page.headers.map(\.name) == ["X-TAXII-Date-Added-First", "X-TAXII-Date-Added-Last"])
                #expect(page.headers.map(\.value) == [page.records.first!.dateAdded.description, page.records.last!.dateAdded.description])
            }
        }
    }

    @Test func aPageThatEndsTheCollectionExactlyHasNoMore() throws {
        let pages = try TAXIIFixture.allPages(index, [("limit", "50")])
        #expect(pages.count == 5)
        #expect(pages.last?.records.count == 50)
        #expect(pages.last?.more == false)
    }

    @Test func recordsOfOneBatchShareDateAddedAndKeepTheirOrder() {
        let batches = Dictionary(grouping: index.records, by: \.dateAdded)
        #expect(batches.count == 3)
        #expect(batches.values.map(\.count).sorted() == [50, 100, 100])
        #expect(index.records.map(\.sequence) == Array(1...250))
    }

    @Test func limitMayChangeBetweenPages() throws {
        let first = try index.page(TAXIIFixture.query([("limit", "10")]))
        let second = try index.page(TAXIIFixture.query([("limit", "25"), ("next", first.next!)]))
        #expect(second.records.count == 25)
        #expect(second.records.first == index.records[10])
    }

    @Test func changedFiltersAreRefused() throws {
        let first = try index.page(TAXIIFixture.query([("match[type]", "malware"), ("limit", "10")]))
        let next = try #require(first.next)
        let changes: [[(name: String, value: String)]] = [
            [("match[type]", "indicator")],
            [],
            [("match[type]", "malware"), ("match[version]", "all")],
            [("match[type]", "malware"), ("added_after", TAXIIFixture.time(0).description)],
            [("match[type]", "malware,indicator")],
        ]
        for items in changes {
            let error = #expect(throws: TAXIIError.self) { try TAXIIFixture.query(items + [("next", next)]) }
            #expect(error?.code == .filtersChanged)
            #expect(error?.httpStatus == 400)
            #expect(error?.parameter == "next")
        }
        // The same filters, written differently, are the same filters.
        #expect(try TAXIIFixture.query([("match[type]", " malware "), ("next", next)]).after == first.records.last?.position)
    }

    @Test func tokensAreBoundToEndpointAndScope() throws {
        let first = try index.page(TAXIIFixture.query([("limit", "10")]))
        let next = try #require(first.next)
        let manifest = #expect(throws: TAXIIError.self) { try TAXIIFixture.query([("next", next)], endpoint: .manifest) }
        #expect(manifest?.code == .filtersChanged)
        let otherCollection = #expect(throws: TAXIIError.self) {
            try TAXIIFixture.query([("next", next)], scope: "root/c2")
        }
        #expect(otherCollection?.code == .filtersChanged)
    }

    @Test func damagedTokensAreRefused() throws {
        let first = try index.page(TAXIIFixture.query([("limit", "10")]))
        let next = try #require(first.next)
        #expect(next.utf8.allSatisfy { byte in
            (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_")
        })
        var damaged: [String] = [String(next.dropLast()), next + "A", next + "=", "abc", "", "!!!!", String(repeating: "A", count: next.count)]
        // Every single-character change.
        let characters = Array(next)
        for position in characters.indices {
            var changed = characters
            changed[position] = changed[position] == "A" ? "B" : "A"
            damaged.append(String(changed))
        }
        for token in damaged where !token.isEmpty {
            let error = #expect(throws: TAXIIError.self) { try TAXIIFixture.query([("next", token)]) }
            #expect(error?.code == .invalidNextToken, "\(token)")
            #expect(error?.httpStatus == 400)
        }
    }

    @Test func tokensNeedNoServerStateAndNeverExpire() throws {
        let first = try index.page(TAXIIFixture.query([("limit", "40")]))
        // A fresh index over the same records (a restarted server) continues the same way.
        let restarted = TAXIIObjectIndex(records: index.records.shuffled())
        let continued = try restarted.page(TAXIIFixture.query([("limit", "40"), ("next", first.next!)]))
        #expect(continued.records == Array(index.records[40..<80]))
    }

    @Test func pagingSurvivesWritesBetweenPages() throws {
        var index = self.index
        let first = try index.page(TAXIIFixture.query([("limit", "100")]))
        // Delete the record the token points at, and add a batch.
        let last = try #require(first.records.last)
        _ = try index.delete(TAXIIFixture.query([], endpoint: .deleteObject(id: last.id)))
        let newID = TAXIIFixture.id("indicator", 9999)
        let added = index.add(
            [TAXIIObjectDraft(id: newID, type: "indicator", version: nil, versionText: nil, json: Array("{}".utf8))],
            now: TAXIIFixture.time(10))
        #expect(added.allSatisfy { $0.isAdded })
        var seen = first.records.dropLast().map(\.id)
        var next = first.next
        while let token = next {
            let page = try index.page(TAXIIFixture.query([("limit", "100"), ("next", token)]))
            seen += page.records.map(\.id)
            next = page.next
        }
        #expect(seen.count == 250)
        #expect(Set(seen).count == 250)
        #expect(seen.last == newID)
    }

    @Test func pollingWithTheLastDateAddedMissesNothing() throws {
        var index = self.index
        let all = try TAXIIFixture.allPages(index, [("limit", "1000")])
        let lastSeen = try #require(all.last?.headers.last?.value)
        #expect(try index.page(TAXIIFixture.query([("added_after", lastSeen)])).records.isEmpty)
        // A clock that went back: the next batch still lands after the last date_added.
        let id = TAXIIFixture.id("malware", 5000)
        _ = index.add(
            [TAXIIObjectDraft(id: id, type: "malware", version: nil, versionText: nil, json: Array("{}".utf8))],
            now: TAXIIFixture.time(1))
        #expect(try index.page(TAXIIFixture.query([("added_after", lastSeen)])).records.map(\.id) == [id])
    }
}

@Suite struct TAXIIAddTests {
    let id = TAXIIFixture.id("indicator", 1)

    private func draft(version: Int64?) -> TAXIIObjectDraft {
        let time = version.map { TAXIIFixture.time($0) }
        return TAXIIObjectDraft(id: id, type: "indicator", version: time, versionText: time?.description, json: Array("{}".utf8))
    }

    @Test func aBatchSharesDateAddedAndTakesSequenceNumbers() {
        var index = TAXIIObjectIndex()
        let outcomes = index.add([draft(version: 1), draft(version: 2)], now: TAXIIFixture.time(100))
        #expect(outcomes.map(\.isAdded) == [true, true])
        #expect(index.records.map(\.dateAdded) == [TAXIIFixture.time(100), TAXIIFixture.time(100)])
        #expect(index.records.map(\.sequence) == [1, 2])
        #expect(outcomes.map(\.statusDetail) == [
            TAXIIStatusDetail(id: id, version: TAXIIFixture.time(1).description),
            TAXIIStatusDetail(id: id, version: TAXIIFixture.time(2).description),
        ])
    }

    @Test func aVersionHeldAlreadyIsRefused() {
        var index = TAXIIObjectIndex()
        _ = index.add([draft(version: 1)], now: TAXIIFixture.time(100))
        let outcomes = index.add([draft(version: 1), draft(version: 3), draft(version: 3)], now: TAXIIFixture.time(200))
        #expect(outcomes.map(\.isAdded) == [false, true, false])
        let failure = outcomes[0].statusDetail
        #expect(failure.id == id)
        #expect(failure.version == TAXIIFixture.time(1).description)
        #expect(failure.message != nil)
        #expect(index.records.count == 2)
    }

    @Test func anObjectWithoutTimestampsIsImmutable() {
        var index = TAXIIObjectIndex()
        let first = index.add([draft(version: nil)], now: TAXIIFixture.time(100))
        #expect(first.map(\.isAdded) == [true])
        // Its version is its date_added.
        #expect(index.records.first?.version == TAXIIFixture.time(100))
        #expect(index.records.first?.versionText == "2020-01-01T00:01:40.000000Z")
        let again = index.add([draft(version: nil)], now: TAXIIFixture.time(200))
        #expect(again.map(\.isAdded) == [false])
        #expect(again.first?.statusDetail.version == TAXIIFixture.time(200).description)
    }
}

/// The index against a plain transcription of medallion's steps, over random collections and
/// filters.
@Suite struct TAXIISelectionReferenceTests {
    /// SplitMix64, so that every run checks the same cases.
    struct Generator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    /// medallion's `BasicFilter.process_filter`, step by step, then sorted by position.
    static func reference(_ records: [TAXIIObjectRecord], _ filters: TAXIIObjectFilters) -> [TAXIIObjectRecord] {
        var data = records
        if !filters.types.isEmpty { data = data.filter { filters.types.contains($0.type) } }
        if !filters.ids.isEmpty { data = data.filter { filters.ids.contains($0.id) } }
        if let addedAfter = filters.addedAfter { data = data.filter { $0.dateAdded > addedAfter } }
        if !filters.specVersions.isEmpty {
            data = data.filter { filters.specVersions.contains($0.specVersion) }
        } else {
            let all = data
            data = data.filter { record in
                !all.contains { $0.id == record.id && Double($0.specVersion)! > Double(record.specVersion)! }
            }
        }
        let versions = filters.versions
        if !versions.all {
            let all = data
            data = data.filter { record in
                let others = all.filter { $0.id == record.id }.map(\.version)
                return versions.timestamps.contains(record.version)
                    || (versions.first && record.version == others.min())
                    || (versions.last && record.version == others.max())
            }
        }
        return data.sorted { $0.position < $1.position }
    }

    @Test func theIndexSelectsAsMedallionDoes() throws {
        var random = Generator(state: 2024)
        for round in 0..<40 {
            // Up to 12 objects of 2 types, each with up to 4 versions in spec 2.0 or 2.1, added over
            // a few instants so that many share a date_added.
            var records: [TAXIIObjectRecord] = []
            var sequence: Int64 = 0
            let objects = Int.random(in: 1...12, using: &random)
            for n in 1...objects {
                let type = Bool.random(using: &random) ? "indicator" : "malware"
                let versions = Array(Set((0..<Int.random(in: 1...4, using: &random)).map { _ in Int64.random(in: 1...6, using: &random) }))
                for version in versions {
                    sequence += 1
                    records.append(TAXIIFixture.record(
                        TAXIIFixture.id(type, n), version: version, added: Int64.random(in: 1...5, using: &random),
                        sequence: sequence, spec: Int.random(in: 0..<4, using: &random) == 0 ? "2.0" : "2.1"))
                }
            }
            let index = TAXIIObjectIndex(records: records.shuffled(using: &random))
            let ids = Array(Set(records.map(\.id)))
            for _ in 0..<25 {
                var items: [(name: String, value: String)] = []
                if Int.random(in: 0..<3, using: &random) == 0 {
                    items.append(("match[type]", ["indicator", "malware", "indicator,malware"].randomElement(using: &random)!))
                }
                if Int.random(in: 0..<3, using: &random) == 0 {
                    items.append(("match[id]", ids.shuffled(using: &random).prefix(Int.random(in: 1...3, using: &random)).joined(separator: ",")))
                }
                if Int.random(in: 0..<3, using: &random) == 0 {
                    items.append(("added_after", TAXIIFixture.time(Int64.random(in: 0...5, using: &random)).description))
                }
                if Int.random(in: 0..<2, using: &random) == 0 {
                    let choices = ["first", "last", "all", "first,last", TAXIIFixture.time(Int64.random(in: 1...6, using: &random)).description,
                                   "first," + TAXIIFixture.time(3).description]
                    items.append(("match[version]", choices.randomElement(using: &random)!))
                }
                if Int.random(in: 0..<3, using: &random) == 0 {
                    items.append(("match[spec_version]", ["2.0", "2.1", "2.0,2.1"].randomElement(using: &random)!))
                }
                let limit = Int.random(in: 1...7, using: &random)
                let query = try TAXIIFixture.query(items + [("limit", String(limit))])
                let expected = Self.reference(records, query.filters)
                #expect(index.selection(query.filters).map(\.sequence) == expected.map(\.sequence), "round \(round): \(items)")
                let pages = try TAXIIFixture.allPages(index, items + [("limit", String(limit))])
                #expect(pages.flatMap(\.records).map(\.sequence) == expected.map(\.sequence), "round \(round): \(items) paged by \(limit)")
            }
        }
    }
}
