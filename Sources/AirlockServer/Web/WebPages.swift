import AirlockAPI
import AirlockCore
import AirlockStore
import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import Mustache

/// The web UI (docs/web-ui.md): server-rendered pages from Mustache templates, which escape
/// every value (no template uses `{{{ }}}`), under a strict Content Security Policy. Each page
/// authorises as the API does, with the same load functions: a page of an object the user may
/// not see is the API's 404. Model output is text on every page: nothing in it runs.
struct WebPages: Sendable {
    let api: ProgramAPI
    let templates: MustacheLibrary

    init(api: ProgramAPI) {
        self.api = api
        self.templates = WebResources.templates
    }

    func add(to router: Router<ProgramRequestContext>) {
        let web = router.group("").add(middleware: WebMiddleware(api: api, pages: self))
        web.get("sign-in", use: signInPage)
        web.post("sign-in", use: signIn)
        web.get("sign-in/code", use: codePage)
        web.post("sign-in/code", use: signInWithCode)
        web.get("account", use: accountPage)
        web.post("account/second-factor", use: startSecondFactor)
        web.post("account/second-factor/confirmation", use: confirmSecondFactor)
        web.post("account/second-factor/removal", use: removeSecondFactor)
        web.post("sign-out", use: signOut)
        web.post("sign-out/everywhere", use: signOutEverywhere)
        web.get("", use: home)
        web.get("models", use: modelsPage)
        web.get("versions/{version_id}", use: versionPage)
        web.post("versions/{version_id}/gateway", use: switchGateway)
        web.get("calendar.ics", use: calendar)
        web.get("audit", use: auditPage)
        web.get("audit/export", use: exportAudit)
        web.get("grants", use: grantsPage)
        web.get("grants/{grant_id}/keys", use: keysPage)
        web.post("grants/{grant_id}/keys", use: issueKey)
        web.post("grants/{grant_id}/approval") { try await decideGrant(.grantApprove, $0, $1) }
        web.post("grants/{grant_id}/consent") { try await decideGrant(.grantConsent, $0, $1) }
        web.post("grants/{grant_id}/revocation") { try await decideGrant(.grantRevoke, $0, $1) }
        web.get("runs", use: runsPage)
        web.get("findings", use: findingsPage)
        web.get("findings/new", use: newFindingPage)
        web.post("findings/new", use: fileFinding)
        web.get("findings/{finding_id}", use: findingPage)
        web.post("findings/{finding_id}/case", use: openCase)
        web.get("cases", use: casesPage)
        web.get("cases/{case_id}", use: casePage)
        web.post("cases/{case_id}/vendor-status", use: setCaseVendorStatus)
        web.post("cases/{case_id}/triage", use: triageCase)
        web.post("cases/{case_id}/publication", use: publishCase)
        web.get("compare", use: comparePage)
        web.get("runs/{run_id}", use: runPage)
        web.post("runs/{run_id}/cancellation") { try await moveRun(.runCancel, $0, $1) }
        web.post("runs/{run_id}/resumption") { try await moveRun(.runResume, $0, $1) }
        // The API's event stream, for the browser's session (an EventSource sends no key).
        web.get("runs/{run_id}/events", use: api.runEvents)
        web.get("runs/{run_id}/report", use: reportPage)
        web.get("runs/{run_id}/samples", use: samplesPage)
        web.get("runs/{run_id}/samples/download", use: downloadSamples)
        web.get("runs/{run_id}/samples/{sample_id}/{epoch}", use: transcriptPage)
        router.get("static/{file}", use: staticFile)
    }

    // MARK: Rendering

    /// What every page's frame shows: who is signed in, and the token its forms carry.
    struct Frame {
        var title: String
        var user: String?
        var organisation: String?
        var formToken: String?
        /// Whether the reader is of the program office (which reads the audit log).
        var office: Bool
    }

    func frame(_ title: String, _ context: ProgramRequestContext) -> Frame {
        Frame(
            title: title, user: context.actor?.user.name, organisation: context.actor?.organisation.name,
            formToken: context.browserSession?.formToken, office: context.actor?.organisation.kind == .programOffice)
    }

