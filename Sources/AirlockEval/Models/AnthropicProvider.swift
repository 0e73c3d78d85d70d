import AirlockCore
import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1

/// Anthropic Messages: `POST {base}/v1/messages`, with tool use.
struct AnthropicProvider: ModelProvider {
    let configuration: ModelConfiguration
    let transport: HTTPTransport

    var modelName: String { configuration.modelName }
    var baseURL: String { configuration.baseURL }

    /// The Messages API requires `max_tokens`; this is used when the task sets none.
    static let defaultMaxTokens = 4096

    private struct Request: Encodable {
        struct Message: Encodable {
            var role: String
            var content: [Block]
        }
        struct Tool: Encodable {
            var name: String
            var description: String
            var inputSchema: JSONValue
            enum CodingKeys: String, CodingKey {
                case name, description
                case inputSchema = "input_schema"
            }
        }
        var model: String
        var maxTokens: Int
        var system: String?
        var messages: [Message]
        var tools: [Tool]?
        var temperature: Double?
        var topP: Double?
        var stopSequences: [String]?
        enum CodingKeys: String, CodingKey {
            case model
            case maxTokens = "max_tokens"
            case system, messages, tools, temperature
            case topP = "top_p"
            case stopSequences = "stop_sequences"
        }
    }

    private struct Block: Codable {
        var type: String
        var text: String?
        var id: String?
        var name: String?
        var input: JSONValue?
        var toolUseID: String?
        var content: String?
        enum CodingKeys: String, CodingKey {
            case type, text, id, name, input
            case toolUseID = "tool_use_id"
            case content
        }
    }

    private struct Response: Decodable {
        struct Usage: Decodable {
            var inputTokens: Int?
            var outputTokens: Int?
            enum CodingKeys: String, CodingKey {
                case inputTokens = "input_tokens"
                case outputTokens = "output_tokens"
            }
        }
        var content: [Block]
        var stopReason: String?
        var usage: Usage?
        enum CodingKeys: String, CodingKey {
            case content
            case stopReason = "stop_reason"
            case usage
        }
    }

    func generate(_ request: ModelRequest, timeout: Duration) async throws -> ModelOutput {
        let system = request.messages.filter { $0.role == .system }.map(\.content).joined(separator: "\n\n")
        var messages: [Request.Message] = []
        for message in request.messages where message.role != .system {
            var blocks: [Block] = []
            switch message.role {
            case .tool:
                blocks.append(Block(type: "tool_result", toolUseID: message.toolCallID, content: message.content))
            default:
                if !message.content.isEmpty { blocks.append(Block(type: "text", text: message.content)) }
                for call in message.toolCalls ?? [] {
                    let input = (try? JSONDecoder().decode(JSONValue.self, from: Data(call.arguments.utf8))) ?? .object([:])
                    blocks.append(Block(type: "tool_use", id: call.id, name: call.name, input: input))
                }
            }
            let role = message.role == .assistant ? "assistant" : "user"
            // Consecutive turns of one role merge: the API requires alternation.
            if let last = messages.last, last.role == role {
                messages[messages.count - 1].content += blocks
            } else {
                messages.append(.init(role: role, content: blocks))
            }
        }
        let body = try JSONEncoder().encode(Request(
            model: configuration.name,
            maxTokens: request.settings.maxTokens ?? Self.defaultMaxTokens,
            system: system.isEmpty ? nil : system,
            messages: messages,
            tools: request.tools.isEmpty ? nil : request.tools.map { .init(name: $0.name, description: $0.description, inputSchema: $0.parameters) },
            temperature: request.settings.temperature,
            topP: request.settings.topP,
            stopSequences: request.settings.stop
        ))
        var headers = HTTPHeaders()
        if let key = configuration.apiKey { headers.add(name: "x-api-key", value: key.value) }
        headers.add(name: "anthropic-version", value: "2023-06-01")
        let (buffer, callID) = try await transport.post(url: configuration.baseURL + "/v1/messages", headers: headers, body: body, timeout: timeout)
        let response = try HTTPTransport.decode(Response.self, from: buffer, what: "Messages response")
        let text = response.content.filter { $0.type == "text" }.compactMap(\.text).joined()
        let calls = response.content.filter { $0.type == "tool_use" }.map { block -> ToolCall in
            let arguments = (try? JSONEncoder().encode(block.input ?? .object([:]))).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
            return ToolCall(id: block.id ?? "", name: block.name ?? "", arguments: arguments)
        }
        return ModelOutput(
            message: .assistant(text, toolCalls: calls.isEmpty ? nil : calls),
            stopReason: response.stopReason,
            usage: TokenUsage(inputTokens: response.usage?.inputTokens ?? 0, outputTokens: response.usage?.outputTokens ?? 0),
            gatewayCallID: callID
        )
    }
}
