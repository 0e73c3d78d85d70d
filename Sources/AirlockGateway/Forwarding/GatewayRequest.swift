import AirlockCore
import Foundation

/// The APIs the gateway speaks, each forwarded to the same path under the upstream's base URL.
public enum GatewayAPI: String, Sendable, CaseIterable {
    case chatCompletions = "chat/completions"
    case completions
    case messages

    /// The path clients call, as the record shows it.
    var route: String {
        switch self {
        case .chatCompletions: "/v1/chat/completions"
        case .completions: "/v1/completions"
        case .messages: "/v1/messages"
        }
    }

    /// Whether errors are written the Anthropic way.
    var isAnthropic: Bool { self == .messages }
}

/// A client's request body, read and made ready to forward: the upstream's model name put in,
/// usage asked for on OpenAI streams, and the tokens the call may spend worked out.
public struct GatewayRequest: Sendable {
    public var api: GatewayAPI
    public var body: Data
    public var streams: Bool
    /// Prompt tokens, estimated from the body's size, plus the most the call may generate: the
    /// largest of its token limits times the choices it asks for.
    public var reservation: Int64

    /// Completions asked for without a limit are reserved at this many tokens.
    public static let defaultMaximumTokens: Int64 = 4096

    /// The numeric fields the gateway reads, each with the range it accepts. A value outside it
    /// is refused (400 naming the field) before anything is reserved.
    public static let ranges: [String: ClosedRange<Int64>] = [
        "max_tokens": 1...1_000_000, "max_completion_tokens": 1...1_000_000, "n": 1...128, "best_of": 1...20,
    ]

    /// The reason given for a number outside its field's range.
    public static func rangeReason(_ field: String) -> String {
        let range = ranges[field] ?? 0...0
        return "must be a whole number from \(range.lowerBound) to \(range.upperBound)"
    }

    /// Top-level keys the gateway reads or edits: each may appear once, and no other key may equal
    /// one of them ignoring case, since some upstreams read keys case-insensitively.
    static let checkedKeys: Set<String> = ["model", "stream", "stream_options", "max_tokens", "max_completion_tokens", "n", "best_of"]

    public enum Problem: Error, Hashable {
        case notJSON
        case badField(String, String)
    }

    /// Reads `stream`, the token limits and the choices asked for, and edits `model` and
    /// `stream_options` in place; every other byte of the body reaches the upstream as the client sent it.
    public init(api: GatewayAPI, body: Data, upstreamModel: String?) throws(Problem) {
        // What the gateway reads must be what the upstream reads: no escaped keys, and none of
        // the keys it reads twice or in another case.
        let object: JSONObjectMembers
        do {
            object = try JSONObjectMembers([UInt8](body), keys: .unescapedOnly)
        } catch where error.code == .escapedKey {
            throw .badField("body", "keys may not be written with escape sequences")
        } catch {
            throw .notJSON
        }
        try Self.checkKeys(of: object, among: Self.checkedKeys, path: "")
        self.api = api
        switch object.value("stream").map({ String(decoding: $0, as: UTF8.self) }) {
        case nil, "false", "null": streams = false
        case "true": streams = true
        default: throw .badField("stream", "must be true or false")
        }
        var limit: Int64?
        for field in ["max_tokens", "max_completion_tokens"] {
            if let number = try Self.number(field, of: object) { limit = max(limit ?? 0, number) }
        }
        if api == .messages, object.value("max_tokens") == nil { throw .badField("max_tokens", "is required") }
        let choices = max(try Self.number("n", of: object) ?? 1, try Self.number("best_of", of: object) ?? 1)
        var replacements: [String: [UInt8]] = [:]
        if let upstreamModel { replacements["model"] = JSONWriter.quoted(upstreamModel) }
        if streams, api != .messages {
            // Without it, an OpenAI stream carries no usage to charge.
            if let options = try? object.object("stream_options", keys: .unescapedOnly) {
                try Self.checkKeys(of: options, among: ["include_usage"], path: "stream_options.")
                replacements["stream_options"] = options.rewritten(replacing: ["include_usage": Array("true".utf8)])
            } else if let options = object.value("stream_options") {
                throw options.first == UInt8(ascii: "{")
                    ? .badField("stream_options", "keys may not be escaped")
                    : .badField("stream_options", "must be an object")
            } else {
                replacements["stream_options"] = Array(#"{"include_usage":true}"#.utf8)
            }
        }
        self.body = replacements.isEmpty ? body : Data(object.rewritten(replacing: replacements))
        // About four bytes a token in English; three errs on the side of the quota. The ranges
        // above keep the product far from overflow: at most 128 × 10^6 plus 16 MiB / 3.
        reservation = Int64(body.count / 3) + choices * (limit ?? Self.defaultMaximumTokens)
    }

    /// Refuses a key among `keys` given twice, and a key that equals one of them only ignoring case.
    private static func checkKeys(of object: JSONObjectMembers, among keys: Set<String>, path: String) throws(Problem) {
        if let twice = object.repeatedKeys(among: keys).first { throw .badField(path + twice, "appears more than once") }
        for member in object.members where !keys.contains(member.key) && keys.contains(member.key.lowercased()) {
            throw .badField(path + member.key, "differs only in case from a field the gateway reads")
        }
    }

    /// A numeric field within its range, nil when absent or null.
    private static func number(_ field: String, of object: JSONObjectMembers) throws(Problem) -> Int64? {
        guard let raw = object.value(field), !raw.elementsEqual("null".utf8) else { return nil }
        guard let number = object.integer(field), let range = ranges[field], range.contains(number) else {
            throw .badField(field, rangeReason(field))
        }
        return number
    }
}

/// Reads the tokens a call spent from the upstream's answer: the `usage` of a JSON response, or
/// of the events of a stream as they pass. Each figure is clamped to `0...maximumReported`, so
/// an endpoint reporting absurd numbers cannot overflow a sum.
public struct UsageMeter: Sendable {
    public private(set) var promptTokens: Int64 = 0
    public private(set) var completionTokens: Int64 = 0
    /// Whether the upstream said anything about usage at all.
    public private(set) var reported = false
    /// Whether the usage that closes a stream arrived: OpenAI's chunk with `usage` and no
    /// choices left, Anthropic's `message_delta` usage. Until then a stream's figures are partial
    /// (Anthropic's `message_start` reports the prompt and one output token).
    public private(set) var final = false
    private var pending = Data()

