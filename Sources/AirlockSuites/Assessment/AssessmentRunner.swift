import AirlockCore
import AirlockEval
import Foundation
import Logging

/// What an assessment runs with: the model under test, its roles, and how hard to push it.
public struct AssessmentOptions: Sendable {
    public var model: ModelConfiguration
    /// `grader` judges the model-graded suites.
    public var roles: [String: ModelConfiguration]
    /// Run each suite's `quick` part only.
    public var quick: Bool
    public var logDirectory: String
    public var seed: UInt64
    public var maxConnections: Int
    public var requestTimeout: Duration
    public var retryPolicy: RetryPolicy
    public var dataFolder: DataFolder
    /// Whether sandboxes can be made here (root, bubblewrap); the range suites need them.
    public var sandboxAvailable: Bool

    public init(model: ModelConfiguration, roles: [String: ModelConfiguration] = [:], quick: Bool = false, logDirectory: String = "logs", seed: UInt64 = 42, maxConnections: Int = 32, requestTimeout: Duration = .seconds(120), retryPolicy: RetryPolicy = .init(), dataFolder: DataFolder = .default, sandboxAvailable: Bool = Sandbox.isAvailable) {
        self.model = model
        self.roles = roles
        self.quick = quick
        self.logDirectory = logDirectory
        self.seed = seed
        self.maxConnections = maxConnections
        self.requestTimeout = requestTimeout
        self.retryPolicy = retryPolicy
        self.dataFolder = dataFolder
        self.sandboxAvailable = sandboxAvailable
    }
}

/// Runs a policy's suites one after another through the engine, records each as it finishes,
/// and decides the levels. Each suite is an ordinary run in the log folder; the assessment
/// folder only points at them, so `--resume` continues an interrupted suite where it stopped.
public struct AssessmentRunner: Sendable {
    public let policy: PolicyFile
    public let options: AssessmentOptions
    public let folder: AssessmentFolder
    let environment: [String: String]

    /// Plans a new assessment: which suites run, and why the others do not.
    public static func start(policy: PolicyFile, options: AssessmentOptions, environment: [String: String]) throws -> (AssessmentRunner, Assessment) {
        let id = Self.newID()
        let folder = try AssessmentFolder.create(in: options.logDirectory, id: id)
        let runner = AssessmentRunner(policy: policy, options: options, folder: folder, environment: environment)
        let assessment = runner.plan(id: id)
        try folder.write(assessment)
        return (runner, assessment)
    }

    /// Plans an assessment without running it here (the program's workers run its suites).
    public static func plan(policy: PolicyFile, options: AssessmentOptions) -> Assessment {
        AssessmentRunner(policy: policy, options: options, folder: AssessmentFolder(path: ""), environment: [:]).plan(id: Self.newID())
    }

    func plan(id: String) -> Assessment {
        Assessment(
            id: id,
            airlockVersion: AirlockVersion.current,
            model: .init(name: options.model.modelName, baseURL: options.model.baseURL),
            roles: options.roles.mapValues { .init(name: $0.modelName, baseURL: $0.baseURL) },
            policy: .init(name: policy.policy.name, version: policy.policy.version, file: policy.path, sha256: policy.sha256, confidence: policy.policy.confidenceLevel),
            quick: options.quick,
            seed: options.seed,
            started: Date().timeIntervalSince1970,
            data: Self.importedData(in: options.dataFolder),
            suites: policy.policy.suites.map { plan($0) },
            domains: []
        )
    }

    /// Reopens an assessment; the policy must be unchanged.
    public static func resume(folder: AssessmentFolder, options: AssessmentOptions, environment: [String: String]) throws -> (AssessmentRunner, Assessment) {
        let assessment = try folder.read()
        let policy = try PolicyFile.load(path: assessment.policy.file)
        guard policy.sha256 == assessment.policy.sha256 else {
            throw EvalError(.runMismatch, "the policy changed since the assessment started; start a new assessment", file: policy.path)
        }
        var options = options
        options.quick = assessment.quick
        options.seed = assessment.seed
        return (AssessmentRunner(policy: policy, options: options, folder: folder, environment: environment), assessment)
    }

