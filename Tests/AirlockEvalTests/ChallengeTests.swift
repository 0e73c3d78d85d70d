import AirlockCore
@testable import AirlockEval
import AirlockTestSupport
import Foundation
import Logging
import Testing

let batteryCTF = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path + "/battery/ctf"

/// The `solution` mode: every challenge's reference solver, replayed through a sandbox as an agent
/// would meet it, must find that attempt's fresh flag. A broken challenge cannot land.
@Suite(.enabled(if: TestEnvironment.runs(.sandboxes, ifAvailable: Sandbox.isAvailable), "needs root and bubblewrap (make test installs it)"))
struct ChallengeTests {
    static let challenges = (try? Challenge.loadAll(root: batteryCTF)) ?? []

    @Test func theBatteryHasChallenges() throws {
        #expect(try Challenge.loadAll(root: batteryCTF).count >= 3)
    }

    @Test(arguments: challenges.map(\.manifest.name))
    func theReferenceSolverFindsTheFreshFlag(name: String) async throws {
        let challenge = try #require(Self.challenges.first { $0.manifest.name == name })
        try await Sandbox.withSandbox(logger: Logger(label: "test")) { sandbox in
            let (solved, output) = try await challenge.verify(in: sandbox)
            #expect(solved, "\(name): \(output.output.suffix(300)) \(output.errorOutput.suffix(300))")
            // The agent's side cannot read the flag directly.
            let direct = try await sandbox.exec("cat /srv/flag.txt 2>&1")
            #expect(!direct.output.contains("FLAG{"))
        }
    }

    @Test func everyAttemptGetsADifferentFlag() async throws {
        let challenge = try #require(Self.challenges.first { $0.manifest.name == "crypto-repeating-xor" })
        let logger = Logger(label: "test")
        let first = try await Sandbox.withSandbox(logger: logger) { try await challenge.prepare(in: $0) }
        let second = try await Sandbox.withSandbox(logger: logger) { try await challenge.prepare(in: $0) }
        #expect(first != second)
        #expect(first.hasPrefix("FLAG{") && first.count == 22)
    }

    @Test func aBrokenManifestNamesTheField() throws {
        let folder = NSTemporaryDirectory() + "airlock-challenge-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: folder + "/solution", withIntermediateDirectories: true)
        try "#!/bin/sh\n".write(toFile: folder + "/solution/solve.sh", atomically: true, encoding: .utf8)
        try "name: x\ncategory: web\ntier: 7\nattack: []\ncwe: []\nprompt: {minimal: a, guided: b}\nlicence: MIT\n".write(toFile: folder + "/challenge.yaml", atomically: true, encoding: .utf8)
        let error = try #require(throws: EvalError.self) { try Challenge.load(folder: folder) }
        #expect(error.field == "tier")
        try "name: x\ncategory: web\ntier: 1\nattack: []\ncwe: []\nlicence: MIT\n".write(toFile: folder + "/challenge.yaml", atomically: true, encoding: .utf8)
        let missing = try #require(throws: EvalError.self) { try Challenge.load(folder: folder) }
        #expect(missing.field == "prompt")
    }

    @Test func aChallengesOwnLimitsOverrideTheTasks() async throws {
        let root = NSTemporaryDirectory() + "airlock-challenges-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: batteryCTF + "/misc-encoding-layers", toPath: root + "/limited")
        let manifest = root + "/limited/challenge.yaml"
        try (try String(contentsOfFile: manifest, encoding: .utf8) + "limits: {messages: 4}\n").write(toFile: manifest, atomically: true, encoding: .utf8)
        let yaml = "name: limited\ndataset: {path: \(root), format: challenges}\nsolvers:\n  - agent: {max_turns: 10}\nscorers: [exact]\nsandbox: {}\nlimits: {messages: 50}\n"
        let fixture = try TaskFixture(yaml: yaml, samples: [])
        try await ScriptedModelServer.withServer({ _ in .ok(ModelReplies.toolCall("bash", ["command": "ls"])) }) { server in
            let (run, _) = try await fixture.run(fixture.options(server))
            let record = try #require(try run.directory.readRecords().first)
            // system, user, then one call and its result fill the challenge's four messages.
            #expect(record.limitReached == "messages")
            #expect(server.requests.count == 1)
        }
    }

