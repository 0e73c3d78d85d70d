import AirlockCore
import AirlockQueue
import AirlockStore
import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// Runs on the program's workers, from the server's side: what is in the store and what is in
/// the queue kept in step. The store is the truth; the queue only carries attempts to workers,
/// so whatever the queue lost (a restart of the embedded queue, a purge) is published again
/// from the store (``requeueActiveRuns()``), and the queue drops what it already holds.
public struct ProgramRuns: Sendable {
    let store: ProgramStore
    let queue: any AttemptQueue
    let logger: Logger
    let now: @Sendable () -> Date
    /// Called after run keys were minted or revoked, so that a gateway in this process knows at once.
    let accessChanged: @Sendable () async -> Void
    /// Builds an ended run's results into its summary; none: the summary stays empty.
    let resultsBuilder: (any RunResultsBuilder)?
    /// Set when attempts could not be published (the queue was out of reach): the store holds
    /// them, and ``RunRequeueService`` publishes the active runs again until it succeeds.
    let requeueNeeded = RequeueFlag()

    public init(
        store: ProgramStore, queue: any AttemptQueue, logger: Logger, now: @escaping @Sendable () -> Date = Date.init,
        accessChanged: @escaping @Sendable () async -> Void = {}, resultsBuilder: (any RunResultsBuilder)? = nil
    ) {
        self.store = store
        self.queue = queue
        self.logger = logger
        self.now = now
        self.accessChanged = accessChanged
        self.resultsBuilder = resultsBuilder
    }

    /// Stores a run (queued) with the attempts it must make, then hands them to the queue.
    public func submit(_ run: StoredRun, attempts: [SampleKey]) async throws {
        try await store.transaction { records in try await Self.record(run, attempts: attempts, in: records) }
        try await publish(run, attempts)
    }

    /// Stores a run for the workers and its planned attempts, inside the caller's transaction;
    /// ``publishWaiting(runId:)`` hands them out once it is committed.
    static func record(_ run: StoredRun, attempts: [SampleKey], in records: ProgramRecords) async throws {
        guard let execution = run.execution, run.state == .queued, run.origin == .server else {
            throw ProgramRuleError(.invalidField, "a run for the program's workers is queued, from the server, with its execution", field: "execution")
        }
        try AttemptTicket.checkName(execution.pool, field: "pool")
        try await records.insert(run)
        try await records.insertPlannedAttempts(runId: run.id, attempts)
    }

    /// Publishes a run's attempts without a result (a repeat is dropped by the queue).
    public func publishWaiting(runId: String) async throws {
        let (run, waiting) = try await store.transaction { records in
            (try await records.run(id: runId), try await records.attemptsWithoutResult(runId: runId))
        }
        guard let run, run.state?.isActive == true else { return }
        try await publish(run, waiting)
    }

    /// Cancels a queued or running run: its waiting attempts leave the queue, its workers' keys
    /// are revoked, and workers end those they hold when they find the run cancelled. Whether
    /// it was cancelled now.
    public func cancel(runId: String) async throws -> Bool {
        let (moved, run) = try await store.transaction { records in
            var moved = try await records.moveRun(id: runId, from: .queued, to: .cancelled)
            if !moved { moved = try await records.moveRun(id: runId, from: .running, to: .cancelled) }
            if moved { try await revokeKeys(runId: runId, records) }
            return (moved, try await records.run(id: runId))
        }
        guard moved, let run else { return moved }
        // An assessment's suites are cancelled with it; a suite cancelled alone may end its assessment.
        for suiteRun in (run.execution?.suites ?? [:]).values { _ = try await cancel(runId: suiteRun) }
        await accessChanged()
        try await queue.removeWaiting(runID: runId)
        if let parent = run.execution?.assessment?.runId { await settleAssessment(runId: parent) }
        return true
    }

