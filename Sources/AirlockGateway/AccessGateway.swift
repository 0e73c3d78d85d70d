import AirlockCore
import AirlockStore
import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import Synchronization

/// The access gateway: the only road from a grant key to an unreleased model.
///
/// Its hot path works from memory: a directory of grant keys reloaded from the store every
/// `refreshInterval` (and at once when the program API changes a grant or a version in this
/// process), one ``GrantLimiter`` a grant, and a buffer of call records written to the audit log
/// in batches. It is a `Service`: `run()` keeps the directory fresh and the records flowing, and
/// flushes them on shutdown.
public final class AccessGateway: Service, Sendable {
    public struct Configuration: Sendable {
        /// `gateway.refresh_milliseconds` (default 1000): how often grants are reloaded from the
        /// store, which bounds how late a change made by another server is seen.
        public var refreshInterval: Duration
        /// `gateway.upstream_timeout_seconds` (default 600): the longest a call may take upstream.
        public var upstreamTimeout: Duration
        /// `gateway.max_connections` (default 256): connections to one upstream host.
        public var maxConnectionsPerHost: Int

        public init(refreshInterval: Duration = .seconds(1), upstreamTimeout: Duration = .seconds(600), maxConnectionsPerHost: Int = 256) {
            self.refreshInterval = refreshInterval
            self.upstreamTimeout = upstreamTimeout
            self.maxConnectionsPerHost = maxConnectionsPerHost
        }
    }

    public let store: ProgramStore
    let configuration: Configuration
    let logger: Logger
    let http: HTTPClient
    let now: @Sendable () -> Date
    private let state = Mutex(State())

    struct State {
        var routes: [String: GatewayRoute] = [:]
        var limiters: [String: GrantLimiter] = [:]
        var openCalls: [String: [String: CallCut]] = [:]
        var unrecorded: [GatewayCallRecord] = []
        var loaded = false
        var reloadedForMiss: ContinuousClock.Instant?
    }

