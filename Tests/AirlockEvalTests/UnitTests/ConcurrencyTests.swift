import AirlockCore
@testable import AirlockEval
import Foundation
import Synchronization
import Testing

@Suite struct AdaptiveConnectionLimitTests {
    @Test func configurationIsClamped() {
        let defaults = AdaptiveConnectionLimit.Configuration(ceiling: 16)
        #expect(defaults.floor == 1 && defaults.initial == 16 && defaults.decreaseFactor == 0.75 && defaults.cooldown == 5)
        #expect(AdaptiveConnectionLimit.Configuration(ceiling: 0).ceiling == 1)
        #expect(AdaptiveConnectionLimit.Configuration(ceiling: 4, floor: 10).floor == 4)
        #expect(AdaptiveConnectionLimit.Configuration(ceiling: 4, floor: 0).floor == 1)
        #expect(AdaptiveConnectionLimit.Configuration(ceiling: 8, initial: 50).initial == 8)
        #expect(AdaptiveConnectionLimit.Configuration(ceiling: 8, floor: 3, initial: 1).initial == 3)
        #expect(AdaptiveConnectionLimit(.init(ceiling: 8, initial: 5)).limit == 5)
    }

    @Test func growsAfterAFullLimitOfSuccesses() {
        var limiter = AdaptiveConnectionLimit(.init(ceiling: 20, initial: 10))
        for i in 1...9 { #expect(limiter.requestSucceeded(now: Double(i)) == .none) }
        #expect(limiter.requestSucceeded(now: 10) == .setLimit(11))
        // Now 11 more are needed.
        for i in 1...10 { #expect(limiter.requestSucceeded(now: 10 + Double(i)) == .none) }
        #expect(limiter.requestSucceeded(now: 21) == .setLimit(12))
        #expect(limiter.limit == 12)
    }

    @Test func growsByATenthWhenLarge() {
        var limiter = AdaptiveConnectionLimit(.init(ceiling: 500, initial: 100))
        var actions: [AdaptiveConnectionLimit.Action] = []
        for i in 0..<100 { actions.append(limiter.requestSucceeded(now: Double(i))) }
        #expect(actions.filter { $0 != .none } == [.setLimit(110)])
        #expect(actions.last == .setLimit(110))
    }

    @Test func growthStopsAtTheCeiling() {
        var limiter = AdaptiveConnectionLimit(.init(ceiling: 12, initial: 11))
        var actions: [AdaptiveConnectionLimit.Action] = []
        for i in 0..<200 { actions.append(limiter.requestSucceeded(now: Double(i))) }
        #expect(actions.filter { $0 != .none } == [.setLimit(12)])
        #expect(limiter.limit == 12)
        // At the ceiling from the start: nothing happens.
        var full = AdaptiveConnectionLimit(.init(ceiling: 4))
        for i in 0..<50 { #expect(full.requestSucceeded(now: Double(i)) == .none) }
    }

    @Test func growsFromOne() {
        var limiter = AdaptiveConnectionLimit(.init(ceiling: 3, initial: 1))
        #expect(limiter.requestSucceeded(now: 0) == .setLimit(2))
        #expect(limiter.requestSucceeded(now: 1) == .none)
        #expect(limiter.requestSucceeded(now: 2) == .setLimit(3))
    }

    @Test func oneDecreasePerCooldownEpisode() {
        var limiter = AdaptiveConnectionLimit(.init(ceiling: 40, cooldown: 5))
        // 40 * 0.75 = 30.
        #expect(limiter.rateLimited(now: 100) == .setLimit(30))
        // The rest of the burst belongs to the same episode.
        #expect(limiter.rateLimited(now: 100.1) == .none)
        #expect(limiter.rateLimited(now: 102) == .none)
        #expect(limiter.rateLimited(now: 104.999) == .none)
        #expect(limiter.limit == 30)
        // Five seconds after the decrease, a new episode: 30 * 0.75 = 22.5 -> 22.
        #expect(limiter.rateLimited(now: 105) == .setLimit(22))
        #expect(limiter.rateLimited(now: 109) == .none)
        // 22 * 0.75 = 16.5 -> 16.
        #expect(limiter.rateLimited(now: 110.5) == .setLimit(16))
    }

    @Test func floorIsRespected() {
        var limiter = AdaptiveConnectionLimit(.init(ceiling: 10, floor: 4, cooldown: 1))
        #expect(limiter.rateLimited(now: 0) == .setLimit(7))   // 7.5 -> 7
        #expect(limiter.rateLimited(now: 1) == .setLimit(5))   // 5.25 -> 5
        #expect(limiter.rateLimited(now: 2) == .setLimit(4))   // 3.75 -> floor 4
        #expect(limiter.rateLimited(now: 3) == .none)          // already at the floor
        #expect(limiter.limit == 4)
        var single = AdaptiveConnectionLimit(.init(ceiling: 1))
        #expect(single.rateLimited(now: 0) == .none)
        #expect(single.limit == 1)
    }

    @Test func rateLimitRestartsTheSuccessCount() {
        var limiter = AdaptiveConnectionLimit(.init(ceiling: 20, initial: 8, cooldown: 5))
        for i in 0..<7 { #expect(limiter.requestSucceeded(now: Double(i)) == .none) }
        #expect(limiter.rateLimited(now: 7) == .setLimit(6))
        // Six clean requests at the new limit before it grows again.
        for i in 0..<5 { #expect(limiter.requestSucceeded(now: 8 + Double(i)) == .none) }
        #expect(limiter.requestSucceeded(now: 13) == .setLimit(7))
    }

    @Test func recoversAfterAnEpisode() {
        var limiter = AdaptiveConnectionLimit(.init(ceiling: 8, cooldown: 5))
        #expect(limiter.rateLimited(now: 0) == .setLimit(6))
        var now = 1.0
        var actions: [AdaptiveConnectionLimit.Action] = []
        for _ in 0..<100 {
            actions.append(limiter.requestSucceeded(now: now))
            now += 0.1
        }
        #expect(actions.filter { $0 != .none } == [.setLimit(7), .setLimit(8)])
        #expect(limiter.limit == 8)
    }
}

@Suite struct RetryStateTests {
    static let server = ModelCallError(.serverError, status: 503, message: "busy")
    static let rateLimited = ModelCallError(.rateLimited, status: 429, message: "slow down")

    @Test func nonTransientFailsAtOnce() {
        var state = RetryState(policy: RetryPolicy())
        let client = ModelCallError(.clientError, status: 400, message: "bad request")
        #expect(state.failed(client, jitter: 0.5) == .fail(client))
        let malformed = ModelCallError(.malformedResponse, message: "not JSON")
        #expect(state.failed(malformed, jitter: 0) == .fail(malformed))
        #expect(state.retries == 0 && state.rateLimitRetries == 0)
    }

    @Test func retryAfterIsHonoured() {
        var state = RetryState(policy: RetryPolicy())
        let error = ModelCallError(.rateLimited, status: 429, retryAfter: 3, message: "")
        #expect(state.failed(error, jitter: 0) == .retry(after: 3))
        guard case .retry(let delay) = state.failed(error, jitter: 0.999) else { Issue.record("expected a retry"); return }
        #expect(abs(delay - 3 * 1.0999) < 1e-12)
        #expect(state.rateLimitRetries == 2)
        #expect(state.retries == 0)
        // A server error with Retry-After waits as asked too.
        let busy = ModelCallError(.serverError, status: 503, retryAfter: 10, message: "")
        #expect(state.failed(busy, jitter: 0) == .retry(after: 10))
        #expect(state.retries == 1)
    }

    @Test func exponentialBackoffBounds() {
        // base 1, cap 60: attempt n waits between 2^(n-1)/2 and 2^(n-1).
        var low = RetryState(policy: RetryPolicy(maxRetries: 10, baseDelay: 1, maxDelay: 60))
        var high = RetryState(policy: RetryPolicy(maxRetries: 10, baseDelay: 1, maxDelay: 60))
        let expected: [(Double, Double)] = [(0.5, 0.9995), (1, 1.999), (2, 3.998), (4, 7.996), (8, 15.992), (16, 31.984), (30, 59.97), (30, 59.97)]
        for (attempt, bounds) in expected.enumerated() {
            guard case .retry(let a) = low.failed(Self.server, jitter: 0), case .retry(let b) = high.failed(Self.server, jitter: 0.999) else {
                Issue.record("attempt \(attempt + 1) did not retry"); return
            }
            #expect(abs(a - bounds.0) < 1e-9, "attempt \(attempt + 1) low \(a)")
            #expect(abs(b - bounds.1) < 1e-9, "attempt \(attempt + 1) high \(b)")
        }
    }

    @Test func rateLimitsWithoutRetryAfterBackOffToo() {
        var state = RetryState(policy: RetryPolicy(baseDelay: 2, maxDelay: 100))
        #expect(state.failed(Self.rateLimited, jitter: 0) == .retry(after: 1))     // 2/2
        #expect(state.failed(Self.rateLimited, jitter: 0) == .retry(after: 2))     // 4/2
        #expect(state.failed(Self.rateLimited, jitter: 0.5) == .retry(after: 6))   // 8/2 + 4*0.5
    }

    @Test func budgetForOtherErrors() {
        var state = RetryState(policy: RetryPolicy(maxRetries: 2, maxRateLimitRetries: 3, baseDelay: 0.1))
        let timeout = ModelCallError(.timeout, message: "")
        let connection = ModelCallError(.connection, message: "")
        guard case .retry = state.failed(timeout, jitter: 0) else { Issue.record("timeout not retried"); return }
        guard case .retry = state.failed(connection, jitter: 0) else { Issue.record("connection not retried"); return }
        #expect(state.failed(Self.server, jitter: 0) == .fail(Self.server))
        #expect(state.retries == 2)
        // Rate limits have their own budget, untouched by the failures above.
        for _ in 0..<3 {
            guard case .retry = state.failed(Self.rateLimited, jitter: 0) else { Issue.record("rate limit not retried"); return }
        }
        #expect(state.failed(Self.rateLimited, jitter: 0) == .fail(Self.rateLimited))
        #expect(state.rateLimitRetries == 3)
    }

    @Test func rateLimitsDoNotSpendTheOtherBudget() {
        var state = RetryState(policy: RetryPolicy(maxRetries: 1, maxRateLimitRetries: 30))
        for _ in 0..<30 {
            guard case .retry = state.failed(Self.rateLimited, jitter: 0.1) else { Issue.record("rate limit not retried"); return }
        }
        guard case .retry = state.failed(Self.server, jitter: 0) else { Issue.record("server error not retried"); return }
        #expect(state.failed(Self.server, jitter: 0) == .fail(Self.server))
        #expect(state.failed(Self.rateLimited, jitter: 0) == .fail(Self.rateLimited))
    }

    @Test func zeroRetries() {
        var state = RetryState(policy: RetryPolicy(maxRetries: 0, maxRateLimitRetries: 0))
        #expect(state.failed(Self.server, jitter: 0) == .fail(Self.server))
        #expect(state.failed(Self.rateLimited, jitter: 0) == .fail(Self.rateLimited))
    }

    @Test func manyAttemptsDoNotOverflow() {
        var state = RetryState(policy: RetryPolicy(maxRetries: 100, baseDelay: 1, maxDelay: 60))
        var last = 0.0
        for _ in 0..<100 {
            guard case .retry(let delay) = state.failed(Self.server, jitter: 0.999) else { Issue.record("no retry"); return }
            last = delay
        }
        #expect(abs(last - 59.97) < 1e-9)
    }

    @Test func errorClassification() {
        #expect(ModelCallError.forStatus(429, retryAfter: 7, body: "x").code == .rateLimited)
        #expect(ModelCallError.forStatus(429, retryAfter: 7, body: "x").retryAfter == 7)
        #expect(ModelCallError.forStatus(500, retryAfter: nil, body: "").code == .serverError)
        #expect(ModelCallError.forStatus(503, retryAfter: 2, body: "").retryAfter == 2)
        #expect(ModelCallError.forStatus(408, retryAfter: nil, body: "").code == .serverError)
        #expect(ModelCallError.forStatus(400, retryAfter: 5, body: "").code == .clientError)
        #expect(ModelCallError.forStatus(400, retryAfter: 5, body: "").retryAfter == nil)
        #expect(ModelCallError.forStatus(404, retryAfter: nil, body: String(repeating: "x", count: 1000)).message.count == 300)
        #expect(ModelCallError(.timeout, message: "").isTransient && ModelCallError(.connection, message: "").isTransient)
        #expect(!ModelCallError(.clientError, message: "").isTransient && !ModelCallError(.malformedResponse, message: "").isTransient)
        #expect(ModelCallError(.timeout, message: "").cause == .network)
        #expect(ModelCallError(.connection, message: "").cause == .network)
        #expect(ModelCallError(.serverError, message: "").cause == .model)
        #expect(ModelCallError(.rateLimited, message: "").cause == .model)
        #expect(ModelCallError(.serverError, status: 502, message: "bad gateway").description == "serverError (HTTP 502): bad gateway")
    }
}

/// Counts holders inside a gate and remembers the most at once.
private final class HolderCounter: Sendable {
    private let state = Mutex((current: 0, peak: 0, total: 0))

    func enter() {
        state.withLock {
            $0.current += 1
            $0.total += 1
            $0.peak = max($0.peak, $0.current)
        }
    }

    func leave() { state.withLock { $0.current -= 1 } }
    var peak: Int { state.withLock { $0.peak } }
    var total: Int { state.withLock { $0.total } }
    var current: Int { state.withLock { $0.current } }
}

/// A value shared between tasks.
private final class Locked<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>
    init(_ value: Value) { mutex = Mutex(value) }
    func withLock<T: Sendable>(_ body: (inout Value) -> T) -> T { mutex.withLock { body(&$0) } }
}

/// Polls `condition` until it holds or `seconds` pass.
private func eventually(seconds: Double = 5, _ condition: () -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
    while ContinuousClock.now < deadline {
        if condition() { return true }
        try? await Task.sleep(for: .milliseconds(5))
    }
    return condition()
}

@Suite struct ConnectionGateTests {
    @Test func neverMoreThanTheLimit() async throws {
        let gate = ConnectionGate(limit: 7)
        let counter = HolderCounter()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for i in 0..<200 {
                group.addTask {
                    try await gate.withPermit {
                        counter.enter()
                        // Vary how long a holder stays so that releases interleave with arrivals.
                        if i % 3 == 0 { try await Task.sleep(for: .microseconds(200)) } else { await Task.yield() }
                        counter.leave()
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(counter.total == 200)
        #expect(counter.peak <= 7)
        #expect(counter.peak >= 2)
        #expect(gate.inFlight == 0)
    }

    @Test func limitChangesUnderLoadAreRespected() async throws {
        let gate = ConnectionGate(limit: 10)
        let counter = HolderCounter()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<200 {
                group.addTask {
                    try await gate.withPermit {
                        counter.enter()
                        try await Task.sleep(for: .microseconds(100))
                        counter.leave()
                    }
                }
            }
            group.addTask {
                try await Task.sleep(for: .milliseconds(2))
                gate.setLimit(3)
            }
            try await group.waitForAll()
        }
        #expect(counter.total == 200)
        #expect(counter.peak <= 10)
        #expect(gate.limit == 3)
        #expect(gate.inFlight == 0)
    }

    @Test func raisingTheLimitAdmitsWaiters() async throws {
        let gate = ConnectionGate(limit: 1)
        try await gate.acquire()
        #expect(gate.inFlight == 1)
        let admitted = Locked(0)
        let waiters = (0..<2).map { _ in
            Task {
                try await gate.acquire()
                admitted.withLock { $0 += 1 }
            }
        }
        try await Task.sleep(for: .milliseconds(50))
        #expect(admitted.withLock { $0 } == 0)
        gate.setLimit(3)
        #expect(await eventually { admitted.withLock { $0 } == 2 })
        #expect(gate.inFlight == 3)
        for waiter in waiters { try await waiter.value }
        gate.release(); gate.release(); gate.release()
        #expect(gate.inFlight == 0)
    }

    @Test func loweringTheLimitHoldsNewcomersBack() async throws {
        let gate = ConnectionGate(limit: 3)
        for _ in 0..<3 { try await gate.acquire() }
        gate.setLimit(1)
        let admitted = Locked(false)
        let waiter = Task {
            try await gate.acquire()
            admitted.withLock { $0 = true }
        }
        gate.release()
        gate.release()
        try await Task.sleep(for: .milliseconds(50))
        // One holder remains and the limit is 1: the waiter still waits.
        #expect(admitted.withLock { $0 } == false)
        gate.release()
        #expect(await eventually { admitted.withLock { $0 } })
        try await waiter.value
        gate.release()
        #expect(gate.inFlight == 0)
    }

    @Test func waitersAreServedInOrder() async throws {
        let gate = ConnectionGate(limit: 1)
        try await gate.acquire()
        let order = Locked<[Int]>([])
        var tasks: [Task<Void, any Error>] = []
        for i in 0..<5 {
            tasks.append(Task {
                try await gate.acquire()
                order.withLock { $0.append(i) }
                gate.release()
            })
            // Let each waiter queue before the next one arrives.
            try await Task.sleep(for: .milliseconds(100))
        }
        gate.release()
        for task in tasks { try await task.value }
        #expect(order.withLock { $0 } == [0, 1, 2, 3, 4])
    }

    @Test func cancelledWaiterLeavesTheQueue() async throws {
        let gate = ConnectionGate(limit: 1)
        try await gate.acquire()
        let first = Task { try await gate.acquire() }
        try await Task.sleep(for: .milliseconds(30))
        let secondAdmitted = Locked(false)
        let second = Task {
            try await gate.acquire()
            secondAdmitted.withLock { $0 = true }
        }
        try await Task.sleep(for: .milliseconds(30))
        first.cancel()
        let result = await first.result
        #expect(throws: CancellationError.self) { try result.get() }
        #expect(secondAdmitted.withLock { $0 } == false)
        #expect(gate.inFlight == 1)
        // The place the cancelled waiter would have had goes to the next one.
        gate.release()
        #expect(await eventually { secondAdmitted.withLock { $0 } })
        try await second.value
        #expect(gate.inFlight == 1)
        gate.release()
        #expect(gate.inFlight == 0)
        // The gate still works normally afterwards.
        try await gate.withPermit { #expect(gate.inFlight == 1) }
        #expect(gate.inFlight == 0)
    }

    @Test func alreadyCancelledTaskDoesNotTakeAPlace() async throws {
        let gate = ConnectionGate(limit: 1)
        try await gate.acquire()
        let task = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            try await gate.acquire()
        }
        let result = await task.result
        #expect(throws: CancellationError.self) { try result.get() }
        gate.release()
        #expect(gate.inFlight == 0)
    }

    @Test func manyCancellationsUnderLoad() async throws {
        let gate = ConnectionGate(limit: 2)
        let counter = HolderCounter()
        let tasks = (0..<100).map { i in
            Task {
                try await gate.withPermit {
                    counter.enter()
                    try? await Task.sleep(for: .milliseconds(1))
                    counter.leave()
                }
                return i
            }
        }
        for (i, task) in tasks.enumerated() where i % 2 == 1 { task.cancel() }
        var finished = 0
        for task in tasks {
            if case .success = await task.result { finished += 1 }
        }
        // Every even task gets through; cancelled ones either never entered or finished.
        #expect(finished >= 50)
        #expect(counter.peak <= 2)
        #expect(counter.current == 0)
        #expect(gate.inFlight == 0)
    }

    @Test func limitIsAtLeastOne() {
        #expect(ConnectionGate(limit: 0).limit == 1)
        let gate = ConnectionGate(limit: 5)
        gate.setLimit(-3)
        #expect(gate.limit == 1)
    }
}
