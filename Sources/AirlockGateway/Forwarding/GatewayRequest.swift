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
    /// Prompt tokens, estimated from the body's size, plus the most the call may generate.
    public var reservation: Int64

    /// Completions asked for without a limit are reserved at this many tokens.
    public static let defaultMaximumTokens: Int64 = 4096

    public enum Problem: Error, Hashable {
        case notJSON
        case badField(String, String)
    }

    /// Reads `stream` and `max_tokens` and edits `model` and `stream_options` in place; every
    /// other byte of the body reaches the upstream as the client sent it.
    public init(api: GatewayAPI, body: Data, upstreamModel: String?) throws(Problem) {
        // What the gateway reads must be what the upstream reads: no escaped keys, and none of
        // the keys it reads twice.
        let object: JSONObjectMembers
        do {
            object = try JSONObjectMembers([UInt8](body), keys: .unescapedOnly)
        } catch where error.code == .escapedKey {
            throw .badField("body", "keys may not be written with escape sequences")
        } catch {
            throw .notJSON
        }
        if let twice = object.repeatedKeys(among: ["model", "stream", "stream_options", "max_tokens", "max_completion_tokens"]).first {
            throw .badField(twice, "appears more than once")
        }
        self.api = api
        switch object.value("stream").map({ String(decoding: $0, as: UTF8.self) }) {
        case nil, "false", "null": streams = false
        case "true": streams = true
        default: throw .badField("stream", "must be true or false")
        }
        var maximum = Self.defaultMaximumTokens
        for field in ["max_tokens", "max_completion_tokens"] {
            guard let raw = object.value(field), !raw.elementsEqual("null".utf8) else { continue }
            guard let number = object.integer(field), number > 0 else { throw .badField(field, "must be a positive integer") }
            maximum = number
        }
        if api == .messages, object.value("max_tokens") == nil { throw .badField("max_tokens", "is required") }
        var replacements: [String: [UInt8]] = [:]
        if let upstreamModel { replacements["model"] = JSONWriter.quoted(upstreamModel) }
        if streams, api != .messages {
            // Without it, an OpenAI stream carries no usage to charge.
            if let options = try? object.object("stream_options", keys: .unescapedOnly) {
                guard options.repeatedKeys(among: ["include_usage"]).isEmpty else {
                    throw .badField("stream_options", "keys may not be escaped or repeated")
                }
                replacements["stream_options"] = options.rewritten(replacing: ["include_usage": Array("true".utf8)])
            } else if let options = object.value("stream_options") {
                throw options.first == UInt8(ascii: "{")
                    ? .badField("stream_options", "keys may not be escaped or repeated")
                    : .badField("stream_options", "must be an object")
            } else {
                replacements["stream_options"] = Array(#"{"include_usage":true}"#.utf8)
            }
        }
        self.body = replacements.isEmpty ? body : Data(object.rewritten(replacing: replacements))
        // About four bytes a token in English; three errs on the side of the quota.
        reservation = Int64(body.count / 3) + maximum
    }
}

/// Reads the tokens a call spent from the upstream's answer: the `usage` of a JSON response, or
/// of the events of a stream as they pass.
public struct UsageMeter: Sendable {
    public private(set) var promptTokens: Int64 = 0
    public private(set) var completionTokens: Int64 = 0
    /// Whether the upstream said anything about usage at all.
    public private(set) var reported = false
    private var pending = Data()

    public init() {}

    public var total: Int64 { promptTokens + completionTokens }

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
            if let object = try? JSONObjectMembers(Array(payload), keys: .decoded) { take(object) }
        }
        // A line longer than any event is not one: drop it rather than grow without end.
        if pending.count > 1 << 20 { pending.removeAll() }
    }

    private mutating func take(_ object: JSONObjectMembers) {
        // OpenAI: usage on the response or the last chunk. Anthropic: input tokens on
        // message_start's message, output tokens (cumulative) on message_delta. The answer goes
        // no further, so its keys are read as any parser would, escapes decoded.
        func member(_ key: String, of object: JSONObjectMembers?) -> JSONObjectMembers? {
            (try? object?.object(key, keys: .decoded)) ?? nil
        }
        guard let usage = member("usage", of: object) ?? member("usage", of: member("message", of: object)) else { return }
        if let prompt = usage.integer("prompt_tokens") ?? usage.integer("input_tokens") {
            promptTokens = prompt
            reported = true
        }
        if let completion = usage.integer("completion_tokens") ?? usage.integer("output_tokens") {
            completionTokens = completion
            reported = true
        }
    }
}
