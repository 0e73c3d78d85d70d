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

/// `PUT /bundles/{digest}`: the bundle kept under its digest.
public struct BundleReceipt: Codable, Sendable {
    public var digest: String
    public var size: Int

    public init(digest: String, size: Int) {
        self.digest = digest
        self.size = size
    }
}

/// `POST /runs/{id}/assignments`: what a worker needs to run a run's attempts, with a grant key
/// minted for this worker and this run (revoked when the run ends).
public struct RunAssignmentView: Codable, Sendable {
    public var runId: String
    public var execution: RunExecution
    /// A grant key for the access gateway, shown to this worker once.
    public var gatewayKey: String
    /// The keys of the models bound to the run's roles, by role (secret).
    public var roleKeys: [String: String]

    public init(runId: String, execution: RunExecution, gatewayKey: String, roleKeys: [String: String]) {
        self.runId = runId
        self.execution = execution
        self.gatewayKey = gatewayKey
        self.roleKeys = roleKeys
    }
}

/// An attempt's kept result. The record comes only when one attempt is asked for.
public struct AttemptView: Codable, Sendable {
    public var sampleId: String
    public var epoch: Int
    public var status: String
    public var worker: String
    public var gatewayCallIds: [String]
    public var createdAt: Date
    /// The sample's record as the engine wrote it, as JSON text.
    public var record: String?
    /// The value of the scorer the list was asked for (the run's first by default).
    public var score: Double?
    public var failureCause: String?

    public init(
        sampleId: String, epoch: Int, status: String, worker: String, gatewayCallIds: [String], createdAt: Date, record: String? = nil,
        score: Double? = nil, failureCause: String? = nil
    ) {
        self.score = score
        self.failureCause = failureCause
        self.sampleId = sampleId
        self.epoch = epoch
        self.status = status
        self.worker = worker
        self.gatewayCallIds = gatewayCallIds
        self.createdAt = createdAt
        self.record = record
    }
}

/// `POST /runs/{id}/attempts`: whether this result was kept (false: one was kept before), and
/// the run's state after it.
public struct CommittedAttempt: Codable, Sendable {
    public var kept: Bool
    public var runState: RunState?

    public init(kept: Bool, runState: RunState?) {
        self.kept = kept
        self.runState = runState
    }
}
