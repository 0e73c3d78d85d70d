import AirlockCore

/// What a solver asks of a model: the conversation, the tools on offer, and sampling settings.
public struct ModelRequest: Sendable, Hashable, Codable {
    public var messages: [ChatMessage]
    public var tools: [ToolDefinition]
    public var settings: GenerationSettings

    public init(messages: [ChatMessage], tools: [ToolDefinition] = [], settings: GenerationSettings = .init()) {
        self.messages = messages
        self.tools = tools
        self.settings = settings
    }
}

/// What the model answered.
public struct ModelOutput: Sendable, Hashable, Codable {
    /// The assistant message, with any tool calls.
    public var message: ChatMessage
    /// Why generation stopped, in the provider's words (`stop`, `length`, `tool_calls`, `end_turn`…).
    public var stopReason: String?
    public var usage: TokenUsage
    /// The access gateway's id for the call (its `Airlock-Call-Id`), when it went through one;
    /// never cached, since a cached answer made no call.
    public var gatewayCallID: String?

    public init(message: ChatMessage, stopReason: String? = nil, usage: TokenUsage = .init(), gatewayCallID: String? = nil) {
        self.message = message
        self.stopReason = stopReason
        self.usage = usage
        self.gatewayCallID = gatewayCallID
    }

    public var completion: String { message.content }

    enum CodingKeys: String, CodingKey {
        case message
        case stopReason = "stop_reason"
        case usage
    }
}

/// Why one model call failed. The code says whether a retry can help.
public struct ModelCallError: Error, Hashable, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case rateLimited, serverError, clientError, timeout, connection, malformedResponse
        }

        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// 429: the provider asks us to slow down.
        public static let rateLimited = Code(.rateLimited)
        /// 5xx (and 408): the provider failed this time.
        public static let serverError = Code(.serverError)
        /// Another 4xx: the request itself is refused; retrying will not help.
        public static let clientError = Code(.clientError)
        /// No answer within the request's time.
        public static let timeout = Code(.timeout)
        /// The connection could not be made, or broke.
        public static let connection = Code(.connection)
        /// The answer was not what the API promises.
        public static let malformedResponse = Code(.malformedResponse)

        public var description: String { base.rawValue }
    }

    public var code: Code
    /// The HTTP status, when there was a response.
    public var status: Int?
    /// Seconds the provider asked us to wait (`Retry-After`).
    public var retryAfter: Double?
    public var message: String

    public init(_ code: Code, status: Int? = nil, retryAfter: Double? = nil, message: String) {
        self.code = code
        self.status = status
        self.retryAfter = retryAfter
        self.message = message
    }

    /// Whether the same request may succeed if sent again.
    public var isTransient: Bool {
        code == .rateLimited || code == .serverError || code == .timeout || code == .connection
    }

    /// Whose fault a final failure was.
    public var cause: SampleFailure.Cause {
        code == .timeout || code == .connection ? .network : .model
    }

    public var description: String {
        var text = "\(code)"
        if let status { text += " (HTTP \(status))" }
        return text + ": " + message
    }

    /// Classifies an HTTP status that is not a success.
    static func forStatus(_ status: Int, retryAfter: Double?, body: String) -> ModelCallError {
        let excerpt = String(body.prefix(300))
        switch status {
        case 429: return ModelCallError(.rateLimited, status: status, retryAfter: retryAfter, message: excerpt)
        case 408, 500...599: return ModelCallError(.serverError, status: status, retryAfter: retryAfter, message: excerpt)
        default: return ModelCallError(.clientError, status: status, message: excerpt)
        }
    }
}

/// A model API: turns a request into an output with one HTTP exchange. Retries, connection limits
/// and caching live in ``ModelEndpoint``, shared by every provider.
public protocol ModelProvider: Sendable {
    /// `provider/name`, as given on the command line.
    var modelName: String { get }
    /// Where requests go, part of the cache key.
    var baseURL: String { get }
    func generate(_ request: ModelRequest, timeout: Duration) async throws -> ModelOutput
    /// Whether the API takes tool definitions and returns tool calls.
    var supportsToolCalls: Bool { get }
}

extension ModelProvider {
    public var supportsToolCalls: Bool { true }
}
