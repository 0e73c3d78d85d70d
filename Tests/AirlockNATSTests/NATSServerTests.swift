@testable import AirlockNATS
import AirlockTestSupport
import Foundation
import Logging
import NIOCore
import Synchronization
import Testing

/// The client against a real `nats-server` (from PyPI) on loopback, and beside the `nats-py`
/// client: the core protocol, JetStream, credentials, and a server restart.
@Suite(.enabled(if: TestEnvironment.runs(.nats, ifAvailable: NATSTestServer.isAvailable), "needs nats-server (make python-tools)"))
struct NATSServerTests {
    let logger = Logger(label: "test.nats")

    func configuration(_ server: NATSTestServer) -> NATSConfiguration {
        // Keep-alive every 5 s: a machine busy with the whole suite can be slow to answer for a
        // second or two, and no test here needs a dead server found by its silence.
        NATSConfiguration(servers: [server.url], connectTimeout: .seconds(5), pingInterval: .seconds(5), reconnect: .init(initial: .milliseconds(20), maximum: .milliseconds(200)), reconnectWait: .seconds(20))
    }

    @Test func publishSubscribeHeadersAndRequests() async throws {
        try await NATSTestServer.withServer { server in
            try await NATSConnection.withConnection(configuration(server), logger: logger) { connection in
                #expect(connection.serverInfo?.jetStream == true)
                let subscription = try await connection.subscribe("work.*")
                try await connection.flush()
                try await connection.publish("work.a", data: Data("plain".utf8))
                try await connection.publish("work.b", data: Data("with headers".utf8), headers: NATSHeaders(["Run": "r1", "Attempt": "s1/2"]))
                var received: [NATSMessage] = []
                for await message in subscription {
                    received.append(message)
                    if received.count == 2 { break }
                }
                #expect(received.map(\.subject) == ["work.a", "work.b"])
                #expect(received[0].data == Data("plain".utf8) && received[0].headers == nil)
                #expect(received[1].headers?["run"] == "r1" && received[1].headers?["Attempt"] == "s1/2")

                // A responder on the same connection answers requests, in a queue group.
                let service = try await connection.subscribe("echo", queue: "echoes")
                let responder = Task {
                    for await message in service {
                        guard let reply = message.replyTo else { continue }
                        try await connection.publish(reply, data: Data("echo: ".utf8) + message.data)
                    }
                }
                defer { responder.cancel() }
                try await connection.flush()
                let answers = try await withThrowingTaskGroup(of: String.self) { group in
                    for index in 0..<20 {
                        group.addTask { String(decoding: try await connection.request("echo", data: Data("\(index)".utf8), timeout: .seconds(30)).data, as: UTF8.self) }
                    }
                    return try await group.reduce(into: Set<String>()) { $0.insert($1) }
                }
                #expect(answers == Set((0..<20).map { "echo: \($0)" }))
                let error = await #expect(throws: NATSError.self) { try await connection.request("nobody.here", data: Data()) }
                #expect(error?.code == .noResponders)
                await service.unsubscribe()
            }
        }
    }

    @Test func badSubjectsAndOversizedMessagesNeverReachTheWire() async throws {
        try await NATSTestServer.withServer { server in
            try await NATSConnection.withConnection(configuration(server), logger: logger) { connection in
                for subject in ["a b", "a\r\nPUB x 1", "", "a.*"] {
                    let error = await #expect(throws: NATSError.self) { try await connection.publish(subject, data: Data()) }
                    #expect(error?.code == .badSubject)
                }
                let error = await #expect(throws: NATSError.self) { try await connection.publish("big", data: Data(count: (1 << 20) + 1)) }
                #expect(error?.code == .tooLarge)
                // The connection is still good.
                try await connection.flush()
            }
        }
    }

    @Test func wrongCredentialsAreRefusedAndRightOnesWork() async throws {
        try await NATSTestServer.withServer(arguments: ["--user", "worker", "--pass", "s3cret"]) { server in
            var wrong = configuration(server)
            wrong.user = "worker"
            wrong.password = "nope"
            let error = await #expect(throws: NATSError.self) { try await NATSConnection.withConnection(wrong, logger: logger) { _ in } }
            #expect(error?.code == .authorization, "\(String(describing: error))")
            var right = configuration(server)
            right.servers = ["nats://worker:s3cret@127.0.0.1:\(server.port)"]
            try await NATSConnection.withConnection(right, logger: logger) { try await $0.flush() }
        }
    }

