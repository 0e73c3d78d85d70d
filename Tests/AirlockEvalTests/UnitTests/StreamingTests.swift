import AirlockCore
@testable import AirlockEval
import Foundation
import Testing

/// Feeds `text` to a parser in pieces of `size` bytes and collects every event.
private func parse(_ text: String, chunkSize size: Int) -> [ServerSentEvent] {
    var parser = ServerSentEventParser()
    let bytes = Array(text.utf8)
    var events: [ServerSentEvent] = []
    var start = 0
    while start < bytes.count {
        let end = min(bytes.count, start + size)
        events += parser.feed(bytes[start..<end])
        start = end
    }
    return events
}

@Suite struct ServerSentEventParserTests {
    static let stream = """
        : a comment to keep the connection open

        event: message_start
        data: {"type":"message_start"}

        data: {"choices":[{"delta":{"content":"Héllo 🙂"}}]}

        id: 7
        retry: 1000
        data: line one
        data: line two

        data: [DONE]


        """

    static let expected = [
        ServerSentEvent(event: "message_start", data: #"{"type":"message_start"}"#),
        ServerSentEvent(event: nil, data: #"{"choices":[{"delta":{"content":"Héllo 🙂"}}]}"#),
        ServerSentEvent(event: nil, data: "line one\nline two"),
        ServerSentEvent(event: nil, data: "[DONE]"),
    ]

    @Test func wholeStreamAtOnce() {
        #expect(parse(Self.stream, chunkSize: 100_000) == Self.expected)
    }

    @Test(arguments: [1, 2, 3, 5, 7, 13, 64])
    func arbitraryChunkBoundaries(size: Int) {
        #expect(parse(Self.stream, chunkSize: size) == Self.expected)
    }

    @Test(arguments: [1, 2, 3, 1000])
    func crlfLineEndings(size: Int) {
        let crlf = Self.stream.replacingOccurrences(of: "\n", with: "\r\n")
        #expect(parse(crlf, chunkSize: size) == Self.expected)
    }

    @Test func bareCarriageReturnsEndLines() {
        // The final CR might be the first half of a CRLF, so a trailing byte settles it.
        let events = parse("data: a\r\rdata: b\r\r:\n", chunkSize: 1)
        #expect(events == [ServerSentEvent(event: nil, data: "a"), ServerSentEvent(event: nil, data: "b")])
    }

    @Test func fieldValueSpacing() {
        let events = parse("data:no space\n\ndata:  two spaces\n\ndata\n\n", chunkSize: 4)
        #expect(events.map(\.data) == ["no space", " two spaces", ""])
    }

    @Test func eventTypeResetsAfterEachEvent() {
        let events = parse("event: ping\n\ndata: after an empty event\n\nevent: delta\ndata: x\n\ndata: y\n\n", chunkSize: 3)
        // "ping" had no data, so it is no event, and its type does not leak into the next.
        #expect(events == [
            ServerSentEvent(event: nil, data: "after an empty event"),
            ServerSentEvent(event: "delta", data: "x"),
            ServerSentEvent(event: nil, data: "y"),
        ])
    }

    @Test func incompleteEventIsHeldBack() {
        var parser = ServerSentEventParser()
        #expect(parser.feed(Array("data: partial".utf8)).isEmpty)
        #expect(parser.feed(Array("\n".utf8)).isEmpty)
        #expect(parser.feed(Array("\n".utf8)) == [ServerSentEvent(event: nil, data: "partial")])
        #expect(parser.feed([UInt8]()).isEmpty)
    }

    @Test func commentsOnlyYieldNothing() {
        #expect(parse(": one\n: two\n\n:three\n\n", chunkSize: 2).isEmpty)
    }

    @Test func multiByteCharactersSplitAcrossChunks() {
        let text = "data: 日本語 — ünïcode 🙂🙂\n\n"
        for size in 1...6 {
            #expect(parse(text, chunkSize: size) == [ServerSentEvent(event: nil, data: "日本語 — ünïcode 🙂🙂")], "chunk size \(size)")
        }
    }
}

/// Feeds `chunks` (JSON texts or `[DONE]`) to an accumulator.
private func accumulate(_ chunks: [String]) throws -> ChatStreamAccumulator {
    var accumulator = ChatStreamAccumulator()
    for chunk in chunks { try accumulator.add(ServerSentEvent(event: nil, data: chunk)) }
    return accumulator
}

