/// How long to wait before each try to reach a server again: doubling from `initial` up to
/// `maximum`, with jitter so that many workers dropped at once do not return at once; nil once
/// `maxAttempts` tries are spent. Pure, so it is tested without a clock.
public struct ReconnectBackoff: Sendable, Hashable {
    public struct Policy: Sendable, Hashable {
        public var initial: Duration
        public var maximum: Duration
        /// Tries before giving up; nil for as long as the connection is wanted.
        public var maxAttempts: Int?

        public init(initial: Duration = .milliseconds(50), maximum: Duration = .seconds(2), maxAttempts: Int? = nil) {
            self.initial = initial
            self.maximum = maximum
            self.maxAttempts = maxAttempts
        }
    }

    public let policy: Policy
    public private(set) var attempts = 0

    public init(policy: Policy) { self.policy = policy }

    /// The wait before the next try; `jitter` in 0..<1 takes up to half of it away.
    public mutating func next(jitter: Double) -> Duration? {
        if let limit = policy.maxAttempts, attempts >= limit { return nil }
        defer { attempts += 1 }
        guard attempts > 0 else { return .zero }
        let doubled = policy.initial * (1 << min(attempts - 1, 30))
        let wait = min(doubled, policy.maximum)
        return wait * (1 - min(max(jitter, 0), 0.999) / 2)
    }

    /// A connection was made: the next outage starts over.
    public mutating func reset() { attempts = 0 }
}
