import Foundation
import Logging
import NIOCore
import NIOPosix
import Synchronization

/// How to reach NATS.
public struct NATSConfiguration: Sendable {
    /// Servers as `nats://[user:password@]host:port` (or `host:port`), tried in turn; servers
    /// the cluster announces are added.
    public var servers: [String]
    /// User and password (secrets), unless a server URL carries them.
    public var user: String?
    public var password: String?
    /// A token (secret), for servers that take one instead.
    public var token: String?
    /// The connection's name, as the server shows it.
    public var name: String
    public var connectTimeout: Duration
    /// How often the client checks that the server is there; after `maxPingsOutstanding`
    /// unanswered checks the connection is dropped and made again.
    public var pingInterval: Duration
    public var maxPingsOutstanding: Int
    public var reconnect: ReconnectBackoff.Policy
    /// How long a publish or request waits for the connection to come back before it fails.
    public var reconnectWait: Duration
    /// Messages a subscription holds before its oldest are dropped (a slow reader).
    public var subscriptionPending: Int

    public init(
        servers: [String], user: String? = nil, password: String? = nil, token: String? = nil, name: String = "airlock",
        connectTimeout: Duration = .seconds(5), pingInterval: Duration = .seconds(20), maxPingsOutstanding: Int = 2,
        reconnect: ReconnectBackoff.Policy = .init(), reconnectWait: Duration = .seconds(30), subscriptionPending: Int = 65_536
    ) {
        self.servers = servers
        self.user = user
        self.password = password
        self.token = token
        self.name = name
        self.connectTimeout = connectTimeout
        self.pingInterval = pingInterval
        self.maxPingsOutstanding = maxPingsOutstanding
        self.reconnect = reconnect
        self.reconnectWait = reconnectWait
        self.subscriptionPending = subscriptionPending
    }
}

/// A server to try, with the credentials its URL carries.
struct ServerAddress: Sendable, Hashable {
    var host: String
    var port: Int
    var user: String?
    var password: String?

    /// `nats://[user:password@]host:port`, `host:port` or `host` (port 4222).
    init(_ text: String) throws {
        var rest = Substring(text)
        if let scheme = rest.range(of: "://") {
            guard rest[..<scheme.lowerBound] == "nats" else { throw NATSError(.badSubject, "not a nats:// URL: \(text)") }
            rest = rest[scheme.upperBound...]
        }
        if let at = rest.lastIndex(of: "@") {
            let credentials = rest[..<at].split(separator: ":", maxSplits: 1).map { String($0).removingPercentEncoding ?? String($0) }
            user = credentials.first
            password = credentials.count > 1 ? credentials[1] : nil
            rest = rest[rest.index(after: at)...]
        }
        if let colon = rest.lastIndex(of: ":"), !rest.hasSuffix("]") {
            guard let port = Int(rest[rest.index(after: colon)...]), (1...65535).contains(port) else { throw NATSError(.badSubject, "not a port in \(text)") }
            self.port = port
            host = String(rest[..<colon])
        } else {
            port = 4222
            host = String(rest)
        }
        host = host.trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        guard !host.isEmpty else { throw NATSError(.badSubject, "no host in \(text)") }
    }
}

/// A connection to NATS that stays up: it is made again after a drop (with backoff, over the
/// servers it knows), its subscriptions are made again on the new connection, and publishes
/// wait for it meanwhile. Operations that were waiting for an answer when it dropped fail with
/// `disconnected` and may be retried.
public final class NATSConnection: Sendable {
    let configuration: NATSConfiguration
    let logger: Logger
    private let group: any EventLoopGroup
    private let state: Mutex<State>
    /// Replies to requests arrive under this prefix, on one subscription.
    private let inbox: String

    private enum Phase { case connecting, connected, reconnecting, closed }

    private struct Subscription {
        var subject: String
        var queue: String?
        var continuation: AsyncStream<NATSMessage>.Continuation?
    }

    private struct State {
        var phase = Phase.connecting
        var channel: (any Channel)?
        var generation = 0
        var info: ServerInfo?
        var servers: [ServerAddress]
        var nextSID: UInt64 = 1
        var subscriptions: [UInt64: Subscription] = [:]
        /// One entry per PING sent, answered in order; nil for the keep-alive's own.
        var pongs: [CheckedContinuation<Void, any Error>?] = []
        var connectedWaiters: [UInt64: CheckedContinuation<Void, any Error>] = [:]
        var nextWaiter: UInt64 = 0
        var requests: [String: CheckedContinuation<NATSMessage, any Error>] = [:]
        /// Each waiting request's publish-then-time-out task, cancelled when its reply comes.
        var requestTimers: [String: Task<Void, Never>] = [:]
        var nextRequest: UInt64 = 0
        var inboxSID: UInt64?
        /// The inbox's SUB on its way: every request waits for it, so that no reply arrives
        /// before the server knows where it goes.
        var inboxSubscribed: Task<Void, any Error>?
        var tasks: [Task<Void, Never>] = []

