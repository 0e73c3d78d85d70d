import AirlockCore
import AirlockGateway
import AirlockServer
import AirlockStore
import AirlockWorker
import ArgumentParser
import Configuration
import Foundation
import Logging
import Metrics
import Prometheus
import ServiceLifecycle
import Synchronization
import SystemPackage
import UnixSignals

/// Where the server's configuration comes from: flags, then `AIRLOCK_…` variables, then the file.
struct ServerConfigurationOptions: ParsableArguments {
    @Option(help: "A YAML configuration file (default: airlock.yaml when it exists).")
    var config: String?

    @Option(help: "The database: a SQLite file or postgres://… (key database.url, env AIRLOCK_DATABASE_URL).")
    var database: String?

    func reader(flags extra: [AbsoluteConfigKey: ConfigValue] = [:]) async throws -> ConfigReader {
        var flags = extra
        if let database { flags[AbsoluteConfigKey(["database", "url"])] = ConfigValue(.string(database), isSecret: true) }
        var providers: [any ConfigProvider] = [
            InMemoryProvider(name: "flags", values: flags),
            EnvironmentVariablesProvider(
                secretsSpecifier: .dynamic { key, _ in key.contains("DATABASE_URL") || key.contains("KEY") }
            ).prefixKeys(with: "airlock"),
        ]
        let file = config ?? "airlock.yaml"
        if config != nil || FileManager.default.fileExists(atPath: file) {
            guard FileManager.default.fileExists(atPath: file) else { throw ValidationError("no configuration file \(file)") }
            do {
                providers.append(try await FileProvider<YAMLSnapshot>(filePath: FilePath(file)))
            } catch {
                throw ValidationError("\(file): \(error)")
            }
        }
        return ConfigReader(providers: providers)
    }

    func serverConfiguration(flags: [AbsoluteConfigKey: ConfigValue] = [:]) async throws -> ServerConfiguration {
        do {
            return try ServerConfiguration(config: try await reader(flags: flags))
        } catch let error as ConfigurationError {
            throw ValidationError(error.description)
        }
    }
}

/// What `serve` and `gateway` share: where the configuration comes from, and where to listen.
struct ListeningOptions: ParsableArguments {
    @OptionGroup var source: ServerConfigurationOptions

    @Option(help: "The address to listen on (key http.host).")
    var host: String?

    @Option(help: "The port to listen on; 0 picks a free one (key http.port).")
    var port: Int?

    func configuration() async throws -> ServerConfiguration {
        var flags: [AbsoluteConfigKey: ConfigValue] = [:]
        if let host { flags[AbsoluteConfigKey(["http", "host"])] = .init(.string(host), isSecret: false) }
        if let port { flags[AbsoluteConfigKey(["http", "port"])] = .init(.int(port), isSecret: false) }
        return try await source.serverConfiguration(flags: flags)
    }

    func logger(_ label: String, _ configuration: ServerConfiguration) throws -> Logger {
        var logger = Logger(label: label) { StreamLogHandler.standardError(label: $0) }
        guard let level = Logger.Level(rawValue: configuration.logLevel) else {
            throw ValidationError("configuration key log.level: '\(configuration.logLevel)' is not a log level")
        }
        logger.logLevel = level
        return logger
    }

    /// The registry `/metrics` shows, with swift-metrics reporting into it.
    func metricsRegistry() -> PrometheusCollectorRegistry {
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        return registry
    }

    func run(_ services: [any Service], logger: Logger) async throws {
        try await runServiceGroup(services, logger: logger)
    }
}

/// Runs `services` as the process's one group until SIGTERM or SIGINT, then shuts them down gracefully.
func runServiceGroup(_ services: [any Service], logger: Logger) async throws {
    let group = ServiceGroup(configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
    try await group.run()
}

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the program server: the API for organisations, notices, grants, runs and the audit log, and the access gateway.")

    @OptionGroup var listening: ListeningOptions
    @OptionGroup(title: "Runs on the program's workers") var queue: QueueOptions
    @OptionGroup(title: "The server's own worker (--slots 0: none)") var worker: WorkerOptions

    func run() async throws {
        let configuration = try await listening.configuration()
        let logger = try listening.logger("airlock.server", configuration)
        let registry = listening.metricsRegistry()
        let workerConfiguration = try worker.configuration(leaseSeconds: queue.leaseSeconds)
        logger.info("opening store", metadata: ["database": "\(configuration.store.location)"])
        try await ProgramStore.withStore(configuration.store, logger: logger) { store in
            try await queue.withQueue(name: "airlock-server", managesStream: true, logger: logger) { attemptQueue in
                var gatewayConfiguration = configuration.gateway
                gatewayConfiguration.journalPath = configuration.gatewayJournalPath(for: "serve")
                let gateway = try AccessGateway(store: store, configuration: gatewayConfiguration, logger: logger)
                // A revocation or the kill switch reaches the gateway at once, not at its next reload.
                let api = ProgramAPI(
                    store: store, configuration: configuration, queue: attemptQueue, logger: logger, accessChanged: { try? await gateway.refresh() },
                    resultsBuilder: EngineRunResults(workFolder: workerConfiguration.workFolder))
                let address = ListeningAddress()
                let app = ProgramApplication.application(api: api, registry: registry, gateway: gateway, logger: logger) { port in
                    address.port.withLock { $0 = port }
                    // Tests and scripts read the address from this line.
                    FileHandle.standardOutput.write(Data("airlock: serving on http://\(configuration.host):\(port)\n".utf8))
                }
                // Queues what active runs still need: at start, and after the queue was out of reach.
                var services: [any Service] = [gateway, app, RunRequeueService(runs: api.runs)]
                if workerConfiguration.slots > 0 {
                    let host = ["0.0.0.0", "::", ""].contains(configuration.host) ? "127.0.0.1" : configuration.host
                    let source = StoreRunSource(runs: api.runs) { "http://\(host.contains(":") ? "[\(host)]" : host):\(address.port.withLock { $0 })/v1" }
                    let own = AttemptWorker(configuration: workerConfiguration, queue: attemptQueue, source: source, logger: logger)
                    services.append(AttemptWorkerService(worker: own, maxConnections: workerConfiguration.maxConnections, ready: address.waitUntilListening))
                }
                try await listening.run(services, logger: logger)
            }
        }
        logger.info("server stopped")
    }
}

