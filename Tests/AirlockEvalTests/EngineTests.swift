import AirlockCore
import AirlockTestSupport
@testable import AirlockEval
import Foundation
import Logging
import Synchronization
import Testing

@Suite struct EngineTests {
    @Test func scoresEverySampleAndWritesTheLog() async throws {
        let fixture = try TaskFixture.words(6)
        try await ScriptedModelServer.withServer({ request in
            // Wrong for word-6, right for the rest.
            let word = requestedWord(request)
            return .ok(ModelReplies.chat(word == "word-6" ? "nope" : word))
        }) { server in
            let (run, outcome) = try await fixture.run(fixture.options(server))
            guard case .complete(let results) = outcome else { Issue.record("expected complete, got \(outcome)"); return }
            #expect(results.scored == 6)
            #expect(results.failed == 0)
            let exact = try #require(results.scorers.first)
            #expect(exact.name == "exact")
            #expect(abs(exact.overall.value - 5.0 / 6.0) < 1e-12)
            #expect(exact.overall.method == .wilson)
            #expect(results.usage.inputTokens == 60)
            #expect(server.requests.count == 6)
            // The key goes in the header of the request and nowhere in the run's files.
            #expect(server.requests.allSatisfy { $0.headers["authorization"] == "Bearer sk-test-secret" })
            for file in ["header.json", "samples.jsonl", "results.json"] {
                let text = try String(contentsOfFile: run.directory.path + "/" + file, encoding: .utf8)
                #expect(!text.contains("sk-test-secret"))
            }
            let records = try run.directory.readRecords()
            #expect(records.count == 6)
            let record = try #require(records.first { $0.sampleID == "s2" })
            #expect(record.messages.map(\.role) == [.user, .assistant])
            #expect(record.messages.last?.content == "word-2")
            #expect(record.scores["exact"]?.value == 1)
            #expect(record.calls.count == 1)
        }
    }

    @Test func groupsAndEpochsAreReported() async throws {
        let yaml = TaskFixture.exactTask + "\nepochs:\n  count: 3\n  reducer: pass_at_2\nmetrics:\n  group_by: group\n"
        let fixture = try TaskFixture.words(4, yaml: yaml)
        let calls = Mutex([String: Int]())
        try await ScriptedModelServer.withServer({ request in
            let word = requestedWord(request)
            let attempt = calls.withLock { $0[word, default: 0] += 1; return $0[word]! }
            // word-1 right on one epoch of three; others always right.
            return .ok(ModelReplies.chat(word == "word-1" && attempt != 2 ? "wrong" : word))
        }) { server in
            let (_, outcome) = try await fixture.run(fixture.options(server))
            let results = try #require(outcome.results)
            #expect(results.attempts == 12)
            let exact = try #require(results.scorers.first)
            // pass@2 with n=3, c=1: 1 - C(2,2)/C(3,2) = 2/3; the others are 1.
            #expect(abs(exact.overall.value - (2.0 / 3.0 + 3) / 4) < 1e-12)
            #expect(exact.epochs.count == 3)
            #expect(exact.groups?["even"]?.value == 1)
            #expect(abs((exact.groups?["odd"]?.value ?? 0) - (2.0 / 3.0 + 1) / 2) < 1e-12)
        }
    }

    @Test func rateLimitsAreRetriedAfterRetryAfterAndLowerTheLimit() async throws {
        let fixture = try TaskFixture.words(10)
        try await ScriptedModelServer.withServer({ request in
            request.index < 5 ? .status(429, retryAfter: "0.05") : .ok(ModelReplies.chat(requestedWord(request)))
        }) { server in
            let clock = ContinuousClock()
            let start = clock.now
            let (run, outcome) = try await fixture.run(fixture.options(server))
            let results = try #require(outcome.results)
            #expect(results.scored == 10)
            #expect(results.scorers[0].overall.value == 1)
            #expect(server.requests.count == 15)
            // At least one Retry-After wait happened.
            #expect(clock.now - start >= .milliseconds(50))
            let retried = try run.directory.readRecords().filter { $0.calls.first?.retries ?? 0 > 0 }
            #expect(!retried.isEmpty)
        }
    }

