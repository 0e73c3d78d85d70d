import AirlockCore
import Foundation
import SQLKit

/// One page of a list, and the cursor for the next one (nil on the last page).
public struct Page<Item: Sendable>: Sendable {
    public var items: [Item]
    public var nextCursor: String?

    public init(items: [Item], nextCursor: String?) {
        self.items = items
        self.nextCursor = nextCursor
    }
}

/// Which records a list may return: all of them (the program office), or those an organisation
/// stands in relation to.
public enum Visibility: Sendable, Hashable {
    case all
    case organisation(String)
}

/// The program's records, read and written on one database session (usually a transaction).
///
/// Queries bind every value; none is interpolated into SQL text.
public struct ProgramRecords: Sendable {
    public let sql: any SQLDatabase
    public let flavour: ProgramDatabase.Flavour

    public init(sql: any SQLDatabase, flavour: ProgramDatabase.Flavour) {
        self.sql = sql
        self.flavour = flavour
    }

    // MARK: Organisations and users

    public func insert(_ organisation: Organisation) async throws {
        try await unique("an organisation named '\(organisation.name)'") {
            try await sql.raw("""
                INSERT INTO organisations (id, name, kind, sector, created_at) VALUES (\(bind: organisation.id), \
                \(bind: organisation.name), \(bind: organisation.kind.rawValue), \(bind: organisation.sector?.rawValue), \
                \(bind: organisation.createdAt.storedMilliseconds))
                """).run()
        }
    }

    public func organisation(id: String) async throws -> Organisation? {
        try await sql.raw("SELECT * FROM organisations WHERE id = \(bind: id)").first().map(Organisation.init(row:))
    }

    public func organisations(after cursor: String?, limit: Int) async throws -> Page<Organisation> {
        try await page(SQLQueryString("SELECT * FROM organisations WHERE 1 = 1"), after: cursor, limit: limit, Organisation.init(row:))
    }

    public func insert(_ user: User, passwordHash: String?) async throws {
        try await unique("a user with email '\(user.email)'") {
            try await sql.raw("""
                INSERT INTO users (id, organisation_id, email, name, role, password_hash, created_at) VALUES (\(bind: user.id), \
                \(bind: user.organisationId), \(bind: user.email), \(bind: user.name), \(bind: user.role.rawValue), \
                \(bind: passwordHash), \(bind: user.createdAt.storedMilliseconds))
                """).run()
        }
    }

    public func user(id: String) async throws -> User? {
        try await sql.raw("SELECT * FROM users WHERE id = \(bind: id)").first().map(User.init(row:))
    }

    /// A user and their password hash, for signing in.
    /// The users with this e-mail (unique within an organisation, not across them), oldest first;
    /// at most `limit`.
    public func users(email: String, limit: Int = 10) async throws -> [(user: User, passwordHash: String?)] {
        try await sql.raw("SELECT * FROM users WHERE email = \(bind: email) ORDER BY created_at, id LIMIT \(bind: limit)").all().map { row in
            (try User(row: row), try row.decode(column: "password_hash", as: String?.self))
        }
    }

    public func users(organisationId: String, after cursor: String?, limit: Int) async throws -> Page<User> {
        try await page(
            "SELECT * FROM users WHERE organisation_id = \(bind: organisationId)", after: cursor, limit: limit, User.init(row:))
    }

    // MARK: Commitments

    public func insert(_ commitment: Commitment) async throws {
        try await sql.raw("""
            INSERT INTO commitments (id, organisation_id, terms, signed_by, effective_from, effective_until, created_at) \
            VALUES (\(bind: commitment.id), \(bind: commitment.organisationId), \(bind: commitment.terms), \
            \(bind: commitment.signedBy), \(bind: commitment.effectiveFrom.storedMilliseconds), \
            \(bind: commitment.effectiveUntil?.storedMilliseconds), \(bind: commitment.createdAt.storedMilliseconds))
            """).run()
    }

    public func commitment(id: String) async throws -> Commitment? {
        try await sql.raw("SELECT * FROM commitments WHERE id = \(bind: id)").first().map(Commitment.init(row:))
    }

    public func commitments(visibleTo visibility: Visibility, after cursor: String?, limit: Int) async throws -> Page<Commitment> {
        let query: SQLQueryString = switch visibility {
        case .all: "SELECT * FROM commitments WHERE 1 = 1"
        case .organisation(let id): "SELECT * FROM commitments WHERE organisation_id = \(bind: id)"
        }
        return try await page(query, after: cursor, limit: limit, Commitment.init(row:))
    }

    /// Whether the developer has a commitment in force at `date`.
    public func hasCommitment(organisationId: String, at date: Date) async throws -> Bool {
        let millis = date.storedMilliseconds
        return try await sql.raw("""
            SELECT id FROM commitments WHERE organisation_id = \(bind: organisationId) AND effective_from <= \(bind: millis) \
            AND (effective_until IS NULL OR effective_until > \(bind: millis))
            """).first() != nil
    }

