import Foundation
import Logging

/// The program store: the database, the key that seals model credentials, and the notice rules.
///
/// ```swift
/// try await ProgramStore.withStore(configuration, logger: logger) { store in
///     try await store.transaction { records in try await records.organisation(id: id) }
/// }
/// ```
public struct ProgramStore: Sendable {
    /// Where the store lives and how it seals secrets.
    public struct Configuration: Sendable {
        /// `database.url` / `AIRLOCK_DATABASE_URL`: a SQLite path (default `airlock.db`) or `postgres://…`.
        public var location: DatabaseLocation
        /// `credentials.key` / `AIRLOCK_CREDENTIALS_KEY` (secret): 32 bytes in base64 for sealing
        /// model endpoint credentials. Without it, credentials cannot be stored.
        public var credentialsKey: String?

        public init(location: DatabaseLocation = .sqlite(path: "airlock.db"), credentialsKey: String? = nil) {
            self.location = location
            self.credentialsKey = credentialsKey
        }
    }

    public let database: ProgramDatabase
    /// Nil when no credentials key is configured.
    public let sealer: CredentialSealer?

    /// Opens the store, applies pending migrations, runs `body`, and closes it.
    public static func withStore<Result: Sendable>(
        _ configuration: Configuration, logger: Logger, migrate: Bool = true,
        _ body: (ProgramStore) async throws -> Result
    ) async throws -> Result {
        let sealer = try configuration.credentialsKey.map { key throws(StoreError) in try CredentialSealer(base64Key: key) }
        return try await ProgramDatabase.withDatabase(configuration.location, logger: logger) { database in
            if migrate { try await Migrations.apply(to: database, logger: logger) }
            return try await body(ProgramStore(database: database, sealer: sealer))
        }
    }

    /// Runs `body` in one transaction.
    public func transaction<Result: Sendable>(_ body: (ProgramRecords) async throws -> Result) async throws -> Result {
        try await database.transaction { sql in try await body(ProgramRecords(sql: sql, flavour: database.flavour)) }
    }
}
