import AirlockCore
import Crypto
import Foundation

/// The STIX 2.1 objects Airlock publishes for a disclosure case.
///
/// - an `identity` per organisation in the case, and the publisher's (`created_by_ref` of all the rest);
/// - a `vulnerability` per active finding: CVE and CWE in `external_references` (`source_name`
///   `cve` / `cwe`), the CVSS vectors as external references `cvss-v3.1` / `cvss-v4.0` with the
///   scores Airlock computed in their description (standard properties only, so no custom-property
///   warnings);
/// - a `software` SCO per affected product version, linked `related-to` from its vulnerability
///   (STIX has no more specific vulnerability-to-software relationship);
/// - a `course-of-action` for a finding's remediation (`mitigates`) and for each vendor's fix (`remediates`);
/// - a `note` per vendor statement, pointing at the vulnerabilities and the vendor's identity;
/// - a `report` for the case (`report_types: ["vulnerability"]`) referring to all of them;
/// - the TLP 2.0 marking definitions they use.
///
/// Markings follow the case at the given time: a finding's objects carry
/// ``DisclosureCase/tlp(for:at:)``, the report the strictest marking in the case, identities their
/// organisation's marking, SCOs the strictest finding that names them. Evidence (transcripts,
/// run ids) is never exported. Merged duplicates are left out; objects published before and no
/// longer produced are left to the caller to revoke (``STIXVersioning/revoke(_:at:)``).
public struct STIXCaseExport: Sendable {
    /// The case to publish.
    public var disclosureCase: DisclosureCase
    /// Every organisation the case names (participants, vendors of products).
    public var organisations: [SharingOrganisation]
    /// Who publishes: the program office.
    public var publisher: SharingPublisher
    /// The published advisory, referenced from the report and the vulnerabilities by URL and
    /// SHA-256 (an external reference with a URL should carry a hash: the validator's check 302).
    /// Give it once the case is published; a draft's bytes change with every rebuild.
    public var advisory: CSAFDocument?

    public init(
        disclosureCase: DisclosureCase, organisations: [SharingOrganisation], publisher: SharingPublisher, advisory: CSAFDocument? = nil
    ) {
        self.disclosureCase = disclosureCase
        self.organisations = organisations
        self.publisher = publisher
        self.advisory = advisory
    }

    /// The id of the SDO or SRO standing for an Airlock entity in this deployment.
    public func id(_ type: String, key: String) -> String {
        STIXIdentifier.derived(type, key: key, namespace: publisher.namespace)
    }

    /// The publisher's identity id.
    public var publisherIdentityId: String { id("identity", key: publisher.organisation.id) }

    /// The case's objects as of `date`, each versioned against its latest published version in
    /// `previous` (same content: the previous version as it was; changed: a new version).
    /// Marking definitions come last.
    public func objects(at date: Date, previous: [STIXObject] = []) throws(SharingDocumentError) -> [STIXObject] {
        let proposed = try proposedObjects(at: date)
        // The latest version of each object wins (§3.6), whatever order `previous` comes in.
        var latest: [String: STIXObject] = [:]
        for object in previous {
            if let known = latest[object.id]?.modified, let modified = object.modified, known >= modified { continue }
            latest[object.id] = object
        }
        var result: [STIXObject] = []
        for object in proposed {
            // SCOs and marking definitions are not versioned: their ids follow from their content.
            if object.type == "software" || object.type == "marking-definition" {
                result.append(object)
            } else {
                result.append(try STIXVersioning.version(object, previous: latest[object.id], at: date))
            }
        }
        return result
    }

    /// ``objects(at:previous:)`` in a bundle whose id is derived from the case and the time.
    public func bundle(at date: Date, previous: [STIXObject] = []) throws(SharingDocumentError) -> STIXBundle {
        STIXBundle(id: id("bundle", key: "\(disclosureCase.id)@\(STIXTimestamp(date))"), objects: try objects(at: date, previous: previous))
    }

    // MARK: Building

