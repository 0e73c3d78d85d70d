import AirlockCore
@testable import AirlockEval
import AirlockTestSupport
import Foundation
import Logging
import Testing

let batteryCTF = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path + "/battery/ctf"

/// The `solution` mode: every challenge's reference solver, replayed through a sandbox as an agent
/// would meet it, must find that attempt's fresh flag. A broken challenge cannot land.
@Suite(.enabled(if: Sandbox.isAvailable, "needs root and bubblewrap (make test installs it)"))
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
                    return .ok(toolCallReply("bash", ["command": "python3 -c \"import urllib.request; print(urllib.request.urlopen('http://127.0.0.1:8080/files?name=../flag.txt').read().decode())\""]))
                }
                return .ok(toolCallReply("submit", ["answer": "FLAG{0000000000000000}"]))
            }
            let flag = result.split(separator: "\n").first { $0.hasPrefix("FLAG{") }.map(String.init) ?? "none"
            return .ok(toolCallReply("submit", ["answer": flag]))
        }) { server in
            let (run, outcome) = try await fixture.run(fixture.options(server) { $0.sampleIDs = ["web-path-traversal", "crypto-repeating-xor"] })
            let records = try run.directory.readRecords()
            #expect(records.first { $0.sampleID == "web-path-traversal" }?.scores["exact"]?.value == 1)
            #expect(records.first { $0.sampleID == "crypto-repeating-xor" }?.scores["exact"]?.value == 0)
            #expect(outcome.results?.scored == 2)
        }
    }
}
