import AirlockAPI
import AirlockCore
import AirlockEval
import AirlockNATS
import AirlockQueue
import AirlockServer
import AirlockWorker
import ArgumentParser
import Foundation
import Logging
import ServiceLifecycle

/// Where submitted runs' attempts wait: `--queue`.
struct QueueOptions: ParsableArguments {
    @Option(help: ArgumentHelp(
        "The attempt queue: 'embedded' (in this process, for one machine) or nats://[user:password@]host:port[,nats://…] for NATS JetStream (default: $AIRLOCK_QUEUE, else embedded).",
        valueName: "url"))
    var queue: String?

    @Option(help: "Servers holding each queued attempt in a NATS JetStream cluster: 1, or 3 for a three-node cluster (the server's setting; workers use the stream as the server made it).")
    var queueReplicas: Int = 1

    @Option(help: ArgumentHelp("Seconds a worker holds an attempt without saying it is still at it, before it is handed out again (the same for every worker of a pool).", valueName: "seconds"))
    var leaseSeconds: Int = 30

    /// The queue's address; credentials in it are secrets and never printed.
    var address: String {
        queue ?? ProcessInfo.processInfo.environment["AIRLOCK_QUEUE"].flatMap { $0.isEmpty ? nil : $0 } ?? "embedded"
    }

    var isEmbedded: Bool { address == "embedded" }

    func validate() throws {
        guard [1, 3].contains(queueReplicas) else { throw ValidationError("--queue-replicas must be 1 or 3") }
        guard (2...3600).contains(leaseSeconds) else { throw ValidationError("--lease-seconds must be 2 to 3600") }
        guard isEmbedded || address.split(separator: ",").allSatisfy({ $0.hasPrefix("nats://") }) else {
            throw ValidationError("--queue must be 'embedded' or nats:// URLs")
        }
    }

    /// Runs `body` with the queue, connected for its duration. The server manages the NATS
    /// stream (`managesStream`); a worker only uses it.
    func withQueue<Result: Sendable>(
        name: String, managesStream: Bool, logger: Logger, _ body: (any AttemptQueue) async throws -> Result
    ) async throws -> Result {
        if isEmbedded { return try await body(EmbeddedAttemptQueue(leaseTime: .seconds(leaseSeconds))) }
        let configuration = NATSConfiguration(servers: address.split(separator: ",").map(String.init), name: name)
        return try await NATSConnection.withConnection(configuration, logger: logger) { connection in
            try await body(try await jetStreamQueue(connection, managesStream: managesStream, logger: logger))
        }
    }
}

extension QueueOptions {
    /// The queue on `connection`, tried for 30 s: a cluster started beside this process elects
    /// its JetStream leader a moment later.
    func jetStreamQueue(_ connection: NATSConnection, managesStream: Bool, logger: Logger) async throws -> JetStreamAttemptQueue {
        var attempt = 0
        while true {
            do {
                return try await JetStreamAttemptQueue(
                    connection: connection,
                    configuration: .init(leaseTime: .seconds(leaseSeconds), replicas: queueReplicas, managesStream: managesStream))
            } catch let error as QueueError where error.code == .transport && attempt < 60 {
                attempt += 1
                logger.notice("JetStream is not ready; trying again", metadata: ["error": "\(error)"])
                try await Task.sleep(for: .milliseconds(500))
            }
        }
    }
}

/// A worker's settings: `--pool`, `--slots`, `--name`, `--work-dir`, `--max-connections`.
struct WorkerOptions: ParsableArguments {
    @Option(help: "The pool whose attempts this worker takes.")
    var pool: String = "default"

    @Option(help: "Attempts run at once.")
    var slots: Int = 4

    @Option(help: "The worker's name, kept with each result (default: the host's name).")
    var name: String?

    @Option(help: "Where run bundles are unpacked (default: a folder under the temporary directory).")
    var workDir: String?

    @Option(help: "Connections to the gateway at once.")
    var maxConnections: Int = 32

    func validate() throws {
        guard (0...4096).contains(slots) else { throw ValidationError("--slots must be 0 to 4096") }
        guard (1...4096).contains(maxConnections) else { throw ValidationError("--max-connections must be 1 to 4096") }
        do { try AttemptTicket.checkName(pool, field: "--pool") } catch { throw ValidationError("\(error)") }
    }

