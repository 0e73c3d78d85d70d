import AirlockAPI
import AirlockCore
import ArgumentParser
import Foundation

// Findings and coordinated disclosure from the command line (docs/sharing.md): each command sends
// one request and prints the response's JSON, pretty and with sorted keys, on standard output.

extension FindingKind: ExpressibleByArgument {}
extension FindingOrigin: ExpressibleByArgument {}
extension CaseRole: ExpressibleByArgument {}

struct FindingCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "finding", abstract: "Security findings on model versions: filed, scored by the server, merged when duplicates.",
        subcommands: [File.self, List.self, Show.self, Merge.self])

    struct File: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "File a finding on a model version you have a relation to.",
            discussion: """
                Products are `key=value` pairs separated by `;`: vendor, name, versions (comma-separated), and \
                optionally fixed, cpe, purl and org (the vendor's organisation id), e.g. \
                --product 'vendor=Acme;name=Ledger;versions=4.2,4.3;org=org_…'. The server computes the CVSS scores; \
                a vector that does not parse is refused naming the metric. With --body, a JSON file is sent as the whole request.
                """)
        @OptionGroup var access: ProgramAccessOptions
        @OptionGroup var idempotency: IdempotencyOptions

        @Option(help: ArgumentHelp("A JSON file with the whole request body (the other options are then not used).", valueName: "file"))
        var body: String?

        @Option(help: ArgumentHelp("The model version that found or exhibits it (ver_…).", valueName: "id"))
        var version: String?

        @Option(help: "third_party_vulnerability, ai_system_weakness or dangerous_capability.")
        var kind: FindingKind?

        @Option(help: "assessment_run or filed (default: assessment_run when the evidence links a run and a transcript).")
        var origin: FindingOrigin?

        @Option(help: "A one-line title.")
        var title: String?

        @Option(help: "What the flaw is and what it allows.")
        var description: String?

        @Option(help: ArgumentHelp("An affected product (repeat for more; see above).", valueName: "product"))
        var product: [String] = []

        @Option(name: .customLong("cvss-v3-1"), help: ArgumentHelp("A CVSS 3.1 vector (CVSS:3.1/AV:N/…).", valueName: "vector"))
        var cvss31: String?

        @Option(name: .customLong("cvss-v4-0"), help: ArgumentHelp("A CVSS 4.0 vector (CVSS:4.0/AV:N/…).", valueName: "vector"))
        var cvss40: String?

        @Option(help: ArgumentHelp("What was observed (repeat for more).", valueName: "text"))
        var evidence: [String] = []

        @Option(help: ArgumentHelp("The run that shows it (run_…); linked from the first evidence.", valueName: "id"))
        var run: String?

        @Option(help: ArgumentHelp("The sample within the run.", valueName: "id"))
        var sample: String?

        @Option(help: "The sample's epoch.")
        var epoch: Int?

        @Option(help: ArgumentHelp("The transcript, relative to the run's folder (evidence/…).", valueName: "path"))
        var transcript: String?

        @Option(help: "TLP 2.0 marking: TLP:CLEAR, TLP:GREEN, TLP:AMBER (default), TLP:AMBER+STRICT or TLP:RED.")
        var tlp: String?

        @Option(help: ArgumentHelp("The weakness (CWE-79); give its catalog name with --cwe-name.", valueName: "id"))
        var cwe: String?

        @Option(help: ArgumentHelp("The CWE catalog's name for --cwe.", valueName: "name"))
        var cweName: String?

        @Option(help: ArgumentHelp("The CVE id, once assigned.", valueName: "id"))
        var cve: String?

        @Option(help: "A workaround or mitigation until a fix is out.")
        var remediation: String?





        /// `vendor=…;name=…;versions=a,b;fixed=…;cpe=…;purl=…;org=…`.
        static func product(_ text: String) throws(ProgramClientError) -> AffectedProduct {
            var fields: [String: String] = [:]
            for pair in text.split(separator: ";") {
                guard let equals = pair.firstIndex(of: "=") else {
                    throw ProgramClientError(.invalidArguments, "--product '\(text)': '\(pair)' is not key=value")
                }
                let key = pair[..<equals].trimmingCharacters(in: .whitespaces)
                guard ["vendor", "name", "versions", "fixed", "cpe", "purl", "org"].contains(key) else {
                    throw ProgramClientError(
                        .invalidArguments, "--product '\(text)': unknown key '\(key)' (vendor, name, versions, fixed, cpe, purl, org)")
                }
                fields[key] = String(pair[pair.index(after: equals)...]).trimmingCharacters(in: .whitespaces)
            }
            guard let vendor = fields["vendor"], let name = fields["name"] else {
                throw ProgramClientError(.invalidArguments, "--product '\(text)': needs vendor= and name=")
            }
            let versions = (fields["versions"] ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            return AffectedProduct(
                vendor: vendor, name: name, versions: versions, fixedVersion: fields["fixed"], cpe: fields["cpe"], purl: fields["purl"],
                vendorOrganisationId: fields["org"])
        }

        func request() throws(ProgramClientError) -> JSONValue {
            if let body {
                let text = try ProgramFiles.text(body, option: "--body")
                guard let value = try? JSONDecoder().decode(JSONValue.self, from: Data(text.utf8)) else {
                    throw ProgramClientError(.invalidArguments, "--body \(body): the file is not JSON")
                }
                return value
            }
            guard let version, let kind, let title, let description else {
                throw ProgramClientError(.invalidArguments, "--version, --kind, --title and --description are needed (or --body)")
            }
            guard !product.isEmpty else { throw ProgramClientError(.invalidArguments, "name an affected product with --product") }
            guard !evidence.isEmpty else { throw ProgramClientError(.invalidArguments, "give the evidence with --evidence") }
            if cwe != nil, cweName == nil { throw ProgramClientError(.invalidArguments, "--cwe needs --cwe-name (the catalog's name)") }
            var items = evidence.map { FindingEvidence(text: $0) }
            items[0].runId = run
            items[0].sampleId = sample
            items[0].epoch = epoch
            items[0].transcript = transcript
            var products: [AffectedProduct] = []
            for text in product { products.append(try Self.product(text)) }
            let request = NewFinding(
                modelVersionId: version, kind: kind, origin: origin, title: title, description: description, affectedProducts: products,
                cvssV3_1: cvss31, cvssV4_0: cvss40, evidence: items, tlp: tlp, cwe: cwe.map { CWEReference(id: $0, name: cweName ?? "") },
                cveId: cve, remediation: remediation)
            guard let data = try? APIJSON.encoder.encode(request), let value = try? JSONDecoder().decode(JSONValue.self, from: data)
            else { throw ProgramClientError(.invalidArguments, "the finding cannot be written as JSON") }
            return value
        }

        func run() async throws {
            try await runProgramCommand {
                let request = try request()
                let key = idempotency.key
                ProgramJSON.print(try await access.withClient { try await $0.create("findings", request, idempotencyKey: key) })
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List your organisation's findings (the program office: all).")
        @OptionGroup var access: ProgramAccessOptions
        @OptionGroup var page: ListPageOptions

        func run() async throws {
            try await runProgramCommand {
                ProgramJSON.print(try await access.withClient { try await $0.get("findings", query: page.query) })
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a finding with its scores and history.")
        @OptionGroup var access: ProgramAccessOptions

        @Argument(help: "The finding's id (fnd_…).")
        var id: String

        func run() async throws {
            try await runProgramCommand {
                ProgramJSON.print(try await access.withClient { try await $0.get(ProgramClient.path("findings", id)) })
            }
        }
    }

    struct Merge: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Merge a duplicate finding into another (the program office, or the reporter of both).",
            discussion: "Both findings keep the merge in their history; the duplicate stays for the record.")
        @OptionGroup var access: ProgramAccessOptions

        @Argument(help: "The duplicate's id (fnd_…).")
        var id: String

        @Option(help: ArgumentHelp("The primary finding (fnd_…).", valueName: "id"))
        var into: String


        func run() async throws {
            try await runProgramCommand {
                let body = FindingMerge(into: into)
                ProgramJSON.print(try await access.withClient { try await $0.post(ProgramClient.path("findings", id, "merge"), body) })
            }
        }
    }
}

struct CaseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "case", abstract: "Coordinated disclosure cases: participants, vendor statuses, embargo, publication, exports.",
        subcommands: [
            Open.self, List.self, Show.self, AddParticipant.self, AddFinding.self, VendorStatus.self, Triage.self, Publish.self,
            Export.self,
        ])

    struct Open: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Open a disclosure case for findings (the program office).",
            discussion: """
                The office, the findings' reporters, the vendors of their products and, for findings about the model, its \
                developer join as participants. The embargo ends 45 days after the first report unless agreed otherwise, \
                and never before the model's public release for findings about the model. The default TLP plan is \
                red, amber@triage, clear@publication.
                """)
        @OptionGroup var access: ProgramAccessOptions
        @OptionGroup var idempotency: IdempotencyOptions

        @Option(help: "The case's title.")
        var title: String

        @Option(help: "A summary for the advisory, written for the public.")
        var summary: String?

        @Option(help: ArgumentHelp("A finding (fnd_…; repeat for more).", valueName: "id"))
        var finding: [String] = []

        @Option(help: ArgumentHelp(
            "A participant as ORGANISATION:ROLE (reporter, vendor, affected_operator, model_developer, program_office; repeat for more).",
            valueName: "org:role"))
        var participant: [CaseParticipant] = []

        @Option(help: ArgumentHelp("An embargo end the participants agreed on: \(ProgramDate.help).", valueName: "date"))
        var embargoEnd: ProgramDate?

        @Option(help: ArgumentHelp(
            "A step of the TLP plan as TLP[@triage|@publication|@DATE], strictest first (repeat for each step).", valueName: "step"))
        var tlpStep: [TLPStepRequest] = []


        func run() async throws {
            try await runProgramCommand {
                let body = NewCase(
                    title: title, summary: summary, findingIds: finding,
                    participants: participant,
                    agreedEmbargoEnd: embargoEnd?.date,
                    tlpPlan: tlpStep.isEmpty ? nil : tlpStep)
                let key = idempotency.key
                ProgramJSON.print(try await access.withClient { try await $0.create("cases", body, idempotencyKey: key) })
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the cases your organisation takes part in (the program office: all).")
        @OptionGroup var access: ProgramAccessOptions
        @OptionGroup var page: ListPageOptions

        func run() async throws {
            try await runProgramCommand {
                ProgramJSON.print(try await access.withClient { try await $0.get("cases", query: page.query) })
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show a case: the embargo end and TLP in force, participants, findings, vendor statuses.")
        @OptionGroup var access: ProgramAccessOptions

        @Argument(help: "The case's id (cas_…).")
        var id: String

        func run() async throws {
            try await runProgramCommand {
                ProgramJSON.print(try await access.withClient { try await $0.get(ProgramClient.path("cases", id)) })
            }
        }
    }

    struct AddParticipant: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "add-participant", abstract: "Add an organisation to a case (the program office).")
        @OptionGroup var access: ProgramAccessOptions

        @Argument(help: "The case's id (cas_…).")
        var id: String

        @Option(help: ArgumentHelp("The organisation (org_…).", valueName: "id"))
        var organisation: String

        @Option(help: "reporter, vendor, affected_operator, model_developer or program_office.")
        var role: CaseRole


        func run() async throws {
            try await runProgramCommand {
                let body = CaseParticipant(organisationId: organisation, role: role)
                ProgramJSON.print(try await access.withClient { try await $0.post(ProgramClient.path("cases", id, "participants"), body) })
            }
        }
    }

    struct AddFinding: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "add-finding", abstract: "Add a finding to a case (the program office).")
        @OptionGroup var access: ProgramAccessOptions

        @Argument(help: "The case's id (cas_…).")
        var id: String

        @Option(help: ArgumentHelp("The finding (fnd_…).", valueName: "id"))
        var finding: String


        func run() async throws {
            try await runProgramCommand {
                let body = NewCaseFinding(findingId: finding)
                ProgramJSON.print(try await access.withClient { try await $0.post(ProgramClient.path("cases", id, "findings"), body) })
            }
        }
    }

    struct VendorStatus: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "vendor-status", abstract: "State a vendor's status for its products (the vendor itself, or the program office).")
        @OptionGroup var access: ProgramAccessOptions

        @Argument(help: "The case's id (cas_…).")
        var id: String

        @Option(help: ArgumentHelp("The vendor (org_…).", valueName: "id"))
        var vendor: String

        @Option(help: "affected, not_affected, fixed or under_investigation.")
        var status: String

        @Option(help: ArgumentHelp(
            "With not_affected, why: component_not_present, vulnerable_code_not_present, vulnerable_code_not_in_execute_path, "
                + "vulnerable_code_cannot_be_controlled_by_adversary or inline_mitigations_already_exist.",
            valueName: "justification"))
        var justification: String?

        @Option(help: ArgumentHelp("With fixed: the first version with the fix.", valueName: "version"))
        var fixedVersion: String?

        @Option(help: "The vendor's words for the advisory (needed except for under_investigation).")
        var notes: String?

        @Option(help: ArgumentHelp("The finding it is about (default: every finding of the case).", valueName: "id"))
        var finding: String?


        func run() async throws {
            try await runProgramCommand {
                let body = VendorStatusChange(status: status, justification: justification, fixedVersion: fixedVersion, notes: notes, findingId: finding)
                ProgramJSON.print(try await access.withClient {
                    try await $0.put(ProgramClient.path("cases", id, "vendors", vendor, "status"), body)
                })
            }
        }
    }

    struct Triage: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Mark a case triaged (the program office): the TLP plan's triage step applies and the case goes under embargo.")
        @OptionGroup var access: ProgramAccessOptions

        @Argument(help: "The case's id (cas_…).")
        var id: String

        @Option(help: "A note for the audit log.")
        var note: String?


        func run() async throws {
            try await runProgramCommand {
                let body = CaseTriage(note: note)
                ProgramJSON.print(try await access.withClient { try await $0.post(ProgramClient.path("cases", id, "triage"), body) })
            }
        }
    }

    struct Publish: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Publish a case (program office admins), or record a revision of its published advisory.",
            discussion: """
                Before the embargo ends, publishing needs --early-release-reason. On a published case, --summary records \
                the next revision.
                """)
        @OptionGroup var access: ProgramAccessOptions

        @Argument(help: "The case's id (cas_…).")
        var id: String

        @Option(help: "Why the case is published before its embargo ends (active exploitation, an unresponsive vendor, …).")
        var earlyReleaseReason: String?

        @Option(help: "For a published case: what the new revision changes.")
        var summary: String?


        func run() async throws {
            try await runProgramCommand {
                let body = CasePublication(earlyReleaseReason: earlyReleaseReason, summary: summary)
                ProgramJSON.print(try await access.withClient { try await $0.post(ProgramClient.path("cases", id, "publication"), body) })
            }
        }
    }

    struct Export: AsyncParsableCommand {
        enum Format: String, ExpressibleByArgument, CaseIterable {
            case csaf, vex, cve, stix
        }

        static let configuration = CommandConfiguration(
            abstract: "Export a case: the CSAF advisory, VEX documents, a draft CVE record, or STIX objects.",
            discussion: """
                csaf: the CSAF 2.0 security advisory. vex: every vendor's CSAF VEX document, or one with --vendor. cve: the \
                draft CVE JSON 5 record of --finding (with --cve-id when the finding has none). stix: a STIX 2.1 bundle of \
                the objects you may read at the TLP in force.
                """)
        @OptionGroup var access: ProgramAccessOptions

        @Argument(help: "The case's id (cas_…).")
        var id: String

        @Option(help: "csaf, vex, cve or stix.")
        var format: Format

        @Option(help: ArgumentHelp("With vex: one vendor's document (org_…).", valueName: "id"))
        var vendor: String?

        @Option(help: ArgumentHelp("With cve: the finding (fnd_…).", valueName: "id"))
        var finding: String?

        @Option(help: ArgumentHelp("With cve: a CVE id the CNA reserved, when the finding has none.", valueName: "id"))
        var cveId: String?

        @Option(help: ArgumentHelp("With cve: the CNA's CVE Program organisation id (a UUIDv4).", valueName: "uuid"))
        var assignerOrgId: String?

        @Option(help: ArgumentHelp("Write the document to this file instead of standard output.", valueName: "file"))
        var output: String?

        func validate() throws {
            if format == .cve, finding == nil { throw ValidationError("--format cve needs --finding") }
            if vendor != nil, format != .vex { throw ValidationError("--vendor goes with --format vex") }
            if format != .cve, finding != nil || cveId != nil || assignerOrgId != nil {
                throw ValidationError("--finding, --cve-id and --assigner-org-id go with --format cve")
            }
        }

        func run() async throws {
            try await runProgramCommand {
                let (path, query): (String, [(String, String)]) =
                    switch format {
                    case .csaf: (ProgramClient.path("cases", id, "csaf"), [])
                    case .stix: (ProgramClient.path("cases", id, "stix"), [])
                    case .vex: (vendor.map { ProgramClient.path("cases", id, "vex", $0) } ?? ProgramClient.path("cases", id, "vex"), [])
                    case .cve:
                        (ProgramClient.path("cases", id, "cve", finding ?? ""),
                         (cveId.map { [("cve_id", $0)] } ?? []) + (assignerOrgId.map { [("assigner_org_id", $0)] } ?? []))
                    }
                let data = try await access.withClient { try await $0.get(path, query: query) }
                if let output {
                    do {
                        try data.write(to: URL(fileURLWithPath: output), options: .atomic)
                    } catch {
                        throw ProgramClientError(.invalidArguments, "--output \(output): cannot write the file")
                    }
                } else {
                    ProgramJSON.print(data)
                }
            }
        }
    }
}

/// `ORGANISATION:ROLE`, as `case open --participant` takes it.
extension CaseParticipant: ExpressibleByArgument {
    public init?(argument: String) {
        let parts = argument.split(separator: ":", maxSplits: 1).map(String.init)
        guard parts.count == 2, let role = CaseRole(rawValue: parts[1]) else { return nil }
        self.init(organisationId: parts[0], role: role)
    }
}

/// `TLP[@WHEN]`, as `case open --tlp-step` takes it: `red`, `amber@triage`, `green@2027-03-01`, `clear@publication`.
extension TLPStepRequest: ExpressibleByArgument {
    public init?(argument: String) {
        let parts = argument.split(separator: "@", maxSplits: 1).map(String.init)
        switch parts.count == 2 ? parts[1] : "" {
        case "": self.init(tlp: parts[0], when: "immediately")
        case "triage": self.init(tlp: parts[0], when: "on_triage")
        case "publication": self.init(tlp: parts[0], when: "on_publication")
        case let text:
            guard let date = ProgramDate(argument: text) else { return nil }
            self.init(tlp: parts[0], when: "at", date: date.date)
        }
    }
}
