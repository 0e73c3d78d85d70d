import AirlockCore
@testable import AirlockGateway
import AirlockStore
import AirlockTestSupport
import AsyncHTTPClient
import Foundation
import Hummingbird
import NIOCore
import Testing

/// Issue 14: the gateway under attack, over a real socket.
@Suite struct GatewayHardeningTests {
    /// An Anthropic stream left after a few deltas is charged its reservation: the usage in
    /// `message_start` is not what the answer cost.
    @Test func aStreamCutOffBeforeItsFinalUsageIsChargedItsReservation() async throws {
        let events = [
            #"{"type":"message_start","message":{"usage":{"input_tokens":30,"output_tokens":1}}}"#,
            #"{"type":"content_block_delta","delta":{"type":"text_delta","text":"first"}}"#,
            #"{"type":"content_block_delta","delta":{"type":"text_delta","text":"never"}}"#,
        ]
        try await GatewayFixture.with(upstream: { _ in .paced(events, every: 1) }) { fixture, _ in
            let url = try #require(URL(string: fixture.url))
            let body = #"{"model":"x","messages":[],"stream":true,"max_tokens":3000}"#
            let call =
                "POST /v1/messages HTTP/1.1\r\nhost: x\r\nx-api-key: \(fixture.key)\r\n"
                + "content-type: application/json\r\ncontent-length: \(body.utf8.count)\r\n\r\n\(body)"
            _ = try await RawHTTPClient.exchange(host: "127.0.0.1", port: try #require(url.port), send: call) { $0.contains("first") }
            var entries = try await fixture.callEntries()
            for _ in 0..<100 where entries.isEmpty {
                try await Task.sleep(for: .milliseconds(100))
                entries = try await fixture.callEntries()
            }
            let reservation = try GatewayRequest(api: .messages, body: Data(body.utf8), upstreamModel: "frontier-internal").reservation
            #expect(entries.first?.detail.contains(#""charged_tokens":"\#(reservation)""#) == true, "\(entries)")
        }
    }

    /// An endpoint that echoes the credential it was sent hands it to no one: its error is
    /// summarised, credential-like words removed, still valid JSON.
    @Test(arguments: [400, 401, 500])
    func upstreamErrorsAreSummarisedWithoutCredentials(status: Int) async throws {
        let echo =
            #"{"error":{"type":"auth\"error","message":"bad key \#(GatewayFixture.developerCredential) (Bearer sk-live-0123456789abcdefXYZ, x-api-key: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08)"},"echo":"\#(GatewayFixture.developerCredential)"}"#
        try await GatewayFixture.with(upstream: { _ in .json(status: status, body: echo, headers: [:]) }) { fixture, _ in
            let response = try await fixture.post("/chat/completions", json: chatBody)
            let text = response.pieces.map(\.1).joined()
            #expect(response.status == (status == 400 ? 400 : 502))
            for secret in [GatewayFixture.developerCredential, "sk-live", "0123456789abcdef", "9f86d081884c7d659a2feaa0c55ad015"] {
                #expect(!text.contains(secret), "\(text)")
            }
            let body = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
            #expect(body.errorMessage?.contains("bad key") == true, "\(body)")
            #expect(response.headers["x-airlock-upstream-status"] == (status == 400 ? "400" : nil))
        }
    }

    /// A body that is not JSON is redacted before it is cut to length: no part of a credential
    /// survives at the cut.
    @Test func aCredentialAtTheCutIsNotPartlyKept() {
        let credential = "Zq9Tt2Lm4Pw8Rk1Vb3Nc7Yh5"
        let body = String(repeating: "x ", count: 145) + credential + " trailing words"
        let summary = AccessGateway.summary(ofUpstreamError: ByteBuffer(string: body), credential: credential)
        #expect(!summary.contains("Zq9Tt"), "\(summary)")
    }

    /// A key issued a moment ago works at once, even when the directory was reloaded just before.
    @Test func aJustIssuedKeyWorksAtOnce() async throws {
        try await GatewayFixture.with(upstream: { _ in .ok(ModelReplies.chat("ok")) }) { fixture, _ in
            #expect(try await fixture.post("/chat/completions", json: chatBody, key: "alg_NOTAKEY").status == 401)
            let fresh = Identifier.secret("alg")
            try await fixture.store.transaction { records in
                try await records.insert(
                    APIKey(
                        id: Identifier.make("key"), kind: .grant, userId: nil, grantId: fixture.grant.id,
                        organisationId: fixture.grant.granteeId, name: "fresh", createdAt: Date()),
                    secret: fresh)
            }
            #expect(try await fixture.post("/chat/completions", json: chatBody, key: fresh).status == 200)
        }
    }

    /// Calls with unknown keys are on the audit log, counted by address and minute: a flood is
    /// one entry, and the key is not in it.
    @Test func unknownKeysAreAuditedInAggregate() async throws {
        try await GatewayFixture.with(upstream: { _ in .ok(ModelReplies.chat("ok")) }) { fixture, _ in
            for _ in 0..<5 {
                #expect(try await fixture.post("/chat/completions", json: chatBody, key: "alg_FLOODKEY").status == 401)
            }
            try await fixture.gateway.flush(final: true)
            let entries = try await fixture.store.transaction { try await $0.auditEntries(after: 0, limit: 1000) }
                .filter { $0.action == "gateway.unknown_key" }
            #expect(entries.count == 1)
            let entry = try #require(entries.first)
            let detail = try #require(try JSONSerialization.jsonObject(with: Data(entry.detail.utf8)) as? [String: String])
            #expect(detail["calls"] == "5" && detail["address"] == "127.0.0.1")
            #expect(detail["key_digest_prefix"] == String(SecretDigest.of("alg_FLOODKEY").prefix(8)))
            #expect(!(entries.first?.detail.contains("FLOODKEY") ?? true))
        }
    }
}

extension GatewayHardeningTests {
    /// Calls admitted by a gateway that dies before it writes their records are charged when
    /// a gateway starts again on its journal; calls whose records did reach the store are not
    /// charged twice.
    @Test func callsLostInACrashAreChargedOnRestart() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("journal-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let journal = folder.appendingPathComponent("gateway.journal").path
        let body = #"{"messages":[{"role":"user","content":"x"}],"max_tokens":4000}"#
        try await GatewayFixture.with(
            configuration: .init(journalPath: journal), upstream: { _ in .ok(ModelReplies.chat("ok", promptTokens: 10, completionTokens: 30)) }
        ) { fixture, _ in
            // One call recorded, then a journal as the disk held it before that flush rewrote it.
            #expect(try await fixture.post("/chat/completions", json: body).status == 200)
            let beforeFlush = folder.appendingPathComponent("before-flush.journal").path
            try FileManager.default.copyItem(atPath: journal, toPath: beforeFlush)
            try await fixture.gateway.flush()
            // Five more, never flushed: the process dies here.
            for _ in 0..<5 { #expect(try await fixture.post("/chat/completions", json: body).status == 200) }
            let atCrash = folder.appendingPathComponent("at-crash.journal").path
            try FileManager.default.copyItem(atPath: journal, toPath: atCrash)
            let merged = try String(contentsOfFile: beforeFlush, encoding: .utf8) + String(contentsOfFile: atCrash, encoding: .utf8)
            try merged.write(toFile: atCrash, atomically: true, encoding: .utf8)

            let restarted = try AccessGateway(store: fixture.store, configuration: .init(journalPath: atCrash), logger: TestBackend.quietLogger)
            try await restarted.refresh()
            try await restarted.flush()
            let entries = try await fixture.store.transaction { try await $0.auditEntries(after: 0, limit: 1000) }
                .filter { $0.action == "gateway.call" }
            #expect(entries.count == 6)
            #expect(entries.filter { $0.detail.contains("lost_in_crash") }.count == 5)
            let reservation = try GatewayRequest(api: .chatCompletions, body: Data(body.utf8), upstreamModel: "frontier-internal").reservation
            let grant = try await fixture.store.transaction { try await $0.grant(id: fixture.grant.id) }
            #expect(grant?.tokensUsed == 40 + 5 * reservation)
            // Recorded once: the journal keeps no call, and flushing again adds nothing.
            try await restarted.flush()
            let left = try String(contentsOfFile: atCrash, encoding: .utf8).split(separator: "\n")
            #expect(left.count == 1 && left.first?.contains("audit_after") == true, "\(left)")
            try await restarted.shutdown()
        }
    }
}

extension GatewayHardeningTests {
    /// A client that sends half a head, or stalls in its body, is disconnected at the wall.
    @Test(arguments: ["POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\n", "POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-length: 100\r\n\r\n{"])
    func slowClientsAreDisconnected(partial: String) async throws {
        let timeouts = ClientTimeouts(head: .seconds(1), body: .seconds(1), idle: .seconds(1))
        try await GatewayFixture.with(configuration: .init(clientTimeouts: timeouts), upstream: { _ in .ok(ModelReplies.chat("ok")) }) { fixture, _ in
            let url = try #require(URL(string: fixture.url))
            let started = ContinuousClock.now
            let closed = try await RawHTTPClient.sendAndAwaitClose(host: "127.0.0.1", port: try #require(url.port), send: partial, within: .seconds(20))
            #expect(closed)
            #expect(ContinuousClock.now - started < .seconds(20))
        }
    }

    /// A chunk size past any number is a bad request, never a server error.
    @Test(arguments: ["/v1/chat/completions", "/api/v1/echo"])
    func anAbsurdChunkSizeIsABadRequest(path: String) async throws {
        let echo: @Sendable (Router<BasicRequestContext>) -> Void = { router in
            router.post("api/v1/echo") { request, _ in String(buffer: try await request.body.collect(upTo: 1 << 20)) }
        }
        try await GatewayFixture.with(routes: echo, upstream: { _ in .ok(ModelReplies.chat("ok")) }) { fixture, _ in
            let url = try #require(URL(string: fixture.url))
            let request =
                "POST \(path) HTTP/1.1\r\nhost: x\r\nauthorization: Bearer \(fixture.key)\r\ntransfer-encoding: chunked\r\n\r\n"
                + "fffffffffffffffffffff\r\nabc\r\n0\r\n\r\n"
            let answer = try await RawHTTPClient.exchange(host: "127.0.0.1", port: try #require(url.port), send: request) { $0.contains("\r\n\r\n") }
            #expect(!answer.contains("HTTP/1.1 5"), "\(answer)")
            if path.hasPrefix("/v1/") { #expect(answer.isEmpty || answer.hasPrefix("HTTP/1.1 400"), "\(answer)") }
        }
    }
}
