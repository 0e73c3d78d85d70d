import AirlockNATS
@testable import AirlockQueue
import AirlockTestSupport
import Foundation
import Logging
import Synchronization
import Testing

/// One behaviour, two queues: every test runs on the embedded queue and on JetStream (a real
/// `nats-server` on loopback), as the store's tests run on SQLite and PostgreSQL.
struct AttemptQueueTests {
    enum Kind: String, CaseIterable, Sendable { case embedded, jetStream }

    static let kinds: [Kind] = TestEnvironment.runs(.nats, ifAvailable: NATSTestServer.isAvailable) ? Kind.allCases : [.embedded]

    /// A fresh queue of `kind` with a lease of `leaseTime`, for `body`.
    func withQueue(_ kind: Kind, leaseTime: Duration = .seconds(30), _ body: (any AttemptQueue) async throws -> Void) async throws {
        switch kind {
        case .embedded:
            try await body(EmbeddedAttemptQueue(leaseTime: leaseTime))
        case .jetStream:
            try await NATSTestServer.withServer { server in
                try await NATSConnection.withConnection(NATSConfiguration(servers: [server.url]), logger: Logger(label: "test.queue")) { connection in
                    try await body(JetStreamAttemptQueue(connection: connection, configuration: .init(leaseTime: leaseTime)))
                }
            }
        }
    }

    static func tickets(_ count: Int, run: String = "r1", pool: String = "default") -> [AttemptTicket] {
        (0..<count).map { AttemptTicket(runID: run, sampleID: "s\($0)", epoch: 1, pool: pool) }
    }

    @Test(arguments: kinds)
    func eachAttemptIsTakenOnceAndARepeatedPublishAddsNothing(kind: Kind) async throws {
        try await withQueue(kind) { queue in
            try await queue.publish(Self.tickets(5))
            try await queue.publish(Self.tickets(5))
            var taken: [LeasedAttempt] = []
            for _ in 0..<10 where taken.count < 5 {
                taken += try await queue.take(pool: "default", limit: 2, wait: .milliseconds(500))
            }
            #expect(taken.map(\.ticket.sampleID).sorted() == (0..<5).map { "s\($0)" })
            #expect(taken.allSatisfy { $0.deliveries == 1 })
            for attempt in taken { try await attempt.settle(.acknowledge) }
            #expect(try await queue.take(pool: "default", limit: 5, wait: .milliseconds(300)).isEmpty)
        }
    }

    @Test(arguments: kinds)
    func anAttemptWhoseWorkerDiedComesBackAfterItsLease(kind: Kind) async throws {
        // A lease long beside the in-progress settlements, so that a busy machine (two cores
        // running the whole suite, its tasks late by seconds, once a settlement ~10 s late
        // under a fresh-clone CI) does not let the kept one lapse.
        try await withQueue(kind, leaseTime: .seconds(30)) { queue in
            try await queue.publish(Self.tickets(2))
            let first = try await queue.take(pool: "default", limit: 2, wait: .seconds(2))
            #expect(first.count == 2)
            // The worker of s0 dies; s1's keeps it with in-progress settlements, well inside its
            // lease, going on through a failed one as a worker does.
            let held = try #require(first.first { $0.ticket.sampleID == "s1" })
            let keeping = Task { () -> (settled: Int, failed: Int, longestGap: Duration) in
                var (settled, failed, longestGap) = (0, 0, Duration.zero)
                var last = ContinuousClock.now
                while !Task.isCancelled {
                    if (try? await held.settle(.inProgress)) != nil {
                        settled += 1
                        longestGap = max(longestGap, ContinuousClock.now - last)
                        last = .now
                    } else {
                        failed += 1
                    }
                    try? await Task.sleep(for: .milliseconds(200))
                }
                return (settled, failed, longestGap)
            }
            let again = try await queue.take(pool: "default", limit: 2, wait: .seconds(60))
            keeping.cancel()
            let keepingReport = await keeping.value
            // At least once: on a machine too busy to take it in time, s0 may even come back twice.
            #expect(Set(again.map(\.ticket.sampleID)) == ["s0"] && again.allSatisfy { $0.deliveries >= 2 }, "\(again.map { ($0.ticket.sampleID, $0.deliveries) }); keeping s1: \(keepingReport)")
            try await held.settle(.acknowledge)
            for attempt in again { try await attempt.settle(.acknowledge) }
            #expect(try await queue.take(pool: "default", limit: 2, wait: .seconds(2)).isEmpty)
        }
    }

    @Test(arguments: kinds)
    func retryHandsItOutAgainAndTerminateNever(kind: Kind) async throws {
        try await withQueue(kind) { queue in
            try await queue.publish(Self.tickets(2))
            let first = try await queue.take(pool: "default", limit: 2, wait: .seconds(2))
            #expect(first.count == 2)
            for attempt in first {
                try await attempt.settle(attempt.ticket.sampleID == "s0" ? .retry(after: nil) : .terminate)
            }
            let again = try await queue.take(pool: "default", limit: 2, wait: .seconds(2))
            #expect(again.map(\.ticket.sampleID) == ["s0"] && again.first?.deliveries == 2)
            for attempt in again { try await attempt.settle(.acknowledge) }
            #expect(try await queue.take(pool: "default", limit: 2, wait: .milliseconds(500)).isEmpty)
        }
    }

