import Foundation
import Synchronization

/// The queue of `airlock serve` alone: attempts in memory (an ``AttemptLedger``), handed to the
/// server's own in-process worker. It holds no state worth keeping: after a restart the server
/// publishes again every attempt of its unfinished runs that has no result in the store.
public final class EmbeddedAttemptQueue: AttemptQueue {
    private struct State {
        var ledger: AttemptLedger<ContinuousClock.Instant>
        /// Takers waiting for work, woken when attempts arrive.
        var waiters: [UInt64: CheckedContinuation<Void, Never>] = [:]
        var nextWaiter: UInt64 = 0
        /// Moves whenever attempts arrive or come back, so a taker that looked before cannot
        /// miss them by going to sleep after.
        var version: UInt64 = 0
    }

    private let state: Mutex<State>

    /// `leaseTime`: how long a taken attempt is held without an in-progress settlement before
    /// it is handed out again.
    public init(leaseTime: Duration = .seconds(30)) {
        state = Mutex(State(ledger: AttemptLedger(leaseTime: leaseTime)))
    }

    public func publish(_ tickets: [AttemptTicket]) async throws {
        for ticket in tickets {
            try AttemptTicket.checkName(ticket.pool, field: "pool")
        }
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            let now = ContinuousClock.now
            for ticket in tickets { _ = state.ledger.add(ticket, now: now) }
            state.version += 1
            defer { state.waiters = [:] }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter.resume() }
    }

    public func take(pool: String, limit: Int, wait: Duration) async throws -> [LeasedAttempt] {
        try AttemptTicket.checkName(pool, field: "pool")
        let deadline = ContinuousClock.now + wait
        while true {
            try Task.checkCancellation()
            let (leases, nextDue, version) = state.withLock { state in
                (state.ledger.lease(pool: pool, limit: limit, now: .now), state.ledger.nextDue(pool: pool), state.version)
            }
            if !leases.isEmpty { return leases.map(leased) }
            let now = ContinuousClock.now
            guard now < deadline else { return [] }
            await sleep(until: min(deadline, nextDue.map { max($0, now) } ?? deadline), unlessVersionMovedFrom: version)
        }
    }

    public func removeWaiting(runID: String) async throws {
        _ = state.withLock { $0.ledger.removeWaiting(runID: runID) }
    }

    private func leased(_ lease: AttemptLedger<ContinuousClock.Instant>.Lease) -> LeasedAttempt {
        LeasedAttempt(ticket: lease.ticket, deliveries: lease.deliveries) { [weak self] settlement in
            guard let self else { throw QueueError(.closed, "the queue is gone") }
            let waiters = self.state.withLock { state -> [CheckedContinuation<Void, Never>] in
                _ = state.ledger.settle(lease, settlement, now: .now)
                guard case .retry = settlement else { return [] }
                state.version += 1
                defer { state.waiters = [:] }
                return Array(state.waiters.values)
            }
            for waiter in waiters { waiter.resume() }
        }
    }

    /// Sleeps until `instant`, or until attempts arrive (or arrived since `version` was read),
    /// or the task is cancelled.
    private func sleep(until instant: ContinuousClock.Instant, unlessVersionMovedFrom version: UInt64) async {
        let id = state.withLock { state -> UInt64 in
            defer { state.nextWaiter += 1 }
            return state.nextWaiter
        }
        let wake: @Sendable () -> Void = { [weak self] in
            let waiter = self?.state.withLock { $0.waiters.removeValue(forKey: id) }
            waiter?.resume()
        }
        let timer = Task {
            try? await Task.sleep(until: instant, clock: .continuous)
            wake()
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let moved = state.withLock { state -> Bool in
                    state.waiters[id] = continuation
                    return state.version != version
                }
                if moved || Task.isCancelled || ContinuousClock.now >= instant { wake() }
            }
        } onCancel: {
            wake()
        }
        timer.cancel()
    }
}