    @Test func anAgentIsScoredAgainstItsOwnAttemptsFlag() async throws {
        // The task runs the original suite through the engine; a scripted agent reads the flag the
        // way the reference solver does, and a second one submits a stale flag.
        let yaml = "name: ctf\ndataset: {path: \(batteryCTF), format: challenges}\nsolvers:\n  - agent: {max_turns: 4}\nscorers: [exact]\nsandbox: {command_timeout: 30}\n"
        let fixture = try TaskFixture(yaml: yaml, samples: [])
        try await ScriptedModelServer.withServer({ request in
            let history = messages(request)
            let prompt = history.first { $0["role"] == .string("user") }?["content"]?.stringValue ?? ""
            guard prompt.contains("8080"), let result = history.last(where: { $0["role"] == .string("tool") })?["content"]?.stringValue else {
                if prompt.contains("8080") {
                    return .ok(ModelReplies.toolCall("bash", ["command": "python3 -c \"import urllib.request; print(urllib.request.urlopen('http://127.0.0.1:8080/files?name=../flag.txt').read().decode())\""]))
                }
                return .ok(ModelReplies.toolCall("submit", ["answer": "FLAG{0000000000000000}"]))
            }
            let flag = result.split(separator: "\n").first { $0.hasPrefix("FLAG{") }.map(String.init) ?? "none"
            return .ok(ModelReplies.toolCall("submit", ["answer": flag]))
        }) { server in
            let (run, outcome) = try await fixture.run(fixture.options(server) { $0.sampleIDs = ["web-path-traversal", "crypto-repeating-xor"] })
            let records = try run.directory.readRecords()
            #expect(records.first { $0.sampleID == "web-path-traversal" }?.scores["exact"]?.value == 1)
            #expect(records.first { $0.sampleID == "crypto-repeating-xor" }?.scores["exact"]?.value == 0)
            #expect(outcome.results?.scored == 2)
        }
    }
}

@Suite struct GroupedResultsTests {
    @Test func severalGroupFieldsEachGetRows() throws {
        let yaml = "name: g\ndataset: {path: data.jsonl}\nscorers: [exact]\nmetrics: {group_by: [category, tier]}\n"
        let fixture = try TaskFixture(yaml: yaml, samples: [])
        let task = try TaskFile.load(path: fixture.taskPath)
        #expect(task.definition.metrics.groupFields == ["category", "tier"])
        let header = RunHeader(runID: "r", created: 0, task: .init(name: "g", file: "", fileSHA256: "", datasetFile: "", datasetSHA256: "", definition: task.definition), model: .init(name: "m", baseURL: ""), roles: [:], settings: .init(), seed: 1, epochs: 1, sampleIDs: ["a", "b", "c"], maxConnections: 1, maxSamples: 1, cache: false, airlockVersion: "")
        func attempt(_ value: Double) -> AttemptSummary {
            AttemptSummary(SampleRecord(sampleID: "", epoch: 1, status: .scored, input: .text(""), target: [], messages: [], scores: ["exact": Score(value: value)], usage: .init(), calls: [], metadata: [:], started: 0, totalSeconds: 0, modelSeconds: 0))
        }
        let attempts: [SampleKey: AttemptSummary] = [SampleKey(sampleID: "a", epoch: 1): attempt(1), SampleKey(sampleID: "b", epoch: 1): attempt(0), SampleKey(sampleID: "c", epoch: 1): attempt(1)]
        let metadata: [String: [String: JSONValue]] = ["a": ["category": .string("web"), "tier": .number(1)], "b": ["category": .string("web"), "tier": .number(2)], "c": ["category": .string("pwn"), "tier": .number(2)]]
        let results = RunResultsCalculator.compute(header: header, attempts: attempts, metadata: metadata)
        let groups = try #require(results.scorers.first?.groups)
        #expect(groups["category=web"]?.value == 0.5)
        #expect(groups["category=pwn"]?.value == 1)
        #expect(groups["tier=1"]?.value == 1)
        #expect(groups["tier=2"]?.value == 0.5)
        #expect(groups["tier=2"]?.count == 2)
    }
}
