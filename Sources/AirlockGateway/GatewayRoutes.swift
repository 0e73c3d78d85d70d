import AirlockCore
import AirlockStore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOPosix
import NIOHTTP1

extension AccessGateway {
    /// The HTTP/1 server for an application that carries the gateway: each connection gets a
    /// ``GatewayConnectionHandler``, which serves the calls; every other request goes to the router.
    public var httpServer: HTTPServerBuilder {
        .http1(configuration: .init(additionalChannelHandlers: [GatewayConnectionHandler(gateway: self)]))
    }

    /// Adds `GET /v1/models`. The calls themselves are served by ``httpServer``'s handler.
    public func addRoutes<Context: RequestContext>(to router: Router<Context>) {
        router.group("v1").get("models") { request, _ in try await self.models(request) }
    }

    /// `GET /v1/models`: the one model a grant key reaches.
    func models(_ request: Request) async throws -> Response {
        guard let secret = Self.secret(from: request.headers) else { return Self.error(.missingKey, for: .chatCompletions) }
        guard let route = try await route(forDigest: SecretDigest.of(secret)) else { return Self.error(.unknownKey, for: .chatCompletions) }
        if let refusal = route.refusal(at: now()) { return Self.error(refusal, for: .chatCompletions) }
        let body: [String: Any] = [
            "object": "list",
            "data": [["id": route.modelName, "object": "model", "created": Int(route.startsAt.timeIntervalSince1970), "owned_by": route.versionId]],
        ]
        return Self.json(body, status: .ok)
    }

    // MARK: Helpers

    static let anthropicVersion = HTTPField.Name("anthropic-version")!
    static let apiKey = HTTPField.Name("x-api-key")!
    static let upstreamStatusHeader = HTTPField.Name("x-airlock-upstream-status")!

    /// The grant key: `Authorization: Bearer KEY` (OpenAI clients) or `x-api-key: KEY` (Anthropic's).
    static func secret(from headers: HTTPFields) -> String? {
        if let header = headers[.authorization], header.utf8.count > 7,
            header.utf8.prefix(7).lazy.map({ $0 | 0x20 }).elementsEqual("bearer ".utf8)
        {
            let token = header.utf8.dropFirst(7).drop { $0 == UInt8(ascii: " ") }
            return token.isEmpty ? nil : String(decoding: token, as: UTF8.self)
        }
        if let key = headers[apiKey], !key.isEmpty { return key }
        return nil
    }

    func seal(request: Data, response: Data, callId: String) -> String? {
        let content: [String: String] = [
            "request": String(decoding: request, as: UTF8.self), "response": String(decoding: response, as: UTF8.self),
        ]
        guard let sealer = store.sealer, let data = try? JSONSerialization.data(withJSONObject: content, options: [.sortedKeys]) else {
            return nil
        }
        return try? sealer.seal(String(decoding: data, as: UTF8.self), context: callId)
    }

    static func describe(_ error: any Error) -> String {
        if let error = error as? ChannelError, case .connectTimeout = error { return "connection timed out" }
        if let error = error as? IOError { return "connection failed (\(error.errnoCode == ECONNREFUSED ? "refused" : "errno \(error.errnoCode)"))" }
        if error is NIOConnectionError { return "connection failed" }
        return (error as? any CustomStringConvertible)?.description ?? "\(type(of: error))"
    }

    static func snippet(_ buffer: ByteBuffer) -> String {
        let text = String(decoding: buffer.readableBytesView.prefix(300), as: UTF8.self)
        return text.isEmpty ? "(no body)" : text
    }

    static func errorType(_ refusal: GatewayRefusal) -> String {
        switch refusal.status {
        case 400: "invalid_request_error"
        case 401: "authentication_error"
        case 403: "permission_error"
        case 429: "rate_limit_error"
        default: "api_error"
        }
    }

    static func errorBody(_ refusal: GatewayRefusal, for api: GatewayAPI) -> [String: Any] {
        if api.isAnthropic {
            return ["type": "error", "error": ["type": errorType(refusal), "message": refusal.message, "code": refusal.code]]
        }
        return ["error": ["message": refusal.message, "type": errorType(refusal), "code": refusal.code, "param": NSNull()]]
    }

    static func error(_ refusal: GatewayRefusal, for api: GatewayAPI) -> Response {
        let (fields, body) = errorAnswer(refusal, for: api)
        return Response(status: .init(code: refusal.status), headers: fields, body: .init(byteBuffer: body))
    }

    /// A refusal's headers and body, in the API's own dialect.
    static func errorAnswer(_ refusal: GatewayRefusal, for api: GatewayAPI) -> (HTTPFields, ByteBuffer) {
        var fields: HTTPFields = [.contentType: "application/json"]
        if let retryAfter = refusal.retryAfter { fields[.retryAfter] = "\(retryAfter)" }
        if refusal.status == 401 { fields[.wwwAuthenticate] = "Bearer" }
        let data = (try? JSONSerialization.data(withJSONObject: errorBody(refusal, for: api), options: [.sortedKeys])) ?? Data("{}".utf8)
        return (fields, ByteBuffer(bytes: data))
    }

    /// The event that ends a cut stream, in the stream's own dialect.
    static func streamError(_ refusal: GatewayRefusal, for api: GatewayAPI) -> String {
        let data = (try? JSONSerialization.data(withJSONObject: errorBody(refusal, for: api), options: [.sortedKeys])) ?? Data()
        return (api.isAnthropic ? "event: error\n" : "") + "data: " + String(decoding: data, as: UTF8.self) + "\n\n"
    }

    static func json(_ object: [String: Any], status: HTTPResponse.Status) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
        return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
