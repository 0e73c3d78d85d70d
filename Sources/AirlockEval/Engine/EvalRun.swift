import AirlockCore
import Foundation
import Logging
import Synchronization

/// What a run is asked to do, beyond its task file.
public struct EvalOptions: Sendable {
    /// The model under test.
    public var model: ModelConfiguration
    /// Models bound to roles (for example `grader`), over the task's own `model_roles`.
    public var roles: [String: ModelConfiguration]
    /// The most requests in flight to one model at once (the ceiling of the adaptive limit).
    public var maxConnections: Int
    /// The most attempts in flight at once; `maxConnections` when absent.
    public var maxSamples: Int?
    /// Overrides the task's epochs.
    public var epochs: Int?
    /// Runs only the first N samples.
    public var limit: Int?
    /// Runs only these samples.
    public var sampleIDs: [String]?
    /// Seeds choice shuffles and bootstrap resamples.
    public var seed: UInt64
    /// Where cached responses live; no cache when absent.
    public var cacheDirectory: String?
    public var logDirectory: String
    /// Time for one HTTP request before it counts as timed out.
    public var requestTimeout: Duration
    public var retryPolicy: RetryPolicy
    /// Overrides the task's generation settings.
    public var settings: GenerationSettings

    public init(model: ModelConfiguration, roles: [String: ModelConfiguration] = [:], maxConnections: Int = 32, maxSamples: Int? = nil, epochs: Int? = nil, limit: Int? = nil, sampleIDs: [String]? = nil, seed: UInt64 = 42, cacheDirectory: String? = nil, logDirectory: String = "logs", requestTimeout: Duration = .seconds(120), retryPolicy: RetryPolicy = .init(), settings: GenerationSettings = .init()) {
        self.model = model
        self.roles = roles
        self.maxConnections = maxConnections
        self.maxSamples = maxSamples
        self.epochs = epochs
        self.limit = limit
        self.sampleIDs = sampleIDs
        self.seed = seed
        self.cacheDirectory = cacheDirectory
        self.logDirectory = logDirectory
        self.requestTimeout = requestTimeout
        self.retryPolicy = retryPolicy
        self.settings = settings
    }
}

/// Counters a display reads while a run goes on.
public struct EvalProgress: Sendable, Hashable {
    public var total: Int
    /// Attempts already done when this session of the run started (a resume).
    public var alreadyDone: Int
    public var done = 0
    public var failed = 0
    public var connectionLimit = 0
}

/// How a session of a run ended.
public enum EvalOutcome: Sendable {
    /// Every attempt is scored.
    case complete(RunResults)
    /// Every attempt was tried; some failed (they are retried by `--resume`).
    case completeWithFailures(RunResults)
    /// Stopped early (Ctrl-C); the attempts done are kept.
    case interrupted
}

/// One run of a task against a model: prepared (new or resumed), then executed.
public final class EvalRun: Sendable {
    public let directory: RunDirectory
    public let header: RunHeader
    public let task: TaskFile
    let samples: [String: Sample]
    /// Attempts still to do, in order.
    public let pending: [SampleKey]
    /// Attempts already on record when this session started (a resume).
    let previous: [SampleKey: AttemptSummary]
    let models: [String: ModelConfiguration]
    let options: EvalOptions
    private let progressState: Mutex<EvalProgress>

    public var progress: EvalProgress { progressState.withLock { $0 } }

    private init(directory: RunDirectory, header: RunHeader, task: TaskFile, samples: [String: Sample], pending: [SampleKey], previous: [SampleKey: AttemptSummary], models: [String: ModelConfiguration], options: EvalOptions) {
        self.directory = directory
        self.header = header
        self.task = task
        self.samples = samples
        self.pending = pending
        self.previous = previous
        self.models = models
        self.options = options
        progressState = Mutex(EvalProgress(total: header.plannedKeys.count, alreadyDone: header.plannedKeys.count - pending.count))
    }

