import AirlockCore
import AirlockStore
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Prometheus

/// Turns every error into problem details: rule refusals into 422, conflicts into 409, bad
/// bodies into 400 naming the field, and anything unexpected into a bare 500 that is logged.
/// A refusal (403 or 404) of an authenticated request is audited in a transaction of its own,
/// since the request's own transaction rolled back: probes of hidden objects leave a trace.
struct ProblemMiddleware: RouterMiddleware {
    typealias Context = ProgramRequestContext
    let api: ProgramAPI

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await problems(request, context, next)
        } catch let problem as ProblemDetails where problem.status == .forbidden || problem.status == .notFound {
            if let actor = context.actor {
                do {
                    try await api.store.transaction { records in
                        try await api.audit(
                            records, actor, "access.refused", "request", nil,
                            ["method": request.method.rawValue, "path": request.uri.path, "status": "\(problem.status.code)"])
                    }
                } catch {
                    context.logger.error("cannot audit a refused request", metadata: ["error": "\(error)"])
                }
            }
            throw problem
        }
    }

    private func problems(
        _ request: Request, _ context: Context, _ next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            throw Self.problem(for: error, logger: context.logger)
        }
    }

    /// The problem an error answers as, for the API and the web UI's pages alike: rule
    /// refusals 422, conflicts 409, and anything unexpected a bare 500 that is logged.
    static func problem(for error: any Error, logger: Logger) -> ProblemDetails {
        switch error {
        case let problem as ProblemDetails:
            return problem
        case let error as ProgramRuleError:
            return ProblemDetails(
                .unprocessableContent, code: ProgramAPI.snakeCase(error.code.description).replacingOccurrences(of: "_", with: "-"),
                detail: error.reason, field: error.field)
        case let error as StoreError where error.code == .conflict:
            return ProblemDetails(.conflict, code: "conflict", detail: error.message)
        case let error as StoreError where error.code == .notFound:
            return ProblemDetails(.notFound, code: "not-found", detail: error.message)
        case let error as StoreError:
            logger.error("store error", metadata: ["error": "\(error)"])
            return ProblemDetails(.internalServerError, code: "internal", detail: "the server could not complete the request")
        case let error as HTTPError:
            return ProblemDetails(error.status, code: error.status == .notFound ? "not-found" : "http", detail: error.body ?? error.status.reasonPhrase)
        case let error as any HTTPResponseError:
            return ProblemDetails(error.status, code: "http", detail: error.status.reasonPhrase)
        default:
            logger.error("request failed", metadata: ["error": "\(String(reflecting: error))"])
            return ProblemDetails(.internalServerError, code: "internal", detail: "the server could not complete the request")
        }
    }
}

/// Reads `Authorization: Bearer TOKEN` and sets the actor. A request without one, or with a bad,
/// expired or revoked one, goes on as anonymous: public routes (health, metrics, the document,
/// signing in) still answer, and every other route answers 401.
struct AuthenticationMiddleware: RouterMiddleware {
    typealias Context = ProgramRequestContext
    let api: ProgramAPI

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        // U+0000 is cut short by SQLite and refused by PostgreSQL: refuse it in the URI too.
        if request.uri.string.contains("%00") { throw ProblemDetails.badRequest("the request's URI contains U+0000") }
        guard let header = request.headers[.authorization] else { return try await next(request, context) }
        guard header.lowercased().hasPrefix("bearer "), case let token = header.dropFirst(7).trimmingCharacters(in: .whitespaces),
            !token.isEmpty
        else { return try await next(request, context) }
        var context = context
        do {
            context.actor = try await api.authenticate(token: token)
        } catch let problem as ProblemDetails where problem.status == .unauthorized {
            context.logger.notice("refused a bearer token")
        } catch let problem as ProblemDetails {
            throw problem
        } catch {
            context.logger.error("cannot authenticate", metadata: ["error": "\(String(reflecting: error))"])
            throw ProblemDetails(.internalServerError, code: "internal", detail: "the server could not complete the request")
        }
        if let actor = context.actor {
            context.logger[metadataKey: "user"] = "\(actor.user.id)"
            context.logger[metadataKey: "organisation"] = "\(actor.organisation.id)"
        }
        return try await next(request, context)
    }
}

/// Counts requests and times them, by method, route and status, into the Prometheus registry.
struct RequestMetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    let registry: PrometheusCollectorRegistry

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        var status = 500
        defer {
            // Routes, not raw paths, so ids do not explode the label set.
            let labels = [("method", request.method.rawValue), ("route", context.endpointPath ?? "unmatched"), ("status", "\(status)")]
            registry.makeCounter(name: "airlock_http_requests_total", labels: labels, help: "HTTP requests answered").increment()
            registry.makeDurationHistogram(
                name: "airlock_http_request_duration_seconds", labels: Array(labels.prefix(2)),
                buckets: [.milliseconds(5), .milliseconds(25), .milliseconds(100), .milliseconds(500), .seconds(2), .seconds(10)],
                help: "time to answer HTTP requests"
            ).record(ContinuousClock.now - start)
        }
        do {
            let response = try await next(request, context)
            status = response.status.code
            return response
        } catch let error as any HTTPResponseError {
            status = error.status.code
            throw error
        }
    }
}

/// Headers on every response of the server, pages, API and errors alike (the router's own 404
/// included): `default-src 'self'` and nothing inline, so no script or style a response carries
/// can run; no framing, no sniffing, no referrer.
struct SecurityHeadersMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response: Response
        do {
            response = try await next(request, context)
        } catch let error as any HTTPResponseError {
            response = try error.response(from: request, context: context)
        }
        for field in SecurityHeaders.fields where response.headers[field.name] == nil { response.headers.append(field) }
        return response
    }
}

/// The headers ``SecurityHeadersMiddleware`` adds, made once (a generic type holds no stored statics).
enum SecurityHeaders {
    static let fields: HTTPFields = [
        HTTPField.Name("Content-Security-Policy")!:
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
        HTTPField.Name("X-Content-Type-Options")!: "nosniff",
        HTTPField.Name("Referrer-Policy")!: "no-referrer",
        HTTPField.Name("X-Frame-Options")!: "DENY",
        HTTPField.Name("Cross-Origin-Opener-Policy")!: "same-origin",
    ]
}
