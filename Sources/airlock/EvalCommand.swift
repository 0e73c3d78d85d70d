import AirlockCore
import AirlockEval
import ArgumentParser
import Foundation
import Logging

struct EvalCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Run a task against a model, or resume a run.",
        discussion: """
            Each run is a folder under --log-dir, written as attempts finish. A run that was \
            interrupted (Ctrl-C, kill -9, a crash) continues with --resume RUN and never redoes \
            an attempt that was scored.

            Models are named provider/name: openai/NAME (chat completions), openai-completions/NAME \
            (base models), anthropic/NAME, or 'local' for the bundled Gemma 3 270M on llama.cpp. \
            Keys come from OPENAI_API_KEY or ANTHROPIC_API_KEY and never appear in logs.
            """
    )

    @Argument(help: "The task file (YAML). Not needed with --resume.")
    var task: String?

    @OptionGroup var models: ModelOptions

    @Option(help: "Run only the first N samples.")
    var limit: Int?

    @Option(name: .customLong("sample-id"), help: "Run only this sample (repeatable).")
    var sampleIDs: [String] = []

    @Option(help: "Run each sample this many times (overrides the task).")
    var epochs: Int?

    @Option(help: "The most concurrent requests to a model (the adaptive limit's ceiling).")
    var maxConnections: Int?

    @Option(help: "The most samples in flight at once (default: --max-connections).")
    var maxSamples: Int?

    @Option(help: "Seed for choice shuffles and bootstrap resamples.")
    var seed: UInt64 = 42

    @Option(help: "Sampling temperature (overrides the task).")
    var temperature: Double?

    @Option(help: "Most tokens per generation (overrides the task).")
    var maxTokens: Int?

    @Flag(help: "Cache model responses on disk (keyed by model, messages, tools, settings and epoch).")
    var cache = false

    @Option(help: "Where the response cache lives.")
    var cacheDir: String = ".airlock/cache"

    @Option(help: "Where runs are written.")
    var logDir: String = "logs"

    @Option(help: "Resume a run: its folder, or its run id under --log-dir.")
    var resume: String?

    @Flag(help: "No live progress line.")
    var noProgress = false

    @OptionGroup var logging: LoggingOptions

    func validate() throws {
        if resume == nil && task == nil { throw ValidationError("give a task file, or --resume RUN") }
        if resume != nil && task != nil { throw ValidationError("--resume continues a run with its own task; give one or the other") }
        if resume == nil && models.model == nil { throw ValidationError("--model is required (provider/name, or local)") }
        if let maxConnections, maxConnections < 1 { throw ValidationError("--max-connections must be at least 1") }
        if let maxSamples, maxSamples < 1 { throw ValidationError("--max-samples must be at least 1") }
        if let limit, limit < 1 { throw ValidationError("--limit must be at least 1") }
        try models.validate()
    }

    func run() async throws {
        let logger = logging.makeLogger("airlock.eval")
        let environment = ProcessInfo.processInfo.environment
        do {
            var modelName = models.model ?? ""
            var baseURL = models.modelBaseURL
            if let resume {
                // A resumed run keeps its model and, unless told otherwise, its base URL.
                let header = try RunDirectory.find(resume, in: logDir).readHeader()
                modelName = header.model.name
                baseURL = baseURL ?? header.model.baseURL
                if modelName == "openai-completions/\(LocalModel.modelName)" && models.modelBaseURL == nil { modelName = "local" }
            }
            if modelName == "local" {
                let code = try await LocalModel.withServer(LocalModel.Configuration(environment: environment), logger: logger) { local in
                    try await execute(model: local, environment: environment, logger: logger)
                }
                throw code
            }
            let configuration = try ModelConfiguration.resolve(modelName, baseURL: baseURL, apiKey: models.modelAPIKey, environment: environment)
            throw try await execute(model: configuration, environment: environment, logger: logger)
        } catch let code as ExitCode {
            throw code
        } catch {
            throw fail(error)
        }
    }

    func options(model: ModelConfiguration, environment: [String: String], isLocal: Bool) throws -> EvalOptions {
        let roles = try models.roles(model: model, isLocal: isLocal, environment: environment)
        // llama.cpp's server answers one request at a time; more connections only queue there.
        let connections = maxConnections ?? (isLocal ? 2 : 32)
        return EvalOptions(
            model: model,
            roles: roles,
            maxConnections: connections,
            maxSamples: maxSamples,
            epochs: epochs,
            limit: limit,
            sampleIDs: sampleIDs.isEmpty ? nil : sampleIDs,
            seed: seed,
            cacheDirectory: cache ? cacheDir : nil,
            logDirectory: logDir,
            requestTimeout: models.requestTimeout,
            retryPolicy: RetryPolicy(maxRetries: models.maxRetries),
            settings: GenerationSettings(temperature: temperature, maxTokens: maxTokens)
        )
    }

    /// Runs (or resumes) and returns the exit code: 0 when every attempt is scored.
    func execute(model: ModelConfiguration, environment: [String: String], logger: Logger) async throws -> ExitCode {
        let isLocal = isLocalModel(model)
        let options = try options(model: model, environment: environment, isLocal: isLocal)
        let run: EvalRun
        if let resume {
            run = try EvalRun.resume(directory: try RunDirectory.find(resume, in: logDir), options: options, environment: environment)
        } else {
            run = try EvalRun.start(taskPath: task!, options: options, environment: environment)
        }
        let display = ProgressDisplay(enabled: !noProgress)
        display.announce(run: run)
        let started = ContinuousClock.now
        let outcome = try await withInterruptHandling {
            try await ModelClient.withClient(maxConnections: run.header.maxConnections) { client in
                try await display.whileRunning(run) {
                    try await run.execute(client: client, logger: logger)
                }
            }
        }
        let elapsed = (ContinuousClock.now - started)
        switch outcome {
        case .complete(let results):
            print(ResultsTable.render(header: run.header, results: results, progress: run.progress, elapsed: elapsed))
            print("log: \(run.directory.path)")
            return .success
        case .completeWithFailures(let results):
            print(ResultsTable.render(header: run.header, results: results, progress: run.progress, elapsed: elapsed))
            print("log: \(run.directory.path)")
            print("\(results.failed) attempt(s) failed and were not scored; retry them with: airlock eval --resume \(run.directory.path)")
            return ExitCode(1)
        case .interrupted:
            print("interrupted after \(run.progress.done) attempt(s) this session; continue with: airlock eval --resume \(run.directory.path)")
            return ExitCode(130)
        }
    }
}

/// Runs `body`, cancelling it on SIGINT or SIGTERM so that it stops cleanly (samples in flight
/// are dropped, child processes stopped) instead of dying mid-write.
func withInterruptHandling<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) async throws -> T {
    let task = Task { try await body() }
    let sources = [SIGINT, SIGTERM].map { number -> any DispatchSourceSignal in
        signal(number, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
        source.setEventHandler {
            FileHandle.standardError.write(Data("\nstopping: finishing nothing new, keeping what is done…\n".utf8))
            task.cancel()
        }
        source.resume()
        return source
    }
    defer {
        for source in sources { source.cancel() }
        signal(SIGINT, SIG_DFL)
        signal(SIGTERM, SIG_DFL)
    }
    return try await withTaskCancellationHandler {
        try await task.value
    } onCancel: {
        task.cancel()
    }
}
