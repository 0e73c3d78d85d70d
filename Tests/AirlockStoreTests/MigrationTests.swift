import AirlockCore
@testable import AirlockStore
import AirlockTestSupport
import Foundation
import SQLKit
import Testing

@Suite struct MigrationTests {
    private static func schemaVersions(_ database: ProgramDatabase) async throws -> [Int] {
        try await database.withSession { sql in
            try await sql.raw("SELECT version FROM airlock_schema ORDER BY version").all()
                .map { try $0.decode(column: "version", as: Int.self) }
        }
    }

    @Test(arguments: TestBackend.all)
    func appliedOnFirstOpenAndNeverAgain(backend: TestBackend) async throws {
        let logger = TestBackend.quietLogger
        try await backend.withFreshLocation { location in
            try await ProgramDatabase.withDatabase(location, logger: logger) { database in
                #expect(try await Migrations.apply(to: database, logger: logger) == [1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
                #expect(try await Migrations.apply(to: database, logger: logger) == [])
                #expect(try await Self.schemaVersions(database) == [1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
                #expect(Migrations.latestVersion == 10)
                // The schema is usable: the audit head starts at the genesis hash.
                let head = try await database.transaction { sql in
                    try await ProgramRecords(sql: sql, flavour: database.flavour).auditHead()
                }
                #expect(head.sequence == 0)
                #expect(head.hash == AuditChain.genesis)
            }
        }
    }

    /// Version 4 rebuilds SQLite's users table (e-mails become unique per organisation): the users
    /// and every row that points to them come through, with no foreign key left dangling.
    @Test(arguments: TestBackend.all)
    func upgradingFromVersion3KeepsUsersAndWhatPointsToThem(backend: TestBackend) async throws {
        let logger = TestBackend.quietLogger
        try await backend.withFreshLocation { location in
            try await ProgramDatabase.withDatabase(location, logger: logger) { database in
                try await Self.applyMigrations(upTo: 3, to: database)
                let organisation = Sample.organisation("Before Four")
                let user = Sample.user("admin@before.example", in: organisation, role: .admin)
                let key = Sample.key(for: user)
                try await database.transaction { sql in
                    let records = ProgramRecords(sql: sql, flavour: database.flavour)
                    try await records.insert(organisation)
                    try await records.insert(user, passwordHash: "hash")
                    try await records.insert(Sample.commitment(organisation, signedBy: user))
                    try await records.insert(key, secret: "alk_before_four")
                }
                #expect(try await Migrations.apply(to: database, logger: logger) == [4, 5, 6, 7, 8, 9, 10])
                let (read, hash, keyUser, dangling) = try await database.transaction { sql in
                    let records = ProgramRecords(sql: sql, flavour: database.flavour)
                    // SQLite says which rows point to nothing; PostgreSQL never lets one exist.
                    let dangling = database.flavour == .sqlite ? try await sql.raw("PRAGMA foreign_key_check").all().count : 0
                    return (
                        try await records.user(id: user.id), try await records.users(email: user.email).first?.passwordHash,
                        try await records.key(id: key.id)?.userId, dangling
                    )
                }
                #expect(read == user)
                #expect(hash == "hash")
                #expect(keyUser == user.id)
                #expect(dangling == 0)
            }
        }
    }

    /// Version 5 adds runs on the program's workers: a run filed before it reads as imported.
    @Test(arguments: TestBackend.all)
    func upgradingFromVersion4KeepsRunsAsImported(backend: TestBackend) async throws {
        let logger = TestBackend.quietLogger
        try await backend.withFreshLocation { location in
            try await ProgramDatabase.withDatabase(location, logger: logger) { database in
                try await Self.applyMigrations(upTo: 4, to: database)
                let (developer, version) = try await Self.insertVersion(into: database)
                try await database.transaction { sql in
                    try await sql.raw("""
                        INSERT INTO runs (id, version_id, organisation_id, kind, name, source_id, levels, summary, created_at) \
                        VALUES ('run_BEFOREFIVE', \(bind: version.id), \(bind: developer.id), 'eval', 'old', NULL, '{}', '{}', 0)
                        """).run()
                }
                #expect(try await Migrations.apply(to: database, logger: logger) == [5, 6, 7, 8, 9, 10])
                let run = try await database.transaction { sql in try await ProgramRecords(sql: sql, flavour: database.flavour).run(id: "run_BEFOREFIVE") }
                #expect(run?.origin == .imported && run?.state == nil && run?.execution == nil)
            }
        }
    }

