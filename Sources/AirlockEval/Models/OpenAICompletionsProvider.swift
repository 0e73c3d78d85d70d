import AirlockCore
import Foundation
import NIOCore
import NIOFoundationCompat

/// OpenAI-compatible text completions, for base models such as the local Gemma 3 270M:
/// the conversation is rendered as one prompt and the model continues it.
struct OpenAICompletionsProvider: ModelProvider {
    let configuration: ModelConfiguration
    let transport: HTTPTransport

    var modelName: String { configuration.modelName }
    var supportsToolCalls: Bool { false }
    var baseURL: String { configuration.baseURL }

    /// A base model has no chat format: messages are plain paragraphs, in order, and the prompt ends
    /// where the model should continue. Solvers' templates (for example one that ends with "Answer:")
    /// shape what it continues.
    static func prompt(for messages: [ChatMessage]) -> String {
        messages.map(\.content).joined(separator: "\n\n")
    }

    private struct Request: Encodable {
        var model: String
        var prompt: String
        var maxTokens: Int?
        var temperature: Double?
        var topP: Double?
        var stop: [String]?
        var seed: Int?
        enum CodingKeys: String, CodingKey {
            case model, prompt
            case maxTokens = "max_tokens"
            case temperature
            case topP = "top_p"
            case stop, seed
        }
    }

    private struct Response: Decodable {
        struct Choice: Decodable {
            var text: String
            var finishReason: String?
            enum CodingKeys: String, CodingKey {
                case text
                case finishReason = "finish_reason"
            }
        }
        var choices: [Choice]
        var usage: OpenAIUsage?
    }

    func generate(_ request: ModelRequest, timeout: Duration) async throws -> ModelOutput {
        let settings = request.settings
        let body = try JSONEncoder().encode(Request(
            model: configuration.name,
            prompt: Self.prompt(for: request.messages),
            maxTokens: settings.maxTokens,
            temperature: settings.temperature,
            topP: settings.topP,
            stop: settings.stop,
            seed: settings.seed
        ))
        let (buffer, callID) = try await transport.post(url: configuration.baseURL + "/completions", headers: OpenAIHeaders.make(configuration.apiKey), body: body, timeout: timeout)
        let response = try HTTPTransport.decode(Response.self, from: buffer, what: "completion")
        guard let choice = response.choices.first else {
            throw ModelCallError(.malformedResponse, message: "the response has no choices")
        }
        return ModelOutput(
            message: .assistant(choice.text),
            stopReason: choice.finishReason,
            usage: TokenUsage(inputTokens: response.usage?.promptTokens ?? 0, outputTokens: response.usage?.completionTokens ?? 0),
            gatewayCallID: callID
        )
    }
}
