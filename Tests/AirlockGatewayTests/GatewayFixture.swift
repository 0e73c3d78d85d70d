import AirlockCore
import AirlockGateway
import AirlockStore
import AirlockTestSupport
import AsyncHTTPClient
import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import NIOHTTP1

/// A program with one active grant to one version whose endpoint is a scripted model server,
/// and the gateway in front of it on a real socket.
struct GatewayFixture: Sendable {
    var store: ProgramStore
    var gateway: AccessGateway
    var grant: AccessGrant
    var version: ModelVersion
    /// The grant key's secret.
    var key: String
    var url: String

    static let developerCredential = "sk-developer-secret"

    static func with(
        backend: TestBackend = .sqlite,
        grant adjust: @Sendable (inout AccessGrant) -> Void = { _ in },
        version adjustVersion: @Sendable (inout ModelVersion) -> Void = { _ in },
        configuration: AccessGateway.Configuration = .init(),
        routes: @Sendable (Router<BasicRequestContext>) -> Void = { _ in },
        upstream script: @escaping ScriptedModelServer.Script,
        _ body: @Sendable (GatewayFixture, ScriptedModelServer) async throws -> Void
    ) async throws {
        try await ScriptedModelServer.withServer(script) { server in
            try await backend.withFreshStore { store in
                let now = Date()
                let (grant, version, key) = try await store.transaction { records in
                    let developer = Organisation(id: Identifier.make("org"), name: "Lab", kind: .modelDeveloper, createdAt: now)
                    let evaluator = Organisation(id: Identifier.make("org"), name: "Institute", kind: .evaluator, createdAt: now)
                    try await records.insert(developer)
                    try await records.insert(evaluator)
                    let user = User(
                        id: Identifier.make("usr"), organisationId: evaluator.id, email: "e@institute.example", name: "E", role: .admin,
                        createdAt: now)
                    try await records.insert(user, passwordHash: nil)
                    let model = CoveredModel(id: Identifier.make("mdl"), developerId: developer.id, name: "frontier", description: "", createdAt: now)
                    try await records.insert(model)
                    var version = ModelVersion(
                        id: Identifier.make("ver"), modelId: model.id, developerId: developer.id, version: "2", state: .inReview,
                        noticedAt: now, plannedReleaseAt: now.addingTimeInterval(90 * 86_400), windowOpensAt: now,
                        accessEndsBy: now.addingTimeInterval(104 * 86_400), lateNotice: false, capabilities: [], modelCard: "",
                        endpointUrl: server.baseURL, endpointModel: "frontier-internal", hasEndpointCredentials: true, createdAt: now,
                        updatedAt: now)
                    adjustVersion(&version)
                    try await records.insert(
                        version, sealedCredentials: try store.sealer!.seal(Self.developerCredential, context: version.id))
                    var grant = AccessGrant(
                        id: Identifier.make("grt"), versionId: version.id, granteeId: evaluator.id, purpose: .capabilityEvaluation,
                        startsAt: now.addingTimeInterval(-60), endsAt: now.addingTimeInterval(30 * 86_400), tokenQuota: 1_000_000,
                        requestsPerMinute: 6_000, maxConcurrent: 16, decisions: GrantDecisions(approvedAt: now, consentedAt: now),
                        createdBy: user.id, createdAt: now)
                    adjust(&grant)
                    try await records.insert(grant)
                    let secret = Identifier.secret("alg")
                    try await records.insert(
                        APIKey(
                            id: Identifier.make("key"), kind: .grant, userId: user.id, grantId: grant.id, organisationId: evaluator.id,
                            name: "test", createdAt: now),
                        secret: secret)
                    return (grant, version, secret)
                }
                let gateway = try AccessGateway(store: store, configuration: configuration, logger: TestBackend.quietLogger)
                let router = Router()
                gateway.addRoutes(to: router)
                routes(router)
                let app = Application(router: router, server: gateway.httpServer, logger: TestBackend.quietLogger)
                do {
                    try await app.test(.live) { client in
                        let fixture = GatewayFixture(
                            store: store, gateway: gateway, grant: grant, version: version, key: key,
                            url: "http://127.0.0.1:\(client.port!)/v1")
                        try await body(fixture, server)
                    }
                    try await gateway.shutdown()
                } catch {
                    try? await gateway.shutdown()
                    throw error
                }
            }
        }
    }

    /// A POST to the gateway: status, headers and the body's pieces with when each arrived.
    func post(
        _ path: String, json: String, key: String? = nil, headers extra: [String: String] = [:]
    ) async throws -> (status: Int, headers: [String: String], pieces: [(TimeInterval, String)]) {
        var request = HTTPClientRequest(url: url + path)
        request.method = .POST
        request.headers.add(name: "content-type", value: "application/json")
        if let key = key ?? self.key as String?, !key.isEmpty { request.headers.add(name: "authorization", value: "Bearer \(key)") }
        for (name, value) in extra { request.headers.add(name: name, value: value) }
        request.body = .bytes(ByteBuffer(string: json))
        let started = Date()
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        var pieces: [(TimeInterval, String)] = []
        for try await piece in response.body {
            pieces.append((Date().timeIntervalSince(started), String(buffer: piece)))
        }
        var headers: [String: String] = [:]
        for header in response.headers { headers[header.name.lowercased()] = header.value }
        return (Int(response.status.code), headers, pieces)
    }

    func postBody(_ path: String, json: String, key: String? = nil) async throws -> (status: Int, body: [String: Any]) {
        let response = try await post(path, json: json, key: key)
        let text = response.pieces.map(\.1).joined()
        return (response.status, (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:])
    }

    /// The audit entries of gateway calls, after flushing the gateway's records.
    func callEntries() async throws -> [AuditEntry] {
        try await gateway.flush()
        return try await store.transaction { try await $0.auditEntries(after: 0, limit: 10_000) }.filter { $0.action == "gateway.call" }
    }
}

extension [String: Any] {
    var errorCode: String? { (self["error"] as? [String: Any])?["code"] as? String }
    var errorMessage: String? { (self["error"] as? [String: Any])?["message"] as? String }
}

let chatBody = #"{"model":"anything","messages":[{"role":"user","content":"hello"}],"max_tokens":20}"#
