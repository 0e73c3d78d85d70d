import AirlockStore
import Foundation
import Logging
import SQLKit

/// A database back end the store tests run against.
///
/// SQLite always; PostgreSQL when `AIRLOCK_TEST_POSTGRES_URL` names a server (`make test` starts
/// one). Each test gets its own empty database, so tests run in parallel.
public enum TestBackend: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    case sqlite
    case postgres

    /// The back ends tested here: SQLite, and PostgreSQL when its URL is set or `make test`
    /// requires it (then a missing URL fails the tests instead of dropping the back end).
    public static var all: [TestBackend] {
        TestEnvironment.runs(.postgres, ifAvailable: postgresURL != nil) ? [.sqlite, .postgres] : [.sqlite]
    }

    /// `AIRLOCK_TEST_POSTGRES_URL`: a server and a database the tests may create databases from.
    public static var postgresURL: String? {
        guard let url = ProcessInfo.processInfo.environment["AIRLOCK_TEST_POSTGRES_URL"], !url.isEmpty else { return nil }
        return url
    }

    /// A fixed credentials key for tests: 32 bytes in base64. Never use it outside tests.
    public static let testCredentialsKey = Data((0..<32).map { UInt8($0) }).base64EncodedString()

    /// A logger that drops everything, for the database's own logging in tests.
    public static var quietLogger: Logger { Logger(label: "airlock.test.store") { _ in SwiftLogNoOpLogHandler() } }

    public var description: String { rawValue }

    /// Runs `body` with a store on a new, empty, migrated database, and removes the database afterwards.
    public func withFreshStore<R: Sendable>(
        credentialsKey: String? = TestBackend.testCredentialsKey,
        _ body: (ProgramStore) async throws -> R
    ) async throws -> R {
        try await withFreshLocation { location in
            try await ProgramStore.withStore(
                ProgramStore.Configuration(location: location, credentialsKey: credentialsKey), logger: Self.quietLogger
            ) { store in
                try await body(store)
            }
        }
    }

    /// Runs `body` with the location of a new database that nothing has opened yet, and removes it
    /// afterwards: for tests that open and close the store themselves (restarts, migrations).
    ///
    /// SQLite: a file in a new temporary folder. PostgreSQL: a new database on the test server.
    public func withFreshLocation<R>(_ body: (DatabaseLocation) async throws -> R) async throws -> R {
        switch self {
        case .sqlite:
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
                "airlock-store-test-\(UUID().uuidString)", isDirectory: true)
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: folder) }
            return try await body(.sqlite(path: folder.appendingPathComponent("airlock.db").path))
        case .postgres:
            guard let serverURL = Self.postgresURL else {
                throw StoreError(.invalidConfiguration, "AIRLOCK_TEST_POSTGRES_URL is not set")
            }
            let name = "airlock_t_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
            guard var components = URLComponents(string: serverURL) else {
                throw StoreError(.invalidConfiguration, "AIRLOCK_TEST_POSTGRES_URL is not a URL")
            }
            components.path = "/" + name
            guard let freshURL = components.string else {
                throw StoreError(.invalidConfiguration, "cannot name database \(name) in AIRLOCK_TEST_POSTGRES_URL")
            }
            // CREATE and DROP DATABASE refuse to run in a transaction: a plain session is one statement.
            try await Self.administer(serverURL, "CREATE DATABASE \(name)")
            let result: R
            do {
                result = try await body(.postgres(url: freshURL))
            } catch {
                try? await Self.administer(serverURL, "DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
                throw error
            }
            try await Self.administer(serverURL, "DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
            return result
        }
    }

    /// Runs one statement on a short-lived connection to the test server's own database.
    private static func administer(_ serverURL: String, _ statement: String) async throws {
        try await ProgramDatabase.withDatabase(.postgres(url: serverURL), logger: quietLogger) { database in
            try await database.withSession { sql in try await sql.raw(SQLQueryString(statement)).run() }
        }
    }
}