    func configuration(leaseSeconds: Int) throws -> AttemptWorker.Configuration {
        let folder = workDir ?? NSTemporaryDirectory() + "airlock-worker-\(ProcessInfo.processInfo.processIdentifier)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        // Progress well inside the lease, so that a busy worker keeps what it holds.
        let progress = Duration.seconds(max(1, leaseSeconds / 3))
        return AttemptWorker.Configuration(
            name: name ?? ProcessInfo.processInfo.hostName, pool: pool, slots: slots, progressInterval: progress,
            cancelCheckInterval: min(.seconds(2), progress), workFolder: folder, maxConnections: maxConnections)
    }
}

/// A worker as a service of the process's one `ServiceGroup`: it takes attempts until shutdown.
struct AttemptWorkerService: Service {
    let worker: AttemptWorker
    let maxConnections: Int
    /// Waited for before the first attempt is taken (the server's own worker: until it listens).
    var ready: @Sendable () async throws -> Void = {}

    func run() async throws {
        try await cancelWhenGracefulShutdown { try await ready() }
        try await ModelClient.withClient(maxConnections: maxConnections) { client in
            try await cancelWhenGracefulShutdown { try await worker.run(client: client) }
        }
    }
}

/// The gateway model a run's attempts call, with the key the assignment carries.
func gatewayModel(baseURL: String, key: String, completions: Bool) -> ModelConfiguration {
    // The gateway's key picks the model; the name is only what the requests say.
    ModelConfiguration(api: completions ? .openAICompletions : .openAIChat, name: "model-under-test", baseURL: baseURL, apiKey: APIKey(key))
}

/// The options a run's attempts are planned with, as a worker plans them: planning reads the
/// seed, epochs, limit, the model's kind and the roles bound, not where the models are or their keys.
func runPlanningOptions(_ execution: RunExecution) throws -> EvalOptions {
    let model = gatewayModel(baseURL: "http://127.0.0.1/v1", key: "-", completions: execution.completions)
    return try RunAssignment(execution, model: model, roleKeys: (execution.roles ?? [:]).mapValues { _ in "-" }).options()
}

/// The server's own worker reads runs and keeps results in the store directly.
struct StoreRunSource: RunSource {
    let runs: ProgramRuns
    /// The gateway of this server, known once it listens.
    let gatewayURL: @Sendable () -> String

    func assignment(runID: String) async throws -> RunAssignment? {
        guard let assignment = try await runs.assign(runId: runID, workerUserId: nil), let execution = assignment.run.execution else { return nil }
        return try RunAssignment(
            execution, model: gatewayModel(baseURL: gatewayURL(), key: assignment.gatewayKey, completions: execution.completions),
            roleKeys: assignment.roleKeys)
    }

    func activeRound(runID: String) async throws -> Int? { try await runs.activeRound(runId: runID) }

    func bundle(runID: String, digest: String) async throws -> Data {
        guard let bytes = try await runs.bundle(runId: runID) else { throw EvalError(.invalidTask, "the run \(runID) has no bundle") }
        return bytes
    }

    func hasResult(runID: String, key: SampleKey) async throws -> Bool { try await runs.hasResult(runId: runID, key: key) }

    func commit(runID: String, round: Int, record: SampleRecord, worker: String) async throws -> Bool {
        try await runs.commit(
            StoredAttempt(
                runId: runID, sampleId: record.sampleID, epoch: record.epoch, status: record.status.rawValue,
                record: String(decoding: record.logJSON, as: UTF8.self), gatewayCallIds: record.calls.compactMap(\.gatewayCallID), worker: worker,
                createdAt: Date()),
            round: round
        ).kept
    }
}

/// A worker on another machine reads runs and keeps results through the program API, with a
/// key of the role `worker`.
struct ProgramRunSource: RunSource {
    let client: ProgramClient
    let gatewayURL: String

    func assignment(runID: String) async throws -> RunAssignment? {
        let data: Data
        do {
            data = try await client.post(ProgramClient.path("runs", runID, "assignments"), EmptyBody())
        } catch let error as ProgramClientError where [404, 409].contains(error.problem?.status) {
            return nil
        }
        let view = try APIJSON.decoder.decode(RunAssignmentView.self, from: data)
        return try RunAssignment(
            view.execution, model: gatewayModel(baseURL: gatewayURL, key: view.gatewayKey, completions: view.execution.completions),
            roleKeys: view.roleKeys)
    }