/// The port the server listens on, once it does: the own worker's gateway is there.
final class ListeningAddress: Sendable {
    let port = Mutex<Int>(0)

    func waitUntilListening() async throws {
        while port.withLock({ $0 }) == 0 { try await Task.sleep(for: .milliseconds(20)) }
    }
}

struct GatewayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gateway",
        abstract: "Run the access gateway alone, on the program server's store (`airlock serve` includes it).")

    @OptionGroup var listening: ListeningOptions

    func run() async throws {
        let configuration = try await listening.configuration()
        let logger = try listening.logger("airlock.gateway", configuration)
        let registry = listening.metricsRegistry()
        try await ProgramStore.withStore(configuration.store, logger: logger) { store in
            var gatewayConfiguration = configuration.gateway
            gatewayConfiguration.journalPath = configuration.gatewayJournalPath(for: "gateway")
            let gateway = try AccessGateway(store: store, configuration: gatewayConfiguration, logger: logger)
            let app = ProgramApplication.gatewayApplication(
                gateway: gateway, registry: registry, host: configuration.host, port: configuration.port, logger: logger
            ) { port in
                FileHandle.standardOutput.write(Data("airlock: gateway on http://\(configuration.host):\(port)/v1\n".utf8))
            }
            try await listening.run([gateway, app], logger: logger)
        }
    }
}

struct DatabaseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "db", abstract: "Manage the program store.", subcommands: [Migrate.self, Bootstrap.self])

    struct Migrate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Apply pending schema migrations.")
        @OptionGroup var source: ServerConfigurationOptions
        @OptionGroup var logging: LoggingOptions

        func run() async throws {
            let configuration = try await source.serverConfiguration()
            let logger = logging.makeLogger("airlock.db")
            let applied = try await ProgramDatabase.withDatabase(configuration.store.location, logger: logger) { database in
                try await Migrations.apply(to: database, logger: logger)
            }
            print(applied.isEmpty
                ? "schema is up to date (version \(Migrations.latestVersion))"
                : "applied migrations \(applied.map(String.init).joined(separator: ", "))")
        }
    }

    struct Bootstrap: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create the program office and its first admin, and print the admin's API key once.")
        @OptionGroup var source: ServerConfigurationOptions
        @OptionGroup var logging: LoggingOptions

        @Option(help: "The program office's name.")
        var organisation: String

        @Option(help: "The admin's email.")
        var email: String

        @Option(help: "The admin's name.")
        var name: String

        @OptionGroup var password: PasswordInputOptions

        func run() async throws {
            let configuration = try await source.serverConfiguration()
            let password = try self.password.read(for: email)
            let result = try await ProgramStore.withStore(configuration.store, logger: logging.makeLogger("airlock.db")) { store in
                try await ProgramBootstrap.createProgramOffice(
                    in: store, name: organisation, email: email, userName: name, password: password)
            }
            print("program office \(result.organisation.id) and admin \(result.user.id) created")
            print("API key (shown once): \(result.secret)")
        }
    }
}

struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit", abstract: "Check the audit log.", subcommands: [Verify.self])

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Recompute the audit log's hash chain and name the first entry that is not as written.")
        @OptionGroup var source: ServerConfigurationOptions
        @OptionGroup var logging: LoggingOptions

        func run() async throws {
            let configuration = try await source.serverConfiguration()
            let logger = logging.makeLogger("airlock.audit")
            let verdict = try await ProgramDatabase.withDatabase(
                configuration.store.location, logger: logger, createIfMissing: false
            ) { database in
                try await database.withSession { sql in
                    try await ProgramRecords(sql: sql, flavour: database.flavour).verifyAudit()
                }
            }
            switch verdict {
            case .intact(let entries, let head):
                print("audit log intact: \(entries) entries, head \(head)")
            case .tampered(let sequence, let reason):
                print("audit log TAMPERED at entry \(sequence): \(reason)")
                throw ExitCode(1)
            }
        }
    }
}
