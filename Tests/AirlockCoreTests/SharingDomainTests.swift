import AirlockCore
import Foundation
import Testing

/// The sharing domain's pure rules: TLP labels, findings and their merges, vendor statements,
/// the embargo, the TLP step-down and publication.
@Suite struct SharingDomainTests {
    static let day: TimeInterval = 86_400
    /// 2026-01-05T09:00:00Z.
    static let reported = Date(timeIntervalSince1970: 1_767_603_600)

    static func finding(
        id: String = "fnd_1", kind: FindingKind = .thirdPartyVulnerability, tlp: TrafficLightProtocol = .amber,
        reporter: String = "org_institute", reportedAt: Date = reported
    ) -> Finding {
        Finding(
            id: id, kind: kind, origin: .assessmentRun, title: "SQL injection in LedgerCore",
            description: "The export endpoint concatenates the filter into SQL.",
            affectedProducts: [AffectedProduct(
                vendor: "Northwind", name: "LedgerCore", versions: ["4.2.0"], fixedVersion: "4.2.2",
                cpe: "cpe:2.3:a:northwind:ledgercore:*:*:*:*:*:*:*:*", vendorOrganisationId: "org_northwind")],
            evidence: [FindingEvidence(text: "Read another account's ledger.", runId: "run_1", sampleId: "s1", transcript: "evidence/s1-1.md")],
            tlp: tlp, modelVersionId: "ver_1", reporterOrganisationId: reporter, reportedAt: reportedAt)
    }

    static func disclosure(findings: [Finding] = [finding()], plan: [TLPStep] = DisclosureCase.defaultTLPPlan) throws -> DisclosureCase {
        var disclosure = DisclosureCase(
            id: "case_1", reference: "AIRLOCK-2026-0001", title: "LedgerCore", summary: "A SQL injection.", reportedAt: reported, tlpPlan: plan)
        disclosure.add(CaseParticipant(organisationId: "org_institute", role: .reporter))
        disclosure.add(CaseParticipant(organisationId: "org_northwind", role: .vendor))
        disclosure.add(CaseParticipant(organisationId: "org_lab", role: .modelDeveloper))
        disclosure.add(CaseParticipant(organisationId: "org_bank", role: .affectedOperator))
        disclosure.add(CaseParticipant(organisationId: "org_office", role: .programOffice))
        for finding in findings { try disclosure.add(finding) }
        return disclosure
    }

    // MARK: TLP

    @Test func labelsAreFIRSTsSpelling() {
        #expect(TrafficLightProtocol.allCases.map(\.label) == ["TLP:CLEAR", "TLP:GREEN", "TLP:AMBER", "TLP:AMBER+STRICT", "TLP:RED"])
        #expect(TrafficLightProtocol.allCases.map(\.rawValue) == ["clear", "green", "amber", "amber+strict", "red"])
    }

    @Test func levelsAreOrderedByRestriction() {
        let ordered: [TrafficLightProtocol] = [.clear, .green, .amber, .amberStrict, .red]
        for (lower, higher) in zip(ordered, ordered.dropFirst()) {
            #expect(lower < higher)
            #expect(max(lower, higher) == higher)
        }
        #expect(TrafficLightProtocol.allCases.shuffled().sorted() == ordered)
    }

    @Test(arguments: [
        ("TLP:AMBER+STRICT", TrafficLightProtocol.amberStrict), ("tlp:amber+strict", .amberStrict), ("amber+strict", .amberStrict),
        ("  TLP:RED\n", .red), ("TLP:CLEAR", .clear), ("green", .green), ("TLP:Amber", .amber),
    ])
    func parsesLabels(text: String, level: TrafficLightProtocol) throws {
        #expect(try TrafficLightProtocol(parsing: text) == level)
    }

    @Test func refusesTLP1WhiteWithAPointerToClear() {
        let error = #expect(throws: ProgramRuleError.self) { try TrafficLightProtocol(parsing: "TLP:WHITE") }
        #expect(error?.code == .invalidField)
        #expect(error?.field == "tlp")
        #expect(error?.reason.contains("TLP:CLEAR") == true)
    }

