import AirlockCore
import AirlockServer
import AirlockStore
import AirlockTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Prometheus
import Testing

/// The authorisation matrix: for every endpoint, every organisation kind and every role, the
/// status the API must answer. The expectations are this file's table, written from the issue's
/// rules, not from the policy under test.
@Suite struct AuthorizationMatrixTests {
    /// What one organisation gets from an endpoint.
    enum Outcome: Sendable {
        /// Allowed from this role up (lower roles: 403).
        case from(MemberRole)
        /// Refused for every role with this status.
        case refused(Int)
        /// Allowed to this role alone (a worker's endpoints); other roles: 403.
        case only(MemberRole)
        /// Allowed from this role up, and then refused by a rule of the request with this status
        /// (lower roles: 403).
        case allowedButRefused(MemberRole, Int)
    }

    struct Row: Sendable, CustomTestStringConvertible {
        var name: String
        var method: HTTPRequest.Method
        var path: @Sendable (ProgramWorld) -> String
        var body: (@Sendable (ProgramWorld) -> String)?
        /// The status when allowed.
        var success: Int
        var outcomes: [Org: Outcome]
        /// Whether a worker's key may call it at all; on any other endpoint a worker gets 403.
        var workers = false
        var testDescription: String { name }

        func expected(_ org: Org, _ role: MemberRole) -> Int {
            AuthorizationMatrixTests.status(outcomes[org]!, role, success: success, workers: workers)
        }
    }

    /// The status a role gets where its organisation's outcome is `outcome`.
    static func status(_ outcome: Outcome, _ role: MemberRole, success: Int, workers: Bool) -> Int {
        if role == .worker, !workers { return 403 }
        switch outcome {
        case .from(let least): return role >= least ? success : 403
        case .refused(let status): return status
        case .only(let allowed): return role == allowed ? success : 403
        case .allowedButRefused(let least, let status): return role >= least ? status : 403
        }
    }

    /// Every organisation, the same outcome.
    static func everyone(_ outcome: Outcome) -> [Org: Outcome] {
        Dictionary(uniqueKeysWithValues: Org.allCases.map { ($0, outcome) })
    }

    /// The listed outcomes; every other organisation is refused with `others`.
    static func only(_ listed: [Org: Outcome], others: Int) -> [Org: Outcome] {
        everyone(.refused(others)).merging(listed) { $1 }
    }