    @Test func serverErrorsAndDroppedConnectionsAreRetried() async throws {
        let fixture = try TaskFixture.words(4)
        let seen = Mutex(Set<String>())
        try await ScriptedModelServer.withServer({ request in
            let word = requestedWord(request)
            let first = seen.withLock { $0.insert(word).inserted }
            if first { return word.hasSuffix("1") || word.hasSuffix("3") ? .status(500) : .drop }
            return .ok(ModelReplies.chat(word))
        }) { server in
            let (run, outcome) = try await fixture.run(fixture.options(server))
            let results = try #require(outcome.results)
            #expect(results.scored == 4)
            #expect(results.scorers[0].overall.value == 1)
            #expect(try run.directory.readRecords().allSatisfy { $0.calls.first?.retries == 1 })
        }
    }

    @Test func bodiesCutOffOrNotJSONAreRetriedLikeADroppedConnection() async throws {
        let fixture = try TaskFixture.words(4)
        let seen = Mutex(Set<String>())
        try await ScriptedModelServer.withServer({ request in
            let word = requestedWord(request)
            let first = seen.withLock { $0.insert(word).inserted }
            guard first else { return .ok(ModelReplies.chat(word)) }
            // Cut halfway, cut after one byte, a proxy's page, and a body that stops mid-object.
            switch word {
            case "word-1": return .cut(ModelReplies.chat(word), bytes: ModelReplies.chat(word).utf8.count / 2)
            case "word-2": return .cut(ModelReplies.chat(word), bytes: 1)
            case "word-3": return .ok("<html><body>502 Bad Gateway</body></html>")
            default: return .json(status: 200, body: "{\"id\":", headers: [:])
            }
        }) { server in
            let (run, outcome) = try await fixture.run(fixture.options(server))
            guard case .complete(let results) = outcome else { Issue.record("expected complete, got \(outcome)"); return }
            #expect(results.scored == 4)
            #expect(results.scorers[0].overall.value == 1)
            #expect(try run.directory.readRecords().allSatisfy { $0.calls.first?.retries == 1 })
        }
    }

