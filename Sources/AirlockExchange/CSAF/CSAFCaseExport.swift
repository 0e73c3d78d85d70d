import AirlockCore
import Foundation

/// The CSAF 2.0 documents of a disclosure case: the security advisory (`csaf_security_advisory`)
/// and one VEX document (`csaf_vex`) per vendor.
///
/// Product statuses come from the vendors' statements:
///
/// | Vendor status | product_status of the affected versions | also |
/// |---|---|---|
/// | none yet, under investigation | `under_investigation` | |
/// | affected | `known_affected` | remediation `mitigation` (the finding's remediation) or `none_available` |
/// | not affected (justification) | `known_not_affected` | a flag with the VEX justification |
/// | fixed | `known_affected` | `fixed` for the fixed version; remediation `vendor_fix` |
///
/// Scores carry `cvss_v3` only, with the properties its vector implies (CSAF 2.0 has no CVSS 4.0;
/// the 4.0 vector goes in a note). Before publication the documents are drafts (version 0,
/// status `draft`); after it, the case's advisory revisions are the revision history, and the
/// status is `interim` while any product is under investigation, `final` otherwise.
public struct CSAFCaseExport: Sendable {
    /// The case to publish.
    public var disclosureCase: DisclosureCase
    /// Every organisation the case names (participants, vendors of products).
    public var organisations: [SharingOrganisation]
    /// The CSAF publisher: the program office, as coordinator.
    public var publisher: SharingPublisher

    public init(disclosureCase: DisclosureCase, organisations: [SharingOrganisation], publisher: SharingPublisher) {
        self.disclosureCase = disclosureCase
        self.organisations = organisations
        self.publisher = publisher
    }

    /// The security advisory as of `date`.
    public func securityAdvisory(at date: Date) throws(SharingDocumentError) -> CSAFDocument {
        try document(
            category: "csaf_security_advisory", trackingId: disclosureCase.reference,
            title: "\(disclosureCase.reference): \(disclosureCase.title)", vendorId: nil, at: date)
    }

    /// The VEX document of one vendor (or the model developer): its products only.
    public func vex(forVendor vendorId: String, at date: Date) throws(SharingDocumentError) -> CSAFDocument {
        let vendor = try OrganisationDirectory(organisations, publisher: publisher).organisation(vendorId)
        return try document(
            category: "csaf_vex", trackingId: "\(disclosureCase.reference)-VEX-\(Self.slug(vendor.name))",
            title: "\(disclosureCase.title): VEX statement for \(vendor.name) products", vendorId: vendorId, at: date)
    }

    /// A VEX document for every vendor or model developer in the case with products in an active finding.
    public func vexDocuments(at date: Date) throws(SharingDocumentError) -> [CSAFDocument] {
        var vendors: [String] = []
        for finding in disclosureCase.activeFindings {
            for product in finding.affectedProducts {
                guard let vendorId = product.vendorOrganisationId, !vendors.contains(vendorId) else { continue }
                let roles = disclosureCase.roles(of: vendorId)
                if roles.contains(.vendor) || roles.contains(.modelDeveloper) { vendors.append(vendorId) }
            }
        }
        var documents: [CSAFDocument] = []
        for vendorId in vendors {
            documents.append(try vex(forVendor: vendorId, at: date))
        }
        return documents
    }

    // MARK: Building

