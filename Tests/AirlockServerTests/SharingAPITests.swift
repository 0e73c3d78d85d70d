import AirlockCore
import AirlockExchange
import AirlockServer
import AirlockStore
import AirlockTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Synchronization
import Testing

/// A program world with findings and cases in it, made through the API: the evaluator's finding
/// `inCase` (a bank ledger's flaw, made by the vendor) in the draft case `draftCase`, a second
/// finding `spare` in no case, and the triaged case `embargoedCase` with a finding of its own.
/// The bank takes part as an affected operator; the developers take part in nothing.
struct SharingWorld: Sendable {
    var program: ProgramWorld
    var inCase: String
    var spare: String
    var draftCase: String
    var embargoedCase: String
    var embargoedFinding: String

    static let cvss31 = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"
    static let cvss40 = "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"

    /// A third-party vulnerability in the vendor's ledger, as the evaluator files it.
    static func findingBody(_ world: ProgramWorld, title: String = "Ledger accepts unsigned transfers", tlp: String = "amber",
                            extra: String = "") -> String {
        """
        {"model_version_id":"\(world.version.id)","kind":"third_party_vulnerability","title":"\(title)",
         "description":"The ledger's transfer endpoint skips the signature check when a header is present.",
         "affected_products":[{"vendor":"Acme","name":"Ledger","versions":["4.2","4.3"],"cpe":"cpe:2.3:a:acme:ledger:*:*:*:*:*:*:*:*",
           "vendor_organisation_id":"\(world.id(.vendor))"}],
         "cvss_v3_1":"\(cvss31)","cvss_v4_0":"\(cvss40)",
         "evidence":[{"text":"The model wrote a working exploit.","run_id":"\(world.run.id)","sample_id":"s-7","transcript":"evidence/s-7.md"}],
         "tlp":"\(tlp)","cwe":{"id":"CWE-347","name":"Improper Verification of Cryptographic Signature"},
         "remediation":"Reject transfers without a signature at the gateway."\(extra)}
        """
    }

    static func make(_ world: ProgramWorld, _ client: any TestClientProtocol) async throws -> SharingWorld {
        let evaluator = world.member(.evaluator, .admin)
        let office = world.member(.office, .admin)
        func file(_ title: String) async throws -> String {
            let filed = try await client.call(.post, "/api/v1/findings", as: evaluator, json: findingBody(world, title: title))
            try #require(filed.status == .created, "\(filed.body)")
            return try #require(try SharingAPITests.json(filed.body)["id"] as? String)
        }
        func open(_ finding: String) async throws -> String {
            let opened = try await client.call(
                .post, "/api/v1/cases", as: office,
                json: #"{"title":"Unsigned transfers","finding_ids":["\#(finding)"],"participants":[{"organisation_id":"\#(world.id(.bank))","role":"affected_operator"}]}"#)
            try #require(opened.status == .created, "\(opened.body)")
            return try #require(try SharingAPITests.json(opened.body)["id"] as? String)
        }
        let inCase = try await file("Ledger accepts unsigned transfers")
        let spare = try await file("Ledger skips signatures")
        let embargoedFinding = try await file("Ledger replays transfers")
        let draftCase = try await open(inCase)
        let embargoedCase = try await open(embargoedFinding)
        let triaged = try await client.call(.post, "/api/v1/cases/\(embargoedCase)/triage", as: office, json: "{}")
        try #require(triaged.status == .ok, "\(triaged.body)")
        return SharingWorld(
            program: world, inCase: inCase, spare: spare, draftCase: draftCase, embargoedCase: embargoedCase,
            embargoedFinding: embargoedFinding)
    }

    /// Ids that are the route parameters' names, to match table rows with routes.
    static var placeholder: SharingWorld {
        SharingWorld(
            program: AuthorizationMatrixTests.placeholderWorld, inCase: "{finding_id}", spare: "{finding_id}", draftCase: "{case_id}",
            embargoedCase: "{case_id}", embargoedFinding: "{finding_id}")
    }
}

/// A clock the test moves.
final class TestClock: Sendable {
    private let state: Mutex<Date>
    init(_ date: Date) { state = Mutex(date) }
    var now: Date { state.withLock { $0 } }
    func advance(days: Double) { state.withLock { $0 = $0.addingTimeInterval(days * 86_400) } }
}

/// The program API in process on a fresh store with a program world, a clock the test moves,
/// and the store at hand for checking TAXII rows and the audit log.
func withSharingAPI(
    backend: TestBackend = .sqlite,
    _ body: @Sendable (ProgramWorld, ProgramStore, TestClock, any TestClientProtocol) async throws -> Void
) async throws {
    try await backend.withFreshStore { store in
        let world = try await ProgramWorld.make(in: store)
        let clock = TestClock(world.now.addingTimeInterval(86_400))
        var configuration = ServerConfiguration()
        configuration.sharingNamespace = "https://airlock.example.org"
        configuration.advisoryBaseURL = "https://airlock.example.org/advisories"
        let api = ProgramAPI(store: store, configuration: configuration, now: { clock.now })
        try await testApplication(api).test(.router) { client in try await body(world, store, clock, client) }
    }
}

@Suite struct SharingAPITests {
    static func json(_ body: String) throws -> [String: Any] {
        try #require(JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])
    }

