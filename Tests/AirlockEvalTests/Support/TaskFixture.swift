import AirlockCore
import AirlockTestSupport
import AirlockEval
import Foundation
import Logging

/// A task file, its dataset and a log folder in a fresh temporary folder.
struct TaskFixture {
    let folder: String
    var taskPath: String { folder + "/task.yaml" }
    var logDirectory: String { folder + "/logs" }

    /// `samples` are JSONL lines; `yaml` is the task file (its dataset is `data.jsonl`).
    init(yaml: String, samples: [String]) throws {
        folder = NSTemporaryDirectory() + "airlock-test-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try yaml.write(toFile: taskPath, atomically: true, encoding: .utf8)
        try (samples.joined(separator: "\n") + "\n").write(toFile: folder + "/data.jsonl", atomically: true, encoding: .utf8)
    }

    /// `count` samples asking for a word; the target of sample i is `word-i`.
    static func words(_ count: Int, yaml: String = TaskFixture.exactTask) throws -> TaskFixture {
        try TaskFixture(yaml: yaml, samples: (1...count).map { #"{"id": "s\#($0)", "input": "Say word-\#($0)", "target": "word-\#($0)", "metadata": {"group": "\#($0 % 2 == 0 ? "even" : "odd")"}}"# })
    }

    static let exactTask = """
        name: words
        dataset:
          path: data.jsonl
        solvers:
          - generate
        scorers:
          - exact
        """

    func options(_ server: ScriptedModelServer, api: ModelAPI = .openAIChat, configure: (inout EvalOptions) -> Void = { _ in }) -> EvalOptions {
        var options = EvalOptions(
            model: ModelConfiguration(api: api, name: "scripted", baseURL: server.baseURL, apiKey: APIKey("sk-test-secret")),
            maxConnections: 8,
            logDirectory: logDirectory,
            requestTimeout: .seconds(5),
            retryPolicy: RetryPolicy(maxRetries: 3, baseDelay: 0.01, maxDelay: 0.05)
        )
        configure(&options)
        return options
    }

    /// Starts a run and executes it to the end.
    func run(_ options: EvalOptions) async throws -> (EvalRun, EvalOutcome) {
        let run = try EvalRun.start(taskPath: taskPath, options: options, environment: [:])
        let outcome = try await ModelClient.withClient(maxConnections: options.maxConnections) { client in
            try await run.execute(client: client, logger: Logger(label: "test"))
        }
        return (run, outcome)
    }

    func resume(_ directory: RunDirectory, _ options: EvalOptions) async throws -> (EvalRun, EvalOutcome) {
        let run = try EvalRun.resume(directory: directory, options: options, environment: [:])
        let outcome = try await ModelClient.withClient(maxConnections: options.maxConnections) { client in
            try await run.execute(client: client, logger: Logger(label: "test"))
        }
        return (run, outcome)
    }
}

extension EvalOutcome {
    var results: RunResults? {
        switch self {
        case .complete(let results), .completeWithFailures(let results): return results
        case .interrupted: return nil
        }
    }
}

/// The word a scripted request asks for ("Say word-3" → "word-3").
func requestedWord(_ request: ScriptedModelServer.Request) -> String {
    request.lastContent.components(separatedBy: " ").last ?? ""
}
