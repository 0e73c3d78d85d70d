import Foundation

/// The APIs the gateway speaks, each forwarded to the same path under the upstream's base URL.
public enum GatewayAPI: String, Sendable, CaseIterable {
    case chatCompletions = "chat/completions"
    case completions
    case messages

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

    /// The fields the gateway reads; everything else passes through untouched.
    private struct Fields: Decodable {
        var stream: Bool?
        var maxTokens: Int64?
        var maxCompletionTokens: Int64?

        enum CodingKeys: String, CodingKey {
            case stream
            case maxTokens = "max_tokens"
            case maxCompletionTokens = "max_completion_tokens"
        }
    }

    public init(api: GatewayAPI, body: Data, upstreamModel: String?) throws(Problem) {
        guard var object = (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] else { throw .notJSON }
        let fields: Fields
        do {
            fields = try JSONDecoder().decode(Fields.self, from: body)
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.dataCorrupted(context) {
            throw .badField(context.codingPath.first?.stringValue ?? "body", "has the wrong type")
        } catch {
            throw .notJSON
        }
        self.api = api
        streams = fields.stream ?? false
        let maximum = fields.maxCompletionTokens ?? fields.maxTokens ?? Self.defaultMaximumTokens
        guard maximum > 0 else { throw .badField("max_tokens", "must be a positive integer") }
        if api == .messages, fields.maxTokens == nil { throw .badField("max_tokens", "is required") }
        if let upstreamModel { object["model"] = upstreamModel }
        if streams, api != .messages {
            // Without it, an OpenAI stream carries no usage to charge.
            var options = object["stream_options"] as? [String: Any] ?? [:]
            options["include_usage"] = true
            object["stream_options"] = options
        }
        self.body = (try? JSONSerialization.data(withJSONObject: object)) ?? body
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
        guard let object = (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] else { return }
        take(object)
    }

    /// A piece of a server-sent event stream; events may be split across pieces.
    public mutating func read(streamed bytes: some Sequence<UInt8>) {
        pending.append(contentsOf: bytes)
        while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
            let line = pending[pending.startIndex..<newline]
            pending.removeSubrange(pending.startIndex...newline)
            guard line.starts(with: Array("data:".utf8)) else { continue }
            let payload = line.dropFirst(5).drop { $0 == UInt8(ascii: " ") }
            guard let object = (try? JSONSerialization.jsonObject(with: Data(payload))) as? [String: Any] else { continue }
            take(object)
        }
        // A line longer than any event is not one: drop it rather than grow without end.
        if pending.count > 1 << 20 { pending.removeAll() }
    }

    private mutating func take(_ object: [String: Any]) {
        // OpenAI: usage on the response or the last chunk. Anthropic: input tokens on
        // message_start's message, output tokens (cumulative) on message_delta.
        let usage = (object["usage"] as? [String: Any]) ?? ((object["message"] as? [String: Any])?["usage"] as? [String: Any])
        guard let usage else { return }
        func number(_ key: String) -> Int64? { (usage[key] as? NSNumber)?.int64Value }
        if let prompt = number("prompt_tokens") ?? number("input_tokens") {
            promptTokens = prompt
            reported = true
        }
        if let completion = number("completion_tokens") ?? number("output_tokens") {
            completionTokens = completion
            reported = true
        }
    }
}
