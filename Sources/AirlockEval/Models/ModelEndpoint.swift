import AirlockCore
import Logging
import Synchronization

/// One model as the engine uses it: a provider behind an adaptive connection limit, with retries
/// and an optional response cache. Shared by every sample that calls the model.
public final class ModelEndpoint: Sendable {
    public let provider: any ModelProvider
    private let gate: ConnectionGate
    private let limiter: Mutex<AdaptiveConnectionLimit>
    private let retryPolicy: RetryPolicy
    private let requestTimeout: Duration
    private let cache: ResponseCache?
    private let logger: Logger
    private let clock = ContinuousClock()
    private let start: ContinuousClock.Instant

    public init(provider: any ModelProvider, maxConnections: Int, retryPolicy: RetryPolicy = .init(), requestTimeout: Duration = .seconds(120), cache: ResponseCache? = nil, logger: Logger) {
        self.provider = provider
        let limit = AdaptiveConnectionLimit(.init(ceiling: maxConnections))
        gate = ConnectionGate(limit: limit.limit)
        limiter = Mutex(limit)
        self.retryPolicy = retryPolicy
        self.requestTimeout = requestTimeout
        self.cache = cache
        var logger = logger
        logger[metadataKey: "model"] = "\(provider.modelName)"
        self.logger = logger
        start = clock.now
    }

    public var modelName: String { provider.modelName }
    /// The connection limit in force now.
    public var connectionLimit: Int { gate.limit }

    /// Calls the model, waiting for a connection, retrying transient failures, and using the
    /// cache when it is on. `epoch` is part of the cache key so that epochs stay independent.
    /// `deadline` caps the whole call (the sample's time limit).
    public func generate(_ request: ModelRequest, epoch: Int, deadline: ContinuousClock.Instant? = nil) async throws -> ModelCallRecord {
        let started = clock.now
        let key = cache.map { $0.key(model: provider.modelName, baseURL: provider.baseURL, request: request, epoch: epoch) }
        if let cache, let key, let output = cache.read(key) {
            return ModelCallRecord(output: output, seconds: (clock.now - started).seconds, retries: 0, cached: true)
        }
        var retry = RetryState(policy: retryPolicy)
        var generator = SystemRandomNumberGenerator()
        while true {
            try Task.checkCancellation()
            var timeout = requestTimeout
            if let deadline {
                let remaining = deadline - clock.now
                if remaining <= .zero { throw SampleTimeLimit() }
                timeout = min(timeout, remaining)
            }
            do {
                let output = try await gate.withPermit { try await provider.generate(request, timeout: timeout) }
                report(success: true)
                if let cache, let key { cache.write(key, output, logger: logger) }
                return ModelCallRecord(output: output, seconds: (clock.now - started).seconds, retries: retry.retries + retry.rateLimitRetries, cached: false)
            } catch let error as ModelCallError {
                if error.code == .timeout, let deadline, clock.now >= deadline { throw SampleTimeLimit() }
                if error.code == .rateLimited { report(success: false) }
                switch retry.failed(error, jitter: Double.random(in: 0..<1, using: &generator)) {
                case .fail(let error):
                    logger.debug("model call failed", metadata: ["code": "\(error.code)", "status": "\(error.status ?? 0)", "retries": "\(retry.retries)"])
                    throw error
                case .retry(let delay):
                    logger.debug("retrying model call", metadata: ["code": "\(error.code)", "status": "\(error.status ?? 0)", "delay": "\(delay)"])
                    var wait = Duration.seconds(delay)
                    if let deadline { wait = min(wait, max(.zero, deadline - clock.now)) }
                    try await Task.sleep(for: wait)
                }
            }
        }
    }

    private func report(success: Bool) {
        let now = (clock.now - start).seconds
        let action = limiter.withLock { limiter in
            success ? limiter.requestSucceeded(now: now) : limiter.rateLimited(now: now)
        }
        if case .setLimit(let limit) = action {
            gate.setLimit(limit)
            if !success {
                logger.info("rate limited: lowering connection limit", metadata: ["limit": "\(limit)"])
            }
        }
    }
}

/// One model call in a transcript.
public struct ModelCallRecord: Sendable, Hashable, Codable {
    public var output: ModelOutput
    public var seconds: Double
    public var retries: Int
    public var cached: Bool
}

/// The sample's time ran out during a model call: the attempt stops and is scored as it stands.
public struct SampleTimeLimit: Error, Hashable, Sendable {}