    // MARK: Models and versions

    public func insert(_ model: CoveredModel) async throws {
        try await unique("a model named '\(model.name)'") {
            try await sql.raw("""
                INSERT INTO models (id, developer_id, name, description, created_at) VALUES (\(bind: model.id), \
                \(bind: model.developerId), \(bind: model.name), \(bind: model.description), \
                \(bind: model.createdAt.storedMilliseconds))
                """).run()
        }
    }

    public func model(id: String) async throws -> CoveredModel? {
        try await sql.raw("SELECT * FROM models WHERE id = \(bind: id)").first().map(CoveredModel.init(row:))
    }

    public func models(visibleTo visibility: Visibility, after cursor: String?, limit: Int) async throws -> Page<CoveredModel> {
        let query: SQLQueryString = switch visibility {
        case .all: "SELECT * FROM models WHERE 1 = 1"
        case .organisation(let id):
            """
            SELECT * FROM models WHERE (developer_id = \(bind: id) OR id IN (SELECT v.model_id FROM model_versions v \
            JOIN grants g ON g.version_id = v.id WHERE g.grantee_id = \(bind: id) AND \(unsafeRaw: Self.decided("g."))))
            """
        }
        return try await page(query, after: cursor, limit: limit, CoveredModel.init(row:))
    }

    public func insert(_ version: ModelVersion, sealedCredentials: String?) async throws {
        try await unique("version '\(version.version)' of this model") {
            try await sql.raw("""
                INSERT INTO model_versions (id, model_id, developer_id, version, state, noticed_at, planned_release_at, \
                window_opens_at, access_ends_by, late_notice, capabilities, model_card, endpoint_url, endpoint_model, \
                endpoint_credentials, gateway_open, gateway_purposes, created_at, updated_at) VALUES (\(bind: version.id), \
                \(bind: version.modelId), \
                \(bind: version.developerId), \(bind: version.version), \(bind: version.state.rawValue), \
                \(bind: version.noticedAt.storedMilliseconds), \(bind: version.plannedReleaseAt.storedMilliseconds), \
                \(bind: version.windowOpensAt.storedMilliseconds), \(bind: version.accessEndsBy.storedMilliseconds), \
                \(bind: version.lateNotice ? 1 : 0), \(bind: try encodeJSON(version.capabilities)), \(bind: version.modelCard), \
                \(bind: version.endpointUrl), \(bind: version.endpointModel), \(bind: sealedCredentials), \
                \(bind: version.gatewayOpen ? 1 : 0), \(bind: try encodeJSON(version.gatewayPurposes)), \
                \(bind: version.createdAt.storedMilliseconds), \(bind: version.updatedAt.storedMilliseconds))
                """).run()
        }
    }

    public func version(id: String) async throws -> ModelVersion? {
        try await sql.raw("SELECT * FROM model_versions WHERE id = \(bind: id)").first().map(ModelVersion.init(row:))
    }

    public func versions(
        modelId: String?, visibleTo visibility: Visibility, after cursor: String?, limit: Int
    ) async throws -> Page<ModelVersion> {
        var query: SQLQueryString = "SELECT * FROM model_versions WHERE 1 = 1"
        if let modelId { query = query + " AND model_id = \(bind: modelId)" }
        if case .organisation(let id) = visibility {
            query = query + """
                 AND (developer_id = \(bind: id) OR id IN (SELECT version_id FROM grants WHERE grantee_id = \(bind: id) \
                AND \(unsafeRaw: Self.decided(""))))
                """
        }
        return try await page(query, after: cursor, limit: limit, ModelVersion.init(row:))
    }

    public func updateState(versionId: String, to state: ModelVersionState, at date: Date) async throws {
        try await sql.raw("""
            UPDATE model_versions SET state = \(bind: state.rawValue), updated_at = \(bind: date.storedMilliseconds) \
            WHERE id = \(bind: versionId)
            """).run()
    }

    public func updateEndpoint(
        versionId: String, url: String?, model: String?, sealedCredentials: String?, at date: Date
    ) async throws {
        try await sql.raw("""
            UPDATE model_versions SET endpoint_url = \(bind: url), endpoint_model = \(bind: model), \
            endpoint_credentials = \(bind: sealedCredentials), updated_at = \(bind: date.storedMilliseconds) \
            WHERE id = \(bind: versionId)
            """).run()
    }

    /// The sealed endpoint credentials of a version, for the gateway; never returned by the API.
    public func sealedCredentials(versionId: String) async throws -> String? {
        try await sql.raw("SELECT endpoint_credentials FROM model_versions WHERE id = \(bind: versionId)").first()?
            .decode(column: "endpoint_credentials", as: String?.self)
    }