    @Test(arguments: ["TLP:PURPLE", "", "TLP:", "AMBER STRICT", "TLP: RED"])
    func refusesUnknownLabelsNamingTheField(text: String) {
        let error = #expect(throws: ProgramRuleError.self) { try TrafficLightProtocol(parsing: text, field: "marking") }
        #expect(error?.field == "marking")
        #expect(error?.reason.contains("TLP:AMBER+STRICT") == true, "the error lists the labels: \(error?.reason ?? "")")
    }

    @Test func encodesAsTheTLP2Value() throws {
        let data = try JSONEncoder().encode([TrafficLightProtocol.amberStrict])
        #expect(String(decoding: data, as: UTF8.self) == #"["amber+strict"]"#)
        #expect(try JSONDecoder().decode([TrafficLightProtocol].self, from: data) == [.amberStrict])
    }

    // MARK: Findings

    @Test func aCompleteFindingIsValid() throws {
        try Self.finding().validate()
    }

    @Test func onlyFindingsAboutTheModelWaitForItsRelease() {
        #expect(!FindingKind.thirdPartyVulnerability.isAboutModel)
        #expect(FindingKind.aiSystemWeakness.isAboutModel)
        #expect(FindingKind.dangerousCapability.isAboutModel)
    }

    /// Each broken field, and the field the error must name.
    static let brokenFields: [(String, @Sendable (inout Finding) -> Void)] = [
        ("title", { $0.title = "  " }),
        ("description", { $0.description = "" }),
        ("model_version_id", { $0.modelVersionId = "" }),
        ("reporter_organisation_id", { $0.reporterOrganisationId = "" }),
        ("affected_products", { $0.affectedProducts = [] }),
        ("affected_products[0].vendor", { $0.affectedProducts[0].vendor = "" }),
        ("affected_products[0].name", { $0.affectedProducts[0].name = "" }),
        ("affected_products[0].versions[1]", { $0.affectedProducts[0].versions.append(" ") }),
        ("affected_products[0].fixed_version", { $0.affectedProducts[0].fixedVersion = "4.2.0" }),
        ("affected_products[0].cpe", { $0.affectedProducts[0].cpe = "cpe:/a:northwind:ledgercore" }),
        ("affected_products[0].cpe", { $0.affectedProducts[0].cpe = "cpe:2.3:a:northwind:ledgercore:*:*:*" }),
        ("affected_products[0].purl", { $0.affectedProducts[0].purl = "maven/com.example/ledger" }),
        ("evidence", { $0.evidence = [] }),
        ("evidence[0].text", { $0.evidence[0].text = "" }),
        ("evidence", { $0.evidence[0].transcript = nil }),
        ("cwe.id", { $0.cwe = CWEReference(id: "CWE-0", name: "x") }),
        ("cwe.name", { $0.cwe = CWEReference(id: "CWE-89", name: " ") }),
        ("cve_id", { $0.cveId = "CVE-26-1" }),
        ("cve_id", { $0.cveId = "cve-2026-1234" }),
        ("remediation", { $0.remediation = "" }),
    ]

    @Test(arguments: 0..<SharingDomainTests.brokenFields.count)
    func validationNamesTheField(index: Int) {
        let (field, breakIt) = Self.brokenFields[index]
        var finding = Self.finding()
        breakIt(&finding)
        let error = #expect(throws: ProgramRuleError.self) { try finding.validate() }
        #expect(error?.code == .invalidField)
        #expect(error?.field == field, "\(error?.description ?? "no error")")
    }

    @Test func aFiledFindingNeedsNoRun() throws {
        var finding = Self.finding()
        finding.origin = .filed
        finding.evidence = [FindingEvidence(text: "Reproduced by hand.")]
        try finding.validate()
    }

    @Test func cveAndCWEIdsFollowTheirPatterns() {
        #expect(Finding.isCVEId("CVE-2026-10001"))
        #expect(Finding.isCVEId("CVE-1999-0001"))
        #expect(!Finding.isCVEId("CVE-2026-123"))
        #expect(!Finding.isCVEId(" CVE-2026-1234"))
        #expect(Finding.isCWEId("CWE-1427"))
        #expect(!Finding.isCWEId("CWE-01"))
    }

