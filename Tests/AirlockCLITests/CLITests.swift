import AirlockCore
import AirlockEval
import AirlockTestSupport
import Foundation
import Logging
import Synchronization
import Testing

/// The built `airlock` binary, run as a user would.
enum Airlock {
    /// Beside the test bundle in the build folder.
    static var binary: String {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("airlock").path
    }

    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    struct Result {
        var status: Int32
        var output: String
        var error: String
    }

    static func start(_ arguments: [String], environment: [String: String] = [:], directory: String = packageRoot) throws -> (Process, Pipe, Pipe) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let output = Pipe()
        let error = Pipe()
        process.standardOutput = output
        process.standardError = error
        try process.run()
        return (process, output, error)
    }

    static func run(_ arguments: [String], environment: [String: String] = [:], directory: String = packageRoot) async throws -> Result {
        let (process, output, error) = try start(arguments, environment: environment, directory: directory)
        // Read while it runs so a full pipe never blocks it.
        async let out = readToEnd(output.fileHandleForReading)
        async let err = readToEnd(error.fileHandleForReading)
        let (outData, errData) = await (out, err)
        process.waitUntilExit()
        return Result(status: process.terminationStatus, output: String(decoding: outData, as: UTF8.self), error: String(decoding: errData, as: UTF8.self))
    }

    static func temporaryFolder() throws -> String {
        let folder = NSTemporaryDirectory() + "airlock-cli-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        return folder
    }

    /// A task of `count` samples asking for words, with an exact-match scorer.
    static func wordsTask(_ count: Int, in folder: String) throws -> String {
        try (1...count).map { #"{"id": "s\#($0)", "input": "Say word-\#($0)", "target": "word-\#($0)"}"# }.joined(separator: "\n")
            .write(toFile: folder + "/data.jsonl", atomically: true, encoding: .utf8)
        let task = folder + "/task.yaml"
        try "name: words\ndataset: {path: data.jsonl}\nscorers: [exact]\n".write(toFile: task, atomically: true, encoding: .utf8)
        return task
    }

    static func onlyRun(in logs: String) throws -> RunDirectory {
        let runs = RunDirectory.list(in: logs)
        guard runs.count == 1 else { throw EvalError(.runNotFound, "expected one run, found \(runs.count)", file: logs) }
        return runs[0]
    }
}

func word(_ request: ScriptedModelServer.Request) -> String {
    request.lastContent.components(separatedBy: " ").last ?? ""
}

@Suite struct CLITests {
    @Test func aBrokenTaskFileIsReportedWithFileLineAndFieldBeforeAnyCall() async throws {
        let folder = try Airlock.temporaryFolder()
        let task = folder + "/bad.yaml"
        try "name: bad\ndataset:\n  path: data.jsonl\nsolvers:\n  - generate\n  - guess_wildly\nscorers: [exact]\n".write(toFile: task, atomically: true, encoding: .utf8)
        let result = try await Airlock.run(["eval", task, "--model", "openai/m", "--model-base-url", "http://127.0.0.1:9/v1", "--log-dir", folder + "/logs"])
        #expect(result.status != 0)
        #expect(result.error.contains("bad.yaml:6"))
        #expect(result.error.contains("solvers[1]"))
        #expect(result.error.contains("guess_wildly"))
        #expect(!FileManager.default.fileExists(atPath: folder + "/logs"))
    }

    @Test func aBrokenDatasetLineIsReported() async throws {
        let folder = try Airlock.temporaryFolder()
        let task = try Airlock.wordsTask(3, in: folder)
        try "{\"id\": \"1\", \"input\": \"a\", \"target\": \"b\"}\n{\"id\": \"2\", \"input\": \n".write(toFile: folder + "/data.jsonl", atomically: true, encoding: .utf8)
        let result = try await Airlock.run(["eval", task, "--model", "openai/m", "--model-base-url", "http://127.0.0.1:9/v1", "--log-dir", folder + "/logs"])
        #expect(result.status != 0)
        #expect(result.error.contains("data.jsonl:2"))
    }