    // MARK: Grants

    public func insert(_ grant: AccessGrant) async throws {
        try await sql.raw("""
            INSERT INTO grants (id, version_id, grantee_id, purpose, starts_at, ends_at, token_quota, requests_per_minute, \
            tokens_per_minute, max_concurrent, record_content, tokens_used, \
            approved_at, consented_at, revoked_at, created_by, created_at) VALUES (\(bind: grant.id), \
            \(bind: grant.versionId), \(bind: grant.granteeId), \(bind: grant.purpose.rawValue), \
            \(bind: grant.startsAt.storedMilliseconds), \(bind: grant.endsAt.storedMilliseconds), \(bind: grant.tokenQuota), \
            \(bind: grant.requestsPerMinute), \(bind: grant.tokensPerMinute), \(bind: grant.maxConcurrent), \
            \(bind: grant.recordContent ? 1 : 0), \(bind: grant.tokensUsed), \(bind: grant.decisions.approvedAt?.storedMilliseconds), \
            \(bind: grant.decisions.consentedAt?.storedMilliseconds), \(bind: grant.decisions.revokedAt?.storedMilliseconds), \
            \(bind: grant.createdBy), \(bind: grant.createdAt.storedMilliseconds))
            """).run()
    }

    public func grant(id: String) async throws -> AccessGrant? {
        try await sql.raw("SELECT * FROM grants WHERE id = \(bind: id)").first().map(AccessGrant.init(row:))
    }

    /// Grants the organisation may see: those it holds and those to its own models.
    public func grants(
        versionId: String?, visibleTo visibility: Visibility, after cursor: String?, limit: Int
    ) async throws -> Page<AccessGrant> {
        var query: SQLQueryString = "SELECT * FROM grants WHERE 1 = 1"
        if let versionId { query = query + " AND version_id = \(bind: versionId)" }
        if case .organisation(let id) = visibility {
            query = query + """
                 AND (grantee_id = \(bind: id) OR version_id IN (SELECT id FROM model_versions WHERE developer_id = \(bind: id)))
                """
        }
        return try await page(query, after: cursor, limit: limit, AccessGrant.init(row:))
    }

    /// Whether the organisation holds a decided grant to the version: approved by the office,
    /// consented by the developer, not revoked. Until the developer consents, the version's
    /// existence stays hidden from the proposed grantee.
    public func holdsGrant(organisationId: String, versionId: String) async throws -> Bool {
        try await sql.raw("""
            SELECT id FROM grants WHERE grantee_id = \(bind: organisationId) AND version_id = \(bind: versionId) \
            AND \(unsafeRaw: Self.decided(""))
            """).first() != nil
    }

    /// Whether the organisation holds a decided grant to any version of the model.
    public func holdsGrant(organisationId: String, modelId: String) async throws -> Bool {
        try await sql.raw("""
            SELECT g.id FROM grants g JOIN model_versions v ON v.id = g.version_id WHERE g.grantee_id = \(bind: organisationId) \
            AND v.model_id = \(bind: modelId) AND \(unsafeRaw: Self.decided("g."))
            """).first() != nil
    }

    public func updateDecisions(grantId: String, _ decisions: GrantDecisions) async throws {
        try await sql.raw("""
            UPDATE grants SET approved_at = \(bind: decisions.approvedAt?.storedMilliseconds), \
            consented_at = \(bind: decisions.consentedAt?.storedMilliseconds), \
            revoked_at = \(bind: decisions.revokedAt?.storedMilliseconds) WHERE id = \(bind: grantId)
            """).run()
    }

    /// Opens or closes the gateway for a version (the developer's kill switch), and sets the
    /// purposes it lets through.
    public func updateGateway(versionId: String, open: Bool, purposes: [GrantPurpose], at date: Date) async throws {
        try await sql.raw("""
            UPDATE model_versions SET gateway_open = \(bind: open ? 1 : 0), gateway_purposes = \(bind: try encodeJSON(purposes)), \
            updated_at = \(bind: date.storedMilliseconds) WHERE id = \(bind: versionId)
            """).run()
    }

    // MARK: Keys and sessions

    /// Stores a key by the digest of its secret; the secret itself is never stored.
    public func insert(_ key: APIKey, secret: String) async throws {
        try await sql.raw("""
            INSERT INTO api_keys (id, kind, secret_hash, user_id, grant_id, organisation_id, name, created_at, expires_at, \
            revoked_at) VALUES (\(bind: key.id), \(bind: key.kind.rawValue), \(bind: SecretDigest.of(secret)), \
            \(bind: key.userId), \(bind: key.grantId), \(bind: key.organisationId), \(bind: key.name), \
            \(bind: key.createdAt.storedMilliseconds), \(bind: key.expiresAt?.storedMilliseconds), \
            \(bind: key.revokedAt?.storedMilliseconds))
            """).run()
    }

