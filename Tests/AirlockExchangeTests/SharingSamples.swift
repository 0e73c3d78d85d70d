import AirlockCore
import AirlockExchange
import Foundation

/// Realistic disclosure cases for the document tests.
///
/// 1. ``banking``: a SQL injection in a core banking system, found by a frontier model during an
///    assessment run and filed again by a second evaluator (merged as a duplicate). Three vendors:
///    one fixed, one not affected (with a VEX justification), one still silent. Published after
///    the embargo, stepping down RED → AMBER (triage) → CLEAR (publication).
/// 2. ``promptInjection``: a prompt-injection weakness of the AI system itself, under RED until
///    triage and AMBER+STRICT after, unpublished (the model is not released yet).
enum SharingSamples {
    static let day: TimeInterval = 86_400
    /// 2026-01-05T09:00:00Z.
    static let reported = Date(timeIntervalSince1970: 1_767_603_600)

    static let office = SharingOrganisation(id: "org_office", name: "Airlock Program Office", kind: .programOffice, identityMarking: .clear)
    static let institute = SharingOrganisation(id: "org_institute", name: "National AI Security Institute", kind: .evaluator)
    static let cyberUnit = SharingOrganisation(id: "org_cyber", name: "Financial Sector Cyber Unit", kind: .evaluator)
    static let developer = SharingOrganisation(id: "org_lab", name: "Example Frontier Labs", kind: .modelDeveloper)
    static let northwind = SharingOrganisation(id: "org_northwind", name: "Northwind Banking Systems", kind: .vendor)
    static let contoso = SharingOrganisation(id: "org_contoso", name: "Contoso Payments", kind: .vendor)
    static let fabrikam = SharingOrganisation(id: "org_fabrikam", name: "Fabrikam Software", kind: .vendor)
    static let bank = SharingOrganisation(id: "org_bank", name: "First Harbour Bank", kind: .infrastructureOperator, sector: .banking)
    static let organisations = [office, institute, cyberUnit, developer, northwind, contoso, fabrikam, bank]

    static let publisher = SharingPublisher(
        organisation: office, namespace: "https://airlock.example.org", advisoryBaseURL: "https://airlock.example.org/advisories",
        contactDetails: "mailto:disclosure@airlock.example.org")

    static let authority = CVENumberingAuthority(orgId: "8254265b-2729-46b6-b9e3-3dfca2d5bfca", shortName: "airlock-example")

    static let injectionCWE = CWEReference(id: "CWE-89", name: "Improper Neutralization of Special Elements used in an SQL Command ('SQL Injection')")
    static let promptCWE = CWEReference(id: "CWE-1427", name: "Improper Neutralization of Input Used for LLM Prompting")

    static func sqlInjection() throws -> Finding {
        Finding(
            id: "fnd_ledger_sqli", kind: .thirdPartyVulnerability, origin: .assessmentRun,
            title: "SQL injection in LedgerCore's statement export",
            description: "The statement export endpoint of LedgerCore builds its query from the account filter without "
                + "parameters; an unauthenticated request can read and change any account's ledger entries.",
            affectedProducts: [
                AffectedProduct(
                    vendor: "Northwind Banking Systems", name: "LedgerCore", versions: ["4.2.0", "4.2.1"], fixedVersion: "4.2.2",
                    cpe: "cpe:2.3:a:northwind:ledgercore:*:*:*:*:*:*:*:*", vendorOrganisationId: northwind.id),
                AffectedProduct(
                    vendor: "Contoso Payments", name: "Payments Gateway", versions: ["7.1.0"],
                    purl: "pkg:maven/com.contoso/payments-gateway", vendorOrganisationId: contoso.id),
                AffectedProduct(
                    vendor: "Fabrikam Software", name: "Teller Desk", versions: ["3.0"],
                    cpe: "cpe:2.3:a:fabrikam:teller_desk:*:*:*:*:*:*:*:*", vendorOrganisationId: fabrikam.id),
            ],
            cvss31: try CVSS31("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"),
            cvss40: try CVSS40("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"),
            evidence: [FindingEvidence(
                text: "The model found the injection point and read a test account's ledger in the range.",
                runId: "run_01JQ7ASSESS", sampleId: "bank-ledger-07", epoch: 1, transcript: "evidence/bank-ledger-07-1.md")],
            tlp: .amber, modelVersionId: "ver_frontier_x_0326", reporterOrganisationId: institute.id, reportedAt: reported,
            cwe: injectionCWE, cveId: "CVE-2026-10001",
            remediation: "Reject statement-export requests whose account filter contains SQL metacharacters at the gateway.")
    }

    static func sqlInjectionDuplicate() throws -> Finding {
        Finding(
            id: "fnd_ledger_sqli_dup", kind: .thirdPartyVulnerability, origin: .filed,
            title: "LedgerCore export leaks other accounts",
            description: "Filtering the statement export with a quote character returns other customers' statements.",
            affectedProducts: [AffectedProduct(vendor: "Northwind Banking Systems", name: "LedgerCore", versions: ["4.1.9"], vendorOrganisationId: northwind.id)],
            evidence: [FindingEvidence(text: "Reproduced by hand against a staging system.")],
            tlp: .green, modelVersionId: "ver_frontier_x_0326", reporterOrganisationId: cyberUnit.id,
            reportedAt: reported.addingTimeInterval(2 * day))
    }