    /// Checks the task, its dataset and the model roles, then creates the run folder. Nothing is
    /// sent to any model until ``execute(client:logger:)``.
    public static func start(taskPath: String, options: EvalOptions, environment: [String: String]) throws -> EvalRun {
        let plan = try plan(taskPath: taskPath, options: options, environment: environment)
        let directory = try RunDirectory.create(in: options.logDirectory, header: plan.header)
        return EvalRun(directory: directory, header: plan.header, task: plan.task, samples: plan.samples, pending: plan.header.plannedKeys, previous: [:], models: plan.roles, options: options)
    }

    /// What a run of `taskPath` would do: the task checked, its samples read and chosen, the
    /// roles bound, and the header that records it all.
    static func plan(taskPath: String, options: EvalOptions, environment: [String: String]) throws -> (task: TaskFile, header: RunHeader, samples: [String: Sample], roles: [String: ModelConfiguration]) {
        let task = try TaskFile.load(path: taskPath)
        var definition = task.definition
        if let epochs = options.epochs {
            guard epochs >= definition.epochs.reducer.minimumEpochs else {
                throw EvalError(.invalidArguments, "\(definition.epochs.reducer) needs at least \(definition.epochs.reducer.minimumEpochs) epochs", field: "--epochs")
            }
            definition.epochs.count = epochs
        }
        var samples = try DatasetReader.read(path: task.datasetPath, definition: definition.dataset)
        if let ids = options.sampleIDs {
            let known = Set(samples.map(\.id))
            if let missing = ids.first(where: { !known.contains($0) }) {
                throw EvalError(.invalidArguments, "no sample with id '\(missing)'", file: task.datasetPath, field: "--sample-id")
            }
            samples = samples.filter { ids.contains($0.id) }
        }
        if let limit = options.limit { samples = Array(samples.prefix(limit)) }
        let roles = try resolveRoles(task: TaskFile(definition: definition, path: task.path, datasetPath: task.datasetPath), options: options, environment: environment)
        let header = RunHeader(
            runID: Self.newRunID(),
            created: Date().timeIntervalSince1970,
            task: .init(
                name: definition.name,
                file: URL(fileURLWithPath: task.path).standardizedFileURL.path,
                fileSHA256: try FileDigest.sha256(ofFile: task.path),
                datasetFile: URL(fileURLWithPath: task.datasetPath).standardizedFileURL.path,
                datasetSHA256: try FileDigest.sha256(ofFile: task.datasetPath),
                definition: definition
            ),
            model: .init(name: options.model.modelName, baseURL: options.model.baseURL),
            roles: roles.mapValues { .init(name: $0.modelName, baseURL: $0.baseURL) },
            settings: definition.generation.merging(options.settings),
            seed: options.seed,
            epochs: definition.epochs.count,
            sampleIDs: samples.map(\.id),
            maxConnections: options.maxConnections,
            maxSamples: options.maxSamples ?? options.maxConnections,
            cache: options.cacheDirectory != nil,
            airlockVersion: AirlockVersion.current,
            sandboxWalls: definition.sandbox == nil ? nil : SandboxWalls.current
        )
        return (task, header, Dictionary(uniqueKeysWithValues: samples.map { ($0.id, $0) }), roles)
    }

