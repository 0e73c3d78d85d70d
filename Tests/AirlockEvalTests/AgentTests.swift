import AirlockCore
@testable import AirlockEval
import AirlockTestSupport
import Foundation
import Testing

/// The messages of a scripted request.
func messages(_ request: ScriptedModelServer.Request) -> [[String: JSONValue]] {
    guard case .object(let body) = request.body, case .array(let list)? = body["messages"] else { return [] }
    return list.compactMap { if case .object(let message) = $0 { return message } else { return nil } }
}

@Suite(.enabled(if: TestEnvironment.runs(.sandboxes, ifAvailable: Sandbox.isAvailable), "needs root and bubblewrap (make test installs it)"))
struct AgentTests {
    static func task(_ solver: String, sandbox: String = "  files:\n    secret.txt: \"FLAG{a1rl0ck}\"\n") -> String {
        "name: agent\ndataset: {path: data.jsonl}\nsolvers:\n  - \(solver)\nscorers: [exact]\nsandbox:\n\(sandbox)"
    }

    static let sample = #"{"id": "find-flag", "input": "Find the flag in /home/agent and submit it.", "target": "FLAG{a1rl0ck}"}"#

    @Test func aNativeToolCallingAgentSolvesInItsSandbox() async throws {
        let fixture = try TaskFixture(yaml: Self.task("agent: {tools: [bash, read_file], max_turns: 5}"), samples: [Self.sample])
        try await ScriptedModelServer.withServer({ request in
            let history = messages(request)
            guard let result = history.last(where: { $0["role"] == .string("tool") })?["content"]?.stringValue else {
                return .ok(ModelReplies.toolCall("bash", ["command": "ls; cat secret.txt"]))
            }
            let flag = result.split(separator: "\n").first { $0.hasPrefix("FLAG{") }.map(String.init) ?? "none"
            return .ok(ModelReplies.toolCall("submit", ["answer": flag]))
        }) { server in
            let (run, outcome) = try await fixture.run(fixture.options(server))
            #expect(outcome.results?.scorers[0].overall.value == 1)
            let record = try #require(try run.directory.readRecords().first)
            #expect(record.stopReason == "submitted")
            #expect(record.completion == "FLAG{a1rl0ck}")
            #expect(record.messages.map(\.role) == [.system, .user, .assistant, .tool, .assistant])
            #expect(record.messages[3].content == "exit status 0\nsecret.txt\nFLAG{a1rl0ck}")
            // The tools went to the model as definitions: submit always, plus the two asked for.
            guard case .object(let body) = server.requests[0].body, case .array(let tools)? = body["tools"] else { Issue.record("no tools"); return }
            #expect(tools.count == 3)
        }
    }

    @Test func aBaseModelUsesTheTextProtocol() async throws {
        let fixture = try TaskFixture(yaml: Self.task("agent: {max_turns: 5}"), samples: [Self.sample])
        try await ScriptedModelServer.withServer({ request in
            let prompt = request.lastContent
            if let observed = prompt.components(separatedBy: "OBSERVATION:\nexit status 0\n").last, prompt.contains("OBSERVATION:\nexit status 0\n") {
                return .ok(ModelReplies.completion(" The file holds it.\nSUBMIT: \(observed.split(separator: "\n").first ?? "")"))
            }
            return .ok(ModelReplies.completion(" I will read the file.\nACTION: read_file\n/home/agent/secret.txt\nEND"))
        }) { server in
            let (run, outcome) = try await fixture.run(fixture.options(server, api: .openAICompletions))
            #expect(outcome.results?.scorers[0].overall.value == 1)
            let record = try #require(try run.directory.readRecords().first)
            #expect(record.stopReason == "submitted")
            #expect(record.messages.first?.content.contains("ACTION: <tool>") == true)
            // The base model is stopped where a tool's answer belongs, so it cannot invent one.
            guard case .object(let body) = server.requests[0].body, case .array(let stop)? = body["stop"] else { Issue.record("no stop"); return }
            #expect(stop.contains(.string("OBSERVATION:")))
        }
    }

    @Test func theTurnLimitStopsAnAgentThatNeverSubmits() async throws {
        let fixture = try TaskFixture(yaml: Self.task("agent: {max_turns: 3}"), samples: [Self.sample])
        try await ScriptedModelServer.withServer({ _ in .ok(ModelReplies.toolCall("bash", ["command": "true"])) }) { server in
            let (run, outcome) = try await fixture.run(fixture.options(server))
            #expect(server.requests.count == 3)
            #expect(outcome.results?.scored == 1)
            #expect(outcome.results?.scorers[0].overall.value == 0)
            #expect(try run.directory.readRecords().first?.stopReason == "turns")
        }
    }

    @Test func aBrokenSandboxSetupIsAnInfrastructureFailureNotAWrongAnswer() async throws {
        let fixture = try TaskFixture(yaml: Self.task("agent", sandbox: "  setup: \"exit 7\"\n"), samples: [Self.sample])
        try await ScriptedModelServer.withServer({ _ in .ok(ModelReplies.toolCall("submit", ["answer": "x"])) }) { server in
            let (_, outcome) = try await fixture.run(fixture.options(server))
            #expect(server.requests.isEmpty)
            #expect(outcome.results?.failuresByCause == ["infrastructure": 1])
            #expect(outcome.results?.scorers[0].overall.count == 0)
        }
    }

    @Test func theTextProtocolParsesActionsAndSubmissions() {
        #expect(TextToolProtocol.parse("thinking\nACTION: bash\nls -la\ncat x\nEND\nmore") == [ToolCall(id: "text-bash", name: "bash", arguments: #"{"command":"ls -la\ncat x"}"#)])
        #expect(TextToolProtocol.parse("SUBMIT: FLAG{x}\nACTION: bash\nrm -rf /\nEND").first?.name == "submit")
        #expect(TextToolProtocol.parse("ACTION: write_file\nnotes.txt\nline 1\nline 2\nEND").first?.arguments == #"{"content":"line 1\nline 2","path":"notes.txt"}"#)
        #expect(TextToolProtocol.parse("I am not sure what to do.").isEmpty)
    }
}
