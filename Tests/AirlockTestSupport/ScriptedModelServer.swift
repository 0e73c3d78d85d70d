import AirlockCore
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// A model server on 127.0.0.1:0 whose every answer a test scripts: a completion, a stall, a 429
/// with Retry-After, a 500, a dropped connection, malformed JSON, or a stream of events.
public final class ScriptedModelServer: Sendable {
    public enum Reply: Sendable {
        case json(status: Int, body: String, headers: [String: String])
        /// Never answer; the client's timeout must end it.
        case stall
        /// Close the connection without a response.
        case drop
        /// A 200 whose body ends early: no length given, the first `bytes` of `body` sent, then the
        /// connection closed, as when a connection drops mid-answer.
        case cut(String, bytes: Int)
        /// Server-sent events, one `data:` line each, then the stream ends.
        case events([String])
        /// Server-sent events `every` seconds apart, then the stream ends.
        case paced([String], every: Double)
        /// Wait, then give the reply.
        indirect case delayed(Double, Reply)

        public static func ok(_ body: String) -> Reply { .json(status: 200, body: body, headers: [:]) }
        public static func status(_ code: Int, retryAfter: String? = nil) -> Reply {
            .json(status: code, body: #"{"error":{"message":"scripted"}}"#, headers: retryAfter.map { ["Retry-After": $0] } ?? [:])
        }
    }

    public struct Request: Sendable {
        public var path: String
        public var headers: [String: String]
        public var body: JSONValue
        /// 0-based position among all requests the server received.
        public var index: Int

        /// The last message's content (chat), or the prompt (completions).
        public var lastContent: String {
            if case .object(let fields) = body {
                if case .array(let messages)? = fields["messages"], case .object(let last)? = messages.last {
                    if case .string(let text)? = last["content"] { return text }
                    if case .array(let blocks)? = last["content"], case .object(let block)? = blocks.last, case .string(let text)? = block["text"] { return text }
                }
                if case .string(let prompt)? = fields["prompt"] { return prompt }
            }
            return ""
        }
    }

    public typealias Script = @Sendable (Request) -> Reply

    public let port: Int
    private let channel: any Channel
    private let recorder: Recorder

    public var baseURL: String { "http://127.0.0.1:\(port)/v1" }
    public var requests: [Request] { recorder.requests.withLock { $0 } }

    private init(port: Int, channel: any Channel, recorder: Recorder) {
        self.port = port
        self.channel = channel
        self.recorder = recorder
    }

    public static func withServer<T>(_ script: @escaping Script, _ body: (ScriptedModelServer) async throws -> T) async throws -> T {
        let recorder = Recorder(script: script)
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 512)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.pipeline.configureHTTPServerPipeline().flatMap {
                    channel.pipeline.addHandler(Handler(recorder: recorder))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        let server = ScriptedModelServer(port: channel.localAddress!.port!, channel: channel, recorder: recorder)
        do {
            let result = try await body(server)
            try await channel.close()
            return result
        } catch {
            try? await channel.close()
            throw error
        }
    }

    final class Recorder: Sendable {
        let script: Script
        let requests = Mutex<[Request]>([])
        init(script: @escaping Script) { self.script = script }

        func reply(path: String, headers: [String: String], body: Data) -> Reply {
            let json = (try? JSONDecoder().decode(JSONValue.self, from: body)) ?? .null
            let request = requests.withLock { requests -> Request in
                let request = Request(path: path, headers: headers, body: json, index: requests.count)
                requests.append(request)
                return request
            }
            return script(request)
        }
    }

    final class Handler: ChannelInboundHandler, @unchecked Sendable {
        // One instance per connection, used only on its event loop.
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart

        let recorder: Recorder
        var head: HTTPRequestHead?
        var body = Data()