    static func newID() -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd'T'HHmmss"
        let suffix = String(UInt32.random(in: 0...UInt32.max), radix: 36)
        return "\(formatter.string(from: Date()))-\(suffix)"
    }

    static func importedData(in folder: DataFolder) -> [ImportSummary] {
        guard let data = FileManager.default.contents(atPath: folder.items + "/imports.json") else { return [] }
        return (try? JSONDecoder().decode([ImportSummary].self, from: data)) ?? []
    }

    func plan(_ suite: AssessmentPolicy.Suite) -> Assessment.SuiteOutcome {
        let quick = options.quick ? suite.quick : nil
        let outcome = Assessment.SuiteOutcome(
            id: suite.id, title: suite.title, domain: suite.domain, higherMeans: suite.higherMeans, isPublic: suite.isPublic ?? false,
            status: .planned, task: policy.taskPath(suite, quick: options.quick),
            limit: quick?.limit ?? suite.limit, epochs: quick?.epochs ?? suite.epochs,
            scorer: suite.measure?.scorer, group: suite.measure?.group,
            groups: [:], attempts: 0, failed: 0, evidence: []
        )
        func notRun(_ reason: String) -> Assessment.SuiteOutcome {
            var outcome = outcome
            outcome.status = .notRun
            outcome.reason = reason
            return outcome
        }
        if options.quick && suite.quick == nil { return notRun("not part of the quick battery") }
        if suite.needs?.contains(.sandbox) == true && !options.sandboxAvailable {
            return notRun("needs sandboxes (root, bubblewrap and iproute2), which this machine cannot make")
        }
        if suite.needs?.contains(.grader) == true && options.roles["grader"] == nil {
            return notRun("model-graded: bind a grader with --model-role grader=MODEL")
        }
        do {
            let task = try TaskFile.load(path: policy.taskPath(suite, quick: options.quick))
            guard FileManager.default.fileExists(atPath: task.datasetPath) else {
                let hint = task.definition.dataset.path.hasPrefix(TaskFile.dataFolderPrefix) ? " (`make data` installs and imports it)" : ""
                return notRun("its data is missing: \(task.datasetPath)\(hint)")
            }
        } catch {
            return notRun("its task cannot be loaded: \(error)")
        }
        return outcome
    }

    /// Runs every suite not yet complete, saving the record after each; `execute` drives one
    /// run (the command line shows progress there). Returns the record, finished unless a run
    /// was interrupted.
    public func run(_ assessment: Assessment, logger: Logger, execute: (Assessment.SuiteOutcome, EvalRun) async throws -> EvalOutcome) async throws -> Assessment {
        var assessment = assessment
        for index in assessment.suites.indices where [.planned, .incomplete].contains(assessment.suites[index].status) {
            let outcome = assessment.suites[index]
            let evalOptions = EvalOptions(
                model: options.model, roles: options.roles, maxConnections: options.maxConnections,
                epochs: outcome.epochs, limit: outcome.limit, seed: options.seed,
                logDirectory: options.logDirectory, requestTimeout: options.requestTimeout, retryPolicy: options.retryPolicy,
                settings: GenerationSettings(maxTokens: options.quick ? policy.policy.suite(outcome.id)?.quick?.maxTokens : nil)
            )
            let run: EvalRun
            if let path = outcome.run {
                run = try EvalRun.resume(directory: RunDirectory(path: path), options: evalOptions, environment: environment)
            } else {
                run = try EvalRun.start(taskPath: outcome.task, options: evalOptions, environment: environment)
                assessment.suites[index].run = run.directory.path
                assessment.suites[index].datasetSHA256 = run.header.task.datasetSHA256
                try folder.write(assessment)
            }
            logger.info("suite starting", metadata: ["suite": "\(outcome.id)", "run": "\(run.directory.path)"])
            switch try await execute(outcome, run) {
            case .complete(let results):
                try record(results, run: run, into: &assessment.suites[index])
            case .completeWithFailures(let results):
                try record(results, run: run, into: &assessment.suites[index])
            case .interrupted:
                try folder.write(assessment)
                return assessment
            }
            try folder.write(assessment)
        }
        assessment.domains = LevelDecision.decide(policy.policy, measurements: assessment.decidingMeasurements)
        assessment.finished = Date().timeIntervalSince1970
        try folder.write(assessment)
        return assessment
    }

    /// Takes a finished run's measure, groups and evidence into the suite's record.
    func record(_ results: RunResults, run: EvalRun, into outcome: inout Assessment.SuiteOutcome) throws {
        guard let scorer = Self.measure(results, into: &outcome) else { return }
        let threshold = policy.policy.suite(outcome.id)?.evidenceAtLeast ?? 1
        outcome.evidence = try writeEvidence(run: run, scorer: scorer, group: outcome.group, atLeast: threshold, suite: outcome.id)
    }

    /// Takes a run's measure and groups into the suite's record; the scorer measured by, or nil
    /// when nothing was measured (the reason says why).
    public static func measure(_ results: RunResults, into outcome: inout Assessment.SuiteOutcome) -> String? {
        outcome.attempts = results.attempts
        outcome.failed = results.failed
        outcome.status = results.failed == 0 ? .complete : .incomplete
        if results.failed > 0 {
            let causes = results.failuresByCause.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")
            outcome.reason = "\(results.failed) of \(results.attempts) attempts failed and were not scored (\(causes)); they count for nothing either way. Resume the assessment to retry them."
        }
        guard let scorer = outcome.scorer.flatMap({ name in results.scorers.first { $0.name == name } }) ?? results.scorers.first else {
            outcome.reason = "the run has no scores"
            return nil
        }
        outcome.scorer = scorer.name
        outcome.groups = (scorer.groups ?? [:]).mapValues(SuiteMeasurement.init)
        if let group = outcome.group {
            guard let summary = scorer.groups?[group] else {
                outcome.measurement = nil
                outcome.reason = "the run has no group '\(group)'; its groups are: \((scorer.groups ?? [:]).keys.sorted().joined(separator: ", "))"
                return nil
            }
            outcome.measurement = SuiteMeasurement(summary)
        } else {
            outcome.measurement = SuiteMeasurement(scorer.overall)
        }
        guard outcome.measurement?.count ?? 0 > 0 else {
            outcome.measurement = nil
            return nil
        }
        return scorer.name
    }

    /// Whether a record counts as evidence of a suite: scored at least `atLeast` by `scorer`,
    /// in the suite's group if it measures one (a group named by its field's value, or
    /// `field=value` where the task groups by several fields).
    public static func isEvidence(_ record: SampleRecord, scorer: String, group: String?, groupFields: [String], atLeast: Double) -> Double? {
        guard record.status == .scored, let score = record.scores[scorer]?.value, score >= atLeast else { return nil }
        guard let group else { return score }
        if groupFields.count == 1 { return record.metadata[groupFields[0]]?.text == group ? score : nil }
        let parts = group.split(separator: "=", maxSplits: 1).map(String.init)
        return parts.count == 2 && record.metadata[parts[0]]?.text == parts[1] ? score : nil
    }

    /// Transcripts of the attempts that scored at least `atLeast` (solved challenges, attacks
    /// that worked), as Markdown files in the assessment folder; at most 25 per suite.
    func writeEvidence(run: EvalRun, scorer: String, group: String?, atLeast: Double, suite: String) throws -> [Assessment.Evidence] {
        let records = RunDirectory.effectiveRecords(try run.directory.readRecords()).values.sorted { ($0.sampleID, $0.epoch) < ($1.sampleID, $1.epoch) }
        let fields = run.header.task.definition.metrics.groupFields
        var evidence: [Assessment.Evidence] = []
        for record in records {
            guard let score = Self.isEvidence(record, scorer: scorer, group: group, groupFields: fields, atLeast: atLeast) else { continue }
            let name = "\(suite)/\(Self.fileSafe(record.sampleID))-e\(record.epoch).md"
            let path = folder.evidencePath + "/" + name
            try FileManager.default.createDirectory(atPath: URL(fileURLWithPath: path).deletingLastPathComponent().path, withIntermediateDirectories: true)
            try AtomicFile.write(Data(TranscriptRenderer.markdown(record, suite: suite, scorer: scorer).utf8), to: path)
            evidence.append(.init(sample: record.sampleID, epoch: record.epoch, score: score, transcript: "evidence/" + name))
            if evidence.count == 25 { break }
        }
        return evidence
    }

    static func fileSafe(_ name: String) -> String {
        String(name.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" ? $0 : "_" }.prefix(80))
    }

    /// Compares with an earlier assessment, suite by suite.
    public static func compare(_ assessment: Assessment, with baseline: Assessment) -> Assessment.BaselineComparison {
        var rows: [Assessment.BaselineComparison.Row] = []
        var unmatched: [String] = []
        let baselineSuites = Dictionary(baseline.suites.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        for suite in assessment.suites {
            guard let mine = suite.measurement, let theirs = baselineSuites[suite.id]?.measurement else {
                unmatched.append(suite.id)
                continue
            }
            rows.append(.init(suite: suite.id, baseline: theirs, model: mine, difference: .between(mine, theirs, confidence: assessment.policy.confidence)))
        }
        unmatched += baseline.suites.map(\.id).filter { id in !assessment.suites.contains { $0.id == id } }
        return .init(assessment: baseline.id, model: baseline.model.name, rows: rows, unmatched: unmatched)
    }
}

/// One attempt as a Markdown transcript: every message, tool call and the score.
enum TranscriptRenderer {
    static func markdown(_ record: SampleRecord, suite: String, scorer: String) -> String {
        var lines = ["# \(suite): \(record.sampleID), epoch \(record.epoch)", ""]
        if let score = record.scores[scorer] {
            lines.append("Score (\(scorer)): \(score.value)\(score.answer.map { ", answer: `\($0)`" } ?? "")")
        }
        if let reason = record.stopReason { lines.append("Stopped: \(reason)") }
        lines.append("")
        let messages = record.messages.isEmpty ? (record.completion.map { [ChatMessage(role: .assistant, content: $0)] } ?? []) : record.messages
        for message in messages {
            lines.append("## \(message.role.rawValue)\(message.toolName.map { " (\($0))" } ?? "")")
            lines.append("")
            lines.append("```")
            lines.append(message.content.replacingOccurrences(of: "```", with: "ˋˋˋ"))
            lines.append("```")
            for call in message.toolCalls ?? [] {
                lines.append("- tool call `\(call.name)`: `\(call.arguments)`")
            }
            lines.append("")
        }
        return lines.joined(separator: "\n")
    }
}
