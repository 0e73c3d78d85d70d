import AirlockCore
import AirlockGateway
import AirlockStore
import Foundation
import Hummingbird
import Logging
import Prometheus

/// Builds the program server: the API under `/api/v1`, its OpenAPI document, the web UI at `/`, `/healthz` and `/metrics`.
public enum ProgramApplication {
    /// The router alone, for in-process tests and for listing the routes. With a `gateway`, its
    /// `/v1` routes are served beside the API.
    public static func router(
        api: ProgramAPI, registry: PrometheusCollectorRegistry, gateway: AccessGateway? = nil
    ) -> Router<ProgramRequestContext> {
        let router = Router(context: ProgramRequestContext.self)
        router.add(middleware: RequestMetricsMiddleware(registry: registry))
        router.add(middleware: SecurityHeadersMiddleware())
        addOperationalRoutes(to: router, registry: registry) { try await api.store.database.ping() }
        gateway?.addRoutes(to: router)

        // The program API's own authentication and problem details; the gateway has its own.
        let v1 = router.group("api/v1")
            .add(middleware: AuthenticationMiddleware(api: api))
            .add(middleware: ProblemMiddleware(api: api))
        v1.get("openapi.json") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: OpenAPIDocument.data)))
        }
        v1.post("sessions", use: api.signIn)
        v1.delete("sessions/current", use: api.signOut)
        v1.get("me", use: api.me)
        v1.get("me/keys", use: api.listMyKeys)
        v1.post("me/keys", use: api.createMyKey)
        v1.delete("me/keys/{key_id}", use: api.revokeMyKey)

        v1.get("organisations", use: api.listOrganisations)
        v1.post("organisations", use: api.createOrganisation)
        v1.get("organisations/{organisation_id}", use: api.readOrganisation)
        v1.get("organisations/{organisation_id}/users", use: api.listUsers)
        v1.post("organisations/{organisation_id}/users", use: api.createUser)

        v1.get("commitments", use: api.listCommitments)
        v1.post("commitments", use: api.createCommitment)
        v1.get("commitments/{commitment_id}", use: api.readCommitment)

        v1.get("models", use: api.listModels)
        v1.post("models", use: api.createModel)
        v1.get("models/{model_id}", use: api.readModel)
        v1.get("models/{model_id}/versions", use: api.listVersions)
        v1.post("models/{model_id}/versions", use: api.fileNotice)

        v1.get("versions/{version_id}", use: api.readVersion)
        v1.put("versions/{version_id}/endpoint", use: api.updateEndpoint)
        v1.post("versions/{version_id}/transitions", use: api.transitionVersion)
        v1.put("versions/{version_id}/gateway", use: api.setGateway)
        v1.get("versions/{version_id}/runs", use: api.listRuns)
        v1.post("versions/{version_id}/runs", use: api.createRun)
        v1.get("runs/{run_id}", use: api.readRun)
        v1.post("runs/{run_id}/cancellation") { try await api.moveWorkerRun(.runCancel, $0, $1) }
        v1.post("runs/{run_id}/resumption") { try await api.moveWorkerRun(.runResume, $0, $1) }
        v1.get("runs/{run_id}/events", use: api.runEvents)
        v1.get("runs/{run_id}/attempts", use: api.listAttempts)
        // The workers' part (role `worker`).
        v1.post("runs/{run_id}/assignments", use: api.assignRun)
        v1.get("runs/{run_id}/bundle", use: api.readRunBundle)
        v1.post("runs/{run_id}/attempts", use: api.commitAttempt)
        v1.put("bundles/{digest}", use: api.uploadBundle)

        v1.get("grants", use: api.listGrants)
        v1.post("grants", use: api.createGrant)
        v1.get("grants/{grant_id}", use: api.readGrant)
        v1.post("grants/{grant_id}/approval") { try await api.decideGrant(.grantApprove, $0, $1) }
        v1.post("grants/{grant_id}/consent") { try await api.decideGrant(.grantConsent, $0, $1) }
        v1.post("grants/{grant_id}/revocation") { try await api.decideGrant(.grantRevoke, $0, $1) }
        v1.get("grants/{grant_id}/keys", use: api.listGrantKeys)
        v1.post("grants/{grant_id}/keys", use: api.createGrantKey)

        // Findings and coordinated disclosure (docs/sharing.md).
        v1.get("findings", use: api.listFindings)
        v1.post("findings", use: api.fileFinding)
        v1.get("findings/{finding_id}", use: api.readFinding)
        v1.post("findings/{finding_id}/merge", use: api.mergeFinding)
        v1.get("cases", use: api.listCases)
        v1.post("cases", use: api.openCase)
        v1.get("cases/{case_id}", use: api.readCase)
        v1.post("cases/{case_id}/participants", use: api.addCaseParticipant)
        v1.post("cases/{case_id}/findings", use: api.addCaseFinding)
        v1.put("cases/{case_id}/vendors/{organisation_id}/status", use: api.setVendorStatus)
        v1.post("cases/{case_id}/triage", use: api.triageCase)
        v1.post("cases/{case_id}/publication", use: api.publishCase)
        v1.get("cases/{case_id}/csaf", use: api.exportCSAF)
        v1.get("cases/{case_id}/vex", use: api.listVEX)
        v1.get("cases/{case_id}/vex/{vendor_id}", use: api.exportVEX)
        v1.get("cases/{case_id}/cve/{finding_id}", use: api.exportCVE)
        v1.get("cases/{case_id}/stix", use: api.exportSTIX)

        v1.get("audit", use: api.readAudit)

        // TAXII 2.1 under /taxii2, with its own authentication and errors (docs/sharing.md).
        TAXIIRoutes(api: api).add(to: router)
        // The web UI at `/`, with browser sessions of its own (docs/web-ui.md).
        WebPages(api: api).add(to: router)
        return router
    }

    /// `/healthz` (the store answers) and `/metrics` (Prometheus text).
    static func addOperationalRoutes<Context: RequestContext>(
        to router: Router<Context>, registry: PrometheusCollectorRegistry, ping: @escaping @Sendable () async throws -> Void
    ) {
        router.get("healthz") { _, _ in
            try await ping()
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: #"{"status":"ok"}"#)))
        }
        router.get("metrics") { _, _ in
            var buffer: [UInt8] = []
            registry.emit(into: &buffer)
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4"], body: .init(byteBuffer: ByteBuffer(bytes: buffer)))
        }
    }

    /// The whole application, ready to run as a service.
    public static func application(
        api: ProgramAPI, registry: PrometheusCollectorRegistry, gateway: AccessGateway?, logger: Logger,
        onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
        Application(
            router: router(api: api, registry: registry, gateway: gateway),
            server: gateway?.httpServer ?? .http1(),
            configuration: .init(address: .hostname(api.configuration.host, port: api.configuration.port), serverName: "airlock"),
            onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? 0) },
            logger: logger)
    }

    /// The gateway alone (`airlock gateway`): its `/v1` routes, `/healthz` and `/metrics`.
    public static func gatewayApplication(
        gateway: AccessGateway, registry: PrometheusCollectorRegistry, host: String, port: Int, logger: Logger,
        onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
        let router = Router()
        router.add(middleware: RequestMetricsMiddleware(registry: registry))
        addOperationalRoutes(to: router, registry: registry) { try await gateway.store.database.ping() }
        gateway.addRoutes(to: router)
        return Application(
            router: router, server: gateway.httpServer,
            configuration: .init(address: .hostname(host, port: port), serverName: "airlock-gateway"),
            onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? 0) }, logger: logger)
    }
}

/// The OpenAPI 3.1 document of the API, as shipped in the module's resources.
public enum OpenAPIDocument {
    public static let data: Data = {
        guard let url = Bundle.module.url(forResource: "openapi", withExtension: "json"), let data = try? Data(contentsOf: url) else {
            preconditionFailure("the module's openapi.json resource is missing")
        }
        return data
    }()
}