        init(recorder: Recorder) { self.recorder = recorder }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let head):
                self.head = head
                body = Data()
            case .body(var buffer):
                body.append(contentsOf: buffer.readBytes(length: buffer.readableBytes) ?? [])
            case .end:
                guard let head else { return }
                var headers: [String: String] = [:]
                for (name, value) in head.headers { headers[name.lowercased()] = value }
                let reply = recorder.reply(path: head.uri, headers: headers, body: body)
                send(reply, context: context, keepAlive: head.isKeepAlive)
            }
        }

        func send(_ reply: Reply, context: ChannelHandlerContext, keepAlive: Bool) {
            switch reply {
            case .stall:
                return
            case .drop:
                context.close(promise: nil)
            case .cut(let text, let bytes):
                let headers = HTTPHeaders([("content-type", "application/json"), ("connection", "close")])
                context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers))), promise: nil)
                context.writeAndFlush(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(bytes: text.utf8.prefix(bytes))))), promise: nil)
                context.close(promise: nil)
            case .delayed(let seconds, let inner):
                let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
                context.eventLoop.scheduleTask(in: .milliseconds(Int64(seconds * 1000))) {
                    let (handler, context) = loopBound.value
                    handler.send(inner, context: context, keepAlive: keepAlive)
                }
            case .json(let status, let text, let extra):
                var headers = HTTPHeaders([("content-type", "application/json"), ("content-length", String(text.utf8.count))])
                for (name, value) in extra { headers.add(name: name, value: value) }
                context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: HTTPResponseStatus(statusCode: status), headers: headers))), promise: nil)
                context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: text)))), promise: nil)
                context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            case .paced(let events, let interval):
                let headers = HTTPHeaders([("content-type", "text/event-stream"), ("transfer-encoding", "chunked")])
                context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers))), promise: nil)
                sendPaced(events[...], every: interval, context: context)
            case .events(let events):
                let headers = HTTPHeaders([("content-type", "text/event-stream"), ("transfer-encoding", "chunked")])
                context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers))), promise: nil)
                for event in events {
                    context.writeAndFlush(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: "data: \(event)\n\n")))), promise: nil)
                }
                context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            }
        }
    }
}

extension ScriptedModelServer.Handler {
    func sendPaced(_ events: ArraySlice<String>, every interval: Double, context: ChannelHandlerContext) {
        guard let event = events.first else {
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            return
        }
        context.writeAndFlush(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: "data: \(event)\n\n")))), promise: nil)
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        context.eventLoop.scheduleTask(in: .milliseconds(Int64(interval * 1000))) {
            let (handler, context) = loopBound.value
            // A client that went away ends the stream.
            guard context.channel.isActive else { return }
            handler.sendPaced(events.dropFirst(), every: interval, context: context)
        }
    }
}

/// Response bodies in the shapes the real APIs use.
public enum ModelReplies {
    public static func escaped(_ text: String) -> String {
        String(decoding: try! JSONEncoder().encode(text), as: UTF8.self)
    }

    public static func chat(_ content: String, promptTokens: Int = 10, completionTokens: Int = 2) -> String {
        #"{"id":"c1","object":"chat.completion","model":"m","choices":[{"index":0,"message":{"role":"assistant","content":\#(escaped(content))},"finish_reason":"stop"}],"usage":{"prompt_tokens":\#(promptTokens),"completion_tokens":\#(completionTokens),"total_tokens":\#(promptTokens + completionTokens)}}"#
    }

    /// A chat completion that calls one tool.
    public static func toolCall(_ name: String, _ arguments: [String: String]) -> String {
        let json = String(decoding: try! JSONEncoder().encode(arguments), as: UTF8.self)
        return #"{"choices":[{"index":0,"message":{"role":"assistant","content":null,"tool_calls":[{"id":"call_\#(name)","type":"function","function":{"name":"\#(name)","arguments":\#(escaped(json))}}]},"finish_reason":"tool_calls"}],"usage":{"prompt_tokens":20,"completion_tokens":5}}"#
    }

    public static func completion(_ text: String) -> String {
        #"{"id":"c1","object":"text_completion","model":"m","choices":[{"index":0,"text":\#(escaped(text)),"finish_reason":"stop"}],"usage":{"prompt_tokens":7,"completion_tokens":3,"total_tokens":10}}"#
    }

    public static func anthropic(_ text: String) -> String {
        #"{"id":"msg_1","type":"message","role":"assistant","content":[{"type":"text","text":\#(escaped(text))}],"stop_reason":"end_turn","usage":{"input_tokens":11,"output_tokens":4}}"#
    }
}