    @Test func productIdentifiersNameEachVersion() {
        var product = AffectedProduct(
            vendor: "Northwind", name: "LedgerCore", versions: ["4.2.0"], cpe: "cpe:2.3:a:northwind:ledgercore:*:*:*:*:*:*:*:*",
            purl: "pkg:maven/com.northwind/ledgercore?type=jar")
        #expect(product.cpe(forVersion: "4.2.0") == "cpe:2.3:a:northwind:ledgercore:4.2.0:*:*:*:*:*:*:*")
        #expect(product.cpe(forVersion: "4.2 rc1") == #"cpe:2.3:a:northwind:ledgercore:4.2\ rc1:*:*:*:*:*:*:*"#)
        #expect(product.purl(forVersion: "4.2.0") == "pkg:maven/com.northwind/ledgercore@4.2.0?type=jar")
        #expect(product.purl(forVersion: "4.2 rc1") == "pkg:maven/com.northwind/ledgercore@4.2%20rc1?type=jar")
        #expect(product.purl(forVersion: nil) == "pkg:maven/com.northwind/ledgercore?type=jar")
        // A CPE or purl that already names a version is left alone.
        product.cpe = "cpe:2.3:a:northwind:ledgercore:4.1:*:*:*:*:*:*:*"
        product.purl = "pkg:npm/ledger@1.0.0"
        #expect(product.cpe(forVersion: "4.2.0") == "cpe:2.3:a:northwind:ledgercore:4.1:*:*:*:*:*:*:*")
        #expect(product.purl(forVersion: "4.2.0") == "pkg:npm/ledger@1.0.0")
    }

    // MARK: Merging duplicates

    @Test func mergingKeepsBothHistoriesAndTheStricterMarking() throws {
        var primary = Self.finding(id: "fnd_primary", tlp: .amber, reporter: "org_institute", reportedAt: Self.reported.addingTimeInterval(Self.day))
        var duplicate = Self.finding(id: "fnd_dup", tlp: .red, reporter: "org_cyber", reportedAt: Self.reported)
        duplicate.origin = .filed
        duplicate.evidence = [FindingEvidence(text: "Seen in staging.")]
        duplicate.affectedProducts = [
            AffectedProduct(vendor: "northwind", name: "ledgercore", versions: ["4.1.9", "4.2.0"]),
            AffectedProduct(vendor: "Contoso", name: "Gateway", versions: ["7.1"]),
        ]
        duplicate.cveId = "CVE-2026-10001"
        duplicate.cwe = CWEReference(id: "CWE-89", name: "SQL Injection")
        let at = Self.reported.addingTimeInterval(3 * Self.day)

        try primary.merge(duplicate: &duplicate, at: at, by: "org_office")

        #expect(primary.tlp == .red)
        #expect(primary.reportedAt == Self.reported)
        #expect(primary.cveId == "CVE-2026-10001")
        #expect(primary.cwe?.id == "CWE-89")
        #expect(primary.evidence.map(\.text) == ["Read another account's ledger.", "Seen in staging."])
        #expect(primary.affectedProducts.map(\.name) == ["LedgerCore", "Gateway"])
        #expect(primary.affectedProducts[0].versions == ["4.2.0", "4.1.9"])
        #expect(primary.reporters == ["org_institute", "org_cyber"])
        #expect(primary.isActive)
        #expect(primary.history.map(\.event) == [.recorded, .mergedDuplicate])
        #expect(primary.history.last?.relatedFindingId == "fnd_dup")
        #expect(primary.history.last?.at == at)
        #expect(primary.history.last?.byOrganisationId == "org_office")

        #expect(duplicate.mergedInto == "fnd_primary")
        #expect(!duplicate.isActive)
        #expect(duplicate.history.map(\.event) == [.recorded, .mergedInto])
        #expect(duplicate.history.last?.relatedFindingId == "fnd_primary")
        // The duplicate's own record is kept as it was.
        #expect(duplicate.evidence.map(\.text) == ["Seen in staging."])
    }