    /// Reopens a run: the task and dataset must be unchanged; attempts already scored are never redone.
    /// `options.model` must be the run's model (its base URL and key may differ, for example after a move).
    public static func resume(directory: RunDirectory, options: EvalOptions, environment: [String: String]) throws -> EvalRun {
        let header = try directory.readHeader()
        for (file, expected, what) in [(header.task.file, header.task.fileSHA256, "task file"), (header.task.datasetFile, header.task.datasetSHA256, "dataset")] {
            guard FileManager.default.fileExists(atPath: file) else {
                throw EvalError(.runMismatch, "the run's \(what) is gone", file: file)
            }
            guard try FileDigest.sha256(ofFile: file) == expected else {
                throw EvalError(.runMismatch, "the \(what) changed since the run started; resuming would mix two versions (start a new run instead)", file: file)
            }
        }
        let task = TaskFile(definition: header.task.definition, path: header.task.file, datasetPath: header.task.datasetFile)
        let allSamples = try DatasetReader.read(path: task.datasetPath, definition: header.task.definition.dataset)
        let byID = Dictionary(uniqueKeysWithValues: allSamples.map { ($0.id, $0) })
        let records = RunDirectory.effectiveRecords(try directory.readRecords(repair: true))
        let pending = header.plannedKeys.filter { records[$0]?.status != .scored }
        var roles: [String: ModelConfiguration] = [:]
        for (role, info) in header.roles {
            roles[role] = try options.roles[role] ?? ModelConfiguration.resolve(info.name, baseURL: info.baseURL, environment: environment)
        }
        guard options.model.modelName == header.model.name else {
            throw EvalError(.runMismatch, "the run was made with \(header.model.name), not \(options.model.modelName)", file: directory.headerPath)
        }
        var options = options
        options.maxConnections = header.maxConnections
        options.maxSamples = header.maxSamples
        options.seed = header.seed
        return EvalRun(directory: directory, header: header, task: task, samples: byID, pending: pending, previous: records.mapValues(AttemptSummary.init), models: roles, options: options)
    }

    static func resolveRoles(task: TaskFile, options: EvalOptions, environment: [String: String]) throws -> [String: ModelConfiguration] {
        var roles = options.roles
        for (role, model) in task.definition.modelRoles where roles[role] == nil {
            roles[role] = try ModelConfiguration.resolve(model, environment: environment)
        }
        for role in task.requiredRoles where roles[role] == nil {
            throw EvalError(.invalidArguments, "the task needs a model for the role '\(role)': pass --model-role \(role)=provider/name or set model_roles.\(role) in the task", file: task.path, field: "model_roles.\(role)")
        }
        return roles
    }

    /// Runs every pending attempt, appending each record as it finishes, then writes the results.
    public func execute(client: ModelClient, logger: Logger) async throws -> EvalOutcome {
        let writer = try SampleLogWriter(path: directory.samplesPath)
        var logger = logger
        logger[metadataKey: "run"] = "\(header.runID)"
        let (attempt, model) = try Self.attempt(header: header, roles: models, options: options, client: client, logger: logger)
        let inFlightLimit = max(1, options.maxSamples ?? options.maxConnections)
        logger.info("run started", metadata: ["task": "\(header.task.name)", "model": "\(header.model.name)", "pending": "\(pending.count)"])

        var interrupted = false
        var attempts = previous
        try await withThrowingTaskGroup(of: (SampleKey, AttemptSummary, Data)?.self) { group in
            var next = pending.makeIterator()
            func addNext() -> Bool {
                guard let key = next.next(), let sample = samples[key.sampleID] else { return false }
                group.addTask {
                    guard let record = await attempt.run(sample: sample, epoch: key.epoch) else { return nil }
                    // Encoded here, in parallel; the consumer below only appends bytes.
                    var line = Data(record.logJSON)
                    line.append(UInt8(ascii: "\n"))
                    return (key, AttemptSummary(record), line)
                }
                return true
            }
            for _ in 0..<inFlightLimit where !addNext() { break }
            while let result = try await group.next() {
                guard let (key, summary, line) = result else {
                    // Cancelled: keep nothing of it, so that a resume redoes it whole.
                    interrupted = true
                    continue
                }
                try writer.append(line)
                if attempts[key]?.status != .scored { attempts[key] = summary }
                progressState.withLock { progress in
                    progress.done += 1
                    if summary.status == .failed { progress.failed += 1 }
                    progress.connectionLimit = model.connectionLimit
                }
                if Task.isCancelled {
                    interrupted = true
                    continue
                }
                _ = addNext()
            }
        }
        if interrupted || Task.isCancelled {
            logger.info("run interrupted", metadata: ["done": "\(progress.done)"])
            return .interrupted
        }
        let results = RunResultsCalculator.compute(header: header, attempts: attempts, metadata: samples.mapValues(\.metadata))
        if results.failed == 0 {
            try directory.writeResults(results)
            logger.info("run complete", metadata: ["scored": "\(results.scored)"])
            return .complete(results)
        }
        logger.info("run finished with failures", metadata: ["failed": "\(results.failed)"])
        return .completeWithFailures(results)
    }

