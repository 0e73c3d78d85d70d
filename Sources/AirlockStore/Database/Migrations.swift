import Foundation
import Logging
import SQLKit

/// One versioned change to the schema, written to run on SQLite and PostgreSQL alike.
struct Migration: Sendable {
    var version: Int
    var name: String
    var statements: @Sendable (ProgramDatabase.Flavour) -> [String]
}

/// The schema's history, applied in order at start and by `airlock db migrate`.
///
/// Times are milliseconds since 1970 in BIGINT columns and booleans are 0/1, so one set of
/// statements serves both databases.
public enum Migrations {
    static let all: [Migration] = [
        Migration(version: 1, name: "program records and audit log") { flavour in
            [
                """
                CREATE TABLE organisations (
                    id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, kind TEXT NOT NULL, sector TEXT,
                    created_at BIGINT NOT NULL)
                """,
                """
                CREATE TABLE users (
                    id TEXT PRIMARY KEY, organisation_id TEXT NOT NULL REFERENCES organisations(id),
                    email TEXT NOT NULL UNIQUE, name TEXT NOT NULL, role TEXT NOT NULL, password_hash TEXT,
                    created_at BIGINT NOT NULL)
                """,
                """
                CREATE TABLE commitments (
                    id TEXT PRIMARY KEY, organisation_id TEXT NOT NULL REFERENCES organisations(id),
                    terms TEXT NOT NULL, signed_by TEXT NOT NULL REFERENCES users(id),
                    effective_from BIGINT NOT NULL, effective_until BIGINT, created_at BIGINT NOT NULL)
                """,
                """
                CREATE TABLE models (
                    id TEXT PRIMARY KEY, developer_id TEXT NOT NULL REFERENCES organisations(id),
                    name TEXT NOT NULL, description TEXT NOT NULL, created_at BIGINT NOT NULL,
                    UNIQUE (developer_id, name))
                """,
                """
                CREATE TABLE model_versions (
                    id TEXT PRIMARY KEY, model_id TEXT NOT NULL REFERENCES models(id),
                    developer_id TEXT NOT NULL REFERENCES organisations(id), version TEXT NOT NULL,
                    state TEXT NOT NULL, noticed_at BIGINT NOT NULL, planned_release_at BIGINT NOT NULL,
                    window_opens_at BIGINT NOT NULL, access_ends_by BIGINT NOT NULL, late_notice INTEGER NOT NULL,
                    capabilities TEXT NOT NULL, model_card TEXT NOT NULL, endpoint_url TEXT, endpoint_model TEXT,
                    endpoint_credentials TEXT, created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL,
                    UNIQUE (model_id, version))
                """,
                """
                CREATE TABLE grants (
                    id TEXT PRIMARY KEY, version_id TEXT NOT NULL REFERENCES model_versions(id),
                    grantee_id TEXT NOT NULL REFERENCES organisations(id), purpose TEXT NOT NULL,
                    starts_at BIGINT NOT NULL, ends_at BIGINT NOT NULL, token_quota BIGINT NOT NULL,
                    requests_per_minute INTEGER NOT NULL, approved_at BIGINT, consented_at BIGINT, revoked_at BIGINT,
                    created_by TEXT NOT NULL REFERENCES users(id), created_at BIGINT NOT NULL)
                """,
                "CREATE INDEX grants_by_grantee ON grants (grantee_id)",
                "CREATE INDEX grants_by_version ON grants (version_id)",
                """
                CREATE TABLE api_keys (
                    id TEXT PRIMARY KEY, kind TEXT NOT NULL, secret_hash TEXT NOT NULL UNIQUE,
                    user_id TEXT REFERENCES users(id), grant_id TEXT REFERENCES grants(id),
                    organisation_id TEXT NOT NULL REFERENCES organisations(id), name TEXT NOT NULL,
                    created_at BIGINT NOT NULL, expires_at BIGINT, revoked_at BIGINT)
                """,
                """
                CREATE TABLE runs (
                    id TEXT PRIMARY KEY, version_id TEXT NOT NULL REFERENCES model_versions(id),
                    organisation_id TEXT NOT NULL REFERENCES organisations(id), kind TEXT NOT NULL,
                    name TEXT NOT NULL, source_id TEXT, levels TEXT NOT NULL, summary TEXT NOT NULL,
                    created_at BIGINT NOT NULL)
                """,
                "CREATE UNIQUE INDEX runs_by_source ON runs (version_id, source_id)",
                """
                CREATE TABLE idempotency_keys (
                    user_id TEXT NOT NULL, key TEXT NOT NULL, request_hash TEXT NOT NULL,
                    status INTEGER NOT NULL, body TEXT NOT NULL, location TEXT, created_at BIGINT NOT NULL,
                    PRIMARY KEY (user_id, key))
                """,
                """
                CREATE TABLE audit_log (
                    sequence BIGINT PRIMARY KEY, at BIGINT NOT NULL, actor_user_id TEXT, actor_organisation_id TEXT,
                    action TEXT NOT NULL, object_type TEXT NOT NULL, object_id TEXT, detail TEXT NOT NULL,
                    previous_hash TEXT NOT NULL, hash TEXT NOT NULL)
                """,
                // The chain's head: one row, locked by each append so that appends are serial.
                "CREATE TABLE audit_head (id INTEGER PRIMARY KEY, sequence BIGINT NOT NULL, hash TEXT NOT NULL)",
                "INSERT INTO audit_head (id, sequence, hash) VALUES (1, 0, '\(AuditChain.genesis)')",
            ] + appendOnlyTriggers(flavour)
        },
        Migration(version: 2, name: "access gateway") { _ in
            [
                // A grant's limits at the gateway beyond requests a minute, and what it has spent.
                "ALTER TABLE grants ADD COLUMN tokens_per_minute BIGINT",
                "ALTER TABLE grants ADD COLUMN max_concurrent INTEGER NOT NULL DEFAULT 4",
                "ALTER TABLE grants ADD COLUMN record_content INTEGER NOT NULL DEFAULT 0",
                "ALTER TABLE grants ADD COLUMN tokens_used BIGINT NOT NULL DEFAULT 0",
                // The developer's kill switch and the purposes the gateway lets through.
                "ALTER TABLE model_versions ADD COLUMN gateway_open INTEGER NOT NULL DEFAULT 1",
                """
                ALTER TABLE model_versions ADD COLUMN gateway_purposes TEXT NOT NULL \
                DEFAULT '["capability_evaluation","infrastructure_defence","red_teaming"]'
                """,
                """
                CREATE TABLE gateway_contents (
                    call_id TEXT PRIMARY KEY, grant_id TEXT NOT NULL REFERENCES grants(id), sealed TEXT NOT NULL,
                    created_at BIGINT NOT NULL)
                """,
            ]
        },
        Migration(version: 3, name: "findings, disclosure cases and sharing") { flavour in
            [
                // Findings and cases are documents (their domain types as JSON); the columns beside
                // them are what queries select on.
                """
                CREATE TABLE findings (
                    id TEXT PRIMARY KEY, case_id TEXT, version_id TEXT NOT NULL REFERENCES model_versions(id),
                    reporter_id TEXT NOT NULL REFERENCES organisations(id), kind TEXT NOT NULL, tlp TEXT NOT NULL,
                    merged_into TEXT, document TEXT NOT NULL, created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL)
                """,
                "CREATE INDEX findings_by_case ON findings (case_id)",
                """
                CREATE TABLE disclosure_cases (
                    id TEXT PRIMARY KEY, reference TEXT NOT NULL UNIQUE, state TEXT NOT NULL, embargo_end BIGINT,
                    document TEXT NOT NULL, created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL)
                """,
                """
                CREATE TABLE case_participants (
                    case_id TEXT NOT NULL REFERENCES disclosure_cases(id), organisation_id TEXT NOT NULL REFERENCES organisations(id),
                    role TEXT NOT NULL, PRIMARY KEY (case_id, organisation_id, role))
                """,
                "CREATE INDEX case_participants_by_organisation ON case_participants (organisation_id)",
                // TAXII: every version of every object in every collection, paged by (date_added, seq).
                """
                CREATE TABLE taxii_objects (
                    seq \(flavour == .postgres ? "BIGSERIAL" : "INTEGER") PRIMARY KEY, collection_id TEXT NOT NULL,
                    object_id TEXT NOT NULL, type TEXT NOT NULL, version TEXT NOT NULL, version_micros BIGINT NOT NULL,
                    spec_version TEXT NOT NULL, date_added BIGINT NOT NULL, media_type TEXT NOT NULL, tlp TEXT NOT NULL,
                    case_id TEXT, body TEXT NOT NULL, UNIQUE (collection_id, object_id, version))
                """,
                "CREATE INDEX taxii_objects_by_date ON taxii_objects (collection_id, date_added, seq)",
                "CREATE INDEX taxii_objects_by_object ON taxii_objects (collection_id, object_id)",
                """
                CREATE TABLE taxii_statuses (
                    id TEXT PRIMARY KEY, collection_id TEXT NOT NULL, organisation_id TEXT, document TEXT NOT NULL,
                    created_at BIGINT NOT NULL)
                """,
            ]
        },
        Migration(version: 4, name: "authors of TAXII objects, run source ids and e-mails per organisation") { flavour in
            emailsPerOrganisation(flavour) + [
                // Who posted each TAXII object version, so that only its author or the office changes it.
                "ALTER TABLE taxii_objects ADD COLUMN organisation_id TEXT",
                // A run's source id is unique within its organisation's runs of a version: a clash
                // with another organisation's run would tell that the run exists.
                "DROP INDEX runs_by_source",
                "CREATE UNIQUE INDEX runs_by_source ON runs (version_id, organisation_id, source_id)",
            ]
        },
        Migration(version: 5, name: "runs on the program's workers: state, bundles, attempts") { _ in
            [
                "ALTER TABLE runs ADD COLUMN origin TEXT NOT NULL DEFAULT 'imported'",
                "ALTER TABLE runs ADD COLUMN state TEXT",
                "ALTER TABLE runs ADD COLUMN execution TEXT",
                "CREATE INDEX runs_by_state ON runs (state)",
                // A grant's gateway calls, read to check a run's evidence against the record.
                "CREATE INDEX audit_log_by_object ON audit_log (object_type, object_id)",
                // A bundle's bytes in base64, the same column type on both databases.
                """
                CREATE TABLE run_bundles (
                    sha256 TEXT PRIMARY KEY, organisation_id TEXT NOT NULL REFERENCES organisations(id),
                    size BIGINT NOT NULL, content TEXT NOT NULL, created_at BIGINT NOT NULL)
                """,
                // The attempts a run must make, as its submitter planned them.
                """
                CREATE TABLE run_planned_attempts (
                    run_id TEXT NOT NULL REFERENCES runs(id), sample_id TEXT NOT NULL, epoch INTEGER NOT NULL,
                    PRIMARY KEY (run_id, sample_id, epoch))
                """,
                // One result per attempt: a redelivered attempt's second result is refused by the key.
                """
                CREATE TABLE run_attempts (
                    run_id TEXT NOT NULL REFERENCES runs(id), sample_id TEXT NOT NULL, epoch INTEGER NOT NULL,
                    status TEXT NOT NULL, record TEXT NOT NULL, gateway_calls TEXT NOT NULL, worker TEXT NOT NULL,
                    created_at BIGINT NOT NULL, PRIMARY KEY (run_id, sample_id, epoch))
                """,
            ]
        },
        Migration(version: 6, name: "counts and order of a run's results, and compressed records") { _ in
            [
                // How each result's record is kept (StoredRecord.Encoding): large ones compressed.
                "ALTER TABLE run_attempts ADD COLUMN record_encoding TEXT NOT NULL DEFAULT 'json'",
                // Kept beside the run, so that a result's commit learns whether the run is done
                // from one row (not a count of every result), and concurrent commits on
                // PostgreSQL queue on that row instead of each counting without the other.
                "ALTER TABLE runs ADD COLUMN attempts_done INTEGER NOT NULL DEFAULT 0",
                "ALTER TABLE runs ADD COLUMN attempts_failed INTEGER NOT NULL DEFAULT 0",
                // Each result's place in the order its run's results were kept: commits take it
                // from the run's row, which they hold until they end, so a reader that sees one
                // has seen every one before it (a progress stream follows them by it).
                "ALTER TABLE runs ADD COLUMN attempts_kept INTEGER NOT NULL DEFAULT 0",
                "ALTER TABLE run_attempts ADD COLUMN kept_order INTEGER NOT NULL DEFAULT 0",
                """
                UPDATE runs SET attempts_done = (SELECT COUNT(*) FROM run_attempts a WHERE a.run_id = runs.id), \
                attempts_failed = (SELECT COUNT(*) FROM run_attempts a WHERE a.run_id = runs.id AND a.status <> 'scored'), \
                attempts_kept = (SELECT COUNT(*) FROM run_attempts a WHERE a.run_id = runs.id)
                """,
                // Results kept before this version: in the order of their times.
                """
                UPDATE run_attempts SET kept_order = (SELECT COUNT(*) FROM run_attempts b WHERE b.run_id = run_attempts.run_id \
                AND (b.created_at < run_attempts.created_at OR (b.created_at = run_attempts.created_at \
                AND (b.sample_id < run_attempts.sample_id OR (b.sample_id = run_attempts.sample_id AND b.epoch <= run_attempts.epoch)))))
                """,
                "CREATE INDEX run_attempts_by_order ON run_attempts (run_id, kept_order)",
            ]
        },
        Migration(version: 7, name: "the sealed keys of a run's role models") { _ in
            // Apart from the run's execution, which the API shows: sealed keys by role, as JSON.
            ["ALTER TABLE runs ADD COLUMN role_keys TEXT"]
        },
        Migration(version: 8, name: "browser sessions") { _ in
            [
                // Apart from API keys: a browser's cookie holds the secret, kept here as its digest.
                """
                CREATE TABLE browser_sessions (
                    id TEXT PRIMARY KEY, secret_hash TEXT NOT NULL UNIQUE, user_id TEXT NOT NULL REFERENCES users(id),
                    form_token TEXT NOT NULL, created_at BIGINT NOT NULL, last_seen_at BIGINT NOT NULL, ended_at BIGINT
                )
                """,
                "CREATE INDEX browser_sessions_by_user ON browser_sessions (user_id)",
            ]
        },
        Migration(version: 9, name: "what a run's sample list filters and searches on") { flavour in
            [
                // Each result's scores, failure cause and metadata (AttemptFacts), by field.
                """
                CREATE TABLE run_attempt_values (
                    run_id TEXT NOT NULL, sample_id TEXT NOT NULL, epoch INTEGER NOT NULL, field TEXT NOT NULL,
                    text_value TEXT, number_value DOUBLE PRECISION, PRIMARY KEY (run_id, sample_id, epoch, field))
                """,
                "CREATE INDEX run_attempt_values_by_number ON run_attempt_values (run_id, field, number_value, sample_id, epoch)",
                "CREATE INDEX run_attempt_values_by_text ON run_attempt_values (run_id, field, text_value, sample_id, epoch)",
                // The fields a run's results have, for the filters a page offers.
                "CREATE TABLE run_attempt_fields (run_id TEXT NOT NULL, field TEXT NOT NULL, PRIMARY KEY (run_id, field))",
                "CREATE INDEX run_attempts_by_status ON run_attempts (run_id, status, sample_id, epoch)",
                // Results kept before this version are indexed by the server when it starts.
                "ALTER TABLE run_attempts ADD COLUMN indexed INTEGER NOT NULL DEFAULT 0",
                // Finds them without a scan of every result (and its record) at each start.
                "CREATE INDEX run_attempts_unindexed ON run_attempts (run_id) WHERE indexed = 0",
            ] + Self.attemptSearch(flavour)
        },
        Migration(version: 10, name: "second factors and the sign-ins that wait for one") { _ in
            [
                // A user's one-time code secret, sealed with the credentials key; the last time
                // step a code was taken at, so that each code signs in once.
                """
                CREATE TABLE user_second_factors (
                    user_id TEXT PRIMARY KEY REFERENCES users(id), sealed_secret TEXT NOT NULL, confirmed_at BIGINT,
                    last_step BIGINT NOT NULL DEFAULT 0, created_at BIGINT NOT NULL)
                """,
                // A password that was right, waiting for the code: found by its cookie's digest.
                """
                CREATE TABLE sign_in_challenges (
                    id TEXT PRIMARY KEY, secret_hash TEXT NOT NULL UNIQUE, user_id TEXT NOT NULL REFERENCES users(id),
                    next_path TEXT NOT NULL, failures INTEGER NOT NULL DEFAULT 0, created_at BIGINT NOT NULL, ended_at BIGINT)
                """,
            ]
        },
    ]