    @Test func theMarkingNeverRelaxesOnMerge() throws {
        var primary = Self.finding(id: "a", tlp: .red)
        var duplicate = Self.finding(id: "b", tlp: .clear)
        try primary.merge(duplicate: &duplicate, at: Self.reported, by: "org_office")
        #expect(primary.tlp == .red)
    }

    @Test func refusedMerges() throws {
        var primary = Self.finding(id: "a")
        var same = Self.finding(id: "a")
        #expect(throws: ProgramRuleError.self) { try primary.merge(duplicate: &same, at: Self.reported, by: "o") }

        var otherKind = Self.finding(id: "b", kind: .aiSystemWeakness)
        let kindError = #expect(throws: ProgramRuleError.self) { try primary.merge(duplicate: &otherKind, at: Self.reported, by: "o") }
        #expect(kindError?.field == "kind")

        var withCVE = Self.finding(id: "c")
        withCVE.cveId = "CVE-2026-2222"
        primary.cveId = "CVE-2026-1111"
        let cveError = #expect(throws: ProgramRuleError.self) { try primary.merge(duplicate: &withCVE, at: Self.reported, by: "o") }
        #expect(cveError?.code == .conflict)
        #expect(cveError?.field == "cve_id")
        #expect(withCVE.isActive, "a refused merge changes nothing")

        primary.cveId = nil
        var first = Self.finding(id: "d")
        try primary.merge(duplicate: &first, at: Self.reported, by: "o")
        var again = first
        let againError = #expect(throws: ProgramRuleError.self) { try primary.merge(duplicate: &again, at: Self.reported, by: "o") }
        #expect(againError?.field == "duplicate_id")
        var merged = first
        var fresh = Self.finding(id: "e")
        let mergedError = #expect(throws: ProgramRuleError.self) { try merged.merge(duplicate: &fresh, at: Self.reported, by: "o") }
        #expect(mergedError?.field == "primary_id")
    }

    @Test func mergingInACaseMovesTheVendorsStatements() throws {
        var disclosure = try Self.disclosure(findings: [Self.finding(id: "a"), Self.finding(id: "b")])
        try disclosure.record(VendorStatement(vendorId: "org_northwind", findingId: "b", status: .fixed, notes: "4.2.2", updatedAt: Self.reported))
        try disclosure.mergeFinding("b", into: "a", at: Self.reported, by: "org_office")
        #expect(disclosure.activeFindings.map(\.id) == ["a"])
        #expect(disclosure.findings.count == 2, "the duplicate stays for the record")
        #expect(disclosure.statement(of: "org_northwind", for: "a")?.status == .fixed)
        #expect(!disclosure.vendorStatements.contains { $0.findingId == "b" })
        let error = #expect(throws: ProgramRuleError.self) { try disclosure.mergeFinding("zz", into: "a", at: Self.reported, by: "o") }
        #expect(error?.field == "duplicate_id")
    }

    // MARK: Vendor statements

