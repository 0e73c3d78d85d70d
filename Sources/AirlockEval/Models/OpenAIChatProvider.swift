import AirlockCore
import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1

/// OpenAI-compatible chat completions: `POST {base}/chat/completions`, with tool calls and streaming.
struct OpenAIChatProvider: ModelProvider {
    let configuration: ModelConfiguration
    let transport: HTTPTransport

    var modelName: String { configuration.modelName }
    var baseURL: String { configuration.baseURL }

    func generate(_ request: ModelRequest, timeout: Duration) async throws -> ModelOutput {
        let stream = request.settings.stream ?? false
        let body = Self.body(model: configuration.name, request: request, stream: stream)
        let url = configuration.baseURL + "/chat/completions"
        let headers = OpenAIHeaders.make(configuration.apiKey)
        if stream {
            var accumulator = ChatStreamAccumulator()
            var parser = ServerSentEventParser()
            let callID = try await transport.postStreaming(url: url, headers: headers, body: body, timeout: timeout) { chunk in
                for event in parser.feed(chunk.readableBytesView) { try accumulator.add(event) }
            }
            var output = try accumulator.output()
            output.gatewayCallID = callID
            return output
        }
        let (buffer, callID) = try await transport.post(url: url, headers: headers, body: body, timeout: timeout)
        let response = try HTTPTransport.decode(ChatResponse.self, from: buffer, what: "chat completion")
        guard let choice = response.choices.first else {
            throw ModelCallError(.malformedResponse, message: "the response has no choices")
        }
        return ModelOutput(
            message: .assistant(choice.message.content ?? "", toolCalls: choice.message.toolCalls?.map(\.toolCall)),
            stopReason: choice.finishReason,
            usage: TokenUsage(inputTokens: response.usage?.promptTokens ?? 0, outputTokens: response.usage?.completionTokens ?? 0),
            gatewayCallID: callID
        )
    }
}

extension OpenAIChatProvider {
    /// The request body of `/chat/completions`.
    static func body(model: String, request: ModelRequest, stream: Bool) -> Data {
        var writer = JSONWriter()
        writer.object { writer in
            writer.field("model", model)
            writer.key("messages")
            writer.array(request.messages) { writer, message in
                writer.object { writer in
                    writer.field("role", message.role.rawValue)
                    // An assistant turn that only calls tools has no content.
                    if message.content.isEmpty && message.toolCalls != nil {
                        writer.key("content")
                        writer.null()
                    } else {
                        writer.field("content", message.content)
                    }
                    if let calls = message.toolCalls {
                        writer.key("tool_calls")
                        writer.array(calls) { writer, call in
                            writer.object { writer in
                                writer.field("id", call.id)
                                writer.field("type", "function")
                                writer.key("function")
                                writer.object { writer in
                                    writer.field("name", call.name)
                                    writer.field("arguments", call.arguments)
                                }
                            }
                        }
                    }
                    writer.field("tool_call_id", ifPresent: message.toolCallID)
                }
            }
            if !request.tools.isEmpty {
                writer.key("tools")
                writer.array(request.tools) { writer, tool in
                    writer.object { writer in
                        writer.field("type", "function")
                        writer.key("function")
                        writer.object { writer in
                            writer.field("name", tool.name)
                            writer.field("description", tool.description)
                            writer.key("parameters")
                            writer.value(tool.parameters)
                        }
                    }
                }
            }
            let settings = request.settings
            if let value = settings.temperature { writer.field("temperature", value) }
            if let value = settings.topP { writer.field("top_p", value) }
            if let value = settings.maxTokens { writer.field("max_tokens", value) }
            if let stop = settings.stop {
                writer.key("stop")
                writer.array(stop) { $0.string($1) }
            }
            if let value = settings.seed { writer.field("seed", value) }
            if stream {
                writer.field("stream", true)
                writer.key("stream_options")
                writer.object { $0.field("include_usage", true) }
            }
        }
        return Data(writer.bytes)
    }
}

