import AirlockCore
@testable import AirlockEval
import Foundation
import Testing

@Suite struct JSONWriterTests {
    static let awkward = "quote \" backslash \\ newline \n tab \t bell \u{07} nul \u{00} é 漢字 🙂 </script>"

    static func record(status: SampleRecord.Status) -> SampleRecord {
        SampleRecord(
            sampleID: "id \"1\"",
            epoch: 3,
            status: status,
            input: .messages([.system(awkward), .user("q")]),
            target: ["A", awkward],
            choices: ["x", "y"],
            messages: [
                .user(awkward),
                .assistant("", toolCalls: [ToolCall(id: "c1", name: "bash", arguments: #"{"cmd": "ls \"/\""}"#)]),
                ChatMessage(role: .tool, content: "out", toolCallID: "c1", toolName: "bash"),
            ],
            completion: status == .scored ? awkward : nil,
            scores: status == .scored ? ["exact": Score(value: 0.5, answer: "a", explanation: awkward), "f1": Score(value: 1)] : [:],
            usage: TokenUsage(inputTokens: 12, outputTokens: 7),
            calls: [.init(seconds: 0.123456789, retries: 2, cached: false, usage: TokenUsage(inputTokens: 12, outputTokens: 7), stopReason: "stop")],
            metadata: ["n": .number(1.5), "big": .number(1_000_000), "flag": .bool(true), "none": .null, "list": .array([.string("a"), .number(-2)]), "nested": .object(["k": .string(awkward)])],
            limitReached: status == .scored ? "time" : nil,
            failure: status == .failed ? SampleFailure(cause: .network, message: awkward) : nil,
            started: 1_795_349_807.8145387,
            totalSeconds: 0.747626779,
            modelSeconds: 1e-7
        )
    }

    /// The same record through `JSONEncoder`, keys sorted, to compare two encodings.
    static func canonical(_ record: SampleRecord) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return try encoder.encode(record)
    }

    @Test(arguments: [SampleRecord.Status.scored, .failed])
    func recordsReadBackAsTheyWereWritten(status: SampleRecord.Status) throws {
        let original = Self.record(status: status)
        var writer = JSONWriter()
        writer.record(original)
        let decoded = try JSONDecoder().decode(SampleRecord.self, from: Data(writer.bytes))
        #expect(try Self.canonical(decoded) == Self.canonical(original))
        // And it is valid JSON for any other reader too.
        #expect(try JSONSerialization.jsonObject(with: Data(writer.bytes)) is [String: Any])
    }

    @Test func chatRequestBodiesCarryEverySetting() throws {
        let request = ModelRequest(
            messages: [.system("s"), .user(Self.awkward), .assistant("", toolCalls: [ToolCall(id: "t", name: "f", arguments: "{}")]), ChatMessage(role: .tool, content: "r", toolCallID: "t")],
            tools: [ToolDefinition(name: "f", description: "does f", parameters: .object(["type": .string("object")]))],
            settings: GenerationSettings(temperature: 0.2, topP: 0.9, maxTokens: 64, stop: ["\n"], seed: 7)
        )
        let body = OpenAIChatProvider.body(model: "m", request: request, stream: true)
        let json = try #require(try JSONSerialization.jsonObject(with: body) as? [String: Any])
        #expect(json["model"] as? String == "m")
        #expect(json["temperature"] as? Double == 0.2)
        #expect(json["top_p"] as? Double == 0.9)
        #expect(json["max_tokens"] as? Int == 64)
        #expect(json["stop"] as? [String] == ["\n"])
        #expect(json["seed"] as? Int == 7)
        #expect(json["stream"] as? Bool == true)
        #expect((json["stream_options"] as? [String: Bool])?["include_usage"] == true)
        let messages = try #require(json["messages"] as? [[String: Any]])
        #expect(messages.map { $0["role"] as? String } == ["system", "user", "assistant", "tool"])
        #expect(messages[1]["content"] as? String == Self.awkward)
        #expect(messages[2]["content"] is NSNull)
        #expect(((messages[2]["tool_calls"] as? [[String: Any]])?.first?["function"] as? [String: String])?["name"] == "f")
        #expect(messages[3]["tool_call_id"] as? String == "t")
        let tools = try #require(json["tools"] as? [[String: Any]])
        #expect((tools.first?["function"] as? [String: Any])?["description"] as? String == "does f")
        // Without streaming and settings, nothing extra is sent.
        let plain = try #require(try JSONSerialization.jsonObject(with: OpenAIChatProvider.body(model: "m", request: ModelRequest(messages: [.user("hi")]), stream: false)) as? [String: Any])
        #expect(Set(plain.keys) == ["model", "messages"])
    }
}
