import AirlockCore
import AirlockExchange
import Foundation
import Testing

/// CSAF 2.0 documents: the advisory and the VEX documents of a case, their tracking, TLP and
/// product statuses.
@Suite struct CSAFDocumentTests {
    static let reported = SharingSamples.reported
    static let day = SharingSamples.day
    static let publishedAt = reported.addingTimeInterval(50 * day)

    static func export(_ disclosure: DisclosureCase) -> CSAFCaseExport {
        CSAFCaseExport(disclosureCase: disclosure, organisations: SharingSamples.organisations, publisher: SharingSamples.publisher)
    }

    /// The product id whose full name is `name` in `document`.
    static func productId(_ name: String, in document: CSAFDocument) -> String? {
        document.json.at("product_tree", "full_product_names")?.elements
            .first { $0.at("name") == .string(name) }?.at("product_id")?.stringValue
    }

    static func ids(_ value: JSONValue?) -> [String] { (value?.elements ?? []).compactMap(\.stringValue) }

    @Test(arguments: [
        ("AIRLOCK-2026-0001", "airlock-2026-0001.json"),
        ("AIRLOCK-2026-0001-VEX-CONTOSO", "airlock-2026-0001-vex-contoso.json"),
        ("Example Advisory #7 / 2026", "example_advisory_7_2026.json"),
        ("a+b..c", "a+b_c.json"),
    ])
    func fileNamesFollowTheTrackingId(trackingId: String, fileName: String) {
        #expect(CSAFDocument.fileName(forTrackingId: trackingId) == fileName)
    }

    @Test func tlp2MapsToCSAF20sLabels() {
        #expect(TrafficLightProtocol.allCases.map(CSAFDocument.tlpLabel(for:)) == ["WHITE", "GREEN", "AMBER", "AMBER", "RED"])
        let strict = CSAFDocument.distributionText(for: .amberStrict)
        #expect(strict.contains("TLP:AMBER+STRICT"))
        #expect(strict.contains("own organisation"))
        #expect(CSAFDocument.distributionText(for: .clear).contains("TLP:CLEAR"))
        #expect(CSAFDocument.distributionText(for: .red) == "TLP:RED (TLP 2.0).")
    }

