import AirlockCore
import Foundation

// MARK: Sessions, keys, organisations and users

/// `POST /sessions`: an email and password for a session token.
public struct SignIn: Codable, Sendable {
    public var email: String
    public var password: String
    /// The one-time code of an account with a second factor.
    public var code: String?

    public init(email: String, password: String, code: String? = nil) {
        self.email = email
        self.password = password
        self.code = code
    }
}

/// `POST /me/keys` and `POST /grants/{id}/keys`: a named key, expiring or not.
public struct NewKey: Codable, Sendable {
    public var name: String
    public var expiresAt: Date?

    public init(name: String, expiresAt: Date? = nil) {
        self.name = name
        self.expiresAt = expiresAt
    }
}

/// `POST /organisations`.
public struct NewOrganisation: Codable, Sendable {
    public var name: String
    public var kind: OrganisationKind
    /// An infrastructure operator's sector, which it needs.
    public var sector: InfrastructureSector?

    public init(name: String, kind: OrganisationKind, sector: InfrastructureSector? = nil) {
        self.name = name
        self.kind = kind
        self.sector = sector
    }
}

/// `POST /organisations/{id}/users`.
public struct NewUser: Codable, Sendable {
    public var email: String
    public var name: String
    public var role: MemberRole
    /// For signing in to the web UI and `airlock login` (``PasswordRule``); users of API keys alone need none.
    public var password: String?

    public init(email: String, name: String, role: MemberRole, password: String? = nil) {
        self.email = email
        self.name = name
        self.role = role
        self.password = password
    }
}

// MARK: Commitments, models and versions

/// `POST /commitments`: a developer's commitment as signed.
public struct NewCommitment: Codable, Sendable {
    public var terms: String
    public var effectiveFrom: Date
    public var effectiveUntil: Date?

    public init(terms: String, effectiveFrom: Date, effectiveUntil: Date? = nil) {
        self.terms = terms
        self.effectiveFrom = effectiveFrom
        self.effectiveUntil = effectiveUntil
    }
}

/// `POST /models`: a covered model.
public struct NewModel: Codable, Sendable {
    public var name: String
    public var description: String?

    public init(name: String, description: String? = nil) {
        self.name = name
        self.description = description
    }
}

/// `POST /models/{id}/versions`: a pre-release notice.
public struct NewVersion: Codable, Sendable {
    public var version: String
    public var plannedReleaseAt: Date
    public var capabilities: [String]?
    public var modelCard: String?
    public var endpointUrl: String?
    public var endpointModel: String?
    /// Sealed at rest; never returned.
    public var endpointCredentials: String?

    public init(
        version: String, plannedReleaseAt: Date, capabilities: [String]? = nil, modelCard: String? = nil,
        endpointUrl: String? = nil, endpointModel: String? = nil, endpointCredentials: String? = nil
    ) {
        self.version = version
        self.plannedReleaseAt = plannedReleaseAt
        self.capabilities = capabilities
        self.modelCard = modelCard
        self.endpointUrl = endpointUrl
        self.endpointModel = endpointModel
        self.endpointCredentials = endpointCredentials
    }
}

/// `PUT /versions/{id}/endpoint`: where reviewers reach the version.
public struct EndpointChange: Codable, Sendable {
    public var endpointUrl: String?
    public var endpointModel: String?
    /// Omitted: keep the stored credentials. Empty: remove them.
    public var endpointCredentials: String?

    public init(endpointUrl: String? = nil, endpointModel: String? = nil, endpointCredentials: String? = nil) {
        self.endpointUrl = endpointUrl
        self.endpointModel = endpointModel
        self.endpointCredentials = endpointCredentials
    }
}

/// `PUT /versions/{id}/gateway`: the developer's kill switch, and the purposes the gateway lets through.
public struct GatewaySetting: Codable, Sendable {
    public var open: Bool
    public var purposes: [GrantPurpose]?
    public var reason: String?

    public init(open: Bool, purposes: [GrantPurpose]? = nil, reason: String? = nil) {
        self.open = open
        self.purposes = purposes
        self.reason = reason
    }
}

/// `POST /versions/{id}/transitions`: a move to another review state.
public struct TransitionRequest: Codable, Sendable {
    public var to: ModelVersionState
    public var reason: String?

    public init(to: ModelVersionState, reason: String? = nil) {
        self.to = to
        self.reason = reason
    }
}

// MARK: Grants and runs

/// `POST /grants`: access to a version for an organisation, for a purpose and a time.
public struct NewGrant: Codable, Sendable {
    public var versionId: String
    public var granteeId: String
    public var purpose: GrantPurpose
    public var startsAt: Date
    public var endsAt: Date
    public var tokenQuota: Int64
    public var requestsPerMinute: Int
    public var tokensPerMinute: Int64?
    public var maxConcurrent: Int?
    public var recordContent: Bool?

    public init(
        versionId: String, granteeId: String, purpose: GrantPurpose, startsAt: Date, endsAt: Date, tokenQuota: Int64,
        requestsPerMinute: Int, tokensPerMinute: Int64? = nil, maxConcurrent: Int? = nil, recordContent: Bool? = nil
    ) {
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
    }

