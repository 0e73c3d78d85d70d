import AirlockAPI
import AirlockCore
@testable import AirlockServer
import AirlockTestSupport
import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

/// What `POST /versions/{id}/runs` with an execution accepts: role models with sealed keys, an
/// assessment's suites, and a problem naming the field for anything else.
struct RunSubmissionTests {
    static func body(_ world: ProgramWorld, kind: String = "eval", summary: String? = nil, execution: String) -> String {
        let digest = world.workerRun.execution!.bundleDigest
        let summary = summary.map { #","summary":\#($0)"# } ?? ""
        return #"{"kind":"\#(kind)","name":"n"\#(summary),"execution":{"bundle_digest":"\#(digest)","grant_id":"\#(world.grant.id)",\#(execution)}}"#
    }

    /// A role's key goes in once: the run shows the role without it, and only the run's worker
    /// gets it back, in its assignment.
    @Test func aRoleModelsKeyIsShownOnlyToTheRunsWorker() async throws {
        try await withProgramAPI { world, client in
            let execution = #""task_path":"task.yaml","attempts":[{"sample_id":"s1","epoch":1}],"roles":{"grader":{"model":"openai/judge","base_url":"https://judge.example/v1","api_key":"sk-judge-1"}}"#
            let created = try await client.call(
                .post, "/api/v1/versions/\(world.version.id)/runs", as: world.member(.evaluator, .member), json: Self.body(world, execution: execution))
            #expect(created.status == .created, "\(created.body)")
            #expect(!created.body.contains("sk-judge-1"))
            let run = try APIJSON.decoder.decode(StoredRun.self, from: Data(created.body.utf8))
            #expect(run.execution?.roles == ["grader": RunRole(model: "openai/judge", baseUrl: "https://judge.example/v1", keyed: true)])
            let read = try await client.call(.get, "/api/v1/runs/\(run.id)", as: world.member(.evaluator, .viewer))
            #expect(read.status == .ok && !read.body.contains("sk-judge-1"))
            let assigned = try await client.call(.post, "/api/v1/runs/\(run.id)/assignments", as: world.member(.office, .worker), json: "{}")
            #expect(assigned.status == .created, "\(assigned.body)")
            let assignment = try APIJSON.decoder.decode(RunAssignmentView.self, from: Data(assigned.body.utf8))
            #expect(assignment.roleKeys == ["grader": "sk-judge-1"])
            #expect(assignment.execution.roles?["grader"]?.model == "openai/judge")
        }
    }

    /// A run may plan as many attempts as the rule allows, and its submission carries each of
    /// them: a body of 100,000 attempts is read (it once met the API's 1 MiB limit), one more
    /// attempt is refused naming the field.
    @Test func aRunOfTheMostAttemptsIsSubmitted() async throws {
        try await withProgramAPI { world, client in
            func attempts(_ count: Int) -> String {
                #""task_path":"task.yaml","attempts":["# + (0..<count).map { #"{"sample_id":"sample-\#($0)","epoch":1}"# }.joined(separator: ",") + "]"
            }
            let most = ProgramAPI.maximumPlannedAttempts
            let created = try await client.call(
                .post, "/api/v1/versions/\(world.version.id)/runs", as: world.member(.evaluator, .member), json: Self.body(world, execution: attempts(most)))
            #expect(created.status == .created, "\(created.body.prefix(300))")
            #expect(try APIJSON.decoder.decode(StoredRun.self, from: Data(created.body.utf8)).execution?.plannedAttempts == most)
            let refused = try await client.call(
                .post, "/api/v1/versions/\(world.version.id)/runs", as: world.member(.evaluator, .member), json: Self.body(world, execution: attempts(most + 1)))
            #expect(refused.status == .unprocessableContent && refused.body.contains("execution.attempts"), "\(refused.body.prefix(300))")
        }
    }

    /// Each bad submission is refused with 422 and the field at fault; nothing is stored.
    @Test(arguments: [
        (#""task_path":"t.yaml","attempts":[{"sample_id":"s1","epoch":1}],"roles":{"Grader!":{"model":"openai/j","base_url":"https://j.example"}}"#, "eval", nil, "execution.roles.Grader!"),
        (#""task_path":"t.yaml","attempts":[{"sample_id":"s1","epoch":1}],"roles":{"grader":{"model":"judge","base_url":"https://j.example"}}"#, "eval", nil, "execution.roles.grader.model"),
        (#""task_path":"t.yaml","attempts":[{"sample_id":"s1","epoch":1}],"roles":{"grader":{"model":"openai/j","base_url":"file:///etc/passwd"}}"#, "eval", nil, "execution.roles.grader.base_url"),
        (#""task_path":"t.yaml","attempts":[{"sample_id":"s1","epoch":1}],"epochs":0"#, "eval", nil, "execution.epochs"),
        (#""task_path":"t.yaml","attempts":[{"sample_id":"s1","epoch":1}],"suites":[]"#, "eval", nil, "execution.suites"),
        (#""task_path":"p.yaml","attempts":[]"#, "assessment", "{}", "execution.suites"),
        (#""task_path":"p.yaml","attempts":[{"sample_id":"s1","epoch":1}],"suites":[{"suite":"a","task_path":"t.yaml","attempts":[{"sample_id":"s1","epoch":1}]}]"#, "assessment", "{}", "execution.attempts"),
        (#""task_path":"p.yaml","attempts":[],"suites":[{"suite":"a","task_path":"t.yaml","attempts":[{"sample_id":"s1","epoch":1}]}]"#, "assessment", nil, "summary"),
        (#""task_path":"p.yaml","attempts":[],"suites":[{"suite":"a","task_path":"t.yaml","attempts":[{"sample_id":"s1","epoch":1}]},{"suite":"a","task_path":"t.yaml","attempts":[{"sample_id":"s1","epoch":1}]}]"#, "assessment", "{}", "execution.suites[1].suite"),
        (#""task_path":"p.yaml","attempts":[],"suites":[{"suite":"a","task_path":"../t.yaml","attempts":[{"sample_id":"s1","epoch":1}]}]"#, "assessment", "{}", "execution.suites[0].task_path"),
        (#""task_path":"p.yaml","attempts":[],"suites":[{"suite":"a","task_path":"t.yaml","attempts":[]}]"#, "assessment", "{}", "execution.suites[0].attempts"),
    ] as [(String, String, String?, String)])
    func aBadSubmissionNamesItsField(execution: String, kind: String, summary: String?, field: String) async throws {
        try await withProgramAPI { world, client in
            let before = try await client.call(.get, "/api/v1/versions/\(world.version.id)/runs", as: world.member(.evaluator, .viewer))
            let refused = try await client.call(
                .post, "/api/v1/versions/\(world.version.id)/runs", as: world.member(.evaluator, .member),
                json: Self.body(world, kind: kind, summary: summary, execution: execution))
            #expect(refused.status == .unprocessableContent, "\(refused.body)")
            let problem = try APIJSON.decoder.decode(Problem.self, from: Data(refused.body.utf8))
            #expect(problem.field == field, "\(refused.body)")
            let after = try await client.call(.get, "/api/v1/versions/\(world.version.id)/runs", as: world.member(.evaluator, .viewer))
            #expect(after.body == before.body)
        }
    }

    /// An assessment is stored as its own run (its plan as summary) and a run per suite,
    /// linked both ways; its own run takes no worker.
    @Test func anAssessmentIsStoredWithARunPerSuite() async throws {
        try await withProgramAPI { world, client in
            let execution = #""task_path":"policy.yaml","attempts":[],"suites":[{"suite":"words","task_path":"task.yaml","attempts":[{"sample_id":"s1","epoch":1},{"sample_id":"s2","epoch":1}],"limit":2},{"suite":"graded","task_path":"task.yaml","attempts":[{"sample_id":"s1","epoch":1}],"max_tokens":64}]"#
            let created = try await client.call(
                .post, "/api/v1/versions/\(world.version.id)/runs", as: world.member(.evaluator, .member),
                json: Self.body(world, kind: "assessment", summary: #"{"planned":true}"#, execution: execution))
            #expect(created.status == .created, "\(created.body)")
            let assessment = try APIJSON.decoder.decode(StoredRun.self, from: Data(created.body.utf8))
            #expect(assessment.kind == "assessment" && assessment.state == .queued && assessment.execution?.plannedAttempts == 3)
            #expect(assessment.summary == .object(["planned": .bool(true)]))
            let suites = try #require(assessment.execution?.suites)
            #expect(Set(suites.keys) == ["words", "graded"])
            for (suite, id) in suites {
                let read = try await client.call(.get, "/api/v1/runs/\(id)", as: world.member(.evaluator, .viewer))
                let run = try APIJSON.decoder.decode(StoredRun.self, from: Data(read.body.utf8))
                #expect(run.kind == "eval" && run.execution?.assessment == RunSuiteLink(runId: assessment.id, suite: suite))
                #expect(run.name == "n: \(suite)")
                #expect(run.execution?.limit == (suite == "words" ? 2 : nil) && run.execution?.maxTokens == (suite == "graded" ? 64 : nil))
            }
            let assigned = try await client.call(.post, "/api/v1/runs/\(assessment.id)/assignments", as: world.member(.office, .worker), json: "{}")
            #expect(assigned.status == .conflict)
            let events = try await client.call(.get, "/api/v1/runs/\(assessment.id)/events", as: world.member(.evaluator, .viewer))
            #expect(events.status == .unprocessableContent && events.body.contains("its suites'"))
        }
    }

    /// A server without a credentials key cannot keep a role's key, so it refuses it.
    @Test func aServerWithoutACredentialsKeyRefusesARoleKey() async throws {
        try await TestBackend.sqlite.withFreshStore(credentialsKey: nil) { store in
            let world = try await ProgramWorld.make(in: store)
            let now = world.now.addingTimeInterval(86_400)
            let api = ProgramAPI(store: store, configuration: ServerConfiguration(), now: { now })
            try await testApplication(api).test(.router) { client in
                let execution = #""task_path":"t.yaml","attempts":[{"sample_id":"s1","epoch":1}],"roles":{"grader":{"model":"openai/j","base_url":"https://j.example","api_key":"k"}}"#
                let refused = try await client.call(
                    .post, "/api/v1/versions/\(world.version.id)/runs", as: world.member(.evaluator, .member), json: Self.body(world, execution: execution))
                #expect(refused.status == .unprocessableContent)
                #expect(try APIJSON.decoder.decode(Problem.self, from: Data(refused.body.utf8)).field == "execution.roles.grader.api_key")
            }
        }
    }
}
