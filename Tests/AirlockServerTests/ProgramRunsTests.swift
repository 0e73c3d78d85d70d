import AirlockCore
import AirlockQueue
@testable import AirlockServer
import AirlockStore
import AirlockTestSupport
import Foundation
import Logging
import Synchronization
import Testing

/// The store and the queue kept in step for runs on the program's workers, on both databases.
struct ProgramRunsTests {
    /// A version to run against, with its developer and an evaluator.
    static func world(_ store: ProgramStore) async throws -> (version: ModelVersion, evaluator: Organisation) {
        let now = Date(timeIntervalSince1970: 1_760_000_000)
        let developer = Organisation(id: Identifier.make("org"), name: "Developer", kind: .modelDeveloper, sector: nil, createdAt: now)
        let evaluator = Organisation(id: Identifier.make("org"), name: "Evaluator", kind: .evaluator, sector: nil, createdAt: now)
        let model = CoveredModel(id: Identifier.make("mdl"), developerId: developer.id, name: "alpha", description: "A model.", createdAt: now)
        let version = ModelVersion(
            id: Identifier.make("ver"), modelId: model.id, developerId: developer.id, version: "1.0", state: .inReview,
            noticedAt: now, plannedReleaseAt: now.addingTimeInterval(90 * 86_400), windowOpensAt: now, accessEndsBy: now.addingTimeInterval(100 * 86_400),
            lateNotice: false, capabilities: [], modelCard: "", endpointUrl: "https://models.example/v1", endpointModel: "alpha-1",
            hasEndpointCredentials: false, createdAt: now, updatedAt: now)
        try await store.transaction { records in
            try await records.insert(developer)
            try await records.insert(evaluator)
            try await records.insert(model)
            try await records.insert(version, sealedCredentials: nil)
        }
        return (version, evaluator)
    }

    static func run(on version: ModelVersion, by evaluator: Organisation, planned: Int) -> StoredRun {
        StoredRun(
            id: Identifier.make("run"), versionId: version.id, organisationId: evaluator.id, kind: "eval", name: "words", levels: [:], summary: .object([:]),
            createdAt: Date(), origin: .server, state: .queued,
            execution: RunExecution(bundleDigest: String(repeating: "0", count: 64), taskPath: "task.yaml", grantId: "gnt_X", pool: "default", plannedAttempts: planned))
    }

    /// An active grant of the evaluator on the version, made by a user of it.
    static func activeGrant(_ store: ProgramStore, _ version: ModelVersion, _ evaluator: Organisation) async throws -> AccessGrant {
        let user = User(id: Identifier.make("usr"), organisationId: evaluator.id, email: "e@evaluator.example", name: "E", role: .member, createdAt: Date())
        let now = Date()
        let grant = AccessGrant(
            id: Identifier.make("gnt"), versionId: version.id, granteeId: evaluator.id, purpose: .infrastructureDefence,
            startsAt: now.addingTimeInterval(-60), endsAt: now.addingTimeInterval(86_400), tokenQuota: 1_000, requestsPerMinute: 60,
            decisions: GrantDecisions(approvedAt: now, consentedAt: now, revokedAt: nil), createdBy: user.id, createdAt: now)
        try await store.transaction { records in
            try await records.insert(user, passwordHash: nil)
            try await records.insert(grant)
        }
        return grant
    }

    static func field(_ value: JSONValue?, _ key: String) -> JSONValue? { value?.objectValue?[key] }

    static func keys(_ count: Int) -> [SampleKey] { (1...count).map { SampleKey(sampleID: "s\($0)", epoch: 1) } }

    static func result(_ run: StoredRun, _ key: SampleKey, status: String = "scored", worker: String = "w") -> StoredAttempt {
        StoredAttempt(runId: run.id, sampleId: key.sampleID, epoch: key.epoch, status: status, record: "{}", gatewayCallIds: ["call_1"], worker: worker, createdAt: Date())
    }

    func takeAll(_ queue: EmbeddedAttemptQueue) async throws -> [String] {
        try await queue.take(pool: "default", limit: 100, wait: .milliseconds(50)).map(\.ticket.sampleID).sorted()
    }

