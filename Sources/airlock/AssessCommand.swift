import AirlockCore
import AirlockEval
import AirlockSuites
import ArgumentParser
import Foundation
import Logging

struct AssessCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "assess",
        abstract: "Run the standard battery against a model and write the report: levels with confidence, evidence, comparison with a baseline.",
        discussion: """
            Runs every suite of the policy (default battery/standard.yaml) as an ordinary run \
            under --log-dir, then writes report.html, report.json and report.md under \
            LOGDIR/assessments/ID. A level is reached only when the lower bound of a suite's \
            interval crosses its threshold. An interrupted assessment continues with --resume ID. \
            Suites that cannot run here (no sandbox, no grader, data not imported) are reported \
            as not run, with the reason.
            """
    )

    @OptionGroup var models: ModelOptions

    @Option(help: "The policy file: suites, sizes and level thresholds.")
    var policy: String = "battery/standard.yaml"

    @Option(help: "An earlier assessment (its folder or id) of a released model to compare with.")
    var baseline: String?

    @Flag(help: "Run each suite's small quick part (a few minutes on the local model).")
    var quick = false

    @Option(help: "Resume an assessment: its folder, or its id under LOGDIR/assessments.")
    var resume: String?

    @Option(help: "Where runs and assessments are written.")
    var logDir: String = "logs"

    @Option(help: "The most concurrent requests to a model.")
    var maxConnections: Int?

    @Option(help: "Seed for sampling, shuffles and bootstrap resamples.")
    var seed: UInt64 = 42

    @Flag(help: "No live progress line.")
    var noProgress = false

    @OptionGroup var logging: LoggingOptions

    func validate() throws {
        if resume == nil && models.model == nil { throw ValidationError("--model is required (provider/name, or local)") }
        try models.validate()
    }

    func run() async throws {
        let logger = logging.makeLogger("airlock.assess")
        let environment = ProcessInfo.processInfo.environment
        do {
            var modelName = models.model ?? ""
            var baseURL = models.modelBaseURL
            if let resume, models.model == nil {
                // A resumed assessment keeps its model and, unless told otherwise, its base URL.
                let previous = try AssessmentFolder.find(resume, in: logDir).read()
                modelName = previous.model.name == "openai-completions/\(LocalModel.modelName)" && models.modelBaseURL == nil ? "local" : previous.model.name
                baseURL = baseURL ?? previous.model.baseURL
            }
            if modelName == "local" {
                throw try await LocalModel.withServer(LocalModel.Configuration(environment: environment), logger: logger) { local in
                    try await assess(model: local, environment: environment, logger: logger)
                }
            }
            let configuration = try ModelConfiguration.resolve(modelName, baseURL: baseURL, apiKey: models.modelAPIKey, environment: environment)
            throw try await assess(model: configuration, environment: environment, logger: logger)
        } catch let code as ExitCode {
            throw code
        } catch {
            throw fail(error)
        }
    }

    func assess(model: ModelConfiguration, environment: [String: String], logger: Logger) async throws -> ExitCode {
        let isLocal = isLocalModel(model)
        let options = AssessmentOptions(
            model: model,
            roles: try models.roles(model: model, isLocal: isLocal, environment: environment),
            quick: quick,
            logDirectory: logDir,
            seed: seed,
            maxConnections: maxConnections ?? (isLocal ? 2 : 32),
            requestTimeout: models.requestTimeout,
            retryPolicy: RetryPolicy(maxRetries: models.maxRetries)
        )
        let baselineRecord = try baseline.map { try AssessmentFolder.find($0, in: logDir).read() }
        let (runner, planned) = try resume.map { try AssessmentRunner.resume(folder: AssessmentFolder.find($0, in: logDir), options: options, environment: environment) }
            ?? AssessmentRunner.start(policy: try PolicyFile.load(path: policy), options: options, environment: environment)
        print("assessment \(planned.id): \(planned.suites.filter { $0.status != .notRun }.count) of \(planned.suites.count) suites to run\(planned.quick ? " (quick)" : "") against \(model.modelName)")
        for suite in planned.suites where suite.status == .notRun { print("  not run: \(suite.id): \(suite.reason ?? "")") }
        let display = ProgressDisplay(enabled: !noProgress)
        let finished = try await withInterruptHandling {
            try await ModelClient.withClient(maxConnections: options.maxConnections) { client in
                try await runner.run(planned, logger: logger) { suite, run in
                    print("suite \(suite.id): \(run.pending.count) attempt(s)")
                    return try await display.whileRunning(run) { try await run.execute(client: client, logger: logger) }
                }
            }
        }
        guard finished.finished != nil else {
            print("interrupted; continue with: airlock assess --resume \(finished.id) --log-dir \(logDir)")
            return ExitCode(130)
        }
        var assessment = finished
        if let baselineRecord {
            assessment.baseline = AssessmentRunner.compare(assessment, with: baselineRecord)
            try runner.folder.write(assessment)
        }
        let files = try AssessmentReport.write(assessment, to: runner.folder)
        printVerdicts(assessment)
        print("report: \(files.html)")
        print("        \(files.json)")
        print("        \(files.markdown)")
        return assessment.suites.contains { $0.status == .incomplete } ? ExitCode(1) : .success
    }
}

/// An assessment's measures, a line per suite, then each domain's level: as `airlock assess`
/// and `airlock runs watch` print them.
func printVerdicts(_ assessment: Assessment) {
    for suite in assessment.suites {
        let result = suite.measurement.map { String(format: "%.1f%% [%.1f, %.1f] n=%d", $0.value * 100, $0.lower * 100, $0.upper * 100, $0.count) }
        print("  \(suite.id): \(result ?? suite.reason ?? "no score")")
    }
    for domain in assessment.domains { print("\(domain.title): \(domain.level)\(domain.settled ? "" : " (open)")") }
}
