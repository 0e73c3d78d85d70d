import AirlockCore
import AirlockTestSupport
import Foundation
import Testing

/// The official OpenAI Python client, pointed at `airlock serve`'s gateway, reaching a scripted
/// upstream through a grant made entirely through the CLI.
@Suite struct GatewayClientTests {
    @Test(.enabled(if: TestEnvironment.runsPython, "needs the openai package (make test installs it)"))
    func theOpenAIClientCallsStreamsAndIsRefusedWithReasons() async throws {
        let python = try #require(ProcessInfo.processInfo.environment["AIRLOCK_TEST_PYTHON"])
        let words = ["Air", "lock ", "says ", "hello"]
        let events = words.map { #"{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"\#($0)"},"finish_reason":null}]}"# }
            + [#"{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[],"usage":{"prompt_tokens":9,"completion_tokens":4,"total_tokens":13}}"#, "[DONE]"]
        try await ScriptedModelServer.withServer({ request in
            if case .object(let body) = request.body, body["stream"] == .bool(true) { return .paced(events, every: 0.05) }
            return .ok(ModelReplies.chat("Airlock says hello", promptTokens: 9, completionTokens: 4))
        }) { upstream in
            try await ProgramServerProcess.with { server in
                let office = server.officeKey
                let world = try await server.grantedEvaluator(upstream: upstream.baseURL)
                let (developer, grant) = (world.developerKey, world.grant)
                let issued = try await server.json(["grant", "key", grant, "--name", "evals"], key: world.evaluatorKey)
                guard case .object(let fields) = issued, let secret = fields["secret"]?.stringValue else {
                    Issue.record("no secret in \(issued)")
                    return
                }

                let first = try await Self.runClient(python, url: server.url, key: secret)
                #expect(first["text"] as? String == "Airlock says hello")
                #expect(first["usage"] as? Int == 13)
                #expect((first["chunks"] as? [String])?.joined() == words.joined())
                #expect((first["chunks"] as? [String])?.count == words.count)
                #expect(first["models"] as? [String] == ["frontier-2"])
                let badKey = try #require(first["bad_key"] as? [Any])
                #expect(badKey.first as? Int == 401)
                #expect(badKey.dropFirst().first as? String == "invalid_api_key")
                // The developer's credential went upstream; the client never held it.
                #expect(upstream.requests.allSatisfy { $0.headers["authorization"] == "Bearer sk-lab-secret" })

                // Airlock's own engine runs through the gateway like any client.
                let folder = try Airlock.temporaryFolder()
                let before = upstream.requests.count
                let eval = try await ProgramCLI.run(
                    ["eval", try Airlock.wordsTask(3, in: folder), "--model", "gateway/frontier-2", "--log-dir", folder + "/logs", "--no-progress"],
                    environment: ["AIRLOCK_GATEWAY_URL": server.url + "/v1", "AIRLOCK_GATEWAY_KEY": secret])
                #expect(eval.status == 0, "\(eval.error)")
                _ = try Airlock.onlyRun(in: folder + "/logs")
                #expect(upstream.requests.count >= before + 3)
                // Gateway calls are counted beside the server's other requests.
                let metrics = try await ProgramCLI.runProgram(
                    python, ["-c", "import sys, urllib.request; print(urllib.request.urlopen(sys.argv[1]).read().decode())", server.url + "/metrics"])
                #expect(metrics.output.contains(#"airlock_gateway_calls_total{route="/v1/chat/completions",status="200"}"#), "\(metrics.output)")

                _ = try await server.json(["grant", "revoke", grant, "--reason", "test"], key: developer)
                let after = try await Self.runClient(python, url: server.url, key: secret)
                let refused = try #require(after["refused"] as? [Any])
                #expect(refused.first as? Int == 403)
                #expect(refused.dropFirst().first as? String == "grant_revoked")
                #expect(try await server.stop() == 0)
                let verify = try await ProgramCLI.run(["audit", "verify", "--database", server.database])
                #expect(verify.status == 0, "\(verify.output)")
            }
        }
    }

    static let client = """
        import json, sys, openai
        url, key = sys.argv[1], sys.argv[2]
        client = openai.OpenAI(base_url=url + "/v1", api_key=key, max_retries=0)
        out = {}
        messages = [{"role": "user", "content": "hi"}]
        try:
            reply = client.chat.completions.create(model="frontier-2", messages=messages, max_tokens=20)
            out["text"] = reply.choices[0].message.content
            out["usage"] = reply.usage.total_tokens
            stream = client.chat.completions.create(model="frontier-2", messages=messages, max_tokens=20, stream=True)
            out["chunks"] = [c.choices[0].delta.content for c in stream if c.choices and c.choices[0].delta.content]
            out["models"] = [m.id for m in client.models.list().data]
        except openai.APIStatusError as error:
            out["refused"] = [error.status_code, error.body.get("code") if isinstance(error.body, dict) else None, error.message]
        try:
            openai.OpenAI(base_url=url + "/v1", api_key="alg_WRONG", max_retries=0).chat.completions.create(
                model="frontier-2", messages=messages, max_tokens=5)
        except openai.AuthenticationError as error:
            out["bad_key"] = [error.status_code, error.body.get("code"), error.message]
        print(json.dumps(out))
        """

    static func runClient(_ python: String, url: String, key: String) async throws -> [String: Any] {
        let result = try await ProgramCLI.runProgram(python, ["-c", client, url, key])
        try #require(result.status == 0, "\(result.error)")
        return try #require(try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any])
    }
}