    @Test func vendorStatusesEncodeWithTheirJustification() throws {
        let statuses: [VendorStatus] = [.affected, .notAffected(.inlineMitigationsAlreadyExist), .fixed, .underInvestigation]
        let data = try JSONEncoder().encode(statuses)
        let text = String(decoding: data, as: UTF8.self)
        #expect(text.contains(#""justification":"inline_mitigations_already_exist""#))
        #expect(text.contains(#""status":"not_affected""#))
        #expect(try JSONDecoder().decode([VendorStatus].self, from: data) == statuses)
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(VendorStatus.self, from: Data(#"{"status":"not_affected"}"#.utf8)) }
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(VendorStatus.self, from: Data(#"{"status":"unknown"}"#.utf8)) }
    }

    @Test func statementsComeFromVendorsAboutTheCasesFindings() throws {
        var disclosure = try Self.disclosure()
        let notVendor = #expect(throws: ProgramRuleError.self) {
            try disclosure.record(VendorStatement(vendorId: "org_bank", status: .affected, notes: "x", updatedAt: Self.reported))
        }
        #expect(notVendor?.field == "vendor_id")
        let unknownFinding = #expect(throws: ProgramRuleError.self) {
            try disclosure.record(VendorStatement(vendorId: "org_northwind", findingId: "nope", status: .affected, notes: "x", updatedAt: Self.reported))
        }
        #expect(unknownFinding?.field == "finding_id")
        let noNotes = #expect(throws: ProgramRuleError.self) {
            try disclosure.record(VendorStatement(vendorId: "org_northwind", status: .fixed, notes: " ", updatedAt: Self.reported))
        }
        #expect(noNotes?.field == "notes")
        // Under investigation needs no notes; the model developer may speak as a vendor.
        try disclosure.record(VendorStatement(vendorId: "org_northwind", status: .underInvestigation, notes: "", updatedAt: Self.reported))
        try disclosure.record(VendorStatement(vendorId: "org_lab", status: .notAffected(.componentNotPresent), notes: "n/a", updatedAt: Self.reported))
        #expect(disclosure.statement(of: "org_lab", for: "fnd_1")?.status == .notAffected(.componentNotPresent))
    }

    @Test func aStatementReplacesTheEarlierOneAndSpecificBeatsGeneral() throws {
        var disclosure = try Self.disclosure()
        try disclosure.record(VendorStatement(vendorId: "org_northwind", status: .underInvestigation, notes: "", updatedAt: Self.reported))
        try disclosure.record(VendorStatement(
            vendorId: "org_northwind", status: .affected, notes: "confirmed", updatedAt: Self.reported.addingTimeInterval(Self.day)))
        #expect(disclosure.vendorStatements.count == 1)
        #expect(disclosure.statement(of: "org_northwind", for: "fnd_1")?.status == .affected)
        try disclosure.record(VendorStatement(
            vendorId: "org_northwind", findingId: "fnd_1", status: .fixed, notes: "4.2.2", updatedAt: Self.reported.addingTimeInterval(2 * Self.day)))
        #expect(disclosure.vendorStatements.count == 2)
        #expect(disclosure.statement(of: "org_northwind", for: "fnd_1")?.status == .fixed)
        #expect(disclosure.statement(of: "org_contoso", for: "fnd_1") == nil)
    }

    // MARK: Embargo

    @Test func theDefaultEmbargoIsFortyFiveDays() {
        #expect(DisclosureCase.defaultEmbargoDays == 45)
        #expect(DisclosureCase.defaultEmbargoEnd(reportedAt: Self.reported) == Self.reported.addingTimeInterval(45 * Self.day))
    }

    @Test func aThirdPartyVulnerabilityIgnoresTheModelsRelease() throws {
        let disclosure = try Self.disclosure()
        let end = Self.reported.addingTimeInterval(45 * Self.day)
        #expect(disclosure.embargoEnd(modelPublicRelease: nil) == end)
        #expect(disclosure.embargoEnd(modelPublicRelease: Self.reported.addingTimeInterval(200 * Self.day)) == end)
    }

    @Test func aFindingAboutTheModelWaitsForItsRelease() throws {
        let disclosure = try Self.disclosure(findings: [Self.finding(kind: .aiSystemWeakness)])
        let defaultEnd = Self.reported.addingTimeInterval(45 * Self.day)
        #expect(disclosure.embargoEnd(modelPublicRelease: Self.reported.addingTimeInterval(10 * Self.day)) == defaultEnd)
        #expect(disclosure.embargoEnd(modelPublicRelease: Self.reported.addingTimeInterval(90 * Self.day)) == Self.reported.addingTimeInterval(90 * Self.day))
        #expect(disclosure.embargoEnd(modelPublicRelease: nil) == nil, "no release set: the embargo holds")
        let capability = try Self.disclosure(findings: [Self.finding(kind: .dangerousCapability)])
        #expect(capability.embargoEnd(modelPublicRelease: nil) == nil)
    }

    @Test func anAgreedEndReplacesTheDefaultButNotTheRelease() throws {
        var disclosure = try Self.disclosure()
        disclosure.agreedEmbargoEnd = Self.reported.addingTimeInterval(20 * Self.day)
        #expect(disclosure.embargoEnd(modelPublicRelease: nil) == Self.reported.addingTimeInterval(20 * Self.day))
        try disclosure.add(Self.finding(id: "fnd_model", kind: .aiSystemWeakness))
        #expect(disclosure.embargoEnd(modelPublicRelease: Self.reported.addingTimeInterval(30 * Self.day)) == Self.reported.addingTimeInterval(30 * Self.day))
        #expect(disclosure.embargoEnd(modelPublicRelease: Self.reported.addingTimeInterval(5 * Self.day)) == Self.reported.addingTimeInterval(20 * Self.day))
    }

    @Test func aMergedModelFindingNoLongerHoldsTheEmbargo() throws {
        var disclosure = try Self.disclosure(findings: [Self.finding(id: "a"), Self.finding(id: "b", kind: .aiSystemWeakness)])
        #expect(disclosure.concernsModel)
        // Only findings of one kind merge, so mark the model finding merged directly, as a store would load it.
        disclosure.findings[1].mergedInto = "a"
        #expect(!disclosure.concernsModel)
    }

    // MARK: TLP step-down

    @Test func theDefaultPlanStepsDownOnTriageAndPublication() throws {
        var disclosure = try Self.disclosure(findings: [Self.finding(tlp: .green)])
        let triage = Self.reported.addingTimeInterval(2 * Self.day)
        #expect(disclosure.tlp(at: Self.reported) == .red)
        try disclosure.markTriaged(at: triage)
        #expect(disclosure.tlp(at: triage.addingTimeInterval(-1)) == .red)
        #expect(disclosure.tlp(at: triage) == .amber)
        try disclosure.beginEmbargo(at: triage)
        let published = Self.reported.addingTimeInterval(46 * Self.day)
        try disclosure.publish(at: published, modelPublicRelease: nil)
        #expect(disclosure.tlp(at: published.addingTimeInterval(-1)) == .amber)
        #expect(disclosure.tlp(at: published) == .clear)
    }

    @Test func datedStepsTakeEffectOnTheirDate() throws {
        let plan = [
            TLPStep(.red, .immediately), TLPStep(.amberStrict, .at(Self.reported.addingTimeInterval(Self.day))),
            TLPStep(.green, .at(Self.reported.addingTimeInterval(10 * Self.day))),
        ]
        let disclosure = try Self.disclosure(plan: plan)
        #expect(disclosure.tlp(at: Self.reported) == .red)
        #expect(disclosure.tlp(at: Self.reported.addingTimeInterval(Self.day)) == .amberStrict)
        #expect(disclosure.tlp(at: Self.reported.addingTimeInterval(10 * Self.day)) == .green)
    }

    @Test func aFindingKeepsItsReportersMarkingUntilPublication() throws {
        var disclosure = try Self.disclosure(findings: [Self.finding(tlp: .red)])
        try disclosure.markTriaged(at: Self.reported)
        try disclosure.beginEmbargo(at: Self.reported)
        let finding = disclosure.findings[0]
        #expect(disclosure.tlp(at: Self.reported.addingTimeInterval(Self.day)) == .amber)
        #expect(disclosure.tlp(for: finding, at: Self.reported.addingTimeInterval(Self.day)) == .red)
        let published = Self.reported.addingTimeInterval(45 * Self.day)
        try disclosure.publish(at: published, modelPublicRelease: nil)
        #expect(disclosure.tlp(for: finding, at: published) == .clear)
    }

    static let badPlans: [(String, [TLPStep])] = [
        ("tlp_plan", []),
        ("tlp_plan[0]", [TLPStep(.red, .onTriage)]),
        ("tlp_plan[1]", [TLPStep(.amber, .immediately), TLPStep(.red, .onTriage)]),
        ("tlp_plan[1]", [TLPStep(.amber, .immediately), TLPStep(.amber, .onTriage)]),
        ("tlp_plan[1]", [TLPStep(.red, .immediately), TLPStep(.amber, .immediately)]),
        ("tlp_plan[1]", [TLPStep(.red, .immediately), TLPStep(.green, .onPublication), TLPStep(.clear, .onTriage)]),
        ("tlp_plan[2]", [
            TLPStep(.red, .immediately), TLPStep(.amber, .at(SharingDomainTests.reported.addingTimeInterval(2 * SharingDomainTests.day))),
            TLPStep(.green, .at(SharingDomainTests.reported.addingTimeInterval(SharingDomainTests.day))),
        ]),
        ("tlp_plan[2]", [TLPStep(.red, .immediately), TLPStep(.amber, .onTriage), TLPStep(.green, .onTriage)]),
    ]

    @Test(arguments: 0..<SharingDomainTests.badPlans.count)
    func invalidPlansNameTheStep(index: Int) {
        let (field, plan) = Self.badPlans[index]
        let error = #expect(throws: ProgramRuleError.self) { try DisclosureCase.validate(plan: plan) }
        #expect(error?.field == field, "\(error?.description ?? "no error")")
    }

    @Test func theDefaultPlanIsValid() throws {
        try DisclosureCase.validate(plan: DisclosureCase.defaultTLPPlan)
        #expect(DisclosureCase.defaultTLPPlan.map(\.tlp) == [.red, .amber, .clear])
    }

    @Test func triggersEncodeReadably() throws {
        let steps = [TLPStep(.red, .immediately), TLPStep(.amber, .at(Self.reported)), TLPStep(.green, .onTriage), TLPStep(.clear, .onPublication)]
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        let data = try encoder.encode(steps)
        let text = String(decoding: data, as: UTF8.self)
        #expect(text.contains(#""when":"on_triage""#))
        #expect(text.contains(#""date":"2026-01-05T09:00:00Z""#))
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        #expect(try decoder.decode([TLPStep].self, from: data) == steps)
    }

    // MARK: Publication

    @Test func publicationGoesThroughTheEmbargo() throws {
        var disclosure = try Self.disclosure()
        let early = #expect(throws: ProgramRuleError.self) {
            try disclosure.publish(at: Self.reported.addingTimeInterval(50 * Self.day), modelPublicRelease: nil)
        }
        #expect(early?.code == .invalidTransition)
        var empty = DisclosureCase(id: "c", reference: "R", title: "T", summary: "", reportedAt: Self.reported)
        let noFinding = #expect(throws: ProgramRuleError.self) { try empty.beginEmbargo(at: Self.reported) }
        #expect(noFinding?.field == "findings")
        try disclosure.beginEmbargo(at: Self.reported)
        #expect(disclosure.state == .embargoed)
        #expect(throws: ProgramRuleError.self) { try disclosure.beginEmbargo(at: Self.reported) }
    }

