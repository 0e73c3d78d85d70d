import AirlockCore
import AirlockGateway
import AirlockStore
import AirlockTestSupport
import AsyncHTTPClient
import NIOCore
import NIOHTTP1
import Foundation
import Testing

@Suite struct GatewayTests {
    /// An allowed call goes through with the developer's credential, which the client never
    /// sees, under the upstream's own model name; it is charged and on the record.
    @Test(arguments: TestBackend.all)
    func anAllowedCallIsForwardedChargedAndRecorded(backend: TestBackend) async throws {
        try await GatewayFixture.with(backend: backend, upstream: { _ in .ok(ModelReplies.chat("hi there", promptTokens: 12, completionTokens: 3)) }) {
            fixture, server in
            let response = try await fixture.post("/chat/completions", json: chatBody)
            #expect(response.status == 200)
            let text = response.pieces.map(\.1).joined()
            #expect(text.contains("hi there"))
            #expect(!text.contains(GatewayFixture.developerCredential))
            let upstream = try #require(server.requests.first)
            #expect(upstream.headers["authorization"] == "Bearer \(GatewayFixture.developerCredential)")
            guard case .object(let sent) = upstream.body else { throw CancellationError() }
            #expect(sent["model"]?.stringValue == "frontier-internal")
            let entries = try await fixture.callEntries()
            #expect(entries.count == 1)
            let detail = try #require(try JSONSerialization.jsonObject(with: Data(entries[0].detail.utf8)) as? [String: String])
            #expect(detail["prompt_tokens"] == "12" && detail["completion_tokens"] == "3" && detail["status"] == "200")
            let grant = try await fixture.store.transaction { try await $0.grant(id: fixture.grant.id) }
            #expect(grant?.tokensUsed == 15)
        }
    }

    enum Refusal: String, CaseIterable, Sendable {
        case noKey, unknownKey, revoked, notStarted, ended, notConsented, wrongPurpose, closed, overQuota
    }

    /// Every way a call is refused: the status, the code, and words that say why.
    @Test(arguments: Refusal.allCases)
    func refusals(_ refusal: Refusal) async throws {
        let now = Date()
        try await GatewayFixture.with(
            grant: { grant in
                switch refusal {
                case .revoked: grant.decisions.revokedAt = now
                case .notStarted: grant.startsAt = now.addingTimeInterval(3600)
                case .ended: grant.endsAt = now.addingTimeInterval(-1)
                case .notConsented: grant.decisions.consentedAt = nil
                case .overQuota: grant.tokenQuota = 30
                default: break
                }
            },
            version: { version in
                if refusal == .wrongPurpose { version.gatewayPurposes = [.infrastructureDefence] }
                if refusal == .closed { version.gatewayOpen = false }
            },
            upstream: { _ in .ok(ModelReplies.chat("should not be reached")) }
        ) { fixture, server in
            let key: String? = switch refusal {
            case .noKey: ""
            case .unknownKey: "alg_NOTAKEY"
            default: nil
            }
            let response = try await fixture.postBody("/chat/completions", json: chatBody, key: key)
            let expected: (Int, String, String) = switch refusal {
            case .noKey: (401, "missing_api_key", "Authorization")
            case .unknownKey: (401, "invalid_api_key", "not a grant key")
            case .revoked: (403, "grant_revoked", "revoked")
            case .notStarted: (403, "grant_not_started", "starts at")
            case .ended: (403, "grant_ended", "ended at")
            case .notConsented: (403, "grant_not_active", "consent")
            case .wrongPurpose: (403, "purpose_not_allowed", "capability_evaluation")
            case .closed: (403, "model_closed", "closed access")
            case .overQuota: (429, "insufficient_quota", "quota")
            }
            #expect(response.status == expected.0)
            #expect(response.body.errorCode == expected.1)
            #expect(response.body.errorMessage?.contains(expected.2) == true, "\(response.body)")
            #expect(server.requests.isEmpty)
        }
    }

