import Foundation
import NIOCore
import Synchronization

/// The JetStream calls a work queue needs, as requests on `$JS.API.…` subjects with JSON
/// bodies: streams and durable pull consumers, publishing with an acknowledgement (and a
/// message id for de-duplication), pulling with an expiry and idle heartbeats, and the four
/// acknowledgements.
public struct JetStream: Sendable {
    public let connection: NATSConnection
    public var apiPrefix = "$JS.API"
    /// How long an API call waits for its answer.
    public var timeout: Duration

    public init(connection: NATSConnection, timeout: Duration = .seconds(5)) {
        self.connection = connection
        self.timeout = timeout
    }

    public struct StreamConfiguration: Codable, Sendable, Hashable {
        public var name: String
        public var subjects: [String]
        /// `limits`, `interest` or `workqueue` (a message goes once it is acknowledged).
        public var retention: String
        /// `file` or `memory`.
        public var storage: String
        public var replicas: Int
        /// Nanoseconds within which a repeated `Nats-Msg-Id` is dropped.
        public var duplicateWindow: Int64

        public init(name: String, subjects: [String], retention: String = "workqueue", storage: String = "file", replicas: Int = 1, duplicateWindow: Duration = .seconds(120)) {
            self.name = name
            self.subjects = subjects
            self.retention = retention
            self.storage = storage
            self.replicas = replicas
            self.duplicateWindow = duplicateWindow.nanoseconds
        }

        enum CodingKeys: String, CodingKey {
            case name, subjects, retention, storage
            case replicas = "num_replicas"
            case duplicateWindow = "duplicate_window"
        }
    }

    public struct ConsumerConfiguration: Codable, Sendable, Hashable {
        public var durableName: String
        public var ackPolicy = "explicit"
        /// Nanoseconds a delivered message waits for its acknowledgement before it is delivered again.
        public var ackWait: Int64
        /// Deliveries before a message is given up (-1: no limit).
        public var maxDeliver: Int
        public var filterSubject: String?
        public var maxAckPending: Int
        public var maxWaiting: Int
        public var deliverPolicy = "all"

        public init(durableName: String, ackWait: Duration = .seconds(30), maxDeliver: Int = -1, filterSubject: String? = nil, maxAckPending: Int = 10_000, maxWaiting: Int = 512) {
            self.durableName = durableName
            self.ackWait = ackWait.nanoseconds
            self.maxDeliver = maxDeliver
            self.filterSubject = filterSubject
            self.maxAckPending = maxAckPending
            self.maxWaiting = maxWaiting
        }

        enum CodingKeys: String, CodingKey {
            case durableName = "durable_name", ackPolicy = "ack_policy", ackWait = "ack_wait", maxDeliver = "max_deliver"
            case filterSubject = "filter_subject", maxAckPending = "max_ack_pending", maxWaiting = "max_waiting", deliverPolicy = "deliver_policy"
        }
    }

    /// The stream's answer to a publish.
    public struct PublishAcknowledgement: Decodable, Sendable, Hashable {
        public var stream: String
        public var sequence: UInt64
        /// The message id was seen within the duplicate window: nothing was stored.
        public var duplicate: Bool