    /// Queues a failed or cancelled run again in its next round: its failed results are
    /// dropped, and the attempts without a result go back to the queue. Whether it was resumed now.
    public func resume(runId: String) async throws -> Bool {
        let (run, waiting) = try await store.transaction { records -> (StoredRun?, [SampleKey]) in
            var moved = try await records.moveRun(id: runId, from: .failed, to: .queued)
            if !moved { moved = try await records.moveRun(id: runId, from: .cancelled, to: .queued) }
            guard moved else { return (nil, []) }
            try await records.removeFailedAttempts(runId: runId)
            try await records.startNextRound(runId: runId)
            // The results of the round that ended no longer hold; the next end builds them anew.
            // (An assessment's summary is its plan, which its report is built on.)
            if try await records.run(id: runId)?.kind == "eval" { try await records.updateRunSummary(id: runId, .object([:])) }
            return (try await records.run(id: runId), try await records.attemptsWithoutResult(runId: runId))
        }
        guard let run else { return false }
        try await publish(run, waiting)
        // An assessment resumes the suites that did not finish; a suite resumed alone reopens its assessment.
        for suiteRun in (run.execution?.suites ?? [:]).values { _ = try await resume(runId: suiteRun) }
        if let parent = run.execution?.assessment?.runId {
            try await store.transaction { records in
                if try await !records.moveRun(id: parent, from: .failed, to: .queued) { _ = try await records.moveRun(id: parent, from: .cancelled, to: .queued) }
            }
        }
        return true
    }

    /// Publishes again the attempts without a result of every queued or running run: what a
    /// starting server does, since its queue may have lost them.
    public func requeueActiveRuns() async throws {
        let pending = try await store.transaction { records in
            var pending: [(StoredRun, [SampleKey])] = []
            for run in try await records.activeRuns() { pending.append((run, try await records.attemptsWithoutResult(runId: run.id))) }
            return pending
        }
        for (run, waiting) in pending where !waiting.isEmpty {
            if try await publish(run, waiting) {
                logger.info("requeued a run's attempts", metadata: ["run": "\(run.id)", "attempts": "\(waiting.count)"])
            }
        }
    }

    /// A grant key for a worker of an active run, minted now (named after the run, so that the
    /// run's end revokes it); nil when the run is not one the workers take attempts of. A run
    /// whose grant ended fails here.
    public func assign(runId: String, workerUserId: String?) async throws -> Assignment? {
        let assigned = try await store.transaction { records -> Assignment? in
            guard let run = try await records.run(id: runId), run.kind == "eval", run.state?.isActive == true, let execution = run.execution,
                let grant = try await records.grant(id: execution.grantId)
            else { return nil }
            let now = now()
            guard grant.status(at: now) == .active else {
                // No attempt can reach the model any more: the run fails (a new grant and a
                // resubmission go on from here), and its attempts leave the queue.
                logger.warning("the run's grant ended; the run fails", metadata: ["run": "\(run.id)", "grant_status": "\(grant.status(at: now).rawValue)"])
                if try await !records.moveRun(id: run.id, from: .queued, to: .failed) {
                    _ = try await records.moveRun(id: run.id, from: .running, to: .failed)
                }
                try await revokeKeys(runId: run.id, records)
                return nil
            }
            let secret = Identifier.secret("alg")
            let key = APIKey(
                id: Identifier.make("key"), kind: .grant, userId: workerUserId, grantId: grant.id, organisationId: run.organisationId,
                name: Self.keyName(runId: run.id), createdAt: now, expiresAt: grant.endsAt, revokedAt: nil)
            try await records.insert(key, secret: secret)
            var roleKeys: [String: String] = [:]
            for (role, sealed) in try await records.runRoleKeys(runId: run.id) {
                guard let sealer = store.sealer else { throw StoreError(.sealing, "the run's role keys are sealed, and this server has no credentials key") }
                roleKeys[role] = try sealer.open(sealed, context: Self.roleKeyContext(runId: run.id, role: role))
            }
            return Assignment(run: run, gatewayKey: secret, roleKeys: roleKeys)
        }
        // The gateway knows the key before the worker has it.
        await accessChanged()
        if assigned == nil { try? await queue.removeWaiting(runID: runId) }
        return assigned
    }

