import AirlockCore
import AirlockStore
import Foundation

/// What the gateway knows about one grant key: whose it is, the grant and its limits, and the
/// upstream to forward to, with the developer's credential opened (it stays in this process).
public struct GatewayRoute: Sendable {
    public var keyId: String
    public var keyExpiresAt: Date?
    public var userId: String?
    public var granteeId: String
    public var grantId: String
    public var purpose: GrantPurpose
    public var startsAt: Date
    public var endsAt: Date
    public var decisions: GrantDecisions
    public var limits: GrantLimiter.Limits
    public var tokensUsed: Int64
    public var recordContent: Bool
    public var versionId: String
    /// How clients name the model: `MODEL-VERSION`, as `/v1/models` lists it.
    public var modelName: String
    public var versionState: ModelVersionState
    public var gatewayOpen: Bool
    public var allowedPurposes: [GrantPurpose]
    public var upstream: Upstream?

    public struct Upstream: Sendable, Hashable {
        public var baseURL: String
        public var model: String?
        public var credential: String?
        /// The URL's parts, or nil when it is not an http or https URL.
        var address: UpstreamAddress?
    }

    init(_ record: GatewayKeyRecord, sealer: CredentialSealer?) {
        keyId = record.key.id
        keyExpiresAt = record.key.expiresAt
        userId = record.key.userId
        granteeId = record.grant.granteeId
        grantId = record.grant.id
        purpose = record.grant.purpose
        startsAt = record.grant.startsAt
        endsAt = record.grant.endsAt
        decisions = record.grant.decisions
        limits = .init(
            requestsPerMinute: record.grant.requestsPerMinute, tokensPerMinute: record.grant.tokensPerMinute,
            maxConcurrent: record.grant.maxConcurrent, tokenQuota: record.grant.tokenQuota)
        tokensUsed = record.grant.tokensUsed
        recordContent = record.grant.recordContent
        versionId = record.version.id
        modelName = "\(record.modelName)-\(record.version.version)"
        versionState = record.version.state
        gatewayOpen = record.version.gatewayOpen
        allowedPurposes = record.version.gatewayPurposes
        if let url = record.version.endpointUrl {
            // A credential that does not open is no credential: the call fails upstream, not here.
            let credential = record.sealedCredentials.flatMap { try? sealer?.open($0, context: record.version.id) }
            upstream = Upstream(baseURL: url, model: record.version.endpointModel, credential: credential, address: UpstreamAddress(url))
        }
    }

    /// Why this key may not make a call now, or nil when it may.
    public func refusal(at now: Date) -> GatewayRefusal? {
        if decisions.revokedAt != nil { return .revoked }
        if let keyExpiresAt, keyExpiresAt <= now { return .keyExpired(keyExpiresAt) }
        if !gatewayOpen { return .closedByDeveloper }
        if versionState == .withdrawn { return .withdrawn }
        if decisions.approvedAt == nil || decisions.consentedAt == nil { return .notDecided }
        if now < startsAt { return .notStarted(startsAt) }
        if now >= endsAt { return .ended(endsAt) }
        if !allowedPurposes.contains(purpose) { return .purposeNotAllowed(purpose) }
        if upstream == nil { return .noEndpoint }
        return nil
    }
}

/// Why the gateway refused a call, each with the status and the words the client sees.
public enum GatewayRefusal: Error, Sendable, Hashable {
    case missingKey
    case unknownKey
    case keyExpired(Date)
    case revoked
    case closedByDeveloper
    case withdrawn
    case notDecided
    case notStarted(Date)
    case ended(Date)
    case purposeNotAllowed(GrantPurpose)
    case noEndpoint
    case limited(GrantLimiter.Refusal)
    case badRequest(String)
    case upstreamFailed(status: Int, detail: String)
    /// The endpoint refused the call (a 4xx): its status, with a summary of its error.
    case upstreamRefused(status: Int, detail: String)
    case upstreamUnreachable(String)
    /// The gateway cannot read its directory (the store is down).
    case unavailable(String)

