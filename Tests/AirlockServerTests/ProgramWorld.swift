import AirlockAPI
import AirlockCore
import AirlockServer
import AirlockStore
import AirlockTestSupport
import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Prometheus

/// The organisations of the test program, one of each kind and a second developer.
enum Org: String, CaseIterable, Sendable {
    case office, developer, evaluator, bank, otherDeveloper, vendor

    var kind: OrganisationKind {
        switch self {
        case .office: .programOffice
        case .developer, .otherDeveloper: .modelDeveloper
        case .evaluator: .evaluator
        case .bank: .infrastructureOperator
        case .vendor: .vendor
        }
    }
}

/// A small program with every relation in it: the developer's model, version, commitment and
/// grants; the evaluator's active grant and run; a second developer's model; and a user of each
/// role in each organisation, each with an API key.
struct ProgramWorld: Sendable {
    struct Member: Sendable {
        var user: User
        var key: String
    }

    var organisations: [Org: Organisation] = [:]
    var members: [String: Member] = [:]
    var commitment: Commitment
    var model: CoveredModel
    var version: ModelVersion
    var otherModel: CoveredModel
    /// Active grant of the version to the evaluator.
    var grant: AccessGrant
    /// A grant to the evaluator that is neither approved nor consented.
    var pendingGrant: AccessGrant
    var run: StoredRun
    /// The evaluator's run on the program's workers, queued, with attempts s1 and s2 planned.
    var workerRun: StoredRun
    /// The evaluator's cancelled run on the program's workers.
    var cancelledRun: StoredRun
    /// A bundle's bytes (not stored) and their SHA-256.
    var bundle: (bytes: String, digest: String)
    let now: Date

    func member(_ org: Org, _ role: MemberRole) -> Member { members["\(org.rawValue).\(role.rawValue)"]! }
    func id(_ org: Org) -> String { organisations[org]!.id }

