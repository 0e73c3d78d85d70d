import Foundation

/// Where the program's records live: a SQLite file (the default) or a PostgreSQL server.
public enum DatabaseLocation: Sendable, Hashable, CustomStringConvertible {
    /// A SQLite file, created on first start.
    case sqlite(path: String)
    /// A PostgreSQL server, for several server machines sharing one store.
    case postgres(url: String)

    /// `AIRLOCK_DATABASE_URL` as given: `postgres://…` or `postgresql://…` for PostgreSQL,
    /// `sqlite:PATH` or a plain path for SQLite.
    public init(parsing value: String) throws(StoreError) {
        if value.hasPrefix("postgres://") || value.hasPrefix("postgresql://") {
            self = .postgres(url: value)
        } else if value.hasPrefix("sqlite:") {
            let path = String(value.dropFirst("sqlite:".count)).replacingOccurrences(of: "//", with: "", options: .anchored)
            guard !path.isEmpty else { throw StoreError(.invalidConfiguration, "database URL '\(value)' names no file") }
            self = .sqlite(path: path)
        } else if value.contains("://") {
            throw StoreError(.invalidConfiguration, "database URL '\(Self.redacted(value))': use postgres://… or a SQLite file path")
        } else {
            self = .sqlite(path: value)
        }
    }

    /// The location without a password, for logs and messages.
    public var description: String {
        switch self {
        case .sqlite(let path): "sqlite:\(path)"
        case .postgres(let url): Self.redacted(url)
        }
    }

    static func redacted(_ url: String) -> String {
        guard var components = URLComponents(string: url), components.password != nil else { return url }
        components.password = "REDACTED"
        return components.string ?? "postgres://…"
    }
}