        enum CodingKeys: String, CodingKey { case stream, sequence = "seq", duplicate }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            stream = try container.decode(String.self, forKey: .stream)
            sequence = try container.decode(UInt64.self, forKey: .sequence)
            duplicate = try container.decodeIfPresent(Bool.self, forKey: .duplicate) ?? false
        }
    }

    /// Makes the stream, or brings an existing one of that name to `configuration`.
    public func addStream(_ configuration: StreamConfiguration) async throws {
        do {
            try await call("STREAM.CREATE.\(configuration.name)", configuration)
        } catch let error as NATSError where error.jetStreamCode == 10058 {
            try await call("STREAM.UPDATE.\(configuration.name)", configuration)
        }
    }

    /// Removes the stream's messages on `subject` (all of them when nil); how many went.
    @discardableResult
    public func purge(stream: String, subject: String? = nil) async throws -> UInt64 {
        struct Request: Encodable { var filter: String? }
        struct Answer: Decodable { var purged: UInt64 }
        let answer: Answer = try await call("STREAM.PURGE.\(stream)", Request(filter: subject))
        return answer.purged
    }

    /// Makes the durable pull consumer (or updates one of that name).
    public func addConsumer(stream: String, _ configuration: ConsumerConfiguration) async throws {
        struct Request: Encodable {
            var streamName: String
            var config: ConsumerConfiguration
            enum CodingKeys: String, CodingKey { case streamName = "stream_name", config }
        }
        try await call("CONSUMER.CREATE.\(stream).\(configuration.durableName)", Request(streamName: stream, config: configuration))
    }

    /// Messages in the stream not yet delivered to the consumer, and those delivered but not acknowledged.
    public func consumerState(stream: String, consumer: String) async throws -> (pending: UInt64, unacknowledged: Int) {
        struct Answer: Decodable {
            var numPending: UInt64
            var numAckPending: Int
            enum CodingKeys: String, CodingKey { case numPending = "num_pending", numAckPending = "num_ack_pending" }
        }
        let answer: Answer = try await call("CONSUMER.INFO.\(stream).\(consumer)", Optional<String>.none)
        return (answer.numPending, answer.numAckPending)
    }

    /// Publishes into the stream that holds `subject` and waits for it to be stored; a
    /// `messageID` seen within the stream's duplicate window is stored once.
    public func publish(_ subject: String, payload: ByteBuffer, messageID: String? = nil, headers: NATSHeaders = NATSHeaders()) async throws -> PublishAcknowledgement {
        var headers = headers
        if let messageID { headers.append("Nats-Msg-Id", messageID) }
        let reply: NATSMessage
        do {
            reply = try await connection.request(subject, payload: payload, headers: headers.fields.isEmpty ? nil : headers, timeout: timeout)
        } catch let error as NATSError where error.code == .noResponders {
            throw NATSError(.jetStream, "no stream takes \(subject)")
        }
        return try Self.decodeAnswer(reply)
    }

    /// Pulls up to `batch` messages for `consumer`: returns what came before `expires` (fewer, or
    /// none, when there are not so many), or sooner when the server says there are no more.
    /// With `noWait` it takes only what is there now. The server sends a heartbeat every
    /// `heartbeat` while the pull waits; three missed (and a second more, for a busy machine)
    /// mean the pull was lost (a server restart) and it returns what it has.
    public func fetch(stream: String, consumer: String, batch: Int, expires: Duration = .seconds(5), heartbeat: Duration? = nil, noWait: Bool = false) async throws -> [JetStreamMessage] {
        struct Request: Encodable {
            var batch: Int
            var expires: Int64?
            var idleHeartbeat: Int64?
            var noWait: Bool?
            enum CodingKeys: String, CodingKey { case batch, expires, idleHeartbeat = "idle_heartbeat", noWait = "no_wait" }
        }
        let inbox = connection.newInbox()
        let subscription = try await connection.subscribe(inbox)
        let request = try JSONEncoder().encode(noWait ? Request(batch: batch, noWait: true) : Request(batch: batch, expires: expires.nanoseconds, idleHeartbeat: heartbeat?.nanoseconds))
        let collected = PullState()
        do {
            try await connection.publish("\(apiPrefix).CONSUMER.MSG.NEXT.\(stream).\(consumer)", data: request, replyTo: inbox)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    for await message in subscription {
                        collected.withLock { $0.lastHeard = .now }
                        if let status = message.headers?.status {
                            // 100: heartbeat; 404 no messages, 408 request expired, 409 a limit or a leader change: the pull is over.
                            if status == 100 { continue }
                            return
                        }
                        let received = try JetStreamMessage(message, connection: connection, timeout: timeout)
                        let done = collected.withLock { state -> Bool in
                            state.messages.append(received)
                            return state.messages.count >= batch
                        }
                        if done { return }
                    }
                }
                group.addTask {
                    let deadline = ContinuousClock.now + expires + .milliseconds(500)
                    while ContinuousClock.now < deadline {
                        try await Task.sleep(for: min(heartbeat ?? expires, .milliseconds(250)))
                        if let heartbeat, ContinuousClock.now - collected.withLock({ $0.lastHeard }) > heartbeat * 3 + .seconds(1) { return }
                    }
                }
                try await group.next()
                group.cancelAll()
            }
        } catch {
            await subscription.unsubscribe()
            throw error
        }
        await subscription.unsubscribe()
        return collected.withLock { $0.messages }
    }

    private final class PullState: Sendable {
        let state = Mutex<(messages: [JetStreamMessage], lastHeard: ContinuousClock.Instant)>(([], .now))
        func withLock<T: Sendable>(_ body: (inout sending (messages: [JetStreamMessage], lastHeard: ContinuousClock.Instant)) -> sending T) -> T { state.withLock(body) }
    }

    /// Calls the API: the answer decoded, or its error thrown with JetStream's code.
    @discardableResult
    func call<Body: Encodable, Answer: Decodable>(_ api: String, _ body: Body?) async throws -> Answer {
        let payload = try body.map { ByteBuffer(bytes: try JSONEncoder().encode($0)) } ?? ByteBuffer()
        let reply: NATSMessage
        do {
            reply = try await connection.request("\(apiPrefix).\(api)", payload: payload, timeout: timeout)
        } catch let error as NATSError where error.code == .noResponders {
            throw NATSError(.jetStream, "JetStream is not enabled on the server (no answer on \(apiPrefix).\(api))")
        }
        return try Self.decodeAnswer(reply)
    }

    func call<Body: Encodable>(_ api: String, _ body: Body?) async throws {
        let _: NoAnswer = try await call(api, body)
    }

    private struct NoAnswer: Decodable {}

    /// The error member every API answer may carry.
    private struct Failure: Decodable {
        struct Detail: Decodable {
            var code: Int?
            var errCode: Int?
            var description: String?
            enum CodingKeys: String, CodingKey { case code, errCode = "err_code", description }
        }
        var error: Detail?
    }

    static func decodeAnswer<Answer: Decodable>(_ reply: NATSMessage) throws -> Answer {
        let data = reply.data
        if let failure = try? JSONDecoder().decode(Failure.self, from: data), let error = failure.error {
            throw NATSError(.jetStream, error.description ?? "error \(error.code ?? 0)", jetStreamCode: error.errCode)
        }
        do {
            return try JSONDecoder().decode(Answer.self, from: data)
        } catch {
            throw NATSError(.jetStream, "an answer that is not the expected JSON: \(String(decoding: data.prefix(200), as: UTF8.self))")
        }
    }
}

