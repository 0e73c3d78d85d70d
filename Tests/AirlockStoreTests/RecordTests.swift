import AirlockCore
import AirlockStore
import AirlockTestSupport
import CompressNIO
import Foundation
import NIOCore
import SQLKit
import Testing

/// Each record kind: written, read back equal, and listed a page at a time.
@Suite struct RecordTests {
    @Test(arguments: TestBackend.all)
    func organisations(backend: TestBackend) async throws {
        try await backend.withFreshStore { store in
            let organisations = (0..<7).map { index in
                Sample.organisation(
                    "Operator \(index)", kind: .infrastructureOperator, sector: index.isMultiple(of: 2) ? .payments : nil,
                    at: Int64(index))
            }
            try await store.transaction { records in
                for organisation in organisations { try await records.insert(organisation) }
            }
            try await store.transaction { records in
                for organisation in organisations { #expect(try await records.organisation(id: organisation.id) == organisation) }
                #expect(try await records.organisation(id: "org_missing") == nil)
                let pages = try await allPages(limit: 3) { try await records.organisations(after: $0, limit: 3) }
                expectPagesOfSeven(pages, ids: organisations.map(\.id))
            }
        }
    }

    @Test(arguments: TestBackend.all)
    func users(backend: TestBackend) async throws {
        try await backend.withFreshStore { store in
            let organisation = Sample.organisation("Developer")
            let other = Sample.organisation("Other Developer")
            let users = (0..<7).map { Sample.user("person\($0)@developer.example", in: organisation, role: .viewer) }
            let stranger = Sample.user("stranger@other.example", in: other)
            try await store.transaction { records in
                try await records.insert(organisation)
                try await records.insert(other)
                for user in users { try await records.insert(user, passwordHash: "hash of \(user.email)") }
                try await records.insert(stranger, passwordHash: nil)
            }
            try await store.transaction { records in
                for user in users { #expect(try await records.user(id: user.id) == user) }
                let signIn = try #require(try await records.users(email: users[2].email).first)
                #expect(signIn.user == users[2])
                #expect(signIn.passwordHash == "hash of \(users[2].email)")
                let strangerSignIn = try #require(try await records.users(email: stranger.email).first)
                #expect(strangerSignIn.passwordHash == nil)
                #expect(try await records.users(email: "nobody@example.org").isEmpty)
                // Only the organisation's own users, not the stranger.
                let pages = try await allPages(limit: 3) {
                    try await records.users(organisationId: organisation.id, after: $0, limit: 3)
                }
                expectPagesOfSeven(pages, ids: users.map(\.id))
            }
        }
    }

    @Test(arguments: TestBackend.all)
    func commitments(backend: TestBackend) async throws {
        try await backend.withFreshStore { store in
            let developer = Sample.organisation("Developer")
            let other = Sample.organisation("Other Developer")
            let signer = Sample.user("ceo@developer.example", in: developer, role: .admin)
            let otherSigner = Sample.user("ceo@other.example", in: other, role: .admin)
            // The first ends ten days in; the rest stand.
            let commitments = (0..<7).map { Sample.commitment(developer, signedBy: signer, until: $0 == 0 ? 10 * Sample.day : nil) }
            let othersCommitment = Sample.commitment(other, signedBy: otherSigner, until: Sample.day)
            try await store.transaction { records in
                try await records.insert(developer)
                try await records.insert(other)
                try await records.insert(signer, passwordHash: nil)
                try await records.insert(otherSigner, passwordHash: nil)
                for commitment in commitments + [othersCommitment] { try await records.insert(commitment) }
            }
            try await store.transaction { records in
                for commitment in commitments { #expect(try await records.commitment(id: commitment.id) == commitment) }
                let pages = try await allPages(limit: 3) {
                    try await records.commitments(visibleTo: .organisation(developer.id), after: $0, limit: 3)
                }
                expectPagesOfSeven(pages, ids: commitments.map(\.id))
                let everything = try await allPages(limit: 3) { try await records.commitments(visibleTo: .all, after: $0, limit: 3) }
                #expect(Set(everything.flatMap(\.items).map(\.id)) == Set((commitments + [othersCommitment]).map(\.id)))
                #expect(try await records.hasCommitment(organisationId: other.id, at: Sample.date(Sample.day / 2)))
                #expect(try await records.hasCommitment(organisationId: other.id, at: Sample.date(Sample.day)) == false)
                #expect(try await records.hasCommitment(organisationId: other.id, at: Sample.date(-1)) == false)
            }
        }
    }

    @Test(arguments: TestBackend.all)
    func models(backend: TestBackend) async throws {
        try await backend.withFreshStore { store in
            let developer = Sample.organisation("Developer")
            let models = (0..<7).map { Sample.model("model-\($0)", of: developer) }
            try await store.transaction { records in
                try await records.insert(developer)
                for model in models { try await records.insert(model) }
            }
            try await store.transaction { records in
                for model in models { #expect(try await records.model(id: model.id) == model) }
                let pages = try await allPages(limit: 3) { try await records.models(visibleTo: .all, after: $0, limit: 3) }
                expectPagesOfSeven(pages, ids: models.map(\.id))
            }
        }
    }

    @Test(arguments: TestBackend.all)
    func versions(backend: TestBackend) async throws {
        try await backend.withFreshStore { store in
            let developer = Sample.organisation("Developer")
            let model = Sample.model("alpha", of: developer)
            let otherModel = Sample.model("beta", of: developer)
            var versions = (0..<7).map { Sample.version("1.\($0)", of: model) }
            versions[3].lateNotice = true
            versions[4].endpointUrl = nil
            versions[4].endpointModel = nil
            let otherVersion = Sample.version("1.0", of: otherModel)
            try await store.transaction { records in
                try await records.insert(developer)
                try await records.insert(model)
                try await records.insert(otherModel)
                for version in versions + [otherVersion] { try await records.insert(version, sealedCredentials: nil) }
            }
            try await store.transaction { records in
                for version in versions { #expect(try await records.version(id: version.id) == version) }
                let pages = try await allPages(limit: 3) {
                    try await records.versions(modelId: model.id, visibleTo: .all, after: $0, limit: 3)
                }
                expectPagesOfSeven(pages, ids: versions.map(\.id))

                try await records.updateState(versionId: versions[0].id, to: .inReview, at: Sample.date(50))
                var expected = versions[0]
                expected.state = .inReview
                expected.updatedAt = Sample.date(50)
                #expect(try await records.version(id: versions[0].id) == expected)
            }
        }
    }

    @Test(arguments: TestBackend.all)
    func grants(backend: TestBackend) async throws {
        try await backend.withFreshStore { store in
            let developer = Sample.organisation("Developer")
            let office = Sample.organisation("Office", kind: .programOffice)
            let grantee = Sample.organisation("Grantee", kind: .evaluator)
            let officer = Sample.user("officer@office.example", in: office)
            let model = Sample.model("alpha", of: developer)
            let version = Sample.version("1.0", of: model)
            let otherVersion = Sample.version("2.0", of: model)
            var grants = (0..<7).map { _ in Sample.grant(to: grantee, on: version, createdBy: officer) }
            grants[1].decisions = GrantDecisions()
            grants[2].decisions = GrantDecisions(approvedAt: Sample.date(20))
            let otherGrant = Sample.grant(to: grantee, on: otherVersion, createdBy: officer)
            try await store.transaction { records in
                for organisation in [developer, office, grantee] { try await records.insert(organisation) }
                try await records.insert(officer, passwordHash: nil)
                try await records.insert(model)
                try await records.insert(version, sealedCredentials: nil)
                try await records.insert(otherVersion, sealedCredentials: nil)
                for grant in grants + [otherGrant] { try await records.insert(grant) }
            }
            try await store.transaction { records in
                for grant in grants { #expect(try await records.grant(id: grant.id) == grant) }
                let pages = try await allPages(limit: 3) {
                    try await records.grants(versionId: version.id, visibleTo: .all, after: $0, limit: 3)
                }
                expectPagesOfSeven(pages, ids: grants.map(\.id))

                var decisions = grants[1].decisions
                try decisions.approve(at: Sample.date(30))
                try decisions.consent(at: Sample.date(31))
                try await records.updateDecisions(grantId: grants[1].id, decisions)
                #expect(try await records.grant(id: grants[1].id)?.decisions == decisions)
                #expect(try await records.grant(id: grants[1].id)?.status(at: Sample.date(2 * Sample.day)) == .active)
            }
        }
    }

    @Test(arguments: TestBackend.all)
    func runs(backend: TestBackend) async throws {
        try await backend.withFreshStore { store in
            let developer = Sample.organisation("Developer")
            let evaluator = Sample.organisation("Evaluator", kind: .evaluator)
            let model = Sample.model("alpha", of: developer)
            let version = Sample.version("1.0", of: model)
            let otherVersion = Sample.version("2.0", of: model)
            let runs = (0..<7).map { Sample.run("task-\($0)", on: version, by: evaluator, source: $0 == 0 ? nil : "source-\($0)") }
            let otherRun = Sample.run("elsewhere", on: otherVersion, by: evaluator, source: "source-1")
            try await store.transaction { records in
                try await records.insert(developer)
                try await records.insert(evaluator)
                try await records.insert(model)
                try await records.insert(version, sealedCredentials: nil)
                try await records.insert(otherVersion, sealedCredentials: nil)
                for run in runs + [otherRun] { try await records.insert(run) }
            }
            try await store.transaction { records in
                for run in runs { #expect(try await records.run(id: run.id) == run) }
                let pages = try await allPages(limit: 3) { try await records.runs(versionId: version.id, after: $0, limit: 3) }
                expectPagesOfSeven(pages, ids: runs.map(\.id))
            }
        }
    }

    /// A run on the program's workers: its state moves only as the rules allow and only from
    /// where it is; its bundle is kept once; each attempt's result is kept once, the first.
    @Test(arguments: TestBackend.all)
    func serverRunsBundlesAndAttempts(backend: TestBackend) async throws {
        try await backend.withFreshStore { store in
            let developer = Sample.organisation("Developer")
            let evaluator = Sample.organisation("Evaluator", kind: .evaluator)
            let model = Sample.model("alpha", of: developer)
            let version = Sample.version("1.0", of: model)
            var run = Sample.run("server-run", on: version, by: evaluator)
            run.origin = .server
            run.state = .queued
            run.execution = RunExecution(bundleDigest: String(repeating: "ab", count: 32), taskPath: "task.yaml", grantId: "gnt_X", pool: "default", plannedAttempts: 4)
            let imported = Sample.run("imported", on: version, by: evaluator, source: "s1")
            let bundle = Data((0..<2000).map { UInt8(truncatingIfNeeded: $0) })
            try await store.transaction { records in
                try await records.insert(developer)
                try await records.insert(evaluator)
                try await records.insert(model)
                try await records.insert(version, sealedCredentials: nil)
                try await records.insert(run)
                try await records.insert(imported)
                try await records.insertBundle(sha256: run.execution!.bundleDigest, organisationId: evaluator.id, content: bundle, at: Sample.date(1))
                try await records.insertBundle(sha256: run.execution!.bundleDigest, organisationId: evaluator.id, content: bundle, at: Sample.date(2))
            }
            try await store.transaction { records throws in
                #expect(try await records.run(id: run.id) == run)
                #expect(try await records.run(id: imported.id)?.origin == .imported)
                #expect(try await records.bundle(sha256: run.execution!.bundleDigest) == bundle)
                #expect(try await records.bundle(sha256: String(repeating: "0", count: 64)) == nil)
                #expect(try await records.activeRuns().map(\.id) == [run.id])
                #expect(try await records.moveRun(id: run.id, from: .queued, to: .running))
                #expect(!(try await records.moveRun(id: run.id, from: .queued, to: .running)))
                #expect(!(try await records.moveRun(id: run.id, from: .running, to: .queued)))
                #expect(try await records.run(id: run.id)?.state == .running)
            }
            let first = StoredAttempt(runId: run.id, sampleId: "s1", epoch: 1, status: "scored", record: #"{"sample_id":"s1"}"#, gatewayCallIds: ["call_a", "call_b"], worker: "w1", createdAt: Sample.date(3))
            var again = first
            again.worker = "w2"
            again.record = #"{"sample_id":"s1","again":true}"#
            try await store.transaction { records throws in
                #expect(try await records.commit(first) == RunAttemptCounts(done: 1, failed: 0))
                #expect(try await records.commit(again) == nil)
                // The transaction is still good after the refused second result.
                let failed = StoredAttempt(runId: run.id, sampleId: "s0", epoch: 2, status: "failed", record: "{}", gatewayCallIds: [], worker: "w2", createdAt: Sample.date(4))
                #expect(try await records.commit(failed) == RunAttemptCounts(done: 2, failed: 1))
                #expect(try await records.attemptCounts(runId: run.id) == RunAttemptCounts(done: 2, failed: 1))
            }
            try await store.transaction { records in
                let kept = try await records.attempts(runId: run.id, records: true)
                #expect(kept.map { "\($0.sampleId)/\($0.epoch)" } == ["s0/2", "s1/1"])
                #expect(kept.last == first)
                // A list leaves the records out.
                #expect(try await records.attempts(runId: run.id).allSatisfy { $0.record.isEmpty && !$0.worker.isEmpty })
                // In the order kept (s1, then s0), from any place.
                #expect(try await records.attempts(runId: run.id, keptAfter: 0, limit: 10).map { "\($0.keptOrder):\($0.attempt.sampleId)" } == ["1:s1", "2:s0"])
                #expect(try await records.attempts(runId: run.id, keptAfter: 1, limit: 10).map(\.attempt.sampleId) == ["s0"])
                #expect(try await records.attempts(runId: run.id, keptAfter: 0, limit: 1).map(\.attempt.sampleId) == ["s1"])
                #expect(try await records.moveRun(id: run.id, from: .running, to: .finished))
                #expect(try await records.activeRuns().isEmpty)
            }
        }
    }

    /// A large record (an agentic transcript) is kept compressed and read back as it came; one
    /// whose stored form was damaged, or expands without end, is named as corrupt.
    @Test(arguments: TestBackend.all)
    func largeRecordsAreKeptCompressed(backend: TestBackend) async throws {
        try await backend.withFreshStore { store in
            let developer = Sample.organisation("Developer")
            let model = Sample.model("alpha", of: developer)
            let version = Sample.version("1.0", of: model)
            var run = Sample.run("server-run", on: version, by: developer)
            run.origin = .server
            run.state = .running
            run.execution = RunExecution(bundleDigest: String(repeating: "ab", count: 32), taskPath: "task.yaml", grantId: "gnt_X", pool: "default", plannedAttempts: 3)
            // A transcript's worth of turns, with non-ASCII text, about 200 KB.
            let turns = (0..<2000).map { #"{"role":"assistant","content":"étape \#($0): ls -la /srv → 权限"}"# }
            let large = #"{"sample_id":"s1","messages":["# + turns.joined(separator: ",") + "]}"
            let small = #"{"sample_id":"s2"}"#
            func attempt(_ sample: String, _ record: String) -> StoredAttempt {
                StoredAttempt(runId: run.id, sampleId: sample, epoch: 1, status: "scored", record: record, gatewayCallIds: [], worker: "w", createdAt: Sample.date(3))
            }
            try await store.transaction { records in
                try await records.insert(developer)
                try await records.insert(model)
                try await records.insert(version, sealedCredentials: nil)
                try await records.insert(run)
                _ = try await records.commit(attempt("s1", large))
                _ = try await records.commit(attempt("s2", small))
            }
            try await store.transaction { records throws in
                #expect(try await records.attempt(runId: run.id, key: SampleKey(sampleID: "s1", epoch: 1))?.record == large)
                #expect(try await records.attempts(runId: run.id, records: true).map(\.record) == [large, small])
            }
            let stored = try await store.database.withSession { sql in
                try await sql.raw("SELECT sample_id, record_encoding, length(record) AS size FROM run_attempts ORDER BY sample_id").all().map {
                    (try $0.decode(column: "record_encoding", as: String.self), try $0.decode(column: "size", as: Int.self))
                }
            }
            #expect(stored.map(\.0) == ["gzip+base64", "json"])
            #expect(stored[0].1 * 5 < large.utf8.count, "kept in \(stored[0].1) characters for \(large.utf8.count) bytes")

            // Damaged: no length, not base64, bytes that are no gzip stream, a stream cut short,
            // a length past the limit, and a bomb that says it is small.
            let keptText = try await store.database.withSession { sql in
                try await sql.raw("SELECT record FROM run_attempts WHERE sample_id = 's1'").first()!.decode(column: "record", as: String.self)
            }
            let (length, base64) = (keptText.prefix { $0 != ":" }, keptText.drop { $0 != ":" }.dropFirst())
            let cut = Data(base64Encoded: String(base64))!.prefix(1000).base64EncodedString()
            var bomb = ByteBuffer(repeating: UInt8(ascii: " "), count: 80 * 1024 * 1024)
            let bombText = Data(try bomb.compress(with: .gzip()).readableBytesView).base64EncodedString()
            let damages = [
                String(base64), "\(length):not base64 at all!", "\(length):" + Data("plain bytes, no gzip".utf8).base64EncodedString(), "\(length):\(cut)",
                "99999999999:\(base64)", "1000:\(bombText)",
            ]
            for damaged in damages {
                try await store.database.withSession { sql in
                    try await sql.raw("UPDATE run_attempts SET record = \(bind: damaged) WHERE sample_id = 's1'").run()
                }
                await #expect(throws: StoreError.self) {
                    try await store.transaction { records in try await records.attempt(runId: run.id, key: SampleKey(sampleID: "s1", epoch: 1)) }
                }
            }
        }
    }

    @Test(arguments: TestBackend.all)
    func aLimitAtTheCountGivesOnePageWithoutCursor(backend: TestBackend) async throws {
        try await backend.withFreshStore { store in
            let organisations = (0..<3).map { Sample.organisation("Organisation \($0)") }
            try await store.transaction { records in
                for organisation in organisations { try await records.insert(organisation) }
                let page = try await records.organisations(after: nil, limit: 3)
                #expect(page.items.map(\.id) == organisations.map(\.id).sorted())
                #expect(page.nextCursor == nil)
                let empty = try await records.organisations(after: page.items.last?.id, limit: 3)
                #expect(empty.items.isEmpty)
                #expect(empty.nextCursor == nil)
            }
        }
    }
}
