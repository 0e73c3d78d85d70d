import Foundation

// The program's entities: what organisations, people, commitments, models, versions, grants,
// runs and audit entries are. Pure values, stored by AirlockStore (which keeps its digests and
// sealed secrets apart) and sent as they are over the API (AirlockAPI), so each exists once.

/// A participant in the program.
public struct Organisation: Sendable, Hashable, Codable {
    public var id: String
    public var name: String
    public var kind: OrganisationKind
    /// Set for infrastructure operators.
    public var sector: InfrastructureSector?
    public var createdAt: Date

    public init(id: String, name: String, kind: OrganisationKind, sector: InfrastructureSector? = nil, createdAt: Date) {
        self.id = id
        self.name = name
        self.kind = kind
        self.sector = sector
        self.createdAt = createdAt
    }
}

/// A person who signs in for an organisation.
public struct User: Sendable, Hashable, Codable {
    public var id: String
    public var organisationId: String
    public var email: String
    public var name: String
    public var role: MemberRole
    public var createdAt: Date

    public init(id: String, organisationId: String, email: String, name: String, role: MemberRole, createdAt: Date) {
        self.id = id
        self.organisationId = organisationId
        self.email = email
        self.name = name
        self.role = role
        self.createdAt = createdAt
    }
}

/// A developer's signed-up, voluntary participation in the program.
public struct Commitment: Sendable, Hashable, Codable {
    public var id: String
    public var organisationId: String
    /// The terms as signed, verbatim.
    public var terms: String
    /// The user who signed.
    public var signedBy: String
    public var effectiveFrom: Date
    public var effectiveUntil: Date?
    public var createdAt: Date

    public init(id: String, organisationId: String, terms: String, signedBy: String, effectiveFrom: Date, effectiveUntil: Date? = nil, createdAt: Date) {
        self.id = id
        self.organisationId = organisationId
        self.terms = terms
        self.signedBy = signedBy
        self.effectiveFrom = effectiveFrom
        self.effectiveUntil = effectiveUntil
        self.createdAt = createdAt
    }
}

/// A frontier model a developer brings under the program.
public struct CoveredModel: Sendable, Hashable, Codable {
    public var id: String
    public var developerId: String
    public var name: String
    public var description: String
    public var createdAt: Date

    public init(id: String, developerId: String, name: String, description: String, createdAt: Date) {
        self.id = id
        self.developerId = developerId
        self.name = name
        self.description = description
        self.createdAt = createdAt
    }
}

/// One pre-release version of a covered model, from its notice to release or withdrawal.
public struct ModelVersion: Sendable, Hashable, Codable {
    public var id: String
    public var modelId: String
    public var developerId: String
    public var version: String
    public var state: ModelVersionState
    public var noticedAt: Date
    public var plannedReleaseAt: Date
    public var windowOpensAt: Date
    /// The latest end of any grant: planned release plus the grace period.
    public var accessEndsBy: Date
    /// Filed later than the notice period asks.
    public var lateNotice: Bool
    public var capabilities: [String]
    public var modelCard: String
    /// Where the gateway reaches the model; credentials are stored sealed and never returned.
    public var endpointUrl: String?
    public var endpointModel: String?
    public var hasEndpointCredentials: Bool
    /// The developer's kill switch: false cuts every grantee off at the gateway at once.
    public var gatewayOpen: Bool
    /// The grant purposes the gateway lets through to this version.
    public var gatewayPurposes: [GrantPurpose]
    public var createdAt: Date
    public var updatedAt: Date

