import AirlockGateway
import Foundation
import Testing

@Suite struct UsageMeterTests {
    @Test func jsonResponses() {
        var openAI = UsageMeter()
        openAI.read(response: Data(#"{"choices":[],"usage":{"prompt_tokens":12,"completion_tokens":5,"total_tokens":17}}"#.utf8))
        #expect(openAI.reported && openAI.promptTokens == 12 && openAI.completionTokens == 5)
        var anthropic = UsageMeter()
        anthropic.read(response: Data(#"{"type":"message","usage":{"input_tokens":9,"output_tokens":4}}"#.utf8))
        #expect(anthropic.total == 13)
        var silent = UsageMeter()
        silent.read(response: Data(#"{"choices":[]}"#.utf8))
        #expect(!silent.reported && silent.total == 0)
    }

    /// Events split anywhere across pieces are still read whole.
    @Test(arguments: [1, 3, 7, 64])
    func streamsSplitAcrossPieces(pieceSize: Int) {
        let stream = """
            data: {"choices":[{"delta":{"content":"Hel"}}]}

            data: {"choices":[{"delta":{"content":"lo"}}]}

            data: {"choices":[],"usage":{"prompt_tokens":21,"completion_tokens":2}}

            data: [DONE]


            """
        var meter = UsageMeter()
        let bytes = Array(stream.utf8)
        for start in stride(from: 0, to: bytes.count, by: pieceSize) {
            meter.read(streamed: bytes[start..<min(bytes.count, start + pieceSize)])
        }
        #expect(meter.promptTokens == 21 && meter.completionTokens == 2)
    }

    @Test func anthropicStreams() {
        let stream = """
            event: message_start
            data: {"type":"message_start","message":{"usage":{"input_tokens":30,"output_tokens":1}}}

            event: message_delta
            data: {"type":"message_delta","usage":{"output_tokens":15}}


            """
        var meter = UsageMeter()
        meter.read(streamed: Array(stream.utf8))
        #expect(meter.promptTokens == 30 && meter.completionTokens == 15)
    }

    @Test func requestsAreReadiedForTheUpstream() throws {
        let body = Data(#"{"model":"whatever","messages":[{"role":"user","content":"hi"}],"stream":true,"max_tokens":50}"#.utf8)
        let request = try GatewayRequest(api: .chatCompletions, body: body, upstreamModel: "frontier-internal")
        let sent = try #require(try JSONSerialization.jsonObject(with: request.body) as? [String: Any])
        #expect(sent["model"] as? String == "frontier-internal")
        #expect((sent["stream_options"] as? [String: Any])?["include_usage"] as? Bool == true)
        #expect(request.streams)
        #expect(request.reservation == Int64(body.count / 3) + 50)
        #expect(throws: GatewayRequest.Problem.badField("max_tokens", "is required")) {
            try GatewayRequest(api: .messages, body: Data(#"{"messages":[]}"#.utf8), upstreamModel: nil)
        }
        #expect(throws: GatewayRequest.Problem.notJSON) {
            try GatewayRequest(api: .completions, body: Data("[1]".utf8), upstreamModel: nil)
        }
        #expect(throws: GatewayRequest.Problem.self) {
            try GatewayRequest(api: .completions, body: Data(#"{"max_tokens":"ten"}"#.utf8), upstreamModel: nil)
        }
    }
}

extension UsageMeterTests {
    /// The body is edited in place: every field but `model` and `stream_options` reaches the
    /// upstream byte for byte, strings with braces, quotes and escapes included.
    @Test func bodiesAreEditedInPlace() throws {
        let body = #"{ "seed": 12345678901234567890, "model":"client-name", "messages":[{"role":"user","content":"a } \" ] { \\ x"}], "temperature":0.70 }"#
        let request = try GatewayRequest(api: .chatCompletions, body: Data(body.utf8), upstreamModel: "up\"stream")
        let sent = String(decoding: request.body, as: UTF8.self)
        #expect(sent == #"{ "seed": 12345678901234567890, "model":"up\"stream", "messages":[{"role":"user","content":"a } \" ] { \\ x"}], "temperature":0.70 }"#)
        let streamed = try GatewayRequest(
            api: .completions, body: Data(#"{"stream":true,"stream_options":{"x":1},"prompt":"p"}"#.utf8), upstreamModel: nil)
        #expect(String(decoding: streamed.body, as: UTF8.self) == #"{"stream":true,"stream_options":{"include_usage":true,"x":1},"prompt":"p"}"#)
        let empty = try GatewayRequest(api: .completions, body: Data("{}".utf8), upstreamModel: "m")
        #expect(String(decoding: empty.body, as: UTF8.self) == #"{"model":"m"}"#)
        let untouched = Data(#"{"prompt":"p","max_tokens":7}"#.utf8)
        #expect(try GatewayRequest(api: .completions, body: untouched, upstreamModel: nil).body == untouched)
        for broken in [#"{"a":}"#, #"{"a":"b""#, #"{"a" 1}"#, "{} {}", #"{"a":[1,2}"#] {
            #expect(throws: GatewayRequest.Problem.notJSON, "\(broken)") {
                try GatewayRequest(api: .completions, body: Data(broken.utf8), upstreamModel: nil)
            }
        }
    }
}

extension UsageMeterTests {
    /// A key the upstream would read differently from the gateway is refused: escaped
    /// (`mod\u0065l`) or repeated.
    @Test(arguments: [
        #"{"mod\u0065l":"other-model","messages":[]}"#, #"{"max_tok\u0065ns":999999,"messages":[]}"#,
        #"{"max_tokens":1,"max_tokens":999999,"messages":[]}"#, #"{"model":"a","model":"b"}"#,
        #"{"stream":true,"stream_options":{"include_usage":false,"include_usage":false}}"#,
    ])
    func keysTheUpstreamWouldReadDifferentlyAreRefused(body: String) {
        #expect(throws: GatewayRequest.Problem.self) {
            try GatewayRequest(api: .chatCompletions, body: Data(body.utf8), upstreamModel: "frontier-internal")
        }
    }
}