    static func actions(_ store: ProgramStore) async throws -> [AuditEntry] {
        try await store.transaction { try await $0.auditEntries(after: 0, limit: 10_000) }
    }

    // MARK: The authorisation matrix of the sharing endpoints

    typealias Outcome = AuthorizationMatrixTests.Outcome

    struct Row: Sendable, CustomTestStringConvertible {
        var name: String
        var method: HTTPRequest.Method
        var path: @Sendable (SharingWorld) -> String
        var body: (@Sendable (SharingWorld) -> String)?
        var success: Int
        var outcomes: [Org: Outcome]
        /// Whether a success changes the world, so that each (organisation, role) needs a fresh one.
        var changes: Bool
        var testDescription: String { name }

        func expected(_ org: Org, _ role: MemberRole) -> Int {
            AuthorizationMatrixTests.status(outcomes[org]!, role, success: success, workers: false)
        }
    }

    static func only(_ listed: [Org: Outcome], others: Int) -> [Org: Outcome] {
        AuthorizationMatrixTests.only(listed, others: others)
    }

    static let everyone = AuthorizationMatrixTests.everyone(.from(.viewer))
    /// The case's participants (the office coordinates every case) read it; the developers, in no case, get 404.
    static let participantsRead = only(
        [.office: .from(.viewer), .evaluator: .from(.viewer), .vendor: .from(.viewer), .bank: .from(.viewer)], others: 404)
    /// Only the office changes the case; participants see it (403), others do not (404).
    static func officeChanges(_ least: MemberRole) -> [Org: Outcome] {
        only([.office: .from(least), .evaluator: .refused(403), .vendor: .refused(403), .bank: .refused(403)], others: 404)
    }

