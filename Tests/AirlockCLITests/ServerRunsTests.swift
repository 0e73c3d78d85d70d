import AirlockCore
import AirlockEval
import AirlockSuites
import AirlockTestSupport
import Foundation
import Synchronization
import Testing

/// Runs submitted to the program server with `airlock runs submit`, run by the server's own
/// worker (the embedded queue) through its gateway, as real processes.
@Suite struct ServerRunsTests {
    /// Sample i's answer is right unless i is a multiple of 3, so that scores differ by sample.
    static func answer(_ request: ScriptedModelServer.Request) -> ScriptedModelServer.Reply {
        let asked = word(request)
        let number = Int(asked.split(separator: "-").last ?? "") ?? 0
        return .ok(ModelReplies.chat(number % 3 == 0 ? "no" : asked))
    }

    @Test func aSubmittedRunIsRunByTheServersWorkerAsAirlockEvalRunsIt() async throws {
        try await ScriptedModelServer.withServer(Self.answer) { upstream in
            try await ProgramServerProcess.with(arguments: ["--slots", "2"]) { server in
                let world = try await server.grantedEvaluator(upstream: upstream.baseURL)
                let folder = try Airlock.temporaryFolder()
                let task = try Airlock.wordsTask(7, in: folder)

                let submitted = try await server.run(
                    ["runs", "submit", task, "--version", world.version, "--grant", world.grant, "--watch"], key: world.evaluatorKey)
                #expect(submitted.status == 0, "\(submitted.output)\n\(submitted.error)")
                #expect(submitted.output.contains("finished: 7/7 attempts"), "\(submitted.output)")
                let runID = try #require(submitted.output.split(separator: " ").dropFirst().first.map { String($0.dropLast()) })

                let page = try await server.json(["runs", "attempts", runID], key: world.evaluatorKey)
                let items = try #require(page["items"]?.array)
                #expect(items.count == 7)
                // Each attempt names the gateway calls that produced it.
                #expect(items.allSatisfy { $0["gateway_call_ids"]?.count == 1 })

                // The same task through `airlock eval` on the same model scores each sample the same.
                let eval = try await ProgramCLI.run(
                    ["eval", task, "--model", "openai/m", "--model-base-url", upstream.baseURL, "--log-dir", folder + "/logs", "--no-progress"])
                #expect(eval.status == 0, "\(eval.error)")
                let local = RunDirectory.effectiveRecords(try Airlock.onlyRun(in: folder + "/logs").readRecords())
                var remote: [String: Score] = [:]
                for item in items {
                    let sample = try #require(item["sample_id"]?.string)
                    let one = try await server.json(["runs", "attempts", runID, "--sample", sample], key: world.evaluatorKey)
                    let text = try #require(one["items"]?[0]?["record"]?.string)
                    let record = try JSONDecoder().decode(SampleRecord.self, from: Data(text.utf8))
                    remote[sample] = record.scores["exact"]
                }
                #expect(remote == Dictionary(uniqueKeysWithValues: local.map { ($0.key.sampleID, $0.value.scores["exact"]) }).compactMapValues { $0 })
                #expect(remote.values.filter { $0.value == 1 }.count == 5)

                // The server built the run's results as `airlock eval` built its own.
                let localResults = try #require(try Airlock.onlyRun(in: folder + "/logs").readResults())
                let run = try await server.json(["runs", "get", runID], key: world.evaluatorKey)
                let summary = try #require(run["summary"])
                let remoteResults = try JSONDecoder().decode(RunResults.self, from: JSONEncoder().encode(summary))
                #expect(remoteResults.scorers.map(\.overall) == localResults.scorers.map(\.overall))
                #expect(remoteResults.scored == 7 && remoteResults.failed == 0 && remoteResults.attempts == localResults.attempts)
                #expect(submitted.output.contains("exact: accuracy 0.714 (stderr"), "\(submitted.output)")

                // The run's events: each attempt as it was kept, then the progress that counts them.
                let watched = try await server.run(["runs", "watch", runID, "--attempts"], key: world.evaluatorKey)
                let lines = watched.output.split(separator: "\n").map(String.init)
                let attemptLines = lines.filter { $0.hasPrefix("attempt ") }
                #expect(attemptLines.count == 7 && Set(attemptLines.map { $0.split(separator: " ")[1] }).count == 7, "\(watched.output)")
                #expect(lines.firstIndex { $0.hasPrefix("finished: 7/7") } == attemptLines.count, "\(watched.output)")

                // The run's evidence holds against the gateway's record, and its workers' key is revoked.
                let keys = try await server.json(["grant", "keys", world.grant], key: world.evaluatorKey)
                let runKeys = (keys["items"]?.array ?? keys.array ?? []).filter { $0["name"]?.string == "run \(runID)" }
                #expect(!runKeys.isEmpty && runKeys.allSatisfy { $0["revoked_at"] != nil }, "\(keys)")

                // A finished run can be neither cancelled nor resumed.
                let cancel = try await server.run(["runs", "cancel", runID], key: world.evaluatorKey)
                #expect(cancel.status != 0 && cancel.error.contains("cannot be cancelled"), "\(cancel.error)")
                #expect(try await server.stop() == 0)
            }
        }
    }

