import AirlockCore
import Foundation

/// `POST /sessions`: a session token, when it expires, and who it is for.
public struct SessionView: Codable, Sendable {
    public var token: String
    public var expiresAt: Date
    public var user: User
    public var organisation: Organisation

    public init(token: String, expiresAt: Date, user: User, organisation: Organisation) {
        self.token = token
        self.expiresAt = expiresAt
        self.user = user
        self.organisation = organisation
    }
}

/// A key together with its secret, which is shown this once and never again.
public struct IssuedKey: Codable, Sendable {
    public var key: APIKeyView
    public var secret: String

    public init(key: APIKeyView, secret: String) {
        self.key = key
        self.secret = secret
    }
}

/// `GET /me`: the caller and its organisation.
public struct Me: Codable, Sendable {
    public var user: User
    public var organisation: Organisation

    public init(user: User, organisation: Organisation) {
        self.user = user
        self.organisation = organisation
    }
}

/// A grant as the API shows it: its fields, its decisions and its status now.
public struct GrantView: Codable, Sendable {
    public var id: String
    public var versionId: String
    public var granteeId: String
    public var purpose: GrantPurpose
    public var startsAt: Date
    public var endsAt: Date
    public var tokenQuota: Int64
    public var requestsPerMinute: Int
    public var tokensPerMinute: Int64?
    public var maxConcurrent: Int
    public var recordContent: Bool
    public var tokensUsed: Int64
    public var status: GrantStatus
    public var approvedAt: Date?
    public var consentedAt: Date?
    public var revokedAt: Date?
    public var createdBy: String
    public var createdAt: Date

    public init(
        id: String, versionId: String, granteeId: String, purpose: GrantPurpose, startsAt: Date, endsAt: Date, tokenQuota: Int64,
        requestsPerMinute: Int, tokensPerMinute: Int64? = nil, maxConcurrent: Int, recordContent: Bool, tokensUsed: Int64,
        status: GrantStatus, approvedAt: Date? = nil, consentedAt: Date? = nil, revokedAt: Date? = nil, createdBy: String,
        createdAt: Date
    ) {
        self.id = id
        self.versionId = versionId
        self.granteeId = granteeId
        self.purpose = purpose
        self.startsAt = startsAt
        self.endsAt = endsAt
        self.tokenQuota = tokenQuota
        self.requestsPerMinute = requestsPerMinute
        self.tokensPerMinute = tokensPerMinute
        self.maxConcurrent = maxConcurrent
        self.recordContent = recordContent
        self.tokensUsed = tokensUsed
        self.status = status
        self.approvedAt = approvedAt
        self.consentedAt = consentedAt
        self.revokedAt = revokedAt
        self.createdBy = createdBy
        self.createdAt = createdAt
    }
}