    @Test func helpIsEverywhere() async throws {
        for command in [["--help"], ["eval", "--help"], ["runs", "--help"], ["runs", "show", "--help"], ["export", "--help"], ["range", "verify", "--help"], ["local-model", "--help"]] {
            let result = try await Airlock.run(command)
            #expect(result.status == 0, "\(command)")
            #expect(result.output.contains("USAGE"), "\(command)")
        }
    }

    @Test func evalRunsListsShowsAndPrintsPlainProgressWhenNotATerminal() async throws {
        let folder = try Airlock.temporaryFolder()
        let task = try Airlock.wordsTask(5, in: folder)
        try await ScriptedModelServer.withServer({ .ok(ModelReplies.chat(word($0))) }) { server in
            let result = try await Airlock.run(["eval", task, "--model", "openai/scripted", "--model-base-url", server.baseURL, "--log-dir", folder + "/logs"], environment: ["OPENAI_API_KEY": "sk-cli-secret"])
            #expect(result.status == 0, "\(result.error)")
            #expect(result.output.contains("accuracy"))
            #expect(result.output.contains("1.000"))
            #expect(result.error.contains("[5/5]"))
            #expect(!result.error.contains("\u{1B}["))
            #expect(!(result.output + result.error).contains("sk-cli-secret"))
            let list = try await Airlock.run(["runs", "--log-dir", folder + "/logs"])
            #expect(list.output.contains("complete"))
            #expect(list.output.contains("5/5"))
            let show = try await Airlock.run(["runs", "show", try Airlock.onlyRun(in: folder + "/logs").path, "--samples"])
            #expect(show.output.contains("s3"))
            #expect(show.output.contains("exact=1.000"))
        }
    }

    @Test func killNineThenResumeFinishesWithoutRedoingOrDoubleCounting() async throws {
        let folder = try Airlock.temporaryFolder()
        let count = 300
        let task = try Airlock.wordsTask(count, in: folder)
        let logs = folder + "/logs"
        // The first 50 requests are answered; later ones hang until the resume, so the kill always
        // lands mid-run, with attempts in flight.
        let released = Mutex(false)
        try await ScriptedModelServer.withServer({ request in
            request.index < 50 || released.withLock({ $0 }) ? .ok(ModelReplies.chat(word(request))) : .stall
        }) { server in
            let (process, _, _) = try Airlock.start(["eval", task, "--model", "openai/scripted", "--model-base-url", server.baseURL, "--max-connections", "4", "--log-dir", logs, "--no-progress"])
            // Wait until some attempts are on disk, then kill without warning.
            var written = 0
            for _ in 0..<500 {
                try await Task.sleep(for: .milliseconds(20))
                if let run = try? Airlock.onlyRun(in: logs), let data = FileManager.default.contents(atPath: run.samplesPath) {
                    written = data.filter { $0 == UInt8(ascii: "\n") }.count
                    if written >= 50 { break }
                }
            }
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            // Requests the dead process had already sent may still be read by the server.
            try await Task.sleep(for: .milliseconds(300))
            #expect(written == 50)
            let run = try Airlock.onlyRun(in: logs)
            let before = RunDirectory.effectiveRecords(try run.readRecords(repair: false)).count
            #expect(before == 50)
            let requestsBefore = server.requests.count
            released.withLock { $0 = true }

            let resumed = try await Airlock.run(["eval", "--resume", run.path, "--no-progress"])
            #expect(resumed.status == 0, "\(resumed.error)")
            let records = try run.readRecords()
            // Every attempt scored exactly once, and the resume asked only for what was missing.
            #expect(records.count == count)
            #expect(Set(records.map(\.key)).count == count)
            #expect(server.requests.count - requestsBefore == count - before)
            let results = try #require(run.readResults())
            #expect(results.scored == count)
            #expect(results.scorers[0].overall.value == 1)
        }
    }