    public init(store: ProgramStore, configuration: Configuration = .init(), logger: Logger, now: @escaping @Sendable () -> Date = Date.init) {
        self.store = store
        self.configuration = configuration
        self.logger = logger
        self.now = now
        var client = HTTPClient.Configuration()
        client.connectionPool = .init(
            idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: configuration.maxConnectionsPerHost)
        client.timeout = .init(connect: .seconds(10), read: .seconds(Int64(configuration.upstreamTimeout.components.seconds)))
        // Never follow an upstream's redirect with the developer's credential.
        client.redirectConfiguration = .disallow
        http = HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton, configuration: client)
    }

    public func run() async throws {
        while !Task.isCancelled, !Task.isShuttingDownGracefully {
            do {
                try await refresh()
                try await flush()
            } catch {
                logger.error("gateway upkeep failed", metadata: ["error": "\(error)"])
            }
            try? await Task.sleep(for: configuration.refreshInterval)
        }
        try await flush()
        try await shutdown()
    }

    /// Closes the upstream connections; `run()` does this when it ends. For a gateway that never
    /// ran (tests), call it when done.
    public func shutdown() async throws {
        try await http.shutdown()
    }

    // MARK: Directory

    /// Reloads the grant keys from the store; cuts the open calls of grants that may no longer
    /// call. The program API calls this after it revokes a grant or closes a version.
    public func refresh() async throws {
        let records = try await store.transaction { try await $0.gatewayKeys() }
        let routes = Dictionary(
            records.map { ($0.secretDigest, GatewayRoute($0, sealer: store.sealer)) }, uniquingKeysWith: { first, _ in first })
        let at = now()
        let cuts: [(CallCut, GatewayRefusal)] = state.withLock { state in
            state.routes = routes
            state.loaded = true
            let byGrant = Dictionary(routes.values.map { ($0.grantId, $0) }, uniquingKeysWith: { first, _ in first })
            var unwritten: [String: Int64] = [:]
            for call in state.unrecorded { unwritten[call.grantId, default: 0] += call.chargedTokens }
            for (grantId, route) in byGrant where state.limiters[grantId] != nil {
                state.limiters[grantId]?.update(route.limits)
                state.limiters[grantId]?.resync(used: route.tokensUsed + unwritten[grantId, default: 0])
            }
            var cuts: [(CallCut, GatewayRefusal)] = []
            for (grantId, calls) in state.openCalls {
                // A grant whose keys are all revoked drops out of the directory: revoked.
                let refusal = byGrant[grantId].map { $0.refusal(at: at) } ?? .revoked
                if let refusal { cuts += calls.values.map { ($0, refusal) } }
            }
            return cuts
        }
        for (cut, refusal) in cuts { cut.cut(refusal) }
    }

    /// The route for a key secret. A key the directory does not know yet (issued a moment ago,
    /// perhaps by another server) triggers a reload, at most one every quarter second.
    func route(forSecret secret: String) async throws -> GatewayRoute? {
        let digest = SecretDigest.of(secret)
        let (route, reload) = state.withLock { state -> (GatewayRoute?, Bool) in
            if let route = state.routes[digest] { return (route, false) }
            let now = ContinuousClock.now
            guard !state.loaded || state.reloadedForMiss.map({ now - $0 > .milliseconds(250) }) ?? true else { return (nil, false) }
            state.reloadedForMiss = now
            return (nil, true)
        }
        if let route { return route }
        guard reload else { return nil }
        try await refresh()
        return state.withLock { $0.routes[digest] }
    }

    // MARK: Limits

    func admit(_ route: GatewayRoute, reserve: Int64) -> Result<GrantLimiter.Admission, GrantLimiter.Refusal> {
        let at = ContinuousClock.now.secondsSinceStart
        return state.withLock { state in
            var limiter = state.limiters[route.grantId] ?? GrantLimiter(limits: route.limits, used: route.tokensUsed, now: at)
            let result = limiter.admit(reserve: reserve, at: at)
            state.limiters[route.grantId] = limiter
            return result
        }
    }

    func open(_ cut: CallCut, callId: String, grantId: String) {
        state.withLock { $0.openCalls[grantId, default: [:]][callId] = cut }
    }

    /// Charges a finished call, closes it, and queues its record.
    func finish(_ route: GatewayRoute, _ admission: GrantLimiter.Admission, callId: String, record: GatewayCallRecord) {
        let at = ContinuousClock.now.secondsSinceStart
        state.withLock { state in
            state.limiters[route.grantId]?.settle(admission, tokens: record.chargedTokens, at: at)
            state.openCalls[route.grantId]?[callId] = nil
            state.unrecorded.append(record)
        }
    }

    /// Queues the record of a call refused before it was admitted.
    func recordRefusal(_ record: GatewayCallRecord) {
        state.withLock { $0.unrecorded.append(record) }
    }

    // MARK: Records

    /// Writes the queued call records to the audit log in one transaction.
    public func flush() async throws {
        let calls = state.withLock { state in
            defer { state.unrecorded.removeAll() }
            return state.unrecorded
        }
        guard !calls.isEmpty else { return }
        do {
            try await store.transaction { try await $0.record(calls) }
        } catch {
            // Put them back first in line, so a failing store loses no record.
            state.withLock { $0.unrecorded.insert(contentsOf: calls, at: 0) }
            throw error
        }
    }
}

extension ContinuousClock.Instant {
    /// Seconds on a clock that never goes back, for rate buckets.
    var secondsSinceStart: Double {
        let components = (self - AccessGateway.clockOrigin).components
        return Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}

extension AccessGateway {
    static let clockOrigin = ContinuousClock.now
}

/// Ends one open call when its grant is revoked or its model closed.
final class CallCut: Sendable {
    private let signal: AsyncStream<GatewayRefusal>
    private let trigger: AsyncStream<GatewayRefusal>.Continuation

    init() {
        (signal, trigger) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(1))
    }

    func cut(_ refusal: GatewayRefusal) {
        trigger.yield(refusal)
        trigger.finish()
    }

    /// Ends the wait without a cut, when the call is done.
    func release() { trigger.finish() }

    /// The refusal that cut the call, or nil once the call was released.
    func wait() async -> GatewayRefusal? {
        for await refusal in signal { return refusal }
        return nil
    }
}
