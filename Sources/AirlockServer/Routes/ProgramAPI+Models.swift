import AirlockAPI
import AirlockCore
import AirlockStore
import Foundation
import Hummingbird

extension ProgramAPI {
    // MARK: Commitments

    func listCommitments(_ request: Request, _ context: Context) async throws -> Response {
        let actor = try context.requireActor()
        let query = try ListQuery(request)
        let page = try await store.transaction { records in
            let page = try await records.commitments(visibleTo: visibility(of: actor), after: query.cursor, limit: query.limit)
            try await audit(records, actor, "commitment.list", "commitment", nil, ["count": "\(page.items.count)"])
            return page
        }
        return try json(ListPage(page))
    }

    func createCommitment(_ request: Request, _ context: Context) async throws -> Response {
        try await create(request, context, NewCommitment.self) { records, actor, body in
            try authorize(.commitmentCreate, actor, .owner, hiding: "commitment")
            if let until = body.effectiveUntil, until <= body.effectiveFrom {
                throw ProgramRuleError(.invalidWindow, "must be after effective_from", field: "effective_until")
            }
            let commitment = Commitment(
                id: Identifier.make("cmt"), organisationId: actor.organisation.id,
                terms: try Validate.text(try Validate.name(body.terms, field: "terms", max: 100_000), field: "terms", max: 100_000),
                signedBy: actor.user.id, effectiveFrom: body.effectiveFrom, effectiveUntil: body.effectiveUntil, createdAt: now())
            try await records.insert(commitment)
            try await audit(records, actor, "commitment.create", "commitment", commitment.id)
            return (commitment, "/api/v1/commitments/\(commitment.id)")
        }
    }

    func readCommitment(_ request: Request, _ context: Context) async throws -> Response {
        let actor = try context.requireActor()
        let id = try context.parameters.require("commitment_id")
        let commitment = try await store.transaction { records in
            guard let commitment = try await records.commitment(id: id) else { throw ProblemDetails.notFound("commitment") }
            try authorize(.commitmentRead, actor, relation(of: actor, toOrganisation: commitment.organisationId), hiding: "commitment")
            try await audit(records, actor, "commitment.read", "commitment", id)
            return commitment
        }
        return try json(commitment)
    }

    // MARK: Models

    func listModels(_ request: Request, _ context: Context) async throws -> Response {
        let actor = try context.requireActor()
        let query = try ListQuery(request)
        let page = try await store.transaction { records in
            let page = try await records.models(visibleTo: visibility(of: actor), after: query.cursor, limit: query.limit)
            try await audit(records, actor, "model.list", "model", nil, ["count": "\(page.items.count)"])
            return page
        }
        return try json(ListPage(page))
    }

    func createModel(_ request: Request, _ context: Context) async throws -> Response {
        try await create(request, context, NewModel.self) { records, actor, body in
            try authorize(.modelCreate, actor, .owner, hiding: "model")
            let model = CoveredModel(
                id: Identifier.make("mdl"), developerId: actor.organisation.id, name: try Validate.name(body.name, field: "name"),
                description: try Validate.text(body.description ?? "", field: "description", max: 10_000), createdAt: now())
            try await records.insert(model)
            try await audit(records, actor, "model.create", "model", model.id, ["name": model.name])
            return (model, "/api/v1/models/\(model.id)")
        }
    }

    func readModel(_ request: Request, _ context: Context) async throws -> Response {
        let actor = try context.requireActor()
        let id = try context.parameters.require("model_id")
        let model = try await store.transaction { records in
            let model = try await loadModel(id, .modelRead, actor, records)
            try await audit(records, actor, "model.read", "model", id)
            return model
        }
        return try json(model)
    }

    /// The version as `actor` may see it: the endpoint's URL and model name belong to the
    /// developer and the program office alone; grantees reach the model through the gateway.
    func disclosed(_ version: ModelVersion, to actor: Actor) -> ModelVersion {
        guard actor.organisation.kind != .programOffice, actor.organisation.id != version.developerId else { return version }
        var version = version
        version.endpointUrl = nil
        version.endpointModel = nil
        return version
    }

