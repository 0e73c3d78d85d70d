import AirlockAPI
import AirlockCore
import AirlockStore
import Foundation

// The store's records as the API shows them: the wire types live in AirlockAPI, which does not
// know the store.

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