    @Test(arguments: TestBackend.all)
    func aRunGoesFromQueuedToFinishedAndEachResultIsKeptOnce(backend: TestBackend) async throws {
        try await backend.withFreshStore { store in
            let (version, evaluator) = try await Self.world(store)
            let queue = EmbeddedAttemptQueue()
            let runs = ProgramRuns(store: store, queue: queue, logger: TestBackend.quietLogger)
            let run = Self.run(on: version, by: evaluator, planned: 3)
            try await runs.submit(run, attempts: Self.keys(3))
            #expect(try await takeAll(queue) == ["s1", "s2", "s3"])
            #expect(try await runs.commit(Self.result(run, Self.keys(3)[0]), round: 0).kept)
            #expect(try await store.transaction { try await $0.run(id: run.id)?.state } == .running)
            #expect(!(try await runs.commit(Self.result(run, Self.keys(3)[0], worker: "again"), round: 0).kept))
            for key in Self.keys(3).dropFirst() { #expect(try await runs.commit(Self.result(run, key), round: 0).kept) }
            #expect(try await store.transaction { try await $0.run(id: run.id)?.state } == .finished)
            #expect(try await store.transaction { try await $0.attempts(runId: run.id) }.map(\.worker) == ["w", "w", "w"])
            // A finished run takes no more results.
            #expect(!(try await runs.commit(Self.result(run, SampleKey(sampleID: "s9", epoch: 1)), round: 0).kept))
        }
    }

    @Test(arguments: TestBackend.all)
    func aFailedAttemptFailsTheRunAndResumingRunsItAgainInANewRound(backend: TestBackend) async throws {
        try await backend.withFreshStore { store in
            let (version, evaluator) = try await Self.world(store)
            let queue = EmbeddedAttemptQueue()
            let runs = ProgramRuns(store: store, queue: queue, logger: TestBackend.quietLogger)
            let run = Self.run(on: version, by: evaluator, planned: 2)
            try await runs.submit(run, attempts: Self.keys(2))
            _ = try await takeAll(queue)
            #expect(try await runs.commit(Self.result(run, Self.keys(2)[0], status: "failed"), round: 0).kept)
            #expect(try await runs.commit(Self.result(run, Self.keys(2)[1]), round: 0).kept)
            #expect(try await store.transaction { try await $0.run(id: run.id)?.state } == .failed)
            #expect(!(try await runs.cancel(runId: run.id)))
            #expect(try await runs.resume(runId: run.id))
            #expect(try await store.transaction { try await $0.run(id: run.id)?.state } == .queued)
            // The failed attempt runs again, in the run's next round; the scored one does not.
            let again = try await queue.take(pool: "default", limit: 100, wait: .milliseconds(50))
            #expect(again.map(\.ticket.sampleID) == [Self.keys(2)[0].sampleID] && again.allSatisfy { $0.ticket.round == 1 })
            // A worker of the first round, late, fails it again: that result is not kept, as the
            // resume asked for the attempt to be made again.
            #expect(!(try await runs.commit(Self.result(run, Self.keys(2)[0], status: "failed"), round: 0).kept))
            #expect(try await store.transaction { try await $0.attemptCounts(runId: run.id) } == RunAttemptCounts(done: 1, failed: 0))
            #expect(try await runs.commit(Self.result(run, Self.keys(2)[0]), round: 1).kept)
            #expect(try await store.transaction { try await $0.run(id: run.id)?.state } == .finished)
        }
    }

    /// Results committed all at once, as many workers do: the last of them ends the run. (On
    /// PostgreSQL, commits that each counted the results they could see missed each other's, and
    /// the run stayed running with every result kept.)
    @Test(arguments: TestBackend.all)
    func resultsCommittedAtOnceEndTheRun(backend: TestBackend) async throws {
        try await backend.withFreshStore { store in
            let (version, evaluator) = try await Self.world(store)
            let runs = ProgramRuns(store: store, queue: EmbeddedAttemptQueue(), logger: TestBackend.quietLogger)
            for _ in 0..<3 {
                let run = Self.run(on: version, by: evaluator, planned: 40)
                try await runs.submit(run, attempts: Self.keys(40))
                let states = try await withThrowingTaskGroup(of: RunState?.self) { group in
                    for key in Self.keys(40) { group.addTask { try await runs.commit(Self.result(run, key), round: 0).state } }
                    return try await group.reduce(into: [RunState?]()) { $0.append($1) }
                }
                #expect(states.filter { $0 == .finished }.count == 1)
                #expect(try await store.transaction { try await $0.run(id: run.id)?.state } == .finished)
                // Each result has its own place in the order kept.
                let orders = try await store.transaction { try await $0.attempts(runId: run.id, keptAfter: 0, limit: 100) }.map(\.keptOrder)
                #expect(orders == Array(1...40))
            }
        }
    }

    /// Counts what it is given: the run's bundle and its results, a page at a time.
    struct CountingResults: RunResultsBuilder {
        func results(of run: StoredRun, bundle: Data, attempts: RunAttemptPages) async throws -> JSONValue {
            var (count, pages, withRecords) = (0, 0, true)
            var after: SampleKey?
            while true {
                let page = try await attempts(after)
                guard let last = page.last else { break }
                (count, pages) = (count + page.count, pages + 1)
                withRecords = withRecords && page.allSatisfy { $0.record == "{}" }
                after = SampleKey(sampleID: last.sampleId, epoch: last.epoch)
            }
            return .object(["results": .number(Double(count)), "pages": .number(Double(pages)), "records": .bool(withRecords), "bundle": .number(Double(bundle.count))])
        }

        /// The suites' runs it was given and their states, as the report and a level.
        func report(of assessment: StoredRun, suites: [String: StoredRun], bundle: Data, attempts: @escaping RunAttemptPagesOfRun) async throws
            -> (summary: JSONValue, levels: [String: String])
        {
            let states = suites.mapValues { JSONValue.string($0.state?.rawValue ?? "") }
            return (.object(["suites": .object(states), "plan": assessment.summary]), ["domain": "\(suites.count) suites"])
        }
    }

    /// An ended run's results are built into its summary: at its end, or by a starting server
    /// when its predecessor stopped first; a resume empties them until the next end.
    @Test(arguments: TestBackend.all)
    func anEndedRunsResultsAreBuiltIntoItsSummary(backend: TestBackend) async throws {
        try await backend.withFreshStore { store in
            let (version, evaluator) = try await Self.world(store)
            let run = Self.run(on: version, by: evaluator, planned: 600)
            try await store.transaction { records in
                try await records.insertBundle(sha256: run.execution!.bundleDigest, organisationId: evaluator.id, content: Data(count: 1234), at: Date())
            }
            // A server without a builder: the run ends with an empty summary.
            let without = ProgramRuns(store: store, queue: EmbeddedAttemptQueue(), logger: TestBackend.quietLogger)
            try await without.submit(run, attempts: Self.keys(600))
            for key in Self.keys(600) { _ = try await without.commit(Self.result(run, key, status: key.sampleID == "s7" ? "failed" : "scored"), round: 0) }
            #expect(try await store.transaction { try await $0.run(id: run.id) }?.summary == .object([:]))
            // The next server builds it at start.
            let with = ProgramRuns(store: store, queue: EmbeddedAttemptQueue(), logger: TestBackend.quietLogger, resultsBuilder: CountingResults())
            await with.buildMissingResults()
            let built: JSONValue = .object(["results": .number(600), "pages": .number(2), "records": .bool(true), "bundle": .number(1234)])
            #expect(try await store.transaction { try await $0.run(id: run.id) }?.summary == built)
            // Resumed, its results are gone until it ends again, when they are built at once.
            #expect(try await with.resume(runId: run.id))
            #expect(try await store.transaction { try await $0.run(id: run.id) }?.summary == .object([:]))
            #expect(try await with.commit(Self.result(run, SampleKey(sampleID: "s7", epoch: 1)), round: 1).state == .finished)
            #expect(try await store.transaction { try await $0.run(id: run.id) }?.summary == built)
        }
    }

    /// An assessment is a run with a run per suite: it ends when its last suite ends, with the
    /// report and levels its builder makes from them (failed if a suite failed, cancelled with
    /// its suites); resumed, it resumes the suites that did not finish. No worker is assigned it.
    @Test(arguments: TestBackend.all)
    func anAssessmentEndsWithItsLastSuiteAndItsReport(backend: TestBackend) async throws {
        try await backend.withFreshStore { store in
            let (version, evaluator) = try await Self.world(store)
            let queue = EmbeddedAttemptQueue()
            let runs = ProgramRuns(store: store, queue: queue, logger: TestBackend.quietLogger, resultsBuilder: CountingResults())
            var assessment = Self.run(on: version, by: evaluator, planned: 3)
            assessment.kind = "assessment"
            assessment.summary = .object(["plan": .string("of the policy")])
            var first = Self.run(on: version, by: evaluator, planned: 2)
            first.execution?.assessment = RunSuiteLink(runId: assessment.id, suite: "first")
            var second = Self.run(on: version, by: evaluator, planned: 1)
            second.execution?.assessment = RunSuiteLink(runId: assessment.id, suite: "second")
            assessment.execution?.suites = ["first": first.id, "second": second.id]
            try await store.transaction { records in
                try await records.insertBundle(sha256: assessment.execution!.bundleDigest, organisationId: evaluator.id, content: Data(count: 10), at: Date())
                try await ProgramRuns.record(assessment, attempts: [], in: records)
                try await ProgramRuns.record(first, attempts: Self.keys(2), in: records)
                try await ProgramRuns.record(second, attempts: Self.keys(1), in: records)
            }
            #expect(try await runs.assign(runId: assessment.id, workerUserId: nil) == nil)
            func stored(_ run: StoredRun) async throws -> StoredRun? { try await store.transaction { try await $0.run(id: run.id) } }

            _ = try await runs.commit(Self.result(first, Self.keys(2)[0]), round: 0)
            _ = try await runs.commit(Self.result(first, Self.keys(2)[1], status: "failed"), round: 0)
            #expect(try await stored(first)?.state == .failed)
            #expect(try await stored(assessment)?.state == .queued)
            _ = try await runs.commit(Self.result(second, Self.keys(1)[0]), round: 0)
            let failed = try #require(try await stored(assessment))
            #expect(failed.state == .failed)
            #expect(failed.levels == ["domain": "2 suites"])
            #expect(Self.field(failed.summary, "suites") == .object(["first": .string("failed"), "second": .string("finished")]))
            #expect(Self.field(failed.summary, "plan") == .object(["plan": .string("of the policy")]))

            // Resumed: the failed suite runs again; the finished one stays as it is.
            #expect(try await runs.resume(runId: assessment.id))
            #expect(try await stored(assessment)?.state == .queued)
            #expect(try await stored(first)?.state == .queued)
            #expect(try await stored(second)?.state == .finished)
            _ = try await runs.commit(Self.result(first, Self.keys(2)[1]), round: 1)
            let finished = try #require(try await stored(assessment))
            #expect(finished.state == .finished)
            #expect(Self.field(finished.summary, "suites") == .object(["first": .string("finished"), "second": .string("finished")]))
            // The plan it was built from is the last report's, which holds it.
            #expect(Self.field(Self.field(finished.summary, "plan"), "plan") == .object(["plan": .string("of the policy")]))

            // Cancelled, its suites are too; a suite cancelled alone ends its assessment.
            var other = Self.run(on: version, by: evaluator, planned: 0)
            other.kind = "assessment"
            var suite = Self.run(on: version, by: evaluator, planned: 1)
            suite.execution?.assessment = RunSuiteLink(runId: other.id, suite: "only")
            other.execution?.suites = ["only": suite.id]
            try await store.transaction { records in
                try await ProgramRuns.record(other, attempts: [], in: records)
                try await ProgramRuns.record(suite, attempts: Self.keys(1), in: records)
            }
            #expect(try await runs.cancel(runId: other.id))
            #expect(try await stored(suite)?.state == .cancelled)
            #expect(try await runs.resume(runId: other.id))
            #expect(try await stored(suite)?.state == .queued)
            #expect(try await runs.cancel(runId: suite.id))
            #expect(try await stored(other)?.state == .cancelled)
        }
    }

    /// A role model's key is kept sealed apart from the run (which shows only that it has one),
    /// opened for the run's workers, and does not open for another run.
    @Test(arguments: TestBackend.all)
    func aRoleModelsKeyIsSealedAndOpenedOnlyForItsRunsWorkers(backend: TestBackend) async throws {
        try await backend.withFreshStore { store in
            let (version, evaluator) = try await Self.world(store)
            let runs = ProgramRuns(store: store, queue: EmbeddedAttemptQueue(), logger: TestBackend.quietLogger)
            let grant = try await Self.activeGrant(store, version, evaluator)
            var run = Self.run(on: version, by: evaluator, planned: 1)
            run.execution?.grantId = grant.id
            run.execution?.roles = ["grader": RunRole(model: "openai/judge", baseUrl: "https://judge.example/v1", keyed: true)]
            var other = run
            other.id = Identifier.make("run")
            let sealer = try #require(store.sealer)
            let sealed = try sealer.seal("sk-grader-secret", context: ProgramRuns.roleKeyContext(runId: run.id, role: "grader"))
            #expect(!sealed.contains("sk-grader-secret"))
            try await store.transaction { records in
                try await ProgramRuns.record(run, attempts: Self.keys(1), in: records)
                try await records.updateRunRoleKeys(runId: run.id, sealed: ["grader": sealed])
                // Copied onto another run, the sealed key does not open.
                try await ProgramRuns.record(other, attempts: Self.keys(1), in: records)
                try await records.updateRunRoleKeys(runId: other.id, sealed: ["grader": sealed])
            }
            let assignment = try #require(try await runs.assign(runId: run.id, workerUserId: nil))
            #expect(assignment.roleKeys == ["grader": "sk-grader-secret"])
            #expect(assignment.run.execution?.roles?["grader"]?.keyed == true)
            let shown = String(decoding: try JSONEncoder().encode(try await store.transaction { try await $0.run(id: run.id) }), as: UTF8.self)
            #expect(!shown.contains("sk-grader-secret") && !shown.contains(sealed))
            await #expect(throws: (any Error).self) { try await runs.assign(runId: other.id, workerUserId: nil) }
        }
    }

    /// A run whose grant ended (revoked, here) can reach the model no more: the first worker to
    /// ask for it finds it failed, its attempts out of the queue.
    @Test(arguments: TestBackend.all)
    func aRunWhoseGrantEndedFailsAtItsNextAssignment(backend: TestBackend) async throws {
        try await backend.withFreshStore { store in
            let (version, evaluator) = try await Self.world(store)
            let queue = EmbeddedAttemptQueue()
            let runs = ProgramRuns(store: store, queue: queue, logger: TestBackend.quietLogger)
            let grant = try await Self.activeGrant(store, version, evaluator)
            var run = Self.run(on: version, by: evaluator, planned: 2)
            run.execution?.grantId = grant.id
            try await runs.submit(run, attempts: Self.keys(2))
            #expect(try await runs.assign(runId: run.id, workerUserId: nil) != nil)
            var revoked = grant.decisions
            revoked.revokedAt = Date()
            try await store.transaction { records in try await records.updateDecisions(grantId: grant.id, revoked) }
            #expect(try await runs.assign(runId: run.id, workerUserId: nil) == nil)
            #expect(try await store.transaction { try await $0.run(id: run.id)?.state } == .failed)
            #expect(try await queue.take(pool: "default", limit: 10, wait: .milliseconds(50)).isEmpty)
        }
    }

    /// Every call a sample names must be on the gateway's record under the run's grant: one
    /// the gateway never recorded, or recorded under another grant, is named.
    @Test(arguments: TestBackend.all)
    func aRunsEvidenceIsCheckedAgainstTheGatewaysRecord(backend: TestBackend) async throws {
        try await backend.withFreshStore { store in
            let (version, evaluator) = try await Self.world(store)
            let runs = ProgramRuns(store: store, queue: EmbeddedAttemptQueue(), logger: TestBackend.quietLogger)
            let run = Self.run(on: version, by: evaluator, planned: 2)
            try await runs.submit(run, attempts: Self.keys(2))
            func call(_ id: String, grant: String) -> GatewayCallRecord {
                GatewayCallRecord(
                    callId: id, at: Date(), keyId: "key_X", userId: nil, organisationId: evaluator.id, grantId: grant, versionId: version.id,
                    route: "chat", status: 200, promptTokens: 1, completionTokens: 1, latencyMilliseconds: 1, streamed: false)
            }
            try await store.transaction { records in
                try await records.record([call("call_1", grant: "gnt_X"), call("call_2", grant: "gnt_X"), call("call_3", grant: "gnt_OTHER")])
            }
            var first = Self.result(run, Self.keys(2)[0])
            first.gatewayCallIds = ["call_1", "call_2"]
            #expect(try await runs.commit(first, round: 0).kept)
            #expect(try await runs.checkEvidence(runId: run.id) == .init(attempts: 1, calls: 2, unrecorded: []))
            var second = Self.result(run, Self.keys(2)[1])
            second.gatewayCallIds = ["call_3", "call_invented"]
            #expect(try await runs.commit(second, round: 0).kept)
            let check = try #require(try await runs.checkEvidence(runId: run.id))
            #expect(!check.holds && Set(check.unrecorded) == ["call_3", "call_invented"] && check.calls == 4)
        }
    }

    @Test(arguments: TestBackend.all)
    func cancellingEmptiesTheQueueAndAStartingServerRequeuesWhatWasLost(backend: TestBackend) async throws {
        try await backend.withFreshStore { store in
            let (version, evaluator) = try await Self.world(store)
            let first = EmbeddedAttemptQueue()
            let runs = ProgramRuns(store: store, queue: first, logger: TestBackend.quietLogger)
            let cancelled = Self.run(on: version, by: evaluator, planned: 2)
            let kept = Self.run(on: version, by: evaluator, planned: 3)
            try await runs.submit(cancelled, attempts: Self.keys(2))
            try await runs.submit(kept, attempts: Self.keys(3))
            #expect(try await runs.cancel(runId: cancelled.id))
            #expect(try await runs.commit(Self.result(kept, Self.keys(3)[0]), round: 0).kept)
            // The server restarts: its embedded queue is new and empty.
            let second = EmbeddedAttemptQueue()
            try await ProgramRuns(store: store, queue: second, logger: TestBackend.quietLogger).requeueActiveRuns()
            let requeued = try await second.take(pool: "default", limit: 100, wait: .milliseconds(50))
            #expect(requeued.map(\.ticket.runID).allSatisfy { $0 == kept.id })
            #expect(requeued.map(\.ticket.sampleID).sorted() == ["s2", "s3"])
            // A cancelled run can be resumed: its two attempts come back.
            #expect(try await runs.resume(runId: cancelled.id))
            #expect(try await first.take(pool: "default", limit: 100, wait: .milliseconds(50)).filter { $0.ticket.runID == cancelled.id }.count == 2)
        }
    }

    /// A queue out of reach while it is down: its publishes fail as NATS's would.
    final class OutageQueue: AttemptQueue, @unchecked Sendable {
        let inner = EmbeddedAttemptQueue()
        let down = Mutex(true)

        func publish(_ tickets: [AttemptTicket]) async throws {
            if down.withLock({ $0 }) { throw QueueError(.transport, "no connection to NATS") }
            try await inner.publish(tickets)
        }

        func take(pool: String, limit: Int, wait: Duration) async throws -> [LeasedAttempt] {
            try await inner.take(pool: pool, limit: limit, wait: wait)
        }

        func removeWaiting(runID: String) async throws { try await inner.removeWaiting(runID: runID) }
    }

    /// A run submitted while the queue is out of reach is kept, and its attempts are queued once
    /// the queue answers again: nothing is lost, and the submitter is not told it failed.
    @Test(arguments: TestBackend.all)
    func aRunSubmittedWhileTheQueueIsDownIsQueuedWhenItIsBack(backend: TestBackend) async throws {
        try await backend.withFreshStore { store in
            let (version, evaluator) = try await Self.world(store)
            let queue = OutageQueue()
            let runs = ProgramRuns(store: store, queue: queue, logger: TestBackend.quietLogger)
            let run = Self.run(on: version, by: evaluator, planned: 3)
            try await runs.submit(run, attempts: Self.keys(3))
            #expect(try await store.transaction { try await $0.run(id: run.id)?.state } == .queued)
            #expect(runs.requeueNeeded.take())
            #expect(try await takeAll(queue.inner).isEmpty)
            queue.down.withLock { $0 = false }
            try await runs.requeueActiveRuns()
            #expect(!runs.requeueNeeded.take())
            #expect(try await takeAll(queue.inner) == ["s1", "s2", "s3"])
        }
    }
}