    /// A work queue's round: publish with message ids (a repeat is dropped), pull, acknowledge
    /// some, leave one to come back after the acknowledgement deadline, NAK one, end one.
    @Test func jetStreamWorkQueue() async throws {
        try await NATSTestServer.withServer { server in
            try await NATSConnection.withConnection(configuration(server), logger: logger) { connection in
                let jetStream = JetStream(connection: connection)
                try await jetStream.addStream(.init(name: "WORK", subjects: ["work.>"]))
                try await jetStream.addStream(.init(name: "WORK", subjects: ["work.>"], duplicateWindow: .seconds(60)))
                try await jetStream.addConsumer(stream: "WORK", .init(durableName: "workers", ackWait: .seconds(4), filterSubject: "work.>"))
                for index in 0..<5 {
                    let acknowledgement = try await jetStream.publish("work.run1", payload: ByteBuffer(string: "attempt \(index)"), messageID: "run1-\(index)")
                    #expect(acknowledgement.stream == "WORK" && acknowledgement.sequence == UInt64(index + 1) && !acknowledgement.duplicate)
                }
                let repeated = try await jetStream.publish("work.run1", payload: ByteBuffer(string: "attempt 0"), messageID: "run1-0")
                #expect(repeated.duplicate)

                let first = try await jetStream.fetch(stream: "WORK", consumer: "workers", batch: 10, expires: .seconds(1), heartbeat: .milliseconds(300))
                #expect(first.map { String(buffer: $0.message.payload) } == (0..<5).map { "attempt \($0)" })
                #expect(first.allSatisfy { $0.metadata.delivered == 1 && $0.metadata.stream == "WORK" })
                try await first[0].ack()
                try await first[1].ack()
                try await first[2].term(reason: "would fail again")
                try await first[3].nak()
                // first[4] is left: it comes back once its four seconds have passed, with a long
                // attempt's in-progress acknowledgements keeping it meanwhile.
                try await first[4].inProgress()
                // The NAK'd one comes back at once; the one left comes back once its four seconds
                // have passed (each is acknowledged as it comes, as a worker does).
                let nakked = try await jetStream.fetch(stream: "WORK", consumer: "workers", batch: 1, expires: .seconds(1))
                #expect(nakked.map { String(buffer: $0.message.payload) } == ["attempt 3"] && nakked.first?.metadata.delivered == 2)
                for message in nakked { try await message.ack() }
                let left = try await jetStream.fetch(stream: "WORK", consumer: "workers", batch: 1, expires: .seconds(10), heartbeat: .milliseconds(500))
                #expect(left.map { String(buffer: $0.message.payload) } == ["attempt 4"] && left.first?.metadata.delivered == 2)
                for message in left { try await message.ack() }
                let none = try await jetStream.fetch(stream: "WORK", consumer: "workers", batch: 10, expires: .milliseconds(500))
                #expect(none.isEmpty)
                let state = try await jetStream.consumerState(stream: "WORK", consumer: "workers")
                #expect(state.pending == 0 && state.unacknowledged == 0)
                let error = await #expect(throws: NATSError.self) { try await jetStream.publish("nostream.x", payload: ByteBuffer()) }
                #expect(error?.code == .jetStream)
            }
        }
    }