    /// Full-text search of results: SQLite's FTS5, or a PostgreSQL `tsvector` under a GIN index,
    /// each with the `simple` rules (no stemming: an evaluator searches for the words written).
    private static func attemptSearch(_ flavour: ProgramDatabase.Flavour) -> [String] {
        switch flavour {
        case .sqlite:
            [
                """
                CREATE VIRTUAL TABLE run_attempt_search USING fts5(
                    body, run_id UNINDEXED, sample_id UNINDEXED, epoch UNINDEXED, tokenize = 'unicode61 remove_diacritics 2')
                """,
                // An attempt's search row, by the row's id (FTS5 keeps it through a VACUUM): a
                // page of a common word's matches looks each attempt up by it.
                "ALTER TABLE run_attempts ADD COLUMN search_id INTEGER",
                "CREATE INDEX run_attempts_by_search ON run_attempts (search_id)",
            ]
        case .postgres:
            [
                """
                CREATE TABLE run_attempt_search (
                    run_id TEXT NOT NULL, sample_id TEXT NOT NULL, epoch INTEGER NOT NULL, body TSVECTOR NOT NULL,
                    PRIMARY KEY (run_id, sample_id, epoch))
                """,
                "CREATE INDEX run_attempt_search_by_body ON run_attempt_search USING GIN (body)",
            ]
        }
    }

