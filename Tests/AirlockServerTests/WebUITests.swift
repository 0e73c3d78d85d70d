import AirlockAPI
import AirlockCore
@testable import AirlockServer
import AirlockStore
import AirlockTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Synchronization
import Testing

/// The web UI in process: its headers, sign-in and sessions, forms that only this site can
/// send, authorisation as the API's, and model output shown as text.
/// A clock a test moves on.
final class MovableClock: Sendable {
    private let date: Mutex<Date>
    init(_ date: Date) { self.date = Mutex(date) }
    var now: Date { date.withLock { $0 } }
    func advance(_ seconds: TimeInterval) { date.withLock { $0 = $0.addingTimeInterval(seconds) } }
}

struct WebUITests {
    static let password = "correct horse battery staple"

    /// A response's status, body and headers.
    struct Page {
        var status: HTTPResponse.Status
        var body: String
        var headers: HTTPFields

        /// The value a `Set-Cookie` of this response gives `name`.
        func cookie(_ name: String) -> String? {
            headers[values: .setCookie].lazy.compactMap { line -> String? in
                guard line.hasPrefix(name + "=") else { return nil }
                return String(line.dropFirst(name.count + 1).prefix { $0 != ";" })
            }.first
        }

        func setCookieLine(_ name: String) -> String? { headers[values: .setCookie].first { $0.hasPrefix(name + "=") } }

        /// The value of the first hidden input `name` in the page.
        func hidden(_ name: String) -> String? {
            guard let range = body.range(of: #"name="\#(name)" value=""#) else { return nil }
            return String(body[range.upperBound...].prefix { $0 != "\"" })
        }
    }

    static func send(
        _ client: any TestClientProtocol, _ method: HTTPRequest.Method, _ path: String, cookies: [String: String] = [:],
        form: [String: String]? = nil, site: String? = "same-origin", origin: String? = nil
    ) async throws -> Page {
        var headers: HTTPFields = [:]
        if !cookies.isEmpty { headers[.cookie] = cookies.map { "\($0.key)=\($0.value)" }.joined(separator: "; ") }
        if let site { headers[HTTPField.Name("Sec-Fetch-Site")!] = site }
        if let origin { headers[HTTPField.Name("Origin")!] = origin }
        var body: ByteBuffer?
        if let form {
            headers[.contentType] = "application/x-www-form-urlencoded"
            body = ByteBuffer(string: WebPages.query(form))
        }
        return try await client.execute(uri: path, method: method, headers: headers, body: body) { response in
            Page(status: response.status, body: String(buffer: response.body), headers: response.headers)
        }
    }

    /// A user of the evaluator (or of `org`) with a password.
    static func evaluatorWithPassword(
        _ store: ProgramStore, _ world: ProgramWorld, email: String = "analyst@evaluator.example", role: MemberRole = .member, org: Org = .evaluator
    ) async throws -> User {
        let user = User(id: Identifier.make("usr"), organisationId: world.id(org), email: email, name: "Ana <Analyst>", role: role, createdAt: world.now)
        let hash = try await Passwords.hash(password)
        try await store.transaction { records in try await records.insert(user, passwordHash: hash) }
        return user
    }

    /// Signs in through the form as a browser does; the session's cookie.
    static func signIn(_ client: any TestClientProtocol, email: String = "analyst@evaluator.example") async throws -> String {
        let form = try await send(client, .get, "/sign-in")
        let token = try #require(form.hidden("form_token"))
        let cookie = try #require(form.cookie(WebPages.signInCookie))
        let signedIn = try await send(
            client, .post, "/sign-in", cookies: [WebPages.signInCookie: cookie], form: ["email": email, "password": password, "form_token": token, "next": "/"])
        #expect(signedIn.status == .seeOther, "\(signedIn.body)")
        return try #require(signedIn.cookie(WebMiddleware.sessionCookie))
    }

    /// The API with a clock the test moves.
    static func withClock(_ body: @Sendable (ProgramStore, ProgramWorld, any TestClientProtocol, MovableClock) async throws -> Void) async throws {
        try await TestBackend.sqlite.withFreshStore { store in
            let world = try await ProgramWorld.make(in: store)
            let clock = MovableClock(world.now.addingTimeInterval(86_400))
            let api = ProgramAPI(store: store, configuration: ServerConfiguration(), now: { clock.now })
            try await testApplication(api).test(.router) { client in try await body(store, world, client, clock) }
        }
    }

    @Test func aSessionEndsWhenIdleOrOldOrSignedOut() {
        let start = Date(timeIntervalSince1970: 1_000_000)
        let rule = BrowserSessionRule(idle: 1800, absolute: 12 * 3600)
        var session = BrowserSession(id: "bss_1", userId: "usr_1", formToken: "t", createdAt: start, lastSeenAt: start)
        #expect(rule.state(of: session, at: start.addingTimeInterval(1799)) == .active)
        #expect(rule.state(of: session, at: start.addingTimeInterval(1800)) == .idle)
        session.lastSeenAt = start.addingTimeInterval(11.9 * 3600)
        #expect(rule.state(of: session, at: start.addingTimeInterval(11.95 * 3600)) == .active)
        #expect(rule.state(of: session, at: start.addingTimeInterval(12 * 3600)) == .expired)
        session.endedAt = start.addingTimeInterval(10)
        #expect(rule.state(of: session, at: start.addingTimeInterval(20)) == .ended)
        #expect(!rule.shouldTouch(session, at: session.lastSeenAt.addingTimeInterval(59)))
        #expect(rule.shouldTouch(session, at: session.lastSeenAt.addingTimeInterval(60)))
    }