    private func proposedObjects(at date: Date) throws(SharingDocumentError) -> [STIXObject] {
        let disclosureCase = self.disclosureCase
        let findings = disclosureCase.activeFindings
        guard !findings.isEmpty else {
            throw SharingDocumentError(.nothingToPublish, "case \(disclosureCase.reference) has no active finding")
        }
        let directory = OrganisationDirectory(organisations, publisher: publisher)
        let timestamp = JSONValue.string(STIXTimestamp(date).description)
        let creator = publisherIdentityId
        var used: Set<TrafficLightProtocol> = []

        func sdo(_ type: String, _ id: String, _ marking: TrafficLightProtocol, _ properties: [String: JSONValue]) -> STIXObject {
            used.insert(marking)
            var all = properties
            all["type"] = .string(type)
            all["spec_version"] = .string("2.1")
            all["id"] = .string(id)
            all["created"] = timestamp
            all["modified"] = timestamp
            all["created_by_ref"] = .string(creator)
            all["object_marking_refs"] = .array([.string(STIXMarking.id(of: marking))])
            return STIXObject(all)
        }
        func relationship(
            _ source: String, _ type: String, _ target: String, _ marking: TrafficLightProtocol, _ description: String
        ) -> STIXObject {
            sdo("relationship", id("relationship", key: "\(source) \(type) \(target)"), marking, [
                "relationship_type": .string(type),
                "source_ref": .string(source),
                "target_ref": .string(target),
                "description": .string(description),
            ])
        }

        // Identities: the publisher's first (it creates itself, so no created_by_ref), then each participant once.
        var identities: [STIXObject] = []
        var identityIds: [String: String] = [:]
        var organisationIds = [publisher.organisation.id]
        for participant in disclosureCase.participants where !organisationIds.contains(participant.organisationId) {
            organisationIds.append(participant.organisationId)
        }
        for organisationId in organisationIds {
            let organisation = try directory.organisation(organisationId)
            let identityId = id("identity", key: organisation.id)
            var properties: [String: JSONValue] = [
                "name": .string(organisation.name),
                "identity_class": .string("organization"),
                "roles": .array([.string(organisation.kind.rawValue.replacingOccurrences(of: "_", with: "-"))]),
            ]
            if let sectors = Self.sectors(of: organisation) { properties["sectors"] = .array(sectors.map(JSONValue.string)) }
            var identity = sdo("identity", identityId, organisation.identityMarking, properties)
            if organisation.id == publisher.organisation.id { identity["created_by_ref"] = nil }
            identities.append(identity)
            identityIds[organisation.id] = identityId
        }

        var vulnerabilities: [STIXObject] = []
        var softwareOrder: [String] = []
        var software: [String: (properties: [String: JSONValue], marking: TrafficLightProtocol)] = [:]
        var coursesOfAction: [STIXObject] = []
        var relationships: [STIXObject] = []
        var findingMarking: [String: TrafficLightProtocol] = [:]
        var vulnerabilityIds: [String: String] = [:]

        for finding in findings {
            let marking = disclosureCase.tlp(for: finding, at: date)
            findingMarking[finding.id] = marking
            let vulnerabilityId = id("vulnerability", key: finding.id)
            vulnerabilityIds[finding.id] = vulnerabilityId
            vulnerabilities.append(sdo("vulnerability", vulnerabilityId, marking, [
                "name": .string(finding.title),
                "description": .string(Self.description(of: finding)),
                "labels": .array([.string(finding.kind.rawValue.replacingOccurrences(of: "_", with: "-"))]),
                "external_references": .array(externalReferences(of: finding)),
            ]))

            for product in finding.affectedProducts {
                let versions: [String?] = product.versions.isEmpty ? [nil] : product.versions
                for version in versions {
                    var contributing: [String: JSONValue] = ["name": .string(product.name), "vendor": .string(product.vendor)]
                    if let version { contributing["version"] = .string(version) }
                    if let cpe = product.cpe(forVersion: version) { contributing["cpe"] = .string(cpe) }
                    let softwareId = STIXIdentifier.sco("software", contributing: contributing)
                    if let existing = software[softwareId] {
                        software[softwareId] = (existing.properties, max(existing.marking, marking))
                    } else {
                        softwareOrder.append(softwareId)
                        software[softwareId] = (contributing, marking)
                    }
                    let label = [product.vendor, product.name, version].compactMap { $0 }.joined(separator: " ")
                    relationships.append(relationship(vulnerabilityId, "related-to", softwareId, marking, "\(label) is affected."))
                }
            }

            if let remediation = finding.remediation {
                let actionId = id("course-of-action", key: "\(finding.id)/mitigation")
                coursesOfAction.append(sdo("course-of-action", actionId, marking, [
                    "name": .string("Mitigation: \(finding.title)"),
                    "description": .string(remediation),
                ]))
                relationships.append(
                    relationship(actionId, "mitigates", vulnerabilityId, marking, "Reduces the risk until a fix is applied."))
            }
            for vendorId in Self.vendors(of: finding) {
                guard let statement = disclosureCase.statement(of: vendorId, for: finding.id), statement.status == .fixed else { continue }
                let vendorName = try directory.organisation(vendorId).name
                let fixes = finding.affectedProducts.filter { $0.vendorOrganisationId == vendorId }
                    .map { product in
                        product.fixedVersion.map { "Update \(product.name) to \($0)." } ?? "Apply \(vendorName)'s fix for \(product.name)."
                    }
                let actionId = id("course-of-action", key: "\(finding.id)/fix/\(vendorId)")
                coursesOfAction.append(sdo("course-of-action", actionId, marking, [
                    "name": .string("Fix from \(vendorName): \(finding.title)"),
                    "description": .string((fixes + [statement.notes]).filter { !$0.isEmpty }.joined(separator: " ")),
                ]))
                relationships.append(relationship(actionId, "remediates", vulnerabilityId, marking, "\(vendorName)'s fix."))
            }
        }

        // Vendor statements as notes on the vulnerabilities they speak about.
        var notes: [STIXObject] = []
        for statement in disclosureCase.vendorStatements {
            let covered = findings.filter { finding in
                statement.findingId.map { $0 == finding.id } ?? Self.vendors(of: finding).contains(statement.vendorId)
            }
            guard !covered.isEmpty else { continue }
            let vendor = try directory.organisation(statement.vendorId)
            let marking = covered.compactMap { findingMarking[$0.id] }.max() ?? .red
            let refs = covered.compactMap { vulnerabilityIds[$0.id] } + [identityIds[vendor.id]].compactMap { $0 }
            let status = Self.statusText(statement.status)
            let noteId = id("note", key: "\(disclosureCase.id)/\(statement.vendorId)/\(statement.findingId ?? "case")")
            notes.append(sdo("note", noteId, marking, [
                "abstract": .string("\(vendor.name): \(status)"),
                "content": .string(statement.notes.isEmpty ? status : "\(status). \(statement.notes)"),
                "authors": .array([.string(vendor.name)]),
                "object_refs": .array(refs.map(JSONValue.string)),
            ]))
        }

        let softwareObjects = softwareOrder.compactMap { softwareId -> STIXObject? in
            guard let entry = software[softwareId] else { return nil }
            used.insert(entry.marking)
            var properties = entry.properties
            properties["type"] = .string("software")
            properties["spec_version"] = .string("2.1")
            properties["id"] = .string(softwareId)
            properties["object_marking_refs"] = .array([.string(STIXMarking.id(of: entry.marking))])
            return STIXObject(properties)
        }

        let contents = identities + vulnerabilities + softwareObjects + coursesOfAction + notes + relationships
        let reportMarking = ([disclosureCase.tlp(at: date)] + Array(findingMarking.values)).max() ?? .red
        var reportProperties: [String: JSONValue] = [
            "name": .string("\(disclosureCase.reference): \(disclosureCase.title)"),
            "description": .string(disclosureCase.summary),
            "published": .string(STIXTimestamp(disclosureCase.publishedAt ?? disclosureCase.reportedAt).description),
            "report_types": .array([.string("vulnerability")]),
            "object_refs": .array(contents.map { .string($0.id) }),
        ]
        reportProperties["external_references"] = .array([caseReference])
        let report = sdo("report", id("report", key: disclosureCase.id), reportMarking, reportProperties)

        let markings = TrafficLightProtocol.allCases.filter(used.contains).map(STIXMarking.definition(of:))
        return [report] + contents + markings
    }

