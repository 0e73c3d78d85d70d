import AirlockAPI
import AirlockCore
import AirlockEval
import AirlockSuites
import ArgumentParser
import Foundation

extension RunsCommand {
    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Attach a finished run or assessment to a model version on the program server.",
            discussion: """
                Sends the run's summary (task, model, scores with their intervals, counts, usage) or the \
                assessment's (policy, suites, levels per domain); never inputs, outputs or transcripts.
                """)

        @Argument(help: "The run or assessment: its folder, or its id under --log-dir.")
        var run: String

        @Option(help: ArgumentHelp("The model version it tested (ver_…).", valueName: "id"))
        var version: String

        @Option(help: "Where runs are written.")
        var logDir: String = "logs"

        @Option(help: "The name on the server (default: the task's or the policy's).")
        var name: String?

        @OptionGroup var access: ProgramAccessOptions
        @OptionGroup var idempotency: IdempotencyOptions

        func run() async throws {
            try await runProgramCommand {
                var body = try RunImport.body(for: run, in: logDir)
                if let name { body.name = name }
                let key = idempotency.key
                ProgramJSON.print(try await access.withClient {
                    try await $0.create(ProgramClient.path("versions", version, "runs"), body, idempotencyKey: key)
                })
            }
        }
    }
}

/// What `airlock runs import` sends for a finished run or assessment: its numbers, not its content.
enum RunImport {

    /// A summary as the JSON value `NewRun` carries, its keys as the summary's types name them.
    static func summary(_ summary: some Encodable) throws -> JSONValue {
        try ProgramJSON.decoder.decode(JSONValue.self, from: APIJSON.encoder.encode(summary))
    }

    /// Finds `reference` as an assessment or a run (a folder, or an id under `logDirectory`) and
    /// builds its body; an unfinished one is refused.
    static func body(for reference: String, in logDirectory: String) throws -> NewRun {
        let isRunFolder = FileManager.default.fileExists(atPath: reference + "/header.json")
        if !isRunFolder, let folder = try? AssessmentFolder.find(reference, in: logDirectory) {
            let assessment = try folder.read()
            guard assessment.finished != nil else {
                throw EvalError(
                    .invalidArguments, "the assessment is not finished; finish it with: airlock assess --resume \(assessment.id)",
                    file: folder.path)
            }
            let summary = AssessmentSummary(assessment)
            return NewRun(
                kind: "assessment", name: assessment.policy.name, sourceId: assessment.id,
                levels: Dictionary(assessment.domains.map { ($0.domain, $0.level) }, uniquingKeysWith: { first, _ in first }),
                summary: try Self.summary(summary))
        }
        let directory = try RunDirectory.find(reference, in: logDirectory)
        let header = try directory.readHeader()
        guard let results = directory.readResults() else {
            throw EvalError(
                .invalidArguments, "the run is not finished; finish it with: airlock eval --resume \(directory.path)",
                file: directory.path)
        }
        return NewRun(
            kind: "eval", name: header.task.name, sourceId: header.runID, levels: nil,
            summary: try Self.summary(EvalSummary(header: header, results: results)))
    }

    /// An engine run: what was asked of which model, and how it scored.
    struct EvalSummary: Encodable, Sendable {
        struct TaskInfo: Encodable, Sendable {
            var name: String
            var fileSHA256: String
            var datasetSHA256: String

            enum CodingKeys: String, CodingKey {
                case name
                case fileSHA256 = "file_sha256"
                case datasetSHA256 = "dataset_sha256"
            }
        }

        struct ScorerSummary: Encodable, Sendable {
            var scorer: String
            var metric: String
            var value: Double
            var stderr: Double
            var lower: Double
            var upper: Double
            var count: Int
            var method: String
            var groups: [String: Interval]?
        }

        struct Interval: Encodable, Sendable {
            var value: Double
            var lower: Double
            var upper: Double
            var count: Int
        }

        struct Usage: Encodable, Sendable {
            var inputTokens: Int
            var outputTokens: Int

            enum CodingKeys: String, CodingKey {
                case inputTokens = "input_tokens"
                case outputTokens = "output_tokens"
            }
        }

        var format: String
        var task: TaskInfo
        var model: String
        var roles: [String: String]
        var epochs: Int
        /// As text: a 64-bit seed does not survive a JSON number read as a double.
        var seed: String
        var samples: Int
        var attempts: Int
        var scored: Int
        var failed: Int
        var failuresByCause: [String: Int]
        var limitsReached: Int
        var reducer: String
        var scores: [ScorerSummary]
        var usage: Usage
        var startedAt: Date
        var completedAt: Date
        var airlockVersion: String

