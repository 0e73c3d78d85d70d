import AirlockAPI
import AirlockCore
import AirlockStore
import Foundation
import Hummingbird

extension ProgramAPI {
    func listGrants(_ request: Request, _ context: Context) async throws -> Response {
        let actor = try context.requireActor()
        let query = try ListQuery(request)
        let versionId = request.uri.queryParameters["version_id"].map(String.init)
        let page = try await store.transaction { records in
            let page = try await records.grants(
                versionId: versionId, visibleTo: visibility(of: actor), after: query.cursor, limit: query.limit)
            try await audit(records, actor, "grant.list", "grant", nil, ["count": "\(page.items.count)"])
            return page
        }
        let now = now()
        return try json(ListPage(page) { GrantView($0, now: now) })
    }

    func createGrant(_ request: Request, _ context: Context) async throws -> Response {
        try await create(request, context, NewGrant.self) { records, actor, body in
            let version = try await loadVersion(body.versionId, .grantCreate, actor, records)
            guard [.notified, .inReview, .assessed].contains(version.state) else {
                throw ProgramRuleError(.invalidGrantState, "version is \(version.state.rawValue); no new grants", field: "version_id")
            }
            guard let grantee = try await records.organisation(id: body.granteeId) else {
                throw ProgramRuleError(.invalidField, "no organisation with that id", field: "grantee_id")
            }
            guard grantee.id != version.developerId else {
                throw ProgramRuleError(.invalidField, "the developer needs no grant to its own model", field: "grantee_id")
            }
            try Validate.range(body.tokenQuota, NewGrant.tokenQuotaRange, field: "token_quota")
            try Validate.range(body.requestsPerMinute, NewGrant.requestsPerMinuteRange, field: "requests_per_minute")
            if let perMinute = body.tokensPerMinute { try Validate.range(perMinute, NewGrant.tokensPerMinuteRange, field: "tokens_per_minute") }
            if let concurrent = body.maxConcurrent { try Validate.range(concurrent, NewGrant.maxConcurrentRange, field: "max_concurrent") }
            let window = ReviewWindow(
                opensAt: version.windowOpensAt, plannedRelease: version.plannedReleaseAt, accessEndsBy: version.accessEndsBy,
                isLate: version.lateNotice)
            try window.checkGrant(start: body.startsAt, end: body.endsAt)
            let grant = AccessGrant(
                id: Identifier.make("grt"), versionId: version.id, granteeId: grantee.id, purpose: body.purpose,
                startsAt: body.startsAt, endsAt: body.endsAt, tokenQuota: body.tokenQuota, requestsPerMinute: body.requestsPerMinute,
                tokensPerMinute: body.tokensPerMinute, maxConcurrent: body.maxConcurrent ?? 4, recordContent: body.recordContent ?? false,
                decisions: GrantDecisions(), createdBy: actor.user.id, createdAt: now())
            try await records.insert(grant)
            try await audit(
                records, actor, "grant.create", "grant", grant.id,
                ["version": version.id, "grantee": grantee.id, "purpose": body.purpose.rawValue])
            return (GrantView(grant, now: now()), "/api/v1/grants/\(grant.id)")
        }
    }

    func loadGrant(_ id: String, _ action: ProgramAction, _ actor: Actor, _ records: ProgramRecords) async throws -> AccessGrant {
        guard let grant = try await records.grant(id: id), let version = try await records.version(id: grant.versionId) else {
            throw ProblemDetails.notFound("grant")
        }
        try authorize(action, actor, relation(of: actor, toGrant: grant, version: version), hiding: "grant")
        return grant
    }

    func readGrant(_ request: Request, _ context: Context) async throws -> Response {
        let actor = try context.requireActor()
        let id = try context.parameters.require("grant_id")
        let grant = try await store.transaction { records in
            let grant = try await loadGrant(id, .grantRead, actor, records)
            try await audit(records, actor, "grant.read", "grant", id)
            return grant
        }
        return try json(GrantView(grant, now: now()))
    }

