import Synchronization

/// Admits at most `limit` holders at once; the limit can change while holders wait.
/// Waiters are served first come, first served, and a cancelled waiter leaves the queue.
public final class ConnectionGate: Sendable {
    private struct State {
        var limit: Int
        var inFlight = 0
        var waiters: [(id: UInt64, continuation: CheckedContinuation<Void, any Error>)] = []
        var nextID: UInt64 = 0
        var waiterHead = 0
    }

    private let state: Mutex<State>

    public init(limit: Int) {
        state = Mutex(State(limit: max(1, limit)))
    }

    public var limit: Int { state.withLock { $0.limit } }
    public var inFlight: Int { state.withLock { $0.inFlight } }

    public func setLimit(_ limit: Int) {
        let resumed = state.withLock { state -> [CheckedContinuation<Void, any Error>] in
            state.limit = max(1, limit)
            return Self.admit(&state)
        }
        for continuation in resumed { continuation.resume() }
    }

    /// Waits for a place, runs `body`, and gives the place back.
    public func withPermit<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        try await acquire()
        defer { release() }
        return try await body()
    }

    public func acquire() async throws {
        let id: UInt64? = state.withLock { state in
            if state.inFlight < state.limit && state.waiterHead == state.waiters.count {
                state.inFlight += 1
                return nil
            }
            state.nextID += 1
            return state.nextID
        }
        guard let id else { return }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let resumeNow = state.withLock { state -> Bool in
                    if Task.isCancelled { return true }
                    state.waiters.append((id, continuation))
                    return false
                }
                if resumeNow { continuation.resume(throwing: CancellationError()) }
                let admitted = state.withLock { Self.admit(&$0) }
                for waiter in admitted { waiter.resume() }
            }
        } onCancel: {
            let cancelled = state.withLock { state -> CheckedContinuation<Void, any Error>? in
                guard let index = state.waiters[state.waiterHead...].firstIndex(where: { $0.id == id }) else { return nil }
                let waiter = state.waiters.remove(at: index)
                return waiter.continuation
            }
            cancelled?.resume(throwing: CancellationError())
        }
    }

    public func release() {
        let resumed = state.withLock { state -> [CheckedContinuation<Void, any Error>] in
            state.inFlight -= 1
            return Self.admit(&state)
        }
        for continuation in resumed { continuation.resume() }
    }

    private static func admit(_ state: inout State) -> [CheckedContinuation<Void, any Error>] {
        var admitted: [CheckedContinuation<Void, any Error>] = []
        while state.inFlight < state.limit && state.waiterHead < state.waiters.count {
            admitted.append(state.waiters[state.waiterHead].continuation)
            state.waiterHead += 1
            state.inFlight += 1
        }
        // Drop served waiters in bulk so the queue does not grow without end.
        if state.waiterHead > 1024 && state.waiterHead * 2 > state.waiters.count {
            state.waiters.removeFirst(state.waiterHead)
            state.waiterHead = 0
        }
        return admitted
    }
}
