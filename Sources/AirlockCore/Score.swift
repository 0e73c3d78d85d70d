/// What one scorer concluded about one attempt.
public struct Score: Sendable, Hashable, Codable {
    /// 1 for correct, 0 for incorrect, or a fraction (F1, partial credit).
    public var value: Double
    /// The answer the scorer extracted from the output.
    public var answer: String?
    public var explanation: String?

    public init(value: Double, answer: String? = nil, explanation: String? = nil) {
        self.value = value
        self.answer = answer
        self.explanation = explanation
    }
}

/// Why an attempt ended without a score. A failure is never counted as a wrong answer.
public struct SampleFailure: Sendable, Hashable, Codable, Error {
    /// Whose fault it was, so that an operator knows whether to retry, fix the data or call the provider.
    public enum Cause: String, Sendable, Hashable, Codable {
        /// The model's service refused or answered with something unusable.
        case model
        /// The model could not be reached, or the connection broke.
        case network
        /// The sample itself is broken (a template or pattern that cannot apply to it).
        case sample
        /// The machinery around the model (a sandbox, a grader's configuration) failed.
        case infrastructure
        /// The run was stopped before the attempt finished.
        case cancelled
    }

    public var cause: Cause
    public var message: String

    public init(cause: Cause, message: String) {
        self.cause = cause
        self.message = message
    }
}

/// Tokens used by model calls.
public struct TokenUsage: Sendable, Hashable, Codable {
    public var inputTokens: Int
    public var outputTokens: Int

    public init(inputTokens: Int = 0, outputTokens: Int = 0) {
        self.inputTokens = inputTokens
        self.outputTokens = outputTokens
    }

    public var totalTokens: Int { inputTokens + outputTokens }

    public static func + (lhs: TokenUsage, rhs: TokenUsage) -> TokenUsage {
        TokenUsage(inputTokens: lhs.inputTokens + rhs.inputTokens, outputTokens: lhs.outputTokens + rhs.outputTokens)
    }

    public static func += (lhs: inout TokenUsage, rhs: TokenUsage) { lhs = lhs + rhs }

    enum CodingKeys: String, CodingKey {
        case inputTokens = "input_tokens"
        case outputTokens = "output_tokens"
    }
}
