import AirlockAPI
import AirlockCore
import ArgumentParser
import Foundation

// The program API from the command line: each command sends one request and prints the
// response's JSON, pretty and with sorted keys, on standard output.

extension OrganisationKind: ExpressibleByArgument {}
extension InfrastructureSector: ExpressibleByArgument {}
extension MemberRole: ExpressibleByArgument {}
extension ModelVersionState: ExpressibleByArgument {}
extension GrantPurpose: ExpressibleByArgument {}

struct LoginCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "login",
        abstract: "Sign in and print a session token as `export AIRLOCK_API_KEY=…`.",
        discussion: """
            The password comes from AIRLOCK_PASSWORD, else the first line of standard input (prompted for, \
            unechoed, at a terminal). To use the session in this shell: eval "$(airlock login --email you@example.org)"
            """)

    @OptionGroup var address: ProgramServerOptions

    @Option(help: "The user's email.")
    var email: String


    func run() async throws {
        try await runProgramCommand {
            let server = try address.serverURL()
            let fromEnvironment = ProcessInfo.processInfo.environment["AIRLOCK_PASSWORD"].flatMap { $0.isEmpty ? nil : $0 }
            guard let password = fromEnvironment ?? SecretInput.line(prompt: "Password for \(email): "), !password.isEmpty else {
                throw ProgramClientError(.invalidArguments, "no password: set AIRLOCK_PASSWORD or give it on standard input")
            }
            let response = try await ProgramClient.with(server: server, credential: nil, timeout: address.requestTimeout) {
                try await $0.post("sessions", SignIn(email: email, password: password))
            }
            guard let session = try? APIJSON.decoder.decode(SessionView.self, from: response) else {
                throw ProgramClientError(.badResponse, "the server's answer to sign-in is not a session")
            }
            print("export AIRLOCK_API_KEY=\(session.token)")
            print("# signed in to \(server) as \(email); the session expires at \(RFC3339.format(session.expiresAt))")
        }
    }
}

struct OrganisationCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "org", abstract: "The program's organisations and their users.",
        subcommands: [List.self, Create.self, Show.self, Users.self, AddUser.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List organisations.")
        @OptionGroup var access: ProgramAccessOptions
        @OptionGroup var page: ListPageOptions

        func run() async throws {
            try await runProgramCommand {
                ProgramJSON.print(try await access.withClient { try await $0.get("organisations", query: page.query) })
            }
        }
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create an organisation (program office admins).")
        @OptionGroup var access: ProgramAccessOptions
        @OptionGroup var idempotency: IdempotencyOptions

        @Argument(help: "The organisation's name.")
        var name: String

        @Option(help: "What it does in the program.")
        var kind: OrganisationKind

        @Option(help: "An infrastructure operator's sector.")
        var sector: InfrastructureSector?


        func run() async throws {
            try await runProgramCommand {
                let body = NewOrganisation(name: name, kind: kind, sector: sector)
                let key = idempotency.key
                ProgramJSON.print(try await access.withClient { try await $0.create("organisations", body, idempotencyKey: key) })
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show an organisation.")
        @OptionGroup var access: ProgramAccessOptions

        @Argument(help: "The organisation's id (org_…).")
        var id: String

        func run() async throws {
            try await runProgramCommand {
                ProgramJSON.print(try await access.withClient { try await $0.get(ProgramClient.path("organisations", id)) })
            }
        }
    }

    struct Users: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List an organisation's users.")
        @OptionGroup var access: ProgramAccessOptions
        @OptionGroup var page: ListPageOptions

        @Argument(help: "The organisation's id (org_…).")
        var organisation: String

        func run() async throws {
            try await runProgramCommand {
                ProgramJSON.print(try await access.withClient {
                    try await $0.get(ProgramClient.path("organisations", organisation, "users"), query: page.query)
                })
            }
        }
    }

    struct AddUser: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "add-user", abstract: "Add a user to an organisation (its admins, or the program office's).")
        @OptionGroup var access: ProgramAccessOptions
        @OptionGroup var idempotency: IdempotencyOptions

        @Argument(help: "The organisation's id (org_…).")
        var organisation: String

        @Option(help: "The user's email.")
        var email: String

        @Option(help: "The user's name.")
        var name: String

        @Option(help: "The user's role in the organisation.")
        var role: MemberRole

        @OptionGroup var password: PasswordInputOptions


        func run() async throws {
            try await runProgramCommand {
                let body = NewUser(email: email, name: name, role: role, password: try password.read(for: email))
                let key = idempotency.key
                ProgramJSON.print(try await access.withClient {
                    try await $0.create(ProgramClient.path("organisations", organisation, "users"), body, idempotencyKey: key)
                })
            }
        }
    }
}