    private func document(category: String, trackingId: String, title: String, vendorId: String?, at date: Date)
        throws(SharingDocumentError) -> CSAFDocument
    {
        let directory = OrganisationDirectory(organisations, publisher: publisher)
        let findings = disclosureCase.activeFindings.filter { finding in
            vendorId.map { vendor in finding.affectedProducts.contains { $0.vendorOrganisationId == vendor } } ?? true
        }
        guard !findings.isEmpty else {
            throw SharingDocumentError(
                .nothingToPublish,
                vendorId.map { "\($0) has no product in an active finding of \(disclosureCase.reference)" }
                    ?? "case \(disclosureCase.reference) has no active finding")
        }

        var catalogue = ProductCatalogue()
        var vulnerabilities: [JSONValue] = []
        var anyUnderInvestigation = false
        var highest: CVSSSeverity?
        for finding in findings {
            let products = finding.affectedProducts.filter { product in vendorId.map { product.vendorOrganisationId == $0 } ?? true }
            let (vulnerability, underInvestigation) = try self.vulnerability(
                finding, products: products, catalogue: &catalogue, directory: directory)
            vulnerabilities.append(vulnerability)
            anyUnderInvestigation = anyUnderInvestigation || underInvestigation
            if let severity = finding.cvss31?.baseSeverity, severity.rank > (highest?.rank ?? -1) { highest = severity }
        }

        let level = ([disclosureCase.tlp(at: date)] + findings.map { disclosureCase.tlp(for: $0, at: date) }).max() ?? .red
        let isPublished = disclosureCase.state == .published && !disclosureCase.advisoryRevisions.isEmpty
        let tracking = self.tracking(
            id: trackingId, status: isPublished ? (anyUnderInvestigation ? .interim : .final) : .draft, at: date)
        let fileName = CSAFDocument.fileName(forTrackingId: trackingId)
        let initialRelease = tracking["initial_release_date"]?.stringValue ?? STIXTimestamp(date).description
        let url = [
            publisher.advisoryBaseURL.hasSuffix("/") ? String(publisher.advisoryBaseURL.dropLast()) : publisher.advisoryBaseURL,
            CSAFDocument.tlpLabel(for: level).lowercased(), String(initialRelease.prefix(4)), fileName,
        ].joined(separator: "/")

        var publisherJSON: [String: JSONValue] = [
            "category": .string("coordinator"),
            "name": .string(publisher.organisation.name),
            "namespace": .string(publisher.namespace),
        ]
        if let contact = publisher.contactDetails { publisherJSON["contact_details"] = .string(contact) }

        var notes: [JSONValue] = [
            note("summary", "Summary", disclosureCase.summary.isEmpty ? disclosureCase.title : disclosureCase.summary),
            note("general", "Coordinated disclosure",
                 "Coordinated by \(publisher.organisation.name) through Airlock's pre-release review of frontier AI models. "
                 + (isPublished ? "Published after coordination with the affected vendors and operators."
                                : "Shared with the case's participants under embargo; not for publication.")),
        ]
        if isPublished, let reason = disclosureCase.earlyReleaseReason {
            notes.append(note("general", "Early release", reason))
        }
        var references: [JSONValue] = [
            .object(["category": .string("self"), "summary": .string("This document"), "url": .string(url)])
        ]
        if vendorId != nil {
            let advisory = try securityAdvisory(at: date)
            references.append(.object([
                "category": .string("external"), "summary": .string("The security advisory of the case"), "url": .string(advisory.url),
            ]))
        }

        var document: [String: JSONValue] = [
            "category": .string(category),
            "csaf_version": .string("2.0"),
            "lang": .string("en"),
            "publisher": .object(publisherJSON),
            "title": .string(title),
            "tracking": .object(tracking),
            "distribution": .object([
                "tlp": .object(["label": .string(CSAFDocument.tlpLabel(for: level)), "url": .string("https://www.first.org/tlp/")]),
                "text": .string(CSAFDocument.distributionText(for: level)),
            ]),
            "notes": .array(notes),
            "references": .array(references),
        ]
        if let highest {
            document["aggregate_severity"] = .object(["text": .string(highest.rawValue.capitalized)])
        }
        let json = JSONValue.object([
            "document": .object(document),
            "product_tree": .object(["full_product_names": .array(catalogue.fullProductNames)]),
            "vulnerabilities": .array(vulnerabilities),
        ])
        return CSAFDocument(json: json, trackingId: trackingId, fileName: fileName, url: url, tlp: level)
    }

    private func tracking(id: String, status: CSAFTrackingStatus, at date: Date) -> [String: JSONValue] {
        func entry(_ number: Int, _ date: Date, _ summary: String) -> JSONValue {
            .object(["number": .string(String(number)), "date": .string(STIXTimestamp(date).description), "summary": .string(summary)])
        }
        let revisions = disclosureCase.advisoryRevisions
        var tracking: [String: JSONValue] = [
            "id": .string(id),
            "status": .string(status.rawValue),
            "generator": .object(["engine": .object(["name": .string("Airlock")])]),
        ]
        if status == .draft || revisions.isEmpty {
            // CSAF 6.1.17 and 6.1.18: version 0 is a draft, and only drafts carry revision 0.
            tracking["version"] = .string("0")
            tracking["initial_release_date"] = .string(STIXTimestamp(date).description)
            tracking["current_release_date"] = .string(STIXTimestamp(date).description)
            tracking["revision_history"] = .array([entry(0, date, "Draft for the case's participants, under embargo.")])
        } else if let first = revisions.first, let last = revisions.last {
            tracking["version"] = .string(String(last.number))
            tracking["initial_release_date"] = .string(STIXTimestamp(first.date).description)
            tracking["current_release_date"] = .string(STIXTimestamp(last.date).description)
            tracking["revision_history"] = .array(revisions.map { entry($0.number, $0.date, $0.summary) })
        }
        return tracking
    }