    /// Version 6 counts each run's results on the run: a run's results kept before it are counted.
    @Test(arguments: TestBackend.all)
    func upgradingFromVersion5CountsTheResultsKept(backend: TestBackend) async throws {
        let logger = TestBackend.quietLogger
        try await backend.withFreshLocation { location in
            try await ProgramDatabase.withDatabase(location, logger: logger) { database in
                try await Self.applyMigrations(upTo: 5, to: database)
                let (developer, version) = try await Self.insertVersion(into: database)
                try await database.transaction { sql in
                    for run in ["run_COUNTED", "run_EMPTY"] {
                        try await sql.raw("""
                            INSERT INTO runs (id, version_id, organisation_id, kind, name, source_id, levels, summary, created_at, origin, state) \
                            VALUES (\(bind: run), \(bind: version.id), \(bind: developer.id), 'eval', \(bind: run), NULL, '{}', '{}', 0, 'server', 'running')
                            """).run()
                    }
                    for (sample, status) in [("s1", "scored"), ("s2", "failed"), ("s3", "scored")] {
                        try await sql.raw("""
                            INSERT INTO run_attempts (run_id, sample_id, epoch, status, record, gateway_calls, worker, created_at) \
                            VALUES ('run_COUNTED', \(bind: sample), 1, \(bind: status), '{}', '[]', 'w', 0)
                            """).run()
                    }
                }
                #expect(try await Migrations.apply(to: database, logger: logger) == [6, 7, 8, 9, 10])
                try await database.transaction { sql throws in
                    let records = ProgramRecords(sql: sql, flavour: database.flavour)
                    #expect(try await records.attemptCounts(runId: "run_COUNTED") == RunAttemptCounts(done: 3, failed: 1))
                    // In the order of their times (all the same here, then by sample), and a result kept now comes after them.
                    #expect(try await records.attempts(runId: "run_COUNTED", keptAfter: 0, limit: 10).map { "\($0.keptOrder):\($0.attempt.sampleId)" } == ["1:s1", "2:s2", "3:s3"])
                    #expect(try await records.attemptCounts(runId: "run_EMPTY") == RunAttemptCounts(done: 0, failed: 0))
                    // Version 7: a run from before has no role keys.
                    #expect(try await records.runRoleKeys(runId: "run_COUNTED") == [:])
                }
            }
        }
    }

    /// A developer with a model and a version, for runs to point to.
    static func insertVersion(into database: ProgramDatabase) async throws -> (developer: Organisation, version: ModelVersion) {
        let developer = Sample.organisation("Developer")
        let model = Sample.model("alpha", of: developer)
        let version = Sample.version("1.0", of: model)
        try await database.transaction { sql in
            let records = ProgramRecords(sql: sql, flavour: database.flavour)
            try await records.insert(developer)
            try await records.insert(model)
            try await records.insert(version, sealedCredentials: nil)
        }
        return (developer, version)
    }

    /// The schema as it was at `version`, as an older Airlock left it.
    static func applyMigrations(upTo version: Int, to database: ProgramDatabase) async throws {
        try await database.transaction { sql in
            try await sql.raw(
                "CREATE TABLE airlock_schema (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)"
            ).run()
            for migration in Migrations.all where migration.version <= version {
                for statement in migration.statements(database.flavour) { try await sql.raw(SQLQueryString(statement)).run() }
                try await sql.raw("INSERT INTO airlock_schema VALUES (\(bind: migration.version), \(bind: migration.name), 0)").run()
            }
        }
    }

    @Test(arguments: TestBackend.all)
    func reopeningKeepsRecordsAndAppliesNothing(backend: TestBackend) async throws {
        let logger = TestBackend.quietLogger
        try await backend.withFreshLocation { location in
            let organisation = Sample.organisation("Survives Restarts")
            try await ProgramStore.withStore(.init(location: location), logger: logger) { store in
                try await store.transaction { records in try await records.insert(organisation) }
            }
            try await ProgramStore.withStore(.init(location: location), logger: logger, migrate: false) { store throws in
                #expect(try await Migrations.apply(to: store.database, logger: logger) == [])
                #expect(try await Self.schemaVersions(store.database) == [1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
                #expect(try await store.transaction { records in try await records.organisation(id: organisation.id) } == organisation)
            }
        }
    }

    @Test(arguments: TestBackend.all)
    func newerDatabaseIsRefused(backend: TestBackend) async throws {
        let logger = TestBackend.quietLogger
        try await backend.withFreshLocation { location in
            try await ProgramStore.withStore(.init(location: location), logger: logger) { store in
                try await store.database.withSession { sql in
                    try await sql.raw("""
                        INSERT INTO airlock_schema (version, name, applied_at) \
                        VALUES (\(bind: Migrations.latestVersion + 1), 'from a newer airlock', 0)
                        """).run()
                }
            }
            let error = await storeError {
                try await ProgramStore.withStore(.init(location: location), logger: logger) { _ in }
            }
            #expect(error?.code == .migrationFailed)
            #expect(error?.message.contains("\(Migrations.latestVersion + 1)") == true)
        }
    }
}