        enum CodingKeys: String, CodingKey {
            case format, task, model, roles, epochs, seed, samples, attempts, scored, failed, reducer, scores, usage
            case failuresByCause = "failures_by_cause"
            case limitsReached = "limits_reached"
            case startedAt = "started_at"
            case completedAt = "completed_at"
            case airlockVersion = "airlock_version"
        }

        init(header: RunHeader, results: RunResults) {
            format = header.format
            task = TaskInfo(name: header.task.name, fileSHA256: header.task.fileSHA256, datasetSHA256: header.task.datasetSHA256)
            // Names only: a base URL may point into the developer's or the grantee's network.
            model = header.model.name
            roles = header.roles.mapValues(\.name)
            epochs = header.epochs
            seed = String(header.seed)
            samples = results.samples
            attempts = results.attempts
            scored = results.scored
            failed = results.failed
            failuresByCause = results.failuresByCause
            limitsReached = results.limitsReached
            reducer = results.reducer
            scores = results.scorers.map { scorer in
                ScorerSummary(
                    scorer: scorer.name, metric: scorer.overall.name, value: scorer.overall.value,
                    stderr: scorer.overall.standardError, lower: scorer.overall.lower, upper: scorer.overall.upper,
                    count: scorer.overall.count, method: scorer.overall.method.rawValue,
                    groups: scorer.groups?.mapValues { Interval(value: $0.value, lower: $0.lower, upper: $0.upper, count: $0.count) })
            }
            usage = Usage(inputTokens: results.usage.inputTokens, outputTokens: results.usage.outputTokens)
            startedAt = Date(timeIntervalSince1970: header.created)
            completedAt = Date(timeIntervalSince1970: results.completed)
            airlockVersion = header.airlockVersion
        }
    }

    /// An assessment: the policy, each suite's measurement, and the level reached in each domain.
    struct AssessmentSummary: Encodable, Sendable {
        struct Policy: Encodable, Sendable {
            var name: String
            var version: String
            var sha256: String
            var confidence: Double
        }

        struct Suite: Encodable, Sendable {
            var id: String
            var title: String
            var domain: String
            var status: String
            var reason: String?
            var higherMeans: String
            var measurement: SuiteMeasurement?
            var attempts: Int
            var failed: Int

            enum CodingKeys: String, CodingKey {
                case id, title, domain, status, reason, measurement, attempts, failed
                case higherMeans = "higher_means"
            }
        }

        struct Domain: Encodable, Sendable {
            var domain: String
            var title: String
            var level: String
            var levelIndex: Int
            var settled: Bool
            var statement: String

            enum CodingKeys: String, CodingKey {
                case domain, title, level, settled, statement
                case levelIndex = "level_index"
            }
        }

        struct Baseline: Encodable, Sendable {
            struct Row: Encodable, Sendable {
                var suite: String
                var baseline: Double
                var model: Double
                var difference: MeasurementDifference
            }

            var assessment: String
            var model: String
            var rows: [Row]
        }

        var schema: String
        var policy: Policy
        var model: String
        var roles: [String: String]
        var quick: Bool
        var seed: String
        var suites: [Suite]
        var domains: [Domain]
        var baseline: Baseline?
        var startedAt: Date
        var finishedAt: Date?
        var airlockVersion: String

        enum CodingKeys: String, CodingKey {
            case schema, policy, model, roles, quick, seed, suites, domains, baseline
            case startedAt = "started_at"
            case finishedAt = "finished_at"
            case airlockVersion = "airlock_version"
        }

        init(_ assessment: Assessment) {
            schema = assessment.schema
            policy = Policy(
                name: assessment.policy.name, version: assessment.policy.version, sha256: assessment.policy.sha256,
                confidence: assessment.policy.confidence)
            model = assessment.model.name
            roles = assessment.roles.mapValues(\.name)
            quick = assessment.quick
            seed = String(assessment.seed)
            suites = assessment.suites.map {
                Suite(
                    id: $0.id, title: $0.title, domain: $0.domain, status: $0.status.rawValue, reason: $0.reason,
                    higherMeans: $0.higherMeans.rawValue, measurement: $0.measurement, attempts: $0.attempts, failed: $0.failed)
            }
            domains = assessment.domains.map {
                Domain(
                    domain: $0.domain, title: $0.title, level: $0.level, levelIndex: $0.levelIndex, settled: $0.settled,
                    statement: $0.statement)
            }
            baseline = assessment.baseline.map { comparison in
                Baseline(
                    assessment: comparison.assessment, model: comparison.model,
                    rows: comparison.rows.map {
                        Baseline.Row(suite: $0.suite, baseline: $0.baseline.value, model: $0.model.value, difference: $0.difference)
                    })
            }
            startedAt = Date(timeIntervalSince1970: assessment.started)
            finishedAt = assessment.finished.map { Date(timeIntervalSince1970: $0) }
            airlockVersion = assessment.airlockVersion
        }
    }
}
