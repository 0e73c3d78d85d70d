extension Int64 {
    /// The sum, or `.max` / `.min` where it would overflow: token sums stop at the ceiling
    /// instead of trapping on figures an upstream or a client made up.
    public func addingSaturated(_ other: Int64) -> Int64 {
        let (sum, overflow) = addingReportingOverflow(other)
        return overflow ? (other > 0 ? .max : .min) : sum
    }
}

/// One grant's limits at the gateway, as a pure state machine: requests a minute, tokens a
/// minute, calls at once, and the grant's whole token quota.
///
/// `admit` reserves what a call may spend before it is forwarded; `settle` charges what the
/// upstream reported and releases the reservation. A call is refused when its reservation would
/// take the quota past its limit, so concurrent calls cannot overspend it; only a call whose
/// upstream spends more than it was asked to (past `max_tokens`) can, by that call's excess.
public struct GrantLimiter: Sendable {
    public struct Limits: Sendable, Hashable {
        public var requestsPerMinute: Int
        /// Nil: no limit a minute, only the quota.
        public var tokensPerMinute: Int64?
        public var maxConcurrent: Int
        public var tokenQuota: Int64

        public init(requestsPerMinute: Int, tokensPerMinute: Int64?, maxConcurrent: Int, tokenQuota: Int64) {
            self.requestsPerMinute = requestsPerMinute
            self.tokensPerMinute = tokensPerMinute
            self.maxConcurrent = maxConcurrent
            self.tokenQuota = tokenQuota
        }
    }

    /// Why a call is refused; each says when to try again where waiting helps.
    public enum Refusal: Error, Sendable, Hashable {
        case requestRate(retryAfter: Double)
        case tokenRate(retryAfter: Double)
        case concurrency(limit: Int)
        case quota(remaining: Int64, asked: Int64)
    }

    /// A call let through, with what it reserved.
    public struct Admission: Sendable, Hashable {
        public var reserved: Int64
    }

    public private(set) var limits: Limits
    /// Tokens charged so far, over the grant's life.
    public private(set) var used: Int64
    public private(set) var reserved: Int64 = 0
    public private(set) var inFlight = 0
    private var requestBucket: Double
    private var tokenBucket: Double
    private var refilledAt: Double

    /// `used` is what the store says the grant has spent already; `now` is in seconds.
    public init(limits: Limits, used: Int64, now: Double) {
        self.limits = limits
        self.used = max(0, used)
        requestBucket = Double(limits.requestsPerMinute)
        tokenBucket = Double(limits.tokensPerMinute ?? 0)
        refilledAt = now
    }

    /// New limits (the grant was edited); buckets keep their level, capped by the new size.
    public mutating func update(_ limits: Limits) {
        self.limits = limits
        requestBucket = min(requestBucket, Double(limits.requestsPerMinute))
        tokenBucket = min(tokenBucket, Double(limits.tokensPerMinute ?? 0))
    }

    private mutating func refill(at now: Double) {
        let elapsed = max(0, now - refilledAt)
        refilledAt = max(refilledAt, now)
        requestBucket = min(Double(limits.requestsPerMinute), requestBucket + elapsed * Double(limits.requestsPerMinute) / 60)
        if let perMinute = limits.tokensPerMinute {
            tokenBucket = min(Double(perMinute), tokenBucket + elapsed * Double(perMinute) / 60)
        }
    }

    /// What the store says was spent, by every gateway, plus what this one has charged but not
    /// yet written: several gateways in front of one store converge on one count.
    public mutating func resync(used spent: Int64) {
        used = max(used, spent, 0)
    }

    /// Lets a call through that may spend up to `reserve` tokens, or says why not.
    public mutating func admit(reserve: Int64, at now: Double) -> Result<Admission, Refusal> {
        refill(at: now)
        guard inFlight < limits.maxConcurrent else { return .failure(.concurrency(limit: limits.maxConcurrent)) }
        guard requestBucket >= 1 else {
            return .failure(.requestRate(retryAfter: (1 - requestBucket) * 60 / Double(max(1, limits.requestsPerMinute))))
        }
        if let perMinute = limits.tokensPerMinute, tokenBucket <= 0 {
            return .failure(.tokenRate(retryAfter: (1 - tokenBucket) * 60 / Double(max(1, perMinute))))
        }
        let remaining = limits.tokenQuota.addingSaturated(-used).addingSaturated(-reserved)
        guard reserve <= remaining else { return .failure(.quota(remaining: max(0, remaining), asked: reserve)) }
        requestBucket -= 1
        reserved = reserved.addingSaturated(max(0, reserve))
        inFlight += 1
        return .success(Admission(reserved: reserve))
    }

    /// Charges a finished call (or one cut off) with the tokens the upstream reported.
    public mutating func settle(_ admission: Admission, tokens: Int64, at now: Double) {
        refill(at: now)
        reserved = max(0, reserved - admission.reserved)
        inFlight -= 1
        used = used.addingSaturated(max(0, tokens))
        // A minute's token budget may go below zero: the next calls wait until it refills.
        if limits.tokensPerMinute != nil { tokenBucket -= Double(max(0, tokens)) }
    }
}
