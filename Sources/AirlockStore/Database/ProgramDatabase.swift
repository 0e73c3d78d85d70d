import Foundation
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import PostgresKit
import PostgresNIO
import SQLKit
import SQLiteKit

/// The database behind the program store: one SQLite connection, or a PostgreSQL connection pool.
///
/// Opened with ``withDatabase(_:logger:_:)`` and closed when its body returns. Every multi-row
/// change goes through ``transaction(_:)``.
public final class ProgramDatabase: Sendable {
    /// Which SQL the database speaks, where the two differ.
    public enum Flavour: String, Sendable { case sqlite, postgres }

    private enum Backend: Sendable {
        case sqlite(SQLiteConnection, SerialAccess)
        case postgres(PostgresClient)
    }

    private let backend: Backend
    public let location: DatabaseLocation
    let logger: Logger

    public var flavour: Flavour {
        switch backend {
        case .sqlite: .sqlite
        case .postgres: .postgres
        }
    }

    private init(backend: Backend, location: DatabaseLocation, logger: Logger) {
        self.backend = backend
        self.location = location
        self.logger = logger
    }

    /// Opens the database at `location`, runs `body`, and closes it.
    ///
    /// A SQLite file and its folder are created when missing; the file runs in WAL mode with full
    /// syncs, so a killed server loses no committed change.
    /// With `createIfMissing` false, a SQLite file that does not exist is an error rather than a
    /// new database (for commands that only read). A PostgreSQL server that refuses the first
    /// connection, or fails its TLS, is an error at once rather than a pool retrying for ever.
    public static func withDatabase<Result: Sendable>(
        _ location: DatabaseLocation,
        logger: Logger,
        createIfMissing: Bool = true,
        _ body: (ProgramDatabase) async throws -> Result
    ) async throws -> Result {
        switch location {
        case .sqlite(let path):
            guard createIfMissing || FileManager.default.fileExists(atPath: path) else {
                throw StoreError(.invalidConfiguration, "no database at \(path)")
            }
            let url = URL(fileURLWithPath: path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            let connection: SQLiteConnection
            do {
                connection = try await SQLiteConnection.open(storage: .file(path: path), logger: logger)
            } catch {
                throw StoreError(.invalidConfiguration, "cannot open SQLite database \(path): \(error)")
            }
            let database = ProgramDatabase(backend: .sqlite(connection, SerialAccess()), location: location, logger: logger)
            do {
                let sql = connection.sql(queryLogLevel: .trace)
                // A second process (`airlock audit verify`, `airlock db migrate`) may hold the file briefly.
                for pragma in ["PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL", "PRAGMA foreign_keys=ON", "PRAGMA busy_timeout=10000"] {
                    try await sql.raw(SQLQueryString(pragma)).run()
                }
                let result = try await body(database)
                try await connection.close()
                return result
            } catch {
                try? await connection.close()
                throw error
            }
        case .postgres(let url):
            let parsed = try connectionConfiguration(url: url)
            do {
                try await PostgresConnection.connect(configuration: parsed, id: 0, logger: logger).close()
            } catch {
                throw StoreError(
                    .invalidConfiguration, "cannot connect to PostgreSQL at \(location): \(String(reflecting: error))")
            }
            let client = PostgresClient(configuration: try clientConfiguration(parsed), backgroundLogger: logger)
            let database = ProgramDatabase(backend: .postgres(client), location: location, logger: logger)
            return try await withThrowingTaskGroup(of: Void.self, returning: Result.self) { group in
                group.addTask { await client.run() }
                defer { group.cancelAll() }
                return try await body(database)
            }
        }
    }

    /// Runs `body` in one transaction: committed if it returns, rolled back if it throws.
    public func transaction<Result: Sendable>(_ body: (any SQLDatabase) async throws -> Result) async throws -> Result {
        try await withSession { sql in
            try await sql.raw(flavour == .sqlite ? "BEGIN IMMEDIATE" : "BEGIN").run()
            do {
                let result = try await body(sql)
                try await sql.raw("COMMIT").run()
                return result
            } catch {
                try? await sql.raw("ROLLBACK").run()
                throw error
            }
        }
    }

    /// Runs `body` on one connection without a transaction, for single reads.
    public func withSession<Result: Sendable>(_ body: (any SQLDatabase) async throws -> Result) async throws -> Result {
        switch backend {
        case .sqlite(let connection, let access):
            await access.acquire()
            do {
                let result = try await body(connection.sql(queryLogLevel: .trace))
                await access.release()
                return result
            } catch {
                await access.release()
                throw error
            }
        case .postgres(let client):
            return try await client.withConnection { connection in
                try await body(connection.sql(queryLogLevel: .trace, logger: logger))
            }
        }
    }

    /// Checks that the database answers, for health checks.
    public func ping() async throws {
        try await withSession { sql in try await sql.raw("SELECT 1").run() }
    }

    private static func connectionConfiguration(url: String) throws -> PostgresConnection.Configuration {
        do {
            return try SQLPostgresConfiguration(url: url).coreConfiguration
        } catch {
            throw StoreError(
                .invalidConfiguration,
                "database URL \(DatabaseLocation.redacted(url)) is not a usable PostgreSQL URL (postgres://user:password@host:port/database, "
                    + "with sslmode=disable, prefer or require)")
        }
    }

    private static func clientConfiguration(_ core: PostgresConnection.Configuration) throws -> PostgresClient.Configuration {
        let tls: PostgresClient.Configuration.TLS =
            switch (core.tls.isEnforced, core.tls.isAllowed, core.tls.sslContext) {
            case (true, _, let context?): .require(context.configuration)
            case (_, true, let context?): .prefer(context.configuration)
            default: .disable
            }
        guard let host = core.host else {
            throw StoreError(.invalidConfiguration, "the PostgreSQL URL names no host")
        }
        return .init(
            host: host, port: core.port ?? 5432, username: core.username, password: core.password,
            database: core.database, tls: tls)
    }
}

/// Lets one task at a time use the single SQLite connection, so transactions never interleave.
actor SerialAccess {
    private var busy = false
    private var waiting: [CheckedContinuation<Void, Never>] = []

    func acquire() async {
        guard busy else {
            busy = true
            return
        }
        await withCheckedContinuation { waiting.append($0) }
    }

    func release() {
        if waiting.isEmpty {
            busy = false
        } else {
            waiting.removeFirst().resume()
        }
    }
}
