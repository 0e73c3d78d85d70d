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
        /// store and call records written to it, which bounds how late a change made by another
        /// server is seen.
        public var refreshInterval: Duration
        /// `gateway.upstream_timeout_seconds` (default 600): the longest a call may take upstream.
        public var upstreamTimeout: Duration
        /// `gateway.max_connections` (default 256): idle connections kept open to one upstream
        /// from each event loop.
        public var maxConnectionsPerHost: Int
        /// `gateway.journal_path`: the write-ahead journal of admitted calls (see ``CallJournal``);
        /// `airlock serve` and `airlock gateway` default it beside a SQLite store. Nil: none
        /// (in-process tests). Each gateway process needs a journal of its own.
        public var journalPath: String?
        /// The HTTP server's walls against slow clients: see ``ClientTimeouts``.
        public var clientTimeouts: ClientTimeouts

        public init(
            refreshInterval: Duration = .seconds(1), upstreamTimeout: Duration = .seconds(600), maxConnectionsPerHost: Int = 256,
            journalPath: String? = nil, clientTimeouts: ClientTimeouts = .init()
        ) {
            self.refreshInterval = refreshInterval
            self.upstreamTimeout = upstreamTimeout
            self.maxConnectionsPerHost = maxConnectionsPerHost
            self.journalPath = journalPath
            self.clientTimeouts = clientTimeouts
        }
    }

    public let store: ProgramStore
    let configuration: Configuration
    let logger: Logger
    let upstreams: UpstreamConnections
    let now: @Sendable () -> Date
    let journal: CallJournal?
    private let state = Mutex(State())
    /// The flush in progress: flushes run one after another, so that the journal's audit
    /// sequence never passes a record still to be written.
    private let lastFlush = Mutex<Task<Void, any Error>?>(nil)
    /// The recording of what the journal held at start, once.
    private let recovery = Mutex<Task<Void, any Error>?>(nil)

    struct State {
        var routes: [String: GatewayRoute] = [:]
        var limiters: [String: GrantLimiter] = [:]
        /// Each open call's way to end it, by grant and call.
        var openCalls: [String: [String: @Sendable (GatewayRefusal) -> Void]] = [:]
        var unrecorded: [GatewayCallRecord] = []
        /// The reload that misses wait for, and when it reads the store: a key issued before a
        /// miss is found by the first reload that starts after it.
        var missReload: (startsAt: ContinuousClock.Instant, task: Task<Void, any Error>)?
        /// Digests found in no reload that started after they were first tried, until when
        /// they are answered 401 without another reload.
        var knownUnknown: [String: ContinuousClock.Instant] = [:]
        var unknownKeys = UnknownKeyTally()
        /// Metric handles by route and status, made once: making one per call costs a lookup in
        /// the metrics backend under its lock.
        var callCounters: [CallMetric: Counter] = [:]
        var callTimers: [GatewayAPI: Metrics.Timer] = [:]
    }

    struct CallMetric: Hashable {
        var api: GatewayAPI
        var status: Int
    }

    /// Opens the journal at `configuration.journalPath`, if any; the calls a crash left in it are
    /// recorded at the first directory load, before any call is admitted.
    public init(store: ProgramStore, configuration: Configuration = .init(), logger: Logger, now: @escaping @Sendable () -> Date = Date.init) throws {
        self.store = store
        journal = try configuration.journalPath.map { try CallJournal(path: $0) }
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
        try await flush(final: true)
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
        if let journal {
            // Every refresh waits for the one recovery: no call is admitted before the calls a
            // crash left behind are charged.
            let task = recovery.withLock { current in
                if let current { return current }
                let task = Task { try await self.recover(from: journal) }
                current = task
                return task
            }
            do {
                try await task.value
            } catch {
                recovery.withLock { $0 = nil }
                throw error
            }
        }
        let records = try await store.transaction { try await $0.gatewayKeys() }
        let routes = Dictionary(
            records.map { ($0.secretDigest, GatewayRoute($0, sealer: store.sealer)) }, uniquingKeysWith: { first, _ in first })
        let at = now()
        let cuts: [(@Sendable (GatewayRefusal) -> Void, GatewayRefusal)] = state.withLock { state in
            state.routes = routes
            let byGrant = Dictionary(routes.values.map { ($0.grantId, $0) }, uniquingKeysWith: { first, _ in first })
            var unwritten: [String: Int64] = [:]
            for call in state.unrecorded { unwritten[call.grantId, default: 0] = unwritten[call.grantId, default: 0].addingSaturated(max(0, call.chargedTokens)) }
            for (grantId, route) in byGrant where state.limiters[grantId] != nil {
                state.limiters[grantId]?.update(route.limits)
                state.limiters[grantId]?.resync(used: route.tokensUsed.addingSaturated(unwritten[grantId, default: 0]))
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

    /// Reloads for unknown keys start at most this often, however many unknown keys arrive.
    static let missReloadSpacing = Duration.milliseconds(250)
    /// How long a key no reload found is answered 401 at once, without waiting for a reload.
    static let knownUnknownFor = Duration.seconds(2)

    /// The route for a key's digest, from memory. A key the directory does not know yet (issued
    /// a moment ago, perhaps by another server) asks for a reload.
    func cachedRoute(forDigest digest: String) -> RouteLookup {
        state.withLock { state in
            if let route = state.routes[digest] { return .found(route) }
            if let until = state.knownUnknown[digest], ContinuousClock.now < until { return .unknown }
            return .reload
        }
    }

    /// The route for a key's digest, waiting where the key is not known yet for a reload that
    /// starts after this moment. Misses share reloads, which start at most every quarter second:
    /// a flood of unknown keys costs the store four reads a second.
    func route(forDigest digest: String) async throws -> GatewayRoute? {
        if case .found(let route) = cachedRoute(forDigest: digest) { return route }
        if case .unknown = cachedRoute(forDigest: digest) { return nil }
        let missedAt = ContinuousClock.now
        let reload = state.withLock { state in
            if let pending = state.missReload, pending.startsAt >= missedAt { return pending.task }
            let startsAt = max(missedAt, (state.missReload?.startsAt ?? missedAt - Self.missReloadSpacing) + Self.missReloadSpacing)
            let previous = state.missReload?.task
            let task = Task {
                _ = await previous?.result
                try await Task.sleep(until: startsAt, clock: .continuous)
                try await self.refresh()
            }
            state.missReload = (startsAt, task)
            return task
        }
        try await reload.value
        return state.withLock { state in
            if let route = state.routes[digest] { return route }
            if state.knownUnknown.count >= 10_000 { state.knownUnknown.removeAll() }
            state.knownUnknown[digest] = ContinuousClock.now + Self.knownUnknownFor
            return nil
        }
    }

    /// Counts a call made with an unknown key, for the audit log (see ``UnknownKeyTally``).
    func countUnknownKey(digest: String, address: String) {
        let at = now()
        state.withLock { $0.unknownKeys.count(address: address, digest: digest, at: at) }
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

    /// Writes the queued call records to the audit log in one transaction, after one `fsync`
    /// of the journal; then drops the recorded calls from the journal.
    /// Unknown-key counts are written once their minute is over, or all of them when `final`.
    public func flush(final: Bool = false) async throws {
        let task = lastFlush.withLock { last in
            let previous = last
            let next = Task {
                _ = await previous?.result
                try await self.flushQueued(final: final)
            }
            last = next
            return next
        }
        try await task.value
    }

    private func flushQueued(final: Bool) async throws {
        journal?.sync()
        let endedBefore = final ? nil : now()
        let (calls, unknownKeys) = state.withLock { state in
            defer { state.unrecorded.removeAll() }
            return (state.unrecorded, state.unknownKeys.take(endedBefore: endedBefore))
        }
        guard !calls.isEmpty || !unknownKeys.isEmpty else { return }
        let auditBefore: Int64
        do {
            auditBefore = try await store.transaction { records in
                let head = try await records.auditHead().sequence
                try await records.record(calls)
                _ = try await records.appendAudit(unknownKeys)
                return head
            }
        } catch {
            // Put them back first in line, so a failing store loses no record (a tally lost
            // here costs a count of refused calls, never a charge).
            state.withLock { $0.unrecorded.insert(contentsOf: calls, at: 0) }
            throw error
        }
        try journal?.committed(calls.lazy.map(\.callId), auditAfter: auditBefore)
    }

    /// Records the calls a crash left in the journal whose records never reached the store,
    /// each charged its reservation; forgets those that did.
    private func recover(from journal: CallJournal) async throws {
        let leftBehind = journal.takeLeftBehind()
        guard !leftBehind.isEmpty else { return }
        do {
            try await recover(leftBehind, from: journal)
        } catch {
            journal.putBack(leftBehind)
            throw error
        }
    }

    private func recover(_ leftBehind: [GatewayCallRecord], from journal: CallJournal) async throws {
        var recorded: Set<String> = []
        var after = journal.auditAfter
        while true {
            let page = try await store.transaction { [after] in try await $0.auditEntries(after: after, limit: 1000) }
            for entry in page where entry.action == "gateway.call" {
                let detail = try? JSONSerialization.jsonObject(with: Data(entry.detail.utf8)) as? [String: Any]
                if let call = detail?["call"] as? String { recorded.insert(call) }
            }
            guard let last = page.last else { break }
            after = last.sequence
        }
        let lost = leftBehind.filter { !recorded.contains($0.callId) }
        try journal.committed(leftBehind.lazy.map(\.callId).filter { recorded.contains($0) }, auditAfter: nil)
        if !lost.isEmpty {
            logger.warning("recording calls lost in a crash, each charged its reservation", metadata: ["calls": "\(lost.count)"])
            state.withLock { $0.unrecorded.append(contentsOf: lost) }
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