    private var caseReference: JSONValue {
        var reference: [String: JSONValue] = ["source_name": .string("airlock"), "external_id": .string(disclosureCase.reference)]
        if let advisory {
            let digest = SHA256.hash(data: advisory.jsonBytes()).map { byte in
                let hex = String(byte, radix: 16)
                return hex.count == 1 ? "0" + hex : hex
            }.joined()
            reference["url"] = .string(advisory.url)
            reference["hashes"] = .object(["SHA-256": .string(digest)])
        }
        return .object(reference)
    }

    private func externalReferences(of finding: Finding) -> [JSONValue] {
        var references: [JSONValue] = []
        // §4.19: for a CVE, source_name MUST be "cve" and external_id the exact CVE id.
        if let cve = finding.cveId {
            references.append(.object(["source_name": .string("cve"), "external_id": .string(cve)]))
        }
        if let cwe = finding.cwe {
            references.append(.object(["source_name": .string("cwe"), "external_id": .string(cwe.id), "description": .string(cwe.name)]))
        }
        if let cvss = finding.cvss31 {
            references.append(.object([
                "source_name": .string("cvss-v\(cvss.version.rawValue)"),
                "external_id": .string(cvss.vector),
                "description": .string("CVSS \(cvss.version.rawValue) base score \(Self.score(cvss.baseScore)) "
                    + "(\(cvss.baseSeverity.rawValue)), computed by Airlock"),
            ]))
        }
        if let cvss = finding.cvss40 {
            references.append(.object([
                "source_name": .string("cvss-v4.0"),
                "external_id": .string(cvss.vector),
                "description": .string("CVSS 4.0 score \(Self.score(cvss.score)) (\(cvss.severity.rawValue)), computed by Airlock"),
            ]))
        }
        references.append(caseReference)
        return references
    }

