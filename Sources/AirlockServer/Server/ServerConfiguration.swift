import AirlockCore
import AirlockGateway
import AirlockStore
import Configuration
import Foundation

/// Everything `airlock serve` reads from configuration.
///
/// Keys are read from flags, then the environment (`AIRLOCK_` and the key in capitals with
/// `_` for `.`, so `database.url` is `AIRLOCK_DATABASE_URL`), then the YAML file, then defaults.
public struct ServerConfiguration: Sendable {
    /// `http.host` (string, default `127.0.0.1`): the address to listen on.
    public var host: String
    /// `http.port` (int, default `8470`; 0 picks a free port): the port to listen on.
    public var port: Int
    /// `database.url` (string, default `airlock.db`): a SQLite file, or `postgres://user:password@host:port/db`.
    /// Secret: it may carry a password.
    public var store: ProgramStore.Configuration
    /// `program.notice_period_days` (int, default 90) and `program.grant_grace_days` (int, default 14).
    public var notice: NoticePolicy
    /// `sessions.lifetime_hours` (int, default 12): how long a sign-in session lasts.
    public var sessionLifetime: TimeInterval
    /// `sessions.idle_minutes` (int, default 30): a browser session ends after this long without
    /// a request, and after `sessions.lifetime_hours` whatever its use.
    public var browserSessionIdle: TimeInterval = 30 * 60
    /// `http.secure_cookies` (bool, default false): mark the browser's cookies `Secure`, so they
    /// travel over TLS only. Set it wherever the server is reached over HTTPS (a TLS proxy).
    public var secureCookies = false
    /// `log.level` (string, default `info`): trace, debug, info, notice, warning, error or critical.
    public var logLevel: String
    /// `gateway.refresh_milliseconds` (int, default 1000), `gateway.upstream_timeout_seconds` (int,
    /// default 600), `gateway.max_connections` (int, default 256), `gateway.journal_path` (string,
    /// default: see ``gatewayJournalPath(for:)``) and `http.head_timeout_seconds` (10),
    /// `http.body_timeout_seconds` (30), `http.idle_timeout_seconds` (75), each 1 to 3600: see
    /// ``AccessGateway/Configuration`` and ``ClientTimeouts``.
    public var gateway: AccessGateway.Configuration = .init()
    /// `sharing.namespace` (string, default `https://airlock.invalid`): this deployment's URL, the
    /// CSAF publisher namespace; it also seeds STIX and TAXII collection ids, so set it once.
    public var sharingNamespace = "https://airlock.invalid"
    /// `sharing.advisory_base_url` (string, default `<namespace>/advisories`): where published
    /// advisories are served, as documents link to them.
    public var advisoryBaseURL = "https://airlock.invalid/advisories"

    /// How long browser sessions last.
    public var browserSessionRule: BrowserSessionRule { BrowserSessionRule(idle: browserSessionIdle, absolute: sessionLifetime) }

    public init(
        host: String = "127.0.0.1", port: Int = 8470, store: ProgramStore.Configuration = .init(),
        notice: NoticePolicy = .init(), sessionLifetime: TimeInterval = 12 * 3600, logLevel: String = "info"
    ) {
        self.host = host
        self.port = port
        self.store = store
        self.notice = notice
        self.sessionLifetime = sessionLifetime
        self.logLevel = logLevel
    }