    /// The key whose secret is `secret`, if any (revoked and expired keys included: the caller decides).
    public func key(secret: String) async throws -> APIKey? {
        try await sql.raw("SELECT * FROM api_keys WHERE secret_hash = \(bind: SecretDigest.of(secret))").first()
            .map(APIKey.init(row:))
    }

    public func key(id: String) async throws -> APIKey? {
        try await sql.raw("SELECT * FROM api_keys WHERE id = \(bind: id)").first().map(APIKey.init(row:))
    }

    public func keys(grantId: String) async throws -> [APIKey] {
        try await sql.raw("SELECT * FROM api_keys WHERE grant_id = \(bind: grantId) ORDER BY id").all().map(APIKey.init(row:))
    }

    public func keys(userId: String, kind: APIKey.Kind) async throws -> [APIKey] {
        try await sql.raw("SELECT * FROM api_keys WHERE user_id = \(bind: userId) AND kind = \(bind: kind.rawValue) ORDER BY id")
            .all().map(APIKey.init(row:))
    }

    public func revokeKey(id: String, at date: Date) async throws {
        try await sql.raw("""
            UPDATE api_keys SET revoked_at = \(bind: date.storedMilliseconds) WHERE id = \(bind: id) AND revoked_at IS NULL
            """).run()
    }

    // MARK: Runs

    public func insert(_ run: StoredRun) async throws {
        try await unique("run '\(run.sourceId ?? run.id)' on this version") {
            try await sql.raw("""
                INSERT INTO runs (id, version_id, organisation_id, kind, name, source_id, levels, summary, created_at, origin, state, execution) \
                VALUES (\(bind: run.id), \(bind: run.versionId), \(bind: run.organisationId), \(bind: run.kind), \
                \(bind: run.name), \(bind: run.sourceId), \(bind: try encodeJSON(run.levels)), \
                \(bind: try encodeJSON(run.summary)), \(bind: run.createdAt.storedMilliseconds), \(bind: run.origin.rawValue), \
                \(bind: run.state?.rawValue), \(bind: try run.execution.map(encodeJSON)))
                """).run()
        }
    }

    public func run(id: String) async throws -> StoredRun? {
        try await sql.raw("SELECT * FROM runs WHERE id = \(bind: id)").first().map(StoredRun.init(row:))
    }

    /// Runs on a version; with `organisationId`, only those that organisation made.
    public func runs(versionId: String, organisationId: String? = nil, after cursor: String?, limit: Int) async throws -> Page<StoredRun> {
        var query: SQLQueryString = "SELECT * FROM runs WHERE version_id = \(bind: versionId)"
        if let organisationId { query = query + " AND organisation_id = \(bind: organisationId)" }
        return try await page(query, after: cursor, limit: limit, StoredRun.init(row:))
    }

    /// Moves a run from `from` to `to` if it is still in `from` and the move is allowed;
    /// whether it moved (another server or worker may have moved it first).
    public func moveRun(id: String, from: RunState, to: RunState) async throws -> Bool {
        guard from.canMove(to: to) else { return false }
        return try await sql.raw(
            "UPDATE runs SET state = \(bind: to.rawValue) WHERE id = \(bind: id) AND state = \(bind: from.rawValue) RETURNING id"
        ).first() != nil
    }

    /// Removes a run's failed results, so that a resumed run makes those attempts again.
    public func removeFailedAttempts(runId: String) async throws {
        let failed: SQLQueryString = "SELECT sample_id, epoch FROM run_attempts WHERE run_id = \(bind: runId) AND status <> 'scored'"
        try await sql.raw("DELETE FROM run_attempt_values WHERE run_id = \(bind: runId) AND (sample_id, epoch) IN (" + failed + ")").run()
        switch flavour {
        case .sqlite:
            // Found by the attempts' search_id, not by a scan of the search table.
            try await sql.raw("""
                DELETE FROM run_attempt_search WHERE rowid IN (SELECT search_id FROM run_attempts WHERE run_id = \(bind: runId) AND status <> 'scored')
                """).run()
        case .postgres:
            try await sql.raw("DELETE FROM run_attempt_search WHERE run_id = \(bind: runId) AND (sample_id, epoch) IN (" + failed + ")").run()
        }
        try await sql.raw("DELETE FROM run_attempts WHERE run_id = \(bind: runId) AND status <> 'scored'").run()
        try await sql.raw("""
            UPDATE runs SET attempts_done = attempts_done - attempts_failed, attempts_failed = 0 WHERE id = \(bind: runId)
            """).run()
    }