    @Test func publishingBeforeTheEmbargoEndNeedsAReason() throws {
        var disclosure = try Self.disclosure()
        try disclosure.beginEmbargo(at: Self.reported)
        let early = Self.reported.addingTimeInterval(10 * Self.day)
        let error = #expect(throws: ProgramRuleError.self) { try disclosure.publish(at: early, modelPublicRelease: nil, earlyReleaseReason: "  ") }
        #expect(error?.code == .invalidWindow)
        #expect(error?.field == "early_release_reason")
        #expect(disclosure.state == .embargoed)
        try disclosure.publish(at: early, modelPublicRelease: nil, earlyReleaseReason: "Exploited in the wild since 12 January.")
        #expect(disclosure.state == .published)
        #expect(disclosure.publishedAt == early)
        #expect(disclosure.earlyReleaseReason == "Exploited in the wild since 12 January.")
        #expect(disclosure.advisoryRevisions == [AdvisoryRevision(number: 1, date: early, summary: "Initial public release.")])
        #expect(throws: ProgramRuleError.self) { try disclosure.publish(at: early, modelPublicRelease: nil, earlyReleaseReason: "again") }
    }

    @Test func publishingAtTheEmbargoEndNeedsNoReason() throws {
        var disclosure = try Self.disclosure()
        try disclosure.beginEmbargo(at: Self.reported)
        let end = Self.reported.addingTimeInterval(45 * Self.day)
        try disclosure.publish(at: end, modelPublicRelease: nil, earlyReleaseReason: "not needed")
        #expect(disclosure.earlyReleaseReason == nil, "a reason is only kept for an early release")
    }