/// Where a delivered message stands, read from its `$JS.ACK` reply subject.
public struct AcknowledgementSubject: Sendable, Hashable {
    public var stream: String
    public var consumer: String
    /// 1 on first delivery; more when it came back (no acknowledgement in time, or a NAK).
    public var delivered: Int
    public var streamSequence: UInt64
    public var consumerSequence: UInt64
    /// Nanoseconds since 1970 when it was stored.
    public var timestamp: Int64
    /// Messages left for the consumer after this one.
    public var pending: UInt64

    /// `$JS.ACK.<stream>.<consumer>.<delivered>.<stream seq>.<consumer seq>.<time>.<pending>`, or
    /// the newer form with a domain and an account hash after `$JS.ACK` (and a token at the end).
    public init(_ subject: String) throws {
        let tokens = subject.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard tokens.count >= 9, tokens[0] == "$JS", tokens[1] == "ACK" else {
            throw NATSError(.protocolViolation, "not a JetStream acknowledgement subject: \(subject.prefix(120))")
        }
        let start = tokens.count == 9 ? 2 : 4
        guard tokens.count >= start + 7, let delivered = Int(tokens[start + 2]), let streamSequence = UInt64(tokens[start + 3]),
              let consumerSequence = UInt64(tokens[start + 4]), let timestamp = Int64(tokens[start + 5]), let pending = UInt64(tokens[start + 6]) else {
            throw NATSError(.protocolViolation, "a JetStream acknowledgement subject with bad numbers: \(subject.prefix(120))")
        }
        stream = tokens[start]
        consumer = tokens[start + 1]
        self.delivered = delivered
        self.streamSequence = streamSequence
        self.consumerSequence = consumerSequence
        self.timestamp = timestamp
        self.pending = pending
    }
}

/// A message pulled from a consumer, to be acknowledged one of four ways.
public struct JetStreamMessage: Sendable {
    public let message: NATSMessage
    public let metadata: AcknowledgementSubject
    let connection: NATSConnection
    let timeout: Duration

    init(_ message: NATSMessage, connection: NATSConnection, timeout: Duration) throws {
        guard let reply = message.replyTo else { throw NATSError(.protocolViolation, "a pulled message without a reply subject") }
        self.message = message
        metadata = try AcknowledgementSubject(reply)
        self.connection = connection
        self.timeout = timeout
    }

    /// Done: waits until the server has the acknowledgement, so that the message is not
    /// delivered again after this returns.
    public func ack() async throws {
        _ = try await connection.request(message.replyTo!, data: Data("+ACK".utf8), timeout: timeout)
    }

    /// Not done: deliver it again, after `delay` if given.
    public func nak(delay: Duration? = nil) async throws {
        let body = delay.map { "-NAK {\"delay\": \($0.nanoseconds)}" } ?? "-NAK"
        try await connection.publish(message.replyTo!, data: Data(body.utf8))
    }

    /// Still working: the acknowledgement deadline starts again.
    public func inProgress() async throws {
        try await connection.publish(message.replyTo!, data: Data("+WPI".utf8))
    }

    /// Never deliver it again (a failure that would repeat).
    public func term(reason: String? = nil) async throws {
        try await connection.publish(message.replyTo!, data: Data(("+TERM" + (reason.map { " " + $0 } ?? "")).utf8))
    }
}

extension Duration {
    /// Whole nanoseconds, as JetStream's JSON counts time.
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