    /// Every page and file carries the policy that keeps anything inline from running, and no
    /// template leaves a value unescaped or carries a script or style of its own.
    @Test func everyPageCarriesTheSecurityHeadersAndNoTemplateRunsAnything() async throws {
        try await withProgramAPI { _, client in
            for path in ["/sign-in", "/static/app.css", "/runs/run_X", "/no-such-page"] {
                let page = try await Self.send(client, .get, path)
                let policy = try #require(page.headers[HTTPField.Name("Content-Security-Policy")!], "\(path)")
                for part in ["default-src 'self'", "script-src 'self'", "style-src 'self'", "frame-ancestors 'none'", "base-uri 'none'", "form-action 'self'"] {
                    #expect(policy.contains(part), "\(path): \(policy)")
                }
                #expect(page.headers[HTTPField.Name("X-Content-Type-Options")!] == "nosniff")
                #expect(page.headers[HTTPField.Name("X-Frame-Options")!] == "DENY")
            }
        }
        let folder = WebResources.folder + "/templates"
        for name in try FileManager.default.contentsOfDirectory(atPath: folder) {
            let text = try String(contentsOfFile: folder + "/" + name, encoding: .utf8)
            for banned in ["{{{", "{{&", "style="] { #expect(!text.contains(banned), "\(name) contains \(banned)") }
            // One script, the site's own file, and nothing inline.
            let scripts = text.components(separatedBy: "<script").count - 1
            #expect(scripts == (text.contains(#"<script src="/static/app.js" defer></script>"#) ? 1 : 0), "\(name) has a script of its own")
            #expect(text.range(of: #"\son[a-z]+="#, options: .regularExpression) == nil, "\(name) has an event handler")
        }
    }

    @Test func signingInSetsAStrictHttpOnlyCookieAndIsAudited() async throws {
        try await Self.withClock { store, world, client, _ in
            let user = try await Self.evaluatorWithPassword(store, world)
            // Not signed in: the page asks to sign in first, and comes back.
            let away = try await Self.send(client, .get, "/runs/\(world.workerRun.id)")
            #expect(away.status == .seeOther && away.headers[.location] == "/sign-in?next=%2Fruns%2F\(world.workerRun.id)")

            let form = try await Self.send(client, .get, "/sign-in?next=/runs/\(world.workerRun.id)")
            let token = try #require(form.hidden("form_token"))
            let formCookie = try #require(form.cookie(WebPages.signInCookie))
            #expect(form.hidden("next") == "/runs/\(world.workerRun.id)")
            // A wrong password: the form again, with why, and the refusal audited.
            let wrong = try await Self.send(
                client, .post, "/sign-in", cookies: [WebPages.signInCookie: formCookie],
                form: ["email": user.email, "password": "nope", "form_token": token, "next": "/"])
            #expect(wrong.status == .unauthorized && wrong.body.contains("the email or password is wrong"))
            #expect(wrong.cookie(WebMiddleware.sessionCookie) == nil)
            // A token that is not the cookie's: refused before any password is checked.
            let forged = try await Self.send(
                client, .post, "/sign-in", cookies: [WebPages.signInCookie: formCookie],
                form: ["email": user.email, "password": Self.password, "form_token": "alf_forged", "next": "/"])
            #expect(forged.status == .forbidden)

            let signedIn = try await Self.send(
                client, .post, "/sign-in", cookies: [WebPages.signInCookie: formCookie],
                form: ["email": user.email, "password": Self.password, "form_token": token, "next": "/runs/\(world.workerRun.id)"])
            #expect(signedIn.status == .seeOther && signedIn.headers[.location] == "/runs/\(world.workerRun.id)")
            let line = try #require(signedIn.setCookieLine(WebMiddleware.sessionCookie))
            #expect(line.contains("HttpOnly") && line.contains("SameSite=Strict") && line.contains("Path=/") && !line.contains("Secure"))
            let secret = try #require(signedIn.cookie(WebMiddleware.sessionCookie))
            // The session is no API key: the API does not take it.
            let api = try await client.call(.get, "/api/v1/me", as: ProgramWorld.Member(user: user, key: secret))
            #expect(api.status == .unauthorized)

            let home = try await Self.send(client, .get, "/", cookies: [WebMiddleware.sessionCookie: secret])
            #expect(home.status == .ok)
            // The user's name is the user's words: escaped.
            #expect(home.body.contains("Ana &lt;Analyst&gt;") && !home.body.contains("Ana <Analyst>"))
            let actions = try await store.transaction { try await $0.auditEntries(after: 0, limit: 1000) }.map(\.action)
            #expect(actions.contains("session.refused") && actions.contains("session.create"))
        }
    }

    /// A form must come from this site and carry its session's token; a session ends when idle.
    @Test func formsOfAnotherSiteAreRefusedAndSessionsEnd() async throws {
        try await Self.withClock { store, world, client, clock in
            _ = try await Self.evaluatorWithPassword(store, world)
            let secret = try await Self.signIn(client)
            let cookies = [WebMiddleware.sessionCookie: secret]
            let home = try await Self.send(client, .get, "/", cookies: cookies)
            let token = try #require(home.hidden("form_token"))
            // Another site's page: the browser says so, or sends its origin.
            for (site, origin) in [("cross-site", nil), ("same-site", nil), (nil, "https://evil.example"), (nil, nil)] as [(String?, String?)] {
                let refused = try await Self.send(client, .post, "/sign-out", cookies: cookies, form: ["form_token": token], site: site, origin: origin)
                #expect(refused.status == .forbidden, "\(String(describing: site)) \(String(describing: origin))")
            }
            // This site's page without the token, or with another's.
            #expect(try await Self.send(client, .post, "/sign-out", cookies: cookies, form: [:]).status == .forbidden)
            #expect(try await Self.send(client, .post, "/sign-out", cookies: cookies, form: ["form_token": "aft_other"]).status == .forbidden)
            #expect(try await Self.send(client, .get, "/", cookies: cookies).status == .ok)

            // Idle past the timeout: the session is over, and its cookie is cleared.
            clock.advance(31 * 60)
            let idle = try await Self.send(client, .get, "/", cookies: cookies)
            #expect(idle.status == .seeOther && idle.headers[.location]?.hasPrefix("/sign-in") == true)
            #expect(idle.setCookieLine(WebMiddleware.sessionCookie)?.contains("Max-Age=0") == true)

            // Sign out everywhere ends every browser of the user.
            let first = try await Self.signIn(client)
            let second = try await Self.signIn(client)
            let page = try await Self.send(client, .get, "/", cookies: [WebMiddleware.sessionCookie: first])
            let out = try await Self.send(
                client, .post, "/sign-out/everywhere", cookies: [WebMiddleware.sessionCookie: first], form: ["form_token": try #require(page.hidden("form_token"))])
            #expect(out.status == .seeOther)
            for cookie in [first, second] {
                #expect(try await Self.send(client, .get, "/", cookies: [WebMiddleware.sessionCookie: cookie]).status == .seeOther)
            }
        }
    }

    /// Served over TLS (behind a proxy), the cookies travel over TLS only.
    @Test func secureCookiesWhereTheServerIsReachedOverTLS() async throws {
        try await TestBackend.sqlite.withFreshStore { store in
            let world = try await ProgramWorld.make(in: store)
            _ = try await Self.evaluatorWithPassword(store, world)
            var configuration = ServerConfiguration()
            configuration.secureCookies = true
            let now = world.now.addingTimeInterval(86_400)
            try await testApplication(ProgramAPI(store: store, configuration: configuration, now: { now })).test(.router) { client in
                let form = try await Self.send(client, .get, "/sign-in")
                #expect(form.setCookieLine(WebPages.signInCookie)?.contains("Secure") == true)
                let signedIn = try await Self.send(
                    client, .post, "/sign-in", cookies: [WebPages.signInCookie: try #require(form.cookie(WebPages.signInCookie))],
                    form: ["email": "analyst@evaluator.example", "password": Self.password, "form_token": try #require(form.hidden("form_token"))])
                #expect(signedIn.setCookieLine(WebMiddleware.sessionCookie)?.contains("Secure") == true)
            }
        }
    }

    /// Review windows and the calendar: what the reader may see, as the API's lists; the bank,
    /// with no grant, sees no version and its page is a 404.
    @Test func reviewWindowsAndTheCalendarShowWhatTheReaderMaySee() async throws {
        try await Self.withClock { store, world, client, _ in
            _ = try await Self.evaluatorWithPassword(store, world)
            let cookies = [WebMiddleware.sessionCookie: try await Self.signIn(client)]
            let models = try await Self.send(client, .get, "/models", cookies: cookies)
            #expect(models.status == .ok && models.body.contains("/versions/\(world.version.id)") && models.body.contains("Frontier"))
            let version = try await Self.send(client, .get, "/versions/\(world.version.id)", cookies: cookies)
            #expect(version.status == .ok && version.body.contains("/runs/\(world.workerRun.id)"))
            let calendar = try await Self.send(client, .get, "/calendar.ics", cookies: cookies)
            #expect(calendar.status == .ok && calendar.headers[.contentType] == "text/calendar; charset=utf-8")
            #expect(calendar.body.contains("UID:\(world.version.id)-release@airlock") && calendar.body.contains("SUMMARY:Planned release: Frontier 1.0"))

            let bankUser = User(id: Identifier.make("usr"), organisationId: world.id(.bank), email: "ops@bank.example", name: "Ops", role: .member, createdAt: world.now)
            let hash = try await Passwords.hash(Self.password)
            try await store.transaction { records in try await records.insert(bankUser, passwordHash: hash) }
            let bank = [WebMiddleware.sessionCookie: try await Self.signIn(client, email: "ops@bank.example")]
            #expect(!(try await Self.send(client, .get, "/models", cookies: bank)).body.contains(world.version.id))
            #expect(try await Self.send(client, .get, "/versions/\(world.version.id)", cookies: bank).status == .notFound)
            #expect(!(try await Self.send(client, .get, "/calendar.ics", cookies: bank)).body.contains("BEGIN:VEVENT"))
        }
    }

    /// A pending grant decided in the browser: the office approves, the developer consents and
    /// then revokes (only with the box ticked); the grantee is offered no decision, and its
    /// forged one is refused as the API refuses it.
    @Test func grantsAreDecidedWithTheAPIsRules() async throws {
        try await Self.withClock { store, world, client, _ in
            _ = try await Self.evaluatorWithPassword(store, world, email: "chief@office.example", role: .admin, org: .office)
            _ = try await Self.evaluatorWithPassword(store, world, email: "chief@developer.example", role: .admin, org: .developer)
            _ = try await Self.evaluatorWithPassword(store, world)
            let grant = world.pendingGrant.id
            func session(_ email: String) async throws -> ([String: String], String) {
                let cookies = [WebMiddleware.sessionCookie: try await Self.signIn(client, email: email)]
                let page = try await Self.send(client, .get, "/grants", cookies: cookies)
                #expect(page.status == .ok)
                return (cookies, page.body)
            }
            func status() async throws -> GrantStatus? { try await store.transaction { try await $0.grant(id: grant) }?.status(at: world.now.addingTimeInterval(86_400)) }

            let (evaluator, evaluatorPage) = try await session("analyst@evaluator.example")
            #expect(evaluatorPage.contains(grant) && !evaluatorPage.contains("/grants/\(grant)/approval") && !evaluatorPage.contains("/grants/\(grant)/consent"))
            let token = try #require(Page(status: .ok, body: evaluatorPage, headers: [:]).hidden("form_token"))
            let forged = try await Self.send(client, .post, "/grants/\(grant)/approval", cookies: evaluator, form: ["form_token": token])
            #expect(forged.status == .forbidden || forged.status == .notFound)

            let (office, officePage) = try await session("chief@office.example")
            #expect(officePage.contains("/grants/\(grant)/approval") && !officePage.contains("/grants/\(grant)/consent"))
            let officeToken = try #require(Page(status: .ok, body: officePage, headers: [:]).hidden("form_token"))
            #expect(try await Self.send(client, .post, "/grants/\(grant)/approval", cookies: office, form: ["form_token": officeToken]).status == .seeOther)

            let (developer, developerPage) = try await session("chief@developer.example")
            #expect(developerPage.contains("/grants/\(grant)/consent") && !developerPage.contains("/grants/\(grant)/approval"))
            let developerToken = try #require(Page(status: .ok, body: developerPage, headers: [:]).hidden("form_token"))
            #expect(try await Self.send(client, .post, "/grants/\(grant)/consent", cookies: developer, form: ["form_token": developerToken]).status == .seeOther)
            #expect(try await status() == .active)

            let unconfirmed = try await Self.send(client, .post, "/grants/\(grant)/revocation", cookies: developer, form: ["form_token": developerToken, "reason": "done"])
            #expect(unconfirmed.status == .unprocessableContent && unconfirmed.body.contains("tick the box"))
            #expect(try await status() == .active)
            let revoked = try await Self.send(
                client, .post, "/grants/\(grant)/revocation", cookies: developer, form: ["form_token": developerToken, "reason": "done", "confirm": "yes"])
            #expect(revoked.status == .seeOther)
            #expect(try await status() == .revoked)
            let actions = try await store.transaction { try await $0.auditEntries(after: 0, limit: 1000) }.map(\.action)
            #expect(actions.contains("grant.approve") && actions.contains("grant.consent") && actions.contains("grant.revoke"))
        }
    }

    /// The audit log is the office's, as through the API: its pages, the chain's verdict and an
    /// export a line per entry; anyone else gets the API's refusal.
    @Test func theAuditLogIsTheOfficesWithItsChainVerified() async throws {
        try await Self.withClock { store, world, client, _ in
            _ = try await Self.evaluatorWithPassword(store, world, email: "chief@office.example", role: .admin, org: .office)
            _ = try await Self.evaluatorWithPassword(store, world)
            let office = [WebMiddleware.sessionCookie: try await Self.signIn(client, email: "chief@office.example")]
            let page = try await Self.send(client, .get, "/audit?verify=1&action=session", cookies: office)
            #expect(page.status == .ok && page.body.contains("The chain is intact") && page.body.contains("session.create"))
            #expect(!page.body.contains("<td>grant.") && page.body.contains(#"href="/audit""#))
            let export = try await Self.send(client, .get, "/audit/export", cookies: office)
            let lines = export.body.split(separator: "\n")
            let count = try await store.transaction { try await $0.auditEntries(after: 0, limit: 10_000) }.count
            #expect(export.status == .ok && lines.count >= count - 1 && lines.count <= count)
            let first = try APIJSON.decoder.decode(AuditEntry.self, from: Data(lines[0].utf8))
            #expect(first.sequence == 1)

            let evaluator = [WebMiddleware.sessionCookie: try await Self.signIn(client)]
            let refused = try await Self.send(client, .get, "/audit", cookies: evaluator)
            let api = try await client.call(.get, "/api/v1/audit", as: world.member(.evaluator, .admin))
            #expect(refused.status == api.status && [.forbidden, .notFound].contains(refused.status))
            #expect(try await Self.send(client, .get, "/audit/export", cookies: evaluator).status == api.status)
            #expect(!(try await Self.send(client, .get, "/", cookies: evaluator)).body.contains(#"href="/audit""#))
        }
    }

    /// The developer's kill switch: offered to the developer only, taken only when confirmed,
    /// the API's own change and audit entry.
    @Test func theKillSwitchIsTheDevelopersAndAsksToBeConfirmed() async throws {
        try await Self.withClock { store, world, client, _ in
            _ = try await Self.evaluatorWithPassword(store, world, email: "chief@developer.example", role: .admin, org: .developer)
            _ = try await Self.evaluatorWithPassword(store, world)
            let evaluator = [WebMiddleware.sessionCookie: try await Self.signIn(client)]
            let seen = try await Self.send(client, .get, "/versions/\(world.version.id)", cookies: evaluator)
            #expect(seen.status == .ok && !seen.body.contains("/gateway\""))
            let forged = try await Self.send(
                client, .post, "/versions/\(world.version.id)/gateway", cookies: evaluator,
                form: ["form_token": try #require(seen.hidden("form_token")), "gateway": "close", "confirm": "yes"])
            #expect(forged.status == .forbidden || forged.status == .notFound)

            let developer = [WebMiddleware.sessionCookie: try await Self.signIn(client, email: "chief@developer.example")]
            let page = try await Self.send(client, .get, "/versions/\(world.version.id)", cookies: developer)
            #expect(page.body.contains("/versions/\(world.version.id)/gateway") && page.body.contains("Close the gateway"))
            let token = try #require(page.hidden("form_token"))
            func open() async throws -> Bool? { try await store.transaction { try await $0.version(id: world.version.id) }?.gatewayOpen }
            let before = try await open()
            let unconfirmed = try await Self.send(client, .post, "/versions/\(world.version.id)/gateway", cookies: developer, form: ["form_token": token, "gateway": "close"])
            #expect(unconfirmed.status == .unprocessableContent)
            #expect(try await open() == before)
            let closed = try await Self.send(
                client, .post, "/versions/\(world.version.id)/gateway", cookies: developer, form: ["form_token": token, "gateway": "close", "confirm": "yes", "reason": "a leak"])
            #expect(closed.status == .seeOther && closed.headers[.location] == "/versions/\(world.version.id)")
            #expect(try await open() == false)
            #expect((try await Self.send(client, .get, "/versions/\(world.version.id)", cookies: developer)).body.contains("Open the gateway"))
            let actions = try await store.transaction { try await $0.auditEntries(after: 0, limit: 1000) }.map(\.action)
            #expect(actions.contains("version.gateway.close"))
        }
    }

    /// An assessment's page shows its report: each domain's verdict, each suite's measure and
    /// its evidence linked to the transcripts of the suite's run.
    @Test func anAssessmentsPageShowsItsReportWithEvidenceLinks() async throws {
        try await Self.withClock { store, world, client, _ in
            _ = try await Self.evaluatorWithPassword(store, world)
            let report: JSONValue = .object([
                "domains": .array([.object([
                    "domain": .string("d"), "title": .string("Words"), "level": .string("some"), "settled": .bool(false),
                    "statement": .string("Reached <some> at 95%."),
                ])]),
                "suites": .array([
                    .object([
                        "id": .string("words"), "title": .string("Words"), "status": .string("complete"), "run": .string(world.workerRun.id),
                        "measurement": .object(["value": .number(0.7), "lower": .number(0.354), "upper": .number(0.879), "count": .number(9)]),
                        "evidence": .array([.object(["sample": .string("s1"), "epoch": .number(1), "score": .number(1), "transcript": .string("x")])]),
                    ]),
                    .object(["id": .string("graded"), "title": .string("Graded"), "status": .string("not_run"), "reason": .string("model-graded: bind a grader")]),
                ]),
            ])
            let assessment = StoredRun(
                id: Identifier.make("run"), versionId: world.version.id, organisationId: world.id(.evaluator), kind: "assessment", name: "battery",
                levels: ["d": "some"], summary: report, createdAt: world.now)
            try await store.transaction { records in try await records.insert(assessment) }
            let cookies = [WebMiddleware.sessionCookie: try await Self.signIn(client)]
            let page = try await Self.send(client, .get, "/runs/\(assessment.id)", cookies: cookies)
            #expect(page.status == .ok)
            #expect(page.body.contains("Words: some (open)") && page.body.contains("Reached &lt;some&gt; at 95%."))
            #expect(page.body.contains("70.0% [35.4, 87.9] n=9") && page.body.contains("model-graded: bind a grader"))
            #expect(page.body.contains(#"<a href="/runs/\#(world.workerRun.id)/samples/s1/1">s1, epoch 1</a>"#), "\(page.body)")
            // The same report as a document to print: the model, the advisory, the levels, the evidence.
            #expect(page.body.contains("/runs/\(assessment.id)/report"))
            let document = try await Self.send(client, .get, "/runs/\(assessment.id)/report", cookies: cookies)
            #expect(document.status == .ok && document.body.contains("Pre-release assessment: \(world.model.name) 1.0"))
            #expect(document.body.contains("not an approval") && document.body.contains("Words: some (open)") && document.body.contains("70.0% [35.4, 87.9] n=9"))
            #expect(document.body.contains(#"<a href="/runs/\#(world.workerRun.id)/samples/s1/1">s1, epoch 1</a>: score 1"#))
            // Only an assessment has one; another organisation gets the API's 404.
            #expect(try await Self.send(client, .get, "/runs/\(world.workerRun.id)/report", cookies: cookies).status == .notFound)
            _ = try await Self.evaluatorWithPassword(store, world, email: "ops@bank.example", org: .bank)
            let bank = [WebMiddleware.sessionCookie: try await Self.signIn(client, email: "ops@bank.example")]
            #expect(try await Self.send(client, .get, "/runs/\(assessment.id)/report", cookies: bank).status == .notFound)
        }
    }

    /// A grant's key is issued from its page and its secret shown once, on that response only.
    @Test func aGrantKeysSecretIsShownOnceAndOnlyThere() async throws {
        try await Self.withClock { store, world, client, _ in
            // Only the grantee's admins issue keys (the API's rule).
            _ = try await Self.evaluatorWithPassword(store, world, role: .admin)
            let cookies = [WebMiddleware.sessionCookie: try await Self.signIn(client)]
            let grants = try await Self.send(client, .get, "/grants", cookies: cookies)
            #expect(grants.body.contains("/grants/\(world.grant.id)/keys"))
            let page = try await Self.send(client, .get, "/grants/\(world.grant.id)/keys", cookies: cookies)
            #expect(page.status == .ok && page.body.contains("Issue a key"))
            let token = try #require(page.hidden("form_token"))
            #expect(try await Self.send(client, .post, "/grants/\(world.grant.id)/keys", cookies: cookies, form: ["name": "laptop"]).status == .forbidden)
            let issued = try await Self.send(client, .post, "/grants/\(world.grant.id)/keys", cookies: cookies, form: ["form_token": token, "name": "laptop <1>"])
            #expect(issued.status == .created && issued.headers[.cacheControl] == "no-store")
            let secret = try #require(issued.body.range(of: #"alg_[A-Za-z0-9_-]+"#, options: .regularExpression).map { String(issued.body[$0]) })
            let key = try #require(try await store.transaction { try await $0.key(secret: secret) })
            #expect(key.grantId == world.grant.id && key.name == "laptop <1>" && issued.body.contains("laptop &lt;1&gt;"))
            let again = try await Self.send(client, .get, "/grants/\(world.grant.id)/keys", cookies: cookies)
            #expect(!again.body.contains(secret) && again.body.contains(key.id))

            let bankUser = User(id: Identifier.make("usr"), organisationId: world.id(.bank), email: "ops@bank.example", name: "Ops", role: .member, createdAt: world.now)
            let hash = try await Passwords.hash(Self.password)
            try await store.transaction { records in try await records.insert(bankUser, passwordHash: hash) }
            let bank = [WebMiddleware.sessionCookie: try await Self.signIn(client, email: "ops@bank.example")]
            #expect(try await Self.send(client, .get, "/grants/\(world.grant.id)/keys", cookies: bank).status == .notFound)
        }
    }

    /// A CSV cell a spreadsheet would run as a formula is written as text; quotes and commas are quoted.
    @Test func csvFieldsAreQuotedAndNeverFormulas() {
        #expect(WebPages.csvField("s1") == "s1")
        #expect(WebPages.csvField("=HYPERLINK(\"https://evil.example\")") == "\"'=HYPERLINK(\"\"https://evil.example\"\")\"")
        #expect(WebPages.csvField("+1") == "'+1" && WebPages.csvField("@x") == "'@x" && WebPages.csvField("-2") == "'-2")
        #expect(WebPages.csvField("a,b") == "\"a,b\"" && WebPages.csvField("line\nbreak") == "\"line\nbreak\"")
        #expect(WebPages.jsonLine("{\n\"a\": 1\n}") == #"{"a":1}"#)
    }

    @Test func aWorkerHasNoPagesAndAnotherSiteCannotBeTheNextPage() async throws {
        try await Self.withClock { store, world, client, _ in
            _ = try await Self.evaluatorWithPassword(store, world, email: "robot@evaluator.example", role: .worker)
            let form = try await Self.send(client, .get, "/sign-in")
            let refused = try await Self.send(
                client, .post, "/sign-in", cookies: [WebPages.signInCookie: try #require(form.cookie(WebPages.signInCookie))],
                form: ["email": "robot@evaluator.example", "password": Self.password, "form_token": try #require(form.hidden("form_token"))])
            #expect(refused.status == .forbidden && refused.cookie(WebMiddleware.sessionCookie) == nil)
        }
        for next in ["//evil.example/x", "/\\evil.example", "https://evil.example", "/ok\u{0}", "/runs/run_1"] {
            #expect(WebPages.localPath(next) == (next == "/runs/run_1" ? next : "/"), "\(next)")
        }
    }

    /// A run another grantee made is the API's 404 on its page too; the run's own evaluator
    /// sees it, its samples, and each transcript with the model's output as text only.
    @Test func pagesAuthoriseAsTheAPIAndShowModelOutputAsText() async throws {
        try await Self.withClock { store, world, client, _ in
            _ = try await Self.evaluatorWithPassword(store, world)
            let hostile = [
                "<script>alert(1)</script>", #"<img src=x onerror="alert(2)">"#, #"<a href="javascript:alert(3)">click</a>"#,
                #"<div hx-get="/sign-out/everywhere" hx-trigger="load">x</div>"#, "{{frame.formToken}}", "</pre><iframe src=//evil>",
            ].joined(separator: "\n")
            let record: JSONValue = .object([
                "sample_id": .string("s1"), "epoch": .number(1), "status": .string("scored"),
                "messages": .array([
                    .object(["role": .string("user"), "content": .string("Say hello")]),
                    .object([
                        "role": .string("assistant"), "content": .string(hostile + String(repeating: "long ", count: 1000)),
                        "tool_calls": .array([.object(["id": .string("c1"), "name": .string("bash"), "arguments": .string(#"{"cmd":"<script>x</script>"}"#)])]),
                    ]),
                ]),
                "scores": .object(["exact": .object(["value": .number(1), "answer": .string("<b>bold</b>")])]),
            ])
            try await store.transaction { records in
                _ = try await records.commit(
                    StoredAttempt(
                        runId: world.workerRun.id, sampleId: "s1", epoch: 1, status: "scored",
                        record: String(decoding: try JSONEncoder().encode(record), as: UTF8.self), gatewayCallIds: ["call_1"], worker: "w", createdAt: world.now))
            }
            let cookies = [WebMiddleware.sessionCookie: try await Self.signIn(client)]
            let run = try await Self.send(client, .get, "/runs/\(world.workerRun.id)", cookies: cookies)
            #expect(run.status == .ok && run.body.contains("/runs/\(world.workerRun.id)/samples"))
            let samples = try await Self.send(client, .get, "/runs/\(world.workerRun.id)/samples?status=scored", cookies: cookies)
            #expect(samples.status == .ok && samples.body.contains("/runs/\(world.workerRun.id)/samples/s1/1"))
            let transcript = try await Self.send(client, .get, "/runs/\(world.workerRun.id)/samples/s1/1", cookies: cookies)
            #expect(transcript.status == .ok)
            let body = transcript.body
            #expect(body.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
            for raw in ["<script>", "<img", "<iframe", "<a href=\"javascript", "<div hx-get", "<b>bold", "</pre><iframe"] {
                #expect(!body.contains(raw), "\(raw) reached the page unescaped")
            }
            // Mustache in model output is text, not a tag: the session's token does not leak into it.
            let token = try #require(transcript.hidden("form_token"))
            #expect(body.components(separatedBy: token).count == 3)  // the two sign-out forms only
            #expect(body.contains("<details><summary>Show all</summary>"))
            #expect(body.contains("/findings/new?evidence_epoch=1&amp;evidence_run=\(world.workerRun.id)&amp;evidence_sample=s1&amp;version=\(world.version.id)"))

            // Downloads: a row per attempt, or each record whole on a line.
            let csv = try await Self.send(client, .get, "/runs/\(world.workerRun.id)/samples/download?format=csv", cookies: cookies)
            #expect(csv.status == .ok && csv.headers[.contentType] == "text/csv; charset=utf-8")
            let rows = csv.body.split(separator: "\r\n").map(String.init)
            #expect(rows.count == 2 && rows[0] == "sample_id,epoch,status,score,failure_cause,worker,gateway_calls,kept_at" && rows[1].hasPrefix("s1,1,scored,1,,w,1,"))
            let jsonl = try await Self.send(client, .get, "/runs/\(world.workerRun.id)/samples/download?format=jsonl", cookies: cookies)
            let lines = jsonl.body.split(separator: "\n")
            #expect(lines.count == 1)
            #expect(try JSONDecoder().decode(JSONValue.self, from: Data(lines[0].utf8)) == record)
            #expect(try await Self.send(client, .get, "/runs/\(world.workerRun.id)/samples/download?format=xml", cookies: cookies).status == .badRequest)
            // The run's events for the browser's session (an ended run's stream ends at once).
            let events = try await Self.send(client, .get, "/runs/\(world.cancelledRun.id)/events", cookies: cookies)
            #expect(events.status == .ok && events.headers[.contentType] == "text/event-stream" && events.body.contains("event: progress"), "\(events.body)")

            // Another organisation: the same 404 as the API's.
            let bankUser = User(id: Identifier.make("usr"), organisationId: world.id(.bank), email: "ops@bank.example", name: "Ops", role: .member, createdAt: world.now)
            let hash = try await Passwords.hash(Self.password)
            try await store.transaction { records in try await records.insert(bankUser, passwordHash: hash) }
            let bank = [WebMiddleware.sessionCookie: try await Self.signIn(client, email: "ops@bank.example")]
            for path in [
                "/runs/\(world.workerRun.id)", "/runs/\(world.workerRun.id)/samples", "/runs/\(world.workerRun.id)/samples/s1/1", "/runs/run_NOPE",
                "/runs/\(world.workerRun.id)/samples/download?format=jsonl", "/runs/\(world.workerRun.id)/events",
            ] {
                let hidden = try await Self.send(client, .get, path, cookies: bank)
                #expect(hidden.status == .notFound, "\(path)")
                #expect(!hidden.body.contains("alert(1)") && !hidden.body.contains("Say hello"))
            }
            let api = try await client.call(.get, "/api/v1/runs/\(world.workerRun.id)", as: world.member(.bank, .member))
            #expect(api.status == .notFound)
        }
    }
    /// The samples page and the API's list select alike, by the same URL parameters: words of
    /// the transcript, status, failure cause, epoch, score range, a metadata field, an order;
    /// a download keeps the filters; a bad parameter is a 400 naming it.
    @Test func samplesAreFilteredSearchedAndSortedAsTheURLSays() async throws {
        try await Self.withClock { store, world, client, _ in
            _ = try await Self.evaluatorWithPassword(store, world)
            try await store.transaction { records in
                for index in 0..<12 {
                    let failed = index % 4 == 3
                    var fields: [String: JSONValue] = [
                        "sample_id": .string("s\(index)"), "epoch": .number(1), "status": .string(failed ? "failed" : "scored"),
                        "metadata": .object(["level": .string(index.isMultiple(of: 2) ? "easy" : "hard")]),
                        "messages": .array([.object(["role": .string("assistant"), "content": .string(index == 5 ? "found the flag in /srv/secret" : "nothing here")])]),
                    ]
                    if failed {
                        fields["failure"] = .object(["cause": .string("sandbox"), "message": .string("the sandbox broke")])
                    } else {
                        fields["scores"] = .object(["match": .object(["value": .number(Double(index) / 10)])])
                    }
                    _ = try await records.commit(
                        StoredAttempt(
                            runId: world.workerRun.id, sampleId: "s\(index)", epoch: 1, status: failed ? "failed" : "scored",
                            record: String(decoding: try JSONEncoder().encode(JSONValue.object(fields)), as: UTF8.self), gatewayCallIds: [], worker: "w",
                            createdAt: world.now))
                }
            }
            let cookies = [WebMiddleware.sessionCookie: try await Self.signIn(client)]
            let base = "/runs/\(world.workerRun.id)/samples"
            func samples(_ query: String) async throws -> [String] {
                let page = try await Self.send(client, .get, base + "?" + query, cookies: cookies)
                #expect(page.status == .ok, "\(query)")
                return page.body.matches(of: /samples\/(s[0-9]+)\/1"/).map { String($0.1) }
            }
            #expect(try await samples("q=flag") == ["s5"])
            #expect(try await samples("q=FLAG+secret") == ["s5"])
            #expect(try await samples("q=flag+nowhere").isEmpty)
            #expect(try await samples("status=failed") == ["s11", "s3", "s7"])
            #expect(try await samples("cause=sandbox&sort=-kept") == ["s11", "s7", "s3"])
            #expect(try await samples("score_min=0.4&score_max=0.8&sort=-score") == ["s8", "s6", "s5", "s4"])
            #expect(try await samples("field=level&value=hard&status=scored") == ["s1", "s5", "s9"])
            let page = try await Self.send(client, .get, base + "?status=failed", cookies: cookies)
            #expect(page.body.contains(#"<option value="failed" selected>"#) && page.body.contains("Clear the filters"))
            #expect(page.body.contains("download?format=csv&amp;status=failed"))
            let csv = try await Self.send(client, .get, base + "/download?format=csv&status=failed", cookies: cookies)
            #expect(csv.body.split(separator: "\r\n").count == 4 && csv.body.contains("s3,1,failed,,sandbox,w,0,"))
            for (query, field) in [("status=lost", "status"), ("epoch=0", "epoch"), ("score_min=1e999", "score_min"), ("sort=worst", "sort"), ("value=x", "field"),
                ("cursor=bm9wZQ", "cursor"), ("q=" + String(repeating: "a", count: 501), "q"), ("status=failed&status=scored", "status")] {
                let refused = try await Self.send(client, .get, base + "?" + query, cookies: cookies)
                #expect(refused.status == .badRequest && refused.body.contains(field), "\(query)")
                let api = try await client.call(.get, "/api/v1/runs/\(world.workerRun.id)/attempts?" + query, as: world.member(.evaluator, .member))
                #expect(api.status == .badRequest && api.body.contains("\"field\":\"\(field)\""), "\(query): \(api.body)")
            }
            // The API pages the same selection by its cursor, with each row's score and cause.
            var seen: [String] = []
            var cursor: String?
            repeat {
                let list = try await client.call(
                    .get, "/api/v1/runs/\(world.workerRun.id)/attempts?sort=score&limit=3" + (cursor.map { "&cursor=" + $0 } ?? ""), as: world.member(.evaluator, .member))
                let page = try APIJSON.decoder.decode(ListPage<AttemptView>.self, from: Data(list.body.utf8))
                seen += page.items.map { "\($0.sampleId)=\($0.score.map { "\($0)" } ?? "-")" }
                cursor = page.nextCursor
            } while cursor != nil
            #expect(seen == ["s0=0.0", "s1=0.1", "s2=0.2", "s4=0.4", "s5=0.5", "s6=0.6", "s8=0.8", "s9=0.9", "s10=1.0"])
        }
    }
    /// The runs list shows what each run's page would, filtered by the URL; a run is
    /// cancelled and resumed from its page by a form with the session's token, as the API would.
    @Test func runsAreListedFilteredAndMovedFromTheirPages() async throws {
        try await Self.withClock { store, world, client, _ in
            _ = try await Self.evaluatorWithPassword(store, world)
            let cookies = [WebMiddleware.sessionCookie: try await Self.signIn(client)]
            func listed(_ query: String, _ cookies: [String: String]) async throws -> Set<String> {
                let page = try await Self.send(client, .get, "/runs" + query, cookies: cookies)
                #expect(page.status == .ok, "\(query)")
                return Set(page.body.matches(of: /href="\/runs\/(run_[0-9A-Z]+)"/).map { String($0.1) })
            }
            let all: Set = [world.run.id, world.workerRun.id, world.cancelledRun.id]
            #expect(try await listed("", cookies) == all)
            #expect(try await listed("?state=cancelled", cookies) == [world.cancelledRun.id])
            #expect(try await listed("?name=on+the&state=queued", cookies) == [world.workerRun.id])
            #expect(try await listed("?name=cyb", cookies) == [world.run.id])
            #expect(try await listed("?model=\(world.otherModel.id)", cookies).isEmpty)
            for (query, field) in [("?state=lost", "state"), ("?kind=poem", "kind"), ("?before=run_x", "before")] {
                let refused = try await Self.send(client, .get, "/runs" + query, cookies: cookies)
                #expect(refused.status == .badRequest && refused.body.contains(field), "\(query)")
            }
            // Another organisation sees none of them.
            _ = try await Self.evaluatorWithPassword(store, world, email: "ops@bank.example", org: .bank)
            #expect(try await listed("", [WebMiddleware.sessionCookie: try await Self.signIn(client, email: "ops@bank.example")]).isEmpty)

            let page = try await Self.send(client, .get, "/runs/\(world.workerRun.id)", cookies: cookies)
            #expect(page.body.contains("Cancel the run") && !page.body.contains("Resume the run"))
            let token = try #require(page.hidden("form_token"))
            let forged = try await Self.send(client, .post, "/runs/\(world.workerRun.id)/cancellation", cookies: cookies, form: ["form_token": "aft_forged"])
            #expect(forged.status == .forbidden)
            let cancelled = try await Self.send(client, .post, "/runs/\(world.workerRun.id)/cancellation", cookies: cookies, form: ["form_token": token])
            #expect(cancelled.status == .seeOther && cancelled.headers[.location] == "/runs/\(world.workerRun.id)")
            #expect(try await store.transaction { try await $0.run(id: world.workerRun.id) }?.state == .cancelled)
            let again = try await Self.send(client, .post, "/runs/\(world.workerRun.id)/cancellation", cookies: cookies, form: ["form_token": token])
            #expect(again.status == .conflict && again.body.contains("cannot be cancelled"))
            let resumed = try await Self.send(client, .post, "/runs/\(world.cancelledRun.id)/resumption", cookies: cookies, form: ["form_token": token])
            #expect(resumed.status == .seeOther)
            #expect(try await store.transaction { try await $0.run(id: world.cancelledRun.id) }?.state == .queued)
            let audit = try await store.transaction { try await $0.auditEntries(after: 0, limit: 500) }.map(\.action)
            #expect(audit.contains("run.cancel") && audit.contains("run.resume"))
        }
    }
    /// RFC 6238's SHA-1 test vectors (their last six digits), the skew either side, and each
    /// code good once.
    @Test func oneTimeCodesAreRFC6238s() {
        let codes = OneTimeCodes(secret: "12345678901234567890")
        for (seconds, code) in [(59.0, "287082"), (1_111_111_109, "081804"), (1_234_567_890, "005924"), (20_000_000_000, "353130")] {
            #expect(codes.code(atStep: OneTimeCodes.step(at: Date(timeIntervalSince1970: seconds))) == code, "\(seconds)")
        }
        let now = Date(timeIntervalSince1970: 1_234_567_890)
        let step = OneTimeCodes.step(at: now)
        #expect(codes.step(matching: "005924", at: now, after: 0) == step)
        #expect(codes.step(matching: "005 924", at: now, after: 0) == step)
        #expect(codes.step(matching: "005924", at: now.addingTimeInterval(30), after: 0) == step)
        #expect(codes.step(matching: "005924", at: now.addingTimeInterval(61), after: 0) == nil)
        #expect(codes.step(matching: "005924", at: now, after: step) == nil)
        for bad in ["", "00592", "0059244", "٠٠٥٩٢٤", "00592a", "+05924"] { #expect(codes.step(matching: bad, at: now, after: 0) == nil, "\(bad)") }
        #expect(OneTimeCodes.newSecret() != OneTimeCodes.newSecret())
        #expect(codes.authenticatorURL(account: "a@b.example").hasPrefix("otpauth://totp/Airlock:a@b.example?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"))
        #expect(codes.typedKey == "GEZD GNBV GY3T QOJQ GEZD GNBV GY3T QOJQ")
    }

    /// The secret an account page shows, read back from its base32 key.
    static func secret(fromKey key: String) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
        var bits = 0
        var value = 0
        var bytes: [UInt8] = []
        for character in key where character != " " {
            value = (value << 5) | alphabet.firstIndex(of: character)!
            bits += 5
            if bits >= 8 {
                bytes.append(UInt8((value >> (bits - 8)) & 0xFF))
                bits -= 8
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// A second factor set up from the account page (a wrong code does not confirm it), then
    /// asked for at every sign-in, in the browser and in the API: a wrong code, a used code, a
    /// slow code and five wrong codes are refused, and each step is on the audit log.
    @Test func aSecondFactorGuardsEverySignIn() async throws {
        try await Self.withClock { store, world, client, clock in
            let user = try await Self.evaluatorWithPassword(store, world)
            var cookies = [WebMiddleware.sessionCookie: try await Self.signIn(client)]
            var account = try await Self.send(client, .get, "/account", cookies: cookies)
            #expect(account.status == .ok && account.body.contains("Set up a second factor"))
            let token = try #require(account.hidden("form_token"))
            func setUp() async throws -> OneTimeCodes {
                let started = try await Self.send(client, .post, "/account/second-factor", cookies: cookies, form: ["form_token": token])
                #expect(started.status == .ok && started.headers[.cacheControl] == "no-store")
                let key = try #require(started.body.firstMatch(of: /<code>([A-Z2-7 ]+)<\/code>/)).1
                return OneTimeCodes(secret: Self.secret(fromKey: String(key)))
            }
            var codes = try await setUp()
            let now = { OneTimeCodes.step(at: clock.now) }
            let wrong = codes.code(atStep: now() + 5)
            let refused = try await Self.send(client, .post, "/account/second-factor/confirmation", cookies: cookies, form: ["form_token": token, "code": wrong])
            #expect(refused.status == .unprocessableContent)
            codes = try await setUp()
            let confirmed = try await Self.send(
                client, .post, "/account/second-factor/confirmation", cookies: cookies, form: ["form_token": token, "code": codes.code(atStep: now())])
            #expect(confirmed.status == .seeOther)
            account = try await Self.send(client, .get, "/account", cookies: cookies)
            #expect(account.body.contains("Turn off the second factor"))
            // A second set-up is refused while one is on.
            #expect(try await Self.send(client, .post, "/account/second-factor", cookies: cookies, form: ["form_token": token]).status == .conflict)

            // The password alone now leads to the code's form, without a session.
            func password() async throws -> (Page, [String: String]) {
                let form = try await Self.send(client, .get, "/sign-in")
                let page = try await Self.send(
                    client, .post, "/sign-in", cookies: [WebPages.signInCookie: try #require(form.cookie(WebPages.signInCookie))],
                    form: ["email": user.email, "password": Self.password, "form_token": try #require(form.hidden("form_token")), "next": "/runs"])
                #expect(page.status == .ok && page.cookie(WebMiddleware.sessionCookie) == nil && page.body.contains("Enter your code"))
                return (page, [WebPages.signInCookie: try #require(page.cookie(WebPages.signInCookie)), WebPages.challengeCookie: try #require(page.cookie(WebPages.challengeCookie))])
            }
            func code(_ page: Page, _ jar: [String: String], _ code: String) async throws -> Page {
                try await Self.send(client, .post, "/sign-in/code", cookies: jar, form: ["form_token": try #require(page.hidden("form_token")), "code": code])
            }
            clock.advance(60)
            var (page, jar) = try await password()
            let wrongCode = try await code(page, jar, codes.code(atStep: now() + 3))
            #expect(wrongCode.status == .unauthorized && wrongCode.body.contains("the code is wrong"))
            jar[WebPages.signInCookie] = try #require(wrongCode.cookie(WebPages.signInCookie))
            let signedIn = try await code(wrongCode, jar, codes.code(atStep: now()))
            #expect(signedIn.status == .seeOther && signedIn.headers[.location] == "/runs")
            cookies = [WebMiddleware.sessionCookie: try #require(signedIn.cookie(WebMiddleware.sessionCookie))]
            #expect(try await Self.send(client, .get, "/runs", cookies: cookies).status == .ok)

            // The API asks for the code too; the code just used does not sign in again.
            func api(_ code: String?) async throws -> (status: HTTPResponse.Status, body: String, headers: HTTPFields) {
                let body = try String(decoding: APIJSON.encoder.encode(SignIn(email: user.email, password: Self.password, code: code)), as: UTF8.self)
                return try await client.call(.post, "/api/v1/sessions", as: nil, json: body)
            }
            let none = try await api(nil)
            #expect(none.status == .unauthorized && none.body.contains("second-factor-required"))
            #expect(try await api(codes.code(atStep: now())).status == .unauthorized)
            clock.advance(30)
            #expect(try await api(codes.code(atStep: now())).status == .created)

            // A code that comes too late, and five wrong codes, end the sign-in.
            clock.advance(60)
            (page, jar) = try await password()
            clock.advance(WebPages.challengeLifetime + 1)
            let late = try await code(page, jar, codes.code(atStep: now()))
            #expect(late.status == .unauthorized && late.body.contains("took too long"))
            clock.advance(3600)
            (page, jar) = try await password()
            for attempt in 1...WebPages.challengeAttempts {
                let wrongAgain = try await code(page, jar, codes.code(atStep: now() + 7))
                #expect(wrongAgain.status == .unauthorized)
                if attempt == WebPages.challengeAttempts { #expect(wrongAgain.body.contains("Too many wrong codes")) }
                page = wrongAgain
                if let fresh = wrongAgain.cookie(WebPages.signInCookie) { jar[WebPages.signInCookie] = fresh }
            }
            clock.advance(3600)
            (page, jar) = try await password()
            let last = try await code(page, jar, codes.code(atStep: now()))
            #expect(last.status == .seeOther)
            cookies = [WebMiddleware.sessionCookie: try #require(last.cookie(WebMiddleware.sessionCookie))]

            // Turned off with a code; the password alone signs in again.
            clock.advance(30)
            let fresh = try #require(try await Self.send(client, .get, "/account", cookies: cookies).hidden("form_token"))
            let removal = try await Self.send(
                client, .post, "/account/second-factor/removal", cookies: cookies, form: ["form_token": fresh, "code": codes.code(atStep: now())])
            #expect(removal.status == .seeOther)
            _ = try await Self.signIn(client)
            let audit = try await store.transaction { try await $0.auditEntries(after: 0, limit: 1000) }
            #expect(audit.contains { $0.action == "user.second_factor.enable" } && audit.contains { $0.action == "user.second_factor.disable" })
            #expect(audit.filter { $0.action == "session.refused" && $0.detail.contains("\"reason\":\"code\"") }.count >= 7)
            #expect(audit.contains { $0.action == "session.create" && $0.detail.contains("\"factor\":\"code\"") })
        }
    }
    /// A transcript of 5,000 events opens with its first chunk and its limits; the next chunks
    /// come a part at a time (as the page's script fetches them), numbered on, the last without
    /// a link further.
    @Test func aLongTranscriptComesInChunks() async throws {
        try await Self.withClock { store, world, client, _ in
            _ = try await Self.evaluatorWithPassword(store, world)
            let count = 5_000
            let messages = (1...count).map { index -> JSONValue in
                index.isMultiple(of: 2)
                    ? .object(["role": .string("tool"), "tool_name": .string("bash"), "content": .string("output \(index) <b>")])
                    : .object([
                        "role": .string("assistant"), "content": .string("step \(index)"),
                        "tool_calls": .array([.object(["id": .string("c\(index)"), "name": .string("bash"), "arguments": .object(["cmd": .string("ls \(index)")])])]),
                    ])
            }
            let record: JSONValue = .object([
                "sample_id": .string("agent"), "epoch": .number(1), "status": .string("scored"), "messages": .array(messages),
                "stop_reason": .string("turns"), "limit_reached": .string("turns"), "usage": .object(["input_tokens": .number(123_456), "output_tokens": .number(789)]),
                "total_seconds": .number(61.25),
            ])
            try await store.transaction { records in
                _ = try await records.commit(
                    StoredAttempt(
                        runId: world.workerRun.id, sampleId: "agent", epoch: 1, status: "scored",
                        record: String(decoding: try JSONEncoder().encode(record), as: UTF8.self), gatewayCallIds: [], worker: "w", createdAt: world.now))
            }
            let cookies = [WebMiddleware.sessionCookie: try await Self.signIn(client)]
            let path = "/runs/\(world.workerRun.id)/samples/agent/1"
            let first = try await Self.send(client, .get, path, cookies: cookies)
            #expect(first.status == .ok)
            #expect(first.body.matches(of: /<li class="message/).count == WebPages.messagesPerChunk)
            #expect(first.body.contains(#"id="m200""#) && !first.body.contains(#"id="m201""#))
            #expect(first.body.contains(#"href="\#(path)?from=200" data-more>Show the next 200 messages"#))
            for fact in ["<dd>turns</dd>", "<dd>123456</dd>", "<dd>61.2 s</dd>", "<dd>5000</dd>", #"{&quot;cmd&quot;:&quot;ls 1&quot;}"#, "output 2 &lt;b&gt;"] {
                #expect(first.body.contains(fact), "\(fact)")
            }
            let part = try await Self.send(client, .get, path + "?from=4900&part=messages", cookies: cookies)
            #expect(part.status == .ok && part.body.hasPrefix(#"<ol class="messages" start="4901">"#))
            #expect(part.body.matches(of: /<li class="message/).count == 100 && part.body.contains(#"id="m5000""#) && !part.body.contains("data-more"))
            #expect(!part.body.contains("<html"))
            let middle = try await Self.send(client, .get, path + "?from=400", cookies: cookies)
            #expect(middle.body.contains(#"href="\#(path)?from=200">Earlier messages"#) && middle.body.contains("?from=600"))
            for query in ["?from=-1", "?from=x", "?part=all"] {
                #expect(try await Self.send(client, .get, path + query, cookies: cookies).status == .badRequest, "\(query)")
            }
            // Past the end: no message, no link.
            let beyond = try await Self.send(client, .get, path + "?from=9999&part=messages", cookies: cookies)
            #expect(beyond.status == .ok && !beyond.body.contains("<li"))
        }
    }
    /// Two runs of the same task are offered for comparison from a run's page; the comparison
    /// pairs their shared samples and lists those that differ most; a run the reader may not
    /// see is the API's 404 there too.
    @Test func twoRunsOfATaskAreComparedPairedOnTheirSamples() async throws {
        try await Self.withClock { store, world, client, _ in
            _ = try await Self.evaluatorWithPassword(store, world)
            try await store.transaction { records in
                for (run, shift) in [(world.workerRun, 0.0), (world.cancelledRun, 0.25)] {
                    for index in 0..<10 {
                        let value = min(1, Double(index % 4) / 4 + (index == 3 ? 0 : shift))
                        let record: JSONValue = .object([
                            "sample_id": .string("s\(index)"), "epoch": .number(1), "status": .string("scored"),
                            "scores": .object(["match": .object(["value": .number(value)])]),
                        ])
                        _ = try await records.commit(
                            StoredAttempt(
                                runId: run.id, sampleId: "s\(index)", epoch: 1, status: "scored",
                                record: String(decoding: try JSONEncoder().encode(record), as: UTF8.self), gatewayCallIds: [], worker: "w", createdAt: world.now))
                    }
                }
            }
            let cookies = [WebMiddleware.sessionCookie: try await Self.signIn(client)]
            let runPage = try await Self.send(client, .get, "/runs/\(world.workerRun.id)", cookies: cookies)
            #expect(runPage.body.contains(#"<option value="\#(world.cancelledRun.id)">"#) && !runPage.body.contains(#"<option value="\#(world.run.id)">"#))
            let compare = try await Self.send(client, .get, "/compare?a=\(world.workerRun.id)&b=\(world.cancelledRun.id)", cookies: cookies)
            #expect(compare.status == .ok)
            #expect(compare.body.contains("paired on 10 samples") && compare.body.contains("b higher"), "\(compare.body)")
            // s3 is the one sample not lifted: it differs least, and is listed last.
            let listed = compare.body.matches(of: /<th scope="row">(s[0-9])<\/th>/).map { String($0.1) }
            #expect(listed.count == 10 && listed.last == "s3")
            #expect(compare.body.contains("/runs/\(world.workerRun.id)/samples/s0/1"))
            for (query, status) in [("?a=\(world.workerRun.id)", HTTPResponse.Status.badRequest), ("?a=\(world.workerRun.id)&b=run_NOPE", .notFound)] {
                #expect(try await Self.send(client, .get, "/compare" + query, cookies: cookies).status == status, "\(query)")
            }
            _ = try await Self.evaluatorWithPassword(store, world, email: "ops@bank.example", org: .bank)
            let bank = [WebMiddleware.sessionCookie: try await Self.signIn(client, email: "ops@bank.example")]
            let hidden = try await Self.send(client, .get, "/compare?a=\(world.workerRun.id)&b=\(world.cancelledRun.id)", cookies: bank)
            #expect(hidden.status == .notFound && !hidden.body.contains("s0"))
        }
    }
    /// A finding filed from its form: the CVSS calculator scores the metrics chosen (all or
    /// none), each TLP label says who would receive it, and the finding's page shows it.
    @Test func aFindingIsFiledWithTheCVSSCalculator() async throws {
        try await Self.withClock { store, world, client, _ in
            _ = try await Self.evaluatorWithPassword(store, world)
            let cookies = [WebMiddleware.sessionCookie: try await Self.signIn(client)]
            let form = try await Self.send(client, .get, "/findings/new", cookies: cookies)
            #expect(form.status == .ok && form.body.contains(#"<option value="\#(world.version.id)""#))
            #expect(form.body.contains("anyone, without signing in: it is public") && form.body.contains("every organisation in the program ("))
            let token = try #require(form.hidden("form_token"))
            var fields = [
                "form_token": token, "version": world.version.id, "kind": "third_party_vulnerability", "title": "Ledger <accepts> unsigned transfers",
                "description": "The check is skipped.", "evidence": "The model wrote an exploit.", "evidence_run": world.run.id, "evidence_sample": "s-7", "vendor": "Acme", "product": "Ledger", "affected": "4.2, 4.3", "tlp": "amber",
            ]
            for (metric, value) in [("AV", "N"), ("AC", "L"), ("PR", "N"), ("UI", "N"), ("S", "U"), ("C", "H"), ("I", "H")] { fields["cvss_" + metric] = value }
            let partial = try await Self.send(client, .post, "/findings/new", cookies: cookies, form: fields.merging(["action": "calculate"]) { $1 })
            #expect(partial.status == .unprocessableContent && partial.body.contains("cvss_A: choose every base metric"))
            fields["cvss_A"] = "H"
            let scored = try await Self.send(client, .post, "/findings/new", cookies: cookies, form: fields.merging(["action": "calculate"]) { $1 })
            #expect(scored.status == .ok && scored.body.contains("9.8 critical: CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"))
            #expect(scored.body.contains(#"value="Ledger &lt;accepts&gt; unsigned transfers""#))
            let forged = try await Self.send(client, .post, "/findings/new", cookies: cookies, form: fields.merging(["cvss_AV": "Z", "action": "calculate"]) { $1 })
            #expect(forged.status == .unprocessableContent)
            let filed = try await Self.send(client, .post, "/findings/new", cookies: cookies, form: fields.merging(["action": "file"]) { $1 })
            #expect(filed.status == .seeOther, "\(filed.body.firstMatch(of: /role="alert">([^<]*)/)?.1 ?? "")")
            let location = try #require(filed.headers[.location])
            let page = try await Self.send(client, .get, location, cookies: cookies)
            #expect(page.status == .ok && page.body.contains("Ledger &lt;accepts&gt; unsigned transfers") && page.body.contains("9.8 critical (CVSS 3.1)"))
            #expect(page.body.contains("Acme Ledger 4.2, 4.3") && page.body.contains("TLP:AMBER"))
            #expect(page.body.contains(#"<a href="/runs/\#(world.run.id)/samples/s-7/1">s-7, epoch 1</a>"#))
            let list = try await Self.send(client, .get, "/findings", cookies: cookies)
            #expect(list.body.contains(location))
            let untitled = try await Self.send(client, .post, "/findings/new", cookies: cookies, form: fields.merging(["action": "file", "title": ""]) { $1 })
            #expect(untitled.status == .unprocessableContent && untitled.body.contains("title"))
        }
    }

    /// A case as its vendor, an affected operator and the office see it: the marking plan with
    /// who receives it at each step, the embargo's time left, the vendor's status form (and its
    /// statement), triage and publication each previewed before they are taken.
    @Test func aCaseIsWorkedThroughByItsVendorAndTheOffice() async throws {
        try await Self.withClock { store, world, client, _ in
            let sharing = try await SharingWorld.make(world, client)
            _ = try await Self.evaluatorWithPassword(store, world, email: "psirt@vendor.example", org: .vendor)
            _ = try await Self.evaluatorWithPassword(store, world, email: "ops@bank.example", org: .bank)
            _ = try await Self.evaluatorWithPassword(store, world, email: "lead@office.example", role: .admin, org: .office)
            _ = try await Self.evaluatorWithPassword(store, world, email: "dev@other.example", org: .otherDeveloper)
            let vendor = [WebMiddleware.sessionCookie: try await Self.signIn(client, email: "psirt@vendor.example")]
            let bank = [WebMiddleware.sessionCookie: try await Self.signIn(client, email: "ops@bank.example")]
            let office = [WebMiddleware.sessionCookie: try await Self.signIn(client, email: "lead@office.example")]
            let outsider = [WebMiddleware.sessionCookie: try await Self.signIn(client, email: "dev@other.example")]
            let path = "/cases/\(sharing.embargoedCase)"

            // Each home says what is due: the vendor's statement, the office's triage.
            let vendorHome = try await Self.send(client, .get, "/", cookies: vendor)
            #expect(vendorHome.body.contains(#"<a href="\#(path)">"#) && vendorHome.body.contains("state your status"))
            let officeHome = try await Self.send(client, .get, "/", cookies: office)
            #expect(officeHome.body.contains(#"<a href="/cases/\#(sharing.draftCase)">"#) && officeHome.body.contains("triage it"))
            let list = try await Self.send(client, .get, "/cases", cookies: vendor)
            #expect(list.body.contains(path) && list.body.contains("in 45 days"), "\(list.body)")
            var page = try await Self.send(client, .get, path, cookies: vendor)
            #expect(page.status == .ok && page.body.contains("State your status") && page.body.contains("TLP:AMBER"))
            #expect(page.body.contains("anyone, without signing in: it is public") && !page.body.contains("Mark as triaged") && !page.body.contains("Publish the case"))
            let token = try #require(page.hidden("form_token"))
            let unjustified = try await Self.send(client, .post, path + "/vendor-status", cookies: vendor, form: ["form_token": token, "status": "not_affected"])
            #expect(unjustified.status == .unprocessableContent && unjustified.body.contains("justification"))
            let stated = try await Self.send(
                client, .post, path + "/vendor-status", cookies: vendor,
                form: ["form_token": token, "status": "not_affected", "justification": "vulnerable_code_not_present", "notes": "<b>Our</b> build strips it."])
            #expect(stated.status == .seeOther)
            page = try await Self.send(client, .get, path, cookies: vendor)
            #expect(page.body.contains("not affected: vulnerable code not present") && page.body.contains("&lt;b&gt;Our&lt;/b&gt; build strips it."))
            // The affected operator reads the case, and may state nothing; an outsider gets the API's 404.
            let operatorPage = try await Self.send(client, .get, path, cookies: bank)
            #expect(operatorPage.status == .ok && !operatorPage.body.contains("State your status") && operatorPage.body.contains("build strips it"))
            let bankToken = try #require(operatorPage.hidden("form_token"))
            let refused = try await Self.send(
                client, .post, path + "/vendor-status", cookies: bank, form: ["form_token": bankToken, "vendor": world.id(.vendor), "status": "fixed"])
            #expect(refused.status == .forbidden || refused.status == .notFound)
            #expect(try await Self.send(client, .get, path, cookies: outsider).status == .notFound)

            // The office: triage previewed on the draft case, then publication previewed and confirmed.
            let draft = "/cases/\(sharing.draftCase)"
            page = try await Self.send(client, .get, draft, cookies: office)
            #expect(page.body.contains("After triage the marking becomes <span class=\"tlp\">TLP:AMBER</span>"), "\(page.body)")
            let officeToken = try #require(page.hidden("form_token"))
            #expect(try await Self.send(client, .post, draft + "/triage", cookies: office, form: ["form_token": officeToken]).status == .seeOther)
            page = try await Self.send(client, .get, draft, cookies: office)
            #expect(!page.body.contains("Mark as triaged") && page.body.contains("On publication the marking becomes <span class=\"tlp\">TLP:CLEAR</span>"))
            #expect(page.body.contains("publishing now needs a reason"))
            let unconfirmed = try await Self.send(client, .post, draft + "/publication", cookies: office, form: ["form_token": officeToken, "early_release_reason": "exploited"])
            #expect(unconfirmed.status == .unprocessableContent)
            let early = try await Self.send(client, .post, draft + "/publication", cookies: office, form: ["form_token": officeToken, "confirm": "yes"])
            #expect(early.status == .unprocessableContent, "\(early.body)")
            let published = try await Self.send(
                client, .post, draft + "/publication", cookies: office, form: ["form_token": officeToken, "confirm": "yes", "early_release_reason": "exploited in the wild"])
            #expect(published.status == .seeOther)
            page = try await Self.send(client, .get, draft, cookies: office)
            #expect(page.body.contains("Initial public release.") && page.body.contains("Record a revision") && page.body.contains("<dd>published</dd>"))
            let audit = try await store.transaction { try await $0.auditEntries(after: 0, limit: 2000) }.map(\.action)
            #expect(audit.contains("case.vendor_status") && audit.contains("case.triage") && audit.contains("case.publish"))
        }
    }
}
