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
