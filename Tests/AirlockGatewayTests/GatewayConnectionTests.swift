import AirlockCore
import AirlockGateway
import AirlockStore
import AirlockTestSupport
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization
import Testing

/// How the gateway shares its clients' connections with the router, and notices them go.
@Suite struct GatewayConnectionTests {
    /// A client that leaves in the middle of a stream ends the call at once: the upstream
    /// connection is dropped and the call is on the record as the client's doing, long before
    /// the upstream would have sent its next event.
    @Test func aClientLeavingAStreamEndsTheCall() async throws {
        let events = [#"{"choices":[{"delta":{"content":"first"}}]}"#, #"{"choices":[{"delta":{"content":"never"}}]}"#]
        try await GatewayFixture.with(upstream: { _ in .paced(events, every: 60) }) { fixture, _ in
            let url = try #require(URL(string: fixture.url))
            let body = #"{"messages":[],"stream":true,"max_tokens":10}"#
            let call =
                "POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\nauthorization: Bearer \(fixture.key)\r\n"
                + "content-type: application/json\r\ncontent-length: \(body.utf8.count)\r\n\r\n\(body)"
            // The client closes its connection once the first event is in, while the upstream holds the stream.
            let received = try await RawHTTPClient.exchange(host: "127.0.0.1", port: try #require(url.port), send: call) { $0.contains("first") }
            #expect(received.contains("first"))
            var entries = try await fixture.callEntries()
            for _ in 0..<100 where entries.isEmpty {
                try await Task.sleep(for: .milliseconds(100))
                entries = try await fixture.callEntries()
            }
            let detail = try #require(entries.first?.detail)
            #expect(detail.contains(#""status":"499""#) && detail.contains("client_closed"))
        }
    }

    /// A stream whose endpoint has not begun to answer when the grant is revoked ends at once
    /// with the refusal (had it waited, the endpoint's stream would have come through as 200).
    @Test func revocationEndsAStreamNotYetBegun() async throws {
        let events = [#"{"choices":[{"delta":{"content":"late"}}]}"#, "[DONE]"]
        try await GatewayFixture.with(upstream: { _ in .delayed(30, .paced(events, every: 0.01)) }) { fixture, server in
            async let response = fixture.post("/chat/completions", json: #"{"messages":[],"stream":true,"max_tokens":10}"#)
            while server.requests.isEmpty { try await Task.sleep(for: .milliseconds(20)) }
            try await fixture.store.transaction { records in
                var decisions = fixture.grant.decisions
                decisions.revokedAt = Date()
                try await records.updateDecisions(grantId: fixture.grant.id, decisions)
            }
            try await fixture.gateway.refresh()
            let cut = try await response
            #expect(cut.status == 403)
            #expect(cut.pieces.map(\.1).joined().contains("grant_revoked"))
            let entry = try #require(try await fixture.callEntries().first)
            #expect(entry.detail.contains(#""error":"grant_revoked""#) && entry.detail.contains(#""status":"403""#))
        }
    }

    /// An endpoint that closes a kept-alive connection as a request arrives on it (an idle
    /// timeout) gets the request once more on a new connection; one that drops a new connection
    /// too makes the call fail as unreachable.
    @Test func aClosedKeptAliveConnectionIsRetriedOnce() async throws {
        try await GatewayFixture.with(upstream: { request in
            switch request.index {
            case 1, 3, 4: .drop
            default: .ok(ModelReplies.chat("answer \(request.index)"))
            }
        }) { fixture, server in
            #expect(try await fixture.post("/chat/completions", json: chatBody).status == 200)
            let retried = try await fixture.post("/chat/completions", json: chatBody)
            #expect(retried.status == 200)
            #expect(retried.pieces.map(\.1).joined().contains("answer 2"))
            let failed = try await fixture.postBody("/chat/completions", json: chatBody)
            #expect(failed.status == 504)
            #expect(server.requests.count == 5)
        }
    }

    /// Requests sent back to back on one connection, to the router and to the gateway in turn,
    /// are answered in the order they were sent.
    @Test func pipelinedRequestsAreAnsweredInOrder() async throws {
        try await GatewayFixture.with(upstream: { _ in .delayed(0.2, .ok(ModelReplies.chat("from-the-model"))) }) { fixture, _ in
            let url = try #require(URL(string: fixture.url))
            let body = #"{"messages":[{"role":"user","content":"hi"}],"max_tokens":5}"#
            let models = "GET /v1/models HTTP/1.1\r\nhost: x\r\nauthorization: Bearer \(fixture.key)\r\n\r\n"
            let call =
                "POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\nauthorization: Bearer \(fixture.key)\r\n"
                + "content-type: application/json\r\ncontent-length: \(body.utf8.count)\r\n\r\n\(body)"
            let answers = try await RawHTTPClient.exchange(
                host: "127.0.0.1", port: try #require(url.port), send: call + models + call, until: { $0.components(separatedBy: "HTTP/1.1 200").count == 4 })
            let order = ["from-the-model", "\"object\":\"list\"", "from-the-model"]
            var rest = answers[...]
            for expected in order {
                let found = try #require(rest.range(of: expected), "missing \(expected) in order")
                rest = rest[found.upperBound...]
            }
        }
    }
}

/// Writes raw bytes to a server and collects what comes back until `until` says enough.
enum RawHTTPClient {
    final class Collector: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        let received = Mutex("")
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let text = String(buffer: unwrapInboundIn(data))
            received.withLock { $0 += text }
        }
    }

    static func exchange(host: String, port: Int, send: String, until: @escaping @Sendable (String) -> Bool) async throws -> String {
        let collector = Collector()
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(collector) } }
            .connect(host: host, port: port).get()
        try await channel.writeAndFlush(ByteBuffer(string: send))
        for _ in 0..<200 where !until(collector.received.withLock { $0 }) {
            try await Task.sleep(for: .milliseconds(50))
        }
        try? await channel.close()
        return collector.received.withLock { $0 }
    }

    /// Sends `send` and waits up to `within` for the server to close the connection.
    static func sendAndAwaitClose(host: String, port: Int, send: String, within: Duration) async throws -> Bool {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton).connect(host: host, port: port).get()
        do {
            try await channel.writeAndFlush(ByteBuffer(string: send))
        } catch where !channel.isActive {
            // On a busy machine the server's timer can close the connection before the client
            // writes: closed, which is what the caller waits for.
            return true
        }
        let deadline = ContinuousClock.now + within
        while channel.isActive, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }
        defer { channel.close(promise: nil) }
        return !channel.isActive
    }
}
