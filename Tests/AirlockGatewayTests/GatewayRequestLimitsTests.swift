import AirlockGateway
import AirlockStore
import Foundation
import Testing

/// Findings of issue 14: numbers at the edge, reservations that cover every choice, keys in
/// other cases, and upstream usage that would overflow a sum.
@Suite struct GatewayRequestLimitsTests {
    static func request(_ body: String, api: GatewayAPI = .chatCompletions) throws(GatewayRequest.Problem) -> GatewayRequest {
        try GatewayRequest(api: api, body: Data(body.utf8), upstreamModel: "frontier-internal")
    }

    /// Every numeric field the gateway reads has a range; outside it the call is refused naming the field.
    @Test(arguments: [
        (#"{"max_tokens":9223372036854775807}"#, "max_tokens"), (#"{"max_tokens":0}"#, "max_tokens"),
        (#"{"max_completion_tokens":1000001}"#, "max_completion_tokens"), (#"{"n":0}"#, "n"), (#"{"n":129}"#, "n"),
        (#"{"n":99999999999999999999}"#, "n"), (#"{"n":2.5}"#, "n"), (#"{"best_of":21}"#, "best_of"),
    ])
    func numbersOutOfRangeAreRefusedByName(body: String, field: String) {
        #expect(throws: GatewayRequest.Problem.badField(field, GatewayRequest.rangeReason(field))) { try Self.request(body) }
    }

    /// `n` choices (and `best_of`) times the largest of every token limit the upstream may honour.
    @Test func theReservationCoversEveryChoiceAndTheLargestLimit() throws {
        let eight = #"{"messages":[],"n":8,"max_tokens":2000,"stream":true}"#
        #expect(try Self.request(eight).reservation >= 16_000)
        let both = #"{"messages":[],"max_tokens":60000,"max_completion_tokens":1}"#
        #expect(try Self.request(both).reservation >= 60_000)
        let bestOf = #"{"prompt":"p","n":2,"best_of":5,"max_tokens":100}"#
        #expect(try Self.request(bestOf, api: .completions).reservation >= 500)
        let plain = #"{"messages":[],"max_tokens":50}"#
        #expect(try Self.request(plain).reservation == Int64(plain.utf8.count / 3) + 50)
    }

    /// Keys the gateway checks, written in another case, would pass unchecked to an upstream
    /// that reads keys case-insensitively: refused, naming the key.
    @Test(arguments: [
        (#"{"MODEL":"other","messages":[]}"#, "MODEL"), (#"{"Max_Tokens":999999,"max_tokens":1}"#, "Max_Tokens"),
        (#"{"N":50}"#, "N"), (#"{"stream":true,"Stream":false}"#, "Stream"),
        (#"{"stream":true,"stream_options":{"Include_Usage":false}}"#, "stream_options.Include_Usage"),
    ])
    func keysInAnotherCaseAreRefused(body: String, key: String) {
        #expect(throws: GatewayRequest.Problem.badField(key, "differs only in case from a field the gateway reads")) { try Self.request(body) }
    }

    /// An upstream reporting absurd usage cannot overflow a sum: each figure is clamped.
    @Test func hugeOrNegativeUsageIsClamped() {
        var meter = UsageMeter()
        meter.read(response: Data(#"{"usage":{"prompt_tokens":9223372036854775807,"completion_tokens":9223372036854775807}}"#.utf8))
        #expect(meter.total == 2 * UsageMeter.maximumReported)
        var negative = UsageMeter()
        negative.read(response: Data(#"{"usage":{"prompt_tokens":-5,"completion_tokens":99999999999999999999999}}"#.utf8))
        #expect(negative.reported && negative.promptTokens == 0 && negative.completionTokens == UsageMeter.maximumReported)
    }

    /// Only the stream's last usage counts as final: Anthropic's message_start reports input
    /// tokens, not what the answer cost.
    @Test func onlyTheFinalUsageOfAStreamIsFinal() {
        var anthropic = UsageMeter()
        anthropic.read(streamed: Array(#"data: {"type":"message_start","message":{"usage":{"input_tokens":30,"output_tokens":1}}}"#.utf8 + [10]))
        #expect(anthropic.reported && !anthropic.final)
        anthropic.read(streamed: Array(#"data: {"type":"message_delta","usage":{"output_tokens":15}}"#.utf8 + [10]))
        #expect(anthropic.final && anthropic.total == 45)
        var openAI = UsageMeter()
        openAI.read(streamed: Array(#"data: {"choices":[{"delta":{}}],"usage":{"prompt_tokens":3,"completion_tokens":1}}"#.utf8 + [10]))
        #expect(!openAI.final)
        openAI.read(streamed: Array(#"data: {"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":9}}"#.utf8 + [10]))
        #expect(openAI.final && openAI.total == 12)
    }

    /// Sums saturate instead of trapping.
    @Test func limiterSumsSaturate() throws {
        var limiter = GrantLimiter(
            limits: .init(requestsPerMinute: 100, tokensPerMinute: 1_000, maxConcurrent: 10, tokenQuota: .max), used: .max - 5, now: 0)
        let held = try limiter.admit(reserve: 5, at: 0).get()
        limiter.resync(used: .max)
        var open = GrantLimiter(limits: .init(requestsPerMinute: 100, tokensPerMinute: nil, maxConcurrent: 10, tokenQuota: .max), used: 0, now: 0)
        let call = try open.admit(reserve: .max, at: 0).get()
        open.settle(call, tokens: .max, at: 0)
        open.settle(try open.admit(reserve: 0, at: 0).get(), tokens: .max, at: 0)
        #expect(open.used == .max && open.reserved == 0)
        limiter.settle(held, tokens: .max, at: 0)
        #expect(limiter.used == .max)
    }
}

extension GatewayRequestLimitsTests {
    /// Unknown-key calls cost the audit log one entry per address and minute, and at most
    /// `maximumAddresses` plus one a minute however many addresses send them.
    @Test func unknownKeyTalliesAreBounded() {
        var tally = UnknownKeyTally()
        let minute = Date(timeIntervalSince1970: 1_800_000_000)
        for index in 0..<(UnknownKeyTally.maximumAddresses + 50) {
            tally.count(address: "10.0.\(index / 256).\(index % 256)", digest: "abcdef0123456789", at: minute)
            tally.count(address: "10.0.\(index / 256).\(index % 256)", digest: "abcdef0123456789", at: minute)
        }
        #expect(tally.take(endedBefore: minute).isEmpty)
        let events = tally.take(endedBefore: minute.addingTimeInterval(60))
        #expect(events.count == UnknownKeyTally.maximumAddresses + 1)
        #expect(events.first { $0.detail["address"] == "other" }?.detail["calls"] == "100")
        #expect(events.allSatisfy { $0.detail["key_digest_prefix"] == "abcdef01" })
        #expect(tally.counts.isEmpty)
    }
}
