import AirlockCore
import Foundation

/// The CVE Numbering Authority that will submit a record: its CVE Program organisation id.
public struct CVENumberingAuthority: Sendable, Hashable {
    /// The CNA's organisation UUID in the CVE Program (a UUIDv4, as the schema requires).
    public var orgId: String
    /// Its short name (`airlock-program`).
    public var shortName: String?

    public init(orgId: String, shortName: String? = nil) {
        self.orgId = orgId
        self.shortName = shortName
    }

    /// Whether `text` is a lowercase-or-uppercase UUIDv4, as CVE JSON 5's `uuidType` pattern has it.
    public static func isUUIDv4(_ text: String) -> Bool {
        text.wholeMatch(of: #/[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-4[0-9A-Fa-f]{3}-[89ABab][0-9A-Fa-f]{3}-[0-9A-Fa-f]{12}/#) != nil
    }
}

/// A draft CVE JSON 5.1 record for one finding, for a CNA to review and submit.
///
/// CVE JSON 5 has two record states, PUBLISHED and REJECTED (RESERVED exists only in CVE
/// Services, never in a record), and only a PUBLISHED record carries products, metrics and
/// references. So the draft is written in the PUBLISHED shape, the one it will have once the CNA
/// submits its `containers.cna` (the part CVE Services takes); nothing is published by building
/// it. A record needs a real CVE id: the finding's own, or one the CNA reserved for it. Without
/// either, building refuses rather than invent an id that looks real.
public struct CVERecordDraft: Sendable {
    /// The case the finding belongs to.
    public var disclosureCase: DisclosureCase
    /// Every organisation the case names; reporters are credited by name.
    public var organisations: [SharingOrganisation]
    /// The program office, credited as coordinator.
    public var publisher: SharingPublisher
    /// The CNA that assigns the id and submits the record.
    public var authority: CVENumberingAuthority

    public init(
        disclosureCase: DisclosureCase, organisations: [SharingOrganisation], publisher: SharingPublisher,
        authority: CVENumberingAuthority
    ) {
        self.disclosureCase = disclosureCase
        self.organisations = organisations
        self.publisher = publisher
        self.authority = authority
    }

    /// The draft record of `findingId`, referring to the advisory at `advisoryURL`.
    ///
    /// `reservedId` is a CVE id the CNA reserved (`CVE-2026-12345`), used when the finding has none.
    public func record(for findingId: String, reservedId: String? = nil, advisoryURL: String, at date: Date)
        throws(SharingDocumentError) -> JSONValue
    {
        guard let finding = disclosureCase.activeFindings.first(where: { $0.id == findingId }) else {
            throw SharingDocumentError(.invalidInput, "no active finding \(findingId) in case \(disclosureCase.reference)")
        }
        guard let cveId = finding.cveId ?? reservedId else {
            throw SharingDocumentError(.noCVEId, "finding \(findingId) has no CVE id; reserve one with the CNA first")
        }
        guard Finding.isCVEId(cveId) else {
            throw SharingDocumentError(.invalidInput, "\"\(cveId)\" is not a CVE id (CVE-YYYY-NNNN)")
        }
        guard CVENumberingAuthority.isUUIDv4(authority.orgId) else {
            throw SharingDocumentError(.invalidInput, "the CNA's orgId \"\(authority.orgId)\" is not a UUIDv4")
        }
        guard advisoryURL.hasPrefix("https://") || advisoryURL.hasPrefix("http://") else {
            throw SharingDocumentError(.invalidInput, "the advisory URL \"\(advisoryURL)\" is not an http(s) URL")
        }
        let directory = OrganisationDirectory(organisations, publisher: publisher)
        let now = STIXTimestamp(date).description

        var metadata: [String: JSONValue] = [
            "cveId": .string(cveId),
            "assignerOrgId": .string(authority.orgId),
            "state": .string("PUBLISHED"),
            "dateUpdated": .string(now),
        ]
        if let shortName = authority.shortName { metadata["assignerShortName"] = .string(shortName) }

        var provider: [String: JSONValue] = ["orgId": .string(authority.orgId), "dateUpdated": .string(now)]
        if let shortName = authority.shortName { provider["shortName"] = .string(shortName) }

        var cna: [String: JSONValue] = [
            "providerMetadata": .object(provider),
            "title": .string(String(finding.title.prefix(256))),
            // The schema caps a description at 4096 characters.
            "descriptions": .array([.object(["lang": .string("en"), "value": .string(String(finding.description.prefix(4096)))])]),
            "affected": .array(finding.affectedProducts.map { affected($0, finding: finding) }),
            "problemTypes": .array([problemType(finding)]),
            "references": .array([.object([
                "url": .string(advisoryURL),
                "name": .string("\(disclosureCase.reference): \(disclosureCase.title)"),
                "tags": .array([.string("third-party-advisory")]),
            ])]),
        ]
        let metrics = self.metrics(finding)
        if !metrics.isEmpty { cna["metrics"] = .array(metrics) }

        var timeline: [JSONValue] = [
            .object([
                "time": .string(STIXTimestamp(finding.reportedAt).description), "lang": .string("en"),
                "value": .string("Reported to the Airlock program"),
            ])
        ]
        if disclosureCase.state == .published, let published = disclosureCase.publishedAt {
            cna["datePublic"] = .string(STIXTimestamp(published).description)
            timeline.append(.object([
                "time": .string(STIXTimestamp(published).description), "lang": .string("en"), "value": .string("Advisory published"),
            ]))
        }
        cna["timeline"] = .array(timeline)

        var credits: [JSONValue] = []
        for reporter in finding.reporters {
            let name = try directory.organisation(reporter).name
            credits.append(.object(["lang": .string("en"), "value": .string(name), "type": .string("finder")]))
        }
        credits.append(.object(["lang": .string("en"), "value": .string(publisher.organisation.name), "type": .string("coordinator")]))
        cna["credits"] = .array(credits)

        return .object([
            "dataType": .string("CVE_RECORD"),
            "dataVersion": .string("5.1"),
            "cveMetadata": .object(metadata),
            "containers": .object(["cna": .object(cna)]),
        ])
    }