    /// A user's e-mail is unique within its organisation, not across the program: a clash with
    /// another organisation's user would tell that the address is registered there. SQLite
    /// cannot drop a column's UNIQUE, so the table is rebuilt; its rows go back before the
    /// transaction ends, which settles the deferred foreign keys of the rows that point to them.
    private static func emailsPerOrganisation(_ flavour: ProgramDatabase.Flavour) -> [String] {
        let rebuilt: [String] =
            switch flavour {
            case .postgres: ["ALTER TABLE users DROP CONSTRAINT users_email_key"]
            case .sqlite:
                [
                    "PRAGMA defer_foreign_keys = ON",
                    "CREATE TABLE users_before_4 AS SELECT * FROM users",
                    "DROP TABLE users",
                    """
                    CREATE TABLE users (
                        id TEXT PRIMARY KEY, organisation_id TEXT NOT NULL REFERENCES organisations(id),
                        email TEXT NOT NULL, name TEXT NOT NULL, role TEXT NOT NULL, password_hash TEXT,
                        created_at BIGINT NOT NULL)
                    """,
                    """
                    INSERT INTO users (id, organisation_id, email, name, role, password_hash, created_at) \
                    SELECT id, organisation_id, email, name, role, password_hash, created_at FROM users_before_4
                    """,
                    "DROP TABLE users_before_4",
                ]
            }
        return rebuilt + [
            "CREATE UNIQUE INDEX users_by_organisation_email ON users (organisation_id, email)",
            "CREATE INDEX users_by_email ON users (email)",
        ]
    }

