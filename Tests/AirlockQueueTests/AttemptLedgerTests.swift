@testable import AirlockQueue
import Testing

/// The embedded queue's rules, with time as a number.
struct AttemptLedgerTests {
    typealias Ledger = AttemptLedger<ContinuousClock.Instant>
    let start = ContinuousClock.now

    func ticket(_ sample: String, run: String = "r1", pool: String = "default") -> AttemptTicket {
        AttemptTicket(runID: run, sampleID: sample, epoch: 1, pool: pool)
    }

    @Test func anAttemptIsHandedOutOnceUntilItsLeaseRunsOut() {
        var ledger = Ledger(leaseTime: .seconds(30))
        let result1 = ledger.add(ticket("a"), now: start)
        #expect(result1)
        let result2 = ledger.add(ticket("a"), now: start)
        #expect(!result2)
        let first = ledger.lease(pool: "default", limit: 5, now: start)
        #expect(first.map(\.ticket.sampleID) == ["a"] && first[0].deliveries == 1)
        let result3 = ledger.lease(pool: "default", limit: 5, now: start + .seconds(29))
        #expect(result3.isEmpty)
        let second = ledger.lease(pool: "default", limit: 5, now: start + .seconds(30))
        #expect(second.count == 1 && second[0].deliveries == 2)
        // The first holder's late acknowledgement changes nothing: the attempt is the second's.
        let result4 = ledger.settle(first[0], .acknowledge, now: start + .seconds(31))
        #expect(!result4)
        let result5 = ledger.settle(second[0], .acknowledge, now: start + .seconds(31))
        #expect(result5)
        #expect(ledger.count == 0)
        // Gone once acknowledged: a new publish of the same attempt is new work (the store drops its result).
        let result6 = ledger.add(ticket("a"), now: start + .seconds(32))
        #expect(result6)
    }

    @Test func inProgressKeepsTheLeaseAndRetryWaitsItsDelay() {
        var ledger = Ledger(leaseTime: .seconds(10))
        _ = ledger.add(ticket("a"), now: start)
        let lease = ledger.lease(pool: "default", limit: 1, now: start)[0]
        let result7 = ledger.settle(lease, .inProgress, now: start + .seconds(9))
        #expect(result7)
        let result8 = ledger.lease(pool: "default", limit: 1, now: start + .seconds(18))
        #expect(result8.isEmpty)
        let retried = ledger.settle(lease, .retry(after: .seconds(5)), now: start + .seconds(18))
        #expect(retried)
        #expect(ledger.nextDue(pool: "default") == start + .seconds(23))
        let result9 = ledger.lease(pool: "default", limit: 1, now: start + .seconds(22))
        #expect(result9.isEmpty)
        let again = ledger.lease(pool: "default", limit: 1, now: start + .seconds(23))
        #expect(again.first?.deliveries == 2)
        let result10 = ledger.settle(again[0], .terminate, now: start + .seconds(24))
        #expect(result10)
        let result11 = ledger.lease(pool: "default", limit: 1, now: start + .seconds(100))
        #expect(result11.isEmpty)
    }

    @Test func poolsOrderAndLimitsHold() {
        var ledger = Ledger(leaseTime: .seconds(10))
        for name in ["a", "b", "c", "d"] { _ = ledger.add(ticket(name), now: start) }
        _ = ledger.add(ticket("x", pool: "gpu"), now: start)
        let result12 = ledger.lease(pool: "default", limit: 3, now: start)
        #expect(result12.map(\.ticket.sampleID) == ["a", "b", "c"])
        let result13 = ledger.lease(pool: "gpu", limit: 3, now: start)
        #expect(result13.map(\.ticket.sampleID) == ["x"])
        let result14 = ledger.lease(pool: "default", limit: 0, now: start)
        #expect(result14.isEmpty)
        let result15 = ledger.lease(pool: "other", limit: 3, now: start)
        #expect(result15.isEmpty)
    }

    @Test func removingARunTakesOnlyItsWaitingAttempts() {
        var ledger = Ledger(leaseTime: .seconds(10))
        for name in ["a", "b"] { _ = ledger.add(ticket(name, run: "r1"), now: start) }
        _ = ledger.add(ticket("c", run: "r2"), now: start)
        let held = ledger.lease(pool: "default", limit: 1, now: start)
        let result16 = ledger.removeWaiting(runID: "r1")
        #expect(result16 == 1)
        let result17 = ledger.lease(pool: "default", limit: 5, now: start)
        #expect(result17.map(\.ticket.sampleID) == ["c"])
        let result18 = ledger.settle(held[0], .acknowledge, now: start)
        #expect(result18)
    }
}
