import AirlockCore
import Foundation
import Logging

/// Runs single attempts of a task, as a worker does: planned as ``EvalRun/start(taskPath:options:environment:)``
/// plans a run (samples, epochs, seed, roles), and each attempt run by the same code as
/// ``EvalRun/execute(client:logger:)``, so it is scored the same wherever it runs. It writes
/// nothing: the caller keeps the records.
public struct AttemptRunner: Sendable {
    /// The run as planned; its `run_id` is a fresh one, which the caller may ignore.
    public let header: RunHeader
    private let samples: [String: Sample]
    private let attempt: SampleAttempt

    public init(taskPath: String, options: EvalOptions, environment: [String: String], client: ModelClient, logger: Logger) throws {
        let plan = try EvalRun.plan(taskPath: taskPath, options: options, environment: environment)
        header = plan.header
        samples = plan.samples
        attempt = try EvalRun.attempt(header: plan.header, roles: plan.roles, options: options, client: client, logger: logger).0
    }

    /// Every attempt the run must make.
    public var plannedKeys: [SampleKey] { header.plannedKeys }

    /// The attempts a task's run makes, as a worker will plan them (what a submitted run lists).
    public static func plannedKeys(taskPath: String, options: EvalOptions) throws -> [SampleKey] {
        try EvalRun.plan(taskPath: taskPath, options: options, environment: [:]).header.plannedKeys
    }

    /// A run's results from its attempts, as ``EvalRun`` builds them when it finishes: the task
    /// planned again (the same options give the same plan) for its epochs, scorers and samples.
    public static func results(taskPath: String, options: EvalOptions, attempts: [SampleKey: AttemptSummary]) throws -> RunResults {
        let plan = try EvalRun.plan(taskPath: taskPath, options: options, environment: [:])
        return RunResultsCalculator.compute(header: plan.header, attempts: attempts, metadata: plan.samples.mapValues(\.metadata))
    }

    /// Runs one attempt; nil when it was cancelled. An attempt the plan does not have is an error.
    public func run(_ key: SampleKey) async throws -> SampleRecord? {
        guard let sample = samples[key.sampleID], (1...header.epochs).contains(key.epoch) else {
            throw EvalError(.invalidArguments, "the run has no attempt \(key.sampleID) in epoch \(key.epoch)", file: header.task.file)
        }
        return await attempt.run(sample: sample, epoch: key.epoch)
    }
}
