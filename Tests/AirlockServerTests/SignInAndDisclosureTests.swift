import AirlockCore
import AirlockServer
import AirlockStore
import AirlockTestSupport
import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

/// Sign-in under attack (over-long fields, guessing) and what other organisations may learn.
@Suite struct SignInAndDisclosureTests {
    static func json(_ body: String) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any] ?? [:]
    }

    static func signIn(_ client: any TestClientProtocol, email: String, password: String = "not the password at all")
        async throws -> (status: HTTPResponse.Status, body: String, headers: HTTPFields)
    {
        let body = String(decoding: try JSONSerialization.data(withJSONObject: ["email": email, "password": password]), as: UTF8.self)
        return try await client.call(.post, "/api/v1/sessions", as: nil, json: body)
    }

    @Test func anOverLongEmailIsRefusedAtTheEdgeAndNeverLogged() async throws {
        try await withSharingAPI { world, store, clock, client in
            let huge = String(repeating: "a", count: 1_000_000) + "@example.org"
            let refused = try await Self.signIn(client, email: huge)
            #expect(refused.status == .badRequest, "\(refused.body.prefix(300))")
            #expect(Self.json(refused.body)["field"] as? String == "email")
            let longPassword = try await Self.signIn(client, email: "admin@bank.example", password: String(repeating: "p", count: 100_000))
            #expect(longPassword.status == .badRequest)
            #expect(Self.json(longPassword.body)["field"] as? String == "password")
            let entries = try await SharingAPITests.actions(store)
            #expect(!entries.contains { $0.action == "session.refused" })
            #expect(entries.allSatisfy { $0.detail.utf8.count < 4_096 })
        }
    }

    @Test func wrongPasswordsAreSlowedDownPerAccount() async throws {
        try await withSharingAPI { world, store, clock, client in
            let email = "admin@bank.example"
            for _ in 0..<5 { #expect(try await Self.signIn(client, email: email).status == .unauthorized) }
            let throttled = try await Self.signIn(client, email: email)
            #expect(throttled.status == .tooManyRequests, "\(throttled.body)")
            #expect(throttled.headers[.retryAfter] == "1")
            #expect(throttled.headers[.contentType] == "application/problem+json")
            #expect(Self.json(throttled.body)["type"] as? String == "urn:airlock:problem:sign-in-throttled")
            // A refused try is not logged: five refusals, no more.
            #expect(try await SharingAPITests.actions(store).filter { $0.action == "session.refused" }.count == 5)
            // Another account from the same address is not held back yet.
            #expect(try await Self.signIn(client, email: "viewer@bank.example").status == .unauthorized)

            clock.advance(days: 1.5 / 86_400)
            #expect(try await Self.signIn(client, email: email).status == .unauthorized)
            let doubled = try await Self.signIn(client, email: email)
            #expect(doubled.status == .tooManyRequests)
            #expect(doubled.headers[.retryAfter] == "2")
        }
    }

    @Test func onlyTheDeveloperAndTheOfficeSeeTheEndpoint() async throws {
        try await withProgramAPI { world, client in
            let set = try await client.call(
                .put, "/api/v1/versions/\(world.version.id)/endpoint", as: world.member(.developer, .admin),
                json: #"{"endpoint_url":"https://models.internal.example/v1","endpoint_model":"frontier-rc3"}"#)
            #expect(set.status == .ok, "\(set.body)")
            for (org, sees) in [(Org.developer, true), (.office, true), (.evaluator, false)] {
                for path in ["/api/v1/versions/\(world.version.id)", "/api/v1/models/\(world.model.id)/versions"] {
                    let read = try await client.call(.get, path, as: world.member(org, .viewer))
                    #expect(read.status == .ok, "\(org) \(path): \(read.body)")
                    #expect(read.body.contains("models.internal.example") == sees, "\(org) \(path)")
                    #expect(read.body.contains("frontier-rc3") == sees, "\(org) \(path)")
                }
            }
        }
    }

    @Test(arguments: TestBackend.all)
    func aRunSourceIdOfAnotherOrganisationDoesNotConflict(backend: TestBackend) async throws {
        try await withProgramAPI(backend: backend) { world, client in
            let path = "/api/v1/versions/\(world.version.id)/runs"
            let body = #"{"kind":"eval","name":"cyber","source_id":"inspect-log-7"}"#
            #expect(try await client.call(.post, path, as: world.member(.evaluator, .member), json: body).status == .created)
            let office = try await client.call(.post, path, as: world.member(.office, .member), json: body)
            #expect(office.status == .created, "\(office.body)")
            #expect(try await client.call(.post, path, as: world.member(.evaluator, .member), json: body).status == .conflict)
        }
    }

    @Test(arguments: TestBackend.all)
    func anEmailOfAnotherOrganisationDoesNotConflict(backend: TestBackend) async throws {
        try await withProgramAPI(backend: backend) { world, client in
            func create(_ org: Org, password: String) async throws -> HTTPResponse.Status {
                try await client.call(
                    .post, "/api/v1/organisations/\(world.id(org))/users", as: world.member(org, .admin),
                    json: #"{"email":"Analyst@Shared.example","name":"Analyst","role":"member","password":"\#(password)"}"#
                ).status
            }
            #expect(try await create(.bank, password: "bank password 1") == .created)
            #expect(try await create(.evaluator, password: "institute password 2") == .created)
            #expect(try await create(.evaluator, password: "institute password 3") == .conflict)
            // Each password opens its own organisation's account.
            for (password, org) in [("bank password 1", Org.bank), ("institute password 2", .evaluator)] {
                let session = try await Self.signIn(client, email: "analyst@shared.example", password: password)
                #expect(session.status == .created, "\(session.body)")
                #expect((Self.json(session.body)["organisation"] as? [String: Any])?["id"] as? String == world.id(org))
            }
            #expect(try await Self.signIn(client, email: "analyst@shared.example", password: "institute password 3").status == .unauthorized)
        }
    }
}
