import Foundation
import Synchronization

/// Back-off for failed sign-ins, per account (e-mail) and per client address, as a pure state
/// machine: ``decide(account:address:at:)`` before checking a password, ``failed(account:address:at:)``
/// and ``succeeded(account:)`` after.
///
/// The first ``Configuration/freeAccountFailures`` failures of an account (and
/// ``Configuration/freeAddressFailures`` of an address) cost nothing; each further one doubles
/// the wait before the next try, from ``Configuration/firstDelay`` up to
/// ``Configuration/maximumDelay``. A key with no failure for ``Configuration/forgetAfter`` starts
/// afresh. Each table holds at most ``Configuration/capacity`` keys: when full, forgotten keys
/// go first, then the one whose last failure is oldest, so a flood of distinct addresses or
/// e-mails cannot grow it without end.
struct SignInThrottle: Sendable {
    struct Configuration: Sendable, Hashable {
        var freeAccountFailures = 5
        var freeAddressFailures = 20
        var firstDelay: TimeInterval = 1
        var maximumDelay: TimeInterval = 15 * 60
        var forgetAfter: TimeInterval = 60 * 60
        var capacity = 10_000
    }

    enum Decision: Sendable, Hashable {
        case allow
        /// Refuse without checking the password; the client may try again after this many seconds.
        case wait(retryAfter: Int)
    }

    private struct Failures: Sendable, Hashable {
        var count: Int
        var last: Date
    }

    let configuration: Configuration
    private var accounts: [String: Failures] = [:]
    private var addresses: [String: Failures] = [:]

    init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
    }

    /// The keys held, accounts and addresses together (for tests of the bound).
    var count: Int { accounts.count + addresses.count }

    func decide(account: String, address: String, at now: Date) -> Decision {
        let waits = [
            wait(accounts[account], free: configuration.freeAccountFailures, at: now),
            wait(addresses[address], free: configuration.freeAddressFailures, at: now),
        ]
        guard let longest = waits.compactMap({ $0 }).max() else { return .allow }
        return .wait(retryAfter: Int(longest.rounded(.up)))
    }

    mutating func failed(account: String, address: String, at now: Date) {
        Self.record(account, in: &accounts, at: now, configuration)
        Self.record(address, in: &addresses, at: now, configuration)
    }

    /// A correct password clears the account's failures; the address keeps its own, so one
    /// known account does not reopen guessing at others from the same address.
    mutating func succeeded(account: String) {
        accounts[account] = nil
    }

    /// Seconds left to wait after `failures`, nil when none.
    private func wait(_ failures: Failures?, free: Int, at now: Date) -> TimeInterval? {
        guard let failures, failures.count >= free, now.timeIntervalSince(failures.last) < configuration.forgetAfter else { return nil }
        // 2^min(n, 30): no overflow however many failures.
        let doublings = min(failures.count - free, 30)
        let delay = min(configuration.firstDelay * Double(1 << doublings), configuration.maximumDelay)
        let left = failures.last.addingTimeInterval(delay).timeIntervalSince(now)
        return left > 0 ? left : nil
    }

    private static func record(_ key: String, in table: inout [String: Failures], at now: Date, _ configuration: Configuration) {
        if var failures = table[key], now.timeIntervalSince(failures.last) < configuration.forgetAfter {
            failures.count += 1
            failures.last = max(failures.last, now)
            table[key] = failures
            return
        }
        if table[key] == nil, table.count >= configuration.capacity {
            table = table.filter { now.timeIntervalSince($0.value.last) < configuration.forgetAfter }
            if table.count >= configuration.capacity, let oldest = table.min(by: { $0.value.last < $1.value.last })?.key {
                table[oldest] = nil
            }
        }
        table[key] = Failures(count: 1, last: now)
    }
}

/// The server's one ``SignInThrottle``, shared by its requests.
final class SignInThrottleState: Sendable {
    private let state: Mutex<SignInThrottle>

    init(configuration: SignInThrottle.Configuration = .init()) {
        state = Mutex(SignInThrottle(configuration: configuration))
    }

    func withLock<Result: Sendable>(_ body: (inout SignInThrottle) -> Result) -> Result {
        state.withLock { body(&$0) }
    }
}
