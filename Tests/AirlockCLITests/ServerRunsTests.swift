import AirlockCore
import AirlockEval
import AirlockTestSupport
import Foundation
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
}
