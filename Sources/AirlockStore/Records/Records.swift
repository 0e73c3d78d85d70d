import AirlockCore
import Foundation

/// A key that authenticates requests: a user's API key, a sign-in session, or a grant's gateway key.
public struct APIKey: Sendable, Hashable, Codable {
    public enum Kind: String, Sendable, Hashable, Codable { case user, session, grant }

    public var id: String
    public var kind: Kind
    public var userId: String?
    public var grantId: String?
    public var organisationId: String
    public var name: String
    public var createdAt: Date
    public var expiresAt: Date?
    public var revokedAt: Date?

    public init(id: String, kind: Kind, userId: String? = nil, grantId: String? = nil, organisationId: String, name: String, createdAt: Date, expiresAt: Date? = nil, revokedAt: Date? = nil) {
        self.id = id
        self.kind = kind
        self.userId = userId
        self.grantId = grantId
        self.organisationId = organisationId
        self.name = name
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.revokedAt = revokedAt
    }
}

/// What happened, before it takes its place in the audit chain.
public struct AuditEvent: Sendable, Hashable {
    public var at: Date
    public var actorUserId: String?
    public var actorOrganisationId: String?
    public var action: String
    public var objectType: String
    public var objectId: String?
    /// What changed; never a secret.
    public var detail: [String: String]

    public init(
        at: Date, actorUserId: String?, actorOrganisationId: String?, action: String, objectType: String, objectId: String?,
        detail: [String: String] = [:]
    ) {
        self.at = at
        self.actorUserId = actorUserId
        self.actorOrganisationId = actorOrganisationId
        self.action = action
        self.objectType = objectType
        self.objectId = objectId
        self.detail = detail
    }
}