    /// Starts a run's next round (a resume): its attempts are published anew.
    public func startNextRound(runId: String) async throws {
        guard var execution = try await run(id: runId)?.execution else { return }
        execution.round += 1
        try await sql.raw("UPDATE runs SET execution = \(bind: try encodeJSON(execution)) WHERE id = \(bind: runId)").run()
    }

    /// Sets a run's summary: the results built from its attempts, or `{}` while there are none.
    public func updateRunSummary(id: String, _ summary: JSONValue) async throws {
        try await sql.raw("UPDATE runs SET summary = \(bind: try encodeJSON(summary)) WHERE id = \(bind: id)").run()
    }

    /// An assessment's report and the levels it decided.
    public func updateRunReport(id: String, summary: JSONValue, levels: [String: String]) async throws {
        try await sql.raw("""
            UPDATE runs SET summary = \(bind: try encodeJSON(summary)), levels = \(bind: try encodeJSON(levels)) WHERE id = \(bind: id)
            """).run()
    }

    /// Keeps the sealed keys of a run's role models, by role; never returned by the API.
    public func updateRunRoleKeys(runId: String, sealed: [String: String]) async throws {
        try await sql.raw("UPDATE runs SET role_keys = \(bind: try encodeJSON(sealed)) WHERE id = \(bind: runId)").run()
    }

    /// The sealed keys of a run's role models, by role, for its workers.
    public func runRoleKeys(runId: String) async throws -> [String: String] {
        guard let text = try await sql.raw("SELECT role_keys FROM runs WHERE id = \(bind: runId)").first()?
            .decode(column: "role_keys", as: String?.self)
        else { return [:] }
        return try JSONDecoder().decode([String: String].self, from: Data(text.utf8))
    }

    /// Runs of the program's workers that ended (finished or failed) with no results built yet:
    /// what a starting server builds, since its predecessor may have stopped before it did.
    public func endedRunsWithoutResults() async throws -> [StoredRun] {
        try await sql.raw("""
            SELECT * FROM runs WHERE origin = 'server' AND state IN ('finished', 'failed') AND summary = '{}' ORDER BY id
            """).all().map(StoredRun.init(row:))
    }

    /// Runs that workers still take attempts of, oldest first: what a starting server queues again.
    public func activeRuns() async throws -> [StoredRun] {
        try await sql.raw("SELECT * FROM runs WHERE state IN ('queued', 'running') ORDER BY id").all().map(StoredRun.init(row:))
    }

    /// Keeps a bundle's bytes under their SHA-256 (computed by the caller); the same bundle
    /// twice is kept once.
    public func insertBundle(sha256: String, organisationId: String, content: Data, at date: Date) async throws {
        try await sql.raw("""
            INSERT INTO run_bundles (sha256, organisation_id, size, content, created_at) \
            VALUES (\(bind: sha256), \(bind: organisationId), \(bind: Int64(content.count)), \(bind: content.base64EncodedString()), \
            \(bind: date.storedMilliseconds)) ON CONFLICT (sha256) DO NOTHING
            """).run()
    }

    public func bundle(sha256: String) async throws -> Data? {
        let row = try await sql.raw("SELECT content FROM run_bundles WHERE sha256 = \(bind: sha256)").first()
        guard let text = try row?.decode(column: "content", as: String.self) else { return nil }
        guard let data = Data(base64Encoded: text) else { throw StoreError(.corruptRecord, "the bundle \(sha256) is not base64") }
        return data
    }

    /// Keeps an attempt's result unless one is already kept for its run, sample and epoch, and
    /// counts it on the run; the run's counts after it, or nil when it was not kept (a
    /// redelivered attempt's second result).
    /// `parsed` is the record as JSON where the caller has read it already.
    public func commit(_ attempt: StoredAttempt, parsed: JSONValue? = nil) async throws -> RunAttemptCounts? {
        // No error on the key (on PostgreSQL an error would end the transaction): a row comes
        // back only when this result was kept.
        let record = try StoredRecord.encode(attempt.record)
        let kept = try await sql.raw("""
            INSERT INTO run_attempts (run_id, sample_id, epoch, status, record, record_encoding, gateway_calls, worker, created_at, indexed) \
            VALUES (\(bind: attempt.runId), \(bind: attempt.sampleId), \(bind: attempt.epoch), \(bind: attempt.status), \
            \(bind: record.text), \(bind: record.encoding.rawValue), \(bind: try encodeJSON(attempt.gatewayCallIds)), \(bind: attempt.worker), \
            \(bind: attempt.createdAt.storedMilliseconds), 1) ON CONFLICT (run_id, sample_id, epoch) DO NOTHING RETURNING run_id
            """).first() != nil
        guard kept else { return nil }
        let facts = parsed.map { AttemptFacts(record: $0) } ?? AttemptFacts(record: attempt.record)
        try await index(runId: attempt.runId, key: SampleKey(sampleID: attempt.sampleId, epoch: attempt.epoch), facts)
        let row = try await sql.raw("""
            UPDATE runs SET attempts_done = attempts_done + 1, attempts_kept = attempts_kept + 1, \
            attempts_failed = attempts_failed + \(bind: attempt.status == "scored" ? 0 : 1) WHERE id = \(bind: attempt.runId) \
            RETURNING attempts_done, attempts_failed, attempts_kept
            """).first()
        guard let row else { throw StoreError(.notFound, "run \(attempt.runId)") }
        try await sql.raw("""
            UPDATE run_attempts SET kept_order = \(bind: try row.decode(column: "attempts_kept", as: Int.self)) \
            WHERE run_id = \(bind: attempt.runId) AND sample_id = \(bind: attempt.sampleId) AND epoch = \(bind: attempt.epoch)
            """).run()
        return RunAttemptCounts(done: try row.decode(column: "attempts_done", as: Int.self), failed: try row.decode(column: "attempts_failed", as: Int.self))
    }