    /// The most one usage figure counts for: 2^32, far past any model's context.
    public static let maximumReported: Int64 = 1 << 32

    public init() {}

    public var total: Int64 { promptTokens.addingSaturated(completionTokens) }

    /// What a stream is charged: its final usage once that arrived; otherwise (cut off by the
    /// client, the upstream or a revocation) at least its reservation, since the figures seen so
    /// far say nothing of what the endpoint went on to generate.
    public func streamCharge(reservation: Int64) -> Int64 {
        final ? total : max(total, reservation)
    }

    /// A whole JSON response.
    public mutating func read(response body: Data) {
        if let object = try? JSONObjectMembers([UInt8](body), keys: .decoded) { take(object) }
    }

    /// A piece of a server-sent event stream; events may be split across pieces.
    public mutating func read(streamed bytes: some Sequence<UInt8>) {
        pending.append(contentsOf: bytes)
        while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
            let line = pending[pending.startIndex..<newline]
            pending.removeSubrange(pending.startIndex...newline)
            guard line.starts(with: Array("data:".utf8)) else { continue }
            let payload = line.dropFirst(5).drop { $0 == UInt8(ascii: " ") }
            if let object = try? JSONObjectMembers(Array(payload), keys: .decoded) { take(object, streamed: true) }
        }
        // A line longer than any event is not one: drop it rather than grow without end.
        if pending.count > 1 << 20 { pending.removeAll() }
    }

    private mutating func take(_ object: JSONObjectMembers, streamed: Bool = false) {
        // OpenAI: usage on the response or the last chunk. Anthropic: input tokens on
        // message_start's message, output tokens (cumulative) on message_delta. The answer goes
        // no further, so its keys are read as any parser would, escapes decoded.
        func member(_ key: String, of object: JSONObjectMembers?) -> JSONObjectMembers? {
            (try? object?.object(key, keys: .decoded)) ?? nil
        }
        let outer = member("usage", of: object)
        guard let usage = outer ?? member("usage", of: member("message", of: object)) else { return }
        if let prompt = Self.count(usage, "prompt_tokens") ?? Self.count(usage, "input_tokens") {
            promptTokens = prompt
            reported = true
        }
        if let completion = Self.count(usage, "completion_tokens") ?? Self.count(usage, "output_tokens") {
            completionTokens = completion
            reported = true
        }
        // Some servers put running usage on every chunk; only the one with no choices left is the last.
        // (JSON whitespace is the only thing at or below 0x20 outside strings.)
        if outer != nil, !streamed || object.value("choices").map({ $0.filter { $0 > 0x20 }.elementsEqual("[]".utf8) }) ?? true {
            final = true
        }
    }

    /// A usage figure clamped to `0...maximumReported`; nil when it is not a whole number.
    private static func count(_ usage: JSONObjectMembers, _ key: String) -> Int64? {
        guard var digits = usage.value(key), !digits.isEmpty else { return nil }
        let negative = digits.first == UInt8(ascii: "-")
        if negative { digits = digits.dropFirst() }
        guard !digits.isEmpty, digits.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        if negative { return 0 }
        return digits.count > 12 ? maximumReported : min(maximumReported, Int64(String(decoding: digits, as: UTF8.self)) ?? maximumReported)
    }
}