    /// One finding as a CSAF vulnerability, and whether any of its products is under investigation.
    private func vulnerability(
        _ finding: Finding, products: [AffectedProduct], catalogue: inout ProductCatalogue, directory: OrganisationDirectory
    ) throws(SharingDocumentError) -> (JSONValue, Bool) {
        var status = ProductStatus()
        var vendorFixes: [JSONValue] = []
        for product in products {
            let versions: [String?] = product.versions.isEmpty ? [nil] : product.versions
            let ids = versions.map { catalogue.id(for: product, version: $0) }
            let statement = product.vendorOrganisationId.flatMap { disclosureCase.statement(of: $0, for: finding.id) }
            switch statement?.status {
            case nil, .underInvestigation?:
                status.underInvestigation.append(contentsOf: ids)
            case .affected?:
                status.knownAffected.append(contentsOf: ids)
                status.needsAction.append(contentsOf: ids)
            case .notAffected(let justification)?:
                status.knownNotAffected.append(contentsOf: ids)
                status.flags[justification, default: []].append(contentsOf: ids)
            case .fixed?:
                status.knownAffected.append(contentsOf: ids)
                var details: [String] = []
                if let fixedVersion = product.fixedVersion {
                    status.fixed.append(catalogue.id(for: product, version: fixedVersion))
                    details.append("Update \(product.name) to \(fixedVersion).")
                }
                if let notes = statement?.notes, !notes.isEmpty { details.append(notes) }
                if details.isEmpty { details.append("Apply \(product.vendor)'s fix for \(product.name).") }
                vendorFixes.append(.object([
                    "category": .string("vendor_fix"),
                    "details": .string(details.joined(separator: " ")),
                    "product_ids": .array(ProductStatus.unique(ids).map(JSONValue.string)),
                ]))
            }
        }

        var remediations = vendorFixes
        if let remediation = finding.remediation {
            let ids = ProductStatus.unique(status.knownAffected + status.underInvestigation)
            if !ids.isEmpty {
                remediations.append(.object([
                    "category": .string("mitigation"), "details": .string(remediation), "product_ids": .array(ids.map(JSONValue.string)),
                ]))
            }
        } else if !status.needsAction.isEmpty {
            // CSAF's VEX profile wants an action statement for every known_affected product.
            remediations.append(.object([
                "category": .string("none_available"),
                "details": .string("No fix or mitigation is available yet."),
                "product_ids": .array(ProductStatus.unique(status.needsAction).map(JSONValue.string)),
            ]))
        }

        var vulnerability: [String: JSONValue] = [
            "title": .string(finding.title),
            "ids": .array([.object(["system_name": .string("Airlock"), "text": .string(finding.id)])]),
            "discovery_date": .string(STIXTimestamp(finding.reportedAt).description),
            "notes": .array(vulnerabilityNotes(finding)),
            "product_status": .object(status.json),
        ]
        if let cve = finding.cveId { vulnerability["cve"] = .string(cve) }
        if let cwe = finding.cwe { vulnerability["cwe"] = .object(["id": .string(cwe.id), "name": .string(cwe.name)]) }
        if disclosureCase.state == .published, let published = disclosureCase.publishedAt {
            vulnerability["release_date"] = .string(STIXTimestamp(published).description)
        }
        if !status.flags.isEmpty {
            vulnerability["flags"] = .array(VEXJustification.allCases.compactMap { label in
                status.flags[label].map { ids in
                    .object(["label": .string(label.rawValue), "product_ids": .array(ProductStatus.unique(ids).map(JSONValue.string))])
                }
            })
        }
        if !remediations.isEmpty { vulnerability["remediations"] = .array(remediations) }
        let scored = status.knownAffected.isEmpty ? status.underInvestigation : status.knownAffected
        if let cvss = finding.cvss31, !scored.isEmpty {
            vulnerability["scores"] = .array([.object([
                "products": .array(ProductStatus.unique(scored).map(JSONValue.string)),
                "cvss_v3": Self.cvssV3(cvss),
            ])])
        }
        var acknowledgments: [JSONValue] = []
        for reporter in finding.reporters {
            let name = try directory.organisation(reporter).name
            acknowledgments.append(.object(["organization": .string(name), "summary": .string("Reported the finding through Airlock.")]))
        }
        vulnerability["acknowledgments"] = .array(acknowledgments)
        return (.object(vulnerability), !status.underInvestigation.isEmpty)
    }

