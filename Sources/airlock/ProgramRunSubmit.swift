import AirlockAPI
import AirlockCore
import AirlockEval
import ArgumentParser
import Crypto
import Foundation

extension RunsCommand {
    struct Submit: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Submit a task to be run by the program's workers, under your grant on a model version.",
            discussion: """
                Packs the task with its dataset and challenges into one bundle (named by its SHA-256), \
                uploads it, and submits the run with every attempt (sample × epoch) the task plans. \
                Every call to the model goes through the access gateway under the grant, and each \
                sample's record is kept on the server with the ids of the calls that produced it.
                """)

        @Argument(help: "The task file.")
        var task: String

        @Option(help: ArgumentHelp("The model version to run it on (ver_…).", valueName: "id"))
        var version: String

        @Option(help: ArgumentHelp("Your organisation's grant on that version (grt_…).", valueName: "id"))
        var grant: String

        @Option(help: "The workers' pool that takes it.")
        var pool: String = "default"

        @Option(help: "The seed of sample order and choices.")
        var seed: UInt64 = 42

        @Flag(help: "The model is a base model: call it through /v1/completions.")
        var completions = false

        @Option(help: "The run's name (default: the task's).")
        var name: String?

        @Flag(help: "Follow the run until it ends; exit 1 unless it finished.")
        var watch = false

        @OptionGroup var access: ProgramAccessOptions
        @OptionGroup var idempotency: IdempotencyOptions

        func run() async throws {
            try await runProgramCommand {
                let (files, taskPath) = try TaskBundle.files(taskPath: task)
                let bundle = try RunBundle.pack(files.map { RunBundle.File(path: $0.key, contents: $0.value) })
                let digest = Hex.string(SHA256.hash(data: bundle))
                let keys = try AttemptRunner.plannedKeys(taskPath: task, options: runPlanningOptions(seed: seed, completions: completions))
                let taskName = try TaskFile.load(path: task).definition.name
                let body = NewRun(
                    kind: "eval", name: name ?? taskName,
                    execution: NewRunExecution(
                        bundleDigest: digest, taskPath: taskPath, grantId: grant, pool: pool,
                        attempts: keys.map { PlannedAttempt(sampleId: $0.sampleID, epoch: $0.epoch) }, seed: seed, completions: completions))
                let key = idempotency.key
                let ended = try await access.withClient { client -> RunState? in
                    _ = try await client.put(ProgramClient.path("bundles", digest), bytes: bundle, contentType: "application/octet-stream")
                    let data = try await client.create(ProgramClient.path("versions", version, "runs"), body, idempotencyKey: key)
                    guard watch else {
                        ProgramJSON.print(data)
                        return nil
                    }
                    let run = try APIJSON.decoder.decode(StoredRun.self, from: data)
                    print("run \(run.id): \(keys.count) attempts, bundle \(digest.prefix(12)) (\(bundle.count) bytes)")
                    return try await Watch.follow(run.id, client)
                }
                if let ended, ended != .finished { throw ExitCode(1) }
            }
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

        /// Prints each progress event of the run's stream (and each attempt's, with `attempts`),
        /// then the results of a run that finished or failed; the state it ended in.
        static func follow(_ run: String, _ client: ProgramClient, attempts: Bool = false) async throws -> RunState? {
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
