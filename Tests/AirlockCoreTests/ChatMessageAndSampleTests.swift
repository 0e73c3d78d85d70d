import AirlockCore
import Foundation
import Testing

@Suite struct ChatMessageTests {
    @Test func convenienceConstructorsSetRoles() {
        #expect(ChatMessage.system("s") == ChatMessage(role: .system, content: "s"))
        #expect(ChatMessage.user("u").role == .user)
        let call = ToolCall(id: "c1", name: "add", arguments: #"{"a":1}"#)
        let assistant = ChatMessage.assistant("thinking", toolCalls: [call])
        #expect(assistant.role == .assistant)
        #expect(assistant.toolCalls == [call])
        #expect(assistant.toolCallID == nil)
    }

    @Test func encodesSnakeCaseKeys() throws {
        let message = ChatMessage(role: .tool, content: "3", toolCallID: "c1", toolName: "add")
        #expect(try encodeJSON(message) == #"{"content":"3","role":"tool","tool_call_id":"c1","tool_name":"add"}"#)
        let assistant = ChatMessage.assistant("", toolCalls: [ToolCall(id: "c1", name: "add", arguments: "{}")])
        #expect(try encodeJSON(assistant) == #"{"content":"","role":"assistant","tool_calls":[{"arguments":"{}","id":"c1","name":"add"}]}"#)
    }

    @Test func decodesSnakeCaseKeys() throws {
        let message = try decodeJSON(ChatMessage.self, #"{"role":"tool","content":"ok","tool_call_id":"x9","tool_name":"search"}"#)
        #expect(message == ChatMessage(role: .tool, content: "ok", toolCallID: "x9", toolName: "search"))
    }

    @Test func rejectsUnknownRole() {
        #expect(throws: DecodingError.self) {
            try decodeJSON(ChatMessage.self, #"{"role":"robot","content":"hi"}"#)
        }
    }

    @Test func toolDefinitionRoundTrips() throws {
        let tool = ToolDefinition(name: "add", description: "Adds", parameters: .object(["type": .string("object")]))
        let data = try JSONEncoder().encode(tool)
        #expect(try JSONDecoder().decode(ToolDefinition.self, from: data) == tool)
    }
}

@Suite struct SampleTests {
    @Test func textInputDecodesAsText() throws {
        let input = try decodeJSON(SampleInput.self, #""What is 2+2?""#)
        #expect(input == .text("What is 2+2?"))
        #expect(input.messages == [.user("What is 2+2?")])
        #expect(input.promptText == "What is 2+2?")
    }

    @Test func messageInputDecodesAsConversation() throws {
        let input = try decodeJSON(SampleInput.self, #"[{"role":"system","content":"Be terse"},{"role":"user","content":"first"},{"role":"assistant","content":"ok"},{"role":"user","content":"second"}]"#)
        #expect(input == .messages([.system("Be terse"), .user("first"), .assistant("ok"), .user("second")]))
        #expect(input.messages.count == 4)
        // promptText is the last user message.
        #expect(input.promptText == "second")
    }

    @Test func promptTextWithoutUserMessageIsEmpty() {
        #expect(SampleInput.messages([.system("only system")]).promptText == "")
    }

    @Test func inputEncodesInItsOwnShape() throws {
        #expect(try encodeJSON(SampleInput.text("hi")) == #""hi""#)
        #expect(try encodeJSON(SampleInput.messages([.user("hi")])) == #"[{"content":"hi","role":"user"}]"#)
    }

    @Test func inputOfWrongTypeFails() {
        #expect(throws: DecodingError.self) { try decodeJSON(SampleInput.self, "42") }
    }

    @Test func sampleRoundTrips() throws {
        let sample = Sample(id: "q1", input: .text("Q"), target: ["A", "B"], choices: ["x", "y"], metadata: ["level": .number(2)])
        let data = try JSONEncoder().encode(sample)
        #expect(try JSONDecoder().decode(Sample.self, from: data) == sample)
    }

    @Test func sampleKeyOrdersByEpochThenID() {
        let keys = [
            SampleKey(sampleID: "b", epoch: 1),
            SampleKey(sampleID: "a", epoch: 2),
            SampleKey(sampleID: "a", epoch: 1),
            SampleKey(sampleID: "c", epoch: 1),
        ]
        #expect(keys.sorted().map(\.description) == ["a#1", "b#1", "c#1", "a#2"])
        #expect(SampleKey(sampleID: "z", epoch: 1) < SampleKey(sampleID: "a", epoch: 2))
        #expect(!(SampleKey(sampleID: "a", epoch: 1) < SampleKey(sampleID: "a", epoch: 1)))
    }

    @Test func sampleKeyCodingKeys() throws {
        #expect(try encodeJSON(SampleKey(sampleID: "q7", epoch: 3)) == #"{"epoch":3,"sample_id":"q7"}"#)
        #expect(try decodeJSON(SampleKey.self, #"{"sample_id":"x","epoch":2}"#) == SampleKey(sampleID: "x", epoch: 2))
    }
}

@Suite struct ScoreTests {
    @Test func scoreRoundTripsAndOmitsNothingSet() throws {
        let score = Score(value: 0.5, answer: "B", explanation: "half")
        #expect(try decodeJSON(Score.self, try encodeJSON(score)) == score)
        #expect(try encodeJSON(Score(value: 1)) == #"{"value":1}"#)
    }

    @Test func sampleFailureCodesItsCause() throws {
        let failure = SampleFailure(cause: .infrastructure, message: "sandbox died")
        #expect(try encodeJSON(failure) == #"{"cause":"infrastructure","message":"sandbox died"}"#)
        #expect(try decodeJSON(SampleFailure.self, #"{"cause":"network","message":"reset"}"#) == SampleFailure(cause: .network, message: "reset"))
        #expect(throws: DecodingError.self) { try decodeJSON(SampleFailure.self, #"{"cause":"gremlins","message":"?"}"#) }
    }

    @Test func sampleFailureIsAnError() {
        let error: any Error = SampleFailure(cause: .sample, message: "bad")
        #expect((error as? SampleFailure)?.cause == .sample)
    }

    @Test func tokenUsageArithmetic() {
        let a = TokenUsage(inputTokens: 10, outputTokens: 3)
        let b = TokenUsage(inputTokens: 5, outputTokens: 7)
        #expect(a + b == TokenUsage(inputTokens: 15, outputTokens: 10))
        #expect((a + b).totalTokens == 25)
        var total = TokenUsage()
        #expect(total.totalTokens == 0)
        total += a
        total += a
        #expect(total == TokenUsage(inputTokens: 20, outputTokens: 6))
    }

    @Test func tokenUsageCodingKeys() throws {
        #expect(try encodeJSON(TokenUsage(inputTokens: 1, outputTokens: 2)) == #"{"input_tokens":1,"output_tokens":2}"#)
        #expect(try decodeJSON(TokenUsage.self, #"{"input_tokens":4,"output_tokens":9}"#).totalTokens == 13)
    }
}

@Suite struct GenerationSettingsTests {
    @Test func mergingPrefersTheOtherSettingsWhereSet() {
        let task = GenerationSettings(temperature: 0.7, topP: 0.9, maxTokens: 100, stop: ["\n"], seed: 1, stream: false)
        let overrides = GenerationSettings(temperature: 0, maxTokens: 5, stream: true)
        let merged = task.merging(overrides)
        #expect(merged == GenerationSettings(temperature: 0, topP: 0.9, maxTokens: 5, stop: ["\n"], seed: 1, stream: true))
    }

    @Test func mergingEmptyChangesNothingAndEmptyTakesEverything() {
        let task = GenerationSettings(temperature: 0.2, topP: 0.5, maxTokens: 9, stop: ["x"], seed: 3, stream: true)
        #expect(task.merging(GenerationSettings()) == task)
        #expect(GenerationSettings().merging(task) == task)
    }

    @Test func decodesSnakeCaseKeys() throws {
        let settings = try decodeJSON(GenerationSettings.self, #"{"temperature":0.5,"top_p":0.25,"max_tokens":64,"stop":["END"],"seed":7,"stream":true}"#)
        #expect(settings == GenerationSettings(temperature: 0.5, topP: 0.25, maxTokens: 64, stop: ["END"], seed: 7, stream: true))
        #expect(try decodeJSON(GenerationSettings.self, "{}") == GenerationSettings())
    }
}