    /// The attempt runner of a run, with its model endpoints: one place, so that an attempt
    /// runs the same in `execute` and on a worker (``AttemptRunner``).
    static func attempt(header: RunHeader, roles: [String: ModelConfiguration], options: EvalOptions, client: ModelClient, logger: Logger) throws -> (SampleAttempt, ModelEndpoint) {
        let cache = try options.cacheDirectory.map { try ResponseCache(directory: $0) }
        let model = ModelEndpoint(provider: client.provider(for: options.model), maxConnections: options.maxConnections, retryPolicy: options.retryPolicy, requestTimeout: options.requestTimeout, cache: cache, logger: logger)
        var roleEndpoints: [String: ModelEndpoint] = [:]
        for (role, configuration) in roles {
            roleEndpoints[role] = ModelEndpoint(provider: client.provider(for: configuration), maxConnections: options.maxConnections, retryPolicy: options.retryPolicy, requestTimeout: options.requestTimeout, cache: cache, logger: logger)
        }
        let definition = header.task.definition
        let solver = SolverChain(definition.solvers)
        let scorers = Array(zip(Scorers.names(definition.scorers), definition.scorers.map(Scorers.scorer(for:))))
        let attempt = SampleAttempt(solver: solver, scorers: scorers, model: model, roles: roleEndpoints, settings: header.settings, limits: definition.limits, seed: header.seed, sandbox: definition.sandbox, logger: logger)
        return (attempt, model)
    }

    static func newRunID() -> String {
        let alphabet = Array("abcdefghijkmnopqrstuvwxyz23456789")
        return String((0..<10).map { _ in alphabet.randomElement()! })
    }
}

/// Runs one attempt start to finish: solvers, then scorers, under the sample's time limit.
struct SampleAttempt: Sendable {
    let solver: SolverChain
    let scorers: [(String, any Scorer)]
    let model: ModelEndpoint
    let roles: [String: ModelEndpoint]
    let settings: GenerationSettings
    let limits: SampleLimits
    let seed: UInt64
    let sandbox: SandboxDefinition?
    let logger: Logger

