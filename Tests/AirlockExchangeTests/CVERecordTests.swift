import AirlockCore
import AirlockExchange
import Foundation
import Testing

/// Draft CVE JSON 5.1 records. No installed package ships the CVE record schema, so the schema's
/// requirements for a PUBLISHED record are checked here in Swift (``problems(in:)``), written
/// from `CVEProject/cve-schema: schema/CVE_Record_Format.json` as the reference sheet gives it.
@Suite struct CVERecordTests {
    static let reported = SharingSamples.reported
    static let day = SharingSamples.day
    static let advisoryURL = "https://airlock.example.org/advisories/white/2026/airlock-2026-0001.json"

    static func draft(_ disclosure: DisclosureCase, authority: CVENumberingAuthority = SharingSamples.authority) -> CVERecordDraft {
        CVERecordDraft(disclosureCase: disclosure, organisations: SharingSamples.organisations, publisher: SharingSamples.publisher, authority: authority)
    }

    /// What a PUBLISHED record needs by the schema, and what the CNA rules add (a problem type).
    static func problems(in record: JSONValue) -> [String] {
        var problems: [String] = []
        func require(_ condition: Bool, _ problem: String) { if !condition { problems.append(problem) } }
        func matches(_ value: JSONValue?, _ pattern: Regex<Substring>) -> Bool {
            value?.stringValue.map { $0.wholeMatch(of: pattern) != nil } ?? false
        }
        let uuid = #/[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-4[0-9A-Fa-f]{3}-[89ABab][0-9A-Fa-f]{3}-[0-9A-Fa-f]{12}/#
        let timestamp = #/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z/#

        require(record.at("dataType") == .string("CVE_RECORD"), "dataType")
        require(matches(record.at("dataVersion"), #/5\.(?:0|[1-9][0-9]*)(?:\.(?:0|[1-9][0-9]*))?/#), "dataVersion")
        require(matches(record.at("cveMetadata", "cveId"), #/CVE-[0-9]{4}-[0-9]{4,19}/#), "cveMetadata.cveId")
        require(matches(record.at("cveMetadata", "assignerOrgId"), uuid), "cveMetadata.assignerOrgId")
        require(record.at("cveMetadata", "state") == .string("PUBLISHED"), "cveMetadata.state")
        for key in ["dateUpdated", "datePublished", "dateReserved"] {
            if let value = record.at("cveMetadata", key) { require(matches(value, timestamp), "cveMetadata.\(key)") }
        }
        guard let cna = record.at("containers", "cna") else { return problems + ["containers.cna"] }
        require(matches(cna.at("providerMetadata", "orgId"), uuid), "cna.providerMetadata.orgId")
        let descriptions = cna.at("descriptions")?.elements ?? []
        require(!descriptions.isEmpty, "cna.descriptions")
        require(descriptions.contains { $0.at("lang") == .string("en") }, "cna.descriptions: an English one")
        for description in descriptions {
            require((description.at("value")?.stringValue?.count ?? 0) >= 1, "cna.descriptions.value")
            require((description.at("value")?.stringValue?.count ?? 0) <= 4096, "cna.descriptions.value length")
        }
        let affected = cna.at("affected")?.elements ?? []
        require(!affected.isEmpty, "cna.affected")
        for item in affected {
            require((item.at("vendor") != nil && item.at("product") != nil) || (item.at("collectionURL") != nil && item.at("packageName") != nil),
                    "cna.affected: vendor and product")
            require(item.at("versions") != nil || item.at("defaultStatus") != nil, "cna.affected: versions or defaultStatus")
            let statuses = ["affected", "unaffected", "unknown"].map(JSONValue.string)
            if let status = item.at("defaultStatus") { require(statuses.contains(status), "cna.affected.defaultStatus") }
            for version in item.at("versions")?.elements ?? [] {
                require(version.at("version") != nil, "cna.affected.versions.version")
                require(version.at("status").map(statuses.contains) ?? false, "cna.affected.versions.status")
                if version.at("lessThan") != nil || version.at("lessThanOrEqual") != nil {
                    require(version.at("versionType") != nil, "cna.affected.versions.versionType")
                }
            }
        }
        let references = cna.at("references")?.elements ?? []
        require(!references.isEmpty, "cna.references")
        require(references.allSatisfy { $0.at("url")?.stringValue?.hasPrefix("https://") == true }, "cna.references.url")
        let problemTypes = cna.at("problemTypes")?.elements.flatMap { $0.at("descriptions")?.elements ?? [] } ?? []
        require(!problemTypes.isEmpty, "cna.problemTypes (CNA rules)")
        for problemType in problemTypes {
            require(problemType.at("lang") != nil && problemType.at("description") != nil, "cna.problemTypes.descriptions")
            if let cwe = problemType.at("cweId") { require(matches(cwe, #/CWE-[1-9][0-9]*/#), "cna.problemTypes.cweId") }
        }
        for metric in cna.at("metrics")?.elements ?? [] {
            for key in ["cvssV3_1", "cvssV3_0", "cvssV4_0"] {
                guard let cvss = metric.at(key) else { continue }
                for field in ["version", "vectorString", "baseScore", "baseSeverity"] {
                    require(cvss.at(field) != nil, "cna.metrics.\(key).\(field)")
                }
            }
        }
        for entry in cna.at("timeline")?.elements ?? [] {
            require(matches(entry.at("time"), timestamp) && entry.at("lang") != nil && entry.at("value") != nil, "cna.timeline")
        }
        for credit in cna.at("credits")?.elements ?? [] {
            require(credit.at("lang") != nil && credit.at("value") != nil, "cna.credits")
        }
        return problems
    }

    @Test func theBankingFindingsRecord() throws {
        let record = try Self.draft(try SharingSamples.banking())
            .record(for: "fnd_ledger_sqli", advisoryURL: Self.advisoryURL, at: Self.reported.addingTimeInterval(50 * Self.day))
        #expect(Self.problems(in: record).isEmpty, "\(Self.problems(in: record))")
        #expect(record.at("dataVersion") == .string("5.1"))
        #expect(record.at("cveMetadata", "cveId") == .string("CVE-2026-10001"))
        #expect(record.at("cveMetadata", "assignerOrgId") == .string(SharingSamples.authority.orgId))
        let cna = try #require(record.at("containers", "cna"))
        #expect(cna.at("providerMetadata", "orgId") == .string(SharingSamples.authority.orgId))
        #expect(cna.at("references")?.elements.first?.at("url") == .string(Self.advisoryURL))
        #expect(cna.at("datePublic") == .string("2026-02-24T09:00:00.000Z"))

        let affected = cna.at("affected")?.elements ?? []
        let ledger = try #require(affected.first { $0.at("product") == .string("LedgerCore") })
        #expect(ledger.at("vendor") == .string("Northwind Banking Systems"))
        #expect(ledger.at("defaultStatus") == .string("unknown"))
        let statusByVersion = Dictionary(uniqueKeysWithValues: (ledger.at("versions")?.elements ?? []).compactMap { version in
            version.at("version")?.stringValue.map { ($0, version.at("status")?.stringValue ?? "") }
        })
        #expect(statusByVersion == ["4.2.0": "affected", "4.2.1": "affected", "4.1.9": "affected", "4.2.2": "unaffected"])
        let gateway = try #require(affected.first { $0.at("product") == .string("Payments Gateway") })
        #expect(gateway.at("versions")?.elements.first?.at("status") == .string("unaffected"))
        let teller = try #require(affected.first { $0.at("product") == .string("Teller Desk") })
        #expect(teller.at("versions")?.elements.first?.at("status") == .string("unknown"))

        #expect(cna.at("problemTypes")?.elements.first?.at("descriptions")?.elements.first?.at("cweId") == .string("CWE-89"))
        let metrics = cna.at("metrics")?.elements ?? []
        #expect(metrics.first?.at("cvssV3_1", "baseScore") == .number(9.8))
        #expect(metrics.first?.at("cvssV3_1", "baseSeverity") == .string("CRITICAL"))
        #expect(metrics.last?.at("cvssV4_0", "baseScore") == .number(9.3))
        #expect(metrics.last?.at("cvssV4_0", "vectorString") == .string("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"))
        let credits = (cna.at("credits")?.elements ?? []).map { [$0.at("type")?.stringValue ?? "", $0.at("value")?.stringValue ?? ""] }
        #expect(credits == [
            ["finder", "National AI Security Institute"], ["finder", "Financial Sector Cyber Unit"], ["coordinator", "Airlock Program Office"],
        ])
    }

    @Test func aFindingWithoutACVETakesTheReservedOne() throws {
        let injection = try SharingSamples.promptInjection()
        let missing = #expect(throws: SharingDocumentError.self) {
            try Self.draft(injection).record(for: "fnd_tool_injection", advisoryURL: Self.advisoryURL, at: Self.reported)
        }
        #expect(missing?.code == .noCVEId)
        let record = try Self.draft(injection)
            .record(for: "fnd_tool_injection", reservedId: "CVE-2026-20002", advisoryURL: Self.advisoryURL, at: Self.reported)
        #expect(Self.problems(in: record).isEmpty, "\(Self.problems(in: record))")
        #expect(record.at("cveMetadata", "cveId") == .string("CVE-2026-20002"))
        #expect(record.at("containers", "cna", "datePublic") == nil, "not public yet")
        #expect(record.at("containers", "cna", "affected")?.elements.first?.at("versions")?.elements.first?.at("status") == .string("affected"))
        #expect(record.at("containers", "cna", "metrics")?.elements.first?.at("cvssV3_1", "scope") == .string("CHANGED"))
    }

    @Test func aFindingsOwnCVEWinsOverAReservedOne() throws {
        let record = try Self.draft(try SharingSamples.banking())
            .record(for: "fnd_ledger_sqli", reservedId: "CVE-2026-99999", advisoryURL: Self.advisoryURL, at: Self.reported)
        #expect(record.at("cveMetadata", "cveId") == .string("CVE-2026-10001"))
    }

    @Test func badInputsAreRefused() throws {
        let banking = try SharingSamples.banking()
        let badId = #expect(throws: SharingDocumentError.self) {
            try Self.draft(try SharingSamples.promptInjection())
                .record(for: "fnd_tool_injection", reservedId: "CVE-2026-1", advisoryURL: Self.advisoryURL, at: Self.reported)
        }
        #expect(badId?.code == .invalidInput)
        let v1 = CVENumberingAuthority(orgId: "8254265b-2729-16b6-b9e3-3dfca2d5bfca")
        #expect(throws: SharingDocumentError.self) {
            try Self.draft(banking, authority: v1).record(for: "fnd_ledger_sqli", advisoryURL: Self.advisoryURL, at: Self.reported)
        }
        #expect(throws: SharingDocumentError.self) {
            try Self.draft(banking).record(for: "fnd_ledger_sqli", advisoryURL: "ftp://example.org/a", at: Self.reported)
        }
        // The merged duplicate has no record of its own.
        #expect(throws: SharingDocumentError.self) {
            try Self.draft(banking).record(for: "fnd_ledger_sqli_dup", advisoryURL: Self.advisoryURL, at: Self.reported)
        }
    }

