import AirlockCore
import Foundation
import SQLKit

// Reading records back from rows. Times are stored as milliseconds, enums as their raw values,
// lists and maps as JSON text.

extension SQLRow {
    func date(_ column: String) throws -> Date {
        Date(storedMilliseconds: try decode(column: column, as: Int64.self))
    }

    func optionalDate(_ column: String) throws -> Date? {
        try decode(column: column, as: Int64?.self).map(Date.init(storedMilliseconds:))
    }

    func value<Value: RawRepresentable>(_ column: String, as type: Value.Type) throws -> Value where Value.RawValue == String {
        let raw = try decode(column: column, as: String.self)
        guard let value = Value(rawValue: raw) else {
            throw StoreError(.corruptRecord, "column \(column) holds '\(raw)', not a known \(Value.self)")
        }
        return value
    }

    func json<Value: Decodable>(_ column: String, as type: Value.Type) throws -> Value {
        let text = try decode(column: column, as: String.self)
        do {
            return try JSONDecoder().decode(Value.self, from: Data(text.utf8))
        } catch {
            throw StoreError(.corruptRecord, "column \(column) does not hold JSON for \(Value.self)")
        }
    }
}

extension Organisation {
    init(row: any SQLRow) throws {
        self.init(
            id: try row.decode(column: "id", as: String.self),
            name: try row.decode(column: "name", as: String.self),
            kind: try row.value("kind", as: OrganisationKind.self),
            sector: try row.decode(column: "sector", as: String?.self).flatMap(InfrastructureSector.init(rawValue:)),
            createdAt: try row.date("created_at"))
    }
}

extension User {
    init(row: any SQLRow) throws {
        self.init(
            id: try row.decode(column: "id", as: String.self),
            organisationId: try row.decode(column: "organisation_id", as: String.self),
            email: try row.decode(column: "email", as: String.self),
            name: try row.decode(column: "name", as: String.self),
            role: try row.value("role", as: MemberRole.self),
            createdAt: try row.date("created_at"))
    }
}

extension Commitment {
    init(row: any SQLRow) throws {
        self.init(
            id: try row.decode(column: "id", as: String.self),
            organisationId: try row.decode(column: "organisation_id", as: String.self),
            terms: try row.decode(column: "terms", as: String.self),
            signedBy: try row.decode(column: "signed_by", as: String.self),
            effectiveFrom: try row.date("effective_from"),
            effectiveUntil: try row.optionalDate("effective_until"),
            createdAt: try row.date("created_at"))
    }
}

extension CoveredModel {
    init(row: any SQLRow) throws {
        self.init(
            id: try row.decode(column: "id", as: String.self),
            developerId: try row.decode(column: "developer_id", as: String.self),
            name: try row.decode(column: "name", as: String.self),
            description: try row.decode(column: "description", as: String.self),
            createdAt: try row.date("created_at"))
    }
}

extension ModelVersion {
    init(row: any SQLRow) throws {
        self.init(
            id: try row.decode(column: "id", as: String.self),
            modelId: try row.decode(column: "model_id", as: String.self),
            developerId: try row.decode(column: "developer_id", as: String.self),
            version: try row.decode(column: "version", as: String.self),
            state: try row.value("state", as: ModelVersionState.self),
            noticedAt: try row.date("noticed_at"),
            plannedReleaseAt: try row.date("planned_release_at"),
            windowOpensAt: try row.date("window_opens_at"),
            accessEndsBy: try row.date("access_ends_by"),
            lateNotice: try row.decode(column: "late_notice", as: Int.self) != 0,
            capabilities: try row.json("capabilities", as: [String].self),
            modelCard: try row.decode(column: "model_card", as: String.self),
            endpointUrl: try row.decode(column: "endpoint_url", as: String?.self),
            endpointModel: try row.decode(column: "endpoint_model", as: String?.self),
            hasEndpointCredentials: try row.decode(column: "endpoint_credentials", as: String?.self) != nil,
            gatewayOpen: try row.decode(column: "gateway_open", as: Int.self) != 0,
            gatewayPurposes: try row.json("gateway_purposes", as: [GrantPurpose].self),
            createdAt: try row.date("created_at"),
            updatedAt: try row.date("updated_at"))
    }
}