    /// A worker's assignment: the run, a grant key minted for it, and its role models' keys.
    public struct Assignment: Sendable {
        public var run: StoredRun
        public var gatewayKey: String
        public var roleKeys: [String: String]
    }

    /// What a role's key is sealed with: copied onto another run or role, it does not open.
    public static func roleKeyContext(runId: String, role: String) -> String { "run \(runId) role \(role)" }

    /// What a result's commit did.
    public struct CommitOutcome: Sendable, Hashable {
        /// Whether this result was kept (not when the attempt had one, or the run ended).
        public var kept: Bool
        /// The run's state after it.
        public var state: RunState?
        /// Whether this result ended the run (its workers' keys were revoked).
        public var ended: Bool
    }

    /// Keeps an attempt's result (the first one only) and moves the run on.
    public func commit(_ attempt: StoredAttempt, round: Int?) async throws -> CommitOutcome {
        let outcome = try await store.transaction { records in try await commit(attempt, round: round, in: records) }
        if outcome.ended { await ended(runId: attempt.runId) }
        return outcome
    }

    /// Keeps an attempt's result (the first one only) and moves the run on, inside the caller's
    /// transaction: running at its first result, finished when every planned attempt has a
    /// result (failed if any failed), its workers' keys revoked then; the caller calls
    /// ``ended(runId:)`` once it is committed if the run ended. A failed result of an
    /// earlier `round` is not kept: the run was resumed to make that attempt again.
    public func commit(_ attempt: StoredAttempt, round: Int?, parsed: JSONValue? = nil, in records: ProgramRecords) async throws -> CommitOutcome {
        guard let run = try await records.run(id: attempt.runId), let state = run.state, state.isActive, let execution = run.execution else {
            return CommitOutcome(kept: false, state: try await records.run(id: attempt.runId)?.state, ended: false)
        }
        guard try await records.isPlanned(runId: run.id, key: SampleKey(sampleID: attempt.sampleId, epoch: attempt.epoch)) else {
            throw ProgramRuleError(.invalidField, "the run planned no attempt \(attempt.sampleId) epoch \(attempt.epoch)", field: "sample_id")
        }
        if let round, round < execution.round, attempt.status != "scored" { return CommitOutcome(kept: false, state: state, ended: false) }
        guard let counts = try await records.commit(attempt, parsed: parsed) else { return CommitOutcome(kept: false, state: state, ended: false) }
        if state == .queued { _ = try await records.moveRun(id: run.id, from: .queued, to: .running) }
        guard counts.done >= execution.plannedAttempts else { return CommitOutcome(kept: true, state: .running, ended: false) }
        let end: RunState = counts.failed > 0 ? .failed : .finished
        _ = try await records.moveRun(id: run.id, from: .running, to: end)
        try await revokeKeys(runId: run.id, records)
        return CommitOutcome(kept: true, state: end, ended: true)
    }

    /// What follows a run's end, once it is committed: the gateway learns that the run's keys
    /// were revoked, and the run's results are built.
    public func ended(runId: String) async {
        await accessChanged()
        await buildResults(runId: runId)
        do {
            if let parent = try await store.transaction({ records in try await records.run(id: runId) })?.execution?.assessment?.runId {
                await settleAssessment(runId: parent)
            }
        } catch {
            logger.error("cannot read the run that ended", metadata: ["run": "\(runId)", "error": "\(error)"])
        }
    }