    /// Records the attempts a run must make.
    public func insertPlannedAttempts(runId: String, _ keys: [SampleKey]) async throws {
        for key in keys {
            try await sql.raw("""
                INSERT INTO run_planned_attempts (run_id, sample_id, epoch) VALUES (\(bind: runId), \(bind: key.sampleID), \(bind: key.epoch)) \
                ON CONFLICT (run_id, sample_id, epoch) DO NOTHING
                """).run()
        }
    }

    /// The attempts a run must make that have no result yet.
    public func attemptsWithoutResult(runId: String) async throws -> [SampleKey] {
        try await sql.raw("""
            SELECT p.sample_id, p.epoch FROM run_planned_attempts p LEFT JOIN run_attempts a \
            ON a.run_id = p.run_id AND a.sample_id = p.sample_id AND a.epoch = p.epoch \
            WHERE p.run_id = \(bind: runId) AND a.run_id IS NULL ORDER BY p.sample_id, p.epoch
            """).all().map { SampleKey(sampleID: try $0.decode(column: "sample_id", as: String.self), epoch: try $0.decode(column: "epoch", as: Int.self)) }
    }

    /// A run's results, by sample and epoch; without their records (left empty) unless asked.
    public func attempts(runId: String, records: Bool = false) async throws -> [StoredAttempt] {
        try await sql.raw("SELECT \(unsafeRaw: Self.attemptColumns(records)) FROM run_attempts WHERE run_id = \(bind: runId) ORDER BY sample_id, epoch")
            .all().map { try StoredAttempt(row: $0, record: records) }
    }

    /// A page of a run's results after `key`, by sample and epoch; without their records (left
    /// empty) unless asked.
    public func attempts(runId: String, after key: SampleKey?, limit: Int, records: Bool = false) async throws -> [StoredAttempt] {
        var query: SQLQueryString = "SELECT \(unsafeRaw: Self.attemptColumns(records)) FROM run_attempts WHERE run_id = \(bind: runId)"
        if let key {
            query = query + " AND (sample_id > \(bind: key.sampleID) OR (sample_id = \(bind: key.sampleID) AND epoch > \(bind: key.epoch)))"
        }
        return try await sql.raw(query + " ORDER BY sample_id, epoch LIMIT \(unsafeRaw: String(limit))").all().map { try StoredAttempt(row: $0, record: records) }
    }

    /// A run's results in the order they were kept, after the `after`-th, without their records:
    /// what a progress stream reports as they come. Each result's place is in `keptOrder`.
    public func attempts(runId: String, keptAfter after: Int, limit: Int) async throws -> [(keptOrder: Int, attempt: StoredAttempt)] {
        try await sql.raw("""
            SELECT \(unsafeRaw: Self.attemptColumns(false)), kept_order FROM run_attempts WHERE run_id = \(bind: runId) \
            AND kept_order > \(bind: after) ORDER BY kept_order LIMIT \(unsafeRaw: String(limit))
            """).all().map { (try $0.decode(column: "kept_order", as: Int.self), try StoredAttempt(row: $0, record: false)) }
    }

    /// A record is read (and expanded) only where it is used: a list of results leaves it out.
    private static func attemptColumns(_ records: Bool) -> String {
        "run_id, sample_id, epoch, status, gateway_calls, worker, created_at" + (records ? ", record, record_encoding" : "")
    }

    public func attempt(runId: String, key: SampleKey) async throws -> StoredAttempt? {
        try await sql.raw("""
            SELECT * FROM run_attempts WHERE run_id = \(bind: runId) AND sample_id = \(bind: key.sampleID) AND epoch = \(bind: key.epoch)
            """).first().map { try StoredAttempt(row: $0, record: true) }
    }

