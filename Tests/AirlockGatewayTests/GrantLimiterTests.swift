import AirlockGateway
import Foundation
import Testing

@Suite struct GrantLimiterTests {
    static func limiter(rpm: Int = 600, tpm: Int64? = nil, concurrent: Int = 100, quota: Int64 = 1_000_000, used: Int64 = 0) -> GrantLimiter {
        GrantLimiter(limits: .init(requestsPerMinute: rpm, tokensPerMinute: tpm, maxConcurrent: concurrent, tokenQuota: quota), used: used, now: 0)
    }

    @Test func requestsAMinuteRefillOverTime() throws {
        var limiter = Self.limiter(rpm: 2)
        #expect(try limiter.admit(reserve: 1, at: 0).get().reserved == 1)
        _ = limiter.admit(reserve: 1, at: 0)
        guard case .failure(.requestRate(let wait)) = limiter.admit(reserve: 1, at: 0) else {
            Issue.record("the third call in a minute of two was let through")
            return
        }
        #expect(abs(wait - 30) < 0.001)
        // Half a minute later one request has come back.
        #expect((try? limiter.admit(reserve: 1, at: 30).get()) != nil)
    }

    @Test func concurrencyCountsCallsInFlight() throws {
        var limiter = Self.limiter(concurrent: 2)
        let first = try limiter.admit(reserve: 5, at: 0).get()
        _ = try limiter.admit(reserve: 5, at: 0).get()
        #expect(limiter.admit(reserve: 5, at: 0) == .failure(.concurrency(limit: 2)))
        limiter.settle(first, tokens: 3, at: 1)
        #expect((try? limiter.admit(reserve: 5, at: 1).get()) != nil)
        #expect(limiter.used == 3)
    }

    @Test func tokensAMinuteGoIntoDebtAndWait() throws {
        var limiter = Self.limiter(tpm: 600)
        let call = try limiter.admit(reserve: 10, at: 0).get()
        limiter.settle(call, tokens: 900, at: 0)
        guard case .failure(.tokenRate(let wait)) = limiter.admit(reserve: 10, at: 0) else {
            Issue.record("a grant 300 tokens over its minute was let through")
            return
        }
        #expect(abs(wait - 30.1) < 0.001)
        #expect((try? limiter.admit(reserve: 10, at: 31).get()) != nil)
    }

    @Test func quotaRefusesWhatWouldExceedItAndCountsReservations() throws {
        var limiter = Self.limiter(quota: 100, used: 40)
        let held = try limiter.admit(reserve: 50, at: 0).get()
        #expect(limiter.admit(reserve: 20, at: 0) == .failure(.quota(remaining: 10, asked: 20)))
        limiter.settle(held, tokens: 30, at: 0)
        #expect(limiter.used == 70 && limiter.reserved == 0)
        #expect((try? limiter.admit(reserve: 30, at: 0).get()) != nil)
    }

    /// However calls interleave, what is charged and held never passes the quota while upstreams
    /// keep to the call's max_tokens.
    @Test(arguments: 0..<20)
    func interleavedCallsNeverOverspend(seed: Int) throws {
        var random = SeededRandom(seed: UInt64(seed))
        var limiter = Self.limiter(concurrent: 8, quota: 1_000)
        var open: [GrantLimiter.Admission] = []
        var refusedForQuota = 0
        for step in 0..<400 {
            if open.isEmpty || random.next() % 2 == 0 {
                switch limiter.admit(reserve: Int64(random.next() % 60 + 1), at: Double(step)) {
                case .success(let admission): open.append(admission)
                case .failure(.quota): refusedForQuota += 1
                case .failure: break
                }
            } else {
                let admission = open.remove(at: Int(random.next() % UInt64(open.count)))
                limiter.settle(admission, tokens: Int64(random.next() % UInt64(admission.reserved + 1)), at: Double(step))
            }
            #expect(limiter.used + limiter.reserved <= 1_000)
        }
        #expect(refusedForQuota > 0, "the quota was never reached: the test proves nothing")
    }

    /// Another gateway's spending, read back from the store, counts against the quota here.
    @Test func resyncTakesInWhatOtherGatewaysSpent() throws {
        var limiter = Self.limiter(quota: 100, used: 10)
        limiter.resync(used: 90)
        #expect(limiter.admit(reserve: 20, at: 0) == .failure(.quota(remaining: 10, asked: 20)))
        // The store lagging behind what this gateway charged never lowers the count.
        limiter.resync(used: 50)
        #expect(limiter.used == 90)
    }

    /// An upstream that spends past max_tokens overspends by that call's excess, no more.
    @Test func anUpstreamPastItsReservationOverspendsByItsExcessOnly() throws {
        var limiter = Self.limiter(quota: 100)
        let call = try limiter.admit(reserve: 100, at: 0).get()
        #expect(limiter.admit(reserve: 1, at: 0) == .failure(.quota(remaining: 0, asked: 1)))
        limiter.settle(call, tokens: 130, at: 0)
        #expect(limiter.used == 130)
        #expect(limiter.admit(reserve: 1, at: 0) == .failure(.quota(remaining: 0, asked: 1)))
    }
}

/// A small reproducible generator for the interleaving test.
struct SeededRandom {
    var state: UInt64
    init(seed: UInt64) { state = seed &+ 0x9E37_79B9_7F4A_7C15 }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
