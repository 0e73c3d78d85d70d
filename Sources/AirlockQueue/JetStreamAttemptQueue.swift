import AirlockNATS
import Foundation
import NIOCore
import Synchronization

/// The queue on NATS JetStream, for workers on other machines: one file-stored work-queue
/// stream, `airlock.attempts.<pool>.<run>` per attempt with its id as `Nats-Msg-Id` (a repeat
/// within the duplicate window is dropped), and one durable pull consumer per pool with
/// explicit acknowledgement; an attempt not acknowledged within `leaseTime` (and not kept by
/// in-progress acknowledgements) is delivered again.
public final class JetStreamAttemptQueue: AttemptQueue {
    public struct Configuration: Sendable {
        public var stream: String
        public var subjectPrefix: String
        /// The acknowledgement deadline.
        public var leaseTime: Duration
        /// Servers that hold each message (1, or 3 in a three-node cluster).
        public var replicas: Int
        /// Attempts handed out and not yet acknowledged, per pool: above the pool's worker slots.
        public var maxLeased: Int
        /// Whether this process makes the stream and sets its configuration (the server), or
        /// only uses it (a worker, which must not bring the server's stream to its own settings).
        public var managesStream: Bool

        public init(
            stream: String = "AIRLOCK_ATTEMPTS", subjectPrefix: String = "airlock.attempts", leaseTime: Duration = .seconds(30), replicas: Int = 1,
            maxLeased: Int = 10_000, managesStream: Bool = true
        ) {
            self.stream = stream
            self.subjectPrefix = subjectPrefix
            self.leaseTime = leaseTime
            self.replicas = replicas
            self.maxLeased = maxLeased
            self.managesStream = managesStream
        }
    }

    public let configuration: Configuration
    let jetStream: JetStream
    /// Pools whose consumer exists.
    private let consumers = Mutex<Set<String>>([])

    /// Makes the stream if it is not there (or brings it to this configuration), unless the
    /// configuration leaves the stream to another process.
    public init(connection: NATSConnection, configuration: Configuration = .init()) async throws {
        self.configuration = configuration
        jetStream = JetStream(connection: connection)
        guard configuration.managesStream else { return }
        do {
            try await jetStream.addStream(.init(name: configuration.stream, subjects: ["\(configuration.subjectPrefix).>"], replicas: configuration.replicas))
        } catch {
            throw QueueError(.transport, "cannot make the stream \(configuration.stream): \(error)")
        }
    }

    public func publish(_ tickets: [AttemptTicket]) async throws {
        for ticket in tickets {
            try AttemptTicket.checkName(ticket.pool, field: "pool")
            try AttemptTicket.checkName(ticket.runID, field: "run id")
            let payload = ByteBuffer(bytes: try JSONEncoder().encode(ticket))
            do {
                _ = try await jetStream.publish("\(configuration.subjectPrefix).\(ticket.pool).\(ticket.runID)", payload: payload, messageID: ticket.id)
            } catch {
                throw QueueError(.transport, "cannot publish \(ticket.id): \(error)")
            }
        }
    }

    public func take(pool: String, limit: Int, wait: Duration) async throws -> [LeasedAttempt] {
        try AttemptTicket.checkName(pool, field: "pool")
        let consumer = "pool-\(pool)"
        do {
            if !consumers.withLock({ $0.contains(pool) }) {
                try await jetStream.addConsumer(stream: configuration.stream, .init(
                    durableName: consumer, ackWait: configuration.leaseTime, filterSubject: "\(configuration.subjectPrefix).\(pool).>", maxAckPending: configuration.maxLeased
                ))
                consumers.withLock { _ = $0.insert(pool) }
            }
            // What is there now; else a pull of one that ends when it comes (a pull left open
            // for more would hold whatever arrives later until its lease ran out); then the rest.
            let stream = configuration.stream
            var messages = try await jetStream.fetch(stream: stream, consumer: consumer, batch: max(1, limit), noWait: true)
            if messages.isEmpty, wait > .zero {
                messages = try await jetStream.fetch(stream: stream, consumer: consumer, batch: 1, expires: max(wait, .milliseconds(100)), heartbeat: wait >= .seconds(2) ? .seconds(1) : nil)
                if !messages.isEmpty, limit > 1 {
                    messages += try await jetStream.fetch(stream: stream, consumer: consumer, batch: limit - 1, noWait: true)
                }
            }
            return messages.compactMap { message in
                guard let ticket = try? JSONDecoder().decode(AttemptTicket.self, from: message.message.data) else {
                    // Not an attempt: never deliver it again.
                    Task { try? await message.term(reason: "not an attempt") }
                    return nil
                }
                return LeasedAttempt(ticket: ticket, deliveries: message.metadata.delivered) { settlement in
                    switch settlement {
                    case .acknowledge: try await message.ack()
                    case .retry(let delay): try await message.nak(delay: delay)
                    case .inProgress: try await message.inProgress()
                    case .terminate: try await message.term()
                    }
                }
            }
        } catch let error as QueueError {
            throw error
        } catch {
            throw QueueError(.transport, "cannot take attempts of pool \(pool): \(error)")
        }
    }

    public func removeWaiting(runID: String) async throws {
        try AttemptTicket.checkName(runID, field: "run id")
        do {
            try await jetStream.purge(stream: configuration.stream, subject: "\(configuration.subjectPrefix).*.\(runID)")
        } catch {
            throw QueueError(.transport, "cannot remove the attempts of \(runID): \(error)")
        }
    }
}
