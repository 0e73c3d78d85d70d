import AirlockAPI
import AirlockCore
import ArgumentParser
import Foundation

struct GrantCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "grant",
        abstract: "Access grants to model versions: created by the program office, approved, consented to by the developer.",
        subcommands: [List.self, Create.self, Show.self, Approve.self, Consent.self, Revoke.self, Key.self, Keys.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the grants you may see.")
        @OptionGroup var access: ProgramAccessOptions
        @OptionGroup var page: ListPageOptions

        @Option(help: ArgumentHelp("Only grants to this version (ver_…).", valueName: "id"))
        var version: String?

        func run() async throws {
            try await runProgramCommand {
                let query = (version.map { [("version_id", $0)] } ?? []) + page.query
                ProgramJSON.print(try await access.withClient { try await $0.get("grants", query: query) })
            }
        }
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Grant an organisation access to a version (the program office).",
            discussion: "The grant is pending until the office approves and the developer consents.")
        @OptionGroup var access: ProgramAccessOptions
        @OptionGroup var idempotency: IdempotencyOptions

        @Option(help: ArgumentHelp("The version (ver_…).", valueName: "id"))
        var version: String

        @Option(help: ArgumentHelp("The organisation given access (org_…).", valueName: "id"))
        var grantee: String

        @Option(help: "What the access is for.")
        var purpose: GrantPurpose

        @Option(help: ArgumentHelp("When access starts: \(ProgramDate.help).", valueName: "date"))
        var from: ProgramDate

        @Option(help: ArgumentHelp("When access ends: \(ProgramDate.help).", valueName: "date"))
        var until: ProgramDate

        @Option(help: "The most tokens the grantee may use.")
        var tokens: Int64

        @Option(help: "The most requests a minute.")
        var rpm: Int

        @Option(help: "The most tokens a minute at the gateway (default: only the quota limits them).")
        var tpm: Int64?

        @Option(help: "The most calls at once at the gateway (default 4).")
        var concurrent: Int?

        @Flag(help: "Keep each call's content, sealed at rest.")
        var recordContent = false


        func run() async throws {
            try await runProgramCommand {
                let body = NewGrant(
                    versionId: version, granteeId: grantee, purpose: purpose, startsAt: from.date, endsAt: until.date,
                    tokenQuota: tokens, requestsPerMinute: rpm, tokensPerMinute: tpm, maxConcurrent: concurrent,
                    recordContent: recordContent)
                let key = idempotency.key
                ProgramJSON.print(try await access.withClient { try await $0.create("grants", body, idempotencyKey: key) })
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a grant and its status.")
        @OptionGroup var access: ProgramAccessOptions

        @Argument(help: "The grant's id (grt_…).")
        var id: String

        func run() async throws {
            try await runProgramCommand {
                ProgramJSON.print(try await access.withClient { try await $0.get(ProgramClient.path("grants", id)) })
            }
        }
    }

    /// Approval, consent or revocation: one decision on a grant.
    struct Decision: ParsableArguments {
        @OptionGroup var access: ProgramAccessOptions

        @Argument(help: "The grant's id (grt_…).")
        var id: String

        @Option(help: "Why, for the audit log.")
        var reason: String?


        func send(_ resource: String) async throws {
            try await runProgramCommand {
                let body = GrantDecision(reason: reason)
                ProgramJSON.print(try await access.withClient { try await $0.post(ProgramClient.path("grants", id, resource), body) })
            }
        }
    }

    struct Approve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Approve a grant (program office admins).")
        @OptionGroup var decision: Decision

        func run() async throws { try await decision.send("approval") }
    }

    struct Consent: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Consent to a grant to your model (developer admins).")
        @OptionGroup var decision: Decision

        func run() async throws { try await decision.send("consent") }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Revoke a grant at once, with its keys (program office or developer admins).")
        @OptionGroup var decision: Decision

        func run() async throws { try await decision.send("revocation") }
    }

    struct Key: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Issue a gateway key for an active grant (grantee admins).",
            discussion: "The response carries the key's secret, shown this once and never again.")
        @OptionGroup var access: ProgramAccessOptions
        @OptionGroup var idempotency: IdempotencyOptions

        @Argument(help: "The grant's id (grt_…).")
        var grant: String

        @Option(help: "A name for the key.")
        var name: String

        @Option(help: ArgumentHelp("When the key stops working (at the latest the grant's end): \(ProgramDate.help).", valueName: "date"))
        var expires: ProgramDate?


        func run() async throws {
            try await runProgramCommand {
                let body = NewKey(name: name, expiresAt: expires?.date)
                let key = idempotency.key
                ProgramJSON.print(try await access.withClient {
                    try await $0.create(ProgramClient.path("grants", grant, "keys"), body, idempotencyKey: key)
                })
            }
        }
    }

    struct Keys: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List a grant's gateway keys (without their secrets).")
        @OptionGroup var access: ProgramAccessOptions

        @Argument(help: "The grant's id (grt_…).")
        var grant: String

        func run() async throws {
            try await runProgramCommand {
                ProgramJSON.print(try await access.withClient { try await $0.get(ProgramClient.path("grants", grant, "keys")) })
            }
        }
    }
}