    /// The banking case, published 50 days after the report, with the duplicate merged.
    static func banking() throws -> DisclosureCase {
        var disclosure = DisclosureCase(
            id: "case_banking", reference: "AIRLOCK-2026-0001", title: "SQL injection in LedgerCore core banking",
            summary: "A SQL injection in LedgerCore lets an unauthenticated attacker read and change ledger entries.",
            reportedAt: reported)
        for (organisation, role) in [
            (institute, CaseRole.reporter), (cyberUnit, .reporter), (northwind, .vendor), (contoso, .vendor), (fabrikam, .vendor),
            (bank, .affectedOperator), (developer, .modelDeveloper), (office, .programOffice),
        ] {
            disclosure.add(CaseParticipant(organisationId: organisation.id, role: role))
        }
        try disclosure.add(try sqlInjection())
        try disclosure.add(try sqlInjectionDuplicate())
        try disclosure.mergeFinding("fnd_ledger_sqli_dup", into: "fnd_ledger_sqli", at: reported.addingTimeInterval(3 * day), by: office.id)
        try disclosure.markTriaged(at: reported.addingTimeInterval(3 * day))
        try disclosure.beginEmbargo(at: reported.addingTimeInterval(4 * day))
        try disclosure.record(VendorStatement(
            vendorId: northwind.id, status: .fixed, notes: "LedgerCore 4.2.2 binds the filter as a parameter.",
            updatedAt: reported.addingTimeInterval(30 * day)))
        try disclosure.record(VendorStatement(
            vendorId: contoso.id, status: .notAffected(.vulnerableCodeNotPresent),
            notes: "Payments Gateway embeds LedgerCore's client library only; the export endpoint is not shipped.",
            updatedAt: reported.addingTimeInterval(10 * day)))
        try disclosure.publish(at: reported.addingTimeInterval(50 * day), modelPublicRelease: nil)
        return disclosure
    }

    static func promptInjectionFinding() throws -> Finding {
        Finding(
            id: "fnd_tool_injection", kind: .aiSystemWeakness, origin: .assessmentRun,
            title: "Indirect prompt injection through retrieved web pages hijacks tool calls",
            description: "Instructions hidden in a retrieved page make the agent call its payment tool with the attacker's "
                + "beneficiary, without the user's confirmation.",
            affectedProducts: [AffectedProduct(
                vendor: "Example Frontier Labs", name: "Frontier-X", versions: ["2026-03-preview"],
                purl: "pkg:generic/example-frontier-labs/frontier-x", vendorOrganisationId: developer.id)],
            cvss31: try CVSS31("CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:H/I:L/A:N"),
            cvss40: try CVSS40("CVSS:4.0/AV:N/AC:L/AT:P/PR:N/UI:P/VC:H/VI:L/VA:N/SC:L/SI:L/SA:N"),
            evidence: [FindingEvidence(
                text: "In 7 of 20 attempts the agent paid the injected beneficiary.", runId: "run_01JQ7INJECT",
                sampleId: "indirect-injection-03", transcript: "evidence/indirect-injection-03-1.md")],
            tlp: .amberStrict, modelVersionId: "ver_frontier_x_0326", reporterOrganisationId: institute.id,
            reportedAt: reported, cwe: promptCWE)
    }

    /// The prompt-injection case: RED until triage (day 2), AMBER+STRICT after; not published.
    static func promptInjection() throws -> DisclosureCase {
        var disclosure = DisclosureCase(
            id: "case_injection", reference: "AIRLOCK-2026-0002", title: "Prompt injection in Frontier-X tool use",
            summary: "Frontier-X follows instructions hidden in retrieved content and misuses its tools.",
            reportedAt: reported,
            tlpPlan: [TLPStep(.red, .immediately), TLPStep(.amberStrict, .onTriage), TLPStep(.clear, .onPublication)])
        for (organisation, role) in [(institute, CaseRole.reporter), (developer, .modelDeveloper), (bank, .affectedOperator), (office, .programOffice)] {
            disclosure.add(CaseParticipant(organisationId: organisation.id, role: role))
        }
        try disclosure.add(try promptInjectionFinding())
        try disclosure.beginEmbargo(at: reported.addingTimeInterval(day))
        try disclosure.record(VendorStatement(
            vendorId: developer.id, status: .affected,
            notes: "A classifier on retrieved content ships before release; tool calls with payments will need confirmation.",
            updatedAt: reported.addingTimeInterval(day)))
        return disclosure
    }

    /// The prompt-injection case once triaged (AMBER+STRICT from then on).
    static func promptInjectionTriaged() throws -> DisclosureCase {
        var disclosure = try promptInjection()
        try disclosure.markTriaged(at: reported.addingTimeInterval(2 * day))
        return disclosure
    }
}
