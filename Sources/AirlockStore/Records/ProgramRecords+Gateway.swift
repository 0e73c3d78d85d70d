import AirlockCore
import Foundation
import SQLKit

/// A grant key with everything the gateway needs to decide on a call and forward it.
public struct GatewayKeyRecord: Sendable {
    public var key: APIKey
    /// The SHA-256 of the key's secret, as requests are matched against it.
    public var secretDigest: String
    public var grant: AccessGrant
    public var version: ModelVersion
    public var modelName: String
    /// The version's endpoint credentials, still sealed.
    public var sealedCredentials: String?
}

/// One call through the gateway, as it goes on the record.
public struct GatewayCallRecord: Sendable, Hashable {
    public var callId: String
    public var at: Date
    public var keyId: String
    /// The user who issued the key.
    public var userId: String?
    public var organisationId: String
    public var grantId: String
    public var versionId: String
    public var route: String
    public var status: Int
    public var promptTokens: Int64
    public var completionTokens: Int64
    /// What the grant was charged: the usage reported, or the call's whole reservation when the
    /// upstream reported none.
    public var chargedTokens: Int64
    public var latencyMilliseconds: Int
    public var streamed: Bool
    /// Why the gateway refused or the upstream failed, when it did.
    public var error: String?
    /// The request and response, sealed, when the grant records content.
    public var sealedContent: String?

    public init(
        callId: String, at: Date, keyId: String, userId: String?, organisationId: String, grantId: String, versionId: String,
        route: String, status: Int, promptTokens: Int64, completionTokens: Int64, chargedTokens: Int64? = nil,
        latencyMilliseconds: Int, streamed: Bool,
        error: String? = nil, sealedContent: String? = nil
    ) {
        self.callId = callId
        self.at = at
        self.keyId = keyId
        self.userId = userId
        self.organisationId = organisationId
        self.grantId = grantId
        self.versionId = versionId
        self.route = route
        self.status = status
        self.promptTokens = promptTokens
        self.completionTokens = completionTokens
        self.chargedTokens = chargedTokens ?? promptTokens + completionTokens
        self.latencyMilliseconds = latencyMilliseconds
        self.streamed = streamed
        self.error = error
        self.sealedContent = sealedContent
    }
}

extension ProgramRecords {
    /// Every grant key not revoked, with its grant and version: the gateway's directory. Keys
    /// revoked with their grant stay in it, so that the gateway can say the grant was revoked.
    ///
    /// Grants that are not usable now are included, so that the gateway can say why.
    public func gatewayKeys() async throws -> [GatewayKeyRecord] {
        let keys = try await sql.raw("""
            SELECT * FROM api_keys WHERE kind = 'grant' AND (revoked_at IS NULL OR grant_id IN \
            (SELECT id FROM grants WHERE revoked_at IS NOT NULL))
            """).all().map { row in
            (try APIKey(row: row), try row.decode(column: "secret_hash", as: String.self))
        }
        guard !keys.isEmpty else { return [] }
        let grants = try await sql.raw(
            "SELECT * FROM grants WHERE id IN (SELECT grant_id FROM api_keys WHERE kind = 'grant')"
        ).all().map(AccessGrant.init(row:))
        let versionRows = try await sql.raw("""
            SELECT v.*, m.name AS model_name FROM model_versions v JOIN models m ON m.id = v.model_id WHERE v.id IN \
            (SELECT g.version_id FROM grants g JOIN api_keys k ON k.grant_id = g.id WHERE k.kind = 'grant')
            """).all()
        var versions: [String: (ModelVersion, String, String?)] = [:]
        for row in versionRows {
            let version = try ModelVersion(row: row)
            versions[version.id] = (
                version, try row.decode(column: "model_name", as: String.self),
                try row.decode(column: "endpoint_credentials", as: String?.self)
            )
        }
        let grantsById = Dictionary(uniqueKeysWithValues: grants.map { ($0.id, $0) })
        return keys.compactMap { key, digest in
            guard let grantId = key.grantId, let grant = grantsById[grantId], let (version, model, sealed) = versions[grant.versionId]
            else { return nil }
            return GatewayKeyRecord(
                key: key, secretDigest: digest, grant: grant, version: version, modelName: model, sealedCredentials: sealed)
        }
    }

    /// Puts calls on the record: an audit entry each, their tokens on their grants, and their
    /// sealed content where kept. Call it inside one transaction per batch.
    public func record(_ calls: [GatewayCallRecord]) async throws {
        var tokensByGrant: [String: Int64] = [:]
        var events: [AuditEvent] = []
        events.reserveCapacity(calls.count)
        for call in calls {
            var detail = [
                "call": call.callId, "key": call.keyId, "grant": call.grantId, "version": call.versionId, "route": call.route,
                "status": "\(call.status)", "prompt_tokens": "\(call.promptTokens)",
                "completion_tokens": "\(call.completionTokens)", "charged_tokens": "\(call.chargedTokens)",
                "latency_ms": "\(call.latencyMilliseconds)",
                "stream": "\(call.streamed)",
            ]
            if let error = call.error { detail["error"] = error }
            events.append(AuditEvent(
                at: call.at, actorUserId: call.userId, actorOrganisationId: call.organisationId, action: "gateway.call",
                objectType: "grant", objectId: call.grantId, detail: detail))
            tokensByGrant[call.grantId, default: 0] += call.chargedTokens
            if let sealed = call.sealedContent {
                try await sql.raw("""
                    INSERT INTO gateway_contents (call_id, grant_id, sealed, created_at) VALUES (\(bind: call.callId), \
                    \(bind: call.grantId), \(bind: sealed), \(bind: call.at.storedMilliseconds))
                    """).run()
            }
        }
        try await appendAudit(events)
        for (grantId, tokens) in tokensByGrant where tokens > 0 {
            try await sql.raw("UPDATE grants SET tokens_used = tokens_used + \(bind: tokens) WHERE id = \(bind: grantId)").run()
        }
    }

    /// The ids of the calls on the record for `grantId`.
    public func gatewayCallIds(grantId: String) async throws -> Set<String> {
        let rows = try await sql.raw("""
            SELECT detail FROM audit_log WHERE object_type = 'grant' AND object_id = \(bind: grantId) AND action = 'gateway.call'
            """).all()
        var ids = Set<String>()
        for row in rows {
            let detail = try JSONDecoder().decode([String: String].self, from: Data(try row.decode(column: "detail", as: String.self).utf8))
            if let call = detail["call"] { ids.insert(call) }
        }
        return ids
    }

    /// A call's sealed content, for the grant's reviewers.
    public func gatewayContent(callId: String) async throws -> String? {
        try await sql.raw("SELECT sealed FROM gateway_contents WHERE call_id = \(bind: callId)").first()?
            .decode(column: "sealed", as: String.self)
    }
}