    /// Ends an assessment whose suites all ended: its report is built from their results and
    /// kept with its levels and its end state at once (cancelled if a suite was, failed if one
    /// failed, else finished), so an ended assessment always has its report. A failure is logged:
    /// a starting server settles the assessments left open.
    func settleAssessment(runId: String) async {
        do {
            guard let run = try await store.transaction({ records in try await records.run(id: runId) }), run.kind == "assessment",
                let state = run.state, state.isActive, let execution = run.execution
            else { return }
            let suiteRuns = try await store.transaction { records in
                var runs: [String: StoredRun] = [:]
                for (suite, id) in execution.suites ?? [:] { runs[suite] = try await records.run(id: id) }
                return runs
            }
            var suites: [String: StoredRun] = [:]
            for (suite, suiteRun) in suiteRuns {
                guard let suiteState = suiteRun.state, !suiteState.isActive else { return }
                // A suite's results are built just after its end; the last to end settles it.
                if suiteState != .cancelled, case .object(let summary) = suiteRun.summary, summary.isEmpty { return }
                suites[suite] = suiteRun
            }
            let states = suites.values.compactMap(\.state)
            let end: RunState = states.contains(.cancelled) ? .cancelled : states.contains(.failed) ? .failed : .finished
            var report = (summary: run.summary, levels: run.levels)
            if end != .cancelled, let resultsBuilder {
                guard let bundle = try await store.transaction({ records in try await records.bundle(sha256: execution.bundleDigest) }) else {
                    throw StoreError(.notFound, "the bundle \(execution.bundleDigest) of run \(runId)")
                }
                let store = store
                report = try await resultsBuilder.report(of: run, suites: suites, bundle: bundle) { suiteRun, after in
                    try await store.transaction { records in try await records.attempts(runId: suiteRun, after: after, limit: 500, records: true) }
                }
            }
            let moved = try await store.transaction { records in
                guard try await records.moveRun(id: runId, from: state, to: end) else { return false }
                try await records.updateRunReport(id: runId, summary: report.summary, levels: report.levels)
                return true
            }
            if moved { logger.info("the assessment ended", metadata: ["run": "\(runId)", "state": "\(end.rawValue)"]) }
        } catch {
            logger.error("cannot settle the assessment", metadata: ["run": "\(runId)", "error": "\(error)"])
        }
    }

    /// Builds an ended run's results into its summary. A failure is logged, not thrown: the
    /// run's results are kept either way, and a starting server builds what is missing.
    func buildResults(runId: String) async {
        guard let resultsBuilder else { return }
        do {
            guard let run = try await store.transaction({ records in try await records.run(id: runId) }),
                run.origin == .server, run.state == .finished || run.state == .failed, let digest = run.execution?.bundleDigest
            else { return }
            guard let bundle = try await store.transaction({ records in try await records.bundle(sha256: digest) }) else {
                throw StoreError(.notFound, "the bundle \(digest) of run \(runId)")
            }
            let store = store
            let summary = try await resultsBuilder.results(of: run, bundle: bundle) { after in
                try await store.transaction { records in try await records.attempts(runId: runId, after: after, limit: 500, records: true) }
            }
            try await store.transaction { records in try await records.updateRunSummary(id: runId, summary) }
            logger.info("built the run's results", metadata: ["run": "\(runId)"])
        } catch {
            logger.error("cannot build the run's results", metadata: ["run": "\(runId)", "error": "\(error)"])
        }
    }

    /// Indexes the results kept before results were indexed, a batch a transaction, for the
    /// sample lists' filters and search. A failure is logged: the next start goes on.
    func indexUnindexedAttempts() async {
        do {
            var indexed = 0
            while true {
                let batch = try await store.transaction { records in try await records.indexUnindexedAttempts(limit: 200) }
                guard batch > 0 else { break }
                indexed += batch
            }
            if indexed > 0 { logger.info("indexed the results kept before this version", metadata: ["results": "\(indexed)"]) }
        } catch {
            logger.error("cannot index the results kept before this version", metadata: ["error": "\(error)"])
        }
    }

    /// Builds the results of ended runs that have none (their server stopped first).
    func buildMissingResults() async {
        guard resultsBuilder != nil else { return }
        do {
            for run in try await store.transaction({ records in try await records.endedRunsWithoutResults() }) {
                await buildResults(runId: run.id)
            }
            for run in try await store.transaction({ records in try await records.activeRuns() }) where run.kind == "assessment" {
                await settleAssessment(runId: run.id)
            }
        } catch {
            logger.error("cannot list the ended runs without results", metadata: ["error": "\(error)"])
        }
    }

