import AirlockCore
import AirlockQueue
import AirlockStore
import Foundation
import Logging

/// Runs on the program's workers, from the server's side: what is in the store and what is in
/// the queue kept in step. The store is the truth; the queue only carries attempts to workers,
/// so whatever the queue lost (a restart of the embedded queue, a purge) is published again
/// from the store (``requeueActiveRuns()``), and the queue drops what it already holds.
public struct ProgramRuns: Sendable {
    let store: ProgramStore
    let queue: any AttemptQueue
    let logger: Logger

    public init(store: ProgramStore, queue: any AttemptQueue, logger: Logger) {
        self.store = store
        self.queue = queue
        self.logger = logger
    }

    /// Stores a run (queued) with the attempts it must make, then hands them to the queue.
    public func submit(_ run: StoredRun, attempts: [SampleKey]) async throws {
        guard let execution = run.execution, run.state == .queued, run.origin == .server else {
            throw ProgramRuleError(.invalidField, "a run for the program's workers is queued, from the server, with its execution", field: "execution")
        }
        try AttemptTicket.checkName(execution.pool, field: "pool")
        try await store.transaction { records in
            try await records.insert(run)
            try await records.insertPlannedAttempts(runId: run.id, attempts)
        }
        try await publish(run, attempts)
    }

    /// Cancels a queued or running run: its waiting attempts leave the queue, and workers end
    /// those they hold when they find the run cancelled. Whether it was cancelled now.
    public func cancel(runId: String) async throws -> Bool {
        let moved = try await store.transaction { records in
            if try await records.moveRun(id: runId, from: .queued, to: .cancelled) { return true }
            return try await records.moveRun(id: runId, from: .running, to: .cancelled)
        }
        if moved { try await queue.removeWaiting(runID: runId) }
        return moved
    }

    /// Queues a failed or cancelled run again: the attempts without a result go back to the
    /// queue. Whether it was resumed now.
    public func resume(runId: String) async throws -> Bool {
        let (run, waiting) = try await store.transaction { records -> (StoredRun?, [SampleKey]) in
            var moved = try await records.moveRun(id: runId, from: .failed, to: .queued)
            if !moved { moved = try await records.moveRun(id: runId, from: .cancelled, to: .queued) }
            guard moved else { return (nil, []) }
            return (try await records.run(id: runId), try await records.attemptsWithoutResult(runId: runId))
        }
        guard let run else { return false }
        try await publish(run, waiting)
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
            try await publish(run, waiting)
            logger.info("requeued a run's attempts", metadata: ["run": "\(run.id)", "attempts": "\(waiting.count)"])
        }
    }

    /// Keeps an attempt's result (the first one only) and moves the run on: running at its first
    /// result, finished when every planned attempt has a result (failed if any failed). Whether
    /// this result was kept.
    public func commit(_ attempt: StoredAttempt) async throws -> Bool {
        try await store.transaction { records in
            guard let run = try await records.run(id: attempt.runId), let state = run.state, state.isActive else { return false }
            guard try await records.commit(attempt) else { return false }
            if state == .queued { _ = try await records.moveRun(id: run.id, from: .queued, to: .running) }
            if try await records.attemptsWithoutResult(runId: run.id).isEmpty {
                let failed = try await records.attempts(runId: run.id).contains { $0.status != "scored" }
                _ = try await records.moveRun(id: run.id, from: .running, to: failed ? .failed : .finished)
            }
            return true
        }
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
            let attempts = try await records.attempts(runId: runId)
            let recorded = try await records.gatewayCallIds(grantId: grantId)
            let named = attempts.flatMap(\.gatewayCallIds)
            return EvidenceCheck(attempts: attempts.count, calls: named.count, unrecorded: named.filter { !recorded.contains($0) })
        }
    }

    private func publish(_ run: StoredRun, _ attempts: [SampleKey]) async throws {
        guard let pool = run.execution?.pool else { return }
        try await queue.publish(attempts.map { AttemptTicket(runID: run.id, sampleID: $0.sampleID, epoch: $0.epoch, pool: pool) })
    }
}
