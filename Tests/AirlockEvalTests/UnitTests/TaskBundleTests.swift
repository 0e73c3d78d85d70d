import AirlockCore
@testable import AirlockEval
import AirlockTestSupport
import Foundation
import Logging
import Testing

/// A task carried elsewhere as its bundle's files runs there as it runs here.
struct TaskBundleTests {
    @Test func aTaskUnpackedElsewhereScoresAsAtHome() async throws {
        let fixture = try TaskFixture.words(3)
        let (files, taskPath) = try TaskBundle.files(taskPath: fixture.taskPath)
        #expect(Set(files.keys) == ["task.yaml", "data.jsonl"] && taskPath == "task.yaml")
        let elsewhere = NSTemporaryDirectory() + "airlock-unpacked-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: elsewhere) }
        try TaskBundle.write(files, into: elsewhere)
        try await ScriptedModelServer.withServer({ request in .ok(ModelReplies.chat(requestedWord(request) + (request.lastContent.contains("3") ? "!" : ""))) }) { server in
            let (run, _) = try await fixture.run(fixture.options(server))
            let home = Dictionary(uniqueKeysWithValues: try run.directory.readRecords().map { ($0.key, $0.scores) })
            try await ModelClient.withClient(maxConnections: 2) { client in
                let runner = try AttemptRunner(taskPath: elsewhere + "/" + taskPath, options: fixture.options(server), environment: [:], client: client, logger: Logger(label: "test"))
                for key in runner.plannedKeys {
                    let record = try await runner.run(key)
                    #expect(record?.scores == home[key], "\(key)")
                }
            }
        }
    }

    @Test func aDatasetOutsideTheTasksFolderIsNamed() throws {
        let fixture = try TaskFixture.words(1, yaml: TaskFixture.exactTask.replacingOccurrences(of: "path: data.jsonl", with: "path: ../outside.jsonl"))
        try "{\"id\": \"a\", \"input\": \"x\", \"target\": \"y\"}\n".write(toFile: fixture.folder + "/../outside.jsonl", atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: fixture.folder + "/../outside.jsonl") }
        let error = #expect(throws: EvalError.self) { try TaskBundle.files(taskPath: fixture.taskPath) }
        #expect(error?.field == "dataset.path" && error?.message.contains("outside the task's folder") == true, "\(String(describing: error))")
    }

    @Test func writingNeverLeavesTheFolderNorWritesThroughALink() throws {
        let folder = NSTemporaryDirectory() + "airlock-unpacked-\(UUID().uuidString)"
        let outside = NSTemporaryDirectory() + "airlock-outside-\(UUID().uuidString)"
        defer {
            try? FileManager.default.removeItem(atPath: folder)
            try? FileManager.default.removeItem(atPath: outside)
        }
        for path in ["../escape", "/etc/x", "a/../../b", "a//b"] {
            #expect(throws: EvalError.self, "\(path)") { try TaskBundle.write([path: Data("x".utf8)], into: folder) }
        }
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: folder + "/task.yaml", withDestinationPath: outside)
        #expect(throws: EvalError.self) { try TaskBundle.write(["task.yaml": Data("planted".utf8)], into: folder) }
        #expect(!FileManager.default.fileExists(atPath: outside))
    }
}