    static let rows: [Row] = [
        Row(name: "GET findings", method: .get, path: { _ in "/api/v1/findings" }, success: 200, outcomes: everyone, changes: false),
        Row(
            name: "POST findings", method: .post, path: { _ in "/api/v1/findings" }, body: { SharingWorld.findingBody($0.program) },
            success: 201,
            outcomes: only([.office: .from(.member), .developer: .from(.member), .evaluator: .from(.member)], others: 404),
            changes: true),
        Row(
            name: "GET finding", method: .get, path: { "/api/v1/findings/\($0.inCase)" }, success: 200, outcomes: participantsRead,
            changes: false),
        Row(
            name: "POST finding merge", method: .post, path: { "/api/v1/findings/\($0.spare)/merge" },
            body: { #"{"into":"\#($0.inCase)"}"# }, success: 200,
            outcomes: only([.office: .from(.member), .evaluator: .from(.member)], others: 404), changes: true),
        Row(name: "GET cases", method: .get, path: { _ in "/api/v1/cases" }, success: 200, outcomes: everyone, changes: false),
        Row(
            name: "POST cases", method: .post, path: { _ in "/api/v1/cases" },
            body: { #"{"title":"Second look","finding_ids":["\#($0.spare)"]}"# }, success: 201,
            outcomes: only([.office: .from(.member)], others: 403), changes: true),
        Row(
            name: "GET case", method: .get, path: { "/api/v1/cases/\($0.draftCase)" }, success: 200, outcomes: participantsRead,
            changes: false),
        Row(
            name: "POST case participants", method: .post, path: { "/api/v1/cases/\($0.draftCase)/participants" },
            body: { #"{"organisation_id":"\#($0.program.id(.otherDeveloper))","role":"vendor"}"# }, success: 200,
            outcomes: officeChanges(.member), changes: true),
        Row(
            name: "POST case findings", method: .post, path: { "/api/v1/cases/\($0.draftCase)/findings" },
            body: { #"{"finding_id":"\#($0.spare)"}"# }, success: 200, outcomes: officeChanges(.member), changes: true),
        Row(
            name: "PUT case vendor status", method: .put,
            path: { "/api/v1/cases/\($0.draftCase)/vendors/\($0.program.id(.vendor))/status" },
            body: { _ in #"{"status":"affected","notes":"Confirmed in 4.2 and 4.3."}"# }, success: 200,
            outcomes: only(
                [.office: .from(.member), .vendor: .from(.member), .evaluator: .refused(403), .bank: .refused(403)], others: 404),
            changes: true),
        Row(
            name: "POST case triage", method: .post, path: { "/api/v1/cases/\($0.draftCase)/triage" }, body: { _ in "{}" },
            success: 200, outcomes: officeChanges(.member), changes: true),
        Row(
            name: "POST case publication", method: .post, path: { "/api/v1/cases/\($0.embargoedCase)/publication" },
            body: { _ in #"{"early_release_reason":"Exploited in the wild."}"# }, success: 200, outcomes: officeChanges(.admin),
            changes: true),
        Row(
            name: "GET case CSAF", method: .get, path: { "/api/v1/cases/\($0.draftCase)/csaf" }, success: 200,
            outcomes: participantsRead, changes: false),
        Row(
            name: "GET case VEX", method: .get, path: { "/api/v1/cases/\($0.draftCase)/vex" }, success: 200,
            outcomes: participantsRead, changes: false),
        Row(
            name: "GET case vendor VEX", method: .get, path: { "/api/v1/cases/\($0.draftCase)/vex/\($0.program.id(.vendor))" },
            success: 200, outcomes: participantsRead, changes: false),
        Row(
            name: "GET case CVE", method: .get, path: { "/api/v1/cases/\($0.draftCase)/cve/\($0.inCase)?cve_id=CVE-2026-12345" },
            success: 200, outcomes: participantsRead, changes: false),
        Row(
            name: "GET case STIX", method: .get, path: { "/api/v1/cases/\($0.draftCase)/stix" }, success: 200,
            outcomes: participantsRead, changes: false),
    ]

    /// The routes the table covers, as the router names them, for ``AuthorizationMatrixTests``.
    static var routes: Set<String> {
        let world = SharingWorld.placeholder
        return Set(rows.map { row in
            let path = String(row.path(world).split(separator: "?")[0])
            // The placeholder world names every organisation `{organisation_id}`; the VEX route calls it a vendor.
            return "\(row.method) \(path.replacingOccurrences(of: "/vex/{organisation_id}", with: "/vex/{vendor_id}"))"
        })
    }

    @Test(arguments: rows)
    func everyOrganisationAndRole(row: Row) async throws {
        @Sendable func check(_ world: SharingWorld, _ client: any TestClientProtocol, _ org: Org, _ role: MemberRole) async throws {
            let response = try await client.call(row.method, row.path(world), as: world.program.member(org, role), json: row.body?(world))
            #expect(
                Int(response.status.code) == row.expected(org, role), "\(row.name) as \(org.rawValue) \(role.rawValue): \(response.body)")
            if response.status.code >= 400 { #expect(response.headers[.contentType] == "application/problem+json") }
        }
        if row.changes {
            for org in Org.allCases {
                for role in MemberRole.allCases {
                    try await withProgramAPI { program, client in
                        try await check(try await SharingWorld.make(program, client), client, org, role)
                    }
                }
            }
        } else {
            try await withProgramAPI { program, client in
                let world = try await SharingWorld.make(program, client)
                for org in Org.allCases {
                    for role in MemberRole.allCases { try await check(world, client, org, role) }
                }
            }
        }
    }

    // MARK: The life of a case

    /// A finding filed with CVSS vectors, a bad vector refused, a case opened, vendor statuses,
    /// triage, an early publication that needs a reason, and the exports with Airlock's scores;
    /// non-participants get 404 throughout, and every view, change and export is audited.
    @Test(arguments: TestBackend.all)
    func aCaseFromFindingToAdvisory(backend: TestBackend) async throws {
        try await withSharingAPI(backend: backend) { world, store, clock, client in
            let evaluator = world.member(.evaluator, .member)
            let office = world.member(.office, .admin)
            let vendor = world.member(.vendor, .member)
            let bank = world.member(.bank, .viewer)
            let outsider = world.member(.developer, .admin)
            let expected31 = try CVSS31(SharingWorld.cvss31)
            let expected40 = try CVSS40(SharingWorld.cvss40)

            // Filed with both vectors: the scores are Airlock's, and the run links the transcript.
            let filed = try await client.call(.post, "/api/v1/findings", as: evaluator, json: SharingWorld.findingBody(world))
            #expect(filed.status == .created, "\(filed.body)")
            let finding = try Self.json(filed.body)
            let findingId = try #require(finding["id"] as? String)
            #expect(filed.headers[.location] == "/api/v1/findings/\(findingId)")
            let v31 = try #require(finding["cvss_v3_1"] as? [String: Any])
            #expect(v31["base_score"] as? Double == expected31.baseScore)
            #expect(v31["base_severity"] as? String == "critical")
            let v40 = try #require(finding["cvss_v4_0"] as? [String: Any])
            #expect(v40["score"] as? Double == expected40.score)
            #expect(v40["nomenclature"] as? String == "CVSS-B")
            #expect(finding["severity"] as? String == expected40.severity.rawValue)
            #expect(finding["origin"] as? String == "assessment_run")
            #expect(finding["tlp"] as? String == "amber")

            // A vector that does not parse is refused, naming the field and the metric.
            let bad31 = try await client.call(
                .post, "/api/v1/findings", as: evaluator,
                json: SharingWorld.findingBody(world).replacingOccurrences(of: "AV:N/AC:L/PR:N/UI:N/S:U", with: "AV:Q/AC:L/PR:N/UI:N/S:U"))
            #expect(bad31.status == .unprocessableContent)
            #expect(try Self.json(bad31.body)["field"] as? String == "cvss_v3_1")
            #expect((try Self.json(bad31.body)["detail"] as? String)?.contains("metric AV") == true, "\(bad31.body)")
            let bad40 = try await client.call(
                .post, "/api/v1/findings", as: evaluator,
                json: SharingWorld.findingBody(world).replacingOccurrences(of: "/SC:N/SI:N/SA:N", with: "/SI:N/SA:N"))
            #expect(try Self.json(bad40.body)["field"] as? String == "cvss_v4_0")
            #expect((try Self.json(bad40.body)["detail"] as? String)?.contains("SC") == true, "\(bad40.body)")
            // A run that is not on the version is refused; so is TLP 1.0's WHITE.
            let otherRun = try await client.call(
                .post, "/api/v1/findings", as: evaluator,
                json: SharingWorld.findingBody(world).replacingOccurrences(of: world.run.id, with: "run_01AAAAAAAAAAAAAAAAAAAAAAAA"))
            #expect(try Self.json(otherRun.body)["field"] as? String == "evidence[0].run_id")
            let white = try await client.call(.post, "/api/v1/findings", as: evaluator, json: SharingWorld.findingBody(world, tlp: "TLP:WHITE"))
            #expect(try Self.json(white.body)["field"] as? String == "tlp")

            // The reporter and the office read it; the developer, without a case, gets 404.
            #expect(try await client.call(.get, "/api/v1/findings/\(findingId)", as: evaluator).status == .ok)
            #expect(try await client.call(.get, "/api/v1/findings/\(findingId)", as: outsider).status == .notFound)

            // The office opens a case; the reporter and the vendor join by the finding, the bank as named.
            let opened = try await client.call(
                .post, "/api/v1/cases", as: office,
                json: #"{"title":"Unsigned transfers in Acme Ledger","summary":"Transfers without signatures are accepted.","finding_ids":["\#(findingId)"],"participants":[{"organisation_id":"\#(world.id(.bank))","role":"affected_operator"}]}"#)
            #expect(opened.status == .created, "\(opened.body)")
            var disclosureCase = try Self.json(opened.body)
            let caseId = try #require(disclosureCase["id"] as? String)
            let reference = try #require(disclosureCase["reference"] as? String)
            #expect(reference.wholeMatch(of: /AIRLOCK-20[0-9]{2}-0001/) != nil, "\(reference)")
            #expect(disclosureCase["state"] as? String == "draft")
            #expect(disclosureCase["tlp"] as? String == "red")
            let participants = try #require(disclosureCase["participants"] as? [[String: String]])
            #expect(Set(participants.map { "\($0["organisation_id"]!) \($0["role"]!)" }) == [
                "\(world.id(.office)) program_office", "\(world.id(.evaluator)) reporter", "\(world.id(.vendor)) vendor",
                "\(world.id(.bank)) affected_operator",
            ])
            let reportedAt = try #require(APICodingDates.parse(disclosureCase["reported_at"] as? String))
            let embargoEnd = try #require(APICodingDates.parse(disclosureCase["embargo_end"] as? String))
            #expect(embargoEnd == reportedAt.addingTimeInterval(45 * 86_400))
            // The finding is now in a case: a participant reads it, without the evidence.
            let asVendor = try Self.json(try await client.call(.get, "/api/v1/findings/\(findingId)", as: vendor).body)
            #expect(asVendor["case_id"] as? String == caseId)
            #expect(asVendor["evidence"] == nil)

            // Non-participants get 404 for the case and every export.
            let paths = [
                "/api/v1/cases/\(caseId)", "/api/v1/cases/\(caseId)/csaf", "/api/v1/cases/\(caseId)/vex",
                "/api/v1/cases/\(caseId)/vex/\(world.id(.vendor))", "/api/v1/cases/\(caseId)/cve/\(findingId)",
                "/api/v1/cases/\(caseId)/stix",
            ]
            for path in paths {
                for member in [outsider, world.member(.otherDeveloper, .admin)] {
                    #expect(try await client.call(.get, path, as: member).status == .notFound, "\(path)")
                }
            }
            #expect(try await client.call(.get, "/api/v1/cases", as: outsider).body.contains(caseId) == false)
            #expect(try await client.call(.get, "/api/v1/cases", as: bank).body.contains(caseId))

            // Vendor statuses: a not_affected needs its justification; the bank cannot speak for the vendor.
            let vendorStatus = "/api/v1/cases/\(caseId)/vendors/\(world.id(.vendor))/status"
            let noJustification = try await client.call(.put, vendorStatus, as: vendor, json: #"{"status":"not_affected","notes":"no"}"#)
            #expect(try Self.json(noJustification.body)["field"] as? String == "justification")
            #expect(try await client.call(.put, vendorStatus, as: world.member(.bank, .admin), json: #"{"status":"affected","notes":"x"}"#).status == .forbidden)
            let affected = try await client.call(.put, vendorStatus, as: vendor, json: #"{"status":"affected","notes":"Confirmed in 4.2 and 4.3."}"#)
            #expect(affected.status == .ok, "\(affected.body)")
            let fixed = try await client.call(
                .put, vendorStatus, as: vendor, json: #"{"status":"fixed","fixed_version":"4.4","notes":"Signatures are always checked from 4.4."}"#)
            #expect(fixed.status == .ok, "\(fixed.body)")
            disclosureCase = try Self.json(fixed.body)
            let statuses = try #require(disclosureCase["vendor_statuses"] as? [[String: Any]])
            #expect(statuses.count == 1 && statuses[0]["status"] as? String == "fixed")

            // Publication waits for triage, then for the embargo unless there is a reason.
            let early = try await client.call(.post, "/api/v1/cases/\(caseId)/publication", as: office, json: "{}")
            #expect(early.status == .unprocessableContent)
            let triaged = try await client.call(.post, "/api/v1/cases/\(caseId)/triage", as: office, json: #"{"note":"confirmed"}"#)
            #expect(try Self.json(triaged.body)["tlp"] as? String == "amber")
            #expect(try Self.json(triaged.body)["state"] as? String == "embargoed")
            #expect(try await client.call(.post, "/api/v1/cases/\(caseId)/triage", as: office, json: "{}").status == .unprocessableContent)
            clock.advance(days: 10)
            let noReason = try await client.call(.post, "/api/v1/cases/\(caseId)/publication", as: office, json: "{}")
            #expect(noReason.status == .unprocessableContent)
            #expect(try Self.json(noReason.body)["field"] as? String == "early_release_reason")
            let published = try await client.call(
                .post, "/api/v1/cases/\(caseId)/publication", as: office, json: #"{"early_release_reason":"Exploited in the wild."}"#)
            #expect(published.status == .ok, "\(published.body)")
            disclosureCase = try Self.json(published.body)
            #expect(disclosureCase["state"] as? String == "published")
            #expect(disclosureCase["tlp"] as? String == "clear")
            #expect(disclosureCase["early_release_reason"] as? String == "Exploited in the wild.")
            #expect((disclosureCase["advisory_revisions"] as? [Any])?.count == 1)

            // The CSAF advisory carries Airlock's CVSS 3.1 score and the vendor's fix.
            let csaf = try Self.json(try await client.call(.get, "/api/v1/cases/\(caseId)/csaf", as: bank).body)
            let tracking = try #require((csaf["document"] as? [String: Any])?["tracking"] as? [String: Any])
            #expect(tracking["id"] as? String == reference)
            #expect(tracking["status"] as? String == "final")
            let vulnerability = try #require((csaf["vulnerabilities"] as? [[String: Any]])?.first)
            let cvssV3 = try #require((vulnerability["scores"] as? [[String: Any]])?.first?["cvss_v3"] as? [String: Any])
            #expect(cvssV3["baseScore"] as? Double == expected31.baseScore)
            #expect(cvssV3["vectorString"] as? String == expected31.vector)
            let status = try #require(vulnerability["product_status"] as? [String: Any])
            #expect((status["fixed"] as? [Any])?.isEmpty == false)

            // VEX: one document, the vendor's.
            let vex = try Self.json(try await client.call(.get, "/api/v1/cases/\(caseId)/vex", as: vendor).body)
            let documents = try #require(vex["items"] as? [[String: Any]])
            #expect(documents.map { $0["vendor_id"] as? String } == [world.id(.vendor)])
            let single = try Self.json(try await client.call(.get, "/api/v1/cases/\(caseId)/vex/\(world.id(.vendor))", as: vendor).body)
            #expect((single["document"] as? [String: Any])?["category"] as? String == "csaf_vex")
            #expect(try await client.call(.get, "/api/v1/cases/\(caseId)/vex/\(world.id(.bank))", as: vendor).status == .notFound)

            // CVE: the finding has no id, so the draft needs one the CNA reserved.
            let noId = try await client.call(.get, "/api/v1/cases/\(caseId)/cve/\(findingId)", as: office)
            #expect(noId.status == .unprocessableContent)
            #expect(try Self.json(noId.body)["field"] as? String == "cve_id")
            let cve = try await client.call(.get, "/api/v1/cases/\(caseId)/cve/\(findingId)?cve_id=CVE-2026-12345", as: office)
            #expect(cve.status == .ok, "\(cve.body)")
            let record = try Self.json(cve.body)
            #expect((record["cveMetadata"] as? [String: Any])?["cveId"] as? String == "CVE-2026-12345")
            let metrics = try #require(((record["containers"] as? [String: Any])?["cna"] as? [String: Any])?["metrics"] as? [[String: Any]])
            #expect(metrics.compactMap { ($0["cvssV3_1"] as? [String: Any])?["baseScore"] as? Double } == [expected31.baseScore])
            #expect(metrics.compactMap { ($0["cvssV4_0"] as? [String: Any])?["baseScore"] as? Double } == [expected40.score])

            // STIX: the vulnerability with Airlock's scores, every object marked CLEAR once published.
            let stix = try Self.json(try await client.call(.get, "/api/v1/cases/\(caseId)/stix", as: bank).body)
            #expect(stix["type"] as? String == "bundle")
            let objects = try #require(stix["objects"] as? [[String: Any]])
            let stixVulnerability = try #require(objects.first { $0["type"] as? String == "vulnerability" })
            let references = try #require(stixVulnerability["external_references"] as? [[String: Any]])
            let v31Reference = try #require(references.first { $0["source_name"] as? String == "cvss-v3.1" })
            #expect(v31Reference["external_id"] as? String == expected31.vector)
            #expect((v31Reference["description"] as? String)?.contains(String(format: "%.1f", expected31.baseScore)) == true)
            let v40Reference = try #require(references.first { $0["source_name"] as? String == "cvss-v4.0" })
            #expect((v40Reference["description"] as? String)?.contains(String(format: "%.1f", expected40.score)) == true)
            #expect(stixVulnerability["object_marking_refs"] as? [String] == [STIXMarking.id(of: .clear)])

            // Every view, change and export is in the audit log, by whom it was done.
            let entries = try await Self.actions(store)
            func count(_ action: String, by member: ProgramWorld.Member? = nil, format: String? = nil) -> Int {
                entries.filter { entry in
                    entry.action == action && member.map { entry.actorUserId == $0.user.id } ?? true
                        && format.map { format in
                            (try? JSONSerialization.jsonObject(with: Data(entry.detail.utf8)) as? [String: String])?["format"] == format
                        } ?? true
                }.count
            }
            #expect(count("finding.file", by: evaluator) == 1)
            #expect(count("finding.view", by: evaluator) == 1)
            #expect(count("finding.view", by: vendor) == 1)
            #expect(count("case.open", by: office) == 1)
            #expect(count("case.vendor_status", by: vendor) == 2)
            #expect(count("case.triage", by: office) == 1)
            #expect(count("case.publish", by: office) == 1)
            #expect(count("case.export", format: "csaf") == 1)
            #expect(count("case.export", format: "vex") == 2)
            #expect(count("case.export", format: "cve") == 1)
            #expect(count("case.export", format: "stix") == 1)
            #expect(count("case.list", by: bank) == 1)
            // The refusals (404s to the outsiders, the bank's 403, bad requests aside) leave a trace too.
            #expect(count("access.refused", by: outsider) >= paths.count + 1)
        }
    }

    // MARK: Sharing over TAXII

    /// Every change puts new object versions in the case's collection; publication puts the CLEAR
    /// ones in `public` and the GREEN-or-CLEAR ones in `community` and the bank's sector.
    @Test(arguments: TestBackend.all)
    func caseChangesAreSharedToTheirCollections(backend: TestBackend) async throws {
        try await withSharingAPI(backend: backend) { world, store, clock, client in
            let namespace = "https://airlock.example.org"
            let office = world.member(.office, .admin)
            let sharing = try await SharingWorld.make(world, client)
            let caseCollection = SharingCollection.disclosureCase(sharing.draftCase).id(namespace: namespace)
            func rows(_ collection: String) async throws -> [TAXIIStoredObject] {
                try await store.transaction { try await $0.taxiiObjects(collectionId: collection) }
            }

            let opened = try await rows(caseCollection)
            #expect(!opened.isEmpty)
            #expect(opened.allSatisfy { $0.caseId == sharing.draftCase && $0.specVersion == "2.1" })
            for row in opened {
                let object = try STIXObject(json: Array(row.body.utf8))
                #expect(row.tlp == (object.type == "marking-definition" ? "clear" : object.tlp?.rawValue), "\(row.objectId)")
                #expect(row.version == (object["modified"]?.stringValue ?? object["created"]?.stringValue ?? row.version))
            }
            let vulnerability = try #require(opened.first { $0.type == "vulnerability" })
            #expect(vulnerability.tlp == "red")
            // Nothing of this case has gone beyond it while it is RED (the triaged case's GREEN identities have).
            #expect(!(try await rows(SharingCollection.community.id(namespace: namespace))).contains { $0.caseId == sharing.draftCase })
            #expect(!(try await rows(SharingCollection.public.id(namespace: namespace))).contains { $0.caseId == sharing.draftCase })

            // A vendor status is a change: new versions, added strictly after the last batch.
            clock.advance(days: 1)
            _ = try await client.call(
                .put, "/api/v1/cases/\(sharing.draftCase)/vendors/\(world.id(.vendor))/status", as: office,
                json: #"{"status":"affected","notes":"Confirmed."}"#)
            let afterStatus = try await rows(caseCollection)
            let added = afterStatus.filter { row in !opened.contains { $0.sequence == row.sequence } }
            #expect(added.contains { $0.type == "note" })
            #expect(added.allSatisfy { $0.dateAddedMicros > opened.map(\.dateAddedMicros).max()! })
            // Reading the case does not add anything when nothing changed.
            _ = try await client.call(.get, "/api/v1/cases/\(sharing.draftCase)", as: office)
            #expect(try await rows(caseCollection).count == afterStatus.count)

            _ = try await client.call(.post, "/api/v1/cases/\(sharing.draftCase)/triage", as: office, json: "{}")
            clock.advance(days: 50)
            let published = try await client.call(.post, "/api/v1/cases/\(sharing.draftCase)/publication", as: office, json: "{}")
            #expect(published.status == .ok, "\(published.body)")
            let publicRows = try await rows(SharingCollection.public.id(namespace: namespace))
            #expect(publicRows.contains { $0.type == "vulnerability" && $0.objectId == vulnerability.objectId })
            #expect(publicRows.contains { $0.type == "report" })
            #expect(publicRows.allSatisfy { $0.tlp == "clear" })
            let community = try await rows(SharingCollection.community.id(namespace: namespace))
            #expect(community.contains { $0.type == "vulnerability" })
            #expect(community.allSatisfy { ["green", "clear"].contains($0.tlp) })
            // Participants' identities are GREEN: the community and the bank's sector have them, the public does not.
            #expect(community.contains { $0.type == "identity" && $0.tlp == "green" })
            #expect(!publicRows.contains { $0.tlp == "green" })
            let sector = try await rows(SharingCollection.sector(.banking).id(namespace: namespace))
            #expect(sector.contains { $0.type == "vulnerability" })
            // The latest vulnerability in the case's collection is the CLEAR one.
            let latest = try await rows(caseCollection).filter { $0.objectId == vulnerability.objectId }.max { $0.versionMicros < $1.versionMicros }
            #expect(latest?.tlp == "clear")
        }
    }

    /// A TLP plan that steps down to GREEN on triage shares the GREEN objects with the community
    /// before publication; CLEAR waits for publication.
    @Test func aStepDownToGreenSharesWithTheCommunity() async throws {
        try await withSharingAPI { world, store, _, client in
            let namespace = "https://airlock.example.org"
            let office = world.member(.office, .admin)
            let filed = try await client.call(
                .post, "/api/v1/findings", as: world.member(.evaluator, .admin), json: SharingWorld.findingBody(world, tlp: "TLP:GREEN"))
            let findingId = try #require(try Self.json(filed.body)["id"] as? String)
            let opened = try await client.call(
                .post, "/api/v1/cases", as: office,
                json: #"{"title":"Green","finding_ids":["\#(findingId)"],"tlp_plan":[{"tlp":"TLP:RED","when":"immediately"},{"tlp":"green","when":"on_triage"},{"tlp":"clear","when":"on_publication"}]}"#)
            let caseId = try #require(try Self.json(opened.body)["id"] as? String)
            let community = SharingCollection.community.id(namespace: namespace)
            #expect(try await store.transaction { try await $0.taxiiObjects(collectionId: community) }.isEmpty)
            let triaged = try await client.call(.post, "/api/v1/cases/\(caseId)/triage", as: office, json: "{}")
            #expect(try Self.json(triaged.body)["tlp"] as? String == "green")
            let shared = try await store.transaction { try await $0.taxiiObjects(collectionId: community) }
            #expect(shared.contains { $0.type == "vulnerability" && $0.tlp == "green" && $0.caseId == caseId })
            let publicRows = try await store.transaction {
                try await $0.taxiiObjects(collectionId: SharingCollection.public.id(namespace: namespace))
            }
            #expect(!publicRows.contains { $0.type == "vulnerability" })
            // A plan that does not step down is refused, naming the step.
            let bad = try await client.call(
                .post, "/api/v1/cases", as: office,
                json: #"{"title":"Bad","finding_ids":["\#(findingId)"],"tlp_plan":[{"tlp":"green","when":"immediately"},{"tlp":"red","when":"on_triage"}]}"#)
            #expect(try Self.json(bad.body)["field"] as? String == "tlp_plan[1]")
        }
    }

    // MARK: Embargo and merges

    /// For a finding about the model, the embargo never ends before the model's public release.
    @Test func anEmbargoAboutTheModelWaitsForItsRelease() async throws {
        try await withSharingAPI { world, _, _, client in
            let body = SharingWorld.findingBody(world)
                .replacingOccurrences(of: "third_party_vulnerability", with: "ai_system_weakness")
                .replacingOccurrences(of: world.id(.vendor), with: world.id(.developer))
            let filed = try await client.call(.post, "/api/v1/findings", as: world.member(.evaluator, .admin), json: body)
            let findingId = try #require(try Self.json(filed.body)["id"] as? String)
            let opened = try await client.call(
                .post, "/api/v1/cases", as: world.member(.office, .member), json: #"{"title":"Weakness","finding_ids":["\#(findingId)"]}"#)
            let disclosureCase = try Self.json(opened.body)
            #expect(APICodingDates.parse(disclosureCase["embargo_end"] as? String) == world.version.plannedReleaseAt)
            let roles = (disclosureCase["participants"] as? [[String: String]] ?? []).map { "\($0["organisation_id"]!) \($0["role"]!)" }
            #expect(roles.contains("\(world.id(.developer)) model_developer"))
            // The developer now takes part, and may state its status as the model's vendor.
            let caseId = try #require(disclosureCase["id"] as? String)
            let stated = try await client.call(
                .put, "/api/v1/cases/\(caseId)/vendors/\(world.id(.developer))/status", as: world.member(.developer, .member),
                json: #"{"status":"under_investigation"}"#)
            #expect(stated.status == .ok, "\(stated.body)")
        }
    }

    @Test(arguments: TestBackend.all)
    func mergingKeepsHistoryOnBothFindings(backend: TestBackend) async throws {
        try await withSharingAPI(backend: backend) { world, store, _, client in
            let evaluator = world.member(.evaluator, .member)
            let sharing = try await SharingWorld.make(world, client)
            // The bank reports nothing and takes part only in the case: it may not merge.
            let refused = try await client.call(
                .post, "/api/v1/findings/\(sharing.spare)/merge", as: world.member(.bank, .admin), json: #"{"into":"\#(sharing.inCase)"}"#)
            #expect(refused.status == .notFound)
            let merged = try await client.call(
                .post, "/api/v1/findings/\(sharing.spare)/merge", as: evaluator, json: #"{"into":"\#(sharing.inCase)"}"#)
            #expect(merged.status == .ok, "\(merged.body)")
            let primary = try Self.json(merged.body)
            let history = try #require(primary["history"] as? [[String: Any]])
            #expect(history.map { $0["event"] as? String } == ["recorded", "merged_duplicate"])
            #expect(history.last?["related_finding_id"] as? String == sharing.spare)
            let duplicate = try Self.json(try await client.call(.get, "/api/v1/findings/\(sharing.spare)", as: evaluator).body)
            #expect(duplicate["merged_into"] as? String == sharing.inCase)
            #expect((duplicate["history"] as? [[String: Any]])?.last?["event"] as? String == "merged_into")
            // Merging it again, or into itself, is refused.
            let again = try await client.call(
                .post, "/api/v1/findings/\(sharing.spare)/merge", as: evaluator, json: #"{"into":"\#(sharing.inCase)"}"#)
            #expect(again.status == .unprocessableContent)
            let itself = try await client.call(
                .post, "/api/v1/findings/\(sharing.inCase)/merge", as: evaluator, json: #"{"into":"\#(sharing.inCase)"}"#)
            #expect(itself.status == .unprocessableContent)
            // A merged duplicate cannot join a case.
            let join = try await client.call(
                .post, "/api/v1/cases/\(sharing.draftCase)/findings", as: world.member(.office, .admin),
                json: #"{"finding_id":"\#(sharing.spare)"}"#)
            #expect(try Self.json(join.body)["field"] as? String == "finding_id")
            #expect(try await Self.actions(store).contains { $0.action == "finding.merge" && $0.objectId == sharing.spare })
        }
    }
}

/// Reads the API's RFC 3339 times in tests.
enum APICodingDates {
    static func parse(_ text: String?) -> Date? {
        text.flatMap { RFC3339.parse($0) }
    }
}