    func loadModel(_ id: String, _ action: ProgramAction, _ actor: Actor, _ records: ProgramRecords) async throws -> CoveredModel {
        guard let model = try await records.model(id: id) else { throw ProblemDetails.notFound("model") }
        try authorize(action, actor, try await relation(of: actor, toModel: model, records), hiding: "model")
        return model
    }

    func loadVersion(_ id: String, _ action: ProgramAction, _ actor: Actor, _ records: ProgramRecords) async throws -> ModelVersion {
        guard let version = try await records.version(id: id) else { throw ProblemDetails.notFound("model version") }
        try authorize(action, actor, try await relation(of: actor, toVersion: version, records), hiding: "model version")
        return version
    }

    // MARK: Versions

    func listVersions(_ request: Request, _ context: Context) async throws -> Response {
        let actor = try context.requireActor()
        let id = try context.parameters.require("model_id")
        let query = try ListQuery(request)
        let page = try await store.transaction { records in
            _ = try await loadModel(id, .modelRead, actor, records)
            let page = try await records.versions(
                modelId: id, visibleTo: visibility(of: actor), after: query.cursor, limit: query.limit)
            try await audit(records, actor, "version.list", "model", id, ["count": "\(page.items.count)"])
            return page
        }
        return try json(ListPage(page) { disclosed($0, to: actor) })
    }

    func fileNotice(_ request: Request, _ context: Context) async throws -> Response {
        let modelId = try context.parameters.require("model_id")
        return try await create(request, context, NewVersion.self) { records, actor, body in
            let model = try await loadModel(modelId, .versionCreate, actor, records)
            let now = now()
            guard try await records.hasCommitment(organisationId: model.developerId, at: now) else {
                throw ProgramRuleError(
                    .invalidField, "the developer has no voluntary commitment in force; file one first", field: "model_id")
            }
            let window = try configuration.notice.window(noticedAt: now, plannedRelease: body.plannedReleaseAt)
            let id = Identifier.make("ver", at: now)
            let sealed = try seal(body.endpointCredentials, versionId: id)
            let version = ModelVersion(
                id: id, modelId: model.id, developerId: model.developerId, version: try Validate.name(body.version, field: "version"),
                state: .notified, noticedAt: now, plannedReleaseAt: body.plannedReleaseAt, windowOpensAt: window.opensAt,
                accessEndsBy: window.accessEndsBy, lateNotice: window.isLate, capabilities: body.capabilities ?? [],
                modelCard: try Validate.text(body.modelCard ?? "", field: "model_card", max: 1_000_000),
                endpointUrl: try body.endpointUrl.map { try Validate.endpoint($0) }, endpointModel: try body.endpointModel.map(Validate.endpointModel),
                hasEndpointCredentials: sealed != nil, createdAt: now, updatedAt: now)
            try await records.insert(version, sealedCredentials: sealed)
            try await audit(
                records, actor, "version.notice", "model_version", id,
                ["model": model.id, "version": version.version, "late": "\(window.isLate)"])
            return (version, "/api/v1/versions/\(id)")
        }
    }

    func readVersion(_ request: Request, _ context: Context) async throws -> Response {
        let actor = try context.requireActor()
        let id = try context.parameters.require("version_id")
        let version = try await store.transaction { records in
            let version = try await loadVersion(id, .versionRead, actor, records)
            try await audit(records, actor, "version.read", "model_version", id)
            return version
        }
        return try json(disclosed(version, to: actor))
    }

