@testable import AirlockNATS
import AirlockTestSupport
import Foundation
import NIOCore
import PropertyBased
import Testing

/// The protocol without a socket: frames read whole however the bytes arrive, what is not the
/// protocol refused, commands written as the protocol says.
struct NATSProtocolTests {
    static let frames = "INFO {\"server_id\":\"S1\",\"version\":\"2.15.1\",\"max_payload\":1048576,\"headers\":true,\"jetstream\":true,\"connect_urls\":[\"127.0.0.1:4223\"]}\r\n"
        + "MSG work.a 7 5\r\nhello\r\n"
        + "msg work.b 8 _INBOX.x 0\r\n\r\n"
        + "HMSG work.c 9 $JS.ACK.S.C.1.2.3.4.5 32 36\r\nNATS/1.0\r\nNats-Msg-Id: run-1\r\n\r\nbody\r\n"
        + "HMSG _INBOX.y 3 30 30\r\nNATS/1.0 503 No Responders\r\n\r\n\r\n"
        + "PING\r\nPONG\r\n+OK\r\n-ERR 'Authorization Violation'\r\n"

    static func parseAll(_ text: String, chunk: Int) throws -> [ServerOperation] {
        let bytes = Array(text.utf8)
        var buffer = ByteBuffer()
        var operations: [ServerOperation] = []
        var offset = 0
        while offset < bytes.count {
            buffer.writeBytes(bytes[offset..<min(offset + chunk, bytes.count)])
            offset += chunk
            while let operation = try ServerOperationParser().next(&buffer) { operations.append(operation) }
        }
        #expect(buffer.readableBytes == 0)
        return operations
    }

    @Test(arguments: [1, 2, 3, 7, 64, 10_000])
    func framesAreReadWholeHoweverTheBytesArrive(chunk: Int) throws {
        let operations = try Self.parseAll(Self.frames, chunk: chunk)
        #expect(operations.count == 9)
        guard case .info(let info) = operations[0] else { Issue.record("\(operations[0])"); return }
        #expect(info.serverID == "S1" && info.maxPayload == 1 << 20 && info.jetStream && info.connectURLs == ["127.0.0.1:4223"])
        guard case .message(let a) = operations[1], case .message(let b) = operations[2], case .message(let c) = operations[3], case .message(let d) = operations[4] else {
            Issue.record("\(operations)"); return
        }
        #expect(a.subject == "work.a" && a.sid == 7 && a.replyTo == nil && a.data == Data("hello".utf8) && a.headers == nil)
        #expect(b.subject == "work.b" && b.replyTo == "_INBOX.x" && b.payload.readableBytes == 0)
        #expect(c.headers?["nats-msg-id"] == "run-1" && c.data == Data("body".utf8) && c.replyTo == "$JS.ACK.S.C.1.2.3.4.5")
        #expect(d.headers?.status == 503 && d.headers?.statusDescription == "No Responders" && d.payload.readableBytes == 0)
        #expect(Array(operations[5...]) == [.ping, .pong, .ok, .error("Authorization Violation")])
    }

    @Test(arguments: [
        ("FOO bar\r\n", "unknown operation"),
        ("MSG a 1 99999999999\r\n", "size"),
        ("MSG a 1 -1\r\n", "size"),
        ("MSG a 1 ５\r\n", "size"),
        ("MSG a x 1\r\nA\r\n", "subscription id"),
        ("MSG a 1 2\r\nabXY", "CRLF"),
        ("HMSG a 1 10 5\r\n", "headers are longer"),
        ("HMSG a 1 5 5\r\nHTTP/\r\n", "NATS/1.0"),
        ("MSG a\r\n", "arguments"),
        ("PING x\r\n", "arguments"),
        ("INFO {\r\n", "INFO"),
        ("PING\n", "CRLF"),
    ])
    func whatIsNotTheProtocolIsRefused(text: String, says: String) {
        var buffer = ByteBuffer(string: text)
        let error = #expect(throws: NATSError.self) { while try ServerOperationParser().next(&buffer) != nil {} }
        #expect(error?.code == .protocolViolation)
        #expect(error?.message.contains(says) == true, "\(String(describing: error))")
    }

