import AirlockCore
import Foundation

/// Reads a run's kept results a page at a time, by sample and epoch, after the key given
/// (none: from the first); an empty page ends them.
public typealias RunAttemptPages = @Sendable (_ after: SampleKey?) async throws -> [StoredAttempt]
/// The same, for any run by its id.
public typealias RunAttemptPagesOfRun = @Sendable (_ runId: String, _ after: SampleKey?) async throws -> [StoredAttempt]

/// Builds a run's results (and an assessment's report) (metrics per scorer with intervals, failures, usage) from its kept
/// results, as `airlock eval` builds them. That is the evaluation engine's work, which the
/// program's stack does not import: the command that starts the server hands a builder in.
public protocol RunResultsBuilder: Sendable {
    /// The run's results as JSON, from its bundle and its results with their records.
    func results(of run: StoredRun, bundle: Data, attempts: RunAttemptPages) async throws -> JSONValue
    /// An assessment's report and levels, from its plan (its summary as submitted), the policy
    /// in its bundle and its suites' runs (by suite id) with their results.
    func report(of assessment: StoredRun, suites: [String: StoredRun], bundle: Data, attempts: @escaping RunAttemptPagesOfRun) async throws
        -> (summary: JSONValue, levels: [String: String])
}
