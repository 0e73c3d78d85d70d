import AirlockCore
import AirlockStore
import Foundation
import Logging
import Metrics
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
        /// `gateway.max_connections` (default 256): idle connections kept open to one upstream
        /// from each event loop.
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
    let upstreams: UpstreamConnections
    let now: @Sendable () -> Date
    private let state = Mutex(State())

    struct State {
        var routes: [String: GatewayRoute] = [:]
        var limiters: [String: GrantLimiter] = [:]
        /// Each open call's way to end it, by grant and call.
        var openCalls: [String: [String: @Sendable (GatewayRefusal) -> Void]] = [:]
        var unrecorded: [GatewayCallRecord] = []
        var loaded = false
        var reloadedForMiss: ContinuousClock.Instant?
        /// Metric handles by route and status, made once: making one per call costs a lookup in
        /// the metrics backend under its lock.
        var callCounters: [CallMetric: Counter] = [:]
        var callTimers: [GatewayAPI: Metrics.Timer] = [:]
    }

    struct CallMetric: Hashable {
        var api: GatewayAPI
        var status: Int
    }

    public init(store: ProgramStore, configuration: Configuration = .init(), logger: Logger, now: @escaping @Sendable () -> Date = Date.init) {
        self.store = store
        self.configuration = configuration
        self.logger = logger
        self.now = now
        // Upstream redirects are never followed: the developer's credential goes to their endpoint only.
        upstreams = UpstreamConnections(connectTimeout: .seconds(10), maxIdlePerKey: configuration.maxConnectionsPerHost)
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
        upstreams.closeAll()
    }

    // MARK: Directory

    /// Reloads the grant keys from the store; cuts the open calls of grants that may no longer
    /// call. The program API calls this after it revokes a grant or closes a version.
    public func refresh() async throws {
        let records = try await store.transaction { try await $0.gatewayKeys() }
        let routes = Dictionary(
            records.map { ($0.secretDigest, GatewayRoute($0, sealer: store.sealer)) }, uniquingKeysWith: { first, _ in first })
        let at = now()
        let cuts: [(@Sendable (GatewayRefusal) -> Void, GatewayRefusal)] = state.withLock { state in
            state.routes = routes
            state.loaded = true
            let byGrant = Dictionary(routes.values.map { ($0.grantId, $0) }, uniquingKeysWith: { first, _ in first })
            var unwritten: [String: Int64] = [:]
            for call in state.unrecorded { unwritten[call.grantId, default: 0] += call.chargedTokens }
            for (grantId, route) in byGrant where state.limiters[grantId] != nil {
                state.limiters[grantId]?.update(route.limits)
                state.limiters[grantId]?.resync(used: route.tokensUsed + unwritten[grantId, default: 0])
            }
            var cuts: [(@Sendable (GatewayRefusal) -> Void, GatewayRefusal)] = []
            for (grantId, calls) in state.openCalls {
                // A grant whose keys are all revoked drops out of the directory: revoked.
                let refusal = byGrant[grantId].map { $0.refusal(at: at) } ?? .revoked
                if let refusal { cuts += calls.values.map { ($0, refusal) } }
            }
            return cuts
        }
        for (cut, refusal) in cuts { cut(refusal) }
    }

    enum RouteLookup {
        case found(GatewayRoute)
        case unknown
        /// Not known yet: reload the directory and look again.
        case reload
    }

    /// The route for a key's digest, from memory. A key the directory does not know yet (issued
    /// a moment ago, perhaps by another server) asks for a reload, at most one every quarter second.
    func cachedRoute(forDigest digest: String) -> RouteLookup {
        state.withLock { state in
            if let route = state.routes[digest] { return .found(route) }
            let now = ContinuousClock.now
            guard !state.loaded || state.reloadedForMiss.map({ now - $0 > .milliseconds(250) }) ?? true else { return .unknown }
            state.reloadedForMiss = now
            return .reload
        }
    }

    /// The route for a key's digest, reloading the directory where the key is not known yet.
    func route(forDigest digest: String) async throws -> GatewayRoute? {
        switch cachedRoute(forDigest: digest) {
        case .found(let route): return route
        case .unknown: return nil
        case .reload:
            try await refresh()
            return state.withLock { $0.routes[digest] }
        }
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

    /// Registers an open call with the way to end it when its grant may no longer call.
    func open(callId: String, grantId: String, cut: @escaping @Sendable (GatewayRefusal) -> Void) {
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

    /// Counts an answered call in `airlock_gateway_calls_total{route,status}` and times it in
    /// `airlock_gateway_call_duration_seconds{route}`.
    func count(_ api: GatewayAPI, status: Int, duration: Duration) {
        let (counter, timer) = state.withLock { state in
            let key = CallMetric(api: api, status: status)
            let counter =
                state.callCounters[key]
                ?? Counter(label: "airlock_gateway_calls_total", dimensions: [("route", api.route), ("status", String(status))])
            let timer = state.callTimers[api] ?? Metrics.Timer(label: "airlock_gateway_call_duration_seconds", dimensions: [("route", api.route)])
            state.callCounters[key] = counter
            state.callTimers[api] = timer
            return (counter, timer)
        }
        counter.increment()
        timer.record(duration: duration)
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
