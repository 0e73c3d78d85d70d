import AirlockAPI
import AirlockCore
import AirlockEval
import AirlockNATS
import AirlockQueue
import AirlockTestSupport
@testable import AirlockWorker
import Crypto
import Foundation
import Logging
import Synchronization
import Testing

/// Workers taking a run's attempts from a queue (the embedded one and JetStream): every attempt
/// is scored once, as `airlock eval` scores it, and a worker that dies mid-attempt loses nothing.
struct AttemptWorkerTests {
    enum Kind: String, CaseIterable, Sendable { case embedded, jetStream }
    static let kinds: [Kind] = TestEnvironment.runs(.nats, ifAvailable: NATSTestServer.isAvailable) ? Kind.allCases : [.embedded]

    /// A run's bundle and results in memory: the first result of each attempt, as the store keeps it.
    final class MemorySource: RunSource, @unchecked Sendable {
        let bundleBytes: Data
        let runAssignment: RunAssignment
        private let state = Mutex<[SampleKey: (SampleRecord, String)]>([:])

        init(bundle: Data, taskPath: String, model: ModelConfiguration) {
            bundleBytes = bundle
            runAssignment = RunAssignment(bundleDigest: Hex.string(SHA256.hash(data: bundle)), taskPath: taskPath, model: model)
        }

        func assignment(runID: String) async throws -> RunAssignment? { runAssignment }
        func activeRound(runID: String) async throws -> Int? { 0 }
        func bundle(runID: String, digest: String) async throws -> Data { bundleBytes }
        func hasResult(runID: String, key: SampleKey) async throws -> Bool { state.withLock { $0[key] != nil } }
        func commit(runID: String, round: Int, record: SampleRecord, worker: String) async throws -> Bool {
            state.withLock { results in
                guard results[record.key] == nil else { return false }
                results[record.key] = (record, worker)
                return true
            }
        }

        var results: [SampleKey: (record: SampleRecord, worker: String)] { state.withLock { $0.mapValues { ($0.0, $0.1) } } }
    }

    static let task = """
        name: words
        dataset: {path: data.jsonl}
        solvers: [generate]
        scorers: [exact]
        epochs: 2
        """

