import AirlockCore
import Foundation

/// What a key opens: a user's API key, a sign-in session, or a grant's gateway key.
public enum APIKeyKind: String, Codable, Sendable, Hashable, CaseIterable {
    case user, session, grant
}

/// A participant in the program, as the API shows it.
public struct OrganisationView: Codable, Sendable {
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

/// A person who signs in for an organisation, as the API shows it.
public struct UserView: Codable, Sendable {
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

/// A developer's voluntary commitment to the program, as the API shows it.
public struct CommitmentView: Codable, Sendable {
    public var id: String
    public var organisationId: String
    /// The terms as signed, verbatim.
    public var terms: String
    /// The user who signed.
    public var signedBy: String
    public var effectiveFrom: Date
    public var effectiveUntil: Date?
    public var createdAt: Date

    public init(
        id: String, organisationId: String, terms: String, signedBy: String, effectiveFrom: Date, effectiveUntil: Date? = nil,
        createdAt: Date
    ) {
        self.id = id
        self.organisationId = organisationId
        self.terms = terms
        self.signedBy = signedBy
        self.effectiveFrom = effectiveFrom
        self.effectiveUntil = effectiveUntil
        self.createdAt = createdAt
    }
}

/// A covered model, as the API shows it.
public struct CoveredModelView: Codable, Sendable {
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

/// A pre-release version of a covered model (its notice), as the API shows it; credentials never.
public struct ModelVersionView: Codable, Sendable {
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

    public init(
        id: String, modelId: String, developerId: String, version: String, state: ModelVersionState, noticedAt: Date,
        plannedReleaseAt: Date, windowOpensAt: Date, accessEndsBy: Date, lateNotice: Bool, capabilities: [String],
        modelCard: String, endpointUrl: String? = nil, endpointModel: String? = nil, hasEndpointCredentials: Bool,
        gatewayOpen: Bool, gatewayPurposes: [GrantPurpose], createdAt: Date, updatedAt: Date
    ) {
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

/// An evaluation or assessment run attached to a model version, as the API shows it.
public struct RunView: Codable, Sendable {
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

    public init(
        id: String, versionId: String, organisationId: String, kind: String, name: String, sourceId: String? = nil,
        levels: [String: String], summary: JSONValue, createdAt: Date
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
    }
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

/// An entry of the hash-chained audit log, as the API shows it.
public struct AuditEntryView: Codable, Sendable {
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

    public init(
        sequence: Int64, at: Date, actorUserId: String? = nil, actorOrganisationId: String? = nil, action: String,
        objectType: String, objectId: String? = nil, detail: String, previousHash: String, hash: String
    ) {
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