    static func make(in store: ProgramStore, now: Date = Date(timeIntervalSince1970: 1_800_000_000)) async throws -> ProgramWorld {
        try await store.transaction { records in
            var organisations: [Org: Organisation] = [:]
            var members: [String: Member] = [:]
            for org in Org.allCases {
                let organisation = Organisation(
                    id: Identifier.make("org", at: now), name: "\(org.rawValue) org", kind: org.kind,
                    sector: org == .bank ? .banking : nil, createdAt: now)
                try await records.insert(organisation)
                organisations[org] = organisation
                for role in MemberRole.allCases {
                    let user = User(
                        id: Identifier.make("usr", at: now), organisationId: organisation.id,
                        email: "\(role.rawValue)@\(org.rawValue).example", name: "\(org.rawValue) \(role.rawValue)", role: role,
                        createdAt: now)
                    try await records.insert(user, passwordHash: nil)
                    let secret = Identifier.secret("alk")
                    try await records.insert(
                        APIKey(
                            id: Identifier.make("key", at: now), kind: .user, userId: user.id, organisationId: organisation.id,
                            name: "test", createdAt: now),
                        secret: secret)
                    members["\(org.rawValue).\(role.rawValue)"] = Member(user: user, key: secret)
                }
            }
            let developer = organisations[.developer]!.id
            let signer = members["developer.admin"]!.user.id
            let commitment = Commitment(
                id: Identifier.make("cmt", at: now), organisationId: developer, terms: "We share models 90 days ahead.",
                signedBy: signer, effectiveFrom: now.addingTimeInterval(-86_400), createdAt: now)
            try await records.insert(commitment)
            let model = CoveredModel(id: Identifier.make("mdl", at: now), developerId: developer, name: "Frontier", description: "", createdAt: now)
            try await records.insert(model)
            let otherModel = CoveredModel(
                id: Identifier.make("mdl", at: now), developerId: organisations[.otherDeveloper]!.id, name: "Other", description: "",
                createdAt: now)
            try await records.insert(otherModel)
            let window = try NoticePolicy().window(noticedAt: now, plannedRelease: now.addingTimeInterval(100 * 86_400))
            let version = ModelVersion(
                id: Identifier.make("ver", at: now), modelId: model.id, developerId: developer, version: "1.0", state: .inReview,
                noticedAt: now, plannedReleaseAt: window.plannedRelease, windowOpensAt: window.opensAt,
                accessEndsBy: window.accessEndsBy, lateNotice: window.isLate, capabilities: ["code"], modelCard: "card",
                hasEndpointCredentials: false, createdAt: now, updatedAt: now)
            try await records.insert(version, sealedCredentials: nil)
            func grant(decided: Bool) -> AccessGrant {
                AccessGrant(
                    id: Identifier.make("grt", at: now), versionId: version.id, granteeId: organisations[.evaluator]!.id,
                    purpose: .capabilityEvaluation, startsAt: now, endsAt: now.addingTimeInterval(30 * 86_400), tokenQuota: 1_000_000,
                    requestsPerMinute: 60,
                    decisions: decided ? GrantDecisions(approvedAt: now, consentedAt: now) : GrantDecisions(),
                    createdBy: members["office.admin"]!.user.id, createdAt: now)
            }
            let active = grant(decided: true)
            let pending = grant(decided: false)
            try await records.insert(active)
            try await records.insert(pending)
            let run = StoredRun(
                id: Identifier.make("run", at: now), versionId: version.id, organisationId: organisations[.evaluator]!.id,
                kind: "eval", name: "cyber", levels: [:], summary: .object([:]), createdAt: now)
            try await records.insert(run)
            let bundle = try RunBundle.pack([RunBundle.File(path: "task.yaml", contents: Data("name: t\n".utf8))])
            let digest = Hex.string(SHA256.hash(data: bundle))
            try await records.insertBundle(sha256: digest, organisationId: organisations[.evaluator]!.id, content: bundle, at: now)
            func workerRun(_ state: RunState) -> StoredRun {
                StoredRun(
                    id: Identifier.make("run", at: now), versionId: version.id, organisationId: organisations[.evaluator]!.id,
                    kind: "eval", name: "on the workers", levels: [:], summary: .object([:]), createdAt: now, origin: .server, state: state,
                    execution: RunExecution(bundleDigest: digest, taskPath: "task.yaml", grantId: active.id, pool: "default", plannedAttempts: 2))
            }
            let queued = workerRun(.queued)
            let cancelled = workerRun(.cancelled)
            for run in [queued, cancelled] {
                try await records.insert(run)
                try await records.insertPlannedAttempts(runId: run.id, [SampleKey(sampleID: "s1", epoch: 1), SampleKey(sampleID: "s2", epoch: 1)])
            }
            // A second bundle, uploaded by the tests (bytes that are UTF-8, as the table's bodies are text).
            let upload = try RunBundle.pack([RunBundle.File(path: "task.yaml", contents: Data("name: uploaded\n".utf8))])
            return ProgramWorld(
                organisations: organisations, members: members, commitment: commitment, model: model, version: version,
                otherModel: otherModel, grant: active, pendingGrant: pending, run: run, workerRun: queued, cancelledRun: cancelled,
                bundle: (String(decoding: upload, as: UTF8.self), Hex.string(SHA256.hash(data: upload))),
                now: now)
        }
    }
}

/// Runs `body` against the program API in process, on a fresh SQLite store with a fresh world,
/// with the clock fixed at the world's time plus a day (inside every window).
func withProgramAPI(
    backend: TestBackend = .sqlite,
    _ body: @Sendable (ProgramWorld, any TestClientProtocol) async throws -> Void
) async throws {
    try await backend.withFreshStore { store in
        let world = try await ProgramWorld.make(in: store)
        let now = world.now.addingTimeInterval(86_400)
        let api = ProgramAPI(store: store, configuration: ServerConfiguration(), now: { now })
        try await testApplication(api).test(.router) { client in try await body(world, client) }
    }
}

/// The API's application for in-process tests, its request logs dropped.
func testApplication(_ api: ProgramAPI) -> some ApplicationProtocol {
    Application(router: ProgramApplication.router(api: api, registry: PrometheusCollectorRegistry()), logger: TestBackend.quietLogger)
}

extension TestClientProtocol {
    /// A JSON request as `member`, returning the status and body.
    @discardableResult
    func call(
        _ method: HTTPRequest.Method, _ path: String, as member: ProgramWorld.Member?, json: String? = nil,
        headers extra: HTTPFields = [:]
    ) async throws -> (status: HTTPResponse.Status, body: String, headers: HTTPFields) {
        var headers = extra
        if let member { headers[.authorization] = "Bearer \(member.key)" }
        if json != nil { headers[.contentType] = "application/json" }
        return try await execute(
            uri: path, method: method, headers: headers, body: json.map { ByteBuffer(string: $0) }
        ) { response in
            (response.status, String(buffer: response.body), response.headers)
        }
    }
}