struct CommitmentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "commitment", abstract: "A model developer's voluntary commitments to the program.",
        subcommands: [List.self, Create.self, Show.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the commitments you may see.")
        @OptionGroup var access: ProgramAccessOptions
        @OptionGroup var page: ListPageOptions

        func run() async throws {
            try await runProgramCommand {
                ProgramJSON.print(try await access.withClient { try await $0.get("commitments", query: page.query) })
            }
        }
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "File your organisation's commitment (developer admins).")
        @OptionGroup var access: ProgramAccessOptions
        @OptionGroup var idempotency: IdempotencyOptions

        @Option(help: ArgumentHelp("A text file with the terms as signed.", valueName: "file"))
        var termsFile: String

        @Option(help: ArgumentHelp("When it takes effect: \(ProgramDate.help).", valueName: "date"))
        var from: ProgramDate

        @Option(help: ArgumentHelp("When it ends, if it does: \(ProgramDate.help).", valueName: "date"))
        var until: ProgramDate?


        func run() async throws {
            try await runProgramCommand {
                let terms = try ProgramFiles.text(termsFile, option: "--terms-file")
                let body = NewCommitment(terms: terms, effectiveFrom: from.date, effectiveUntil: until?.date)
                let key = idempotency.key
                ProgramJSON.print(try await access.withClient { try await $0.create("commitments", body, idempotencyKey: key) })
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a commitment.")
        @OptionGroup var access: ProgramAccessOptions

        @Argument(help: "The commitment's id (cmt_…).")
        var id: String

        func run() async throws {
            try await runProgramCommand {
                ProgramJSON.print(try await access.withClient { try await $0.get(ProgramClient.path("commitments", id)) })
            }
        }
    }
}