    /// The server killed and started again on its port with its storage: the connection comes
    /// back by itself, its subscriptions work again, and file-stored messages are all there.
    @Test func aServerRestartLosesNothing() async throws {
        try await NATSTestServer.withServer { server in
            try await NATSConnection.withConnection(configuration(server), logger: logger) { connection in
                let jetStream = JetStream(connection: connection)
                try await jetStream.addStream(.init(name: "WORK", subjects: ["work.>"]))
                try await jetStream.addConsumer(stream: "WORK", .init(durableName: "workers"))
                for index in 0..<20 { _ = try await jetStream.publish("work.r", payload: ByteBuffer(string: "\(index)"), messageID: "r-\(index)") }
                let events = try await connection.subscribe("events.>")
                try await server.restart()
                // Publishes wait for the connection to come back.
                try await connection.publish("events.run", data: Data("after".utf8))
                var iterator = events.makeAsyncIterator()
                let event = await iterator.next()
                #expect(event?.data == Data("after".utf8))
                var seen: [String] = []
                for _ in 0..<5 where seen.count < 20 {
                    // A request in flight when the connection drops fails; the caller asks again.
                    let batch: [JetStreamMessage]
                    do {
                        batch = try await jetStream.fetch(stream: "WORK", consumer: "workers", batch: 20, expires: .seconds(2))
                    } catch let error as NATSError where error.code == .disconnected {
                        continue
                    }
                    for message in batch {
                        seen.append(String(buffer: message.message.payload))
                        try await message.ack()
                    }
                }
                #expect(seen.sorted() == (0..<20).map(String.init).sorted())
            }
        }
    }

    /// The same wire as the reference Python client: each reads what the other wrote, headers,
    /// JetStream message ids and acknowledgements included.
    @Test(.enabled(if: TestEnvironment.runsPython, "needs AIRLOCK_TEST_PYTHON with nats-py"))
    func theNatsPyClientAndAirlockUnderstandEachOther() async throws {
        let python = try #require(TestEnvironment.python)
        try await NATSTestServer.withServer { server in
            try await NATSConnection.withConnection(configuration(server), logger: logger) { connection in
                let jetStream = JetStream(connection: connection)
                try await jetStream.addStream(.init(name: "WORK", subjects: ["work.>"]))
                try await jetStream.addConsumer(stream: "WORK", .init(durableName: "py", ackWait: .seconds(5)))
                for index in 0..<3 { _ = try await jetStream.publish("work.x", payload: ByteBuffer(string: "from swift \(index)"), messageID: "swift-\(index)") }
                let fromPython = try await connection.subscribe("py.out")
                let answers = try await connection.subscribe("swift.in")
                try await connection.flush()
                let script = """
                    import asyncio, nats, sys
                    async def main():
                        nc = await nats.connect(sys.argv[1])
                        await nc.publish("py.out", b"hello from python", headers={"Run": "r9", "Note": "x y"})
                        reply = await nc.request("swift.in", b"question", timeout=10)
                        print("reply:", reply.data.decode(), reply.headers)
                        js = nc.jetstream()
                        sub = await js.pull_subscribe("work.x", durable="py")
                        got = await sub.fetch(3, timeout=5)
                        for m in got:
                            print("pulled:", m.data.decode(), m.metadata.num_delivered)
                            await m.ack()
                        ack = await js.publish("work.x", b"from python", headers={"Nats-Msg-Id": "swift-0"})
                        print("duplicate:", ack.duplicate)
                        await nc.close()
                    asyncio.run(main())
                    """
                let responder = Task {
                    for await message in answers {
                        try await connection.publish(message.replyTo!, data: Data("answer to \(String(buffer: message.payload))".utf8), headers: NATSHeaders(["From": "swift"]))
                    }
                }
                defer { responder.cancel() }
                let process = Process()
                process.executableURL = URL(fileURLWithPath: python)
                process.arguments = ["-c", script, server.url]
                let output = Pipe()
                process.standardOutput = output
                process.standardError = output
                try process.run()
                let text = String(decoding: await readToEnd(output.fileHandleForReading), as: UTF8.self)
                process.waitUntilExit()
                #expect(process.terminationStatus == 0, "\(text)")
                var iterator = fromPython.makeAsyncIterator()
                let message = await iterator.next()
                #expect(message?.data == Data("hello from python".utf8))
                #expect(message?.headers?["Run"] == "r9" && message?.headers?["Note"] == "x y")
                #expect(text.contains("reply: answer to question {'From': 'swift'}"), "\(text)")
                for index in 0..<3 { #expect(text.contains("pulled: from swift \(index) 1"), "\(text)") }
                #expect(text.contains("duplicate: True"), "\(text)")
                let state = try await jetStream.consumerState(stream: "WORK", consumer: "py")
                #expect(state.unacknowledged == 0)
            }
        }
    }
}