    static let rows: [Row] = [
        Row(name: "GET me", method: .get, path: { _ in "/api/v1/me" }, success: 200, outcomes: everyone(.from(.worker)), workers: true),
        Row(name: "GET organisations", method: .get, path: { _ in "/api/v1/organisations" }, success: 200, outcomes: everyone(.from(.viewer))),
        Row(
            name: "POST organisations", method: .post, path: { _ in "/api/v1/organisations" },
            body: { _ in #"{"name":"New CERT","kind":"evaluator"}"# }, success: 201,
            outcomes: only([.office: .from(.admin)], others: 403)),
        Row(
            name: "GET organisation", method: .get, path: { "/api/v1/organisations/\($0.id(.developer))" }, success: 200,
            outcomes: everyone(.from(.viewer))),
        Row(
            name: "GET organisation users", method: .get, path: { "/api/v1/organisations/\($0.id(.developer))/users" }, success: 200,
            outcomes: only([.office: .from(.viewer), .developer: .from(.viewer)], others: 403)),
        Row(
            name: "POST organisation users", method: .post, path: { "/api/v1/organisations/\($0.id(.developer))/users" },
            body: { _ in #"{"email":"new@developer.example","name":"New","role":"member"}"# }, success: 201,
            outcomes: only([.office: .from(.admin), .developer: .from(.admin)], others: 403)),
        Row(name: "GET commitments", method: .get, path: { _ in "/api/v1/commitments" }, success: 200, outcomes: everyone(.from(.viewer))),
        Row(
            name: "POST commitments", method: .post, path: { _ in "/api/v1/commitments" },
            body: { _ in #"{"terms":"We share.","effective_from":"2027-01-01T00:00:00Z"}"# }, success: 201,
            outcomes: only([.developer: .from(.admin), .otherDeveloper: .from(.admin)], others: 403)),
        Row(
            name: "GET commitment", method: .get, path: { "/api/v1/commitments/\($0.commitment.id)" }, success: 200,
            outcomes: only([.office: .from(.viewer), .developer: .from(.viewer)], others: 404)),
        Row(name: "GET models", method: .get, path: { _ in "/api/v1/models" }, success: 200, outcomes: everyone(.from(.viewer))),
        Row(
            name: "POST models", method: .post, path: { _ in "/api/v1/models" }, body: { _ in #"{"name":"Next"}"# }, success: 201,
            outcomes: only([.developer: .from(.member), .otherDeveloper: .from(.member)], others: 403)),
        Row(
            name: "GET model", method: .get, path: { "/api/v1/models/\($0.model.id)" }, success: 200,
            outcomes: only([.office: .from(.viewer), .developer: .from(.viewer), .evaluator: .from(.viewer)], others: 404)),
        Row(
            name: "GET model versions", method: .get, path: { "/api/v1/models/\($0.model.id)/versions" }, success: 200,
            outcomes: only([.office: .from(.viewer), .developer: .from(.viewer), .evaluator: .from(.viewer)], others: 404)),
        Row(
            name: "POST model versions (notice)", method: .post, path: { "/api/v1/models/\($0.model.id)/versions" },
            body: { _ in #"{"version":"2.0","planned_release_at":"2027-06-01T00:00:00Z"}"# }, success: 201,
            outcomes: only([.developer: .from(.member), .office: .refused(403), .evaluator: .refused(403)], others: 404)),
        Row(
            name: "GET version", method: .get, path: { "/api/v1/versions/\($0.version.id)" }, success: 200,
            outcomes: only([.office: .from(.viewer), .developer: .from(.viewer), .evaluator: .from(.viewer)], others: 404)),
        Row(
            name: "PUT version endpoint", method: .put, path: { "/api/v1/versions/\($0.version.id)/endpoint" },
            body: { _ in #"{"endpoint_url":"https://models.example/v1","endpoint_credentials":"sk-test"}"# }, success: 200,
            outcomes: only([.developer: .from(.member), .office: .refused(403), .evaluator: .refused(403)], others: 404)),
        Row(
            name: "POST transition to assessed", method: .post, path: { "/api/v1/versions/\($0.version.id)/transitions" },
            body: { _ in #"{"to":"assessed"}"# }, success: 200,
            outcomes: only([.office: .from(.member), .developer: .refused(403), .evaluator: .refused(403)], others: 404)),
        Row(
            name: "POST transition to released", method: .post, path: { "/api/v1/versions/\($0.version.id)/transitions" },
            body: { _ in #"{"to":"released"}"# }, success: 200,
            outcomes: only([.developer: .from(.admin), .office: .refused(403), .evaluator: .refused(403)], others: 404)),
        Row(
            name: "POST transition to withdrawn", method: .post, path: { "/api/v1/versions/\($0.version.id)/transitions" },
            body: { _ in #"{"to":"withdrawn","reason":"test"}"# }, success: 200,
            outcomes: only([.developer: .from(.admin), .office: .from(.admin), .evaluator: .refused(403)], others: 404)),
        Row(
            name: "PUT version gateway (kill switch)", method: .put, path: { "/api/v1/versions/\($0.version.id)/gateway" },
            body: { _ in #"{"open":false,"reason":"test"}"# }, success: 200,
            outcomes: only([.developer: .from(.admin), .office: .from(.admin), .evaluator: .refused(403)], others: 404)),
        Row(
            name: "GET version runs", method: .get, path: { "/api/v1/versions/\($0.version.id)/runs" }, success: 200,
            outcomes: only([.office: .from(.viewer), .developer: .from(.viewer), .evaluator: .from(.viewer)], others: 404)),
        Row(
            name: "POST version runs", method: .post, path: { "/api/v1/versions/\($0.version.id)/runs" },
            body: { _ in #"{"kind":"eval","name":"cyber range"}"# }, success: 201,
            outcomes: only([.office: .from(.member), .evaluator: .from(.member), .developer: .refused(403)], others: 404)),
        Row(
            name: "GET run", method: .get, path: { "/api/v1/runs/\($0.run.id)" }, success: 200,
            outcomes: only([.office: .from(.worker), .developer: .from(.viewer), .evaluator: .from(.viewer)], others: 404), workers: true),
        Row(
            name: "PUT bundle", method: .put, path: { "/api/v1/bundles/\($0.bundle.digest)" }, body: { $0.bundle.bytes }, success: 201,
            outcomes: everyone(.from(.member))),
        Row(
            name: "POST version runs (submit)", method: .post, path: { "/api/v1/versions/\($0.version.id)/runs" },
            body: { world in
                #"{"kind":"eval","name":"on the workers","execution":{"bundle_digest":"\#(world.workerRun.execution!.bundleDigest)","task_path":"task.yaml","grant_id":"\#(world.grant.id)","attempts":[{"sample_id":"s1","epoch":1}]}}"#
            }, success: 201,
            // Under one's own grant only: the office has none on the version.
            outcomes: only([.evaluator: .from(.member), .office: .allowedButRefused(.member, 422), .developer: .refused(403)], others: 404)),
        Row(
            name: "POST run cancellation", method: .post, path: { "/api/v1/runs/\($0.workerRun.id)/cancellation" }, body: { _ in "{}" },
            success: 200, outcomes: only([.office: .from(.member), .evaluator: .from(.member), .developer: .refused(403)], others: 404)),
        Row(
            name: "POST run resumption", method: .post, path: { "/api/v1/runs/\($0.cancelledRun.id)/resumption" }, body: { _ in "{}" },
            success: 200, outcomes: only([.office: .from(.member), .evaluator: .from(.member), .developer: .refused(403)], others: 404)),
        Row(
            name: "GET run events", method: .get, path: { "/api/v1/runs/\($0.cancelledRun.id)/events" }, success: 200,
            outcomes: only([.office: .from(.viewer), .developer: .from(.viewer), .evaluator: .from(.viewer)], others: 404)),
        Row(
            name: "GET run attempts", method: .get, path: { "/api/v1/runs/\($0.workerRun.id)/attempts" }, success: 200,
            outcomes: only([.office: .from(.worker), .developer: .from(.viewer), .evaluator: .from(.viewer)], others: 404), workers: true),
        Row(
            name: "GET run bundle", method: .get, path: { "/api/v1/runs/\($0.workerRun.id)/bundle" }, success: 200,
            outcomes: only([.office: .from(.worker), .developer: .from(.viewer), .evaluator: .from(.viewer)], others: 404), workers: true),
        Row(
            name: "POST run assignments", method: .post, path: { "/api/v1/runs/\($0.workerRun.id)/assignments" }, body: { _ in "{}" },
            success: 201, outcomes: only([.office: .only(.worker), .developer: .refused(403), .evaluator: .refused(403)], others: 404),
            workers: true),
        Row(
            name: "POST run attempts", method: .post, path: { "/api/v1/runs/\($0.workerRun.id)/attempts" },
            body: { _ in #"{"sample_id":"s1","epoch":1,"status":"scored","record":"{\"sample_id\":\"s1\"}","gateway_call_ids":[],"worker":"w1"}"# },
            success: 201, outcomes: only([.office: .only(.worker), .developer: .refused(403), .evaluator: .refused(403)], others: 404),
            workers: true),
        Row(name: "GET grants", method: .get, path: { _ in "/api/v1/grants" }, success: 200, outcomes: everyone(.from(.viewer))),
        Row(
            name: "POST grants", method: .post, path: { _ in "/api/v1/grants" },
            body: { world in
                #"{"version_id":"\#(world.version.id)","grantee_id":"\#(world.id(.bank))","purpose":"infrastructure_defence","starts_at":"2027-01-16T00:00:00Z","ends_at":"2027-02-01T00:00:00Z","token_quota":1000,"requests_per_minute":10}"#
            }, success: 201,
            outcomes: only([.office: .from(.member), .developer: .refused(403), .evaluator: .refused(403)], others: 404)),
        Row(
            name: "GET grant", method: .get, path: { "/api/v1/grants/\($0.grant.id)" }, success: 200,
            outcomes: only([.office: .from(.viewer), .developer: .from(.viewer), .evaluator: .from(.viewer)], others: 404)),
        Row(
            name: "POST grant approval", method: .post, path: { "/api/v1/grants/\($0.pendingGrant.id)/approval" }, body: { _ in "{}" },
            success: 200, outcomes: only([.office: .from(.admin), .developer: .refused(403), .evaluator: .refused(403)], others: 404)),
        Row(
            name: "POST grant consent", method: .post, path: { "/api/v1/grants/\($0.pendingGrant.id)/consent" }, body: { _ in "{}" },
            success: 200, outcomes: only([.developer: .from(.admin), .office: .refused(403), .evaluator: .refused(403)], others: 404)),
        Row(
            name: "POST grant revocation", method: .post, path: { "/api/v1/grants/\($0.grant.id)/revocation" },
            body: { _ in #"{"reason":"test"}"# }, success: 200,
            outcomes: only([.developer: .from(.admin), .office: .from(.admin), .evaluator: .refused(403)], others: 404)),
        Row(
            name: "GET grant keys", method: .get, path: { "/api/v1/grants/\($0.grant.id)/keys" }, success: 200,
            outcomes: only([.office: .from(.viewer), .evaluator: .from(.member), .developer: .refused(403)], others: 404)),
        Row(
            name: "POST grant keys", method: .post, path: { "/api/v1/grants/\($0.grant.id)/keys" }, body: { _ in #"{"name":"range"}"# },
            success: 201, outcomes: only([.evaluator: .from(.admin), .office: .refused(403), .developer: .refused(403)], others: 404)),
        Row(
            name: "GET audit", method: .get, path: { _ in "/api/v1/audit" }, success: 200,
            outcomes: only([.office: .from(.admin)], others: 403)),
        Row(name: "GET me keys", method: .get, path: { _ in "/api/v1/me/keys" }, success: 200, outcomes: everyone(.from(.worker)), workers: true),
        Row(
            name: "POST me keys", method: .post, path: { _ in "/api/v1/me/keys" }, body: { _ in #"{"name":"laptop"}"# }, success: 201,
            outcomes: everyone(.from(.worker)), workers: true),
    ]

    /// Each (organisation, role) runs against a world of its own, so one actor's change does not
    /// decide the next one's answer.
    @Test(arguments: rows)
    func everyOrganisationAndRole(row: Row) async throws {
        for org in Org.allCases {
            for role in MemberRole.allCases {
                try await withProgramAPI { world, client in
                    let response = try await client.call(
                        row.method, row.path(world), as: world.member(org, role), json: row.body?(world))
                    #expect(
                        Int(response.status.code) == row.expected(org, role),
                        "\(row.name) as \(org.rawValue) \(role.rawValue): \(response.body)")
                    if response.status.code >= 400 {
                        #expect(response.headers[.contentType] == "application/problem+json")
                    }
                }
            }
        }
    }

    /// Every route the router has is in the table or deliberately public, and refuses anonymous calls.
    @Test func everyRouteIsCoveredAndNeedsAuthentication() async throws {
        let api = try await TestBackend.sqlite.withFreshStore { store in
            ProgramApplication.router(api: ProgramAPI(store: store, configuration: ServerConfiguration()), registry: .init()).routes
                .map { "\($0.method) \($0.path)" }
                // TAXII 2.1 has its own credentials (Basic), anonymous reads and matrix: TAXIIServerTests, TAXIIAccessTests.
                // The web UI's pages send an anonymous browser to sign in: WebUITests.
                .filter { !$0.contains(" /taxii2") && ($0.contains(" /api/") || $0.hasSuffix(" /healthz") || $0.hasSuffix(" /metrics")) }
        }
        let public_ = ["GET /healthz", "GET /metrics", "GET /api/v1/openapi.json", "POST /api/v1/sessions"]
        let notInMatrix = ["DELETE /api/v1/sessions/current", "DELETE /api/v1/me/keys/{key_id}"]
        try await withProgramAPI { world, client in
            for route in api where !public_.contains(route) {
                let parts = route.split(separator: " ", maxSplits: 1).map(String.init)
                let path = parts[1].replacingOccurrences(of: "\\{[a-z_]+\\}", with: world.version.id, options: .regularExpression)
                let response = try await client.call(HTTPRequest.Method(parts[0])!, path, as: nil, json: "{}")
                #expect(response.status == .unauthorized, "\(route) without a key: \(response.status)")
                #expect(response.headers[.wwwAuthenticate] == "Bearer")
            }
        }
        let covered = Set(Self.rows.map { "\($0.method) \($0.path(Self.placeholderWorld))" }).union(SharingAPITests.routes)
        for route in api where !public_.contains(route) && !notInMatrix.contains(route) {
            #expect(covered.contains(route), "\(route) has no row in the authorisation matrix")
        }
    }

    /// A world whose ids are the route parameters' names, to match table rows with routes.
    static var placeholderWorld: ProgramWorld {
        let date = Date(timeIntervalSince1970: 0)
        func org(_ id: String) -> Organisation { Organisation(id: id, name: id, kind: .vendor, createdAt: date) }
        let version = ModelVersion(
            id: "{version_id}", modelId: "{model_id}", developerId: "", version: "", state: .notified, noticedAt: date,
            plannedReleaseAt: date, windowOpensAt: date, accessEndsBy: date, lateNotice: false, capabilities: [], modelCard: "",
            hasEndpointCredentials: false, createdAt: date, updatedAt: date)
        let grant = AccessGrant(
            id: "{grant_id}", versionId: "", granteeId: "", purpose: .redTeaming, startsAt: date, endsAt: date, tokenQuota: 1,
            requestsPerMinute: 1, decisions: .init(), createdBy: "", createdAt: date)
        return ProgramWorld(
            organisations: Dictionary(uniqueKeysWithValues: Org.allCases.map { ($0, org("{organisation_id}")) }),
            commitment: Commitment(id: "{commitment_id}", organisationId: "", terms: "", signedBy: "", effectiveFrom: date, createdAt: date),
            model: CoveredModel(id: "{model_id}", developerId: "", name: "", description: "", createdAt: date), version: version,
            otherModel: CoveredModel(id: "", developerId: "", name: "", description: "", createdAt: date), grant: grant,
            pendingGrant: grant,
            run: StoredRun(id: "{run_id}", versionId: "", organisationId: "", kind: "", name: "", levels: [:], summary: .null, createdAt: date),
            workerRun: StoredRun(
                id: "{run_id}", versionId: "", organisationId: "", kind: "", name: "", levels: [:], summary: .null, createdAt: date,
                execution: RunExecution(bundleDigest: "", taskPath: "", grantId: "", pool: "", plannedAttempts: 0)),
            cancelledRun: StoredRun(id: "{run_id}", versionId: "", organisationId: "", kind: "", name: "", levels: [:], summary: .null, createdAt: date),
            bundle: ("", "{digest}"), now: date)
    }

    /// A hidden object's 404 cannot be told from a missing one's.
    @Test func hiddenReadsExactlyLikeMissing() async throws {
        try await withProgramAPI { world, client in
            let hidden = try await client.call(.get, "/api/v1/versions/\(world.version.id)", as: world.member(.bank, .admin))
            let missing = try await client.call(.get, "/api/v1/versions/ver_00000000000000000000000000", as: world.member(.office, .admin))
            #expect(hidden.status == .notFound)
            #expect(hidden.body == missing.body)
        }
    }
}
