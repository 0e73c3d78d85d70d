import AirlockCore
import AirlockStore
import AirlockTestSupport
import Foundation
import SQLKit
import Testing

/// The audit log: a hash chain the database keeps append-only, and that verification checks
/// when someone goes around the database.
@Suite struct AuditTests {
    /// Appends `count` entries, one transaction each, and returns them as `appendAudit` gave them.
    private static func append(_ count: Int, to store: ProgramStore) async throws -> [AuditEntry] {
        var entries: [AuditEntry] = []
        for index in 1...count {
            let entry = try await store.transaction { records in
                try await records.appendAudit(
                    at: Sample.date(Int64(index) * 1000), actorUserId: "usr_\(index)", actorOrganisationId: index == 2 ? nil : "org_1",
                    action: "grant.approve", objectType: "grant", objectId: index == 3 ? nil : "gnt_\(index)",
                    detail: ["step": "\(index)", "note": "entry \(index)"])
            }
            entries.append(entry)
        }
        return entries
    }

    /// What a client sends cannot grow the append-only log without bound: each field is cut to
    /// its limit, between characters, with a marker; the chain still verifies.
    @Test func overLongFieldsAreCutWithAMarker() async throws {
        let huge = String(repeating: "é", count: 600_000)
        try await TestBackend.sqlite.withFreshStore { store in
            let entry = try await store.transaction { records in
                try await records.appendAudit(
                    at: Sample.date(1000), actorUserId: nil, actorOrganisationId: nil, action: "session.refused", objectType: "user",
                    objectId: huge, detail: ["email": huge, "short": "kept"])
            }
            let read = try #require(try JSONSerialization.jsonObject(with: Data(entry.detail.utf8)) as? [String: String])
            #expect(read["short"] == "kept")
            let email = try #require(read["email"])
            #expect(email.utf8.count <= AuditEvent.fieldLimit)
            let keptBytes = email.utf8.count - "…[cut \(huge.utf8.count) bytes]".utf8.count
            #expect(email.hasSuffix("…[cut \(huge.utf8.count - keptBytes) bytes]"), "\(email.suffix(40))")
            #expect(email.hasPrefix("éééé"))
            #expect(try #require(entry.objectId).utf8.count <= AuditEvent.fieldLimit)
            let stored = try await store.transaction { try await $0.auditEntries(after: 0, limit: 10) }
            #expect(stored.allSatisfy { $0.detail.utf8.count < 4 * AuditEvent.fieldLimit })
        }
    }

    /// Details are stored as JSON with sorted keys that reads back as written, whatever the text.
    @Test func detailsOfAnyTextReadBack() async throws {
        let detail = [
            "quote": #"say "hi" \ back"#, "lines": "one\ntwo\r\tthree", "control": "\u{01}\u{1F}", "unicode": "Zürich — 東京 🚀", "": "empty key",
        ]
        try await TestBackend.sqlite.withFreshStore { store in
            let entry = try await store.transaction { records in
                try await records.appendAudit(
                    at: Sample.date(1000), actorUserId: nil, actorOrganisationId: nil, action: "test.detail", objectType: "test", objectId: nil,
                    detail: detail)
            }
            let read = try JSONSerialization.jsonObject(with: Data(entry.detail.utf8)) as? [String: String]
            #expect(read == detail)
            #expect(entry.detail.hasPrefix(#"{"":"empty key","control":"\u0001\u001f","lines""#))
        }
    }

    @Test(arguments: TestBackend.all)
    func appendsChainFromGenesis(backend: TestBackend) async throws {
        try await backend.withFreshStore { store in
            try await store.transaction { records throws in
                #expect(try await records.verifyAudit() == .intact(entries: 0, head: AuditChain.genesis))
            }
            let appended = try await Self.append(5, to: store)
            #expect(appended.map(\.sequence) == [1, 2, 3, 4, 5])
            #expect(appended.first?.previousHash == AuditChain.genesis)
            for (previous, next) in zip(appended, appended.dropFirst()) {
                #expect(next.previousHash == previous.hash)
            }
            for entry in appended { #expect(entry.hash == AuditChain.expectedHash(of: entry)) }
            #expect(Set(appended.map(\.hash)).count == 5)

            try await store.transaction { records in
                let stored = try await records.auditEntries(after: 0, limit: 100)
                #expect(stored == appended)
                #expect(stored[1].actorOrganisationId == nil)
                #expect(stored[2].objectId == nil)
                #expect(stored[0].detail == #"{"note":"entry 1","step":"1"}"#)
                #expect(try await records.auditEntries(after: 2, limit: 2).map(\.sequence) == [3, 4])
                let head = try await records.auditHead()
                #expect(head.sequence == 5)
                #expect(head.hash == appended[4].hash)
                #expect(try await records.verifyAudit() == .intact(entries: 5, head: appended[4].hash))
            }
        }
    }

    @Test(arguments: TestBackend.all)
    func theDatabaseRefusesUpdateAndDelete(backend: TestBackend) async throws {
        try await backend.withFreshStore { store in
            let appended = try await Self.append(3, to: store)
            for statement: SQLQueryString in [
                "UPDATE audit_log SET detail = '{}' WHERE sequence = 2",
                "DELETE FROM audit_log WHERE sequence = 3",
                "DELETE FROM audit_log",
            ] {
                let error = await #expect(throws: (any Error).self, "\(statement)") {
                    try await store.database.transaction { sql in try await sql.raw(statement).run() }
                }
                // Refused by the trigger, not by anything else.
                #expect(error.map { String(reflecting: $0).contains("audit_log is append-only") } == true, "\(String(describing: error))")
            }
            try await store.transaction { records throws in
                #expect(try await records.auditEntries(after: 0, limit: 10) == appended)
                #expect(try await records.verifyAudit() == .intact(entries: 3, head: appended[2].hash))
            }
        }
    }