    @Test func aControlLineWithoutAnEndIsRefusedPastTheLimit() throws {
        var parser = ServerOperationParser()
        parser.maxControlLine = 100
        var buffer = ByteBuffer(string: "INFO " + String(repeating: "x", count: 90))
        #expect(try parser.next(&buffer) == nil)
        buffer.writeString(String(repeating: "x", count: 10))
        #expect(throws: NATSError.self) { try parser.next(&buffer) }
    }

    @Test func commandsAreWrittenAsTheProtocolSays() throws {
        var buffer = ByteBuffer()
        try ClientCommand.publish(subject: "a.b", replyTo: "_INBOX.1", headers: nil, payload: ByteBuffer(string: "hi")).write(into: &buffer)
        try ClientCommand.publish(subject: "a.b", replyTo: nil, headers: NATSHeaders(["Nats-Msg-Id": "x"]), payload: ByteBuffer(string: "hi")).write(into: &buffer)
        try ClientCommand.subscribe(subject: "a.*", queue: "workers", sid: 4).write(into: &buffer)
        try ClientCommand.unsubscribe(sid: 4, max: nil).write(into: &buffer)
        #expect(String(buffer: buffer) == "PUB a.b _INBOX.1 2\r\nhi\r\nHPUB a.b 28 30\r\nNATS/1.0\r\nNats-Msg-Id: x\r\n\r\nhi\r\nSUB a.* workers 4\r\nUNSUB 4\r\n")
    }

