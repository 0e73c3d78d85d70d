import AirlockAPI
import AirlockCore
import AirlockEval
import AirlockServer
import Foundation

/// A run's results built on the server as `airlock eval` builds them: the run's task, unpacked
/// from its bundle, planned again (with the run's seed) and its kept records summarised.
struct EngineRunResults: RunResultsBuilder {
    /// Where bundles are unpacked for a moment.
    let workFolder: String

    func results(of run: StoredRun, bundle: Data, attempts: RunAttemptPages) async throws -> JSONValue {
        guard let execution = run.execution else { throw EvalError(.invalidArguments, "run \(run.id) has no execution") }
        let folder = workFolder + "/results-\(run.id)-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let files = try RunBundle.read(bundle)
        try TaskBundle.write(Dictionary(files.map { ($0.path, $0.contents) }, uniquingKeysWith: { first, _ in first }), into: folder)
        var summaries: [SampleKey: AttemptSummary] = [:]
        var after: SampleKey?
        while true {
            let page = try await attempts(after)
            guard let last = page.last else { break }
            for attempt in page {
                let record = try JSONDecoder().decode(SampleRecord.self, from: Data(attempt.record.utf8))
                summaries[SampleKey(sampleID: attempt.sampleId, epoch: attempt.epoch)] = AttemptSummary(record)
            }
            after = SampleKey(sampleID: last.sampleId, epoch: last.epoch)
        }
        let options = runPlanningOptions(seed: execution.seed, completions: execution.completions)
        let results = try AttemptRunner.results(taskPath: folder + "/" + execution.taskPath, options: options, attempts: summaries)
        return try JSONDecoder().decode(JSONValue.self, from: JSONEncoder().encode(results))
    }
}
