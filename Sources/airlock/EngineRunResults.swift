import AirlockAPI
import AirlockCore
import AirlockEval
import AirlockServer
import AirlockSuites
import Foundation

/// A run's results built on the server as `airlock eval` builds them: the run's task, unpacked
/// from its bundle, planned again (with the run's seed) and its kept records summarised. An
/// assessment's report is built as `airlock assess` builds it, from its suites' results.
struct EngineRunResults: RunResultsBuilder {
    /// Where bundles are unpacked for a moment.
    let workFolder: String

    func results(of run: StoredRun, bundle: Data, attempts: RunAttemptPages) async throws -> JSONValue {
        guard let execution = run.execution else { throw EvalError(.invalidArguments, "run \(run.id) has no execution") }
        return try await withBundle(bundle, of: run) { folder in
            var summaries: [SampleKey: AttemptSummary] = [:]
            try await Self.forEachRecord(attempts) { summaries[SampleKey(sampleID: $0.sampleID, epoch: $0.epoch)] = AttemptSummary($0) }
            let results = try AttemptRunner.results(taskPath: folder + "/" + execution.taskPath, options: try runPlanningOptions(execution), attempts: summaries)
            return try JSONDecoder().decode(JSONValue.self, from: JSONEncoder().encode(results))
        }
    }

    func report(of assessment: StoredRun, suites: [String: StoredRun], bundle: Data, attempts: @escaping RunAttemptPagesOfRun) async throws
        -> (summary: JSONValue, levels: [String: String])
    {
        guard let execution = assessment.execution else { throw EvalError(.invalidArguments, "run \(assessment.id) has no execution") }
        var report = try JSONDecoder().decode(Assessment.self, from: JSONEncoder().encode(assessment.summary))
        return try await withBundle(bundle, of: assessment) { folder in
            let policy = try PolicyFile.load(path: folder + "/" + execution.taskPath)
            guard policy.sha256 == report.policy.sha256 else {
                throw EvalError(.runMismatch, "the assessment's plan is not of the policy in its bundle", file: execution.taskPath)
            }
            for index in report.suites.indices {
                let id = report.suites[index].id
                guard let run = suites[id], let taskPath = run.execution?.taskPath else {
                    if report.suites[index].status != .notRun {
                        report.suites[index].status = .notRun
                        report.suites[index].reason = "no run was submitted for it"
                    }
                    continue
                }
                report.suites[index].run = run.id
                report.suites[index].task = taskPath
                guard let results = try? JSONDecoder().decode(RunResults.self, from: JSONEncoder().encode(run.summary)) else {
                    report.suites[index].status = .incomplete
                    report.suites[index].reason = "its run \(run.id) has no results"
                    continue
                }
                guard let scorer = AssessmentRunner.measure(results, into: &report.suites[index]) else { continue }
                let fields = try TaskFile.load(path: folder + "/" + taskPath).definition.metrics.groupFields
                let group = report.suites[index].group
                let atLeast = policy.policy.suite(id)?.evidenceAtLeast ?? 1
                var evidence: [Assessment.Evidence] = []
                try await Self.forEachRecord({ try await attempts(run.id, $0) }) { record in
                    guard evidence.count < 25,
                        let score = AssessmentRunner.isEvidence(record, scorer: scorer, group: group, groupFields: fields, atLeast: atLeast)
                    else { return }
                    var link = URLComponents()
                    link.path = "/api/v1/runs/\(run.id)/attempts"
                    link.queryItems = [URLQueryItem(name: "sample_id", value: record.sampleID), URLQueryItem(name: "epoch", value: "\(record.epoch)")]
                    evidence.append(.init(sample: record.sampleID, epoch: record.epoch, score: score, transcript: link.string ?? link.path))
                }
                report.suites[index].evidence = evidence
            }
            report.domains = LevelDecision.decide(policy.policy, measurements: report.decidingMeasurements)
            report.finished = Date().timeIntervalSince1970
            let levels = Dictionary(report.domains.map { ($0.domain, $0.level) }, uniquingKeysWith: { first, _ in first })
            return (try JSONDecoder().decode(JSONValue.self, from: JSONEncoder().encode(report)), levels)
        }
    }

    /// Unpacks a run's bundle into a folder of its own for `body`, then removes it.
    private func withBundle<Result>(_ bundle: Data, of run: StoredRun, _ body: (String) async throws -> Result) async throws -> Result {
        let folder = workFolder + "/results-\(run.id)-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let files = try RunBundle.read(bundle)
        try TaskBundle.write(Dictionary(files.map { ($0.path, $0.contents) }, uniquingKeysWith: { first, _ in first }), into: folder)
        return try await body(folder)
    }

    /// Each kept record of a run, by sample and epoch, a page at a time.
    private static func forEachRecord(_ pages: RunAttemptPages, _ body: (SampleRecord) throws -> Void) async throws {
        var after: SampleKey?
        while true {
            let page = try await pages(after)
            guard let last = page.last else { return }
            for attempt in page { try body(try JSONDecoder().decode(SampleRecord.self, from: Data(attempt.record.utf8))) }
            after = SampleKey(sampleID: last.sampleId, epoch: last.epoch)
        }
    }
}
