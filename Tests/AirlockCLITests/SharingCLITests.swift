import AirlockCore
import Foundation
import Testing

/// Findings and a disclosure case through the CLI against `airlock serve`: filing with CVSS
/// vectors, a bad vector refused, a case opened, a vendor's status, triage, early publication,
/// the four exports, and a non-participant kept out; then the audit chain verifies.
@Suite struct SharingCLITests {
    static let cvss31 = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"
    static let cvss40 = "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"

    @Test func aFindingBecomesAnAdvisoryThroughTheCLI() async throws {
        let (database, status) = try await ProgramServerProcess.with { server in
            let office = server.officeKey
            func organisation(_ arguments: [String]) async throws -> String {
                try #require(try await server.json(["org", "create"] + arguments, key: office)["id"]?.string)
            }
            let developer = try await organisation(["Frontier Labs", "--kind", "model_developer"])
            let evaluator = try await organisation(["Safety Institute", "--kind", "evaluator"])
            let vendor = try await organisation(["Acme Software", "--kind", "vendor"])
            let bank = try await organisation(["First Bank", "--kind", "infrastructure_operator", "--sector", "banking"])
            let developerKey = try await server.signedInUser(organisation: developer, email: "admin@frontier.example")
            let evaluatorKey = try await server.signedInUser(organisation: evaluator, email: "admin@institute.example")
            let vendorKey = try await server.signedInUser(organisation: vendor, email: "admin@acme.example")

            // A version under review, and an active grant that relates the evaluator to it.
            let terms = server.folder + "/terms.txt"
            try "We give the program 90 days' notice.\n".write(toFile: terms, atomically: true, encoding: .utf8)
            _ = try await server.json(["commitment", "create", "--terms-file", terms, "--from", "2025-01-01"], key: developerKey)
            let model = try #require(try await server.json(["model", "create", "Frontier-1"], key: developerKey)["id"]?.string)
            let version = try #require(
                try await server.json(["model", "notice", model, "--version", "1.0", "--release", ProgramCLI.date(days: 120)], key: developerKey)[
                    "id"]?.string)
            _ = try await server.json(["model", "move", version, "--to", "in_review"], key: office)
            let grant = try #require(
                try await server.json(
                    [
                        "grant", "create", "--version", version, "--grantee", evaluator, "--purpose", "capability_evaluation", "--from",
                        ProgramCLI.date(days: 1), "--until", ProgramCLI.date(days: 30), "--tokens", "1000", "--rpm", "10",
                    ], key: office)["id"]?.string)
            _ = try await server.json(["grant", "approve", grant], key: office)
            _ = try await server.json(["grant", "consent", grant], key: developerKey)

            // The evaluator files a finding; the server scores both vectors.
            let fileArguments = [
                "finding", "file", "--version", version, "--kind", "third_party_vulnerability", "--title", "Ledger accepts unsigned transfers",
                "--description", "The transfer endpoint skips the signature check.", "--product",
                "vendor=Acme;name=Ledger;versions=4.2,4.3;org=\(vendor)", "--cvss-v4-0", Self.cvss40, "--evidence",
                "The model wrote a working exploit.", "--tlp", "TLP:AMBER", "--cwe", "CWE-347", "--cwe-name",
                "Improper Verification of Cryptographic Signature", "--remediation", "Reject unsigned transfers.",
            ]
            let bad = try await server.run(fileArguments + ["--cvss-v3-1", "CVSS:3.1/AV:Q/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"], key: evaluatorKey)
            #expect(bad.status == 1)
            #expect(bad.error.hasPrefix("error: 422 Unprocessable Content: metric AV: "), "\(bad.error)")
            #expect(bad.error.hasSuffix("(field cvss_v3_1)\n"))
            let finding = try await server.json(fileArguments + ["--cvss-v3-1", Self.cvss31], key: evaluatorKey)
            let findingId = try #require(finding["id"]?.string)
            #expect(finding["cvss_v3_1"]?["base_score"]?.number == (try CVSS31(Self.cvss31)).baseScore)
            #expect(finding["cvss_v4_0"]?["score"]?.number == (try CVSS40(Self.cvss40)).score)
            #expect(finding["severity"]?.string == "critical")
            #expect(try await server.json(["finding", "list"], key: evaluatorKey)["items"]?.count == 1)
            #expect(try await server.json(["finding", "show", findingId], key: office)["title"]?.string == "Ledger accepts unsigned transfers")