    /// Whether the run planned this attempt.
    public func isPlanned(runId: String, key: SampleKey) async throws -> Bool {
        try await sql.raw("""
            SELECT 1 AS planned FROM run_planned_attempts WHERE run_id = \(bind: runId) AND sample_id = \(bind: key.sampleID) \
            AND epoch = \(bind: key.epoch)
            """).first() != nil
    }

    /// How many of a run's attempts have a result, and how many of those failed.
    public func attemptCounts(runId: String) async throws -> RunAttemptCounts {
        let row = try await sql.raw("SELECT attempts_done, attempts_failed FROM runs WHERE id = \(bind: runId)").first()
        return RunAttemptCounts(done: try row?.decode(column: "attempts_done", as: Int.self) ?? 0, failed: try row?.decode(column: "attempts_failed", as: Int.self) ?? 0)
    }

    /// Revokes a grant's keys of this name that are not revoked yet (the keys minted for a run's workers).
    public func revokeKeys(grantId: String, name: String, at date: Date) async throws {
        try await sql.raw("""
            UPDATE api_keys SET revoked_at = \(bind: date.storedMilliseconds) WHERE grant_id = \(bind: grantId) AND name = \(bind: name) \
            AND revoked_at IS NULL
            """).run()
    }

    // MARK: Idempotency

    /// The response stored for an idempotency key, with the digest of the request that made it.
    public struct StoredResponse: Sendable, Hashable {
        public var requestHash: String
        public var status: Int
        public var body: String
        public var location: String?

        public init(requestHash: String, status: Int, body: String, location: String?) {
            self.requestHash = requestHash
            self.status = status
            self.body = body
            self.location = location
        }
    }

    public func storedResponse(userId: String, key: String) async throws -> StoredResponse? {
        guard let row = try await sql.raw(
            "SELECT * FROM idempotency_keys WHERE user_id = \(bind: userId) AND key = \(bind: key)").first()
        else { return nil }
        return StoredResponse(
            requestHash: try row.decode(column: "request_hash", as: String.self),
            status: try row.decode(column: "status", as: Int.self),
            body: try row.decode(column: "body", as: String.self),
            location: try row.decode(column: "location", as: String?.self))
    }

    public func store(_ response: StoredResponse, userId: String, key: String, at date: Date) async throws {
        try await unique("a response for this Idempotency-Key (another request with it is in flight)") {
            try await sql.raw("""
                INSERT INTO idempotency_keys (user_id, key, request_hash, status, body, location, created_at) VALUES \
                (\(bind: userId), \(bind: key), \(bind: response.requestHash), \(bind: response.status), \(bind: response.body), \
                \(bind: response.location), \(bind: date.storedMilliseconds))
                """).run()
        }
    }

    // MARK: Audit

    /// Appends an entry to the audit chain. Call it inside the transaction that made the change,
    /// so the change and its entry commit together.
    @discardableResult
    public func appendAudit(
        at date: Date, actorUserId: String?, actorOrganisationId: String?, action: String, objectType: String,
        objectId: String?, detail: [String: String] = [:]
    ) async throws -> AuditEntry {
        let event = AuditEvent(
            at: date, actorUserId: actorUserId, actorOrganisationId: actorOrganisationId, action: action, objectType: objectType,
            objectId: objectId, detail: detail)
        return try await appendAudit([event])[0]
    }

    /// Appends entries to the audit chain in order, with one look at the chain's head and
    /// inserts of many rows at once.
    @discardableResult
    public func appendAudit(_ events: [AuditEvent]) async throws -> [AuditEntry] {
        guard !events.isEmpty else { return [] }
        // The head row's lock makes concurrent appends on PostgreSQL take turns; SQLite's
        // BEGIN IMMEDIATE already does.
        let lock: SQLQueryString = flavour == .postgres ? " FOR UPDATE" : ""
        guard let head = try await sql.raw("SELECT sequence, hash FROM audit_head WHERE id = 1" + lock).first() else {
            throw StoreError(.corruptRecord, "the audit log has no head row")
        }
        var sequence = try head.decode(column: "sequence", as: Int64.self)
        var previousHash = try head.decode(column: "hash", as: String.self)
        var entries: [AuditEntry] = []
        entries.reserveCapacity(events.count)
        for event in events {
            sequence += 1
            let detail = Self.detailJSON(event.detail)
            let at = Date(storedMilliseconds: event.at.storedMilliseconds)
            let hash = AuditChain.hash(
                sequence: sequence, at: at, actorUserId: event.actorUserId, actorOrganisationId: event.actorOrganisationId,
                action: event.action, objectType: event.objectType, objectId: event.objectId, detail: detail, previousHash: previousHash)
            entries.append(AuditEntry(
                sequence: sequence, at: at, actorUserId: event.actorUserId, actorOrganisationId: event.actorOrganisationId,
                action: event.action, objectType: event.objectType, objectId: event.objectId, detail: detail,
                previousHash: previousHash, hash: hash))
            previousHash = hash
        }
        for start in stride(from: 0, to: entries.count, by: 200) {
            var query: SQLQueryString = """
                INSERT INTO audit_log (sequence, at, actor_user_id, actor_organisation_id, action, object_type, object_id, detail, \
                previous_hash, hash) VALUES 
                """
            for (index, entry) in entries[start..<min(entries.count, start + 200)].enumerated() {
                query = query + (index == 0 ? "" : ", ") + """
                    (\(bind: entry.sequence), \(bind: entry.at.storedMilliseconds), \(bind: entry.actorUserId), \
                    \(bind: entry.actorOrganisationId), \(bind: entry.action), \(bind: entry.objectType), \(bind: entry.objectId), \
                    \(bind: entry.detail), \(bind: entry.previousHash), \(bind: entry.hash))
                    """
            }
            try await sql.raw(query).run()
        }
        try await sql.raw("UPDATE audit_head SET sequence = \(bind: sequence), hash = \(bind: previousHash) WHERE id = 1").run()
        return entries
    }