    @Test func aModelWeaknessNeedsAReasonWhileTheReleaseIsUnset() throws {
        var disclosure = try Self.disclosure(findings: [Self.finding(kind: .aiSystemWeakness)])
        try disclosure.beginEmbargo(at: Self.reported)
        let late = Self.reported.addingTimeInterval(100 * Self.day)
        let error = #expect(throws: ProgramRuleError.self) { try disclosure.publish(at: late, modelPublicRelease: nil) }
        #expect(error?.reason.contains("release") == true)
        let release = Self.reported.addingTimeInterval(120 * Self.day)
        #expect(throws: ProgramRuleError.self) { try disclosure.publish(at: late, modelPublicRelease: release) }
        try disclosure.publish(at: release, modelPublicRelease: release)
        #expect(disclosure.state == .published)
    }

    @Test func advisoryRevisionsCountUpAfterPublication() throws {
        var disclosure = try Self.disclosure()
        #expect(throws: ProgramRuleError.self) { try disclosure.recordAdvisoryRevision(at: Self.reported, summary: "x") }
        try disclosure.beginEmbargo(at: Self.reported)
        let published = Self.reported.addingTimeInterval(45 * Self.day)
        try disclosure.publish(at: published, modelPublicRelease: nil)
        let sameTime = #expect(throws: ProgramRuleError.self) { try disclosure.recordAdvisoryRevision(at: published, summary: "x") }
        #expect(sameTime?.field == "date")
        try disclosure.recordAdvisoryRevision(at: published.addingTimeInterval(Self.day), summary: "CVE assigned.")
        #expect(disclosure.advisoryRevisions.map(\.number) == [1, 2])
        #expect(throws: ProgramRuleError.self) { try disclosure.recordAdvisoryRevision(at: published.addingTimeInterval(2 * Self.day), summary: "") }
        #expect(throws: ProgramRuleError.self) { try disclosure.add(Self.finding(id: "late")) }
    }