            // The office opens a case; the developer, in no role, does not see it.
            let opened = try await server.json(
                [
                    "case", "open", "--title", "Unsigned transfers in Acme Ledger", "--summary", "Transfers without signatures are accepted.",
                    "--finding", findingId, "--participant", "\(bank):affected_operator", "--tlp-step", "red", "--tlp-step", "amber@triage",
                    "--tlp-step", "clear@publication",
                ], key: office)
            let caseId = try #require(opened["id"]?.string)
            #expect(opened["reference"]?.string?.hasPrefix("AIRLOCK-") == true)
            #expect(opened["tlp"]?.string == "red")
            let hidden = try await server.run(["case", "show", caseId], key: developerKey)
            #expect(hidden.status == 1)
            #expect(hidden.error == "error: 404 Not Found: no case with that id\n")
            let hiddenExport = try await server.run(["case", "export", caseId, "--format", "stix"], key: developerKey)
            #expect(hiddenExport.error.contains("404 Not Found"))
            #expect(try await server.json(["case", "list"], key: vendorKey)["items"]?[0]?["id"]?.string == caseId)

            // The vendor states its fix; the office triages and publishes early, with a reason.
            let fixed = try await server.json(
                ["case", "vendor-status", caseId, "--vendor", vendor, "--status", "fixed", "--fixed-version", "4.4", "--notes", "Fixed in 4.4."],
                key: vendorKey)
            #expect(fixed["vendor_statuses"]?[0]?["status"]?.string == "fixed")
            #expect(try await server.json(["case", "triage", caseId], key: office)["tlp"]?.string == "amber")
            let noReason = try await server.run(["case", "publish", caseId], key: office)
            #expect(noReason.status == 1)
            #expect(noReason.error.contains("(field early_release_reason)"))
            let published = try await server.json(["case", "publish", caseId, "--early-release-reason", "Exploited in the wild."], key: office)
            #expect(published["state"]?.string == "published")
            #expect(published["tlp"]?.string == "clear")

            // The exports: the advisory to a file, the vendor's VEX, the draft CVE record, the STIX bundle.
            let advisoryFile = server.folder + "/advisory.json"
            let written = try await server.run(["case", "export", caseId, "--format", "csaf", "--output", advisoryFile], key: office)
            #expect(written.status == 0, "\(written.error)")
            let advisory = try JSONDecoder().decode(JSONValue.self, from: Data(contentsOf: URL(fileURLWithPath: advisoryFile)))
            #expect(advisory["document"]?["category"]?.string == "csaf_security_advisory")
            #expect(advisory["vulnerabilities"]?[0]?["scores"]?[0]?["cvss_v3"]?["baseScore"]?.number == (try CVSS31(Self.cvss31)).baseScore)
            let vex = try await server.json(["case", "export", caseId, "--format", "vex", "--vendor", vendor], key: vendorKey)
            #expect(vex["document"]?["category"]?.string == "csaf_vex")
            let cve = try await server.json(
                ["case", "export", caseId, "--format", "cve", "--finding", findingId, "--cve-id", "CVE-2026-12345"], key: office)
            #expect(cve["cveMetadata"]?["cveId"]?.string == "CVE-2026-12345")
            let stix = try await server.json(["case", "export", caseId, "--format", "stix"], key: vendorKey)
            #expect(stix["type"]?.string == "bundle")
            #expect(stix["objects"]?.array?.contains { $0["type"]?.string == "vulnerability" } == true)
            let noFinding = try await server.run(["case", "export", caseId, "--format", "cve"], key: office)
            #expect(noFinding.status != 0)
            #expect(noFinding.error.contains("--finding"))

            return (server.database, try await server.stop())
        }
        #expect(status == 0)
        let audit = try await ProgramCLI.run(["audit", "verify", "--database", database])
        #expect(audit.status == 0, "\(audit.error)")
    }

    @Test func everySharingCommandHasHelp() async throws {
        let commands = [
            ["finding", "file"], ["finding", "list"], ["finding", "show"], ["finding", "merge"], ["case", "open"], ["case", "list"],
            ["case", "show"], ["case", "add-participant"], ["case", "add-finding"], ["case", "vendor-status"], ["case", "triage"],
            ["case", "publish"], ["case", "export"],
        ]
        for command in commands {
            let result = try await ProgramCLI.run(command + ["--help"])
            #expect(result.status == 0, "\(command)")
            #expect(result.output.contains("--api-key"), "\(command)")
        }
    }
}
