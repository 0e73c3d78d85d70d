import AirlockCore
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
        return "\(error)"
    }

    /// What an endpoint's error answer says, for the client: the error's type and message (or
    /// the first words of a body that is not JSON), at most 300 characters, with anything that
    /// looks like a credential removed. The endpoint's own body never reaches the grantee: an
    /// endpoint that echoes the key it was sent would hand the developer's credential over.
    static func summary(ofUpstreamError buffer: ByteBuffer, credential: String?) -> String {
        let bytes = Data(buffer.readableBytesView.prefix(64 << 10))
        // Redacted before it is cut to length, so that no credential is cut in two and half kept.
        var text = String(decoding: bytes.prefix(4096), as: UTF8.self)
        if let object = try? JSONSerialization.jsonObject(with: bytes) as? [String: Any] {
            let error = object["error"] as? [String: Any] ?? object
            let message = error["message"] as? String ?? object["error"] as? String ?? object["detail"] as? String
            let type = error["type"] as? String
            if let message { text = type.map { "\($0): \(message)" } ?? message }
        }
        let redacted = redactingCredentials(text, credential: credential)
        let capped = redacted.count > 300 ? redacted.prefix(300) + "…" : redacted
        return capped.isEmpty ? "(no body)" : String(capped)
    }

    /// `text` with the developer's credential, `Bearer` and `x-api-key` values, `sk-` keys and
    /// long runs of letters and digits (hex or base64 tokens) replaced by `[redacted]`.
    static func redactingCredentials(_ text: String, credential: String?) -> String {
        var text = text
        if let credential, credential.count >= 4 { text = text.replacingOccurrences(of: credential, with: "[redacted]") }
        var out = ""
        var word = ""
        var redactNext = false
        func isTokenCharacter(_ c: Character) -> Bool {
            c.isASCII && (c.isLetter || c.isNumber || "-_+/=.~".contains(c))
        }
        func endWord() {
            guard !word.isEmpty else { return }
            let lowered = word.lowercased()
            let secretLike =
                redactNext || lowered.hasPrefix("sk-") || lowered.hasPrefix("sk_")
                || (word.count >= 24 && word.filter(\.isNumber).count >= 4 && word.contains(where: \.isLetter))
            out += secretLike ? "[redacted]" : word
            redactNext = !secretLike && (lowered == "bearer" || lowered == "x-api-key" || lowered == "api-key" || lowered == "api_key")
            word = ""
        }
        for c in text {
            if isTokenCharacter(c) {
                word.append(c)
            } else {
                endWord()
                out.append(c)
            }
        }
        endWord()
        return out
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

    /// A refusal's body in the API's dialect, written with the one JSON writer: its message may
    /// carry an endpoint's words, which are untrusted text.
    static func errorBody(_ refusal: GatewayRefusal, for api: GatewayAPI) -> [UInt8] {
        var writer = JSONWriter(capacity: 256)
        writer.object { writer in
            if api.isAnthropic {
                writer.field("type", "error")
                writer.key("error")
                writer.object { error in
                    error.field("type", errorType(refusal))
                    error.field("message", refusal.message)
                    error.field("code", refusal.code)
                }
            } else {
                writer.key("error")
                writer.object { error in
                    error.field("message", refusal.message)
                    error.field("type", errorType(refusal))
                    error.field("code", refusal.code)
                    error.key("param")
                    error.null()
                }
            }
        }
        return writer.bytes
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
        if case .upstreamRefused(let status, _) = refusal { fields[upstreamStatusHeader] = String(status) }
        return (fields, ByteBuffer(bytes: errorBody(refusal, for: api)))
    }

    /// The event that ends a cut stream, in the stream's own dialect.
    static func streamError(_ refusal: GatewayRefusal, for api: GatewayAPI) -> String {
        (api.isAnthropic ? "event: error\n" : "") + "data: " + String(decoding: errorBody(refusal, for: api), as: UTF8.self) + "\n\n"
    }

    static func json(_ object: [String: Any], status: HTTPResponse.Status) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
        return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
