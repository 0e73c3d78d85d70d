import AirlockCore
import Foundation

/// Reads a run's kept results a page at a time, by sample and epoch, after the key given
/// (none: from the first); an empty page ends them.
public typealias RunAttemptPages = @Sendable (_ after: SampleKey?) async throws -> [StoredAttempt]

/// Builds a run's results (metrics per scorer with intervals, failures, usage) from its kept
/// results, as `airlock eval` builds them. That is the evaluation engine's work, which the
/// program's stack does not import: the command that starts the server hands a builder in.
public protocol RunResultsBuilder: Sendable {
    /// The run's results as JSON, from its bundle and its results with their records.
    func results(of run: StoredRun, bundle: Data, attempts: RunAttemptPages) async throws -> JSONValue
}