    public var status: Int {
        switch self {
        case .missingKey, .unknownKey, .keyExpired: 401
        case .revoked, .closedByDeveloper, .withdrawn, .notDecided, .notStarted, .ended, .purposeNotAllowed: 403
        case .noEndpoint, .unavailable: 503
        case .limited: 429
        case .badRequest: 400
        case .upstreamFailed: 502
        case .upstreamRefused(let status, _): status
        case .upstreamUnreachable: 504
        }
    }

    /// A stable code, as OpenAI clients read `error.code`.
    public var code: String {
        switch self {
        case .missingKey: "missing_api_key"
        case .unknownKey: "invalid_api_key"
        case .keyExpired: "api_key_expired"
        case .revoked: "grant_revoked"
        case .closedByDeveloper: "model_closed"
        case .withdrawn: "model_withdrawn"
        case .notDecided: "grant_not_active"
        case .notStarted: "grant_not_started"
        case .ended: "grant_ended"
        case .purposeNotAllowed: "purpose_not_allowed"
        case .noEndpoint: "no_endpoint"
        case .limited(.requestRate): "rate_limit_requests"
        case .limited(.tokenRate): "rate_limit_tokens"
        case .limited(.concurrency): "too_many_concurrent_calls"
        case .limited(.quota): "insufficient_quota"
        case .badRequest: "invalid_request"
        case .upstreamFailed: "upstream_error"
        case .upstreamRefused: "upstream_refused"
        case .upstreamUnreachable: "upstream_unreachable"
        case .unavailable: "gateway_unavailable"
        }
    }

    public var message: String {
        switch self {
        case .missingKey: "send the grant's key as 'Authorization: Bearer KEY' (or 'x-api-key')"
        case .unknownKey: "the key is not a grant key of this program, or it was revoked"
        case .keyExpired(let date): "the key expired at \(RFC3339.format(date, fractionDigits: 0))"
        case .revoked: "the grant was revoked"
        case .closedByDeveloper: "the developer has closed access to this model"
        case .withdrawn: "the model version was withdrawn"
        case .notDecided: "the grant is not active: it needs the program office's approval and the developer's consent"
        case .notStarted(let date): "the grant starts at \(RFC3339.format(date, fractionDigits: 0))"
        case .ended(let date): "the grant ended at \(RFC3339.format(date, fractionDigits: 0))"
        case .purposeNotAllowed(let purpose): "the developer does not allow calls for \(purpose.rawValue) on this model"
        case .noEndpoint: "the developer has not set an endpoint for this model version"
        case .limited(.requestRate(let wait)): "over the grant's requests a minute; retry after \(Int(wait.rounded(.up))) s"
        case .limited(.tokenRate(let wait)): "over the grant's tokens a minute; retry after \(Int(wait.rounded(.up))) s"
        case .limited(.concurrency(let limit)): "the grant allows \(limit) calls at once"
        case .limited(.quota(let remaining, let asked)):
            "the grant's token quota would be exceeded: \(remaining) tokens left, this call may use \(asked) (lower max_tokens)"
        case .badRequest(let detail): detail
        case .upstreamFailed(let status, let detail): "the model's endpoint answered \(status): \(detail)"
        case .upstreamRefused(let status, let detail): "the model's endpoint refused the call (\(status)): \(detail)"
        case .upstreamUnreachable(let detail): "the model's endpoint could not be reached: \(detail)"
        case .unavailable(let detail): "the gateway cannot read its grants now: \(detail)"
        }
    }

    /// Seconds to wait before trying again, where waiting helps.
    public var retryAfter: Int? {
        switch self {
        case .limited(.requestRate(let wait)), .limited(.tokenRate(let wait)): max(1, Int(wait.rounded(.up)))
        case .limited(.concurrency): 1
        default: nil
        }
    }
}