        /// Takes what the server said, with the servers of its cluster it announces.
        mutating func learn(_ info: ServerInfo) {
            self.info = info
            for url in info.connectURLs {
                if let address = try? ServerAddress(url), !servers.contains(where: { $0.host == address.host && $0.port == address.port }) {
                    servers.append(address)
                }
            }
        }
    }

    private init(configuration: NATSConfiguration, servers: [ServerAddress], group: any EventLoopGroup, logger: Logger) {
        self.configuration = configuration
        self.group = group
        self.logger = logger
        state = Mutex(State(servers: servers))
        inbox = Self.newInboxSubject()
    }

    /// Connects (to the first server that answers), runs `body`, and closes whatever happens.
    public static func withConnection<T: Sendable>(
        _ configuration: NATSConfiguration, eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton, logger: Logger,
        _ body: (NATSConnection) async throws -> T
    ) async throws -> T {
        let connection = try await connect(configuration, eventLoopGroup: eventLoopGroup, logger: logger)
        do {
            let result = try await body(connection)
            await connection.close()
            return result
        } catch {
            await connection.close()
            throw error
        }
    }

    /// Connects; the caller closes it (``close()``), as a long-lived service does.
    public static func connect(_ configuration: NATSConfiguration, eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton, logger: Logger) async throws -> NATSConnection {
        let servers = try configuration.servers.map(ServerAddress.init)
        guard !servers.isEmpty else { throw NATSError(.badSubject, "no NATS server named") }
        let connection = NATSConnection(configuration: configuration, servers: servers, group: eventLoopGroup, logger: logger)
        var lastError: (any Error)?
        for server in servers {
            do {
                try await connection.establish(server)
                connection.startKeepAlive()
                return connection
            } catch let error as NATSError where error.code == .authorization {
                throw error
            } catch {
                lastError = error
            }
        }
        throw lastError ?? NATSError(.disconnected, "no server answered")
    }

    /// What the server said when the connection was made.
    public var serverInfo: ServerInfo? { state.withLock { $0.info } }

    // MARK: Publishing and subscribing

    /// Publishes `payload` to `subject`.
    public func publish(_ subject: String, payload: ByteBuffer = ByteBuffer(), headers: NATSHeaders? = nil, replyTo: String? = nil) async throws {
        try NATSSubject.check(subject, wildcards: false)
        if let replyTo { try NATSSubject.check(replyTo, wildcards: false) }
        if let limit = serverInfo?.maxPayload, payload.readableBytes > limit {
            throw NATSError(.tooLarge, "a message of \(payload.readableBytes) bytes; the server takes at most \(limit)")
        }
        try await send([.publish(subject: subject, replyTo: replyTo, headers: headers, payload: payload)])
    }

    public func publish(_ subject: String, data: Data, headers: NATSHeaders? = nil, replyTo: String? = nil) async throws {
        try await publish(subject, payload: ByteBuffer(bytes: data), headers: headers, replyTo: replyTo)
    }

    /// Subscribes to `subject` (wildcards allowed), in `queue` if given (each message then goes
    /// to one member of the queue).
    public func subscribe(_ subject: String, queue: String? = nil) async throws -> NATSSubscription {
        try NATSSubject.check(subject, wildcards: true)
        if let queue { try NATSSubject.check(queue, wildcards: false) }
        let (stream, continuation) = AsyncStream.makeStream(of: NATSMessage.self, bufferingPolicy: .bufferingNewest(configuration.subscriptionPending))
        let sid = state.withLock { state -> UInt64 in
            defer { state.nextSID += 1 }
            state.subscriptions[state.nextSID] = Subscription(subject: subject, queue: queue, continuation: continuation)
            return state.nextSID
        }
        do {
            try await send([.subscribe(subject: subject, queue: queue, sid: sid)])
        } catch {
            _ = state.withLock { $0.subscriptions.removeValue(forKey: sid) }
            continuation.finish()
            throw error
        }
        return NATSSubscription(sid: sid, subject: subject, messages: stream, connection: self)
    }