    @Test(arguments: kinds)
    func aWorkerTakesOnlyItsPoolsWork(kind: Kind) async throws {
        try await withQueue(kind) { queue in
            try await queue.publish(Self.tickets(2, pool: "banks") + Self.tickets(1, run: "r2", pool: "labs"))
            let labs = try await queue.take(pool: "labs", limit: 5, wait: .seconds(1))
            #expect(labs.map(\.ticket.runID) == ["r2"])
            let banks = try await queue.take(pool: "banks", limit: 5, wait: .seconds(1))
            #expect(banks.count == 2 && banks.allSatisfy { $0.ticket.pool == "banks" })
            for attempt in labs + banks { try await attempt.settle(.acknowledge) }
        }
    }

    @Test(arguments: kinds)
    func aCancelledRunsWaitingAttemptsAreRemoved(kind: Kind) async throws {
        try await withQueue(kind) { queue in
            try await queue.publish(Self.tickets(3, run: "gone") + Self.tickets(1, run: "kept"))
            try await queue.removeWaiting(runID: "gone")
            let left = try await queue.take(pool: "default", limit: 5, wait: .seconds(1))
            #expect(left.map(\.ticket.runID) == ["kept"])
            for attempt in left { try await attempt.settle(.acknowledge) }
        }
    }

    @Test(arguments: kinds)
    func aTakerWaitingForWorkGetsItWhenItArrives(kind: Kind) async throws {
        try await withQueue(kind) { queue in
            async let taken = queue.take(pool: "default", limit: 1, wait: .seconds(5))
            try await Task.sleep(for: .milliseconds(300))
            try await queue.publish(Self.tickets(1))
            let attempts = try await taken
            #expect(attempts.map(\.ticket.sampleID) == ["s0"])
            for attempt in attempts { try await attempt.settle(.acknowledge) }
        }
    }

    @Test(arguments: kinds)
    func namesThatCannotBeSubjectsAreRefused(kind: Kind) async throws {
        try await withQueue(kind) { queue in
            for pool in ["", "a.b", "a b", "a>", String(repeating: "x", count: 65), "bänk"] {
                let error = await #expect(throws: QueueError.self) { try await queue.publish([AttemptTicket(runID: "r", sampleID: "s", epoch: 1, pool: pool)]) }
                #expect(error?.code == .badName)
            }
        }
    }
}

/// JetStream in a three-node cluster: the stream's leader killed in the middle of a run loses
/// no attempt; the client moves to another server and the work goes on.
@Suite(.enabled(if: TestEnvironment.runs(.nats, ifAvailable: NATSTestServer.isAvailable), "needs nats-server (make python-tools)"))
struct AttemptQueueClusterTests {
    @Test func theStreamLeaderKilledMidRunLosesNothing() async throws {
        try await NATSTestCluster.withCluster { cluster in
            let configuration = NATSConfiguration(servers: cluster.urls, reconnect: .init(initial: .milliseconds(20), maximum: .milliseconds(300)), reconnectWait: .seconds(30))
            try await NATSConnection.withConnection(configuration, logger: Logger(label: "test.cluster")) { connection in
                // The cluster elects its JetStream leader a moment after the servers start.
                var made: JetStreamAttemptQueue?
                for _ in 0..<150 where made == nil {
                    made = try? await JetStreamAttemptQueue(connection: connection, configuration: .init(leaseTime: .seconds(3), replicas: 3))
                    if made == nil { try await Task.sleep(for: .milliseconds(200)) }
                }
                let queue = try #require(made, "JetStream never became ready in the cluster")
                let tickets = AttemptQueueTests.tickets(30)
                try await queue.publish(tickets)
                var done = Set<String>()
                func work(until count: Int) async throws {
                    let deadline = ContinuousClock.now + .seconds(90)
                    while done.count < count, ContinuousClock.now < deadline {
                        let taken: [LeasedAttempt]
                        do {
                            taken = try await queue.take(pool: "default", limit: 5, wait: .seconds(2))
                        } catch {
                            // While the cluster elects a new leader, calls fail for a moment.
                            try await Task.sleep(for: .milliseconds(300))
                            continue
                        }
                        for attempt in taken {
                            // An acknowledgement lost to the election brings the attempt back later.
                            if (try? await attempt.settle(.acknowledge)) != nil { done.insert(attempt.ticket.id) }
                        }
                    }
                }
                try await work(until: 10)
                let info = try await connection.request("$JS.API.STREAM.INFO.AIRLOCK_ATTEMPTS", data: Data())
                let leader = try #require((try JSONSerialization.jsonObject(with: info.data) as? [String: Any]).flatMap { ($0["cluster"] as? [String: Any])?["leader"] as? String })
                let index = try #require(Int(leader.dropFirst()))
                await cluster.servers[index].kill()
                try await work(until: tickets.count)
                #expect(done == Set(tickets.map(\.id)), "\(tickets.count - done.count) attempts never done")
            }
        }
    }
}