    @Test(arguments: [("Bad\r\nName", "v"), ("Name", "v\r\nInjected: 1"), ("Na:me", "v"), ("", "v")])
    func headersThatWouldBreakTheBlockAreRefused(name: String, value: String) {
        var buffer = ByteBuffer()
        let error = #expect(throws: NATSError.self) {
            try ClientCommand.publish(subject: "a", replyTo: nil, headers: NATSHeaders([name: value]), payload: ByteBuffer()).write(into: &buffer)
        }
        #expect(error?.code == .badHeader)
    }

    @Test func subjectsAreChecked() {
        for good in ["a", "a.b.c", "$JS.API.STREAM.CREATE.X", "_INBOX.abc"] { #expect(throws: Never.self) { try NATSSubject.check(good, wildcards: false) } }
        for good in ["a.*", "a.>", "*.b", ">"] { #expect(throws: Never.self) { try NATSSubject.check(good, wildcards: true) } }
        for bad in ["", "a b", "a..b", ".a", "a.", "a\r\nPUB x 1", "a\tb", "a.>.b", "a*"] {
            #expect(throws: NATSError.self, "\(bad.debugDescription)") { try NATSSubject.check(bad, wildcards: true) }
        }
        #expect(throws: NATSError.self) { try NATSSubject.check("a.*", wildcards: false) }
    }

    @Test func backoffDoublesUpToItsMaximumAndStopsWhenSpent() {
        var backoff = ReconnectBackoff(policy: .init(initial: .milliseconds(100), maximum: .milliseconds(500), maxAttempts: 6))
        let waits = (0..<7).map { _ in backoff.next(jitter: 0) }
        #expect(waits == [.zero, .milliseconds(100), .milliseconds(200), .milliseconds(400), .milliseconds(500), .milliseconds(500), nil])
        backoff.reset()
        #expect(backoff.next(jitter: 0) == .zero)
        #expect(backoff.next(jitter: 0.999)! >= .milliseconds(50))
    }

    @Test func acknowledgementSubjectsAreRead() throws {
        let old = try AcknowledgementSubject("$JS.ACK.WORK.workers.2.41.17.1765000000000000000.3")
        #expect(old.stream == "WORK" && old.consumer == "workers" && old.delivered == 2 && old.streamSequence == 41 && old.consumerSequence == 17 && old.pending == 3)
        let new = try AcknowledgementSubject("$JS.ACK.hub.ACCHASH.WORK.workers.1.5.6.1765000000000000000.0.token")
        #expect(new.stream == "WORK" && new.delivered == 1 && new.streamSequence == 5)
        for bad in ["$JS.ACK.a.b", "x.ACK.a.b.1.2.3.4.5", "$JS.ACK.S.C.x.2.3.4.5"] {
            #expect(throws: NATSError.self) { try AcknowledgementSubject(bad) }
        }
    }

    @Test func serverURLsAreRead() throws {
        let full = try ServerAddress("nats://worker:p%40ss@10.0.0.1:4333")
        #expect(full.host == "10.0.0.1" && full.port == 4333 && full.user == "worker" && full.password == "p@ss")
        #expect(try ServerAddress("127.0.0.1").port == 4222)
        #expect(try ServerAddress("[::1]:4223").host == "::1")
        for bad in ["http://x:1", "nats://:4222", "x:99999"] { #expect(throws: NATSError.self) { try ServerAddress(bad) } }
    }

    /// Server frames, generated: a message of any subject, reply, headers and payload read back
    /// as it was written, and any bytes (mutated frames) read or refused without a crash.
    static let generatedFrames = Generator<String, Shrink.None<String>> { random in
        func token(_ random: inout some RandomNumberGenerator) -> String {
            String((0..<Int.random(in: 1...8, using: &random)).map { _ in "abcXYZ019_-$é".randomElement(using: &random)! })
        }
        let subject = (0..<Int.random(in: 1...4, using: &random)).map { _ in token(&random) }.joined(separator: ".")
        let payload = String((0..<Int.random(in: 0...40, using: &random)).map { _ in "ab \r\n\u{0}é{}".randomElement(using: &random)! })
        let reply = Bool.random(using: &random) ? " " + token(&random) : ""
        let sid = Int.random(in: 0...1_000_000, using: &random)
        if Bool.random(using: &random) {
            return "MSG \(subject) \(sid)\(reply) \(payload.utf8.count)\r\n\(payload)\r\n"
        }
        let headers = "NATS/1.0\r\n" + (0..<Int.random(in: 0...3, using: &random)).map { _ in "\(token(&random)): \(token(&random))\r\n" }.joined() + "\r\n"
        return "HMSG \(subject) \(sid)\(reply) \(headers.utf8.count) \(headers.utf8.count + payload.utf8.count)\r\n\(headers)\(payload)\r\n"
    }

    static let target = FuzzTarget(
        "nats-server-frames",
        seeds: [frames, "MSG a 1 0\r\n\r\n", "HMSG a 1 12 12\r\nNATS/1.0\r\n\r\n\r\n", "INFO {}\r\n"],
        tokens: ["\r\n", "MSG ", "HMSG ", "NATS/1.0", " 503", "INFO ", "-ERR ", "+OK", "PING", "99999999", "４", " "],
        generator: generatedFrames
    ) { bytes throws(FuzzFailure) in
        var buffer = ByteBuffer(bytes: bytes)
        var operations: [ServerOperation] = []
        do {
            while let operation = try ServerOperationParser().next(&buffer) { operations.append(operation) }
        } catch {
            return
        }
        // What was read whole, written back as frames, reads the same.
        var again = ByteBuffer()
        for case .message(let message) in operations {
            let reply = message.replyTo.map { " " + $0 } ?? ""
            if let headers = message.headers, headers.status == nil, let block = try? headers.encoded() {
                again.writeString("HMSG \(message.subject) \(message.sid)\(reply) \(block.count) \(block.count + message.payload.readableBytes)\r\n")
                again.writeBytes(block)
            } else if message.headers == nil {
                again.writeString("MSG \(message.subject) \(message.sid)\(reply) \(message.payload.readableBytes)\r\n")
            } else {
                continue
            }
            again.writeImmutableBuffer(message.payload)
            again.writeString("\r\n")
            guard case .message(let read)? = try? ServerOperationParser().next(&again) else {
                throw FuzzFailure("a message written back did not read: \(message)")
            }
            try fuzzRequire(read.subject == message.subject && read.sid == message.sid && read.replyTo == message.replyTo && read.payload == message.payload
                && read.headers?.fields == message.headers?.fields, "\(message) read back as \(read)")
        }
    }

    @Test func fuzz() {
        Self.target.run()
    }
}