    /// Approval, consent or revocation: one event on the grant's decisions, audited.
    func decideGrant(_ action: ProgramAction, _ request: Request, _ context: Context) async throws -> Response {
        let actor = try context.requireActor()
        let id = try context.parameters.require("grant_id")
        let (body, _) = try await decode(GrantDecision.self, from: request, emptyAllowed: true)
        let grant = try await decide(action, grantId: id, reason: body.reason, actor: actor)
        return try json(GrantView(grant, now: now()))
    }

    /// Approves, consents to or revokes a grant as `actor`, with the audit entry (the API's and
    /// the web UI's decisions alike); a revocation revokes the grant's keys at once.
    func decide(_ action: ProgramAction, grantId id: String, reason: String?, actor: Actor) async throws -> AccessGrant {
        let grant = try await store.transaction { records in
            var grant = try await loadGrant(id, action, actor, records)
            let now = now()
            let name: String
            switch action {
            case .grantApprove:
                try grant.decisions.approve(at: now)
                name = "grant.approve"
            case .grantConsent:
                try grant.decisions.consent(at: now)
                name = "grant.consent"
            default:
                try grant.decisions.revoke(at: now)
                name = "grant.revoke"
                // Revocation is at once: the grant's gateway keys stop working with it.
                for key in try await records.keys(grantId: id) { try await records.revokeKey(id: key.id, at: now) }
            }
            try await records.updateDecisions(grantId: id, grant.decisions)
            try await audit(records, actor, name, "grant", id, ["reason": try Validate.reason(reason), "status": grant.status(at: now).rawValue])
            return grant
        }
        await accessChanged()
        return grant
    }

    func listGrantKeys(_ request: Request, _ context: Context) async throws -> Response {
        let actor = try context.requireActor()
        let id = try context.parameters.require("grant_id")
        let keys = try await store.transaction { records in
            _ = try await loadGrant(id, .grantKeyList, actor, records)
            try await audit(records, actor, "grant.keys.list", "grant", id)
            return try await records.keys(grantId: id)
        }
        return try json(ListPage(items: keys.map(APIKeyView.init)))
    }

    func createGrantKey(_ request: Request, _ context: Context) async throws -> Response {
        let id = try context.parameters.require("grant_id")
        let issued = try await create(request, context, NewKey.self, revealsSecret: true) { records, actor, body in
            let (key, secret) = try await issueGrantKey(grantId: id, name: body.name, expiresAt: body.expiresAt, actor: actor, records)
            return (IssuedKey(key: APIKeyView(key), secret: secret), "/api/v1/grants/\(id)/keys")
        }
        // The gateway reloads before the key is handed over: it works the moment it is issued.
        await accessChanged()
        return issued
    }

    /// Issues a key of an active grant, inside the caller's transaction (the API's and the web
    /// UI's alike): it ends with the grant at the latest; its secret is returned once.
    func issueGrantKey(grantId id: String, name: String, expiresAt: Date?, actor: Actor, _ records: ProgramRecords) async throws -> (APIKey, String) {
        let grant = try await loadGrant(id, .grantKeyCreate, actor, records)
        let now = now()
        guard grant.status(at: now) == .active else {
            throw ProgramRuleError(
                .invalidGrantState,
                "the grant is \(grant.status(at: now).rawValue); keys are issued once it is approved and consented")
        }
        if let expiresAt, expiresAt <= now {
            throw ProgramRuleError(.invalidField, "must be in the future", field: "expires_at")
        }
        let secret = Identifier.secret("alg")
        let key = APIKey(
            id: Identifier.make("key"), kind: .grant, userId: actor.user.id, grantId: id, organisationId: actor.organisation.id,
            name: try Validate.name(name, field: "name"), createdAt: now, expiresAt: min(expiresAt ?? grant.endsAt, grant.endsAt), revokedAt: nil)
        try await records.insert(key, secret: secret)
        try await audit(records, actor, "grant.key.create", "grant", id, ["key": key.id])
        return (key, secret)
    }
}
