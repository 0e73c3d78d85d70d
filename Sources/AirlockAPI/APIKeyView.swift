import AirlockCore
import Foundation

/// What a key opens: a user's API key, a sign-in session, or a grant's gateway key.
public enum APIKeyKind: String, Codable, Sendable, Hashable, CaseIterable {
    case user, session, grant
}

/// A key, as the API shows it: never its secret.
public struct APIKeyView: Codable, Sendable {
    public var id: String
    public var kind: APIKeyKind
    public var userId: String?
    public var grantId: String?
    public var organisationId: String
    public var name: String
    public var createdAt: Date
    public var expiresAt: Date?
    public var revokedAt: Date?

    public init(
        id: String, kind: APIKeyKind, userId: String? = nil, grantId: String? = nil, organisationId: String, name: String,
        createdAt: Date, expiresAt: Date? = nil, revokedAt: Date? = nil
    ) {
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
