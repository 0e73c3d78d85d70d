import AirlockEval
import ArgumentParser
import Foundation

struct RangeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "range",
        abstract: "Work with the cyber range's challenges.",
        subcommands: [Verify.self]
    )

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Replay challenges' reference solvers in sandboxes: each must find its attempt's fresh flag.",
            discussion: "Needs root, bubblewrap and iproute2 (docs/range.md)."
        )

        @Option(help: "The folder of challenges.")
        var challenges: String = "battery/ctf"

        @Argument(help: "Challenge names (default: all).")
        var names: [String] = []

        @OptionGroup var logging: LoggingOptions

        func run() async throws {
            let logger = logging.makeLogger("airlock.range")
            do {
                var selected = try Challenge.loadAll(root: challenges)
                if !names.isEmpty {
                    if let unknown = names.first(where: { name in !selected.contains { $0.manifest.name == name } }) {
                        throw EvalError(.invalidArguments, "no challenge '\(unknown)' in \(challenges)")
                    }
                    selected = selected.filter { names.contains($0.manifest.name) }
                }
                var failed = 0
                for challenge in selected {
                    let (solved, output) = try await Sandbox.withSandbox(logger: logger) { try await challenge.verify(in: $0) }
                    print("\(solved ? "PASS" : "FAIL")  \(challenge.manifest.name)  (\(challenge.manifest.category), tier \(challenge.manifest.tier))")
                    if !solved {
                        failed += 1
                        print(String(output.errorOutput.suffix(600)))
                    }
                }
                print("\(selected.count - failed) of \(selected.count) challenges solved by their reference solvers")
                if failed > 0 { throw ExitCode(1) }
            } catch let code as ExitCode {
                throw code
            } catch {
                throw fail(error)
            }
        }
    }
}
