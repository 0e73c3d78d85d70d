/// When to retry a model call and how long to wait: exponential backoff with jitter for transient
/// errors, the provider's `Retry-After` for rate limits, and no retry for anything else.
public struct RetryPolicy: Sendable, Hashable {
    /// Retries for server errors, timeouts and broken connections.
    public var maxRetries: Int
    /// Retries for rate limits, counted apart: being told to wait is not a failure.
    public var maxRateLimitRetries: Int
    public var baseDelay: Double
    public var maxDelay: Double

    public init(maxRetries: Int = 5, maxRateLimitRetries: Int = 30, baseDelay: Double = 1, maxDelay: Double = 60) {
        self.maxRetries = maxRetries
        self.maxRateLimitRetries = maxRateLimitRetries
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
    }
}

/// The retry state of one model call. Pure: `jitter` is a number in 0..<1 supplied by the caller.
public struct RetryState: Sendable, Hashable {
    public enum Action: Sendable, Hashable {
        /// Wait this many seconds, then send again.
        case retry(after: Double)
        /// Give up with this error.
        case fail(ModelCallError)
    }

    public let policy: RetryPolicy
    public private(set) var retries = 0
    public private(set) var rateLimitRetries = 0

    public init(policy: RetryPolicy) {
        self.policy = policy
    }

    public mutating func failed(_ error: ModelCallError, jitter: Double) -> Action {
        guard error.isTransient else { return .fail(error) }
        if error.code == .rateLimited {
            guard rateLimitRetries < policy.maxRateLimitRetries else { return .fail(error) }
            rateLimitRetries += 1
            // The provider's word, plus a little spread so that waiting requests do not return together.
            if let retryAfter = error.retryAfter { return .retry(after: retryAfter * (1 + 0.1 * jitter)) }
            return .retry(after: backoff(attempt: rateLimitRetries, jitter: jitter))
        }
        guard retries < policy.maxRetries else { return .fail(error) }
        retries += 1
        if let retryAfter = error.retryAfter { return .retry(after: retryAfter * (1 + 0.1 * jitter)) }
        return .retry(after: backoff(attempt: retries, jitter: jitter))
    }

    /// Equal jitter: half the exponential delay, plus a random part of the other half.
    private func backoff(attempt: Int, jitter: Double) -> Double {
        let exponential = min(policy.maxDelay, policy.baseDelay * Double(1 << min(attempt - 1, 30)))
        return exponential / 2 + exponential / 2 * jitter
    }
}