    @Test func malformedResponsesFailAsTheModelsFaultAndAreNotScored() async throws {
        let fixture = try TaskFixture.words(3)
        try await ScriptedModelServer.withServer({ request in
            // JSON, but not a chat completion: retrying cannot help.
            requestedWord(request) == "word-2" ? .ok(#"{"object": "list", "data": []}"#) : .ok(ModelReplies.chat(requestedWord(request)))
        }) { server in
            let (run, outcome) = try await fixture.run(fixture.options(server))
            guard case .completeWithFailures(let results) = outcome else { Issue.record("expected failures, got \(outcome)"); return }
            #expect(results.scored == 2)
            #expect(results.failed == 1)
            #expect(results.failuresByCause == ["model": 1])
            // The failure is not counted as a wrong answer: accuracy is over the scored two.
            #expect(results.scorers[0].overall.value == 1)
            #expect(results.scorers[0].overall.count == 2)
            #expect(!FileManager.default.fileExists(atPath: run.directory.resultsPath))
            let failed = try #require(try run.directory.readRecords().first { $0.status == .failed })
            #expect(failed.sampleID == "s2")
            #expect(failed.scores.isEmpty)
        }
    }

    @Test func aStalledServerIsANetworkFailure() async throws {
        let fixture = try TaskFixture.words(2)
        try await ScriptedModelServer.withServer({ request in
            requestedWord(request) == "word-1" ? .stall : .ok(ModelReplies.chat(requestedWord(request)))
        }) { server in
            let (_, outcome) = try await fixture.run(fixture.options(server) {
                $0.requestTimeout = .milliseconds(200)
                $0.retryPolicy = RetryPolicy(maxRetries: 1, baseDelay: 0.01, maxDelay: 0.01)
            })
            let results = try #require(outcome.results)
            #expect(results.failuresByCause == ["network": 1])
            #expect(results.scored == 1)
        }
    }

    @Test func theTimeLimitEndsAnAttemptWhichIsStillScored() async throws {
        // Long enough that the answered attempt finishes inside it on a loaded 2-core machine (at
        // 0.3 s both attempts once ran out of time); the stalled one waits the limit out either way.
        let yaml = TaskFixture.exactTask + "\nlimits:\n  time: 10\n"
        let fixture = try TaskFixture.words(2, yaml: yaml)
        try await ScriptedModelServer.withServer({ request in
            requestedWord(request) == "word-1" ? .stall : .ok(ModelReplies.chat(requestedWord(request)))
        }) { server in
            let (run, outcome) = try await fixture.run(fixture.options(server))
            guard case .complete(let results) = outcome else { Issue.record("expected complete, got \(outcome)"); return }
            #expect(results.limitsReached == 1)
            #expect(results.scorers[0].overall.value == 0.5)
            let limited = try #require(try run.directory.readRecords().first { $0.sampleID == "s1" })
            #expect(limited.limitReached == "time")
            #expect(limited.status == .scored)
        }
    }

    @Test func theMessageLimitStopsTheChain() async throws {
        let yaml = TaskFixture.exactTask.replacingOccurrences(of: "  - generate", with: "  - generate\n  - self_critique") + "\nlimits:\n  messages: 2\n"
        let fixture = try TaskFixture.words(1, yaml: yaml)
        try await ScriptedModelServer.withServer({ request in .ok(ModelReplies.chat(requestedWord(request))) }) { server in
            let (run, _) = try await fixture.run(fixture.options(server))
            let record = try #require(try run.directory.readRecords().first)
            #expect(server.requests.count == 1)
            #expect(record.limitReached == "messages")
        }
    }

    @Test func resumeRedoesOnlyWhatFailedAndNeverDoubleCounts() async throws {
        let fixture = try TaskFixture.words(5)
        let directory = try await ScriptedModelServer.withServer({ request in
            requestedWord(request) == "word-4" ? .status(400) : .ok(ModelReplies.chat(requestedWord(request)))
        }) { server -> RunDirectory in
            let (run, outcome) = try await fixture.run(fixture.options(server))
            #expect(outcome.results?.failed == 1)
            return run.directory
        }
        try await ScriptedModelServer.withServer({ request in .ok(ModelReplies.chat(requestedWord(request))) }) { server in
            let (run, outcome) = try await fixture.resume(directory, fixture.options(server))
            #expect(run.pending == [SampleKey(sampleID: "s4", epoch: 1)])
            guard case .complete(let results) = outcome else { Issue.record("expected complete, got \(outcome)"); return }
            #expect(server.requests.count == 1)
            #expect(results.scored == 5)
            #expect(results.attempts == 5)
            #expect(results.scorers[0].overall.count == 5)
            #expect(results.scorers[0].overall.value == 1)
        }
    }

    @Test func resumeRefusesAChangedDataset() async throws {
        let fixture = try TaskFixture.words(2)
        try await ScriptedModelServer.withServer({ request in .status(400) }) { server in
            let (run, _) = try await fixture.run(fixture.options(server))
            try "{\"id\": \"other\", \"input\": \"x\", \"target\": \"y\"}\n".write(toFile: fixture.folder + "/data.jsonl", atomically: true, encoding: .utf8)
            #expect(throws: EvalError.self) { try EvalRun.resume(directory: run.directory, options: fixture.options(server), environment: [:]) }
        }
    }

    @Test func theCacheAnswersARepeatedRun() async throws {
        let fixture = try TaskFixture.words(4)
        let cache = fixture.folder + "/cache"
        try await ScriptedModelServer.withServer({ request in .ok(ModelReplies.chat(requestedWord(request))) }) { server in
            _ = try await fixture.run(fixture.options(server) { $0.cacheDirectory = cache })
            #expect(server.requests.count == 4)
            let (run, outcome) = try await fixture.run(fixture.options(server) { $0.cacheDirectory = cache })
            #expect(server.requests.count == 4)
            #expect(outcome.results?.scorers[0].overall.value == 1)
            #expect(try run.directory.readRecords().allSatisfy { $0.calls.first?.cached == true })
            // Another epoch is another question: not answered from the cache.
            _ = try await fixture.run(fixture.options(server) { $0.cacheDirectory = cache; $0.epochs = 2 })
            #expect(server.requests.count == 8)
        }
    }

    /// A call answered through the access gateway carries its id there (`Airlock-Call-Id`): the
    /// sample's record keeps it per call, as evidence to check against the gateway's record; an
    /// answer from the cache made no call and names none.
    @Test func eachCallKeepsTheGatewaysIdForIt() async throws {
        let fixture = try TaskFixture.words(3)
        let cache = fixture.folder + "/cache"
        let issued = Mutex(0)
        try await ScriptedModelServer.withServer({ request in
            let id = issued.withLock { count -> String in
                count += 1
                return "call-\(count)"
            }
            return .json(status: 200, body: ModelReplies.chat(requestedWord(request)), headers: ["Airlock-Call-Id": id])
        }) { server in
            let (run, _) = try await fixture.run(fixture.options(server) { $0.cacheDirectory = cache })
            let ids = try run.directory.readRecords().flatMap { $0.calls.compactMap(\.gatewayCallID) }
            #expect(Set(ids) == ["call-1", "call-2", "call-3"])
            let (cached, _) = try await fixture.run(fixture.options(server) { $0.cacheDirectory = cache })
            #expect(try cached.directory.readRecords().allSatisfy { $0.calls.allSatisfy { $0.cached && $0.gatewayCallID == nil } })
        }
    }

    /// Multiple-choice questions whose right choice (`right i`) is B before the seeded shuffle.
    static func shuffledChoices(samples: Int, epochs: Int) throws -> TaskFixture {
        let yaml = """
            name: mcq
            dataset: {path: data.jsonl}
            solvers:
              - multiple_choice: {shuffle: true}
            scorers: [choice]
            epochs: \(epochs)
            """
        let lines = (1...samples).map { i in #"{"id": "q\#(i)", "input": "Which is right for \#(i)?", "choices": ["wrong a", "right \#(i)", "wrong c", "wrong d"], "target": "B"}"# }
        return try TaskFixture(yaml: yaml, samples: lines)
    }

    /// A worker runs single attempts with ``AttemptRunner``: taken in any order, by separate
    /// runners (as on separate machines), each attempt is presented and scored exactly as
    /// `airlock eval` does it (seeded shuffles per epoch included), and the results are the same.
    @Test func attemptsRunSeparatelyScoreAsTheWholeRunDoes() async throws {
        let fixture = try Self.shuffledChoices(samples: 6, epochs: 2)
        // Right for odd samples; for even ones, always the first letter shown (right only where the shuffle put it there).
        try await ScriptedModelServer.withServer({ request in
            let odd = ["1", "3", "5"].contains { request.lastContent.contains("right for \($0)?") }
            let line = request.lastContent.split(separator: "\n").first { $0.contains(odd ? ") right" : "A)") } ?? "A) x"
            return .ok(ModelReplies.chat("ANSWER: \(line.prefix(1))"))
        }) { server in
            let (run, outcome) = try await fixture.run(fixture.options(server))
            let whole = Dictionary(uniqueKeysWithValues: try run.directory.readRecords().map { ($0.key, $0) })
            let options = fixture.options(server)
            var separate: [SampleKey: SampleRecord] = [:]
            try await ModelClient.withClient(maxConnections: 4) { client in
                let keys = try AttemptRunner(taskPath: fixture.taskPath, options: options, environment: [:], client: client, logger: Logger(label: "test")).plannedKeys
                #expect(Set(keys) == Set(whole.keys))
                for key in keys.shuffled() {
                    let runner = try AttemptRunner(taskPath: fixture.taskPath, options: options, environment: [:], client: client, logger: Logger(label: "test"))
                    separate[key] = try await runner.run(key)
                }
                let runner = try AttemptRunner(taskPath: fixture.taskPath, options: options, environment: [:], client: client, logger: Logger(label: "test"))
                await #expect(throws: EvalError.self) { try await runner.run(SampleKey(sampleID: "q1", epoch: 3)) }
            }
            for (key, record) in whole {
                #expect(separate[key]?.choices == record.choices, "\(key)")
                #expect(separate[key]?.scores == record.scores, "\(key)")
            }
            let attempts = separate.mapValues(AttemptSummary.init)
            let header = try run.directory.readHeader()
            let recomputed = RunResultsCalculator.compute(header: header, attempts: attempts, metadata: [:])
            #expect(recomputed.scorers.map(\.overall.value) == outcome.results?.scorers.map(\.overall.value))
            #expect(outcome.results.map { $0.scorers[0].overall.value < 1 && $0.scorers[0].overall.value > 0 } == true)
        }
    }

    @Test func multipleChoiceWithShuffledChoicesIsScoredAgainstTheOriginalLetter() async throws {
        let fixture = try Self.shuffledChoices(samples: 8, epochs: 3)
        try await ScriptedModelServer.withServer({ request in
            // Find the letter the right choice got after shuffling.
            let line = request.lastContent.split(separator: "\n").first { $0.contains(") right") } ?? "A) x"
            return .ok(ModelReplies.chat("ANSWER: \(line.prefix(1))"))
        }) { server in
            let (run, outcome) = try await fixture.run(fixture.options(server))
            let results = try #require(outcome.results)
            #expect(results.scorers[0].overall.value == 1)
            let presented = try run.directory.readRecords().compactMap(\.choices)
            // The shuffle really moved the right answer somewhere other than B at least once.
            #expect(presented.contains { $0[1].hasPrefix("wrong") })
            // And it is reproducible: the same seed gives the same orders.
            let (again, _) = try await fixture.run(fixture.options(server))
            let order = { (records: [SampleRecord]) in records.sorted { $0.key < $1.key }.compactMap(\.choices) }
            #expect(order(try again.directory.readRecords()) == order(try run.directory.readRecords()))
        }
    }

    @Test func modelGradedScoringUsesTheGraderRoleOnly() async throws {
        let yaml = """
            name: graded
            dataset: {path: data.jsonl}
            scorers:
              - model_graded: {rubric: "Names the weakness."}
            """
        let fixture = try TaskFixture(yaml: yaml, samples: [#"{"id": "1", "input": "What is CWE-79?", "target": "Cross-site scripting"}"#])
        // Without a grader the run is refused before any model call.
        try await ScriptedModelServer.withServer({ _ in .ok(ModelReplies.chat("x")) }) { server in
            #expect(throws: EvalError.self) { try EvalRun.start(taskPath: fixture.taskPath, options: fixture.options(server), environment: [:]) }
            #expect(server.requests.isEmpty)
        }
        try await ScriptedModelServer.withServer({ request in
            request.path.hasPrefix("/grader")
                ? .ok(ModelReplies.chat("The submission names XSS.\nGRADE: C"))
                : .ok(ModelReplies.chat("It is cross-site scripting."))
        }) { server in
            let grader = ModelConfiguration(api: .openAIChat, name: "judge", baseURL: "http://127.0.0.1:\(server.port)/grader/v1")
            let (run, outcome) = try await fixture.run(fixture.options(server) { $0.roles = ["grader": grader] })
            #expect(outcome.results?.scorers[0].overall.value == 1)
            #expect(server.requests.filter { $0.path.hasPrefix("/grader") }.count == 1)
            #expect(server.requests.first { $0.path.hasPrefix("/grader") }?.lastContent.contains("Names the weakness.") == true)
            #expect(try run.directory.readRecords().first?.scores["model_graded"]?.explanation?.contains("GRADE: C") == true)
        }
    }

    @Test func streamingAssemblesContentAndToolCalls() async throws {
        try await ScriptedModelServer.withServer({ _ in
            .events([
                #"{"choices":[{"index":0,"delta":{"role":"assistant","content":"Hel"}}]}"#,
                #"{"choices":[{"index":0,"delta":{"content":"lo"}}]}"#,
                #"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_1","function":{"name":"bash","arguments":"{\"cmd\":"}}]}}]}"#,
                #"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"\"ls\"}"}}]}}]}"#,
                #"{"choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}"#,
                #"{"choices":[],"usage":{"prompt_tokens":5,"completion_tokens":6}}"#,
                "[DONE]",
            ])
        }) { server in
            try await ModelClient.withClient(maxConnections: 2) { client in
                let provider = client.provider(for: ModelConfiguration(api: .openAIChat, name: "m", baseURL: server.baseURL))
                let tool = ToolDefinition(name: "bash", description: "Run a command", parameters: .object(["type": .string("object")]))
                let output = try await provider.generate(ModelRequest(messages: [.user("hi")], tools: [tool], settings: GenerationSettings(stream: true)), timeout: .seconds(5))
                #expect(output.completion == "Hello")
                #expect(output.message.toolCalls == [ToolCall(id: "call_1", name: "bash", arguments: #"{"cmd":"ls"}"#)])
                #expect(output.stopReason == "tool_calls")
                #expect(output.usage == TokenUsage(inputTokens: 5, outputTokens: 6))
                let body = try #require(server.requests.first?.body)
                guard case .object(let fields) = body else { Issue.record("body is not an object"); return }
                #expect(fields["stream"] == .bool(true))
                guard case .array(let tools)? = fields["tools"] else { Issue.record("no tools sent"); return }
                #expect(tools.count == 1)
            }
        }
    }

    @Test func completionsAndAnthropicProvidersSpeakTheirAPIs() async throws {
        try await ScriptedModelServer.withServer({ request in
            request.path.hasSuffix("/completions") && !request.path.contains("chat")
                ? .ok(ModelReplies.completion(" B"))
                : .ok(ModelReplies.anthropic("Paris"))
        }) { server in
            try await ModelClient.withClient(maxConnections: 2) { client in
                let completions = client.provider(for: ModelConfiguration(api: .openAICompletions, name: "base", baseURL: server.baseURL))
                let output = try await completions.generate(ModelRequest(messages: [.system("Be brief."), .user("Question?\nAnswer:")]), timeout: .seconds(5))
                #expect(output.completion == " B")
                #expect(output.usage.totalTokens == 10)
                let anthropic = client.provider(for: ModelConfiguration(api: .anthropic, name: "claude", baseURL: "http://127.0.0.1:\(server.port)", apiKey: APIKey("ak")))
                let answer = try await anthropic.generate(ModelRequest(messages: [.system("Sys"), .user("Capital of France?")], settings: GenerationSettings(maxTokens: 50)), timeout: .seconds(5))
                #expect(answer.completion == "Paris")
                #expect(answer.stopReason == "end_turn")
                #expect(answer.usage == TokenUsage(inputTokens: 11, outputTokens: 4))
            }
            let prompt = server.requests[0]
            #expect(prompt.path == "/v1/completions")
            guard case .object(let fields) = prompt.body else { Issue.record("no body"); return }
            #expect(fields["prompt"] == .string("Be brief.\n\nQuestion?\nAnswer:"))
            let messages = server.requests[1]
            #expect(messages.path == "/v1/messages")
            #expect(messages.headers["x-api-key"] == "ak")
            #expect(messages.headers["anthropic-version"] == "2023-06-01")
            guard case .object(let body) = messages.body else { Issue.record("no body"); return }
            #expect(body["system"] == .string("Sys"))
            #expect(body["max_tokens"] == .number(50))
        }
    }
}