    @Test func overTheRateIsRefusedWithRetryAfter() async throws {
        try await GatewayFixture.with(grant: { $0.requestsPerMinute = 2 }, upstream: { _ in .ok(ModelReplies.chat("ok")) }) { fixture, _ in
            #expect(try await fixture.post("/chat/completions", json: chatBody).status == 200)
            #expect(try await fixture.post("/chat/completions", json: chatBody).status == 200)
            let third = try await fixture.post("/chat/completions", json: chatBody)
            #expect(third.status == 429)
            // Half a minute for the next request, less what has passed since the first two.
            #expect((1...30).contains(Int(third.headers["retry-after"] ?? "") ?? 0))
            #expect(third.pieces.map(\.1).joined().contains("rate_limit_requests"))
            // Refusals are on the record too.
            let statuses = try await fixture.callEntries().map { $0.detail.contains(#""status":"429""#) }
            #expect(statuses == [false, false, true])
        }
    }

    /// Many calls at once against a small quota: what is charged stays inside it.
    @Test(arguments: TestBackend.all)
    func concurrentCallsDoNotOverspend(backend: TestBackend) async throws {
        let body = #"{"messages":[{"role":"user","content":"x"}],"max_tokens":40}"#
        try await GatewayFixture.with(
            backend: backend, grant: { $0.tokenQuota = 500 },
            upstream: { _ in .delayed(0.05, .ok(ModelReplies.chat("ok", promptTokens: 10, completionTokens: 30))) }
        ) { fixture, _ in
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<40 { group.addTask { try await fixture.post("/chat/completions", json: body).status } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(statuses.contains(200) && statuses.contains(429))
            _ = try await fixture.callEntries()
            let grant = try #require(try await fixture.store.transaction { try await $0.grant(id: fixture.grant.id) })
            #expect(grant.tokensUsed <= 500)
            #expect(grant.tokensUsed == Int64(statuses.filter { $0 == 200 }.count) * 40)
        }
    }

    /// A stream is passed on as the upstream sends it: with the upstream holding its stream
    /// open after one event, the client has that event before the next is sent.
    @Test func streamsArriveInPieces() async throws {
        let events = [#"{"choices":[{"delta":{"content":"first"}}]}"#, #"{"choices":[{"delta":{"content":"never"}}]}"#]
        try await GatewayFixture.with(upstream: { _ in .paced(events, every: 5) }) { fixture, _ in
            var request = HTTPClientRequest(url: fixture.url + "/chat/completions")
            request.method = .POST
            request.headers.add(name: "authorization", value: "Bearer \(fixture.key)")
            request.body = .bytes(ByteBuffer(string: #"{"messages":[],"stream":true,"max_tokens":10}"#))
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(60))
            #expect(response.status.code == 200)
            #expect(response.headers.first(name: "content-type") == "text/event-stream")
            var received = ""
            for try await piece in response.body {
                received += String(buffer: piece)
                if received.contains("first") { break }
            }
            #expect(received.contains("first") && !received.contains("never"))
        }
    }

    /// A whole stream reaches the client, and the grant is charged from the usage in it.
    @Test func streamsAreChargedFromTheirUsage() async throws {
        let events = (0..<5).map { #"{"choices":[{"delta":{"content":"w\#($0) "}}]}"# }
            + [#"{"choices":[],"usage":{"prompt_tokens":8,"completion_tokens":5}}"#, "[DONE]"]
        try await GatewayFixture.with(upstream: { _ in .paced(events, every: 0.05) }) { fixture, server in
            let response = try await fixture.post("/chat/completions", json: #"{"messages":[],"stream":true,"max_tokens":10}"#)
            #expect(response.status == 200)
            #expect(response.pieces.map(\.1).joined().contains("w4"))
            guard case .object(let sent) = try #require(server.requests.first).body, case .object(let options)? = sent["stream_options"]
            else { throw CancellationError() }
            #expect(options["include_usage"] == .bool(true))
            let entries = try await fixture.callEntries()
            #expect(entries.first?.detail.contains(#""completion_tokens":"5""#) == true)
        }
    }

    /// Revoking the grant ends an open stream with an error event, at once.
    @Test func revocationCutsAnOpenStream() async throws {
        let events = (0..<100).map { #"{"choices":[{"delta":{"content":"t\#($0)"}}]}"# }
        try await GatewayFixture.with(upstream: { _ in .paced(events, every: 0.1) }) { fixture, _ in
            async let response = fixture.post("/chat/completions", json: #"{"messages":[],"stream":true,"max_tokens":10}"#)
            try await Task.sleep(for: .milliseconds(500))
            try await fixture.store.transaction { records in
                var decisions = fixture.grant.decisions
                decisions.revokedAt = Date()
                try await records.updateDecisions(grantId: fixture.grant.id, decisions)
            }
            try await fixture.gateway.refresh()
            let cut = try await response
            let text = cut.pieces.map(\.1).joined()
            #expect(text.contains("grant_revoked"))
            #expect(!text.contains("t99"))
            #expect(try await fixture.post("/chat/completions", json: chatBody).status == 403)
        }
    }

    @Test func upstreamFailuresSayWhatTheUpstreamAnswered() async throws {
        try await GatewayFixture.with(upstream: { request in request.index == 0 ? .status(500) : .drop }) { fixture, _ in
            let failed = try await fixture.postBody("/chat/completions", json: chatBody)
            #expect(failed.status == 502)
            #expect(failed.body.errorMessage?.contains("answered 500") == true)
            let dropped = try await fixture.postBody("/chat/completions", json: chatBody)
            #expect(dropped.status == 504)
            #expect(dropped.body.errorCode == "upstream_unreachable")
        }
    }

    /// Anthropic's dialect: its key header, its error shape, its usage.
    @Test func anthropicMessages() async throws {
        try await GatewayFixture.with(upstream: { _ in .ok(ModelReplies.anthropic("bonjour")) }) { fixture, server in
            let response = try await fixture.post(
                "/messages", json: #"{"model":"x","max_tokens":30,"messages":[{"role":"user","content":"hi"}]}"#, key: "",
                headers: ["x-api-key": fixture.key])
            #expect(response.status == 200)
            #expect(server.requests.first?.headers["x-api-key"] == GatewayFixture.developerCredential)
            #expect(try await fixture.callEntries().first?.detail.contains(#""prompt_tokens":"11""#) == true)
            let refused = try await fixture.postBody("/messages", json: #"{"messages":[]}"#)
            #expect(refused.status == 400)
            #expect((refused.body["error"] as? [String: Any])?["type"] as? String == "invalid_request_error")
        }
    }
}

extension GatewayTests {
    /// Where the grant says so, a call's content is kept, sealed: unreadable at rest, readable
    /// with the key.
    @Test func contentIsRecordedSealedWhereTheGrantSaysSo() async throws {
        try await GatewayFixture.with(grant: { $0.recordContent = true }, upstream: { _ in .ok(ModelReplies.chat("the secret answer")) }) {
            fixture, _ in
            #expect(try await fixture.post("/chat/completions", json: chatBody).status == 200)
            let entry = try #require(try await fixture.callEntries().first)
            let detail = try #require(try JSONSerialization.jsonObject(with: Data(entry.detail.utf8)) as? [String: String])
            let callId = try #require(detail["call"])
            let sealed = try #require(try await fixture.store.transaction { try await $0.gatewayContent(callId: callId) })
            #expect(!sealed.contains("secret answer") && !sealed.contains("hello"))
            let opened = try #require(try fixture.store.sealer?.open(sealed, context: callId))
            #expect(opened.contains("the secret answer") && opened.contains("hello"))
            #expect(!entry.detail.contains("secret answer"))
        }
    }

    /// Every answer names its call (`Airlock-Call-Id`), streamed or not, and that id is the one
    /// the gateway records: a sample's evidence can name the calls that produced it.
    @Test func everyAnswerNamesTheCallItIsRecordedUnder() async throws {
        try await GatewayFixture.with(upstream: { request in
            request.lastContent == "stream"
                ? .events([#"{"choices":[{"delta":{"content":"a"}}]}"#, #"{"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":1}}"#])
                : .ok(ModelReplies.chat("plain"))
        }) { fixture, _ in
            let plain = try await fixture.post("/chat/completions", json: chatBody)
            let streamed = try await fixture.post(
                "/chat/completions", json: #"{"model":"x","stream":true,"max_tokens":10,"messages":[{"role":"user","content":"stream"}]}"#)
            let ids = [plain.headers["airlock-call-id"], streamed.headers["airlock-call-id"]].compactMap { $0 }
            #expect(plain.status == 200 && streamed.status == 200 && ids.count == 2 && Set(ids).count == 2, "\(plain.headers) \(streamed.headers)")
            let recorded = try await fixture.callEntries().compactMap { entry in
                (try? JSONSerialization.jsonObject(with: Data(entry.detail.utf8)) as? [String: String])?["call"]
            }
            #expect(Set(recorded) == Set(ids))
        }
    }

    /// Calls stuck on a slow upstream hold up neither another grant's calls nor the gateway.
    @Test func aSlowUpstreamHoldsNoOtherGrantsCalls() async throws {
        try await GatewayFixture.with(upstream: { request in
            request.lastContent == "slow" ? .delayed(8, .ok(ModelReplies.chat("late"))) : .ok(ModelReplies.chat("quick"))
        }) { fixture, server in
            // A second grant to the same version, with a key of its own.
            let secondKey = Identifier.secret("alg")
            try await fixture.store.transaction { records in
                var second = fixture.grant
                second.id = Identifier.make("grt")
                try await records.insert(second)
                try await records.insert(
                    APIKey(
                        id: Identifier.make("key"), kind: .grant, userId: nil, grantId: second.id, organisationId: second.granteeId,
                        name: "second", createdAt: Date()),
                    secret: secondKey)
            }
            let slowBody = #"{"messages":[{"role":"user","content":"slow"}],"max_tokens":5}"#
            let slowDone = Acknowledged()
            async let slow = withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<6 { group.addTask { try await fixture.post("/chat/completions", json: slowBody).status } }
                let statuses = try await group.reduce(into: [Int]()) { $0.append($1) }
                await slowDone.mark()
                return statuses
            }
            // Once the six are held upstream, the other grant's call goes through before any of them.
            while server.requests.count < 6 { try await Task.sleep(for: .milliseconds(20)) }
            let quick = try await fixture.post("/chat/completions", json: chatBody, key: secondKey)
            #expect(quick.status == 200)
            #expect(await !slowDone.done)
            #expect(try await slow == Array(repeating: 200, count: 6))
        }
    }
}

extension GatewayTests {
    /// Base models: OpenAI completions, and the one model a key reaches.
    @Test func completionsAndModels() async throws {
        try await GatewayFixture.with(upstream: { _ in .ok(ModelReplies.completion(" Paris")) }) { fixture, server in
            let response = try await fixture.postBody("/completions", json: #"{"model":"m","prompt":"The capital of France is","max_tokens":3}"#)
            #expect(response.status == 200)
            #expect(((response.body["choices"] as? [[String: Any]])?.first?["text"] as? String) == " Paris")
            #expect(server.requests.first?.path.hasSuffix("/v1/completions") == true)
            var request = HTTPClientRequest(url: fixture.url + "/models")
            request.headers.add(name: "authorization", value: "Bearer \(fixture.key)")
            let models = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
            let body = try await models.body.collect(upTo: 1 << 16)
            #expect(String(buffer: body).contains("frontier-2"))
        }
    }
}

/// Whether something has finished, across tasks.
actor Acknowledged {
    private(set) var done = false
    func mark() { done = true }
}