    /// A task folder with `count` samples; sample i's answer is right unless i is a multiple of 3.
    static func makeTask(_ count: Int) throws -> String {
        let folder = NSTemporaryDirectory() + "airlock-worker-task-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try task.write(toFile: folder + "/task.yaml", atomically: true, encoding: .utf8)
        let lines = (1...count).map { #"{"id": "s\#($0)", "input": "Say word-\#($0)", "target": "word-\#($0)"}"# }
        try (lines.joined(separator: "\n") + "\n").write(toFile: folder + "/data.jsonl", atomically: true, encoding: .utf8)
        return folder
    }

    static func answer(_ request: ScriptedModelServer.Request) -> String {
        let word = request.lastContent.split(separator: " ").last.map(String.init) ?? ""
        let number = Int(word.dropFirst("word-".count)) ?? 0
        return number % 3 == 0 ? "wrong" : word
    }

    func withQueue(_ kind: Kind, leaseTime: Duration, _ body: (any AttemptQueue) async throws -> Void) async throws {
        switch kind {
        case .embedded:
            try await body(EmbeddedAttemptQueue(leaseTime: leaseTime))
        case .jetStream:
            try await NATSTestServer.withServer { server in
                try await NATSConnection.withConnection(NATSConfiguration(servers: [server.url]), logger: Logger(label: "test.worker")) { connection in
                    try await body(JetStreamAttemptQueue(connection: connection, configuration: .init(leaseTime: leaseTime)))
                }
            }
        }
    }

    func source(task folder: String, server: ScriptedModelServer) throws -> MemorySource {
        let (files, taskPath) = try TaskBundle.files(taskPath: folder + "/task.yaml")
        let bundle = try RunBundle.pack(files.map { RunBundle.File(path: $0.key, contents: $0.value) })
        return MemorySource(bundle: bundle, taskPath: taskPath, model: ModelConfiguration(api: .openAIChat, name: "scripted", baseURL: server.baseURL, apiKey: APIKey("sk-test")))
    }

    func worker(_ name: String, queue: any AttemptQueue, source: MemorySource, slots: Int = 3) -> AttemptWorker {
        let folder = NSTemporaryDirectory() + "airlock-worker-\(UUID().uuidString)"
        return AttemptWorker(
            configuration: .init(name: name, slots: slots, progressInterval: .milliseconds(300), workFolder: folder, requestTimeout: .seconds(20)),
            queue: queue, source: source, logger: Logger(label: "test.worker")
        )
    }

    /// Waits until `source` has `count` results (at most 60 s).
    func waitForResults(_ source: MemorySource, count: Int) async throws {
        for _ in 0..<600 where source.results.count < count { try await Task.sleep(for: .milliseconds(100)) }
        #expect(source.results.count == count)
    }

    /// The scores `airlock eval` gives the same task on the same model.
    func evalScores(_ folder: String, server: ScriptedModelServer) async throws -> [SampleKey: [String: Score]] {
        let options = EvalOptions(model: ModelConfiguration(api: .openAIChat, name: "scripted", baseURL: server.baseURL, apiKey: APIKey("sk-test")), logDirectory: folder + "/eval-logs")
        let run = try EvalRun.start(taskPath: folder + "/task.yaml", options: options, environment: [:])
        _ = try await ModelClient.withClient(maxConnections: 8) { client in try await run.execute(client: client, logger: Logger(label: "test")) }
        return Dictionary(uniqueKeysWithValues: try run.directory.readRecords().map { ($0.key, $0.scores) })
    }

    static func tickets(_ count: Int) -> [AttemptTicket] {
        (1...count).flatMap { sample in (1...2).map { AttemptTicket(runID: "run1", sampleID: "s\(sample)", epoch: $0, pool: "default") } }
    }

    @Test(arguments: kinds)
    func twoWorkersScoreEveryAttemptOnceAsAirlockEvalDoes(kind: Kind) async throws {
        let folder = try Self.makeTask(6)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try await ScriptedModelServer.withServer({ .ok(ModelReplies.chat(Self.answer($0))) }) { server in
            let expected = try await evalScores(folder, server: server)
            let source = try source(task: folder, server: server)
            try await withQueue(kind, leaseTime: .seconds(10)) { queue in
                try await queue.publish(Self.tickets(6))
                try await ModelClient.withClient(maxConnections: 8) { client in
                    let workers = [worker("a", queue: queue, source: source), worker("b", queue: queue, source: source)].map { worker in
                        Task { try await worker.run(client: client) }
                    }
                    try await waitForResults(source, count: 12)
                    for task in workers { task.cancel() }
                    for task in workers { _ = try? await task.value }
                }
            }
            // Delivery is at least once (a machine too busy to say "in progress" in time may run an
            // attempt twice): what counts is one result per attempt, the first, as the store keeps it.
            for (key, scores) in expected { #expect(source.results[key]?.record.scores == scores, "\(key)") }
            #expect(Set(source.results.values.map(\.worker)) == ["a", "b"])
        }
    }

    /// Worker `a` is stopped in the middle of an attempt (its model call held back): nothing is
    /// settled for it, its lease runs out, and worker `b` does it; every attempt is scored once.
    @Test(arguments: kinds)
    func aWorkerStoppedMidAttemptLosesNothingAndScoresNothingTwice(kind: Kind) async throws {
        let folder = try Self.makeTask(3)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let held = Mutex(false)
        try await ScriptedModelServer.withServer({ request in
            let hold = request.lastContent.contains("word-2") && held.withLock { first in defer { first = true }; return !first }
            return hold ? .delayed(30, .ok(ModelReplies.chat(Self.answer(request)))) : .ok(ModelReplies.chat(Self.answer(request)))
        }) { server in
            let source = try source(task: folder, server: server)
            try await withQueue(kind, leaseTime: .seconds(6)) { queue in
                try await queue.publish(Self.tickets(3))
                try await ModelClient.withClient(maxConnections: 8) { client in
                    let first = Task { try await worker("a", queue: queue, source: source, slots: 6).run(client: client) }
                    // `a` has done all but the held attempt.
                    try await waitForResults(source, count: 5)
                    first.cancel()
                    _ = try? await first.value
                    #expect(source.results.count == 5)
                    let second = Task { try await worker("b", queue: queue, source: source).run(client: client) }
                    try await waitForResults(source, count: 6)
                    second.cancel()
                    _ = try? await second.value
                }
            }
            #expect(source.results.filter { $0.value.worker == "b" }.map(\.key.sampleID) == ["s2"])
        }
    }
}
