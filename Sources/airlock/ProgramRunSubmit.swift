import AirlockAPI
import AirlockCore
import AirlockEval
import AirlockSuites
import ArgumentParser
import Crypto
import Foundation

extension RunsCommand {
    struct Submit: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Submit a task or an assessment to be run by the program's workers, under your grant on a model version.",
            discussion: """
                Packs the task with its dataset and challenges (or an assessment policy with the \
                tasks of its suites) into one bundle named by its SHA-256, uploads it, and submits \
                the run with every attempt (sample × epoch) the task plans. Every call to the model \
                under test goes through the access gateway under the grant, and each sample's \
                record is kept on the server with the ids of the calls that produced it. An \
                assessment is a run of its own with a run per suite; the server builds its report \
                and levels when the last suite ends. A role's model (--model-role grader=…) is \
                reached at its base URL with its key (from OPENAI_API_KEY or ANTHROPIC_API_KEY), \
                which the server keeps sealed and shows only to the run's workers.
                """)

        @Argument(help: "The task file (or --policy).")
        var task: String?

        @Option(help: "An assessment policy (battery/standard.yaml): its suites are run instead of a task.")
        var policy: String?

        @Flag(help: "With --policy: each suite's quick part only.")
        var quick = false

        @Option(help: ArgumentHelp("The model version to run it on (ver_…).", valueName: "id"))
        var version: String

        @Option(help: ArgumentHelp("Your organisation's grant on that version (grt_…).", valueName: "id"))
        var grant: String

        @Option(help: "The workers' pool that takes it.")
        var pool: String = "default"

        @Option(help: "The seed of sample order and choices.")
        var seed: UInt64 = 42

        @Option(help: "Epochs per sample (default: the task's).")
        var epochs: Int?

        @Option(help: "Run the task's first N samples only.")
        var limit: Int?

        @Option(name: .customLong("model-role"), help: "Bind a role to a model: ROLE=provider/name (repeatable), e.g. grader=openai/gpt-4o.")
        var modelRoles: [String] = []

        @Flag(help: "The model is a base model: call it through /v1/completions.")
        var completions = false

        @Option(help: "The run's name (default: the task's or the policy's).")
        var name: String?

        @Flag(help: "Follow the run until it ends; exit 1 unless it finished.")
        var watch = false

        @OptionGroup var access: ProgramAccessOptions
        @OptionGroup var idempotency: IdempotencyOptions

        func validate() throws {
            guard (task == nil) != (policy == nil) else { throw ValidationError("give a task file or --policy, not both") }
            if quick && policy == nil { throw ValidationError("--quick goes with --policy") }
            if policy != nil && (epochs != nil || limit != nil) { throw ValidationError("a policy sets each suite's epochs and limit") }
            for binding in modelRoles where !binding.contains("=") {
                throw ValidationError("--model-role takes ROLE=provider/name, got '\(binding)'")
            }
        }

        func run() async throws {
            try await runProgramCommand {
                let roles = try roleEndpoints(environment: ProcessInfo.processInfo.environment)
                let (body, bundle, planned) = try policy.map { try assessmentRun($0, roles: roles) } ?? evalRun(task ?? "", roles: roles)
                let digest = body.execution?.bundleDigest ?? ""
                let key = idempotency.key
                let ended = try await access.withClient { client -> RunState? in
                    _ = try await client.put(ProgramClient.path("bundles", digest), bytes: bundle, contentType: "application/octet-stream")
                    let data = try await client.create(ProgramClient.path("versions", version, "runs"), body, idempotencyKey: key)
                    guard watch else {
                        ProgramJSON.print(data)
                        return nil
                    }
                    let run = try APIJSON.decoder.decode(StoredRun.self, from: data)
                    print("run \(run.id): \(planned) attempts, bundle \(digest.prefix(12)) (\(bundle.count) bytes)")
                    return try await Watch.follow(run.id, client)
                }
                if let ended, ended != .finished { throw ExitCode(1) }
            }
        }

        /// The roles' models as the run names them, resolved here as `airlock eval` resolves
        /// them (base URL and key from the flags' provider's variables).
        func roleEndpoints(environment: [String: String]) throws -> [String: RoleEndpoint] {
            var roles: [String: RoleEndpoint] = [:]
            for binding in modelRoles {
                let parts = binding.split(separator: "=", maxSplits: 1).map(String.init)
                let model = try ModelConfiguration.resolve(parts[1], environment: environment)
                roles[parts[0]] = RoleEndpoint(model: model.modelName, baseUrl: model.baseURL, apiKey: model.apiKey?.value)
            }
            return roles
        }

        func execution(_ roles: [String: RoleEndpoint], epochs: Int?, limit: Int?, maxTokens: Int?) -> RunExecution {
            RunExecution(
                bundleDigest: "", taskPath: "", grantId: grant, pool: pool, plannedAttempts: 0, seed: seed, completions: completions,
                roles: roles.mapValues { RunRole(model: $0.model, baseUrl: $0.baseUrl, keyed: $0.apiKey != nil) }, epochs: epochs, limit: limit,
                maxTokens: maxTokens)
        }

        func evalRun(_ task: String, roles: [String: RoleEndpoint]) throws -> (NewRun, Data, Int) {
            let (files, taskPath) = try TaskBundle.files(taskPath: task)
            let bundle = try RunBundle.pack(files.map { RunBundle.File(path: $0.key, contents: $0.value) })
            let keys = try AttemptRunner.plannedKeys(taskPath: task, options: runPlanningOptions(execution(roles, epochs: epochs, limit: limit, maxTokens: nil)))
            let body = NewRun(
                kind: "eval", name: try name ?? TaskFile.load(path: task).definition.name,
                execution: NewRunExecution(
                    bundleDigest: Hex.string(SHA256.hash(data: bundle)), taskPath: taskPath, grantId: grant, pool: pool,
                    attempts: keys.map { PlannedAttempt(sampleId: $0.sampleID, epoch: $0.epoch) }, seed: seed, completions: completions,
                    roles: roles.isEmpty ? nil : roles, epochs: epochs, limit: limit))
            return (body, bundle, keys.count)
        }

        /// An assessment planned as `airlock assess` plans it, for the workers (they have
        /// sandboxes), with a run per suite that runs.
        func assessmentRun(_ path: String, roles: [String: RoleEndpoint]) throws -> (NewRun, Data, Int) {
            let policy = try PolicyFile.load(path: path)
            let placeholder = try runPlanningOptions(execution(roles, epochs: nil, limit: nil, maxTokens: nil))
            let plan = AssessmentRunner.plan(
                policy: policy, options: AssessmentOptions(model: placeholder.model, roles: placeholder.roles, quick: quick, seed: seed, sandboxAvailable: true))
            let running = plan.suites.filter { $0.status != .notRun }
            guard !running.isEmpty else { throw EvalError(.invalidPolicy, "none of the policy's suites can run: \(plan.suites.compactMap(\.reason).joined(separator: "; "))", file: path) }
            let (files, taskPaths) = try TaskBundle.files(taskPaths: running.map(\.task), under: policy.folder, extra: [policy.path])
            let bundle = try RunBundle.pack(files.map { RunBundle.File(path: $0.key, contents: $0.value) })
            var suites: [NewRunSuite] = []
            for suite in running {
                let maxTokens = quick ? policy.policy.suite(suite.id)?.quick?.maxTokens : nil
                let options = try runPlanningOptions(execution(roles, epochs: suite.epochs, limit: suite.limit, maxTokens: maxTokens))
                let keys = try AttemptRunner.plannedKeys(taskPath: suite.task, options: options)
                suites.append(
                    NewRunSuite(
                        suite: suite.id, taskPath: taskPaths[suite.task] ?? suite.task,
                        attempts: keys.map { PlannedAttempt(sampleId: $0.sampleID, epoch: $0.epoch) }, epochs: suite.epochs, limit: suite.limit,
                        maxTokens: maxTokens))
            }
            let body = NewRun(
                kind: "assessment", name: name ?? policy.policy.name, summary: try JSONDecoder().decode(JSONValue.self, from: JSONEncoder().encode(plan)),
                execution: NewRunExecution(
                    bundleDigest: Hex.string(SHA256.hash(data: bundle)), taskPath: URL(fileURLWithPath: policy.path).lastPathComponent,
                    grantId: grant, pool: pool, attempts: [], seed: seed, completions: completions, roles: roles.isEmpty ? nil : roles, suites: suites))
            return (body, bundle, suites.reduce(0) { $0 + $1.attempts.count })
        }
    }

    struct Cancel: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Cancel a queued or running run: its waiting attempts leave the queue, and workers end the ones they hold.")

        @Argument(help: "The run (run_…).")
        var run: String

        @OptionGroup var access: ProgramAccessOptions

        func run() async throws {
            try await RunsCommand.move(run, "cancellation", access)
        }
    }

    struct Resume: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Queue a failed or cancelled run again: only its attempts without a result run.")

        @Argument(help: "The run (run_…).")
        var run: String

        @OptionGroup var access: ProgramAccessOptions

        func run() async throws {
            try await RunsCommand.move(run, "resumption", access)
        }
    }

    /// Posts a run's cancellation or resumption and prints the run after it.
    static func move(_ run: String, _ noun: String, _ access: ProgramAccessOptions) async throws {
        try await runProgramCommand {
            ProgramJSON.print(try await access.withClient { try await $0.post(ProgramClient.path("runs", run, noun), EmptyBody()) })
        }
    }

    struct Get: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print a run of the program server as JSON: its state, its execution and, once it ended, its results.")

        @Argument(help: "The run (run_…).")
        var run: String

        @OptionGroup var access: ProgramAccessOptions

        func run() async throws {
            try await runProgramCommand {
                ProgramJSON.print(try await access.withClient { try await $0.get(ProgramClient.path("runs", run)) })
            }
        }
    }

    struct Attempts: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List a run's kept results by sample and epoch, or print one attempt's record.")

        @Argument(help: "The run (run_…).")
        var run: String

        @Option(help: "One sample's attempt (with --epoch): its whole record.")
        var sample: String?

        @Option(help: "The epoch of --sample.")
        var epoch: Int = 1

        @OptionGroup var page: ListPageOptions
        @OptionGroup var access: ProgramAccessOptions

        func run() async throws {
            try await runProgramCommand {
                let query = sample.map { [("sample_id", $0), ("epoch", String(epoch))] } ?? page.query
                ProgramJSON.print(try await access.withClient { try await $0.get(ProgramClient.path("runs", run, "attempts"), query: query) })
            }
        }
    }

    struct Watch: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Follow a run's progress until it ends; exit 1 unless it finished.")

        @Argument(help: "The run (run_…).")
        var run: String

        @Flag(help: "Also print each attempt's result as it is kept, from the first.")
        var attempts = false

        @OptionGroup var access: ProgramAccessOptions

        func run() async throws {
            try await runProgramCommand {
                let ended = try await access.withClient { try await Self.follow(run, $0, attempts: attempts) }
                if ended != .finished { throw ExitCode(1) }
            }
        }

        /// Prints an ended run's results, a line per scorer. The server builds them just after
        /// the run's last result, so they may come a moment after the end.
        static func printResults(_ run: String, _ client: ProgramClient) async throws {
            for _ in 0..<40 {
                let stored = try APIJSON.decoder.decode(StoredRun.self, from: try await client.get(ProgramClient.path("runs", run)))
                if case .object(let summary) = stored.summary, !summary.isEmpty,
                    let results = try? JSONDecoder().decode(RunResults.self, from: JSONEncoder().encode(stored.summary))
                {
                    func figure(_ value: Double) -> String { String(format: "%.3f", value) }
                    for scorer in results.scorers {
                        let overall = scorer.overall
                        print(
                            "\(scorer.name): \(overall.name) \(figure(overall.value)) (stderr \(figure(overall.standardError)), "
                                + "interval \(figure(overall.lower)) to \(figure(overall.upper)), n \(overall.count))")
                    }
                    return
                }
                try await Task.sleep(for: .milliseconds(250))
            }
            print("results: not built yet (the server logs why)")
        }

        /// Follows an assessment: each suite's run in turn (they run at once), then its report,
        /// which the server builds when the last suite ends.
        static func followAssessment(_ assessment: StoredRun, _ client: ProgramClient, attempts: Bool) async throws -> RunState? {
            for (suite, run) in (assessment.execution?.suites ?? [:]).sorted(by: { $0.key < $1.key }) {
                print("suite \(suite) (run \(run)):")
                _ = try await follow(run, client, attempts: attempts)
            }
            for _ in 0..<120 {
                let stored = try APIJSON.decoder.decode(StoredRun.self, from: try await client.get(ProgramClient.path("runs", assessment.id)))
                guard let state = stored.state, !state.isActive else {
                    try await Task.sleep(for: .milliseconds(250))
                    continue
                }
                if let report = try? JSONDecoder().decode(Assessment.self, from: JSONEncoder().encode(stored.summary)) { printVerdicts(report) }
                print("assessment \(state.rawValue)")
                return state
            }
            print("assessment: not ended yet (the server logs why)")
            return nil
        }

        /// Prints each progress event of the run's stream (and each attempt's, with `attempts`),
        /// then the results of a run that finished or failed; the state it ended in.
        static func follow(_ run: String, _ client: ProgramClient, attempts: Bool = false) async throws -> RunState? {
            let stored = try APIJSON.decoder.decode(StoredRun.self, from: try await client.get(ProgramClient.path("runs", run)))
            if stored.kind == "assessment" { return try await followAssessment(stored, client, attempts: attempts) }
            var last: RunState?
            try await client.events(ProgramClient.path("runs", run, "events")) { name, data in
                if attempts, name == "attempt", let attempt = try? APIJSON.decoder.decode(AttemptView.self, from: Data(data.utf8)) {
                    print("attempt \(attempt.sampleId) epoch \(attempt.epoch): \(attempt.status) by \(attempt.worker)")
                }
                guard name == "progress", let progress = try? APIJSON.decoder.decode(Progress.self, from: Data(data.utf8)) else { return }
                last = progress.state
                let failed = progress.failed > 0 ? ", \(progress.failed) failed" : ""
                print("\(progress.state.rawValue): \(progress.done)/\(progress.planned) attempts\(failed)")
            }
            if last == .finished || last == .failed { try await printResults(run, client) }
            return last
        }

        struct Progress: Decodable {
            var state: RunState
            var done: Int
            var failed: Int
            var planned: Int
        }
    }
}
