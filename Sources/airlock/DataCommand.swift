import AirlockEval
import AirlockSuites
import ArgumentParser
import Foundation

struct DataCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "data",
        abstract: "Third-party benchmark data: convert the pinned packages into Airlock's item files.",
        subcommands: [Import.self]
    )

    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Convert the installed data packages (`make data`) into item files and challenge folders.",
            discussion: "Reads only the data folder (AIRLOCK_DATA, default .airlock/data); nothing is downloaded."
        )

        @Option(help: "The data folder (default: AIRLOCK_DATA or .airlock/data).")
        var dataDir: String?

        @Argument(help: "Importers to run (default: all).")
        var importers: [String] = []

        @OptionGroup var logging: LoggingOptions

        func run() async throws {
            let logger = logging.makeLogger("airlock.data")
            do {
                let folder = dataDir.map(DataFolder.init(root:)) ?? .default
                for summary in try SuiteImporters.run(importers, in: folder, logger: logger) {
                    print("\(summary.importer): \(summary.count) from \(summary.sources.joined(separator: ", ")) -> \(summary.outputs.joined(separator: ", "))")
                    if !summary.skipped.isEmpty { print("  left out \(summary.skipped.count): \(summary.skipped.prefix(5).joined(separator: "; "))\(summary.skipped.count > 5 ? "; ..." : "")") }
                }
            } catch {
                throw fail(error)
            }
        }
    }
}