    /// Audit entries in order, after `sequence`.
    public func auditEntries(after sequence: Int64, limit: Int) async throws -> [AuditEntry] {
        try await sql.raw("SELECT * FROM audit_log WHERE sequence > \(bind: sequence) ORDER BY sequence LIMIT \(bind: limit)")
            .all().map(AuditEntry.init(row:))
    }

    public func auditHead() async throws -> (sequence: Int64, hash: String) {
        guard let head = try await sql.raw("SELECT sequence, hash FROM audit_head WHERE id = 1").first() else {
            throw StoreError(.corruptRecord, "the audit log has no head row")
        }
        return (try head.decode(column: "sequence", as: Int64.self), try head.decode(column: "hash", as: String.self))
    }

    /// Recomputes the whole chain, a page at a time.
    public func verifyAudit() async throws -> AuditChain.Verdict {
        var verifier = AuditChain.Verifier()
        var last: Int64 = 0
        while true {
            let page = try await sql.raw("SELECT * FROM audit_log WHERE sequence > \(bind: last) ORDER BY sequence LIMIT 1000")
                .all().map(AuditEntry.init(row:))
            guard let tail = page.last else { break }
            for entry in page {
                if let verdict = verifier.check(entry) { return verdict }
            }
            last = tail.sequence
        }
        let head = try await auditHead()
        return verifier.finish(headSequence: head.sequence, headHash: head.hash)
    }

    // MARK: Helpers

    /// An audit detail as JSON with sorted keys, written directly: the gateway writes one for
    /// every call.
    static func detailJSON(_ detail: [String: String]) -> String {
        var writer = JSONWriter(capacity: detail.reduce(2) { $0 + $1.key.utf8.count + $1.value.utf8.count + 6 })
        writer.beginObject()
        for key in detail.keys.sorted() { writer.field(key, detail[key]!) }
        writer.endObject()
        return String(decoding: writer.bytes, as: UTF8.self)
    }

    /// The condition for a grant that gives its grantee a relation to the version (dates aside).
    static func decided(_ alias: String) -> String {
        "\(alias)approved_at IS NOT NULL AND \(alias)consented_at IS NOT NULL AND \(alias)revoked_at IS NULL"
    }

    private func page<Item: Sendable>(
        _ query: SQLQueryString, after cursor: String?, limit: Int, _ make: (any SQLRow) throws -> Item
    ) async throws -> Page<Item> where Item: Identified {
        var query = query
        if let cursor { query = query + " AND id > \(bind: cursor)" }
        query = query + " ORDER BY id LIMIT \(bind: limit + 1)"
        var items = try await sql.raw(query).all().map(make)
        var next: String?
        if items.count > limit {
            items.removeLast()
            next = items.last?.id
        }
        return Page(items: items, nextCursor: next)
    }

    private func unique(_ what: String, _ insert: () async throws -> Void) async throws {
        do {
            try await insert()
        } catch {
            let text = String(reflecting: error)
            if text.contains("UNIQUE constraint failed") || text.contains("23505") {
                throw StoreError(.conflict, "\(what) already exists")
            }
            throw error
        }
    }
}

/// Records listed by id.
public protocol Identified { var id: String { get } }
extension Organisation: Identified {}
extension User: Identified {}
extension Commitment: Identified {}
extension CoveredModel: Identified {}
extension ModelVersion: Identified {}
extension AccessGrant: Identified {}
extension StoredRun: Identified {}

func encodeJSON(_ value: some Encodable) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    return String(decoding: try encoder.encode(value), as: UTF8.self)
}