    func activeRound(runID: String) async throws -> Int? {
        do {
            return try APIJSON.decoder.decode(StoredRun.self, from: try await client.get(ProgramClient.path("runs", runID))).activeRound
        } catch let error as ProgramClientError where error.problem?.status == 404 {
            return nil
        }
    }

    func bundle(runID: String, digest: String) async throws -> Data {
        try await client.get(ProgramClient.path("runs", runID, "bundle"))
    }

    func hasResult(runID: String, key: SampleKey) async throws -> Bool {
        let data = try await client.get(ProgramClient.path("runs", runID, "attempts"), query: [("sample_id", key.sampleID), ("epoch", String(key.epoch))])
        return !(try APIJSON.decoder.decode(ListPage<AttemptView>.self, from: data)).items.isEmpty
    }

    func commit(runID: String, round: Int, record: SampleRecord, worker: String) async throws -> Bool {
        let body = NewAttempt(
            sampleId: record.sampleID, epoch: record.epoch, status: record.status.rawValue,
            record: String(decoding: record.logJSON, as: UTF8.self),
            gatewayCallIds: record.calls.compactMap(\.gatewayCallID), worker: worker, round: round)
        let data = try await client.post(ProgramClient.path("runs", runID, "attempts"), body)
        return try APIJSON.decoder.decode(CommittedAttempt.self, from: data).kept
    }
}

struct EmptyBody: Codable, Sendable {}

struct WorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker",
        abstract: "Take attempts of runs submitted to the program server from a NATS JetStream queue and run them in sandboxes.",
        discussion: """
            The worker signs in to the server with a key of a user with the role `worker` (--api-key or \
            $AIRLOCK_API_KEY), takes attempts of its pool from the queue, fetches each run's bundle once, \
            calls the model under test only through the server's access gateway, and keeps each result \
            on the server before it acknowledges the attempt. Stopped or killed, its attempts go to \
            other workers once their lease runs out.
            """)

    @OptionGroup var access: ProgramAccessOptions
    @OptionGroup var queue: QueueOptions
    @OptionGroup var worker: WorkerOptions
    @OptionGroup var logging: LoggingOptions

    @Option(help: ArgumentHelp("The access gateway (default: the server's /v1).", valueName: "url"))
    var gateway: String?

    func validate() throws {
        guard !queue.isEmbedded else { throw ValidationError("a worker on its own needs a NATS queue: --queue nats://…") }
        guard worker.slots > 0 else { throw ValidationError("--slots must be at least 1") }
    }

    func run() async throws {
        var logger = logging.makeLogger("airlock.worker")
        if logging.logLevel > .info { logger.logLevel = .info }
        let configuration = try worker.configuration(leaseSeconds: queue.leaseSeconds)
        try await runProgramCommand {
            let server = try access.address.serverURL()
            try await access.withClient { client in
                // A key of any other role would be refused every attempt: say so now, and take none.
                let me = try APIJSON.decoder.decode(Me.self, from: try await client.get("me"))
                guard me.user.role == .worker else {
                    throw ProgramClientError(
                        .invalidArguments, "the key is \(me.user.email)'s, whose role is \(me.user.role.rawValue); a worker needs a key of a user with the role worker")
                }
                try await queue.withQueue(name: "airlock-worker \(configuration.name)", managesStream: false, logger: logger) { queue in
                    let source = ProgramRunSource(client: client, gatewayURL: gateway ?? server + "/v1")
                    let worker = AttemptWorker(configuration: configuration, queue: queue, source: source, logger: logger)
                    logger.info("worker started", metadata: ["pool": "\(configuration.pool)", "slots": "\(configuration.slots)"])
                    FileHandle.standardOutput.write(Data("airlock: worker \(configuration.name) taking pool \(configuration.pool)\n".utf8))
                    try await runServiceGroup([AttemptWorkerService(worker: worker, maxConnections: configuration.maxConnections)], logger: logger)
                }
            }
        }
    }
}
