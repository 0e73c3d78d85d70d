/// The embedded queue's state, pure: which attempts wait (from when), which are leased (to
/// which lease, until when), and how often each was handed out. Time comes in as an argument,
/// so every rule is tested without a clock.
struct AttemptLedger<Instant: InstantProtocol & Sendable>: Sendable where Instant.Duration == Duration {
    struct Lease: Hashable, Sendable {
        var ticket: AttemptTicket
        var deliveries: Int
        /// Names this handing-out: a settlement for an earlier one (its lease ran out and the
        /// attempt went to another worker) changes nothing.
        var token: UInt64
    }

    private enum State: Sendable {
        case waiting(since: Instant)
        case leased(token: UInt64, until: Instant)
    }

    private struct Entry: Sendable {
        var ticket: AttemptTicket
        var state: State
        var deliveries: Int
        /// Order of arrival, kept when an attempt comes back.
        var order: UInt64
    }

    private var entries: [String: Entry] = [:]
    private var nextOrder: UInt64 = 0
    private var nextToken: UInt64 = 1
    let leaseTime: Duration

    init(leaseTime: Duration) { self.leaseTime = leaseTime }

    /// Adds an attempt unless one of its id is waiting or leased; whether it was added.
    mutating func add(_ ticket: AttemptTicket, now: Instant) -> Bool {
        guard entries[ticket.id] == nil else { return false }
        entries[ticket.id] = Entry(ticket: ticket, state: .waiting(since: now), deliveries: 0, order: nextOrder)
        nextOrder += 1
        return true
    }

    /// Hands out up to `limit` attempts of `pool` that are due, oldest first: those waiting and
    /// those whose lease ran out.
    mutating func lease(pool: String, limit: Int, now: Instant) -> [Lease] {
        let due = entries.values.filter { entry in
            guard entry.ticket.pool == pool else { return false }
            switch entry.state {
            case .waiting(let since): return since <= now
            case .leased(_, let until): return until <= now
            }
        }.sorted { $0.order < $1.order }.prefix(max(0, limit))
        return due.map { entry in
            let token = nextToken
            nextToken += 1
            entries[entry.ticket.id]?.state = .leased(token: token, until: now.advanced(by: leaseTime))
            entries[entry.ticket.id]?.deliveries += 1
            return Lease(ticket: entry.ticket, deliveries: entry.deliveries + 1, token: token)
        }
    }

    /// Settles a lease; false when it is no longer the attempt's lease (it ran out and the
    /// attempt was handed out again, or the attempt is gone).
    mutating func settle(_ lease: Lease, _ settlement: LeasedAttempt.Settlement, now: Instant) -> Bool {
        guard let entry = entries[lease.ticket.id], case .leased(let token, _) = entry.state, token == lease.token else { return false }
        switch settlement {
        case .acknowledge, .terminate:
            entries[lease.ticket.id] = nil
        case .retry(let delay):
            entries[lease.ticket.id]?.state = .waiting(since: now.advanced(by: delay ?? .zero))
        case .inProgress:
            entries[lease.ticket.id]?.state = .leased(token: token, until: now.advanced(by: leaseTime))
        }
        return true
    }

    /// Removes a run's waiting attempts; how many.
    mutating func removeWaiting(runID: String) -> Int {
        let gone = entries.values.filter { entry in
            guard entry.ticket.runID == runID, case .waiting = entry.state else { return false }
            return true
        }
        for entry in gone { entries[entry.ticket.id] = nil }
        return gone.count
    }

    /// The next moment something becomes due (a delayed retry, a lease running out), if any.
    func nextDue(pool: String) -> Instant? {
        entries.values.filter { $0.ticket.pool == pool }.map { entry -> Instant in
            switch entry.state {
            case .waiting(let since): return since
            case .leased(_, let until): return until
            }
        }.min()
    }

    var count: Int { entries.count }
}
