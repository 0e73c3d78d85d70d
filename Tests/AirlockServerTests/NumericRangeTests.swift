import AirlockCore
import AirlockServer
import Foundation
import HTTPTypes
import Testing

/// Every number the API reads has a range, checked at the edge with a 400 naming the field;
/// dates stay within the years 0001 to 9999, derived ones included.
@Suite struct NumericRangeTests {
    static func grant(_ world: ProgramWorld, _ extra: String) -> String {
        #"{"version_id":"\#(world.version.id)","grantee_id":"\#(world.id(.bank))","purpose":"infrastructure_defence","starts_at":"2027-01-16T00:00:00Z","ends_at":"2027-02-01T00:00:00Z","#
            + extra + "}"
    }

    static let refusedGrants: [(field: String, body: String)] = [
        ("token_quota", #""token_quota":9223372036854775807,"requests_per_minute":10"#),
        ("token_quota", #""token_quota":0,"requests_per_minute":10"#),
        ("requests_per_minute", #""token_quota":1000,"requests_per_minute":0"#),
        ("requests_per_minute", #""token_quota":1000,"requests_per_minute":9223372036854775807"#),
        ("tokens_per_minute", #""token_quota":1000,"requests_per_minute":10,"tokens_per_minute":9223372036854775807"#),
        ("tokens_per_minute", #""token_quota":1000,"requests_per_minute":10,"tokens_per_minute":-1"#),
        ("max_concurrent", #""token_quota":1000,"requests_per_minute":10,"max_concurrent":1000000"#),
        ("max_concurrent", #""token_quota":1000,"requests_per_minute":10,"max_concurrent":0"#),
    ]

    @Test func grantNumbersOutOfRangeAreRefusedNamingTheField() async throws {
        try await withProgramAPI { world, client in
            let office = world.member(.office, .admin)
            for (field, body) in Self.refusedGrants {
                let reply = try await client.call(.post, "/api/v1/grants", as: office, json: Self.grant(world, body))
                #expect(reply.status == .badRequest, "\(body): \(reply.body)")
                #expect(SignInAndDisclosureTests.json(reply.body)["field"] as? String == field, "\(body): \(reply.body)")
            }
            let largest = try await client.call(
                .post, "/api/v1/grants", as: office,
                json: Self.grant(
                    world, #""token_quota":1000000000000,"requests_per_minute":100000,"tokens_per_minute":1000000000,"max_concurrent":1000"#))
            #expect(largest.status == .created, "\(largest.body)")
        }
    }

    @Test func aReleaseWhoseAccessWouldEndAfterYear9999IsRefused() async throws {
        try await withProgramAPI { world, client in
            let developer = world.member(.developer, .admin)
            let path = "/api/v1/models/\(world.model.id)/versions"
            let late = try await client.call(.post, path, as: developer, json: #"{"version":"9.9","planned_release_at":"9999-12-31T00:00:00Z"}"#)
            #expect(late.status == .unprocessableContent, "\(late.body)")
            #expect(SignInAndDisclosureTests.json(late.body)["field"] as? String == "planned_release_at")
            #expect(!late.body.contains("10000-"))
            let yearZero = try await client.call(.post, path, as: developer, json: #"{"version":"0.0","planned_release_at":"0000-06-01T00:00:00Z"}"#)
            #expect(yearZero.status == .badRequest, "\(yearZero.body)")
            #expect(SignInAndDisclosureTests.json(yearZero.body)["field"] as? String == "planned_release_at")
        }
    }

    @Test func overLongTextsThatReachTheLogAreRefusedNamingTheField() async throws {
        try await withProgramAPI { world, client in
            let long = String(repeating: "x", count: 2_001)
            let run = try await client.call(
                .post, "/api/v1/versions/\(world.version.id)/runs", as: world.member(.evaluator, .member),
                json: #"{"kind":"eval","name":"cyber","source_id":"\#(long)"}"#)
            #expect(run.status == .unprocessableContent, "\(run.body)")
            #expect(SignInAndDisclosureTests.json(run.body)["field"] as? String == "source_id")
            let endpoint = try await client.call(
                .put, "/api/v1/versions/\(world.version.id)/endpoint", as: world.member(.developer, .admin),
                json: #"{"endpoint_model":"\#(long)"}"#)
            #expect(endpoint.status == .unprocessableContent, "\(endpoint.body)")
            #expect(SignInAndDisclosureTests.json(endpoint.body)["field"] as? String == "endpoint_model")
            let moved = try await client.call(
                .post, "/api/v1/versions/\(world.version.id)/transitions", as: world.member(.office, .admin),
                json: #"{"to":"assessed","reason":"\#(long)"}"#)
            #expect(moved.status == .unprocessableContent, "\(moved.body)")
            #expect(SignInAndDisclosureTests.json(moved.body)["field"] as? String == "reason")
        }
    }
}