    // MARK: Wording

    static func description(of finding: Finding) -> String {
        var lines = [finding.description]
        var severity: [String] = []
        if let cvss = finding.cvss31 {
            severity.append("CVSS \(cvss.version.rawValue) \(score(cvss.baseScore)) \(cvss.baseSeverity.rawValue) (\(cvss.vector))")
        }
        if let cvss = finding.cvss40 {
            severity.append("CVSS 4.0 \(score(cvss.score)) \(cvss.severity.rawValue) (\(cvss.vector))")
        }
        if !severity.isEmpty { lines.append("Severity: " + severity.joined(separator: "; ") + ".") }
        return lines.joined(separator: "\n\n")
    }

    static func score(_ value: Double) -> String { String(format: "%.1f", value) }

    static func statusText(_ status: VendorStatus) -> String {
        switch status {
        case .affected: "Affected"
        case .notAffected(let justification): "Not affected (\(justification.rawValue.replacingOccurrences(of: "_", with: " ")))"
        case .fixed: "Fixed"
        case .underInvestigation: "Under investigation"
        }
    }

    /// The program organisations that make a finding's products, in order, each once.
    static func vendors(of finding: Finding) -> [String] {
        var seen: Set<String> = []
        return finding.affectedProducts.compactMap(\.vendorOrganisationId).filter { seen.insert($0).inserted }
    }

    /// STIX industry sectors (industry-sector-ov) for an organisation, where one fits.
    static func sectors(of organisation: SharingOrganisation) -> [String]? {
        switch organisation.kind {
        case .modelDeveloper, .vendor: return ["technology"]
        case .programOffice, .evaluator: return nil
        case .infrastructureOperator:
            switch organisation.sector {
            case .banking, .payments, .custody, .markets: return ["financial-services"]
            case .insurance: return ["insurance"]
            case .energy: return ["energy"]
            case .water: return ["water"]
            case .telecommunications: return ["telecommunications"]
            case .healthcare: return ["healthcare"]
            case .transport: return ["transportation"]
            case .government: return ["government"]
            case .other, nil: return nil
            }
        }
    }
}