    /// The record of the attempt, or nil when it was cancelled.
    func run(sample: Sample, epoch: Int) async -> SampleRecord? {
        let clock = ContinuousClock()
        let start = clock.now
        let started = Date().timeIntervalSince1970
        let deadline = limits.time.map { start + .seconds($0) }
        let context = SolverContext(model: model, roles: roles, settings: settings, limits: limits, seed: seed, deadline: deadline)
        var state = TaskState(sample: sample, epoch: epoch)
        var scores: [String: Score] = [:]
        var failure: SampleFailure?
        do {
            if let sandbox {
                // Solvers and scorers both run while the sandbox lives: a scorer may look inside it.
                var sandboxLimits = SandboxLimits()
                if let seconds = sandbox.commandTimeout { sandboxLimits.wallSeconds = seconds }
                if let megabytes = sandbox.memoryMB {
                    sandboxLimits.memoryBytes = megabytes << 20
                    sandboxLimits.sandboxMemoryBytes = megabytes << 20
                }
                if let processes = sandbox.processes { sandboxLimits.processes = processes }
                if let cpus = sandbox.cpus { sandboxLimits.cpus = cpus }
                if let megabytes = sandbox.diskMB { sandboxLimits.diskBytes = megabytes << 20 }
                // The transcript so far, kept outside the sandbox: a teardown that fails does not take it along.
                var transcript: TaskState?
                let outcome: (TaskState, Result<[String: Score], any Error>)
                do {
                    outcome = try await Sandbox.withSandbox(limits: sandboxLimits, logger: logger) { [state, context] box -> (TaskState, Result<[String: Score], any Error>) in
                        var state = state
                        var context = context
                        context.sandbox = box
                        context.commandTimeout = sandbox.commandTimeout.map { SandboxLimits.duration(seconds: $0) }
                        for (path, contents) in sandbox.files ?? [:] { try box.writeFile(path, Data(contents.utf8)) }
                        if let folder = sample.metadata["challenge"]?.stringValue {
                            let challenge = try Challenge.load(folder: folder)
                            // A challenge's own limits override the task's, each one it sets.
                            if let limits = challenge.manifest.limits {
                                context.limits = SampleLimits(tokens: limits.tokens ?? context.limits.tokens, messages: limits.messages ?? context.limits.messages, time: limits.time ?? context.limits.time)
                                if let seconds = limits.time { context.deadline = start + .milliseconds(Int64(seconds * 1000)) }
                            }
                            // The flag is made for this attempt: it is what counts as right.
                            state.target = [try await challenge.prepare(in: box)]
                        }
                        if let setup = sandbox.setup {
                            let result = try await box.exec(setup)
                            guard result.status == 0 else {
                                throw SampleFailure(cause: .infrastructure, message: "sandbox setup exited with status \(result.status): \(result.errorOutput.prefix(300))")
                            }
                        }
                        // The transcript so far is kept even when the attempt fails.
                        do {
                            let scores = try await solveAndScore(&state, context: context)
                            transcript = state
                            return (state, .success(scores))
                        } catch {
                            transcript = state
                            return (state, .failure(error))
                        }
                    }
                } catch {
                    if let transcript { state = transcript }
                    throw error
                }
                state = outcome.0
                scores = try outcome.1.get()
            } else {
                scores = try await solveAndScore(&state, context: context)
            }
        } catch is CancellationError {
            return nil
        } catch let error as SampleFailure {
            failure = error
        } catch let error as ModelCallError {
            failure = SampleFailure(cause: error.cause, message: error.description)
        } catch let error as SandboxError {
            failure = SampleFailure(cause: .infrastructure, message: error.description)
        } catch {
            if Task.isCancelled { return nil }
            failure = SampleFailure(cause: .infrastructure, message: "\(error)")
        }
        if Task.isCancelled, failure != nil { return nil }
        return SampleRecord(
            sampleID: sample.id,
            epoch: epoch,
            status: failure == nil ? .scored : .failed,
            input: sample.input,
            target: sample.target,
            choices: state.choices,
            messages: state.messages,
            completion: state.output?.completion,
            scores: scores,
            usage: state.usage,
            calls: state.modelCalls.map { .init(seconds: $0.seconds, retries: $0.retries, cached: $0.cached, usage: $0.output.usage, stopReason: $0.output.stopReason, gatewayCallID: $0.output.gatewayCallID) },
            metadata: sample.metadata,
            limitReached: state.limitReached,
            stopReason: state.stopReason,
            failure: failure,
            started: started,
            totalSeconds: (clock.now - start).seconds,
            modelSeconds: state.modelCalls.reduce(0) { $0 + $1.seconds }
        )
    }
}

extension SampleAttempt {
    /// Runs the solver chain, then every scorer, returning the state and the scores.
    func solveAndScore(_ state: inout TaskState, context: SolverContext) async throws -> [String: Score] {
        do {
            try await solver.solve(&state, context: context)
        } catch is SampleTimeLimit {
            state.limitReached = "time"
            state.stopReason = "time"
        }
        var scores: [String: Score] = [:]
        for (name, scorer) in scorers {
            scores[name] = try await scorer.score(state, context: context)
        }
        return scores
    }
}

public enum AirlockVersion {
    public static let current = "0.1.0"
}