    @Test func caseValidationPrefixesTheFindingsField() throws {
        var disclosure = try Self.disclosure()
        try disclosure.validate()
        disclosure.findings[0].title = ""
        let error = #expect(throws: ProgramRuleError.self) { try disclosure.validate() }
        #expect(error?.field == "findings[0].title")
        disclosure.findings[0].title = "ok"
        disclosure.reference = " AIRLOCK-1"
        #expect((#expect(throws: ProgramRuleError.self) { try disclosure.validate() })?.field == "reference")
        disclosure.reference = "AIRLOCK-1"
        disclosure.agreedEmbargoEnd = Self.reported
        #expect((#expect(throws: ProgramRuleError.self) { try disclosure.validate() })?.field == "agreed_embargo_end")
    }

    @Test func addingAFindingChecksItAndMovesTheReportDateBack() throws {
        var disclosure = try Self.disclosure()
        let earlier = Self.finding(id: "fnd_0", reportedAt: Self.reported.addingTimeInterval(-Self.day))
        try disclosure.add(earlier)
        #expect(disclosure.reportedAt == Self.reported.addingTimeInterval(-Self.day))
        #expect((#expect(throws: ProgramRuleError.self) { try disclosure.add(earlier) })?.code == .conflict)
        var broken = Self.finding(id: "fnd_x")
        broken.title = ""
        #expect((#expect(throws: ProgramRuleError.self) { try disclosure.add(broken) })?.field == "title")
    }

    @Test func participantsAndTheirRoles() throws {
        var disclosure = try Self.disclosure()
        disclosure.add(CaseParticipant(organisationId: "org_lab", role: .vendor))
        disclosure.add(CaseParticipant(organisationId: "org_lab", role: .vendor))
        #expect(disclosure.roles(of: "org_lab") == [.modelDeveloper, .vendor])
        #expect(disclosure.isParticipant("org_bank"))
        #expect(!disclosure.isParticipant("org_stranger"))
        #expect(disclosure.roles(of: "org_stranger").isEmpty)
        #expect(disclosure.participants.count == 6)
    }
}