    func updateEndpoint(_ request: Request, _ context: Context) async throws -> Response {
        let actor = try context.requireActor()
        let id = try context.parameters.require("version_id")
        let (body, _) = try await decode(EndpointChange.self, from: request)
        let version = try await store.transaction { records in
            _ = try await loadVersion(id, .versionUpdateEndpoint, actor, records)
            var sealed = try await records.sealedCredentials(versionId: id)
            var change = "kept"
            if let credentials = body.endpointCredentials {
                sealed = credentials.isEmpty ? nil : try seal(credentials, versionId: id)
                change = credentials.isEmpty ? "removed" : "replaced"
            }
            try await records.updateEndpoint(
                versionId: id, url: try body.endpointUrl.map { try Validate.endpoint($0) }, model: try body.endpointModel.map(Validate.endpointModel),
                sealedCredentials: sealed, at: now())
            try await audit(records, actor, "version.endpoint", "model_version", id, ["credentials": change])
            return try await records.version(id: id)!
        }
        return try json(disclosed(version, to: actor))
    }

    func transitionVersion(_ request: Request, _ context: Context) async throws -> Response {
        let actor = try context.requireActor()
        let id = try context.parameters.require("version_id")
        let (body, _) = try await decode(TransitionRequest.self, from: request)
        let action: ProgramAction =
            switch body.to {
            case .inReview: .versionStartReview
            case .assessed: .versionMarkAssessed
            case .released: .versionRelease
            case .withdrawn, .notified: .versionWithdraw
            }
        let version = try await store.transaction { records in
            var version = try await loadVersion(id, action, actor, records)
            let from = version.state
            version.state = try from.transition(to: body.to)
            version.updatedAt = now()
            try await records.updateState(versionId: id, to: version.state, at: version.updatedAt)
            try await audit(
                records, actor, "version.transition", "model_version", id,
                ["from": from.rawValue, "to": version.state.rawValue, "reason": try Validate.reason(body.reason)])
            return version
        }
        await accessChanged()
        return try json(disclosed(version, to: actor))
    }

    func setGateway(_ request: Request, _ context: Context) async throws -> Response {
        let actor = try context.requireActor()
        let id = try context.parameters.require("version_id")
        let (body, _) = try await decode(GatewaySetting.self, from: request)
        return try json(disclosed(try await setGateway(versionId: id, body, actor: actor), to: actor))
    }

    /// Opens or closes a version's gateway (the developer's kill switch), with the audit entry:
    /// the API's and the web UI's alike. The gateway learns it at once.
    func setGateway(versionId id: String, _ body: GatewaySetting, actor: Actor) async throws -> ModelVersion {
        let version = try await store.transaction { records in
            var version = try await loadVersion(id, .versionGateway, actor, records)
            version.gatewayOpen = body.open
            if let purposes = body.purposes { version.gatewayPurposes = GrantPurpose.allCases.filter(purposes.contains) }
            version.updatedAt = now()
            try await records.updateGateway(versionId: id, open: version.gatewayOpen, purposes: version.gatewayPurposes, at: version.updatedAt)
            try await audit(
                records, actor, body.open ? "version.gateway.open" : "version.gateway.close", "model_version", id,
                ["purposes": version.gatewayPurposes.map(\.rawValue).joined(separator: ","), "reason": try Validate.reason(body.reason)])
            return version
        }
        await accessChanged()
        return version
    }

    func seal(_ credentials: String?, versionId: String) throws -> String? {
        guard let credentials, !credentials.isEmpty else { return nil }
        guard let sealer = store.sealer else {
            throw ProgramRuleError(
                .invalidField, "this server has no credentials key configured, so it cannot store credentials",
                field: "endpoint_credentials")
        }
        return try sealer.seal(credentials, context: versionId)
    }
}

extension Validate {
    static func endpoint(_ value: String, field: String = "endpoint_url") throws(ProgramRuleError) -> String {
        guard value.utf8.count <= 2_000, let url = URL(string: value), let scheme = url.scheme, ["http", "https"].contains(scheme), url.host != nil else {
            throw ProgramRuleError(.invalidField, "must be an http or https URL", field: field)
        }
        return value
    }

    static func endpointModel(_ value: String) throws(ProgramRuleError) -> String {
        try text(value, field: "endpoint_model", max: 200)
    }
}