struct ModelCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "model", abstract: "Covered models, their pre-release notices (versions) and the review's states.",
        subcommands: [
            List.self, Create.self, Show.self, Notice.self, Versions.self, Version.self, Move.self, Endpoint.self, Gateway.self,
        ])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the models you may see.")
        @OptionGroup var access: ProgramAccessOptions
        @OptionGroup var page: ListPageOptions

        func run() async throws {
            try await runProgramCommand {
                ProgramJSON.print(try await access.withClient { try await $0.get("models", query: page.query) })
            }
        }
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Register a covered model (model developers).")
        @OptionGroup var access: ProgramAccessOptions
        @OptionGroup var idempotency: IdempotencyOptions

        @Argument(help: "The model's name.")
        var name: String

        @Option(help: "What the model is.")
        var description: String?


        func run() async throws {
            try await runProgramCommand {
                let body = NewModel(name: name, description: description)
                let key = idempotency.key
                ProgramJSON.print(try await access.withClient { try await $0.create("models", body, idempotencyKey: key) })
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a model.")
        @OptionGroup var access: ProgramAccessOptions

        @Argument(help: "The model's id (mdl_…).")
        var id: String

        func run() async throws {
            try await runProgramCommand {
                ProgramJSON.print(try await access.withClient { try await $0.get(ProgramClient.path("models", id)) })
            }
        }
    }

    struct Notice: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "File a pre-release notice: a new version of a model, planned for release.",
            discussion: "Endpoint credentials are read from the environment variable --credentials-env names, never from the command line.")
        @OptionGroup var access: ProgramAccessOptions
        @OptionGroup var idempotency: IdempotencyOptions

        @Argument(help: "The model's id (mdl_…).")
        var model: String

        @Option(help: "The version's name.")
        var version: String

        @Option(help: ArgumentHelp("The planned public release: \(ProgramDate.help).", valueName: "date"))
        var release: ProgramDate

        @Option(help: ArgumentHelp("A capability of note (repeat for more).", valueName: "capability"))
        var capability: [String] = []

        @Option(help: ArgumentHelp("A file with the model card.", valueName: "file"))
        var modelCardFile: String?

        @Option(help: ArgumentHelp("Where reviewers reach the model (an OpenAI-compatible base URL).", valueName: "url"))
        var endpointUrl: String?

        @Option(help: ArgumentHelp("The model name to ask the endpoint for.", valueName: "name"))
        var endpointModel: String?

        @Option(help: ArgumentHelp("An environment variable holding the endpoint's credentials.", valueName: "var"))
        var credentialsEnv: String?


        func run() async throws {
            try await runProgramCommand {
                let body = NewVersion(
                    version: version, plannedReleaseAt: release.date, capabilities: capability,
                    modelCard: try modelCardFile.map { try ProgramFiles.text($0, option: "--model-card-file") },
                    endpointUrl: endpointUrl, endpointModel: endpointModel,
                    endpointCredentials: try credentialsEnv.map { try SecretInput.environment($0, for: "--credentials-env") })
                let key = idempotency.key
                ProgramJSON.print(try await access.withClient {
                    try await $0.create(ProgramClient.path("models", model, "versions"), body, idempotencyKey: key)
                })
            }
        }
    }

    struct Versions: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List a model's versions.")
        @OptionGroup var access: ProgramAccessOptions
        @OptionGroup var page: ListPageOptions

        @Argument(help: "The model's id (mdl_…).")
        var model: String

        func run() async throws {
            try await runProgramCommand {
                ProgramJSON.print(try await access.withClient {
                    try await $0.get(ProgramClient.path("models", model, "versions"), query: page.query)
                })
            }
        }
    }

    struct Version: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a model version.")
        @OptionGroup var access: ProgramAccessOptions

        @Argument(help: "The version's id (ver_…).")
        var id: String

        func run() async throws {
            try await runProgramCommand {
                ProgramJSON.print(try await access.withClient { try await $0.get(ProgramClient.path("versions", id)) })
            }
        }
    }

    struct Move: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Move a version to another review state.",
            discussion: "The program office moves versions to in_review and assessed; the developer releases; either withdraws.")
        @OptionGroup var access: ProgramAccessOptions

        @Argument(help: "The version's id (ver_…).")
        var id: String

        @Option(help: "The state to move to.")
        var to: ModelVersionState

        @Option(help: "Why, for the audit log.")
        var reason: String?


        func run() async throws {
            try await runProgramCommand {
                let body = TransitionRequest(to: to, reason: reason)
                ProgramJSON.print(try await access.withClient {
                    try await $0.post(ProgramClient.path("versions", id, "transitions"), body)
                })
            }
        }
    }

    struct Gateway: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Open or close a version at the access gateway: the kill switch (developer or office admins).",
            discussion: "Closing cuts every grantee off at the next request and ends open streams.")
        @OptionGroup var access: ProgramAccessOptions

        @Argument(help: "The version's id (ver_…).")
        var id: String

        @Flag(exclusivity: .exclusive, help: "Close the version to every grant, or open it again.")
        var state: GatewayState

        @Option(help: "A purpose the gateway lets through (repeat; default: all).")
        var purpose: [GrantPurpose] = []

        @Option(help: "Why, for the audit log.")
        var reason: String?

        enum GatewayState: String, EnumerableFlag { case close, open }


        func run() async throws {
            try await runProgramCommand {
                let body = GatewaySetting(open: state == .open, purposes: purpose.isEmpty ? nil : purpose, reason: reason)
                ProgramJSON.print(try await access.withClient { try await $0.put(ProgramClient.path("versions", id, "gateway"), body) })
            }
        }
    }

    struct Endpoint: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Set where reviewers reach a version (the developer).",
            discussion: "Replaces the URL and model name. Credentials are kept unless --credentials-env or --remove-credentials is given.")
        @OptionGroup var access: ProgramAccessOptions

        @Argument(help: "The version's id (ver_…).")
        var id: String

        @Option(help: "The endpoint's base URL.")
        var url: String

        @Option(help: "The model name to ask the endpoint for.")
        var model: String?

        @Option(help: ArgumentHelp("An environment variable holding new credentials.", valueName: "var"))
        var credentialsEnv: String?

        @Flag(help: "Remove the stored credentials.")
        var removeCredentials = false


        func validate() throws {
            if credentialsEnv != nil, removeCredentials {
                throw ValidationError("give --credentials-env or --remove-credentials, not both")
            }
        }

        func run() async throws {
            try await runProgramCommand {
                var credentials = try credentialsEnv.map { try SecretInput.environment($0, for: "--credentials-env") }
                if removeCredentials { credentials = "" }
                let body = EndpointChange(endpointUrl: url, endpointModel: model, endpointCredentials: credentials)
                ProgramJSON.print(try await access.withClient { try await $0.put(ProgramClient.path("versions", id, "endpoint"), body) })
            }
        }
    }
}

/// Text files a command sends.
enum ProgramFiles {
    static func text(_ path: String, option: String) throws(ProgramClientError) -> String {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ProgramClientError(.invalidArguments, "\(option) \(path): cannot read the file")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ProgramClientError(.invalidArguments, "\(option) \(path): the file is not UTF-8 text")
        }
        return text
    }
}
