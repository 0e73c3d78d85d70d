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
        self.actorUserId = actorUserId.map(Self.capped)
        self.actorOrganisationId = actorOrganisationId.map(Self.capped)
        self.action = Self.capped(action)
        self.objectType = Self.capped(objectType)
        self.objectId = objectId.map(Self.capped)
        self.detail = Dictionary(detail.map { (Self.capped($0.key), Self.capped($0.value)) }, uniquingKeysWith: { first, _ in first })
    }

    /// The most UTF-8 bytes of any one field the log keeps (each id, name, detail key and
    /// value): the log is append-only, so what a client sends must not grow it without bound.
    public static let fieldLimit = 1_024

    /// `value`, or its first characters within ``fieldLimit`` bytes and a marker saying how
    /// many bytes were cut (`…[cut 1048320 bytes]`).
    public static func capped(_ value: String) -> String {
        guard value.utf8.count > fieldLimit else { return value }
        var kept = ""
        var bytes = 0
        // Leave room for the marker; cut between characters, never inside one.
        for character in value {
            let size = character.utf8.count
            guard bytes + size <= fieldLimit - 32 else { break }
            kept.append(character)
            bytes += size
        }
        return kept + "…[cut \(value.utf8.count - bytes) bytes]"
    }
}