    /// The round a run takes attempts in; nil when it takes none (it ended, or is not there).
    public func activeRound(runId: String) async throws -> Int? {
        try await store.transaction { records in try await records.run(id: runId) }.flatMap(\.activeRound)
    }

    public func hasResult(runId: String, key: SampleKey) async throws -> Bool {
        try await store.transaction { records in try await records.attempt(runId: runId, key: key) != nil }
    }

    /// The run's bundle.
    public func bundle(runId: String) async throws -> Data? {
        try await store.transaction { records in
            guard let digest = try await records.run(id: runId)?.execution?.bundleDigest else { return nil }
            return try await records.bundle(sha256: digest)
        }
    }

    static func keyName(runId: String) -> String { "run \(runId)" }

    private func revokeKeys(runId: String, _ records: ProgramRecords) async throws {
        guard let grantId = try await records.run(id: runId)?.execution?.grantId else { return }
        try await records.revokeKeys(grantId: grantId, name: Self.keyName(runId: runId), at: now())
    }

    /// A run's evidence against the gateway's record: every call a sample names must be a
    /// call the gateway recorded under the run's grant.
    public struct EvidenceCheck: Sendable, Hashable {
        public var attempts: Int
        public var calls: Int
        /// Call ids samples name that the gateway has no record of under the run's grant.
        public var unrecorded: [String]
        public var holds: Bool { unrecorded.isEmpty }
    }

    public func checkEvidence(runId: String) async throws -> EvidenceCheck? {
        try await store.transaction { records in
            guard let run = try await records.run(id: runId), let grantId = run.execution?.grantId else { return nil }
            let attempts = try await records.attempts(runId: runId)  // without records: only the call ids
            let recorded = try await records.gatewayCallIds(grantId: grantId)
            let named = attempts.flatMap(\.gatewayCallIds)
            return EvidenceCheck(attempts: attempts.count, calls: named.count, unrecorded: named.filter { !recorded.contains($0) })
        }
    }

    /// Hands attempts to the queue. A queue out of reach is no error to the caller: the store
    /// holds the attempts, and the requeue service publishes them once the queue is back.
    /// Whether the queue took them.
    @discardableResult
    private func publish(_ run: StoredRun, _ attempts: [SampleKey]) async throws -> Bool {
        guard let execution = run.execution else { return false }
        do {
            try await queue.publish(attempts.map {
                AttemptTicket(runID: run.id, sampleID: $0.sampleID, epoch: $0.epoch, pool: execution.pool, round: execution.round)
            })
            return true
        } catch let error as QueueError where error.code == .transport {
            requeueNeeded.set()
            logger.warning("cannot queue a run's attempts now; they are queued again once the queue answers", metadata: ["run": "\(run.id)", "error": "\(error)"])
            return false
        }
    }
}

/// Whether a publish failed since the active runs were last queued again.
public final class RequeueFlag: Sendable {
    private let value = Atomic<Bool>(false)

    func set() { value.store(true, ordering: .releasing) }

    /// Whether it was set, clearing it.
    func take() -> Bool { value.exchange(false, ordering: .acquiringAndReleasing) }
}

/// Publishes the active runs' attempts without a result: once at start (a restarted server's
/// queue may have lost them: the embedded one always has), and again a moment after any publish
/// failed, until the queue takes them. The queue drops what it already holds. At start it also
/// builds the results of ended runs that have none.
public struct RunRequeueService: Service {
    let runs: ProgramRuns
    let retryInterval: Duration

    public init(runs: ProgramRuns, retryInterval: Duration = .seconds(5)) {
        self.runs = runs
        self.retryInterval = retryInterval
    }

    public func run() async throws {
        await runs.indexUnindexedAttempts()
        await runs.buildMissingResults()
        runs.requeueNeeded.set()
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                if runs.requeueNeeded.take() {
                    do {
                        try await runs.requeueActiveRuns()
                    } catch {
                        runs.requeueNeeded.set()
                        runs.logger.warning("cannot queue the active runs again yet", metadata: ["error": "\(error)"])
                    }
                }
                try? await Task.sleep(for: retryInterval)
            }
        }
    }
}