@Suite struct ChatStreamAccumulatorTests {
    @Test func contentDeltas() throws {
        let output = try accumulate([
            #"{"choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}"#,
            #"{"choices":[{"index":0,"delta":{"content":"Hel"}}]}"#,
            #"{"choices":[{"index":0,"delta":{"content":"lo, "}}]}"#,
            #"{"choices":[{"index":0,"delta":{"content":null}}]}"#,
            #"{"choices":[{"index":0,"delta":{"content":"wörld"}}]}"#,
            #"{"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}"#,
            #"{"choices":[],"usage":{"prompt_tokens":12,"completion_tokens":4,"total_tokens":16}}"#,
            "[DONE]",
        ]).output()
        #expect(output.message == .assistant("Hello, wörld"))
        #expect(output.stopReason == "stop")
        #expect(output.usage == TokenUsage(inputTokens: 12, outputTokens: 4))
    }

    @Test func toolCallFragmentsAreAssembled() throws {
        let output = try accumulate([
            #"{"choices":[{"delta":{"role":"assistant","tool_calls":[{"index":0,"id":"call_a","type":"function","function":{"name":"get_","arguments":""}}]}}]}"#,
            #"{"choices":[{"delta":{"tool_calls":[{"index":0,"function":{"name":"weather","arguments":"{\"ci"}}]}}]}"#,
            #"{"choices":[{"delta":{"tool_calls":[{"index":1,"id":"call_b","function":{"name":"add","arguments":"{\"a\":1,"}}]}}]}"#,
            #"{"choices":[{"delta":{"tool_calls":[{"index":0,"function":{"arguments":"ty\":\"Paris\"}"}}]}}]}"#,
            #"{"choices":[{"delta":{"tool_calls":[{"index":1,"function":{"arguments":"\"b\":2}"}}]}}]}"#,
            #"{"choices":[{"delta":{},"finish_reason":"tool_calls"}]}"#,
        ]).output()
        #expect(output.message.content == "")
        #expect(output.message.role == .assistant)
        #expect(output.message.toolCalls == [
            ToolCall(id: "call_a", name: "get_weather", arguments: #"{"city":"Paris"}"#),
            ToolCall(id: "call_b", name: "add", arguments: #"{"a":1,"b":2}"#),
        ])
        #expect(output.stopReason == "tool_calls")
        #expect(output.usage == TokenUsage())
    }

    @Test func toolCallsComeOutInIndexOrder() throws {
        let output = try accumulate([
            #"{"choices":[{"delta":{"tool_calls":[{"index":2,"id":"c","function":{"name":"third","arguments":"{}"}}]}}]}"#,
            #"{"choices":[{"delta":{"tool_calls":[{"index":0,"id":"a","function":{"name":"first","arguments":"{}"}}]}}]}"#,
            #"{"choices":[{"delta":{"tool_calls":[{"index":1,"id":"b","function":{"name":"second","arguments":"{}"}}]}}]}"#,
            "[DONE]",
        ]).output()
        #expect(output.message.toolCalls?.map(\.name) == ["first", "second", "third"])
        #expect(output.stopReason == nil)
    }

    @Test func doneWithoutFinishReasonIsComplete() throws {
        let output = try accumulate([#"{"choices":[{"delta":{"content":"ok"}}]}"#, "[DONE]"]).output()
        #expect(output.completion == "ok")
        #expect(output.message.toolCalls == nil)
    }

    @Test func finishReasonWithoutDoneIsComplete() throws {
        let output = try accumulate([#"{"choices":[{"delta":{"content":"cut"},"finish_reason":"length"}]}"#]).output()
        #expect(output.completion == "cut")
        #expect(output.stopReason == "length")
    }

    @Test func streamThatStopsEarlyThrows() throws {
        let accumulator = try accumulate([
            #"{"choices":[{"delta":{"content":"Hel"}}]}"#,
            #"{"choices":[{"delta":{"content":"lo"}}]}"#,
        ])
        let error = try #require(throws: ModelCallError.self) { try accumulator.output() }
        #expect(error.code == .connection)
        #expect(error.isTransient)
        #expect(error.message.contains("2 chunks"))
        #expect(throws: ModelCallError.self) { try ChatStreamAccumulator().output() }
    }

    @Test func chunkThatIsNotJSONThrows() throws {
        var accumulator = ChatStreamAccumulator()
        let error = try #require(throws: ModelCallError.self) {
            try accumulator.add(ServerSentEvent(event: nil, data: "{not json"))
        }
        #expect(error.code == .malformedResponse)
    }

    @Test func parserAndAccumulatorTogetherByteByByte() throws {
        let body = """
            data: {"choices":[{"delta":{"content":"4"}}]}\r
            \r
            data: {"choices":[{"delta":{"content":"2"},"finish_reason":"stop"}]}\r
            \r
            data: {"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":2}}\r
            \r
            data: [DONE]\r
            \r

            """
        var parser = ServerSentEventParser()
        var accumulator = ChatStreamAccumulator()
        for byte in Array(body.utf8) {
            for event in parser.feed([byte]) { try accumulator.add(event) }
        }
        let output = try accumulator.output()
        #expect(output.completion == "42")
        #expect(output.usage == TokenUsage(inputTokens: 3, outputTokens: 2))
    }
}