    /// What a malicious administrator does once the append-only triggers are gone.
    enum Tampering: String, CaseIterable, CustomStringConvertible {
        case editDetail, editDetailAndRehash, deleteMiddle, deleteLast, swapOrder

        var description: String { rawValue }

        /// The first entry verification must name (of five).
        var firstBadSequence: Int64 {
            switch self {
            case .editDetail: 3
            // The edited entry is self-consistent again; the next one no longer links to it.
            case .editDetailAndRehash: 4
            case .deleteMiddle: 3
            // Every stored entry links up, but the head says there was a fifth.
            case .deleteLast: 5
            case .swapOrder: 2
            }
        }

        func statements(_ entries: [AuditEntry]) -> [SQLQueryString] {
            switch self {
            case .editDetail:
                return [#"UPDATE audit_log SET detail = '{"note":"nothing to see"}' WHERE sequence = 3"#]
            case .editDetailAndRehash:
                var forged = entries[2]
                forged.detail = #"{"note":"nothing to see"}"#
                let hash = AuditChain.expectedHash(of: forged)
                return ["UPDATE audit_log SET detail = \(bind: forged.detail), hash = \(bind: hash) WHERE sequence = 3"]
            case .deleteMiddle:
                return ["DELETE FROM audit_log WHERE sequence = 3"]
            case .deleteLast:
                return ["DELETE FROM audit_log WHERE sequence = 5"]
            case .swapOrder:
                return [
                    "UPDATE audit_log SET sequence = -1 WHERE sequence = 2",
                    "UPDATE audit_log SET sequence = 2 WHERE sequence = 3",
                    "UPDATE audit_log SET sequence = 3 WHERE sequence = -1",
                ]
            }
        }
    }

    @Test(arguments: TestBackend.all, Tampering.allCases)
    func tamperingIsDetected(backend: TestBackend, tampering: Tampering) async throws {
        try await backend.withFreshStore { store in
            let appended = try await Self.append(5, to: store)
            try await store.transaction { records throws in
                #expect(try await records.verifyAudit() == .intact(entries: 5, head: appended[4].hash))
            }
            let dropTriggers: [SQLQueryString] = switch store.database.flavour {
            case .sqlite: ["DROP TRIGGER audit_log_no_update", "DROP TRIGGER audit_log_no_delete"]
            case .postgres: ["DROP TRIGGER audit_log_append_only ON audit_log"]
            }
            try await store.database.transaction { sql in
                for statement in dropTriggers + tampering.statements(appended) { try await sql.raw(statement).run() }
            }
            let verdict = try await store.transaction { records in try await records.verifyAudit() }
            guard case .tampered(let sequence, let reason) = verdict else {
                Issue.record("\(tampering) went unnoticed: \(verdict)")
                return
            }
            #expect(sequence == tampering.firstBadSequence, "\(reason)")
            #expect(!reason.isEmpty)
        }
    }

    @Test(arguments: TestBackend.all)
    func concurrentAppendsKeepOneChain(backend: TestBackend) async throws {
        try await backend.withFreshStore { store in
            try await withThrowingTaskGroup(of: AuditEntry.self) { group in
                for index in 0..<40 {
                    group.addTask {
                        try await store.transaction { records in
                            try await records.appendAudit(
                                at: Sample.date(Int64(index)), actorUserId: "usr_\(index)", actorOrganisationId: nil,
                                action: "version.read", objectType: "version", objectId: "ver_\(index)")
                        }
                    }
                }
                var sequences: [Int64] = []
                for try await entry in group { sequences.append(entry.sequence) }
                #expect(sequences.sorted() == Array(1...40))
            }
            try await store.transaction { records in
                let entries = try await records.auditEntries(after: 0, limit: 100)
                #expect(entries.map(\.sequence) == Array(1...40))
                #expect(Set(entries.compactMap(\.objectId)).count == 40)
                let head = try await records.auditHead()
                #expect(head.sequence == 40)
                #expect(try await records.verifyAudit() == .intact(entries: 40, head: head.hash))
            }
        }
    }
}

extension AuditTests {
    /// Details are JSON that reads back as written, whatever characters they hold.
    @Test func detailsAreFaithfulJSON() async throws {
        let detail = ["quote": "a \"b\" c", "slash": "\\ / \\\\", "lines": "one\ntwo\r\tthree", "control": "\u{01}\u{1F}", "text": "Zürich ✓ 漢字"]
        try await TestBackend.sqlite.withFreshStore { store in
            let entry = try await store.transaction { records in
                try await records.appendAudit(
                    at: Date(), actorUserId: nil, actorOrganisationId: nil, action: "test", objectType: "test", objectId: nil, detail: detail)
            }
            let decoded = try JSONDecoder().decode([String: String].self, from: Data(entry.detail.utf8))
            #expect(decoded == detail)
            #expect(try await store.transaction { try await $0.verifyAudit() } == .intact(entries: 1, head: entry.hash))
        }
    }
}
