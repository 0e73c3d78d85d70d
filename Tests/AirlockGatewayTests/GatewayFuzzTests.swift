import AirlockCore
import AirlockGateway
import AirlockTestSupport
import Foundation
import PropertyBased
import Testing

/// The gateway's request rewriting and usage metering under generated and mutated bodies: they
/// never crash, a rewritten body is JSON that differs from the client's only where the gateway
/// edits it, the reservation is never negative, and a stream's usage does not depend on how it
/// is cut into pieces.
@Suite struct GatewayFuzzTests {
    /// Request bodies with the members the gateway reads, well and badly written, beside random ones.
    static let requests = Generator<String, Shrink.None<String>> { random in
        func maybe(_ percent: Int, _ key: String, _ values: [String]) -> String? {
            JSONGrammar.chance(percent, &random) ? "\"\(key)\":" + JSONGrammar.pick(values, &random) : nil
        }
        let numbers = ["1", "100", "4096", "0", "-1", "1.5", "1e3", "\"100\"", "null", "9223372036854775807", "9223372036854775808", "3000000000000000000"]
        let members = [
            maybe(90, "model", ["\"m\"", "\"gpt-4o\"", "null", "1", "\"\\u0000\""]),
            maybe(70, "messages", [#"[{"role":"user","content":"hi"}]"#, "[]", "{}"]),
            maybe(20, "prompt", ["\"Say hi\"", "[\"a\",\"b\"]"]),
            maybe(50, "stream", ["true", "false", "null", "\"true\"", "1"]),
            maybe(30, "stream_options", ["{}", #"{"include_usage":false}"#, #"{"include_usage":true,"x":1}"#, #"{"include_usag\u0065":false}"#, "[]", "null",
                                         #"{"include_usage":false,"include_usage":false}"#]),
            maybe(60, "max_tokens", numbers),
            maybe(20, "max_completion_tokens", numbers),
            JSONGrammar.chance(30, &random) ? JSONGrammar.string(&random) + ":" + JSONGrammar.value(depth: 1, &random) : nil,
        ].compactMap { $0 }.shuffled(using: &random)
        return "{" + members.joined(separator: ",") + "}"
    }

    /// Upstream answers: a JSON response or an event stream, with usage in either dialect.
    static let responses = Generator<String, Shrink.None<String>> { random in
        let counts = ["0", "12", "-3", "1.5", "\"7\"", "null", "9223372036854775807", "4611686018427387904", "99999999999999999999"]
        func usage() -> String {
            let keys = JSONGrammar.chance(50, &random) ? ("prompt_tokens", "completion_tokens") : ("input_tokens", "output_tokens")
            return #"{"\#(keys.0)":\#(JSONGrammar.pick(counts, &random)),"\#(keys.1)":\#(JSONGrammar.pick(counts, &random))}"#
        }
        func event() -> String {
            JSONGrammar.pick([#"{"choices":[],"usage":\#(usage())}"#, #"{"type":"message_start","message":{"usage":\#(usage())}}"#,
                              #"{"type":"message_delta","usage":\#(usage())}"#, #"{"choices":[{"delta":{"content":"hi"}}]}"#, "[DONE]"], &random)
        }
        if JSONGrammar.chance(40, &random) { return event() }
        return (0..<Int.random(in: 1...4, using: &random)).map { _ in JSONGrammar.pick(["data: ", "data:", "event: x\ndata: "], &random) + event() + "\n\n" }.joined()
    }

    static let models: [String?] = [nil, "upstream/model-1", "quote\" and \u{2028}"]

    static let requestTarget = FuzzTarget(
        "gateway-request",
        seeds: [#"{"model":"m","messages":[{"role":"user","content":"hi"}],"max_tokens":100}"#,
                #"{"model":"m","stream":true,"stream_options":{"include_usage":false},"max_completion_tokens":5}"#],
        tokens: [#""max_tokens":"#, #""stream":true"#, #""stream_options":"#, #""mod\u0065l":"#],
        generator: requests
    ) { bytes throws(FuzzFailure) in
        let original = (try? JSONSerialization.jsonObject(with: Data(bytes))) as? [String: Any]
        for api in GatewayAPI.allCases {
            for model in models {
                guard let request = try? GatewayRequest(api: api, body: Data(bytes), upstreamModel: model) else { continue }
                let body = [UInt8](request.body)
                try fuzzRequire(request.reservation >= 0, "\(api): reservation \(request.reservation)")
                try fuzzRequire(JSONScanner.isValid(body), "\(api): the rewritten body is not JSON: \(FuzzBudget.describe(body))")
                if model == nil, !request.streams || api == .messages {
                    try fuzzRequire(body == bytes, "\(api): the body changed with nothing to change")
                }
                guard let original, let rewritten = (try? JSONSerialization.jsonObject(with: request.body)) as? [String: Any] else { continue }
                for (key, value) in rewritten where !["model", "stream_options"].contains(key) {
                    try fuzzRequire(original[key].flatMap(FoundationJSON.canonical(value:)) == FoundationJSON.canonical(value: value), "\(api): \(key) changed")
                }
                try fuzzRequire(Set(rewritten.keys).subtracting(["model", "stream_options"]) == Set(original.keys).subtracting(["model", "stream_options"]),
                                "\(api): members added or lost")
                if let model { try fuzzRequire(rewritten["model"] as? String == model, "\(api): model is \(rewritten["model"] ?? "none")") }
                if request.streams, api != .messages {
                    let options = rewritten["stream_options"] as? [String: Any]
                    try fuzzRequire(options?["include_usage"] as? Bool == true, "\(api): a stream without include_usage: true")
                }
            }
        }
    }

    static let usageTarget = FuzzTarget(
        "usage-meter",
        seeds: [#"{"choices":[],"usage":{"prompt_tokens":12,"completion_tokens":5}}"#,
                "data: {\"type\":\"message_start\",\"message\":{\"usage\":{\"input_tokens\":9}}}\n\ndata: {\"type\":\"message_delta\",\"usage\":{\"output_tokens\":4}}\n\n"],
        tokens: ["\n", "data: ", #""usage":"#, #""prompt_tokens":"#, #""output_tokens":"#],
        generator: responses
    ) { bytes throws(FuzzFailure) in
        var whole = UsageMeter()
        whole.read(response: Data(bytes))
        try checkMeter(whole, "a response")
        // The same bytes as a stream, cut into pieces of several sizes: the same usage each time.
        var meters: [UsageMeter] = []
        for size in [1, 7, max(bytes.count, 1)] {
            var meter = UsageMeter()
            for start in stride(from: 0, to: bytes.count, by: size) { meter.read(streamed: bytes[start..<min(start + size, bytes.count)]) }
            try checkMeter(meter, "a stream in pieces of \(size)")
            meters.append(meter)
        }
        try fuzzRequire(Set(meters.map { "\($0.promptTokens) \($0.completionTokens) \($0.reported)" }).count == 1, "the pieces change the usage read")
        if !bytes.contains(UInt8(ascii: "\n")) {
            // One event carrying the response reads as the response does.
            var event = UsageMeter()
            event.read(streamed: Array("data: ".utf8) + bytes + [UInt8(ascii: "\n")])
            try fuzzRequire((event.promptTokens, event.completionTokens, event.reported) == (whole.promptTokens, whole.completionTokens, whole.reported),
                            "as an event, the response reads otherwise")
        }
    }

    static func checkMeter(_ meter: UsageMeter, _ what: String) throws(FuzzFailure) {
        try fuzzRequire(meter.promptTokens >= 0 && meter.completionTokens >= 0, "\(what): negative usage")
        try fuzzRequire(meter.total >= 0, "\(what): total \(meter.total)")
    }

    @Test
    func request() {
        Self.requestTarget.run()
    }

    @Test
    func usage() {
        Self.usageTarget.run()
    }
}
