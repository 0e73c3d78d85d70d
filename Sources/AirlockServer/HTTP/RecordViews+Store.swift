import AirlockAPI
import AirlockCore
import AirlockStore
import Foundation

// The store's records as the API shows them: the wire types live in AirlockAPI, which does not
// know the store.

extension OrganisationView {
    init(_ record: Organisation) {
        self.init(id: record.id, name: record.name, kind: record.kind, sector: record.sector, createdAt: record.createdAt)
    }
}

extension UserView {
    init(_ record: User) {
        self.init(
            id: record.id, organisationId: record.organisationId, email: record.email, name: record.name, role: record.role,
            createdAt: record.createdAt)
    }
}

extension CommitmentView {
    init(_ record: Commitment) {
        self.init(
            id: record.id, organisationId: record.organisationId, terms: record.terms, signedBy: record.signedBy,
            effectiveFrom: record.effectiveFrom, effectiveUntil: record.effectiveUntil, createdAt: record.createdAt)
    }
}

extension CoveredModelView {
    init(_ record: CoveredModel) {
        self.init(
            id: record.id, developerId: record.developerId, name: record.name, description: record.description,
            createdAt: record.createdAt)
    }
}

extension ModelVersionView {
    init(_ record: ModelVersion) {
        self.init(
            id: record.id, modelId: record.modelId, developerId: record.developerId, version: record.version, state: record.state,
            noticedAt: record.noticedAt, plannedReleaseAt: record.plannedReleaseAt, windowOpensAt: record.windowOpensAt,
            accessEndsBy: record.accessEndsBy, lateNotice: record.lateNotice, capabilities: record.capabilities,
            modelCard: record.modelCard, endpointUrl: record.endpointUrl, endpointModel: record.endpointModel,
            hasEndpointCredentials: record.hasEndpointCredentials, gatewayOpen: record.gatewayOpen,
            gatewayPurposes: record.gatewayPurposes, createdAt: record.createdAt, updatedAt: record.updatedAt)
    }
}

extension RunView {
    init(_ record: StoredRun) {
        self.init(
            id: record.id, versionId: record.versionId, organisationId: record.organisationId, kind: record.kind,
            name: record.name, sourceId: record.sourceId, levels: record.levels, summary: record.summary,
            createdAt: record.createdAt)
    }
}

extension APIKeyView {
    init(_ record: APIKey) {
        self.init(
            id: record.id, kind: APIKeyKind(record.kind), userId: record.userId,
            grantId: record.grantId, organisationId: record.organisationId, name: record.name, createdAt: record.createdAt,
            expiresAt: record.expiresAt, revokedAt: record.revokedAt)
    }
}

extension APIKeyKind {
    init(_ kind: APIKey.Kind) {
        switch kind {
        case .user: self = .user
        case .session: self = .session
        case .grant: self = .grant
        }
    }
}

extension AuditEntryView {
    init(_ record: AuditEntry) {
        self.init(
            sequence: record.sequence, at: record.at, actorUserId: record.actorUserId,
            actorOrganisationId: record.actorOrganisationId, action: record.action, objectType: record.objectType,
            objectId: record.objectId, detail: record.detail, previousHash: record.previousHash, hash: record.hash)
    }
}

extension GrantView {
    /// `grant` with its decisions and its status at `now`.
    init(_ grant: AccessGrant, now: Date) {
        self.init(
            id: grant.id, versionId: grant.versionId, granteeId: grant.granteeId, purpose: grant.purpose, startsAt: grant.startsAt,
            endsAt: grant.endsAt, tokenQuota: grant.tokenQuota, requestsPerMinute: grant.requestsPerMinute,
            tokensPerMinute: grant.tokensPerMinute, maxConcurrent: grant.maxConcurrent, recordContent: grant.recordContent,
            tokensUsed: grant.tokensUsed, status: grant.status(at: now), approvedAt: grant.decisions.approvedAt,
            consentedAt: grant.decisions.consentedAt, revokedAt: grant.decisions.revokedAt, createdBy: grant.createdBy,
            createdAt: grant.createdAt)
    }
}
