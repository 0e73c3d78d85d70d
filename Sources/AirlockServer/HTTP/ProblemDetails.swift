import AirlockAPI
import Foundation
import HTTPTypes
import Hummingbird

/// An error response as RFC 9457 problem details (`application/problem+json`).
///
/// Bodies say what the client did wrong and never carry internals; a hidden object's 404 reads
/// exactly like a missing one's.
public struct ProblemDetails: HTTPResponseError, Sendable {
    public var status: HTTPResponse.Status
    /// A short code; the `type` URI is `urn:airlock:problem:CODE`.
    public var code: String
    public var detail: String
    /// The request field the problem is about, when there is one.
    public var field: String?
    public var headers: HTTPFields

    public init(_ status: HTTPResponse.Status, code: String, detail: String, field: String? = nil, headers: HTTPFields = [:]) {
        self.status = status
        self.code = code
        self.detail = detail
        self.field = field
        self.headers = headers
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        let body = Problem(code: code, title: status.reasonPhrase, status: status.code, detail: detail, field: field)
        var headers = headers
        headers[.contentType] = "application/problem+json"
        return Response(
            status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: try APIJSON.encoder.encode(body))))
    }

    static func notFound(_ what: String) -> ProblemDetails {
        ProblemDetails(.notFound, code: "not-found", detail: "no \(what) with that id")
    }

    static func forbidden(_ detail: String) -> ProblemDetails {
        ProblemDetails(.forbidden, code: "forbidden", detail: detail)
    }

    static func badRequest(_ detail: String, field: String? = nil) -> ProblemDetails {
        ProblemDetails(.badRequest, code: "bad-request", detail: detail, field: field)
    }

    static let unauthenticated = ProblemDetails(
        .unauthorized, code: "unauthenticated", detail: "sign in or send an API key as 'Authorization: Bearer KEY'",
        headers: [.wwwAuthenticate: "Bearer"])
}
