import AirlockEval
import ArgumentParser
import Foundation
import Logging

@main
struct Airlock: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "airlock",
        abstract: "Pre-release security review of frontier AI models.",
        version: AirlockVersion.current,
        subcommands: [
            EvalCommand.self, AssessCommand.self, RunsCommand.self, ExportCommand.self, RangeCommand.self, DataCommand.self,
            LocalModelCommand.self, ServeCommand.self, WorkerCommand.self, GatewayCommand.self, DatabaseCommand.self, AuditCommand.self, LoginCommand.self, OrganisationCommand.self, CommitmentCommand.self, ModelCommand.self, GrantCommand.self,
            FindingCommand.self, CaseCommand.self,
        ]
    )
}

/// Options every command that writes logs shares.
struct LoggingOptions: ParsableArguments {
    @Option(name: .long, help: "Diagnostic log level on standard error: trace, debug, info, notice, warning, error.")
    var logLevel: Logger.Level = .warning

    func makeLogger(_ label: String) -> Logger {
        var logger = Logger(label: label) { StreamLogHandler.standardError(label: $0) }
        logger.logLevel = logLevel
        return logger
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}

/// Prints an error the way a person reads it, and exits non-zero.
func fail(_ error: any Error) -> ExitCode {
    FileHandle.standardError.write(Data("error: \(error)\n".utf8))
    return ExitCode(2)
}