    /// One product: each affected version `affected`, or `unaffected` for a vendor that is not
    /// affected, `unknown` while it investigates; the fixed version `unaffected`. Versions not
    /// listed are `unknown`: Airlock records the versions tested, not ranges.
    private func affected(_ product: AffectedProduct, finding: Finding) -> JSONValue {
        let statement = product.vendorOrganisationId.flatMap { disclosureCase.statement(of: $0, for: finding.id) }
        let status = switch statement?.status {
        case .affected?, .fixed?: "affected"
        case .notAffected?: "unaffected"
        case .underInvestigation?, nil: "unknown"
        }
        var versions: [JSONValue] = product.versions.map { .object(["version": .string($0), "status": .string(status)]) }
        if case .fixed? = statement?.status, let fixed = product.fixedVersion {
            versions.append(.object(["version": .string(fixed), "status": .string("unaffected")]))
        }
        var entry: [String: JSONValue] = [
            "vendor": .string(product.vendor),
            "product": .string(product.name),
            "defaultStatus": .string("unknown"),
        ]
        if !versions.isEmpty { entry["versions"] = .array(versions) }
        if let cpe = product.cpe { entry["cpes"] = .array([.string(cpe)]) }
        return .object(entry)
    }

    private func problemType(_ finding: Finding) -> JSONValue {
        if let cwe = finding.cwe {
            return .object(["descriptions": .array([.object([
                "lang": .string("en"), "cweId": .string(cwe.id), "description": .string("\(cwe.id) \(cwe.name)"), "type": .string("CWE"),
            ])])])
        }
        let text = switch finding.kind {
        case .thirdPartyVulnerability: "Vulnerability"
        case .aiSystemWeakness: "Weakness of an AI system"
        case .dangerousCapability: "Dangerous capability of an AI model"
        }
        return .object(["descriptions": .array([.object(["lang": .string("en"), "description": .string(text), "type": .string("text")])])])
    }

    /// CVSS 3.1 (or 3.0) and 4.0 with the scores Airlock computed, under the CVSS JSON schema names.
    private func metrics(_ finding: Finding) -> [JSONValue] {
        let scenarios = JSONValue.array([.object(["lang": .string("en"), "value": .string("GENERAL")])])
        var metrics: [JSONValue] = []
        if let cvss = finding.cvss31 {
            var object: [String: JSONValue] = [
                "version": .string(cvss.version.rawValue),
                "vectorString": .string(cvss.vector),
                "baseScore": .number(cvss.baseScore),
                "baseSeverity": .string(cvss.baseSeverity.schemaName),
            ]
            for property in cvss.csafProperties() { object[property.name] = .string(property.value) }
            let key = cvss.version == .v3_0 ? "cvssV3_0" : "cvssV3_1"
            metrics.append(.object(["format": .string("CVSS"), "scenarios": scenarios, key: .object(object)]))
        }
        if let cvss = finding.cvss40 {
            var object: [String: JSONValue] = [
                "version": .string("4.0"),
                "vectorString": .string(cvss.vector),
                "baseScore": .number(cvss.score),
                "baseSeverity": .string(cvss.severity.schemaName),
            ]
            for property in cvss.csafProperties() { object[property.name] = .string(property.value) }
            metrics.append(.object(["format": .string("CVSS"), "scenarios": scenarios, "cvssV4_0": .object(object)]))
        }
        return metrics
    }
}