    @Test func thePublishedAdvisory() throws {
        let advisory = try Self.export(try SharingSamples.banking()).securityAdvisory(at: Self.publishedAt)
        let document = try #require(advisory.json.at("document"))
        #expect(document.at("category") == .string("csaf_security_advisory"))
        #expect(document.at("csaf_version") == .string("2.0"))
        #expect(document.at("publisher") == .object([
            "category": .string("coordinator"), "name": .string("Airlock Program Office"),
            "namespace": .string("https://airlock.example.org"), "contact_details": .string("mailto:disclosure@airlock.example.org"),
        ]))
        #expect(document.at("distribution", "tlp", "label") == .string("WHITE"))
        #expect(advisory.tlp == .clear)
        #expect(document.at("aggregate_severity", "text") == .string("Critical"))

        // Fabrikam has not spoken: the advisory is interim.
        #expect(document.at("tracking", "status") == .string("interim"))
        #expect(document.at("tracking", "version") == .string("1"))
        #expect(document.at("tracking", "id") == .string("AIRLOCK-2026-0001"))
        #expect(document.at("tracking", "initial_release_date") == .string("2026-02-24T09:00:00.000Z"))
        #expect(document.at("tracking", "revision_history")?.elements.compactMap { $0.at("number")?.stringValue } == ["1"])

        #expect(advisory.fileName == "airlock-2026-0001.json")
        #expect(advisory.url == "https://airlock.example.org/advisories/white/2026/airlock-2026-0001.json")
        #expect(document.at("references")?.elements.first?.at("url") == .string(advisory.url))
    }

    @Test func productStatusesFollowTheVendorsStatements() throws {
        let advisory = try Self.export(try SharingSamples.banking()).securityAdvisory(at: Self.publishedAt)
        let ledger420 = try #require(Self.productId("Northwind Banking Systems LedgerCore 4.2.0", in: advisory))
        let ledger421 = try #require(Self.productId("Northwind Banking Systems LedgerCore 4.2.1", in: advisory))
        let ledger419 = try #require(Self.productId("Northwind Banking Systems LedgerCore 4.1.9", in: advisory))
        let ledger422 = try #require(Self.productId("Northwind Banking Systems LedgerCore 4.2.2", in: advisory))
        let gateway = try #require(Self.productId("Contoso Payments Payments Gateway 7.1.0", in: advisory))
        let teller = try #require(Self.productId("Fabrikam Software Teller Desk 3.0", in: advisory))

        let vulnerabilities = advisory.json.at("vulnerabilities")?.elements ?? []
        #expect(vulnerabilities.count == 1, "the merged duplicate is part of the primary")
        let vulnerability = try #require(vulnerabilities.first)
        #expect(vulnerability.at("cve") == .string("CVE-2026-10001"))
        #expect(vulnerability.at("cwe") == .object(["id": .string("CWE-89"), "name": .string(SharingSamples.injectionCWE.name)]))
        #expect(Set(Self.ids(vulnerability.at("product_status", "known_affected"))) == [ledger420, ledger421, ledger419])
        #expect(Self.ids(vulnerability.at("product_status", "fixed")) == [ledger422])
        #expect(Self.ids(vulnerability.at("product_status", "known_not_affected")) == [gateway])
        #expect(Self.ids(vulnerability.at("product_status", "under_investigation")) == [teller])
        #expect(vulnerability.at("flags") == .array([.object([
            "label": .string("vulnerable_code_not_present"), "product_ids": .array([.string(gateway)]),
        ])]))

        let remediations = vulnerability.at("remediations")?.elements ?? []
        let fix = try #require(remediations.first { $0.at("category") == .string("vendor_fix") })
        #expect(Set(Self.ids(fix.at("product_ids"))) == [ledger420, ledger421, ledger419])
        #expect(fix.at("details")?.stringValue?.contains("4.2.2") == true)
        let mitigation = try #require(remediations.first { $0.at("category") == .string("mitigation") })
        #expect(Set(Self.ids(mitigation.at("product_ids"))) == [ledger420, ledger421, ledger419, teller])

        let score = try #require(vulnerability.at("scores")?.elements.first)
        #expect(Set(Self.ids(score.at("products"))) == [ledger420, ledger421, ledger419])
        let cvss = try #require(score.at("cvss_v3"))
        #expect(cvss.at("version") == .string("3.1"))
        #expect(cvss.at("vectorString") == .string("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"))
        #expect(cvss.at("baseScore") == .number(9.8))
        #expect(cvss.at("baseSeverity") == .string("CRITICAL"))
        #expect(cvss.at("attackVector") == .string("NETWORK"))
        #expect(cvss.at("scope") == .string("UNCHANGED"))
        #expect(cvss.at("temporalScore") == nil, "no temporal metric in the vector, no temporal score")
        let notes = vulnerability.at("notes")?.elements ?? []
        #expect(notes.first?.at("category") == .string("description"))
        #expect(notes.contains { $0.at("text")?.stringValue?.hasPrefix("CVSS:4.0/AV:N") == true })
        let credited = (vulnerability.at("acknowledgments")?.elements ?? []).compactMap { $0.at("organization")?.stringValue }
        #expect(credited == ["National AI Security Institute", "Financial Sector Cyber Unit"])

        let tree = advisory.json.at("product_tree", "full_product_names")?.elements ?? []
        #expect(tree.count == 6)
        #expect(tree.first { $0.at("product_id") == .string(ledger422) }?.at("product_identification_helper", "cpe")
            == .string("cpe:2.3:a:northwind:ledgercore:4.2.2:*:*:*:*:*:*:*"))
        #expect(tree.first { $0.at("product_id") == .string(gateway) }?.at("product_identification_helper", "purl")
            == .string("pkg:maven/com.contoso/payments-gateway@7.1.0"))
    }

    @Test func revisionsAndFinalStatus() throws {
        var revised = try SharingSamples.banking()
        try revised.record(VendorStatement(
            vendorId: SharingSamples.fabrikam.id, status: .fixed, notes: "Teller Desk 3.1 validates the filter.",
            updatedAt: Self.reported.addingTimeInterval(60 * Self.day)))
        try revised.recordAdvisoryRevision(at: Self.reported.addingTimeInterval(60 * Self.day), summary: "Fabrikam released a fix.")
        let advisory = try Self.export(revised).securityAdvisory(at: Self.reported.addingTimeInterval(61 * Self.day))
        let tracking = try #require(advisory.json.at("document", "tracking"))
        #expect(tracking.at("status") == .string("final"))
        #expect(tracking.at("version") == .string("2"))
        #expect(tracking.at("revision_history")?.elements.compactMap { $0.at("number")?.stringValue } == ["1", "2"])
        #expect(tracking.at("initial_release_date") == .string("2026-02-24T09:00:00.000Z"))
        #expect(tracking.at("current_release_date") == .string("2026-03-06T09:00:00.000Z"))
        let teller = try #require(Self.productId("Fabrikam Software Teller Desk 3.0", in: advisory))
        let affected = Self.ids(advisory.json.at("vulnerabilities")?.elements.first?.at("product_status", "known_affected"))
        #expect(affected.contains(teller))
    }

    @Test func aDraftUnderEmbargoIsVersionZero() throws {
        let red = try Self.export(try SharingSamples.promptInjection()).securityAdvisory(at: Self.reported.addingTimeInterval(Self.day))
        let tracking = try #require(red.json.at("document", "tracking"))
        #expect(tracking.at("status") == .string("draft"))
        #expect(tracking.at("version") == .string("0"))
        #expect(tracking.at("revision_history")?.elements.compactMap { $0.at("number")?.stringValue } == ["0"])
        #expect(red.json.at("document", "distribution", "tlp", "label") == .string("RED"))
        #expect(red.url.hasPrefix("https://airlock.example.org/advisories/red/2026/"))
        #expect(red.json.at("vulnerabilities")?.elements.first?.at("release_date") == nil)
        // The developer says affected and no remediation is given: an action statement still appears.
        let remediation = red.json.at("vulnerabilities")?.elements.first?.at("remediations")?.elements.first
        #expect(remediation?.at("category") == .string("none_available"))
    }

    @Test func amberStrictIsAmberWithTheOrganisationLimitInWords() throws {
        let strict = try Self.export(try SharingSamples.promptInjectionTriaged()).securityAdvisory(at: Self.reported.addingTimeInterval(3 * Self.day))
        #expect(strict.tlp == .amberStrict)
        #expect(strict.json.at("document", "distribution", "tlp", "label") == .string("AMBER"))
        #expect(strict.json.at("document", "distribution", "text") == .string(CSAFDocument.distributionText(for: .amberStrict)))
        // CSAF 2.0 has no CVSS 4.0: the vector is in a note; the 3.1 score has its changed scope.
        let vulnerability = try #require(strict.json.at("vulnerabilities")?.elements.first)
        #expect(vulnerability.at("scores")?.elements.first?.at("cvss_v3", "scope") == .string("CHANGED"))
        #expect(vulnerability.at("cwe", "id") == .string("CWE-1427"))
        #expect(vulnerability.at("cve") == nil)
    }

    @Test func eachVendorGetsAVEXDocumentOfItsOwnProducts() throws {
        let documents = try Self.export(try SharingSamples.banking()).vexDocuments(at: Self.publishedAt)
        #expect(documents.map(\.trackingId) == [
            "AIRLOCK-2026-0001-VEX-NORTHWIND-BANKING-SYSTEMS", "AIRLOCK-2026-0001-VEX-CONTOSO-PAYMENTS", "AIRLOCK-2026-0001-VEX-FABRIKAM-SOFTWARE",
        ])
        for document in documents {
            #expect(document.json.at("document", "category") == .string("csaf_vex"))
            let vulnerability = try #require(document.json.at("vulnerabilities")?.elements.first)
            #expect(vulnerability.at("ids") != nil || vulnerability.at("cve") != nil)
            #expect(!(vulnerability.at("notes")?.elements.isEmpty ?? true))
            // Every known_not_affected product has a flag; every known_affected one an action statement.
            let flagged = Set((vulnerability.at("flags")?.elements ?? []).flatMap { Self.ids($0.at("product_ids")) })
            #expect(Set(Self.ids(vulnerability.at("product_status", "known_not_affected"))).isSubset(of: flagged))
            let actioned = Set((vulnerability.at("remediations")?.elements ?? []).flatMap { Self.ids($0.at("product_ids")) })
            #expect(Set(Self.ids(vulnerability.at("product_status", "known_affected"))).isSubset(of: actioned))
            #expect(document.json.at("document", "references")?.elements.contains { $0.at("category") == .string("external") } == true)
        }
        let contoso = documents[1]
        let names = (contoso.json.at("product_tree", "full_product_names")?.elements ?? []).compactMap { $0.at("name")?.stringValue }
        #expect(names == ["Contoso Payments Payments Gateway 7.1.0"])
        #expect(contoso.json.at("vulnerabilities")?.elements.first?.at("flags")?.elements.first?.at("label") == .string("vulnerable_code_not_present"))
        let northwind = documents[0]
        #expect((northwind.json.at("product_tree", "full_product_names")?.elements ?? []).count == 4)
        #expect(northwind.fileName == "airlock-2026-0001-vex-northwind-banking-systems.json")

        let noProducts = #expect(throws: SharingDocumentError.self) {
            try Self.export(try SharingSamples.banking()).vex(forVendor: SharingSamples.bank.id, at: Self.publishedAt)
        }
        #expect(noProducts?.code == .nothingToPublish)
    }

    @Test func theModelDeveloperGetsAVEXDocumentToo() throws {
        let documents = try Self.export(try SharingSamples.promptInjection()).vexDocuments(at: Self.reported.addingTimeInterval(Self.day))
        #expect(documents.map(\.trackingId) == ["AIRLOCK-2026-0002-VEX-EXAMPLE-FRONTIER-LABS"])
        #expect(documents.first?.json.at("document", "distribution", "tlp", "label") == .string("RED"))
    }

    @Test func documentsAreStableForTheSameCaseAndTime() throws {
        let banking = try SharingSamples.banking()
        let first = try Self.export(banking).securityAdvisory(at: Self.publishedAt)
        // A later rebuild of a published case gives the same bytes: its dates come from the case.
        let later = try Self.export(banking).securityAdvisory(at: Self.publishedAt.addingTimeInterval(Self.day))
        #expect(first.jsonBytes() == later.jsonBytes())
        #expect(try SharingJSON.parse(first.jsonBytes()) == first.json)
    }
}