    func unsubscribe(_ sid: UInt64) async {
        let removed = state.withLock { $0.subscriptions.removeValue(forKey: sid) }
        removed?.continuation?.finish()
        if removed != nil { try? await send([.unsubscribe(sid: sid, max: nil)], waitForConnection: false) }
    }

    /// Sends `payload` to `subject` and waits for one reply. A status 503 reply (nobody
    /// listens) is `noResponders`.
    public func request(_ subject: String, payload: ByteBuffer = ByteBuffer(), headers: NATSHeaders? = nil, timeout: Duration = .seconds(5)) async throws -> NATSMessage {
        try NATSSubject.check(subject, wildcards: false)
        try await ensureInbox()
        let token = state.withLock { state -> String in
            defer { state.nextRequest += 1 }
            return String(state.nextRequest, radix: 36)
        }
        let message = try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<NATSMessage, any Error>) in
            let closed = state.withLock { state -> Bool in
                guard state.phase != .closed else { return true }
                state.requests[token] = continuation
                return false
            }
            if closed { return continuation.resume(throwing: NATSError(.closed, "the connection is closed")) }
            let timer = Task { [weak self] in
                guard let self else { return }
                do {
                    try await self.publish(subject, payload: payload, headers: headers, replyTo: "\(self.inbox).\(token)")
                } catch {
                    return self.finishRequest(token, with: .failure(error))
                }
                try? await Task.sleep(for: timeout)
                if !Task.isCancelled { self.finishRequest(token, with: .failure(NATSError(.timeout, "no reply from \(subject) within \(timeout)"))) }
            }
            let answered = state.withLock { state -> Bool in
                guard state.requests[token] != nil else { return true }
                state.requestTimers[token] = timer
                return false
            }
            if answered { timer.cancel() }
        }
        if message.headers?.status == 503 { throw NATSError(.noResponders, "no one listens on \(subject)") }
        return message
    }

    public func request(_ subject: String, data: Data, headers: NATSHeaders? = nil, timeout: Duration = .seconds(5)) async throws -> NATSMessage {
        try await request(subject, payload: ByteBuffer(bytes: data), headers: headers, timeout: timeout)
    }

    private func finishRequest(_ token: String, with result: Result<NATSMessage, any Error>) {
        let (continuation, timer) = state.withLock { ($0.requests.removeValue(forKey: token), $0.requestTimers.removeValue(forKey: token)) }
        timer?.cancel()
        continuation?.resume(with: result)
    }

    private func ensureInbox() async throws {
        let subscribed = state.withLock { state -> Task<Void, any Error> in
            if let task = state.inboxSubscribed { return task }
            let sid = state.nextSID
            state.nextSID += 1
            state.inboxSID = sid
            state.subscriptions[sid] = Subscription(subject: inbox + ".*", queue: nil, continuation: nil)
            let subject = inbox + ".*"
            let task = Task { try await self.send([.subscribe(subject: subject, queue: nil, sid: sid)]) }
            state.inboxSubscribed = task
            return task
        }
        do {
            try await subscribed.value
        } catch {
            // The next request tries again.
            state.withLock { state in
                if let sid = state.inboxSID { state.subscriptions[sid] = nil }
                state.inboxSID = nil
                state.inboxSubscribed = nil
            }
            throw error
        }
    }

    /// A fresh subject under this connection's inbox, for replies that come more than once
    /// (JetStream's pulls).
    public func newInbox() -> String { Self.newInboxSubject() }

    /// `_INBOX.` and 22 random letters and digits (about 131 bits): no one guesses another's replies.
    private static func newInboxSubject() -> String {
        "_INBOX." + String((0..<22).map { _ in "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".randomElement()! })
    }

    /// Waits until the server has read everything sent before (a PING answered by its PONG).
    public func flush(timeout: Duration = .seconds(10)) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                    let channel = self.state.withLock { state -> (any Channel)? in
                        guard state.phase == .connected, let channel = state.channel else { return nil }
                        state.pongs.append(continuation)
                        return channel
                    }
                    guard let channel else { return continuation.resume(throwing: NATSError(.disconnected, "not connected")) }
                    Self.write([.ping], to: channel)
                }
            }
            group.addTask {
                try await Task.sleep(for: timeout)
                throw NATSError(.timeout, "no PONG within \(timeout)")
            }
            defer { group.cancelAll() }
            try await group.next()
        }
    }

    /// Closes the connection: subscriptions end, waiting operations fail with `closed`.
    public func close() async {
        let (channel, state) = state.withLock { state -> ((any Channel)?, State) in
            let copy = state
            state.phase = .closed
            state.channel = nil
            state.subscriptions = [:]
            state.pongs = []
            state.connectedWaiters = [:]
            state.requests = [:]
            state.requestTimers = [:]
            state.tasks = []
            return (copy.channel, copy)
        }
        guard state.phase != .closed else { return }
        for task in state.tasks { task.cancel() }
        for subscription in state.subscriptions.values { subscription.continuation?.finish() }
        let closed = NATSError(.closed, "the connection is closed")
        for pong in state.pongs { pong?.resume(throwing: closed) }
        for waiter in state.connectedWaiters.values { waiter.resume(throwing: closed) }
        for request in state.requests.values { request.resume(throwing: closed) }
        for timer in state.requestTimers.values { timer.cancel() }
        try? await channel?.close()
    }

    // MARK: The channel

    /// Sends `commands` once connected (waiting through a reconnect up to `reconnectWait`).
    private func send(_ commands: [ClientCommand], waitForConnection wait: Bool = true) async throws {
        var channel = try currentChannel()
        if channel == nil, wait {
            try await waitForConnection(upTo: configuration.reconnectWait)
            channel = try currentChannel()
        }
        guard let channel else { throw NATSError(.disconnected, "not connected") }
        var buffer = channel.allocator.buffer(capacity: 256)
        for command in commands { try command.write(into: &buffer) }
        do {
            try await channel.writeAndFlush(buffer)
        } catch where wait {
            // The server went away under this write (a broken pipe before the channel's close
            // is seen): the bytes did not go, so they go once on the next connection.
            channel.close(promise: nil)
            let next = try await nextChannel(after: channel)
            try await next.writeAndFlush(buffer)
        }
    }

    /// The connection's channel once it is another than `old`, waiting through a reconnect.
    private func nextChannel(after old: any Channel) async throws -> any Channel {
        let deadline = ContinuousClock.now + configuration.reconnectWait
        while true {
            if let current = try currentChannel() {
                if current !== old { return current }
                try await Task.sleep(for: .milliseconds(10))
            } else {
                try await waitForConnection(upTo: configuration.reconnectWait)
            }
            guard ContinuousClock.now < deadline else { throw NATSError(.disconnected, "no connection to NATS within \(configuration.reconnectWait)") }
        }
    }

    private func currentChannel() throws -> (any Channel)? {
        try state.withLock { state in
            if state.phase == .closed { throw NATSError(.closed, "the connection is closed") }
            return state.phase == .connected ? state.channel : nil
        }
    }

    private static func write(_ commands: [ClientCommand], to channel: any Channel) {
        var buffer = channel.allocator.buffer(capacity: 64)
        for command in commands { try? command.write(into: &buffer) }
        channel.writeAndFlush(buffer, promise: nil)
    }

    private func waitForConnection(upTo limit: Duration) async throws {
        let id = state.withLock { state -> UInt64 in
            defer { state.nextWaiter += 1 }
            return state.nextWaiter
        }
        let timer = Task { [weak self] in
            try? await Task.sleep(for: limit)
            let waiter = self?.state.withLock { $0.connectedWaiters.removeValue(forKey: id) }
            waiter?.resume(throwing: NATSError(.disconnected, "no connection to NATS within \(limit)"))
        }
        defer { timer.cancel() }
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let ready = state.withLock { state -> Result<Bool, NATSError> in
                switch state.phase {
                case .closed: return .failure(NATSError(.closed, "the connection is closed"))
                case .connected: return .success(true)
                case .connecting, .reconnecting:
                    state.connectedWaiters[id] = continuation
                    return .success(false)
                }
            }
            switch ready {
            case .failure(let error): continuation.resume(throwing: error)
            case .success(true): continuation.resume()
            case .success(false): break
            }
        }
    }

    /// Opens a channel to `server`, reads INFO, sends CONNECT and waits for the PONG that says
    /// it was accepted; then makes the subscriptions again and lets waiting writers go.
    private func establish(_ server: ServerAddress) async throws {
        let generation = state.withLock { state -> Int in
            state.generation += 1
            return state.generation
        }
        let handshake = group.next().makePromise(of: ServerInfo.self)
        let connectOptions = ConnectOptions(
            name: configuration.name,
            user: server.user ?? configuration.user, pass: server.password ?? configuration.password, authToken: configuration.token
        )
        let channel: any Channel
        do {
            channel = try await ClientBootstrap(group: group)
                .connectTimeout(.nanoseconds(Int64(configuration.connectTimeout.components.seconds) * 1_000_000_000 + configuration.connectTimeout.components.attoseconds / 1_000_000_000))
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(ServerOperationDecoder()))
                        try channel.pipeline.syncOperations.addHandler(ConnectionHandler(connection: self, generation: generation, connect: connectOptions, handshake: handshake))
                    }
                }
                .connect(host: server.host, port: server.port).get()
        } catch {
            handshake.fail(error)
            throw NATSError(.disconnected, "cannot reach \(server.host):\(server.port): \(error)")
        }
        let timeout = channel.eventLoop.scheduleTask(in: .nanoseconds(Int64(configuration.connectTimeout.components.seconds) * 1_000_000_000)) {
            handshake.fail(NATSError(.timeout, "no answer from \(server.host):\(server.port) within \(self.configuration.connectTimeout)"))
        }
        let info: ServerInfo
        do {
            info = try await handshake.futureResult.get()
            timeout.cancel()
        } catch {
            timeout.cancel()
            try? await channel.close()
            throw error
        }
        let (subscriptions, waiters) = state.withLock { state -> ([(UInt64, Subscription)], [CheckedContinuation<Void, any Error>]) in
            state.channel = channel
            state.phase = state.phase == .closed ? .closed : .connected
            state.learn(info)
            let waiters = Array(state.connectedWaiters.values)
            state.connectedWaiters = [:]
            return (state.subscriptions.sorted { $0.key < $1.key }, waiters)
        }
        if !subscriptions.isEmpty {
            Self.write(subscriptions.map { .subscribe(subject: $0.1.subject, queue: $0.1.queue, sid: $0.0) }, to: channel)
        }
        for waiter in waiters { waiter.resume() }
        logger.debug("connected to NATS", metadata: ["server": "\(server.host):\(server.port)", "server_id": "\(info.serverID)", "resubscribed": "\(subscriptions.count)"])
    }

    /// The channel of `generation` dropped: fail what waited on it, then reconnect.
    fileprivate func lost(generation: Int, error: (any Error)?) {
        let dropped = state.withLock { state -> (pongs: [CheckedContinuation<Void, any Error>?], requests: [CheckedContinuation<NATSMessage, any Error>])? in
            guard state.generation == generation, state.phase == .connected || state.phase == .connecting else { return nil }
            state.phase = .reconnecting
            state.channel = nil
            defer {
                state.pongs = []
                state.requests = [:]
                for timer in state.requestTimers.values { timer.cancel() }
                state.requestTimers = [:]
            }
            return (state.pongs, Array(state.requests.values))
        }
        guard let dropped else { return }
        logger.warning("NATS connection lost; reconnecting", metadata: ["error": "\(error.map { "\($0)" } ?? "closed by the server")"])
        let error = NATSError(.disconnected, "the connection to NATS dropped")
        for pong in dropped.pongs { pong?.resume(throwing: error) }
        for request in dropped.requests { request.resume(throwing: error) }
        let task = Task { await self.reconnect() }
        state.withLock { $0.tasks.append(task) }
    }

    private func reconnect() async {
        var backoff = ReconnectBackoff(policy: configuration.reconnect)
        var index = 0
        while !Task.isCancelled {
            guard let wait = backoff.next(jitter: Double.random(in: 0..<1)) else {
                logger.error("NATS reconnect attempts spent; the connection is closed")
                await close()
                return
            }
            try? await Task.sleep(for: wait)
            let servers = state.withLock { $0.phase == .closed ? [] : $0.servers }
            guard !servers.isEmpty else { return }
            let server = servers[index % servers.count]
            index += 1
            do {
                try await establish(server)
                return
            } catch {
                logger.debug("NATS reconnect failed", metadata: ["server": "\(server.host):\(server.port)", "error": "\(error)"])
            }
        }
    }

    private func startKeepAlive() {
        let task = Task { [weak self] in
            while !Task.isCancelled {
                guard let interval = self?.configuration.pingInterval else { return }
                try? await Task.sleep(for: interval)
                guard let self else { return }
                let (channel, stale) = self.state.withLock { state -> ((any Channel)?, Bool) in
                    guard state.phase == .connected, let channel = state.channel else { return (nil, false) }
                    if state.pongs.count >= self.configuration.maxPingsOutstanding { return (channel, true) }
                    state.pongs.append(nil)
                    return (channel, false)
                }
                guard let channel else { continue }
                if stale {
                    self.logger.warning("NATS server stopped answering PINGs; reconnecting")
                    channel.close(promise: nil)
                } else {
                    Self.write([.ping], to: channel)
                }
            }
        }
        state.withLock { $0.tasks.append(task) }
    }

    /// An operation read from the channel of `generation`.
    fileprivate func received(_ operation: ServerOperation, generation: Int, channel: any Channel) {
        switch operation {
        case .ping:
            Self.write([.pong], to: channel)
        case .pong:
            let waiter = state.withLock { state -> CheckedContinuation<Void, any Error>?? in
                guard state.generation == generation, !state.pongs.isEmpty else { return nil }
                return state.pongs.removeFirst()
            }
            if let waiter { waiter?.resume() }
        case .message(let message):
            let target = state.withLock { state -> (AsyncStream<NATSMessage>.Continuation?, String?) in
                guard let subscription = state.subscriptions[message.sid] else { return (nil, nil) }
                if message.sid == state.inboxSID { return (nil, String(message.subject.dropFirst(inbox.count + 1))) }
                return (subscription.continuation, nil)
            }
            if let token = target.1 {
                finishRequest(token, with: .success(message))
            } else {
                target.0?.yield(message)
            }
        case .info(let info):
            state.withLock { state in
                guard state.generation == generation else { return }
                state.learn(info)
            }
            if info.lameDuckMode { channel.close(promise: nil) }
        case .error(let text):
            logger.warning("NATS server error", metadata: ["error": "\(text.prefix(300))"])
        case .ok:
            break
        }
    }
}