    func page(_ template: String, _ object: Any, status: HTTPResponse.Status = .ok) -> Response {
        guard let html = templates.render(object, withTemplate: template) else {
            return Response(status: .internalServerError, headers: [.contentType: "text/plain; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: "no page")))
        }
        return Response(status: status, headers: [.contentType: "text/html; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    static func redirect(_ location: String) -> Response {
        Response(status: .seeOther, headers: [.location: location])
    }

    struct ErrorPage {
        var frame: Frame
        var status: Int
        var reason: String
        var detail: String
    }

    /// An error as a page: the API's status and words; a reader who is not signed in is sent to
    /// sign in first, and comes back after.
    func errorPage(_ error: any Error, request: Request, context: ProgramRequestContext) -> Response {
        let problem = ProblemMiddleware.problem(for: error, logger: context.logger)
        if problem.status == .unauthorized, request.method == .get {
            return Self.redirect("/sign-in?next=" + Self.pathSegment(request.uri.path))
        }
        return page(
            "error", ErrorPage(frame: frame(problem.status.reasonPhrase, context), status: problem.status.code, reason: problem.status.reasonPhrase, detail: problem.detail),
            status: problem.status)
    }

    // MARK: Forms

    /// An `application/x-www-form-urlencoded` body, at most 64 KiB.
    static func form(_ request: Request) async throws -> [String: String] {
        var request = request
        return try URLEncodedForm.fields(String(buffer: try await request.collectBody(upTo: 64 << 10)))
    }

    /// The form's token must be this session's: a page of another site cannot know it.
    static func checkFormToken(_ form: [String: String], _ context: ProgramRequestContext) throws -> (Actor, BrowserSession) {
        guard let actor = context.actor, let session = context.browserSession else { throw ProblemDetails.unauthenticated }
        guard let token = form["form_token"], sameSecret(token, session.formToken) else {
            throw ProblemDetails.forbidden("this form is out of date or not from this site: load the page again")
        }
        return (actor, session)
    }

    /// Compares two secrets in time that does not depend on where they differ.
    static func sameSecret(_ a: String, _ b: String) -> Bool {
        let (x, y) = (Array(SHA256.hash(data: Data(a.utf8))), Array(SHA256.hash(data: Data(b.utf8))))
        return zip(x, y).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }

    /// Only a path of this site: never another host (`//host`, `/\host`) to send a browser to.
    static func localPath(_ next: String?) -> String {
        guard let next, next.hasPrefix("/"), !next.hasPrefix("//"), !next.contains("\\"), next.utf8.count <= 2000,
            next.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value != 0x7F })
        else { return "/" }
        return next
    }

    // MARK: Sign-in

    static let signInCookie = "airlock_sign_in"

    struct SignInPage {
        var frame: Frame
        var formToken: String
        var next: String
        var email: String
        var message: String?
    }

    func signInPage(_ request: Request, _ context: ProgramRequestContext) async throws -> Response {
        let next = Self.localPath(request.uri.queryParameters["next"].map(String.init))
        if context.actor != nil { return Self.redirect(next) }
        return signInForm(next: next, email: "", message: nil, status: .ok, context)
    }

    /// The form, with a token the browser also holds in a cookie of this path: a page of another
    /// site can make the browser send the cookie, never read it into the form.
    private func signInForm(next: String, email: String, message: String?, status: HTTPResponse.Status, _ context: ProgramRequestContext) -> Response {
        let token = Identifier.secret("alf")
        var response = page("sign-in", SignInPage(frame: frame("Sign in", context), formToken: token, next: next, email: email, message: message), status: status)
        response.setCookie(
            Cookie(name: Self.signInCookie, value: token, path: "/sign-in", secure: api.configuration.secureCookies, httpOnly: true, sameSite: .strict))
        return response
    }

    func signIn(_ request: Request, _ context: ProgramRequestContext) async throws -> Response {
        let form = try await Self.form(request)
        let next = Self.localPath(form["next"])
        let email = form["email"] ?? ""
        guard let token = form["form_token"], let cookie = request.cookies[Self.signInCookie]?.value, Self.sameSecret(token, cookie) else {
            return signInForm(next: next, email: email, message: "The form was out of date: sign in again.", status: .forbidden, context)
        }
        let user: User
        do {
            user = try await api.authenticate(email: email, password: form["password"] ?? "", address: context.remoteAddress?.ipAddress ?? "unknown")
        } catch let problem as ProblemDetails where [.unauthorized, .tooManyRequests, .badRequest].contains(problem.status) {
            return signInForm(next: next, email: String(email.prefix(200)), message: problem.detail, status: problem.status, context)
        }
        guard user.role != .worker else {
            return signInForm(next: next, email: email, message: "A worker's account has no pages.", status: .forbidden, context)
        }
        if try await api.secondFactor(of: user) != nil {
            let secret = Identifier.secret("asc")
            let challenge = SignInChallenge(id: Identifier.make("sic"), userId: user.id, next: next, createdAt: api.now())
            try await api.store.transaction { records in try await records.insert(challenge, secret: secret) }
            var response = codeForm(message: nil, status: .ok, context)
            response.setCookie(
                Cookie(
                    name: Self.challengeCookie, value: secret, maxAge: Int(Self.challengeLifetime), path: "/sign-in", secure: api.configuration.secureCookies,
                    httpOnly: true, sameSite: .strict))
            return response
        }
        api.signInThrottle.withLock { $0.succeeded(account: user.email) }
        return try await startSession(user, next: next)
    }

    /// Signs the browser in as `user`: a new session, its cookie, and the sign-in's form cookies cleared.
    private func startSession(_ user: User, next: String, factor: String? = nil) async throws -> Response {
        let now = api.now()
        let secret = Identifier.secret("abs")
        let session = BrowserSession(id: Identifier.make("bss"), userId: user.id, formToken: Identifier.secret("aft"), createdAt: now, lastSeenAt: now)
        try await api.store.transaction { records in
            try await records.insert(session, secret: secret)
            try await records.appendAudit(
                at: now, actorUserId: user.id, actorOrganisationId: user.organisationId, action: "session.create", objectType: "browser_session",
                objectId: session.id, detail: ["via": "browser"].merging(factor.map { ["factor": $0] } ?? [:]) { $1 })
        }
        var response = Self.redirect(next)
        response.setCookie(sessionCookie(secret))
        for name in [Self.signInCookie, Self.challengeCookie] {
            response.setCookie(Cookie(name: name, value: "", maxAge: 0, path: "/sign-in", secure: api.configuration.secureCookies, httpOnly: true, sameSite: .strict))
        }
        return response
    }

    // MARK: The second factor's step

    static let challengeCookie = "airlock_sign_in_code"
    /// How long a right password waits for its code, and how many wrong codes it takes.
    static let challengeLifetime: TimeInterval = 300
    static let challengeAttempts = 5

    struct CodePage {
        var frame: Frame
        var formToken: String
        var message: String?
    }

    /// The code's form, with a token the browser also holds in a cookie (as the sign-in form).
    private func codeForm(message: String?, status: HTTPResponse.Status, _ context: ProgramRequestContext) -> Response {
        let token = Identifier.secret("alf")
        var response = page("sign-in-code", CodePage(frame: frame("Enter your code", context), formToken: token, message: message), status: status)
        response.setCookie(
            Cookie(name: Self.signInCookie, value: token, path: "/sign-in", secure: api.configuration.secureCookies, httpOnly: true, sameSite: .strict))
        return response
    }

    /// The sign-in this browser started, while it may still take a code.
    private func pendingChallenge(_ request: Request) async throws -> (SignInChallenge, User)? {
        guard let secret = request.cookies[Self.challengeCookie]?.value, !secret.isEmpty else { return nil }
        let now = api.now()
        return try await api.store.transaction { records in
            guard let challenge = try await records.signInChallenge(secret: secret), challenge.endedAt == nil,
                now.timeIntervalSince(challenge.createdAt) < Self.challengeLifetime, challenge.failures < Self.challengeAttempts,
                let user = try await records.user(id: challenge.userId)
            else { return nil }
            return (challenge, user)
        }
    }

    func codePage(_ request: Request, _ context: ProgramRequestContext) async throws -> Response {
        guard try await pendingChallenge(request) != nil else { return Self.redirect("/sign-in") }
        return codeForm(message: nil, status: .ok, context)
    }

    func signInWithCode(_ request: Request, _ context: ProgramRequestContext) async throws -> Response {
        let form = try await Self.form(request)
        guard let token = form["form_token"], let cookie = request.cookies[Self.signInCookie]?.value, Self.sameSecret(token, cookie) else {
            return codeForm(message: "The form was out of date: enter the code again.", status: .forbidden, context)
        }
        guard let (challenge, user) = try await pendingChallenge(request) else {
            return signInForm(next: "/", email: "", message: "The sign-in took too long or had too many wrong codes: sign in again.", status: .unauthorized, context)
        }
        do {
            try await api.takeCode(form["code"] ?? "", user: user, address: context.remoteAddress?.ipAddress ?? "unknown")
        } catch let problem as ProblemDetails where [.unauthorized, .tooManyRequests, .badRequest].contains(problem.status) {
            let failures = try await api.store.transaction { records in try await records.failSignInChallenge(id: challenge.id) }
            guard failures < Self.challengeAttempts else {
                try await api.store.transaction { records in try await records.endSignInChallenge(id: challenge.id, at: api.now()) }
                return signInForm(next: challenge.next, email: "", message: "Too many wrong codes: sign in again.", status: .unauthorized, context)
            }
            return codeForm(message: problem.detail, status: problem.status, context)
        }
        try await api.store.transaction { records in try await records.endSignInChallenge(id: challenge.id, at: api.now()) }
        return try await startSession(user, next: challenge.next, factor: "code")
    }

    /// The session's cookie: never readable by scripts, never sent by another site's request,
    /// over TLS only where the server says it is reached so. It lasts as the browser does; the
    /// server ends the session after its timeouts.
    func sessionCookie(_ secret: String) -> Cookie {
        Cookie(name: WebMiddleware.sessionCookie, value: secret, path: "/", secure: api.configuration.secureCookies, httpOnly: true, sameSite: .strict)
    }

    var clearedSessionCookie: Cookie {
        Cookie(name: WebMiddleware.sessionCookie, value: "", maxAge: 0, path: "/", secure: api.configuration.secureCookies, httpOnly: true, sameSite: .strict)
    }

    func signOut(_ request: Request, _ context: ProgramRequestContext) async throws -> Response {
        let (actor, session) = try Self.checkFormToken(try await Self.form(request), context)
        try await api.store.transaction { records in
            try await records.endBrowserSession(id: session.id, at: api.now())
            try await api.audit(records, actor, "session.end", "browser_session", session.id)
        }
        var response = Self.redirect("/sign-in")
        response.setCookie(clearedSessionCookie)
        return response
    }

    /// Ends every browser session of the user, this one included.
    func signOutEverywhere(_ request: Request, _ context: ProgramRequestContext) async throws -> Response {
        let (actor, session) = try Self.checkFormToken(try await Self.form(request), context)
        try await api.store.transaction { records in
            let ended = try await records.endBrowserSessions(userId: actor.user.id, at: api.now())
            try await api.audit(records, actor, "session.end_all", "browser_session", session.id, ["sessions": "\(ended)"])
        }
        var response = Self.redirect("/sign-in")
        response.setCookie(clearedSessionCookie)
        return response
    }

    // MARK: Static files

    func staticFile(_ request: Request, _ context: ProgramRequestContext) async throws -> Response {
        let name = try context.parameters.require("file")
        guard let (bytes, type) = WebResources.staticFiles[name] else { throw HTTPError(.notFound) }
        return Response(status: .ok, headers: [.contentType: type, .cacheControl: "public, max-age=3600"], body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}

/// The web UI's templates and static files, read once from the module's resources.
enum WebResources {
    static let folder: String = {
        guard let url = Bundle.module.url(forResource: "web", withExtension: nil) else {
            preconditionFailure("the module's web resources are missing")
        }
        return url.path
    }()

    static let templates: MustacheLibrary = {
        var library = MustacheLibrary()
        let path = folder + "/templates"
        for name in (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? [] where name.hasSuffix(".mustache") {
            guard let text = FileManager.default.contents(atPath: path + "/" + name).map({ String(decoding: $0, as: UTF8.self) }) else { continue }
            do {
                try library.register(text, named: String(name.dropLast(".mustache".count)))
            } catch {
                preconditionFailure("the template \(name) does not parse: \(error)")
            }
        }
        return library
    }()

    static let staticFiles: [String: ([UInt8], String)] = {
        var files: [String: ([UInt8], String)] = [:]
        let types = ["css": "text/css; charset=utf-8", "js": "text/javascript; charset=utf-8", "svg": "image/svg+xml"]
        let path = folder + "/static"
        for name in (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? [] {
            guard let type = types[URL(fileURLWithPath: name).pathExtension], let data = FileManager.default.contents(atPath: path + "/" + name) else { continue }
            files[name] = (Array(data), type)
        }
        return files
    }()
}