enum OpenAIHeaders {
    static func make(_ key: APIKey?) -> HTTPHeaders {
        var headers = HTTPHeaders()
        if let key { headers.add(name: "authorization", value: "Bearer \(key.value)") }
        return headers
    }
}

struct OpenAIUsage: Codable {
    var promptTokens: Int?
    var completionTokens: Int?
    enum CodingKeys: String, CodingKey {
        case promptTokens = "prompt_tokens"
        case completionTokens = "completion_tokens"
    }
}

struct WireToolCall: Codable {
    struct Function: Codable {
        var name: String
        var arguments: String
    }
    var id: String
    var type = "function"
    var function: Function

    init(id: String, function: Function) {
        self.id = id
        self.function = function
    }

    enum CodingKeys: String, CodingKey { case id, type, function }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decodeIfPresent(String.self, forKey: .id) ?? ""
        function = try container.decode(Function.self, forKey: .function)
    }

    var toolCall: ToolCall { ToolCall(id: id, name: function.name, arguments: function.arguments) }
}

private struct ChatResponse: Decodable {
    struct Choice: Decodable {
        struct Message: Decodable {
            var content: String?
            var toolCalls: [WireToolCall]?
            enum CodingKeys: String, CodingKey {
                case content
                case toolCalls = "tool_calls"
            }
        }
        var message: Message
        var finishReason: String?
        enum CodingKeys: String, CodingKey {
            case message
            case finishReason = "finish_reason"
        }
    }
    var choices: [Choice]
    var usage: OpenAIUsage?
}

/// Builds one output from the chunks of a streamed chat completion, tool-call fragments included.
struct ChatStreamAccumulator {
    private struct Chunk: Decodable {
        struct Choice: Decodable {
            struct Delta: Decodable {
                struct ToolCallDelta: Decodable {
                    struct Function: Decodable {
                        var name: String?
                        var arguments: String?
                    }
                    var index: Int?
                    var id: String?
                    var function: Function?
                }
                var content: String?
                var toolCalls: [ToolCallDelta]?
                enum CodingKeys: String, CodingKey {
                    case content
                    case toolCalls = "tool_calls"
                }
            }
            var delta: Delta?
            var finishReason: String?
            enum CodingKeys: String, CodingKey {
                case delta
                case finishReason = "finish_reason"
            }
        }
        var choices: [Choice]?
        var usage: OpenAIUsage?
    }

    private var content = ""
    private var toolCalls: [Int: ToolCall] = [:]
    private var finishReason: String?
    private var usage = TokenUsage()
    private var finished = false
    private var chunks = 0

    mutating func add(_ event: ServerSentEvent) throws {
        if event.data == "[DONE]" {
            finished = true
            return
        }
        let chunk: Chunk
        do {
            chunk = try JSONDecoder().decode(Chunk.self, from: Data(event.data.utf8))
        } catch {
            throw ModelCallError(.malformedResponse, message: "a stream chunk is not JSON: \(event.data.prefix(200))")
        }
        chunks += 1
        if let reported = chunk.usage {
            usage = TokenUsage(inputTokens: reported.promptTokens ?? 0, outputTokens: reported.completionTokens ?? 0)
        }
        for choice in chunk.choices ?? [] {
            if let text = choice.delta?.content { content += text }
            for delta in choice.delta?.toolCalls ?? [] {
                let index = delta.index ?? 0
                var call = toolCalls[index] ?? ToolCall(id: "", name: "", arguments: "")
                if let id = delta.id { call.id = id }
                if let name = delta.function?.name { call.name += name }
                if let arguments = delta.function?.arguments { call.arguments += arguments }
                toolCalls[index] = call
            }
            if let reason = choice.finishReason { finishReason = reason }
        }
    }

    func output() throws -> ModelOutput {
        guard finished || finishReason != nil else {
            throw ModelCallError(.connection, message: "the stream ended before the completion did (\(chunks) chunks)")
        }
        let calls = toolCalls.keys.sorted().compactMap { toolCalls[$0] }
        return ModelOutput(message: .assistant(content, toolCalls: calls.isEmpty ? nil : calls), stopReason: finishReason, usage: usage)
    }
}