    @Test func ctrlCStopsCleanlyAndTheRunResumes() async throws {
        let folder = try Airlock.temporaryFolder()
        let task = try Airlock.wordsTask(200, in: folder)
        let logs = folder + "/logs"
        let released = Mutex(false)
        try await ScriptedModelServer.withServer({ request in
            request.index < 10 || released.withLock({ $0 }) ? .ok(ModelReplies.chat(word(request))) : .stall
        }) { server in
            let (process, _, _) = try Airlock.start(["eval", task, "--model", "openai/scripted", "--model-base-url", server.baseURL, "--max-connections", "2", "--log-dir", logs, "--no-progress"])
            for _ in 0..<1000 where server.requests.count < 12 { try await Task.sleep(for: .milliseconds(20)) }
            kill(process.processIdentifier, SIGINT)
            process.waitUntilExit()
            #expect(process.terminationStatus == 130)
            let run = try Airlock.onlyRun(in: logs)
            #expect(run.readResults() == nil)
            #expect(try run.readRecords().count == 10)
            released.withLock { $0 = true }
            let resumed = try await Airlock.run(["eval", "--resume", run.path, "--no-progress"])
            #expect(resumed.status == 0, "\(resumed.error)")
            #expect(try run.readRecords().count == 200)
        }
    }

