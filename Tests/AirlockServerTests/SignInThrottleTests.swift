@testable import AirlockServer
import Foundation
import Testing

@Suite struct SignInThrottleTests {
    let start = Date(timeIntervalSince1970: 1_800_000_000)

    @Test func backOffDoublesAfterTheFreeFailuresUpToTheMaximum() {
        var throttle = SignInThrottle()
        var waits: [Int] = []
        var now = start
        for _ in 0..<16 {
            throttle.failed(account: "a@example.org", address: "198.51.100.1", at: now)
            guard case .wait(let seconds) = throttle.decide(account: "a@example.org", address: "198.51.100.9", at: now) else {
                waits.append(0)
                continue
            }
            waits.append(seconds)
            now = now.addingTimeInterval(Double(seconds))
            #expect(throttle.decide(account: "a@example.org", address: "198.51.100.9", at: now) == .allow)
        }
        #expect(waits == [0, 0, 0, 0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 900, 900])
        throttle.succeeded(account: "a@example.org")
        #expect(throttle.decide(account: "a@example.org", address: "198.51.100.9", at: now) == .allow)
    }

    @Test func anAddressIsHeldBackAcrossAccounts() {
        var throttle = SignInThrottle()
        for number in 0..<20 { throttle.failed(account: "\(number)@example.org", address: "198.51.100.1", at: start) }
        #expect(throttle.decide(account: "new@example.org", address: "198.51.100.1", at: start) == .wait(retryAfter: 1))
        #expect(throttle.decide(account: "new@example.org", address: "198.51.100.2", at: start) == .allow)
        // An hour without failures forgets them.
        #expect(throttle.decide(account: "new@example.org", address: "198.51.100.1", at: start.addingTimeInterval(3_601)) == .allow)
    }

    @Test func aFloodOfDistinctKeysStaysWithinCapacity() {
        var configuration = SignInThrottle.Configuration()
        configuration.capacity = 100
        var throttle = SignInThrottle(configuration: configuration)
        for number in 0..<10_000 {
            throttle.failed(account: "\(number)@example.org", address: "10.0.\(number / 256).\(number % 256)", at: start)
        }
        #expect(throttle.count <= 200)
    }

    @Test func manyFailuresDoNotOverflow() {
        var throttle = SignInThrottle()
        for _ in 0..<1_000 { throttle.failed(account: "a@example.org", address: "x", at: start) }
        #expect(throttle.decide(account: "a@example.org", address: "x", at: start) == .wait(retryAfter: 900))
    }
}