    private func vulnerabilityNotes(_ finding: Finding) -> [JSONValue] {
        var notes = [note("description", "Description", finding.description)]
        let kind = switch finding.kind {
        case .thirdPartyVulnerability:
            "A vulnerability in third-party software, found with a frontier AI model during Airlock's pre-release review."
        case .aiSystemWeakness: "A weakness of the AI system itself, found during Airlock's pre-release review of the model."
        case .dangerousCapability: "A dangerous capability of the model, found during Airlock's pre-release review."
        }
        notes.append(note("general", "Kind of finding", kind))
        if let cvss = finding.cvss40 {
            // CSAF 2.0 scores have no CVSS 4.0 (it arrives with CSAF 2.1's metrics), so it is stated in words.
            notes.append(note(
                "other", "CVSS v4.0",
                "\(cvss.vector): score \(STIXCaseExport.score(cvss.score)) (\(cvss.severity.schemaName)), computed by Airlock."))
        }
        return notes
    }

    private func note(_ category: String, _ title: String, _ text: String) -> JSONValue {
        .object(["category": .string(category), "title": .string(title), "text": .string(text)])
    }

    /// CSAF's `cvss_v3`: version, vector, the metric properties the vector implies (so 6.1.10
    /// finds nothing inconsistent), and the scores Airlock computed.
    static func cvssV3(_ cvss: CVSS31) -> JSONValue {
        var object: [String: JSONValue] = [
            "version": .string(cvss.version.rawValue),
            "vectorString": .string(cvss.vector),
            "baseScore": .number(cvss.baseScore),
            "baseSeverity": .string(cvss.baseSeverity.schemaName),
        ]
        for property in cvss.csafProperties() { object[property.name] = .string(property.value) }
        if cvss.hasTemporalMetrics {
            object["temporalScore"] = .number(cvss.temporalScore)
            object["temporalSeverity"] = .string(cvss.temporalSeverity.schemaName)
        }
        if cvss.hasEnvironmentalMetrics {
            object["environmentalScore"] = .number(cvss.environmentalScore)
            object["environmentalSeverity"] = .string(cvss.environmentalSeverity.schemaName)
        }
        return .object(object)
    }

    /// `LedgerSoft Ltd.` → `LEDGERSOFT-LTD`.
    static func slug(_ name: String) -> String {
        var slug = ""
        for character in name.uppercased() {
            if character.isASCII && (character.isLetter || character.isNumber) {
                slug.append(character)
            } else if !slug.isEmpty && slug.last != "-" {
                slug.append("-")
            }
        }
        while slug.last == "-" { slug.removeLast() }
        return slug.isEmpty ? "VENDOR" : slug
    }
}

/// The products of a document, numbered in order of first mention (`CSAFPID-0001`, …).
private struct ProductCatalogue {
    private var idsByKey: [String: String] = [:]
    private(set) var fullProductNames: [JSONValue] = []

    mutating func id(for product: AffectedProduct, version: String?) -> String {
        let key = [product.vendor.lowercased(), product.name.lowercased(), version ?? ""].joined(separator: "\u{0}")
        if let id = idsByKey[key] { return id }
        let number = String(idsByKey.count + 1)
        let id = "CSAFPID-" + String(repeating: "0", count: max(0, 4 - number.count)) + number
        idsByKey[key] = id
        var entry: [String: JSONValue] = [
            "product_id": .string(id),
            "name": .string([product.vendor, product.name, version].compactMap { $0 }.joined(separator: " ")),
        ]
        var helper: [String: JSONValue] = [:]
        if let cpe = product.cpe(forVersion: version) { helper["cpe"] = .string(cpe) }
        if let purl = product.purl(forVersion: version) { helper["purl"] = .string(purl) }
        if !helper.isEmpty { entry["product_identification_helper"] = .object(helper) }
        fullProductNames.append(.object(entry))
        return id
    }
}

/// The product ids of one vulnerability by status.
private struct ProductStatus {
    var knownAffected: [String] = []
    var knownNotAffected: [String] = []
    var fixed: [String] = []
    var underInvestigation: [String] = []
    /// Known-affected products without a vendor fix.
    var needsAction: [String] = []
    var flags: [VEXJustification: [String]] = [:]

    var json: [String: JSONValue] {
        var json: [String: JSONValue] = [:]
        for (name, ids) in [
            ("known_affected", knownAffected), ("known_not_affected", knownNotAffected), ("fixed", fixed),
            ("under_investigation", underInvestigation),
        ] where !ids.isEmpty {
            json[name] = .array(Self.unique(ids).map(JSONValue.string))
        }
        return json
    }

    static func unique(_ ids: [String]) -> [String] {
        var seen: Set<String> = []
        return ids.filter { seen.insert($0).inserted }
    }
}

extension CVSSSeverity {
    /// Order on the shared scale, none lowest.
    fileprivate var rank: Int { Self.allCases.firstIndex(of: self) ?? 0 }
}
