import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import NIOPosix

/// What the gateway answers besides the endpoint's own words: refusals and cut streams in each
/// API's dialect, and failures described without internals.
extension AccessGateway {
    static let upstreamStatusHeader = HTTPField.Name("x-airlock-upstream-status")!

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
