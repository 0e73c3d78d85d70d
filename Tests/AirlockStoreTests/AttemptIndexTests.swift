import AirlockCore
import Foundation
import SQLKit
import AirlockTestSupport
import Testing

@testable import AirlockStore

/// A run's sample list: every filter, search and order, paged by its cursor, against the same
/// selection made in memory from the records.
@Suite struct AttemptIndexTests {
    struct Made {
        var key: SampleKey
        var status: String
        var score: Double?
        var cause: String?
        var level: String
        var words: String
        var kept: Int
    }

    /// Hostile words too: FTS5 syntax, quotes, non-ASCII, a NUL.
    static let vocabulary = ["alpha", "beta", "NEAR(", "\"quoted\"", "OR", "AND", "nmap*", "權限", "café", "x\u{0}y", "-flag"]

    static func record(_ made: Made) throws -> String {
        var fields: [String: JSONValue] = [
            "sample_id": .string(made.key.sampleID), "epoch": .number(Double(made.key.epoch)), "status": .string(made.status),
            "metadata": .object(["level": .string(made.level), "nested": .object(["a": .number(1)])]),
            "messages": .array([
                .object(["role": .string("user"), "content": .string("task " + made.key.sampleID)]),
                .object([
                    "role": .string("assistant"), "content": .string(made.words),
                    "tool_calls": .array([.object(["name": .string("bash"), "arguments": .string(#"{"cmd":"whoami"}"#)])]),
                ]),
            ]),
        ]
        if let score = made.score { fields["scores"] = .object(["match": .object(["value": .number(score), "explanation": .string("because")])]) }
        if let cause = made.cause { fields["failure"] = .object(["cause": .string(cause), "message": .string("it broke")]) }
        return String(decoding: try JSONEncoder().encode(JSONValue.object(fields)), as: UTF8.self)
    }

    static func matches(_ made: Made, _ selection: AttemptSelection) -> Bool {
        if let status = selection.status, made.status != status { return false }
        if let cause = selection.failureCause, made.cause != cause { return false }
        if let epoch = selection.epoch, made.key.epoch != epoch { return false }
        if selection.needsScore, made.score == nil { return false }
        if let minimum = selection.minimumScore, made.score! < minimum { return false }
        if let maximum = selection.maximumScore, made.score! > maximum { return false }
        if selection.metadataKey == "level", made.level != selection.metadataValue { return false }
        if let text = selection.text {
            let tokens = Set(made.words.split(separator: " ").map(String.init) + ["task", made.key.sampleID, "whoami", "cmd", "because", "it", "broke"])
            if !text.split(separator: " ").allSatisfy({ tokens.contains(String($0)) }) { return false }
        }
        return true
    }

    static func ordered(_ made: [Made], _ order: AttemptSelection.Order) -> [SampleKey] {
        let byKey: (Made, Made) -> Bool = { ($0.key.sampleID, $0.key.epoch) < ($1.key.sampleID, $1.key.epoch) }
        switch order {
        case .sample: return made.sorted(by: byKey).map(\.key)
        case .score: return made.sorted { $0.score! != $1.score! ? $0.score! < $1.score! : byKey($0, $1) }.map(\.key)
        case .scoreDescending: return made.sorted { $0.score! != $1.score! ? $0.score! > $1.score! : byKey($1, $0) }.map(\.key)
        case .kept: return made.sorted { $0.kept < $1.kept }.map(\.key)
        case .keptDescending: return made.sorted { $0.kept > $1.kept }.map(\.key)
        }
    }

    /// A running server run on a fresh version, planning `attempts`.
    static func serverRun(planning attempts: Int, in store: ProgramStore) async throws -> StoredRun {
        let developer = Sample.organisation("Developer")
        let model = Sample.model("alpha", of: developer)
        let version = Sample.version("1.0", of: model)
        var run = Sample.run("server-run", on: version, by: developer)
        run.origin = .server
        run.state = .running
        run.execution = RunExecution(bundleDigest: String(repeating: "ab", count: 32), taskPath: "task.yaml", grantId: "gnt_X", pool: "default", plannedAttempts: attempts)
        try await store.transaction { records in
            try await records.insert(developer)
            try await records.insert(model)
            try await records.insert(version, sealedCredentials: nil)
            try await records.insert(run)
        }
        return run
    }

    /// Every page of a selection, `pages` rows at a time, each after the last one's cursor.
    static func everyPage(of run: StoredRun, _ selection: AttemptSelection, pages: Int, in store: ProgramStore) async throws -> [SampleKey] {
        var seen: [SampleKey] = []
        var cursor: AttemptCursor?
        while true {
            let page = try await store.transaction { records in try await records.attempts(runId: run.id, selection: selection, after: cursor, limit: pages) }
            seen += page.map { SampleKey(sampleID: $0.attempt.sampleId, epoch: $0.attempt.epoch) }
            guard page.count == pages, let last = page.last else { return seen }
            cursor = last.cursor(selection.order)
        }
    }

    @Test(arguments: TestBackend.all)
    func everyFilterAndOrderPagesAsTheRecordsSay(backend: TestBackend) async throws {
        try await backend.withFreshStore { store in
            let run = try await Self.serverRun(planning: 200, in: store)
            var generator = SystemRandomNumberGenerator()
            var made: [Made] = []
            for index in 0..<90 {
                let failed = index % 7 == 3
                let words = (0..<3).map { _ in Self.vocabulary.randomElement(using: &generator)! }.joined(separator: " ")
                made.append(
                    Made(
                        key: SampleKey(sampleID: "s\(index % 30)", epoch: index / 30 + 1), status: failed ? "failed" : "scored",
                        score: failed ? nil : [0, 0.5, 1, -2.5, 1e300].randomElement(using: &generator)!, cause: failed ? ["model", "sandbox"][index % 2] : nil,
                        level: ["easy", "hard", "ünïcode"][index % 3], words: words, kept: 0))
            }
            made.shuffle(using: &generator)
            try await store.transaction { records in
                for index in made.indices {
                    made[index].kept = index + 1
                    let attempt = StoredAttempt(
                        runId: run.id, sampleId: made[index].key.sampleID, epoch: made[index].key.epoch, status: made[index].status,
                        record: try Self.record(made[index]), gatewayCallIds: [], worker: "w", createdAt: Sample.date(3))
                    #expect(try await records.commit(attempt) != nil)
                }
            }
            let fields = try await store.transaction { records in try await records.attemptFields(runId: run.id) }
            #expect(fields.scorers == ["match"] && fields.failureCauses == ["model", "sandbox"] && fields.metadataKeys == ["level"])

            var selections: [AttemptSelection] = AttemptSelection.Order.allCases.map { AttemptSelection(scorer: "match", order: $0) }
            selections += [
                AttemptSelection(status: "failed", scorer: "match"), AttemptSelection(failureCause: "sandbox", scorer: "match"),
                AttemptSelection(epoch: 2, scorer: "match", order: .scoreDescending),
                AttemptSelection(scorer: "match", minimumScore: 0, maximumScore: 0.5, order: .score),
                AttemptSelection(scorer: "match", metadataKey: "level", metadataValue: "ünïcode", order: .kept),
                AttemptSelection(scorer: "match", metadataKey: "level", metadataValue: "nowhere"),
            ]
            for word in Self.vocabulary where !word.contains("\u{0}") {
                selections.append(AttemptSelection(scorer: "match", text: word))
            }
            selections.append(AttemptSelection(scorer: "match", text: "alpha beta", order: .keptDescending))
            for selection in selections {
                let expected = Self.ordered(made.filter { Self.matches($0, selection) }, selection.order)
                #expect(try await Self.everyPage(of: run, selection, pages: 7, in: store) == expected, "\(selection)")
            }
            // The row carries the selected score and the failure's cause.
            let rows = try await store.transaction { records in
                try await records.attempts(runId: run.id, selection: AttemptSelection(scorer: "match"), after: nil, limit: 200)
            }
            for row in rows {
                let one = try #require(made.first { $0.key == SampleKey(sampleID: row.attempt.sampleId, epoch: row.attempt.epoch) })
                #expect(row.score == one.score && row.failureCause == one.cause && row.keptOrder == one.kept)
            }

            // A resumed run's failed results go, and with them what they were found by.
            try await store.transaction { records in try await records.removeFailedAttempts(runId: run.id) }
            for selection in [AttemptSelection(status: "failed"), AttemptSelection(text: "broke")] {
                #expect(try await store.transaction { records in try await records.attempts(runId: run.id, selection: selection, after: nil, limit: 10) }.isEmpty)
            }
        }
    }

    /// Results kept before the index existed are found once the server indexes them; one
    /// whose record cannot be read is indexed as having nothing, not retried forever.
    @Test(arguments: TestBackend.all)
    func resultsKeptBeforeTheIndexAreIndexedLater(backend: TestBackend) async throws {
        try await backend.withFreshStore { store in
            let run = try await Self.serverRun(planning: 3, in: store)
            let old = Made(key: SampleKey(sampleID: "old", epoch: 1), status: "scored", score: 0.25, cause: nil, level: "hard", words: "forgotten words", kept: 1)
            try await store.database.withSession { sql in
                for (sample, record, encoding) in [("old", try Self.record(old), "json"), ("broken", "12:AAAA", "gzip+base64")] {
                    try await sql.raw("""
                        INSERT INTO run_attempts (run_id, sample_id, epoch, status, record, record_encoding, gateway_calls, worker, created_at) \
                        VALUES (\(bind: run.id), \(bind: sample), 1, 'scored', \(bind: record), \(bind: encoding), '[]', 'w', 0)
                        """).run()
                }
            }
            let search = AttemptSelection(scorer: "match", text: "forgotten")
            #expect(try await store.transaction { try await $0.attempts(runId: run.id, selection: search, after: nil, limit: 10) }.isEmpty)
            #expect(try await store.transaction { try await $0.indexUnindexedAttempts(limit: 1) } == 1)
            #expect(try await store.transaction { try await $0.indexUnindexedAttempts(limit: 10) } == 1)
            #expect(try await store.transaction { try await $0.indexUnindexedAttempts(limit: 10) } == 0)
            let found = try await store.transaction { try await $0.attempts(runId: run.id, selection: search, after: nil, limit: 10) }
            #expect(found.map(\.attempt.sampleId) == ["old"] && found.first?.score == 0.25)
        }
    }

    @Test func factsAreBoundedAndSkipWhatIsNotAScalar() throws {
        let metadata = Dictionary(uniqueKeysWithValues: (0..<500).map { ("k\($0)", JSONValue.string(String(repeating: "v", count: 2000))) })
        let record = try JSONEncoder().encode(JSONValue.object([
            "metadata": .object(metadata.merging(["list": .array([.number(1)]), "nothing": .null]) { $1 }),
            "messages": .array([.object(["content": .string(String(repeating: "word ", count: 100_000))])]),
            "scores": .object(["s": .object(["value": .string("C")])]),
        ]))
        let facts = AttemptFacts(record: String(decoding: record, as: UTF8.self))
        #expect(facts.values.count == AttemptFacts.maximumMetadataFields)
        #expect(facts.values.allSatisfy { ($0.text?.count ?? 0) <= AttemptFacts.maximumValueLength && $0.field.hasPrefix("metadata:k") })
        #expect(facts.searchText.utf8.count <= AttemptFacts.maximumSearchBytes)
        #expect(AttemptFacts(record: "not json").values.isEmpty)
        #expect(AttemptFacts(record: "[1,2]").searchText.isEmpty)
    }
    /// A word in most transcripts (past the point where SQLite's search stops listing matches
    /// and looks each attempt up instead) and a rarer one page alike, in every order.
    @Test(arguments: TestBackend.all)
    func aCommonWordAndARareOnePageInOrder(backend: TestBackend) async throws {
        try await backend.withFreshStore { store in
            let count = ProgramRecords.searchListLimit + 300
            let run = try await Self.serverRun(planning: count, in: store)
            var made: [Made] = []
            for index in 0..<count {
                let words = (index.isMultiple(of: 10) ? "" : "common ") + (index.isMultiple(of: 7) ? "rare" : "other")
                made.append(
                    Made(
                        key: SampleKey(sampleID: String(format: "s%05d", (index * 7919) % count), epoch: 1), status: "scored", score: Double(index % 5),
                        cause: nil, level: "easy", words: words, kept: index + 1))
            }
            try await store.transaction { records in
                for item in made {
                    let attempt = StoredAttempt(
                        runId: run.id, sampleId: item.key.sampleID, epoch: 1, status: "scored", record: try Self.record(item), gatewayCallIds: [], worker: "w",
                        createdAt: Sample.date(3))
                    _ = try await records.commit(attempt)
                }
            }
            for word in ["common", "rare"] {
                for order in AttemptSelection.Order.allCases {
                    let selection = AttemptSelection(scorer: "match", text: word, order: order)
                    let expected = Self.ordered(made.filter { Self.matches($0, selection) }, order)
                    let seen = try await Self.everyPage(of: run, selection, pages: 500, in: store)
                    #expect(seen == expected, "\(word) \(order): \(seen.count) of \(expected.count)")
                }
            }
        }
    }
}