    /// The ranges the server accepts (400 naming the field outside them), small enough that the
    /// gateway's sums of tokens and requests never overflow.
    public static let tokenQuotaRange: ClosedRange<Int64> = 1...1_000_000_000_000
    public static let requestsPerMinuteRange: ClosedRange<Int> = 1...1_000_000
    public static let tokensPerMinuteRange: ClosedRange<Int64> = 1...1_000_000_000
    public static let maxConcurrentRange: ClosedRange<Int> = 1...1_000
}

/// `POST /grants/{id}/approve`, `consent` and `revoke`: why, for the audit log.
public struct GrantDecision: Codable, Sendable {
    public var reason: String?

    public init(reason: String? = nil) {
        self.reason = reason
    }
}

/// `POST /versions/{id}/runs`: an evaluation or assessment run's results.
public struct NewRun: Codable, Sendable {
    /// `eval` or `assessment`.
    public var kind: String
    public var name: String
    public var sourceId: String?
    public var levels: [String: String]?
    public var summary: JSONValue?
    /// With it, the run is submitted to the program's workers; without it, the run's results
    /// are imported from outside (`runs import`).
    public var execution: NewRunExecution?

    public init(
        kind: String, name: String, sourceId: String? = nil, levels: [String: String]? = nil, summary: JSONValue? = nil, execution: NewRunExecution? = nil
    ) {
        self.kind = kind
        self.name = name
        self.sourceId = sourceId
        self.levels = levels
        self.summary = summary
        self.execution = execution
    }
}

/// What a run submitted to the program's workers runs: an uploaded bundle's task, under the
/// submitter's grant, with the attempts the submitter planned from the task. For an assessment
/// (`kind: assessment`), `task_path` is the policy's path and each suite is a run of its own.
public struct NewRunExecution: Codable, Sendable {
    public var bundleDigest: String
    public var taskPath: String
    public var grantId: String
    /// The workers that may take it (default `default`).
    public var pool: String?
    /// An eval run's attempts (none for an assessment: its suites have them).
    public var attempts: [PlannedAttempt]
    public var seed: UInt64?
    public var completions: Bool?
    /// Models for the task's other roles (a grader). Their keys are sealed and never shown again.
    public var roles: [String: RoleEndpoint]?
    public var epochs: Int?
    public var limit: Int?
    public var maxTokens: Int?
    /// An assessment's suites that run, each a run of its own.
    public var suites: [NewRunSuite]?

    public init(
        bundleDigest: String, taskPath: String, grantId: String, pool: String? = nil, attempts: [PlannedAttempt], seed: UInt64? = nil,
        completions: Bool? = nil, roles: [String: RoleEndpoint]? = nil, epochs: Int? = nil, limit: Int? = nil, maxTokens: Int? = nil,
        suites: [NewRunSuite]? = nil
    ) {
        self.bundleDigest = bundleDigest
        self.taskPath = taskPath
        self.grantId = grantId
        self.pool = pool
        self.attempts = attempts
        self.seed = seed
        self.completions = completions
        self.roles = roles
        self.epochs = epochs
        self.limit = limit
        self.maxTokens = maxTokens
        self.suites = suites
    }
}

/// A model bound to a role of a run's task: `provider/name` at a base URL, with its key.
public struct RoleEndpoint: Codable, Sendable, Hashable {
    public var model: String
    public var baseUrl: String
    /// Secret: sealed at rest, and shown only to the run's workers.
    public var apiKey: String?

    public init(model: String, baseUrl: String, apiKey: String? = nil) {
        self.model = model
        self.baseUrl = baseUrl
        self.apiKey = apiKey
    }
}

/// One suite of a submitted assessment: its task in the bundle and its planned attempts.
public struct NewRunSuite: Codable, Sendable {
    /// The suite's id in the policy.
    public var suite: String
    public var taskPath: String
    public var attempts: [PlannedAttempt]
    public var epochs: Int?
    public var limit: Int?
    public var maxTokens: Int?

    public init(suite: String, taskPath: String, attempts: [PlannedAttempt], epochs: Int? = nil, limit: Int? = nil, maxTokens: Int? = nil) {
        self.suite = suite
        self.taskPath = taskPath
        self.attempts = attempts
        self.epochs = epochs
        self.limit = limit
        self.maxTokens = maxTokens
    }
}

/// One attempt of a run: a sample and an epoch (from 1).
public struct PlannedAttempt: Codable, Sendable, Hashable {
    public var sampleId: String
    public var epoch: Int

    public init(sampleId: String, epoch: Int) {
        self.sampleId = sampleId
        self.epoch = epoch
    }
}

/// `POST /runs/{id}/attempts`: a worker's result for one attempt.
public struct NewAttempt: Codable, Sendable {
    public var sampleId: String
    public var epoch: Int
    /// `scored` or `failed`.
    public var status: String
    /// The sample's record as the engine wrote it: one JSON object, as text (kept as it came).
    public var record: String
    /// The gateway's ids of the calls that produced it, in order.
    public var gatewayCallIds: [String]
    /// The worker's name (its machine), kept beside the worker's user.
    public var worker: String
    /// The run's round the attempt was taken in: a failed result of a round before a resume
    /// is not kept.
    public var round: Int?

    public init(sampleId: String, epoch: Int, status: String, record: String, gatewayCallIds: [String], worker: String, round: Int?) {
        self.sampleId = sampleId
        self.epoch = epoch
        self.status = status
        self.record = record
        self.gatewayCallIds = gatewayCallIds
        self.worker = worker
        self.round = round
    }
}
