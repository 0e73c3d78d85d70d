import AirlockCore
import AirlockStore
import Foundation
import HTTPTypes
import Hummingbird

/// What every page of the web UI goes through: the browser's session from
/// its cookie (kept apart from API keys, and ended by the idle and absolute timeouts); on every
/// request that is not a read, a check that it comes from this site (`Sec-Fetch-Site`, else
/// `Origin`); and errors as HTML pages, with the API's statuses (a hidden object is the same 404).
struct WebMiddleware: RouterMiddleware {
    typealias Context = ProgramRequestContext
    let api: ProgramAPI
    let pages: WebPages

    static let sessionCookie = "airlock_session"

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response: Response
        var context = context
        var endedCookie = false
        do {
            if request.uri.string.contains("%00") { throw ProblemDetails.badRequest("the request's URI contains U+0000") }
            endedCookie = try await signIn(request, &context)
            if ![.get, .head].contains(request.method) { try Self.checkSameSite(request) }
            response = try await next(request, context)
        } catch {
            response = pages.errorPage(error, request: request, context: context)
        }
        if response.headers[.cacheControl] == nil { response.headers[.cacheControl] = "no-store" }
        if endedCookie { response.setCookie(pages.clearedSessionCookie) }
        return response
    }

    /// Sets the actor of a browser whose session is active (touching it now and then); whether a
    /// cookie named a session that is no more, so that the response clears it.
    private func signIn(_ request: Request, _ context: inout Context) async throws -> Bool {
        guard let secret = request.cookies[Self.sessionCookie]?.value, !secret.isEmpty, secret.utf8.count <= 200 else { return false }
        let rule = api.configuration.browserSessionRule
        let now = api.now()
        let found = try await api.store.transaction { records -> (BrowserSession, User, Organisation)? in
            guard let session = try await records.browserSession(secret: secret), rule.state(of: session, at: now) == .active,
                let user = try await records.user(id: session.userId), let organisation = try await records.organisation(id: user.organisationId)
            else { return nil }
            if rule.shouldTouch(session, at: now) { try await records.touchBrowserSession(id: session.id, at: now) }
            return (session, user, organisation)
        }
        // A worker's account has no pages: it takes attempts, and nothing else.
        guard let (session, user, organisation) = found, user.role != .worker else { return true }
        context.actor = Actor(user: user, organisation: organisation, keyId: session.id)
        context.browserSession = session
        return false
    }

    /// A request that changes something must come from a page of this site: the browser says so
    /// in `Sec-Fetch-Site`; one too old to send it must send an `Origin` of this host. A request
    /// with neither is refused, whatever its cookies.
    static func checkSameSite(_ request: Request) throws {
        if let site = request.headers[HTTPField.Name("Sec-Fetch-Site")!] {
            guard site == "same-origin" else { throw ProblemDetails.forbidden("a form of another site cannot act here") }
            return
        }
        guard let origin = request.headers[HTTPField.Name("Origin")!], let host = request.head.authority,
            let url = URL(string: origin), let originHost = url.host
        else { throw ProblemDetails.forbidden("a request that acts must come from a page of this site") }
        let port = url.port.map { ":\($0)" } ?? ""
        guard originHost + port == host else { throw ProblemDetails.forbidden("a form of another site cannot act here") }
    }
}
