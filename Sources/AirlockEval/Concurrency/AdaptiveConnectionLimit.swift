/// How many requests may be in flight to one model endpoint: additive increase while requests
/// succeed, multiplicative decrease when the provider rate-limits. A pure state machine: the
/// caller reports events with the time and carries out the new limit.
public struct AdaptiveConnectionLimit: Sendable, Hashable {
    public struct Configuration: Sendable, Hashable {
        /// Never more than this (`--max-connections`).
        public var ceiling: Int
        /// Never fewer than this.
        public var floor: Int
        /// The limit at the start; the ceiling unless set lower.
        public var initial: Int
        /// The limit is multiplied by this on a rate-limit episode.
        public var decreaseFactor: Double
        /// Rate limits within this many seconds of a decrease belong to the same episode.
        public var cooldown: Double

        public init(ceiling: Int, floor: Int = 1, initial: Int? = nil, decreaseFactor: Double = 0.75, cooldown: Double = 5) {
            self.ceiling = max(1, ceiling)
            self.floor = max(1, min(floor, ceiling))
            self.initial = min(self.ceiling, max(self.floor, initial ?? ceiling))
            self.decreaseFactor = decreaseFactor
            self.cooldown = cooldown
        }
    }

    public enum Action: Sendable, Hashable {
        case none
        case setLimit(Int)
    }

    public let configuration: Configuration
    public private(set) var limit: Int
    private var successesSinceChange = 0
    private var lastDecrease: Double?

    public init(_ configuration: Configuration) {
        self.configuration = configuration
        limit = configuration.initial
    }

    /// A request succeeded. After a whole limit's worth of clean requests the limit grows by a tenth (at least one).
    public mutating func requestSucceeded(now: Double) -> Action {
        guard limit < configuration.ceiling else { return .none }
        successesSinceChange += 1
        guard successesSinceChange >= limit else { return .none }
        successesSinceChange = 0
        limit = min(configuration.ceiling, limit + max(1, limit / 10))
        return .setLimit(limit)
    }

    /// The provider answered 429. The first in an episode cuts the limit; the rest of the episode is ignored.
    public mutating func rateLimited(now: Double) -> Action {
        if let lastDecrease, now - lastDecrease < configuration.cooldown { return .none }
        lastDecrease = now
        successesSinceChange = 0
        let reduced = max(configuration.floor, Int((Double(limit) * configuration.decreaseFactor).rounded(.down)))
        guard reduced != limit else { return .none }
        limit = reduced
        return .setLimit(limit)
    }
}
