import AirlockCore
import AirlockServer
import AirlockStore
import AirlockTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Prometheus
import SQLKit
import Testing

/// One review cycle through the API, and the rules along it, on each back end.
@Suite struct ReviewCycleTests {
    static func json(_ body: String) throws -> [String: Any] {
        try #require(JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])
    }

    @Test(arguments: TestBackend.all)
    func noticeGrantConsentKeyAndRevocation(backend: TestBackend) async throws {
        try await withProgramAPI(backend: backend) { world, client in
            let developer = world.member(.developer, .admin)
            let office = world.member(.office, .admin)
            let bank = world.member(.bank, .admin)

            // A notice 30 days before release is accepted and flagged late (the period is 90 days).
            let late = try await client.call(
                .post, "/api/v1/models/\(world.model.id)/versions", as: developer,
                json: #"{"version":"1.1","planned_release_at":"2027-02-15T00:00:00Z","capabilities":["agentic coding"]}"#)
            #expect(late.status == .created)
            let notice = try Self.json(late.body)
            #expect(notice["late_notice"] as? Bool == true)
            #expect(notice["state"] as? String == "notified")
            let versionId = try #require(notice["id"] as? String)
            #expect(late.headers[.location] == "/api/v1/versions/\(versionId)")

            // The bank has no relation yet: the version does not exist for it.
            #expect(try await client.call(.get, "/api/v1/versions/\(versionId)", as: bank).status == .notFound)

            // An invalid transition is refused with the reason.
            let skip = try await client.call(
                .post, "/api/v1/versions/\(versionId)/transitions", as: office, json: #"{"to":"assessed"}"#)
            #expect(skip.status == .unprocessableContent)
            #expect(skip.body.contains("cannot move from notified to assessed"))
            #expect(
                try await client.call(.post, "/api/v1/versions/\(versionId)/transitions", as: office, json: #"{"to":"in_review"}"#)
                    .status == .ok)

            // A grant must end by release plus the grace period (14 days).
            let tooLong = try await client.call(
                .post, "/api/v1/grants", as: office,
                json: #"{"version_id":"\#(versionId)","grantee_id":"\#(world.id(.bank))","purpose":"infrastructure_defence","starts_at":"2027-01-17T00:00:00Z","ends_at":"2027-03-15T00:00:00Z","token_quota":5000,"requests_per_minute":30}"#)
            #expect(tooLong.status == .unprocessableContent)
            #expect(try Self.json(tooLong.body)["field"] as? String == "ends_at")

            let created = try await client.call(
                .post, "/api/v1/grants", as: office,
                json: #"{"version_id":"\#(versionId)","grantee_id":"\#(world.id(.bank))","purpose":"infrastructure_defence","starts_at":"2027-01-17T00:00:00Z","ends_at":"2027-03-01T00:00:00Z","token_quota":5000,"requests_per_minute":30}"#)
            #expect(created.status == .created)
            let grantId = try #require(try Self.json(created.body)["id"] as? String)
            #expect(try Self.json(created.body)["status"] as? String == "pending")

            // Proposed, the bank sees its grant but not yet the version, and gets no key until both sides said yes.
            #expect(try await client.call(.get, "/api/v1/grants/\(grantId)", as: bank).status == .ok)
            #expect(try await client.call(.get, "/api/v1/versions/\(versionId)", as: bank).status == .notFound)
            let early = try await client.call(.post, "/api/v1/grants/\(grantId)/keys", as: bank, json: #"{"name":"soc"}"#)
            #expect(early.status == .unprocessableContent)
            #expect(try await client.call(.post, "/api/v1/grants/\(grantId)/approval", as: office, json: "{}").status == .ok)
            #expect(try await client.call(.post, "/api/v1/grants/\(grantId)/approval", as: office, json: "{}").status == .unprocessableContent)
            let consented = try await client.call(.post, "/api/v1/grants/\(grantId)/consent", as: developer, json: "{}")
            #expect(try Self.json(consented.body)["status"] as? String == "active")
            #expect(try await client.call(.get, "/api/v1/versions/\(versionId)", as: bank).status == .ok)

            let issued = try await client.call(.post, "/api/v1/grants/\(grantId)/keys", as: bank, json: #"{"name":"soc"}"#)
            #expect(issued.status == .created)
            let secret = try #require(try Self.json(issued.body)["secret"] as? String)
            #expect(secret.hasPrefix("alg_"))
            // Shown once: the list of keys carries no secret, and a grant key does not open the program API.
            let keys = try await client.call(.get, "/api/v1/grants/\(grantId)/keys", as: bank)
            #expect(!keys.body.contains(secret))
            #expect(try await client.call(.get, "/api/v1/me", as: .init(user: bank.user, key: secret)).status == .unauthorized)

            // Revocation by the developer is at once and takes the keys with it.
            let revoked = try await client.call(.post, "/api/v1/grants/\(grantId)/revocation", as: developer, json: #"{"reason":"leak"}"#)
            #expect(try Self.json(revoked.body)["status"] as? String == "revoked")
            let afterKeys = try await client.call(.get, "/api/v1/grants/\(grantId)/keys", as: world.member(.office, .viewer))
            let listed = try #require(try Self.json(afterKeys.body)["items"] as? [[String: Any]])
            #expect(listed.count == 1 && listed.allSatisfy { $0["revoked_at"] != nil })
            #expect(try await client.call(.post, "/api/v1/grants/\(grantId)/consent", as: developer, json: "{}").status == .unprocessableContent)
            // With the grant revoked, the bank's relation is gone again.
            #expect(try await client.call(.get, "/api/v1/versions/\(versionId)", as: bank).status == .notFound)
        }
    }

    @Test(arguments: TestBackend.all)
    func endpointCredentialsAreSealedAndNeverReturned(backend: TestBackend) async throws {
        let plaintext = "sk-live-\(UUID().uuidString)"
        try await backend.withFreshStore { store in
            let world = try await ProgramWorld.make(in: store)
            let api = ProgramAPI(store: store, configuration: ServerConfiguration(), now: { world.now.addingTimeInterval(86_400) })
            let app = testApplication(api)
            try await app.test(.router) { client in
                let put = try await client.call(
                    .put, "/api/v1/versions/\(world.version.id)/endpoint", as: world.member(.developer, .member),
                    json: #"{"endpoint_url":"https://models.example/v1","endpoint_model":"frontier-1","endpoint_credentials":"\#(plaintext)"}"#)
                #expect(put.status == .ok)
                #expect(!put.body.contains(plaintext))
                #expect(try Self.json(put.body)["has_endpoint_credentials"] as? Bool == true)
                for member in [world.member(.developer, .admin), world.member(.office, .admin), world.member(.evaluator, .admin)] {
                    let read = try await client.call(.get, "/api/v1/versions/\(world.version.id)", as: member)
                    #expect(read.status == .ok && !read.body.contains(plaintext))
                }
                let audit = try await client.call(.get, "/api/v1/audit?limit=200", as: world.member(.office, .admin))
                #expect(!audit.body.contains(plaintext))
            }
            let sealed = try await store.transaction { try await $0.sealedCredentials(versionId: world.version.id) }
            let stored = try #require(sealed)
            #expect(!stored.contains(plaintext))
            #expect(try store.sealer?.open(stored, context: world.version.id) == plaintext)
        }
    }

    @Test(arguments: TestBackend.all)
    func idempotencyKeyReplaysAndRefusesReuse(backend: TestBackend) async throws {
        try await withProgramAPI(backend: backend) { world, client in
            let office = world.member(.office, .admin)
            let key: HTTPFields = [HTTPField.Name("Idempotency-Key")!: "create-cert-1"]
            let body = #"{"name":"National CERT","kind":"evaluator"}"#
            let first = try await client.call(.post, "/api/v1/organisations", as: office, json: body, headers: key)
            let second = try await client.call(.post, "/api/v1/organisations", as: office, json: body, headers: key)
            #expect(first.status == .created && second.status == .created)
            #expect(first.body == second.body)
            #expect(second.headers[HTTPField.Name("Idempotent-Replayed")!] == "true")
            let other = try await client.call(
                .post, "/api/v1/organisations", as: office, json: #"{"name":"Another","kind":"vendor"}"#, headers: key)
            #expect(other.status == .unprocessableContent)
            let list = try await client.call(.get, "/api/v1/organisations?limit=200", as: office)
            #expect(list.body.components(separatedBy: "National CERT").count == 2)
            // Without a key, a second create is a conflict, not a duplicate.
            #expect(try await client.call(.post, "/api/v1/organisations", as: office, json: body).status == .conflict)
        }
    }

    @Test func everyWriteAndSensitiveReadIsAudited() async throws {
        try await withProgramAPI { world, client in
            let office = world.member(.office, .admin)
            let evaluator = world.member(.evaluator, .viewer)
            _ = try await client.call(.get, "/api/v1/versions/\(world.version.id)", as: evaluator)
            _ = try await client.call(.get, "/api/v1/grants/\(world.grant.id)", as: evaluator)
            _ = try await client.call(.get, "/api/v1/runs/\(world.run.id)", as: evaluator)
            _ = try await client.call(.post, "/api/v1/versions/\(world.version.id)/transitions", as: office, json: #"{"to":"assessed"}"#)
            let page = try await client.call(.get, "/api/v1/audit?limit=200", as: office)
            let entries = try #require(try Self.json(page.body)["entries"] as? [[String: Any]])
            func has(_ action: String, by user: String) -> Bool {
                entries.contains { $0["action"] as? String == action && $0["actor_user_id"] as? String == user }
            }
            #expect(has("version.read", by: evaluator.user.id))
            #expect(has("grant.read", by: evaluator.user.id))
            #expect(has("run.read", by: evaluator.user.id))
            #expect(has("version.transition", by: office.user.id))
        }
    }

    @Test func listsPageByCursorAndRefuseBadParameters() async throws {
        try await withProgramAPI { world, client in
            let office = world.member(.office, .viewer)
            var seen: [String] = []
            var cursor: String?
            repeat {
                let path = "/api/v1/organisations?limit=4" + (cursor.map { "&cursor=\($0)" } ?? "")
                let page = try Self.json(try await client.call(.get, path, as: office).body)
                seen += (page["items"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
                cursor = page["next_cursor"] as? String
            } while cursor != nil
            #expect(seen.count == Org.allCases.count)
            #expect(Set(seen).count == seen.count)
            #expect(seen == seen.sorted())
            let bad = try await client.call(.get, "/api/v1/organisations?limit=500", as: office)
            #expect(bad.status == .badRequest)
            #expect(try Self.json(bad.body)["field"] as? String == "limit")
            let forged = try await client.call(.get, "/api/v1/organisations?cursor=bm90LWFuLWlk", as: office)
            #expect(forged.status == .badRequest)
            #expect(try Self.json(forged.body)["field"] as? String == "cursor")
            let missing = try await client.call(.post, "/api/v1/models", as: world.member(.developer, .member), json: #"{"description":"x"}"#)
            #expect(missing.status == .badRequest)
            #expect(try Self.json(missing.body)["field"] as? String == "name")
        }
    }

    @Test func signInSessionAndSignOut() async throws {
        try await TestBackend.sqlite.withFreshStore { store in
            let boot = try await ProgramBootstrap.createProgramOffice(
                in: store, name: "Office", email: "Chief@Office.example", userName: "Chief", password: "correct horse battery")
            let api = ProgramAPI(store: store, configuration: ServerConfiguration())
            let app = testApplication(api)
            try await app.test(.router) { client in
                let wrong = try await client.call(
                    .post, "/api/v1/sessions", as: nil, json: #"{"email":"chief@office.example","password":"wrong password!"}"#)
                #expect(wrong.status == .unauthorized)
                let nobody = try await client.call(
                    .post, "/api/v1/sessions", as: nil, json: #"{"email":"nobody@office.example","password":"wrong password!"}"#)
                #expect(nobody.body == wrong.body)
                let signedIn = try await client.call(
                    .post, "/api/v1/sessions", as: nil, json: #"{"email":"chief@office.example","password":"correct horse battery"}"#)
                #expect(signedIn.status == .created)
                let token = try #require(try Self.json(signedIn.body)["token"] as? String)
                let session = ProgramWorld.Member(user: boot.user, key: token)
                #expect(try await client.call(.get, "/api/v1/me", as: session).status == .ok)
                #expect(try await client.call(.delete, "/api/v1/sessions/current", as: session).status == .noContent)
                #expect(try await client.call(.get, "/api/v1/me", as: session).status == .unauthorized)
                // The bootstrap key still works, and a second program office is refused.
                #expect(try await client.call(.get, "/api/v1/me", as: .init(user: boot.user, key: boot.secret)).status == .ok)
            }
            await #expect(throws: ProgramRuleError.self) {
                try await ProgramBootstrap.createProgramOffice(in: store, name: "Second", email: "a@b.example", userName: "A")
            }
        }
    }

    @Test func healthAndMetrics() async throws {
        try await withProgramAPI { world, client in
            #expect(try await client.call(.get, "/healthz", as: nil).status == .ok)
            _ = try await client.call(.get, "/api/v1/me", as: world.member(.vendor, .viewer))
            let metrics = try await client.call(.get, "/metrics", as: nil)
            #expect(metrics.status == .ok)
            #expect(metrics.body.contains(#"airlock_http_requests_total{method="GET",route="/api/v1/me",status="200"} 1"#))
        }
    }
}

extension ReviewCycleTests {
    /// A key's secret is shown once: never stored with its idempotency key, and a replay is refused.
    @Test func keySecretsAreNotKeptForReplays() async throws {
        try await TestBackend.sqlite.withFreshStore { store in
            let world = try await ProgramWorld.make(in: store)
            let api = ProgramAPI(store: store, configuration: ServerConfiguration(), now: { world.now.addingTimeInterval(86_400) })
            let app = testApplication(api)
            let headers: HTTPFields = [HTTPField.Name("Idempotency-Key")!: "issue-1"]
            let secrets = try await app.test(.router) { client in
                let member = world.member(.evaluator, .admin)
                let first = try await client.call(.post, "/api/v1/me/keys", as: member, json: #"{"name":"ci"}"#, headers: headers)
                let replay = try await client.call(.post, "/api/v1/me/keys", as: member, json: #"{"name":"ci"}"#, headers: headers)
                #expect(first.status == .created)
                #expect(replay.status == .conflict)
                let grantKey = try await client.call(.post, "/api/v1/grants/\(world.grant.id)/keys", as: member, json: #"{"name":"range"}"#, headers: [HTTPField.Name("Idempotency-Key")!: "issue-2"])
                return [try #require(try Self.json(first.body)["secret"] as? String), try #require(try Self.json(grantKey.body)["secret"] as? String)]
            }
            let stored = try await store.database.withSession { sql in
                try await sql.raw("SELECT body FROM idempotency_keys").all().map { try $0.decode(column: "body", as: String.self) }
            }
            #expect(stored.count == 2)
            for secret in secrets { #expect(!stored.contains { $0.contains(secret) }) }
        }
    }
}

extension ReviewCycleTests {
    /// A probe of a hidden object is refused with 404 and still leaves an audit entry.
    @Test func refusedRequestsAreAudited() async throws {
        try await withProgramAPI { world, client in
            let bank = world.member(.bank, .admin)
            #expect(try await client.call(.get, "/api/v1/versions/\(world.version.id)", as: bank).status == .notFound)
            #expect(try await client.call(.post, "/api/v1/organisations", as: bank, json: #"{"name":"x","kind":"vendor"}"#).status == .forbidden)
            let page = try await client.call(.get, "/api/v1/audit?limit=200", as: world.member(.office, .admin))
            let entries = try #require(try Self.json(page.body)["entries"] as? [[String: Any]])
            let refused = entries.filter { $0["action"] as? String == "access.refused" && $0["actor_user_id"] as? String == bank.user.id }
            #expect(refused.count == 2)
            #expect(refused.contains { ($0["detail"] as? String)?.contains(world.version.id) == true })
        }
    }
}

extension ReviewCycleTests {
    /// Input the store could not keep faithfully is refused with 400 naming the field.
    @Test func malformedInputIsRefused() async throws {
        try await withProgramAPI { world, client in
            let member = world.member(.evaluator, .admin)
            for bad in ["2027-02-30T00:00:00Z", "2027-01-01T24:00:00Z", "2027-01-01T12:99:00Z", "9999-12-31T23:00:00-05:00", "2027-01-01"] {
                let response = try await client.call(.post, "/api/v1/me/keys", as: member, json: #"{"name":"k","expires_at":"\#(bad)"}"#)
                #expect(response.status == .badRequest, "\(bad)")
                #expect(try Self.json(response.body)["field"] as? String == "expires_at")
            }
            let lower = try await client.call(.post, "/api/v1/me/keys", as: member, json: #"{"name":"k","expires_at":"2030-01-01t00:00:00.5z"}"#)
            #expect(lower.status == .created)
            #expect(try Self.json(lower.body)["key"].flatMap { ($0 as? [String: Any])?["expires_at"] as? String } == "2030-01-01T00:00:00.500Z")
            let nul = try await client.call(.post, "/api/v1/me/keys", as: member, json: #"{"name":"a\u0000b"}"#)
            #expect(nul.status == .badRequest)
            #expect(try await client.call(.get, "/api/v1/grants?version_id=%00", as: member).status == .badRequest)
            // A decision needs no body.
            let approval = try await client.call(.post, "/api/v1/grants/\(world.pendingGrant.id)/approval", as: world.member(.office, .admin))
            #expect(approval.status == .ok)
        }
    }

    /// A stale token does not lock anyone out of the public routes, signing in included.
    @Test func publicRoutesIgnoreABadToken() async throws {
        try await withProgramAPI { world, client in
            let stale = ProgramWorld.Member(user: world.member(.bank, .admin).user, key: "als_STALE")
            #expect(try await client.call(.get, "/healthz", as: stale).status == .ok)
            #expect(try await client.call(.get, "/api/v1/openapi.json", as: stale).status == .ok)
            #expect(try await client.call(.get, "/metrics", as: stale).status == .ok)
            let signIn = try await client.call(.post, "/api/v1/sessions", as: stale, json: #"{"email":"x@y.example","password":"nope nope nope"}"#)
            #expect(signIn.status == .unauthorized)
            #expect(signIn.body.contains("sign-in-failed"))
            #expect(try await client.call(.get, "/api/v1/me", as: stale).status == .unauthorized)
        }
    }
}