    public init(id: String, modelId: String, developerId: String, version: String, state: ModelVersionState, noticedAt: Date, plannedReleaseAt: Date, windowOpensAt: Date, accessEndsBy: Date, lateNotice: Bool, capabilities: [String], modelCard: String, endpointUrl: String? = nil, endpointModel: String? = nil, hasEndpointCredentials: Bool, gatewayOpen: Bool = true, gatewayPurposes: [GrantPurpose] = GrantPurpose.allCases, createdAt: Date, updatedAt: Date) {
        self.id = id
        self.modelId = modelId
        self.developerId = developerId
        self.version = version
        self.state = state
        self.noticedAt = noticedAt
        self.plannedReleaseAt = plannedReleaseAt
        self.windowOpensAt = windowOpensAt
        self.accessEndsBy = accessEndsBy
        self.lateNotice = lateNotice
        self.capabilities = capabilities
        self.modelCard = modelCard
        self.endpointUrl = endpointUrl
        self.endpointModel = endpointModel
        self.hasEndpointCredentials = hasEndpointCredentials
        self.gatewayOpen = gatewayOpen
        self.gatewayPurposes = gatewayPurposes
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// Access to one model version for one organisation, for one purpose, for a time.
public struct AccessGrant: Sendable, Hashable, Codable {
    public var id: String
    public var versionId: String
    public var granteeId: String
    public var purpose: GrantPurpose
    public var startsAt: Date
    public var endsAt: Date
    /// Tokens (prompt and completion) the grantee may use in all.
    public var tokenQuota: Int64
    public var requestsPerMinute: Int
    /// Tokens a minute at the gateway; nil: only the quota limits them.
    public var tokensPerMinute: Int64?
    /// Calls at once at the gateway.
    public var maxConcurrent: Int
    /// Whether the gateway keeps each call's content (sealed at rest).
    public var recordContent: Bool
    /// Tokens the gateway has charged to the grant so far.
    public var tokensUsed: Int64
    public var decisions: GrantDecisions
    public var createdBy: String
    public var createdAt: Date

    public func status(at now: Date) -> GrantStatus { decisions.status(at: now, endsAt: endsAt) }

    public init(id: String, versionId: String, granteeId: String, purpose: GrantPurpose, startsAt: Date, endsAt: Date, tokenQuota: Int64, requestsPerMinute: Int, tokensPerMinute: Int64? = nil, maxConcurrent: Int = 4, recordContent: Bool = false, tokensUsed: Int64 = 0, decisions: GrantDecisions, createdBy: String, createdAt: Date) {
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
        self.decisions = decisions
        self.createdBy = createdBy
        self.createdAt = createdAt
    }
}

/// An evaluation or assessment run attached to a model version.
public struct StoredRun: Sendable, Hashable, Codable {
    public var id: String
    public var versionId: String
    public var organisationId: String
    /// `eval` for an engine run, `assessment` for a battery assessment.
    public var kind: String
    public var name: String
    /// The run's own id in its log folder, when imported.
    public var sourceId: String?
    /// Capability levels by domain, for assessments.
    public var levels: [String: String]
    /// The run's summary as the engine wrote it.
    public var summary: JSONValue
    public var createdAt: Date
    /// Where its evidence comes from.
    public var origin: RunOrigin
    /// Where a run on the program's workers stands; nil for an imported one.
    public var state: RunState?
    /// What a run on the program's workers runs; nil for an imported one.
    public var execution: RunExecution?

    public init(
        id: String, versionId: String, organisationId: String, kind: String, name: String, sourceId: String? = nil, levels: [String: String], summary: JSONValue,
        createdAt: Date, origin: RunOrigin = .imported, state: RunState? = nil, execution: RunExecution? = nil
    ) {
        self.id = id
        self.versionId = versionId
        self.organisationId = organisationId
        self.kind = kind
        self.name = name
        self.sourceId = sourceId
        self.levels = levels
        self.summary = summary
        self.createdAt = createdAt
        self.origin = origin
        self.state = state
        self.execution = execution
    }
}

/// Where a run's evidence comes from.
public enum RunOrigin: String, Sendable, Hashable, Codable {
    /// A summary an evaluator posted from a run on its own machine (`runs import`): outside evidence.
    case imported
    /// Run by the program's workers, every sample kept with the gateway calls that produced it.
    case server
}

/// What a run on the program's workers runs.
public struct RunExecution: Sendable, Hashable, Codable {
    /// The SHA-256 of the run's bundle (its task and everything the task reads), in hex.
    public var bundleDigest: String
    /// The task file's path inside the bundle.
    public var taskPath: String
    /// The grant its calls to the model under test go through.
    public var grantId: String
    /// The workers that may take its attempts.
    public var pool: String
    /// The attempts it must make (samples × epochs).
    public var plannedAttempts: Int
    /// The seed of the run's sample order and choices, as `airlock eval --seed`.
    public var seed: UInt64
    /// Whether the model under test is called through the gateway's `/v1/completions` (a base
    /// model) rather than its chat completions.
    public var completions: Bool
    /// How many times it was resumed: its attempts are published anew in each round.
    public var round: Int
    /// Models bound to the task's other roles (a grader), where the workers reach them. Their
    /// keys are kept sealed apart and shown only to the run's workers.
    public var roles: [String: RunRole]?
    /// Epochs per sample, as `airlock eval --epochs` (nil: the task's).
    public var epochs: Int?
    /// The task's first samples only, as `airlock eval --limit`.
    public var limit: Int?
    /// The most tokens one generation may take (an assessment's quick suites).
    public var maxTokens: Int?
    /// The assessment this run is one suite of.
    public var assessment: RunSuiteLink?
    /// An assessment's runs, by suite id.
    public var suites: [String: String]?

    public init(
        bundleDigest: String, taskPath: String, grantId: String, pool: String, plannedAttempts: Int, seed: UInt64 = 42, completions: Bool = false,
        round: Int = 0, roles: [String: RunRole]? = nil, epochs: Int? = nil, limit: Int? = nil, maxTokens: Int? = nil, assessment: RunSuiteLink? = nil
    ) {
        self.roles = roles
        self.epochs = epochs
        self.limit = limit
        self.maxTokens = maxTokens
        self.assessment = assessment
        self.bundleDigest = bundleDigest
        self.taskPath = taskPath
        self.grantId = grantId
        self.pool = pool
        self.plannedAttempts = plannedAttempts
        self.seed = seed
        self.completions = completions
        self.round = round
    }
}

/// A model bound to a role of a run's task, as the run shows it: never its key.
public struct RunRole: Sendable, Hashable, Codable {
    /// `provider/name`, as `--model-role`.
    public var model: String
    public var baseUrl: String
    /// Whether a key was given (kept sealed).
    public var keyed: Bool

    public init(model: String, baseUrl: String, keyed: Bool) {
        self.model = model
        self.baseUrl = baseUrl
        self.keyed = keyed
    }
}

/// Which assessment a run is a suite of.
public struct RunSuiteLink: Sendable, Hashable, Codable {
    /// The assessment's own run (kind `assessment`), which holds its report.
    public var runId: String
    /// The suite's id in the policy.
    public var suite: String

    public init(runId: String, suite: String) {
        self.runId = runId
        self.suite = suite
    }
}

/// One attempt's result from a worker, kept once per (run, sample, epoch).
public struct StoredAttempt: Sendable, Hashable, Codable {
    public var runId: String
    public var sampleId: String
    public var epoch: Int
    /// `scored` or `failed`.
    public var status: String
    /// The sample's record (transcript, scores, usage, calls) as the engine wrote it, as JSON.
    public var record: String
    /// The access gateway's ids for the calls that produced it, in order.
    public var gatewayCallIds: [String]
    /// The worker that ran it.
    public var worker: String
    public var createdAt: Date

    public init(runId: String, sampleId: String, epoch: Int, status: String, record: String, gatewayCallIds: [String], worker: String, createdAt: Date) {
        self.runId = runId
        self.sampleId = sampleId
        self.epoch = epoch
        self.status = status
        self.record = record
        self.gatewayCallIds = gatewayCallIds
        self.worker = worker
        self.createdAt = createdAt
    }
}

/// How many of a run's attempts have a result, and how many of those failed.
public struct RunAttemptCounts: Sendable, Hashable {
    public var done: Int
    public var failed: Int

    public init(done: Int, failed: Int) {
        self.done = done
        self.failed = failed
    }
}

/// One entry of the append-only, hash-chained audit log.
public struct AuditEntry: Sendable, Hashable, Codable {
    public var sequence: Int64
    public var at: Date
    public var actorUserId: String?
    public var actorOrganisationId: String?
    /// What happened, such as `grant.approve` or `version.read`.
    public var action: String
    public var objectType: String
    public var objectId: String?
    /// A JSON object of what changed; never a secret.
    public var detail: String
    public var previousHash: String
    public var hash: String

    public init(sequence: Int64, at: Date, actorUserId: String? = nil, actorOrganisationId: String? = nil, action: String, objectType: String, objectId: String? = nil, detail: String, previousHash: String, hash: String) {
        self.sequence = sequence
        self.at = at
        self.actorUserId = actorUserId
        self.actorOrganisationId = actorOrganisationId
        self.action = action
        self.objectType = objectType
        self.objectId = objectId
        self.detail = detail
        self.previousHash = previousHash
        self.hash = hash
    }
}
