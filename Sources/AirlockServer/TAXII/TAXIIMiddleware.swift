import AirlockCore
import AirlockExchange
import AirlockStore
import Foundation
import HTTPTypes
import Hummingbird
import Logging

/// The TAXII 2.1 server's own front: the `Accept` check (406), HTTP Basic or Bearer
/// authentication (401), and every error rendered as a TAXII error message in the TAXII media
/// type, so that TAXII clients can read it (the program API's problem details are not used here).
///
/// Credentials: HTTP Basic with any user name and an Airlock user API key (or session token) as
/// the password, which is what TAXII clients send; or `Authorization: Bearer KEY`. No credentials
/// goes on as anonymous, which reads the public collection; wrong ones are a 401 on every
/// endpoint. Grant keys open the gateway only, and are refused here too.
struct TAXIIRequestMiddleware: RouterMiddleware {
    typealias Context = ProgramRequestContext
    let api: ProgramAPI

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        do {
            try TAXIIMediaType.checkAccept(request.headers[.accept])
            context.actor = try await authenticate(request.headers[.authorization], logger: context.logger)
            if let actor = context.actor {
                context.logger[metadataKey: "user"] = "\(actor.user.id)"
                context.logger[metadataKey: "organisation"] = "\(actor.organisation.id)"
            }
            return try await next(request, context)
        } catch let error as TAXIIError {
            if let actor = context.actor, error.code == .forbidden || error.code == .notFound {
                await auditRefusal(request, actor: actor, status: error.httpStatus, logger: context.logger)
            }
            return TAXIIResponse.error(error)
        } catch let error as any HTTPResponseError where error.status == .contentTooLarge {
            return TAXIIResponse.error(TAXIIError(.contentTooLarge, "The request body is larger than this API root's max_content_length."))
        } catch {
            context.logger.error("TAXII request failed", metadata: ["error": "\(String(reflecting: error))"])
            return TAXIIResponse.internalError()
        }
    }

    /// The actor of the `Authorization` header; nil without one.
    private func authenticate(_ header: String?, logger: Logger) async throws -> Actor? {
        guard let header else { return nil }
        guard let key = Self.key(fromAuthorization: header) else {
            throw TAXIIError(.unauthorized, "Send HTTP Basic credentials with an Airlock API key as the password, or 'Authorization: Bearer KEY'.")
        }
        do {
            let actor = try await api.authenticate(token: key)
            // A worker's key takes attempts of runs and nothing else.
            guard actor.user.role != .worker else { throw TAXIIError(.forbidden, "A worker's key cannot read or write TAXII collections.") }
            return actor
        } catch let problem as ProblemDetails where problem.status == .unauthorized {
            logger.notice("refused TAXII credentials")
            throw TAXIIError(.unauthorized, "These credentials are not valid: the password must be a current Airlock user API key.")
        }
    }

    /// The key in `Basic base64(user:key)` or `Bearer key`; nil for anything else.
    static func key(fromAuthorization header: String) -> String? {
        let trimmed = header.trimmingCharacters(in: .whitespaces)
        guard let space = trimmed.firstIndex(of: " ") else { return nil }
        let scheme = trimmed[..<space].lowercased()
        let value = trimmed[space...].trimmingCharacters(in: .whitespaces)
        switch scheme {
        case "bearer":
            return value.isEmpty ? nil : value
        case "basic":
            guard let data = Data(base64Encoded: value), let text = String(data: data, encoding: .utf8),
                  let colon = text.firstIndex(of: ":")
            else { return nil }
            let password = String(text[text.index(after: colon)...])
            return password.isEmpty ? nil : password
        default:
            return nil
        }
    }

    /// Refusals (403, and 404 to an authenticated caller) are audited in a transaction of their
    /// own, as the program API's are: probes of hidden collections leave a trace.
    private func auditRefusal(_ request: Request, actor: Actor, status: Int, logger: Logger) async {
        do {
            try await api.store.transaction { records in
                try await api.audit(
                    records, actor, "access.refused", "request", nil,
                    ["method": request.method.rawValue, "path": request.uri.path, "status": "\(status)"])
            }
        } catch {
            logger.error("cannot audit a refused TAXII request", metadata: ["error": "\(error)"])
        }
    }
}

/// Answers requests under `/taxii2` that match no route (an unknown API root, a misspelt
/// endpoint, a method an endpoint does not take) with a TAXII 404 rather than the router's bare one.
struct TAXIIUnmatchedMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let path = request.uri.path
        guard path == "/taxii2" || path.hasPrefix("/taxii2/") else { return try await next(request, context) }
        do {
            return try await next(request, context)
        } catch let error as HTTPError where error.status == .notFound {
            return TAXIIResponse.error(.notFound("TAXII endpoint at \(request.method.rawValue) \(path)"))
        }
    }
}

/// TAXII responses: every one in ``TAXIIMediaType/taxii``, errors included.
enum TAXIIResponse {
    static func json(_ bytes: [UInt8], status: HTTPResponse.Status = .ok, headers extra: [(name: String, value: String)] = []) -> Response {
        var headers: HTTPFields = [.contentType: TAXIIMediaType.taxii]
        for (name, value) in extra {
            if let field = HTTPField.Name(name) { headers[field] = value }
        }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    /// The error message resource; a 401 also names the scheme and realm.
    static func error(_ error: TAXIIError) -> Response {
        var response = json(error.jsonBytes, status: HTTPResponse.Status(code: error.httpStatus))
        if error.httpStatus == 401 { response.headers[.wwwAuthenticate] = #"Basic realm="airlock""# }
        return response
    }

    /// A 500 that says nothing of the cause (which is logged).
    static func internalError() -> Response {
        json(
            Array(#"{"title":"Internal error","description":"The server could not complete the request.","error_code":"internal","http_status":"500"}"#.utf8),
            status: .internalServerError)
    }
}