/// A subscription's messages, in order; they end when it is unsubscribed or the connection closes.
public struct NATSSubscription: AsyncSequence, Sendable {
    public typealias Element = NATSMessage
    public let sid: UInt64
    public let subject: String
    let messages: AsyncStream<NATSMessage>
    let connection: NATSConnection

    public func makeAsyncIterator() -> AsyncStream<NATSMessage>.AsyncIterator { messages.makeAsyncIterator() }

    public func unsubscribe() async { await connection.unsubscribe(sid) }
}

/// Frames bytes into operations with ``ServerOperationParser``.
struct ServerOperationDecoder: ByteToMessageDecoder {
    typealias InboundOut = ServerOperation
    let parser = ServerOperationParser()

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let operation = try parser.next(&buffer) else { return .needMoreData }
        context.fireChannelRead(Self.wrapInboundOut(operation))
        return .continue
    }
}

/// Does the handshake (INFO, then CONNECT and PING, then PONG or -ERR), then hands every
/// operation to the connection; a protocol error closes the channel.
final class ConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = ServerOperation
    private let connection: NATSConnection
    private let generation: Int
    private let connect: ConnectOptions
    private var handshake: EventLoopPromise<ServerInfo>?
    private var info: ServerInfo?

    init(connection: NATSConnection, generation: Int, connect: ConnectOptions, handshake: EventLoopPromise<ServerInfo>) {
        self.connection = connection
        self.generation = generation
        self.connect = connect
        self.handshake = handshake
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let operation = unwrapInboundIn(data)
        guard let handshake else {
            connection.received(operation, generation: generation, channel: context.channel)
            return
        }
        switch operation {
        case .info(let info) where self.info == nil:
            self.info = info
            var buffer = context.channel.allocator.buffer(capacity: 256)
            do {
                try ClientCommand.connect(connect).write(into: &buffer)
                try ClientCommand.ping.write(into: &buffer)
            } catch {
                return fail(context, error)
            }
            context.writeAndFlush(NIOAny(buffer), promise: nil)
        case .pong where info != nil:
            self.handshake = nil
            handshake.succeed(info!)
        case .error(let text):
            let lower = text.lowercased()
            fail(context, NATSError(lower.contains("authorization") || lower.contains("authentication") ? .authorization : .serverError, text))
        case .ping:
            var buffer = context.channel.allocator.buffer(capacity: 8)
            try? ClientCommand.pong.write(into: &buffer)
            context.writeAndFlush(NIOAny(buffer), promise: nil)
        default:
            break
        }
    }

    private func fail(_ context: ChannelHandlerContext, _ error: any Error) {
        handshake?.fail(error)
        handshake = nil
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        if let handshake {
            self.handshake = nil
            handshake.fail(NATSError(.disconnected, "the server closed the connection during the handshake"))
        } else {
            connection.lost(generation: generation, error: nil)
        }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if handshake == nil { connection.logger.warning("NATS connection error", metadata: ["error": "\(error)"]) }
        fail(context, error)
    }
}