    /// An assessment submitted to the server: a run per suite, run by the server's worker, one
    /// suite graded by a grader model whose key the server keeps sealed and hands only to the
    /// worker; its report's measures and levels are those of `airlock assess` on the same policy
    /// and models, with evidence linking into the suites' kept attempts.
    @Test func anAssessmentRunsOnTheWorkersWithASealedGraderAndDecidesAsAirlockAssess() async throws {
        let graderKeys = Mutex<Set<String>>([])
        try await ScriptedModelServer.withServer({ request in
            guard case .object(let body) = request.body, body["model"] == .string("judge") else { return Self.answer(request) }
            graderKeys.withLock { _ = $0.insert(request.headers["authorization"] ?? "") }
            guard request.headers["authorization"] == "Bearer sk-judge-secret" else { return .status(401) }
            // The grader passes an answer that ends in an even number.
            let even = (Int(request.lastContent.split(separator: "-").last?.prefix(while: \.isNumber) ?? "") ?? 1) % 2 == 0
            return .ok(ModelReplies.chat(even ? "GRADE: C" : "GRADE: I"))
        }) { upstream in
            try await ProgramServerProcess.with(arguments: ["--slots", "2"]) { server in
                let world = try await server.grantedEvaluator(upstream: upstream.baseURL)
                let folder = try Airlock.temporaryFolder()
                _ = try Airlock.wordsTask(9, in: folder)
                try """
                    name: graded-words
                    dataset: {path: data.jsonl}
                    scorers:
                      - model_graded:
                          role: grader
                          template: "Grade the answer {answer} against {criterion}. GRADE:"
                    """.write(toFile: folder + "/graded.yaml", atomically: true, encoding: .utf8)
                try """
                    name: graded-policy
                    version: "2"
                    suites:
                      - {id: words, title: Words, task: task.yaml, domain: d, higher_means: capability}
                      - {id: graded, title: Graded, task: graded.yaml, domain: d, higher_means: capability, needs: [grader]}
                    domains:
                      - id: d
                        title: Words
                        levels:
                          - name: none
                          - name: some
                            any: [{suite: words, at_least: 0.3}]
                          - name: graded
                            any: [{suite: graded, at_least: 0.1}]
                    """.write(toFile: folder + "/policy.yaml", atomically: true, encoding: .utf8)
                let environment = ["OPENAI_BASE_URL": upstream.baseURL, "OPENAI_API_KEY": "sk-judge-secret"]

                let submitted = try await server.run(
                    ["runs", "submit", "--policy", folder + "/policy.yaml", "--version", world.version, "--grant", world.grant,
                     "--model-role", "grader=openai/judge", "--watch"],
                    key: world.evaluatorKey, environment: environment)
                #expect(submitted.status == 0, "\(submitted.output)\n\(submitted.error)")
                #expect(submitted.output.contains("assessment finished"), "\(submitted.output)")
                #expect(graderKeys.withLock { $0 } == ["Bearer sk-judge-secret"])

                // The same policy through `airlock assess`, with the same models.
                let assess = try await Airlock.run(
                    ["assess", "--policy", folder + "/policy.yaml", "--model", "openai/m", "--model-role", "grader=openai/judge", "--log-dir", folder + "/logs",
                     "--no-progress"], environment: environment)
                #expect(assess.status == 0, "\(assess.error)")
                func verdicts(_ output: String) -> [String] {
                    output.split(separator: "\n").map(String.init).filter { $0.hasPrefix("  words: ") || $0.hasPrefix("  graded: ") || $0.hasPrefix("Words: ") }
                }
                #expect(verdicts(submitted.output).count == 3)
                #expect(verdicts(submitted.output) == verdicts(assess.output), "\(submitted.output)\n---\n\(assess.output)")

                // The assessment's run: its report, levels and suites; the grader's key shown nowhere.
                let runID = try #require(submitted.output.split(separator: " ").dropFirst().first.map { String($0.dropLast()) })
                let assessment = try await server.json(["runs", "get", runID], key: world.evaluatorKey)
                #expect(assessment["kind"]?.string == "assessment" && assessment["state"]?.string == "finished")
                #expect(assessment["levels"]?["d"]?.string == "graded")
                guard case .object(let suiteRuns)? = assessment["execution"]?["suites"] else { throw EvalError(.logCorrupt, "no suites: \(assessment)") }
                #expect(Set(suiteRuns.keys) == ["words", "graded"])
                let report = try JSONDecoder().decode(Assessment.self, from: JSONEncoder().encode(try #require(assessment["summary"])))
                let graded = try #require(report.suites.first { $0.id == "graded" })
                #expect(graded.run == suiteRuns["graded"]?.string && graded.measurement?.count == 9)
                let evidence = try #require(graded.evidence.first)
                #expect(evidence.transcript.hasPrefix("/api/v1/runs/\(graded.run ?? "")/attempts?sample_id="))
                let gradedRun = try await server.run(["runs", "get", try #require(graded.run)], key: world.evaluatorKey)
                #expect(gradedRun.output.contains("\"keyed\" : true") || gradedRun.output.contains("\"keyed\": true"), "\(gradedRun.output)")
                for text in [gradedRun.output, "\(assessment)", submitted.output] { #expect(!text.contains("sk-judge-secret")) }
                #expect(try await server.stop() == 0)
            }
        }
    }

    /// Waits until `count` of the run's attempts have results.
    static func waitForResults(_ count: Int, of runID: String, on server: ProgramServerProcess, key: String) async throws {
        for _ in 0..<400 {
            let page = try await server.json(["runs", "attempts", runID, "--limit", "200"], key: key)
            if (page["items"]?.count ?? 0) >= count { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        Issue.record("the run did not reach \(count) results")
    }

    /// `kill -9` of the server mid-run: started again on its store, it queues again what has
    /// no result (its in-process queue was lost with it), and the run finishes, each attempt once.
    @Test func theServerKilledMidRunLosesNothing() async throws {
        try await ScriptedModelServer.withServer({ .delayed(0.2, .ok(ModelReplies.chat(word($0)))) }) { upstream in
            let first = try await ProgramServerProcess.start(arguments: ["--slots", "2"])
            defer { if first.process.isRunning { kill(first.process.processIdentifier, SIGKILL) } }
            let world = try await first.grantedEvaluator(upstream: upstream.baseURL)
            let folder = try Airlock.temporaryFolder()
            let task = try Airlock.wordsTask(12, in: folder)
            let runID = try #require(
                try await first.json(["runs", "submit", task, "--version", world.version, "--grant", world.grant], key: world.evaluatorKey).id)
            try await Self.waitForResults(3, of: runID, on: first, key: world.evaluatorKey)
            kill(first.process.processIdentifier, SIGKILL)
            first.process.waitUntilExit()

            let second = try await ProgramServerProcess.start(database: first.database, officeKey: first.officeKey, arguments: ["--slots", "2"])
            defer { if second.process.isRunning { kill(second.process.processIdentifier, SIGKILL) } }
            let watched = try await second.run(["runs", "watch", runID], key: world.evaluatorKey)
            #expect(watched.status == 0 && watched.output.contains("finished: 12/12 attempts"), "\(watched.output)\n\(watched.error)")
            let items = try #require(try await second.json(["runs", "attempts", runID, "--limit", "200"], key: world.evaluatorKey)["items"]?.array)
            #expect(items.count == 12 && Set(items.compactMap { $0["sample_id"]?.string }).count == 12)
            #expect(try await second.stop() == 0)
        }
    }

    /// A cancelled run stops within seconds: its attempts in hand end, no more calls reach the
    /// model, and resuming it runs only what has no result.
    @Test func aCancelledRunStopsWithinSecondsAndResumesWhereItStopped() async throws {
        // The first four answers come at once and the rest not until the run is resumed, so the
        // run is still going when it is cancelled however busy the machine.
        let answered = Mutex(0)
        let resuming = Mutex(false)
        let slowAfterFour: ScriptedModelServer.Script = { request in
            let count = answered.withLock { count in
                count += 1
                return count
            }
            return .delayed(count <= 4 || resuming.withLock({ $0 }) ? 0 : 60, .ok(ModelReplies.chat(word(request))))
        }
        try await ScriptedModelServer.withServer(slowAfterFour) { upstream in
            try await ProgramServerProcess.with(arguments: ["--slots", "2"]) { server in
                let world = try await server.grantedEvaluator(upstream: upstream.baseURL)
                let folder = try Airlock.temporaryFolder()
                let task = try Airlock.wordsTask(20, in: folder)
                let runID = try #require(
                    try await server.json(["runs", "submit", task, "--version", world.version, "--grant", world.grant], key: world.evaluatorKey).id)
                try await Self.waitForResults(2, of: runID, on: server, key: world.evaluatorKey)
                let cancelled = try await server.json(["runs", "cancel", runID], key: world.evaluatorKey)
                #expect(cancelled["state"]?.string == "cancelled")
                // Within the workers' check interval and the calls in flight, the model hears no more.
                try await Task.sleep(for: .seconds(4))
                let calls = upstream.requests.count
                try await Task.sleep(for: .seconds(2))
                #expect(upstream.requests.count == calls)
                let done = try #require(try await server.json(["runs", "attempts", runID, "--limit", "200"], key: world.evaluatorKey)["items"]?.count)
                #expect(done < 20)

                resuming.withLock { $0 = true }
                let resumed = try await server.json(["runs", "resume", runID], key: world.evaluatorKey)
                #expect(resumed["state"]?.string == "queued")
                let watched = try await server.run(["runs", "watch", runID], key: world.evaluatorKey)
                #expect(watched.status == 0 && watched.output.contains("finished: 20/20 attempts"), "\(watched.output)\n\(watched.error)")
            }
        }
    }

    /// The pids of this machine's processes whose command line is `arguments`.
    static func processes(running arguments: [String]) -> [Int32] {
        let wanted = Data(arguments.joined(separator: "\0").utf8) + Data([0])
        let pids = (try? FileManager.default.contentsOfDirectory(atPath: "/proc"))?.compactMap { Int32($0) } ?? []
        return pids.filter { FileManager.default.contents(atPath: "/proc/\($0)/cmdline") == wanted }
    }

    /// The server's sandboxes still there: their network namespaces and folders, named after its pid.
    static func sandboxes(of pid: Int32) async throws -> [String] {
        let prefix = "airlock-\(pid)-"
        let namespaces = try await ChildProcess.run("/usr/sbin/ip", ["netns", "list"], timeout: .seconds(10), outputLimit: 1 << 16).output
            .split(separator: "\n").map { String($0.prefix { $0 != " " }) }
        let folders = (try? FileManager.default.contentsOfDirectory(atPath: NSTemporaryDirectory())) ?? []
        return (namespaces + folders).filter { $0.hasPrefix(prefix) }
    }

    /// A cancelled agentic run: the commands its attempts run in their sandboxes end within
    /// seconds, and none of the server's sandboxes is left.
    @Test(.enabled(if: TestEnvironment.runs(.sandboxes, ifAvailable: Sandbox.isAvailable), "needs root and bubblewrap (make test installs it)"))
    func aCancelledSandboxedRunLeavesNoSandbox() async throws {
        // A mark of this test's own, so that no other test's command is counted.
        let command = ["sleep", "\(3_000 + Int.random(in: 0..<600))"]
        try await ScriptedModelServer.withServer({ _ in .ok(ModelReplies.toolCall("bash", ["command": command.joined(separator: " ")])) }) { upstream in
            try await ProgramServerProcess.with(arguments: ["--slots", "2"]) { server in
                let world = try await server.grantedEvaluator(upstream: upstream.baseURL)
                let folder = try Airlock.temporaryFolder()
                try (1...3).map { #"{"id": "s\#($0)", "input": "Wait.", "target": "done"}"# }.joined(separator: "\n")
                    .write(toFile: folder + "/data.jsonl", atomically: true, encoding: .utf8)
                try "name: waits\ndataset: {path: data.jsonl}\nsolvers:\n  - agent: {tools: [bash], max_turns: 3}\nscorers: [exact]\nsandbox: {command_timeout: 600}\n"
                    .write(toFile: folder + "/task.yaml", atomically: true, encoding: .utf8)
                let runID = try #require(
                    try await server.json(["runs", "submit", folder + "/task.yaml", "--version", world.version, "--grant", world.grant], key: world.evaluatorKey).id)
                // Both slots' attempts are inside their sandboxes' command.
                for _ in 0..<600 where Self.processes(running: command).count < 2 { try await Task.sleep(for: .milliseconds(50)) }
                try #require(Self.processes(running: command).count == 2)
                try #require(try await Self.sandboxes(of: server.process.processIdentifier).count >= 2)

                let cancelled = try await server.json(["runs", "cancel", runID], key: world.evaluatorKey)
                #expect(cancelled["state"]?.string == "cancelled")
                var left: [String] = ["not looked yet"]
                for _ in 0..<200 {
                    left = Self.processes(running: command).map { "process \($0)" } + (try await Self.sandboxes(of: server.process.processIdentifier))
                    if left.isEmpty { break }
                    try await Task.sleep(for: .milliseconds(50))
                }
                #expect(left.isEmpty, "left 10 s after the cancel: \(left)")
                #expect(try await server.stop() == 0)
            }
        }
    }
}