    /// The database refuses to change or delete audit entries; `airlock audit verify` catches
    /// whoever goes around that.
    private static func appendOnlyTriggers(_ flavour: ProgramDatabase.Flavour) -> [String] {
        switch flavour {
        case .sqlite:
            [
                "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END",
                "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END",
            ]
        case .postgres:
            [
                """
                CREATE FUNCTION airlock_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN RAISE EXCEPTION 'audit_log is append-only'; END $$
                """,
                """
                CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
                FOR EACH ROW EXECUTE FUNCTION airlock_audit_append_only()
                """,
            ]
        }
    }

    /// PostgreSQL's advisory lock for migrating, the same for every server.
    private static let lockKey = 7_021_001

    /// The newest schema version this program knows.
    public static var latestVersion: Int { all.last?.version ?? 0 }

    /// Applies every migration the database lacks, each in its own transaction, and returns
    /// the versions applied. Safe to run from several servers at once on PostgreSQL.
    @discardableResult
    public static func apply(to database: ProgramDatabase, logger: Logger) async throws -> [Int] {
        try await database.transaction { sql in
            // Servers starting together take turns, from the first statement on.
            if database.flavour == .postgres { try await sql.raw("SELECT pg_advisory_xact_lock(\(literal: lockKey))").run() }
            try await sql.raw(
                "CREATE TABLE IF NOT EXISTS airlock_schema (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)"
            ).run()
        }
        let newest = try await database.withSession { sql in
            try await sql.raw("SELECT MAX(version) AS version FROM airlock_schema").first()?.decode(column: "version", as: Int?.self)
        }
        if let newest, newest > latestVersion {
            throw StoreError(
                .migrationFailed,
                "the database has schema version \(newest), newer than this program's \(latestVersion): upgrade airlock")
        }
        var applied: [Int] = []
        for migration in all {
            let didApply = try await database.transaction { sql in
                if database.flavour == .postgres { try await sql.raw("SELECT pg_advisory_xact_lock(\(literal: lockKey))").run() }
                let present = try await sql.raw("SELECT version FROM airlock_schema WHERE version = \(bind: migration.version)").first()
                guard present == nil else { return false }
                for statement in migration.statements(database.flavour) {
                    try await sql.raw(SQLQueryString(statement)).run()
                }
                try await sql.raw(
                    "INSERT INTO airlock_schema (version, name, applied_at) VALUES (\(bind: migration.version), \(bind: migration.name), \(bind: Date().storedMilliseconds))"
                ).run()
                return true
            }
            if didApply {
                logger.info("applied migration", metadata: ["version": "\(migration.version)", "name": "\(migration.name)"])
                applied.append(migration.version)
            }
        }
        return applied
    }
}

extension Date {
    /// How times are stored: whole milliseconds since 1970.
    var storedMilliseconds: Int64 { Int64((timeIntervalSince1970 * 1000).rounded()) }

    init(storedMilliseconds: Int64) { self.init(timeIntervalSince1970: Double(storedMilliseconds) / 1000) }
}
