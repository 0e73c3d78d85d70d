import Foundation

/// One attempt of a run (a sample in an epoch): the unit of work a worker takes, so that a slow
/// agentic sample never holds up others.
public struct AttemptTicket: Codable, Sendable, Hashable {
    public var runID: String
    public var sampleID: String
    public var epoch: Int
    /// The workers that may take it.
    public var pool: String
    /// The run's round it was published in: 0 when submitted, one more each time the run is
    /// resumed. A ticket of an earlier round is stale (the run's attempts were published anew).
    public var round: Int

    public init(runID: String, sampleID: String, epoch: Int, pool: String, round: Int = 0) {
        self.runID = runID
        self.sampleID = sampleID
        self.epoch = epoch
        self.pool = pool
        self.round = round
    }

    /// Its identity, the same however often it is published in one round (the queue's
    /// de-duplication key); a resumed run's tickets are new ones, which the queue takes even
    /// where it still remembers the old (JetStream's duplicate window).
    public var id: String { "\(runID)/\(sampleID)/\(epoch)/\(round)" }

    enum CodingKeys: String, CodingKey {
        case runID = "run_id", sampleID = "sample_id", epoch, pool, round
    }

    /// A pool or run name: what a queue subject token may hold.
    public static func checkName(_ name: String, field: String) throws {
        guard (1...64).contains(name.utf8.count), name.utf8.allSatisfy({ $0.isASCIILetterOrDigit || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") }) else {
            throw QueueError(.badName, "\(field) must be 1 to 64 letters, digits, '-' or '_': \(name.prefix(80).debugDescription)")
        }
    }
}

/// An attempt handed to one worker until it settles it or its lease runs out (then it is
/// handed out again, with `deliveries` one higher).
public struct LeasedAttempt: Sendable {
    public enum Settlement: Sendable, Hashable {
        /// Done: its result is committed; never handed out again.
        case acknowledge
        /// Not done: hand it out again, after `delay` if given.
        case retry(after: Duration?)
        /// Still running: the lease starts again.
        case inProgress
        /// Never hand it out again (a failure that would repeat, or a cancelled run).
        case terminate
    }

    public let ticket: AttemptTicket
    /// 1 the first time; more when it came back.
    public let deliveries: Int
    let settleBody: @Sendable (Settlement) async throws -> Void

    public init(ticket: AttemptTicket, deliveries: Int, settle: @escaping @Sendable (Settlement) async throws -> Void) {
        self.ticket = ticket
        self.deliveries = deliveries
        settleBody = settle
    }

    public func settle(_ settlement: Settlement) async throws { try await settleBody(settlement) }
}

/// Where a run's attempts wait for workers. Two implementations with one behaviour (one test
/// suite runs on both): ``EmbeddedAttemptQueue`` in the server's own process, and
/// ``JetStreamAttemptQueue`` on NATS JetStream for workers on other machines.
///
/// Delivery is at least once: an attempt whose lease runs out (its worker died) is handed out
/// again, so a consumer commits each result under the attempt's id once and acknowledges after
/// the commit; a redelivered attempt whose result exists is acknowledged and dropped.
public protocol AttemptQueue: Sendable {
    /// Adds attempts; one already waiting or leased (same ``AttemptTicket/id``) is not added twice.
    func publish(_ tickets: [AttemptTicket]) async throws
    /// Up to `limit` attempts of `pool`, waiting up to `wait` for the first.
    func take(pool: String, limit: Int, wait: Duration) async throws -> [LeasedAttempt]
    /// Removes a run's attempts that no worker holds (a cancelled run); leased ones are ended
    /// by their workers.
    func removeWaiting(runID: String) async throws
}

public struct QueueError: Error, Hashable, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable { case badName, closed, transport }
        private let base: Base
        private init(_ base: Base) { self.base = base }
        /// A pool or run name that cannot be a queue subject.
        public static let badName = Code(.badName)
        public static let closed = Code(.closed)
        /// The queue's transport (NATS) failed.
        public static let transport = Code(.transport)
        public var description: String { base.rawValue }
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "queue \(code): \(message)" }
}

extension UInt8 {
    fileprivate var isASCIILetterOrDigit: Bool {
        (0x30...0x39).contains(self) || (0x41...0x5A).contains(self) || (0x61...0x7A).contains(self)
    }
}