    @Test func theCheckItselfCatchesMissingFields() {
        let broken: JSONValue = .object([
            "dataType": .string("CVE_RECORD"), "dataVersion": .string("5"),
            "cveMetadata": .object(["cveId": .string("CVE-2026-1"), "assignerOrgId": .string("x"), "state": .string("RESERVED")]),
            "containers": .object(["cna": .object(["affected": .array([.object(["vendor": .string("v")])])])]),
        ])
        let problems = Self.problems(in: broken)
        for expected in ["dataVersion", "cveMetadata.cveId", "cveMetadata.assignerOrgId", "cveMetadata.state", "cna.providerMetadata.orgId",
                         "cna.descriptions", "cna.affected: vendor and product", "cna.affected: versions or defaultStatus", "cna.references"] {
            #expect(problems.contains(expected), "\(expected) in \(problems)")
        }
    }

    @Test func uuidV4Check() {
        #expect(CVENumberingAuthority.isUUIDv4("8254265b-2729-46b6-b9e3-3dfca2d5bfca"))
        #expect(!CVENumberingAuthority.isUUIDv4("8254265b-2729-56b6-b9e3-3dfca2d5bfca"))
        #expect(!CVENumberingAuthority.isUUIDv4("8254265b-2729-46b6-c9e3-3dfca2d5bfca"))
    }
}