    /// Reads every key from `config`, naming the key in any error.
    public init(config: ConfigReader) throws {
        host = config.string(forKey: "http.host", default: "127.0.0.1")
        port = try Self.integer(config, "http.port", default: 8470)
        guard (0...65_535).contains(port) else { throw ConfigurationError("http.port", "must be 0 to 65535, not \(port)") }
        let url = config.string(forKey: "database.url", isSecret: true, default: "airlock.db")
        let key = config.string(forKey: "credentials.key", isSecret: true)
        do {
            store = .init(location: try DatabaseLocation(parsing: url), credentialsKey: key)
        } catch {
            throw ConfigurationError("database.url", error.message)
        }
        if let key {
            do { _ = try CredentialSealer(base64Key: key) } catch { throw ConfigurationError("credentials.key", error.message) }
        }
        let period = try Self.integer(config, "program.notice_period_days", default: 90)
        let grace = try Self.integer(config, "program.grant_grace_days", default: 14)
        guard period >= 0 else { throw ConfigurationError("program.notice_period_days", "must not be negative") }
        guard grace >= 0 else { throw ConfigurationError("program.grant_grace_days", "must not be negative") }
        notice = NoticePolicy(noticePeriodDays: period, grantGraceDays: grace)
        let hours = try Self.integer(config, "sessions.lifetime_hours", default: 12)
        guard hours > 0 else { throw ConfigurationError("sessions.lifetime_hours", "must be at least 1") }
        sessionLifetime = TimeInterval(hours) * 3600
        let idle = try Self.integer(config, "sessions.idle_minutes", default: 30)
        guard (1...1440).contains(idle) else { throw ConfigurationError("sessions.idle_minutes", "must be 1 to 1440") }
        browserSessionIdle = TimeInterval(idle) * 60
        secureCookies = config.bool(forKey: "http.secure_cookies", default: false)
        logLevel = config.string(forKey: "log.level", default: "info")
        let refresh = try Self.integer(config, "gateway.refresh_milliseconds", default: 1000)
        let upstream = try Self.integer(config, "gateway.upstream_timeout_seconds", default: 600)
        let connections = try Self.integer(config, "gateway.max_connections", default: 256)
        guard refresh >= 50 else { throw ConfigurationError("gateway.refresh_milliseconds", "must be at least 50") }
        guard upstream >= 1 else { throw ConfigurationError("gateway.upstream_timeout_seconds", "must be at least 1") }
        guard connections >= 1 else { throw ConfigurationError("gateway.max_connections", "must be at least 1") }
        var timeouts: [Int] = []
        for (key, value) in [("http.head_timeout_seconds", 10), ("http.body_timeout_seconds", 30), ("http.idle_timeout_seconds", 75)] {
            let seconds = try Self.integer(config, key, default: value)
            guard (1...3600).contains(seconds) else { throw ConfigurationError(key, "must be 1 to 3600") }
            timeouts.append(seconds)
        }
        gateway = .init(
            refreshInterval: .milliseconds(refresh), upstreamTimeout: .seconds(upstream), maxConnectionsPerHost: connections,
            journalPath: config.string(forKey: "gateway.journal_path"),
            clientTimeouts: .init(head: .seconds(timeouts[0]), body: .seconds(timeouts[1]), idle: .seconds(timeouts[2])))
        sharingNamespace = config.string(forKey: "sharing.namespace", default: "https://airlock.invalid")
        guard let namespace = URL(string: sharingNamespace), ["http", "https"].contains(namespace.scheme ?? ""), namespace.host != nil else {
            throw ConfigurationError("sharing.namespace", "must be an http or https URL, not '\(sharingNamespace)'")
        }
        advisoryBaseURL = config.string(forKey: "sharing.advisory_base_url", default: sharingNamespace + "/advisories")
    }

    /// Where a gateway keeps its journal of admitted calls when `gateway.journal_path` is not set:
    /// beside a SQLite store (`airlock.db.serve-journal` for `airlock serve`), else in the working
    /// folder; `process` names the command, so that `serve` and `gateway` never share one.
    public func gatewayJournalPath(for process: String) -> String {
        if let path = gateway.journalPath { return path }
        if case .sqlite(let path) = store.location, !path.isEmpty, !path.hasPrefix(":memory:") {
            return "\(path).\(process)-journal"
        }
        return "airlock-\(process).journal"
    }

    /// An integer key; a value that is there but not an integer is an error, not the default.
    private static func integer(_ config: ConfigReader, _ key: String, default value: Int) throws -> Int {
        if let number = config.int(forKey: ConfigKey(key)) { return number }
        if let text = config.string(forKey: ConfigKey(key)) {
            guard let number = Int(text.trimmingCharacters(in: .whitespaces)) else {
                throw ConfigurationError(key, "'\(text)' is not an integer")
            }
            return number
        }
        return value
    }
}

/// A configuration key with an unusable value.
public struct ConfigurationError: Error, CustomStringConvertible {
    public var key: String
    public var reason: String

    public init(_ key: String, _ reason: String) {
        self.key = key
        self.reason = reason
    }

    public var description: String { "configuration key \(key): \(reason)" }
}