extension AccessGrant {
    init(row: any SQLRow) throws {
        self.init(
            id: try row.decode(column: "id", as: String.self),
            versionId: try row.decode(column: "version_id", as: String.self),
            granteeId: try row.decode(column: "grantee_id", as: String.self),
            purpose: try row.value("purpose", as: GrantPurpose.self),
            startsAt: try row.date("starts_at"),
            endsAt: try row.date("ends_at"),
            tokenQuota: try row.decode(column: "token_quota", as: Int64.self),
            requestsPerMinute: try row.decode(column: "requests_per_minute", as: Int.self),
            tokensPerMinute: try row.decode(column: "tokens_per_minute", as: Int64?.self),
            maxConcurrent: try row.decode(column: "max_concurrent", as: Int.self),
            recordContent: try row.decode(column: "record_content", as: Int.self) != 0,
            tokensUsed: try row.decode(column: "tokens_used", as: Int64.self),
            decisions: GrantDecisions(
                approvedAt: try row.optionalDate("approved_at"),
                consentedAt: try row.optionalDate("consented_at"),
                revokedAt: try row.optionalDate("revoked_at")),
            createdBy: try row.decode(column: "created_by", as: String.self),
            createdAt: try row.date("created_at"))
    }
}

extension StoredRun {
    init(row: any SQLRow) throws {
        self.init(
            id: try row.decode(column: "id", as: String.self),
            versionId: try row.decode(column: "version_id", as: String.self),
            organisationId: try row.decode(column: "organisation_id", as: String.self),
            kind: try row.decode(column: "kind", as: String.self),
            name: try row.decode(column: "name", as: String.self),
            sourceId: try row.decode(column: "source_id", as: String?.self),
            levels: try row.json("levels", as: [String: String].self),
            summary: try row.json("summary", as: JSONValue.self),
            createdAt: try row.date("created_at"),
            origin: RunOrigin(rawValue: try row.decode(column: "origin", as: String.self)) ?? .imported,
            state: try row.decode(column: "state", as: String?.self).flatMap(RunState.init(rawValue:)),
            execution: try row.decode(column: "execution", as: String?.self).map { try JSONDecoder().decode(RunExecution.self, from: Data($0.utf8)) })
    }
}

extension StoredAttempt {
    /// Without `record`, the row need not have the record's columns, and the record is empty.
    init(row: any SQLRow, record: Bool) throws {
        let runId = try row.decode(column: "run_id", as: String.self)
        let sampleId = try row.decode(column: "sample_id", as: String.self)
        let epoch = try row.decode(column: "epoch", as: Int.self)
        self.init(
            runId: runId,
            sampleId: sampleId,
            epoch: epoch,
            status: try row.decode(column: "status", as: String.self),
            record: !record
                ? ""
                : try StoredRecord.decode(
                    try row.decode(column: "record", as: String.self), encoding: try row.decode(column: "record_encoding", as: String.self),
                    what: "run \(runId) sample \(sampleId) epoch \(epoch)"),
            gatewayCallIds: try row.json("gateway_calls", as: [String].self),
            worker: try row.decode(column: "worker", as: String.self),
            createdAt: try row.date("created_at"))
    }
}

extension APIKey {
    init(row: any SQLRow) throws {
        self.init(
            id: try row.decode(column: "id", as: String.self),
            kind: try row.value("kind", as: APIKey.Kind.self),
            userId: try row.decode(column: "user_id", as: String?.self),
            grantId: try row.decode(column: "grant_id", as: String?.self),
            organisationId: try row.decode(column: "organisation_id", as: String.self),
            name: try row.decode(column: "name", as: String.self),
            createdAt: try row.date("created_at"),
            expiresAt: try row.optionalDate("expires_at"),
            revokedAt: try row.optionalDate("revoked_at"))
    }
}

extension AuditEntry {
    init(row: any SQLRow) throws {
        self.init(
            sequence: try row.decode(column: "sequence", as: Int64.self),
            at: try row.date("at"),
            actorUserId: try row.decode(column: "actor_user_id", as: String?.self),
            actorOrganisationId: try row.decode(column: "actor_organisation_id", as: String?.self),
            action: try row.decode(column: "action", as: String.self),
            objectType: try row.decode(column: "object_type", as: String.self),
            objectId: try row.decode(column: "object_id", as: String?.self),
            detail: try row.decode(column: "detail", as: String.self),
            previousHash: try row.decode(column: "previous_hash", as: String.self),
            hash: try row.decode(column: "hash", as: String.self))
    }
}