    @Test(.enabled(if: TestEnvironment.runsPython, "needs inspect-ai (make test installs it)"))
    func inspectReadsTheExportedLog() async throws {
        let python = try #require(ProcessInfo.processInfo.environment["AIRLOCK_TEST_PYTHON"])
        let folder = try Airlock.temporaryFolder()
        let task = folder + "/task.yaml"
        try "name: interop\ndataset: {path: data.jsonl}\nsolvers: [{system_message: \"Be exact.\"}, generate]\nscorers: [exact, includes]\nepochs: 2\n".write(toFile: task, atomically: true, encoding: .utf8)
        try (1...4).map { #"{"id": "s\#($0)", "input": "Say word-\#($0)", "target": "word-\#($0)"}"# }.joined(separator: "\n").write(toFile: folder + "/data.jsonl", atomically: true, encoding: .utf8)
        try await ScriptedModelServer.withServer({ request in
            .ok(ModelReplies.chat(word(request) == "word-4" ? "it is word-4" : word(request)))
        }) { server in
            let result = try await Airlock.run(["eval", task, "--model", "openai/scripted", "--model-base-url", server.baseURL, "--log-dir", folder + "/logs", "--no-progress"])
            #expect(result.status == 0, "\(result.error)")
            let run = try Airlock.onlyRun(in: folder + "/logs")
            let exported = try await Airlock.run(["export", run.path, "--format", "inspect", "--output", folder + "/run.eval"])
            #expect(exported.status == 0, "\(exported.error)")
            let check = Process()
            check.executableURL = URL(fileURLWithPath: python)
            check.arguments = [Airlock.packageRoot + "/scripts/check_inspect_log.py", folder + "/run.eval"]
            let output = Pipe()
            check.standardOutput = output
            try check.run()
            let data = output.fileHandleForReading.readDataToEndOfFile()
            check.waitUntilExit()
            #expect(check.terminationStatus == 0)
            let summary = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
            #expect(summary["status"] as? String == "success")
            #expect(summary["task"] as? String == "interop")
            #expect(summary["model"] as? String == "openai/scripted")
            #expect(summary["samples"] as? Int == 8)
            #expect(summary["epochs"] as? Int == 2)
            #expect((summary["scorers"] as? [String])?.sorted() == ["exact", "includes"])
            let metrics = try #require(summary["metrics"] as? [String: [String: Double]])
            #expect(metrics["exact"]?["accuracy"] == 0.75)
            #expect(metrics["includes"]?["accuracy"] == 1)
            let first = try #require(summary["first_sample"] as? [String: Any])
            #expect(first["message_roles"] as? [String] == ["system", "user", "assistant"])
        }
    }

    /// A run of more attempts than a ZIP's 16-bit count (it failed with "the archive would need
    /// ZIP64"): exported a sample at a time, and read by Python's zipfile and by Inspect.
    @Test(.enabled(if: TestEnvironment.runsPython, "needs inspect-ai (make test installs it)"))
    func aRunOfMoreThan65535AttemptsIsExportedForInspect() async throws {
        let python = try #require(ProcessInfo.processInfo.environment["AIRLOCK_TEST_PYTHON"])
        let folder = try Airlock.temporaryFolder()
        let count = 70_000
        try (1...count).map { #"{"id": "s\#($0)", "input": "Say word-\#($0)", "target": "word-\#($0)"}"# }.joined(separator: "\n")
            .write(toFile: folder + "/data.jsonl", atomically: true, encoding: .utf8)
        try "name: big\ndataset: {path: data.jsonl}\nscorers: [exact]\n".write(toFile: folder + "/task.yaml", atomically: true, encoding: .utf8)
        // Planned as `airlock eval` plans it; its records written as the engine writes them.
        let model = ModelConfiguration(api: .openAIChat, name: "scripted", baseURL: "http://127.0.0.1:9/v1")
        let run = try EvalRun.start(taskPath: folder + "/task.yaml", options: EvalOptions(model: model, logDirectory: folder + "/logs"), environment: [:])
        var lines = ""
        for key in run.header.plannedKeys {
            let number = Int(key.sampleID.dropFirst()) ?? 0
            let answer = number % 4 == 0 ? "no" : "word-\(number)"
            lines += #"{"sample_id":"\#(key.sampleID)","epoch":1,"status":"scored","input":"Say word-\#(number)","target":["word-\#(number)"],"messages":[{"role":"user","content":"Say word-\#(number)"},{"role":"assistant","content":"\#(answer)"}],"completion":"\#(answer)","scores":{"exact":{"value":\#(number % 4 == 0 ? 0 : 1)}},"usage":{"input_tokens":3,"output_tokens":1},"calls":[],"metadata":{},"started":1700000000.5,"total_seconds":0.25,"model_seconds":0.2}"# + "\n"
        }
        try lines.write(toFile: run.directory.samplesPath, atomically: true, encoding: .utf8)

        let output = folder + "/big.eval"
        let exported = try await Airlock.run(["export", run.directory.path, "--format", "inspect", "--output", output])
        #expect(exported.status == 0, "\(exported.error)")
        let check = Process()
        check.executableURL = URL(fileURLWithPath: python)
        check.arguments = [
            "-c",
            """
            import sys, zipfile
            from inspect_ai.log import read_eval_log, read_eval_log_sample
            archive = zipfile.ZipFile(sys.argv[1])
            assert archive.testzip() is None
            print(len(archive.infolist()))
            header = read_eval_log(sys.argv[1], header_only=True)
            print(header.results.total_samples, header.results.scores[0].metrics["accuracy"].value)
            print(read_eval_log_sample(sys.argv[1], id="s69999", epoch=1).output.completion)
            """,
            output,
        ]
        let pipe = Pipe()
        check.standardOutput = pipe
        try check.run()
        let printed = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        check.waitUntilExit()
        #expect(check.terminationStatus == 0)
        #expect(printed.split(separator: "\n") == ["\(count + 2)", "\(count) 0.75", "word-69999"], "\(printed)")
    }

    @Test(.enabled(if: TestEnvironment.runs(.localModel, ifAvailable: LocalModel.isInstalled(LocalModel.Configuration(environment: ProcessInfo.processInfo.environment))), "needs the local model (make test installs it)"))
    func theDemoTaskRunsOnTheRealLocalModel() async throws {
        let folder = try Airlock.temporaryFolder()
        let serversBefore = llamaServers()
        let result = try await Airlock.run(["eval", "battery/demo/security-basics.yaml", "--model", "local", "--limit", "6", "--log-dir", folder + "/logs", "--no-progress"])
        #expect(result.status == 0, "\(result.error)")
        #expect(result.output.contains("security-basics on openai-completions/gemma-3-270m"))
        let run = try Airlock.onlyRun(in: folder + "/logs")
        let records = try run.readRecords()
        #expect(records.count == 6)
        // The real model answered every question with tokens counted by the server.
        #expect(records.allSatisfy { $0.status == .scored && $0.usage.outputTokens > 0 && $0.calls.count == 1 })
        #expect(records.allSatisfy { $0.messages.first?.content.hasSuffix("Answer:") == true })
        let results = try #require(run.readResults())
        #expect(results.scorers[0].overall.count == 6)
        // No server is left behind once the run is over.
        #expect(llamaServers().isSubset(of: serversBefore))
    }
}

/// Processes running llama.cpp's server (the local model) that no one owns: servers whose parent
/// is neither this test process nor an `airlock` (tests running beside this one start their own).
func llamaServers() -> Set<String> {
    let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
    func commandLine(_ pid: String) -> String? {
        FileManager.default.contents(atPath: "/proc/\(pid)/cmdline").map { String(decoding: $0, as: UTF8.self) }
    }
    return Set(entries.filter { pid in
        guard Int(pid) != nil, commandLine(pid)?.contains("llama_cpp.server") == true,
              let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
              let parent = status.split(separator: "\n").first(where: { $0.hasPrefix("PPid:") })?.dropFirst(5).trimmingCharacters(in: .whitespaces)
        else { return false }
        return parent != String(getpid()) && commandLine(parent)?.hasPrefix(Airlock.binary) != true
    })
}

@Suite(.enabled(if: TestEnvironment.runs(.sandboxes, ifAvailable: Sandbox.isAvailable), "needs root and bubblewrap (make test installs it)"))
struct RangeCommandTests {
    @Test func verifyReplaysAReferenceSolverAndRefusesUnknownNames() async throws {
        let solved = try await Airlock.run(["range", "verify", "crypto-weak-seed"])
        #expect(solved.status == 0, "\(solved.error)")
        #expect(solved.output.contains("PASS  crypto-weak-seed"))
        let unknown = try await Airlock.run(["range", "verify", "no-such-challenge"])
        #expect(unknown.status != 0)
        #expect(unknown.error.contains("no-such-challenge"))
    }
}

@Suite(.enabled(if: TestEnvironment.runs(.sandboxes, ifAvailable: Sandbox.isAvailable), "needs root and bubblewrap (make test installs it)"))
struct SandboxUserTests {
    /// Every process once numbered its sandbox users from 820000 and tore down by user, so a
    /// second `airlock eval` on the machine killed the first one's running command.
    @Test func aSecondAirlockProcessLeavesTheFirstOnesCommandRunning() async throws {
        let folder = try Airlock.temporaryFolder()
        try await Sandbox.withSandbox(logger: Logger(label: "test")) { sandbox in
            let uid = try #require(Int(try await sandbox.exec("id -u").output.trimmingCharacters(in: .whitespacesAndNewlines)))
            // Enough sandboxes, one after another, for the other process to reach this one's user
            // if it ignored who holds it.
            let count = uid - 820_000 + 1
            try #require((1...200).contains(count))
            try (1...count).map { #"{"id": "s\#($0)", "input": "Say done", "target": "done"}"# }.joined(separator: "\n")
                .write(toFile: folder + "/data.jsonl", atomically: true, encoding: .utf8)
            try "name: users\ndataset: {path: data.jsonl}\nsolvers:\n  - agent: {max_turns: 1}\nscorers: [exact]\nsandbox: {command_timeout: 30}\n".write(toFile: folder + "/task.yaml", atomically: true, encoding: .utf8)
            // Runs until the other process is done, then is told to stop.
            async let command = sandbox.exec("while [ ! -e stop ]; do sleep 0.1; done; echo survived", timeout: .seconds(120))
            try await ScriptedModelServer.withServer({ _ in .ok(ModelReplies.chat("done")) }) { server in
                let other = try await Airlock.run(["eval", folder + "/task.yaml", "--model", "openai/scripted", "--model-base-url", server.baseURL, "--max-samples", "1", "--log-dir", folder + "/logs", "--no-progress"], environment: ["OPENAI_API_KEY": "sk-test"])
                #expect(other.status == 0, "\(other.error)")
                #expect(server.requests.count == count)
            }
            try sandbox.writeFile("stop", Data())
            let survivor = try await command
            #expect(survivor.status == 0)
            #expect(survivor.output == "survived\n")
        }
    }
}
