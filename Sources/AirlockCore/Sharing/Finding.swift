import Foundation

/// What a finding is about.
public enum FindingKind: String, Sendable, Hashable, Codable, CaseIterable {
    /// A vulnerability in someone else's software (a bank's core system, a library), found by or with a model.
    case thirdPartyVulnerability = "third_party_vulnerability"
    /// A weakness of the AI system itself: prompt injection, a safeguard bypass, leaking its instructions.
    case aiSystemWeakness = "ai_system_weakness"
    /// A capability of the model that is dangerous in itself (uplift for an attack, autonomous exploitation).
    case dangerousCapability = "dangerous_capability"

    /// Whether the finding is about the model, so that its disclosure waits for the model's public release.
    public var isAboutModel: Bool { self != .thirdPartyVulnerability }
}

/// How a finding came in.
public enum FindingOrigin: String, Sendable, Hashable, Codable, CaseIterable {
    /// Recorded from an assessment run; its evidence links the transcript that shows it.
    case assessmentRun = "assessment_run"
    /// Filed by hand by an evaluator or an operator.
    case filed
}

/// A product a finding affects: one vendor's product and the versions concerned.
public struct AffectedProduct: Sendable, Hashable, Codable {
    /// The vendor's name as the advisory prints it.
    public var vendor: String
    /// The product's name.
    public var name: String
    /// The affected versions, as the vendor writes them (exact versions, not ranges: CSAF 6.1.31
    /// forbids ranges in a product version).
    public var versions: [String]
    /// The first version with the fix, when there is one.
    public var fixedVersion: String?
    /// A CPE 2.3 formatted string (`cpe:2.3:a:vendor:product:*:…`); a `*` version is filled in per version.
    public var cpe: String?
    /// A package URL (`pkg:maven/org.example/ledger`); a version is added per version when it has none.
    public var purl: String?
    /// The vendor's organisation in the program, when it takes part: its statement sets this
    /// product's status, and its VEX document lists this product.
    public var vendorOrganisationId: String?

    public init(
        vendor: String, name: String, versions: [String], fixedVersion: String? = nil,
        cpe: String? = nil, purl: String? = nil, vendorOrganisationId: String? = nil
    ) {
        self.vendor = vendor
        self.name = name
        self.versions = versions
        self.fixedVersion = fixedVersion
        self.cpe = cpe
        self.purl = purl
        self.vendorOrganisationId = vendorOrganisationId
    }

    /// Whether `other` names the same product of the same vendor (versions aside).
    public func isSameProduct(as other: AffectedProduct) -> Bool {
        vendor.lowercased() == other.vendor.lowercased() && name.lowercased() == other.name.lowercased()
    }

    /// The CPE for one version: the CPE's version component filled in when it is `*` or `-`.
    public func cpe(forVersion version: String?) -> String? {
        guard let cpe, let version else { return cpe }
        var parts = CPEBinding.components(cpe)
        guard parts.count == 13, parts[5] == "*" || parts[5] == "-" else { return cpe }
        parts[5] = CPEBinding.quote(version)
        return parts.joined(separator: ":")
    }

    /// The package URL for one version: `@version` added when the purl names none.
    public func purl(forVersion version: String?) -> String? {
        guard let purl, let version else { return purl }
        let end = purl.firstIndex(where: { $0 == "?" || $0 == "#" }) ?? purl.endIndex
        guard !purl[..<end].contains("@") else { return purl }
        let encoded = version.addingPercentEncoding(withAllowedCharacters: CPEBinding.purlVersionAllowed) ?? version
        return String(purl[..<end]) + "@" + encoded + String(purl[end...])
    }
}

/// Reading and writing CPE 2.3 formatted strings (NISTIR 7695 §6.2).
enum CPEBinding {
    /// The components split at unescaped colons.
    static func components(_ cpe: String) -> [String] {
        var parts: [String] = []
        var current = ""
        var escaped = false
        for character in cpe {
            if escaped {
                current.append(character)
                escaped = false
            } else if character == "\\" {
                current.append(character)
                escaped = true
            } else if character == ":" {
                parts.append(current)
                current = ""
            } else {
                current.append(character)
            }
        }
        parts.append(current)
        return parts
    }

    /// A value quoted for the formatted-string binding: only letters, digits, `_`, `.` and `-` stay bare.
    static func quote(_ value: String) -> String {
        var quoted = ""
        for character in value {
            if character.isASCII && (character.isLetter || character.isNumber || "_.-".contains(character)) {
                quoted.append(character)
            } else {
                quoted.append("\\")
                quoted.append(character)
            }
        }
        return quoted
    }

    /// Whether `cpe` is a CPE 2.3 formatted string: the prefix, a part of a, o or h, and 13 components.
    static func isValid(_ cpe: String) -> Bool {
        let parts = components(cpe)
        return parts.count == 13 && parts[0] == "cpe" && parts[1] == "2.3" && ["a", "o", "h", "*"].contains(parts[2])
            && parts[3...].allSatisfy { !$0.isEmpty }
    }

    /// Characters a purl version keeps unencoded (the purl spec's unreserved set).
    static let purlVersionAllowed = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_~+")
}

/// What shows a finding: a statement, and where it came from when a run found it.
public struct FindingEvidence: Sendable, Hashable, Codable {
    /// What was observed, in words.
    public var text: String
    /// The assessment or evaluation run that produced it.
    public var runId: String?
    /// The sample within the run.
    public var sampleId: String?
    /// The epoch of the sample, when the run had several.
    public var epoch: Int?
    /// The transcript that shows it, relative to the run's folder (`evidence/…md`).
    public var transcript: String?

    public init(text: String, runId: String? = nil, sampleId: String? = nil, epoch: Int? = nil, transcript: String? = nil) {
        self.text = text
        self.runId = runId
        self.sampleId = sampleId
        self.epoch = epoch
        self.transcript = transcript
    }
}

/// A CWE entry: its id and its name as the CWE catalog writes it (CSAF validators compare the name).
public struct CWEReference: Sendable, Hashable, Codable {
    /// `CWE-` and a number.
    public var id: String
    /// The catalog's name, word for word.
    public var name: String

    public init(id: String, name: String) {
        self.id = id
        self.name = name
    }
}

/// What happened to a finding, in order; merges leave an entry on both sides.
public struct FindingHistoryEntry: Sendable, Hashable, Codable {
    /// The kinds of change a finding's history records.
    public enum Event: String, Sendable, Hashable, Codable {
        /// The finding was recorded or filed.
        case recorded
        /// A duplicate was merged into this finding.
        case mergedDuplicate = "merged_duplicate"
        /// This finding was merged into another (the primary) and is kept for the record.
        case mergedInto = "merged_into"
    }

    /// When it happened.
    public var at: Date
    /// What happened.
    public var event: Event
    /// The organisation that made the change.
    public var byOrganisationId: String
    /// The other finding of a merge.
    public var relatedFindingId: String?
    /// The reporter of the duplicate in a merge, so that credit survives it.
    public var relatedReporterId: String?
    /// A line for people.
    public var note: String

    public init(
        at: Date, event: Event, byOrganisationId: String, relatedFindingId: String? = nil,
        relatedReporterId: String? = nil, note: String
    ) {
        self.at = at
        self.event = event
        self.byOrganisationId = byOrganisationId
        self.relatedFindingId = relatedFindingId
        self.relatedReporterId = relatedReporterId
        self.note = note
    }
}

/// A security finding: a vulnerability, a weakness of the AI system, or a dangerous capability,
/// with the products it affects, its severity, its evidence and its TLP marking.
///
/// Pure data and rules: ``validate()`` names the field at fault, ``merge(duplicate:at:by:)``
/// folds a duplicate in and keeps both histories.
public struct Finding: Sendable, Hashable, Codable {
    /// The finding's Airlock id.
    public var id: String
    /// A vulnerability, a weakness of the AI system, or a dangerous capability.
    public var kind: FindingKind
    /// From an assessment run, or filed by hand.
    public var origin: FindingOrigin
    /// A one-line title.
    public var title: String
    /// What the flaw is and what it allows, for the advisory.
    public var description: String
    /// The products and versions affected (the model itself for a finding about the model).
    public var affectedProducts: [AffectedProduct]
    /// The CVSS 3.1 vector; its scores are computed by Airlock, never taken from the reporter.
    public var cvss31: CVSS31?
    /// The CVSS 4.0 vector; its score is computed by Airlock.
    public var cvss40: CVSS40?
    /// What shows it; never exported.
    public var evidence: [FindingEvidence]
    /// The marking the reporter gave it.
    public var tlp: TrafficLightProtocol
    /// The model version that found the flaw or exhibits it.
    public var modelVersionId: String
    /// The organisation that reported it.
    public var reporterOrganisationId: String
    /// When it was reported: the embargo's clock starts here.
    public var reportedAt: Date
    /// The weakness class, when known.
    public var cwe: CWEReference?
    /// The CVE id, once one is assigned.
    public var cveId: String?
    /// A workaround or mitigation until a fix is out.
    public var remediation: String?
    /// What happened to the finding, oldest first.
    public var history: [FindingHistoryEntry]
    /// Set when this finding was merged into another as a duplicate; it then stays only for the record.
    public var mergedInto: String?

    /// A finding; without a history it starts with a "recorded" entry at `reportedAt`.
    public init(
        id: String, kind: FindingKind, origin: FindingOrigin, title: String, description: String,
        affectedProducts: [AffectedProduct], cvss31: CVSS31? = nil, cvss40: CVSS40? = nil,
        evidence: [FindingEvidence], tlp: TrafficLightProtocol, modelVersionId: String,
        reporterOrganisationId: String, reportedAt: Date, cwe: CWEReference? = nil, cveId: String? = nil,
        remediation: String? = nil, history: [FindingHistoryEntry]? = nil, mergedInto: String? = nil
    ) {
        self.id = id
        self.kind = kind
        self.origin = origin
        self.title = title
        self.description = description
        self.affectedProducts = affectedProducts
        self.cvss31 = cvss31
        self.cvss40 = cvss40
        self.evidence = evidence
        self.tlp = tlp
        self.modelVersionId = modelVersionId
        self.reporterOrganisationId = reporterOrganisationId
        self.reportedAt = reportedAt
        self.cwe = cwe
        self.cveId = cveId
        self.remediation = remediation
        self.history = history ?? [
            FindingHistoryEntry(at: reportedAt, event: .recorded, byOrganisationId: reporterOrganisationId, note: "recorded")
        ]
        self.mergedInto = mergedInto
    }

    /// Whether the finding still counts: not merged into another.
    public var isActive: Bool { mergedInto == nil }

    /// The reporter and the reporters of every duplicate merged in, in order, each once: the credits.
    public var reporters: [String] {
        var seen: Set<String> = []
        return ([reporterOrganisationId] + history.compactMap { $0.event == .mergedDuplicate ? $0.relatedReporterId : nil })
            .filter { seen.insert($0).inserted }
    }

    /// Whether `text` is a CVE id as CVE JSON 5 writes it (`CVE-2026-12345`).
    public static func isCVEId(_ text: String) -> Bool { text.wholeMatch(of: #/CVE-[0-9]{4}-[0-9]{4,19}/#) != nil }

    /// Whether `text` is a CWE id (`CWE-79`).
    public static func isCWEId(_ text: String) -> Bool { text.wholeMatch(of: #/CWE-[1-9][0-9]*/#) != nil }

    /// Checks every field; the error names the first one at fault (`affected_products[1].cpe`).
    public func validate() throws(ProgramRuleError) {
        func invalid(_ field: String, _ reason: String) -> ProgramRuleError {
            ProgramRuleError(.invalidField, reason, field: field)
        }
        func blank(_ text: String) -> Bool { text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty }

        if blank(id) { throw invalid("id", "a finding needs an id") }
        if blank(title) { throw invalid("title", "a finding needs a title") }
        if blank(description) { throw invalid("description", "a finding needs a description") }
        if blank(modelVersionId) { throw invalid("model_version_id", "a finding names the model version that found or exhibits it") }
        if blank(reporterOrganisationId) { throw invalid("reporter_organisation_id", "a finding names its reporter") }
        if affectedProducts.isEmpty {
            throw invalid(
                "affected_products", "a finding names at least one affected product (the model itself for a finding about the model)")
        }
        for (index, product) in affectedProducts.enumerated() {
            let field = "affected_products[\(index)]"
            if blank(product.vendor) { throw invalid("\(field).vendor", "an affected product needs its vendor") }
            if blank(product.name) { throw invalid("\(field).name", "an affected product needs its name") }
            if let bad = product.versions.firstIndex(where: blank) {
                throw invalid("\(field).versions[\(bad)]", "a version cannot be empty")
            }
            if let fixed = product.fixedVersion, blank(fixed) || product.versions.contains(fixed) {
                throw invalid("\(field).fixed_version", "the fixed version must be named and not among the affected versions")
            }
            if let cpe = product.cpe, !CPEBinding.isValid(cpe) {
                throw invalid(
                    "\(field).cpe", "\"\(cpe)\" is not a CPE 2.3 formatted string (cpe:2.3:part:vendor:product:version:…, 13 parts)")
            }
            if let purl = product.purl, purl.wholeMatch(of: #/pkg:[a-zA-Z][a-zA-Z0-9.+\-]*/[^\s]+/#) == nil {
                throw invalid("\(field).purl", "\"\(purl)\" is not a package URL (pkg:type/namespace/name)")
            }
        }
        if evidence.isEmpty { throw invalid("evidence", "a finding needs evidence") }
        for (index, item) in evidence.enumerated() where blank(item.text) {
            throw invalid("evidence[\(index)].text", "evidence needs a statement of what was observed")
        }
        if origin == .assessmentRun, !evidence.contains(where: { $0.runId != nil && $0.transcript != nil }) {
            throw invalid("evidence", "a finding from an assessment run links the run and the transcript that shows it")
        }
        if let cwe {
            if !Self.isCWEId(cwe.id) { throw invalid("cwe.id", "\"\(cwe.id)\" is not a CWE id (CWE-<number>)") }
            if blank(cwe.name) { throw invalid("cwe.name", "a CWE reference needs the catalog's name") }
        }
        if let cveId, !Self.isCVEId(cveId) {
            throw invalid("cve_id", "\"\(cveId)\" is not a CVE id (CVE-YYYY-NNNN)")
        }
        if let remediation, blank(remediation) { throw invalid("remediation", "a remediation cannot be empty; leave it out instead") }
    }

    /// Folds `duplicate` into this finding (the primary) and marks it merged, keeping both histories.
    ///
    /// The primary keeps its own judgement (title, CVSS, CWE) and takes what it lacks from the
    /// duplicate; evidence and products are united; the marking becomes the stricter of the two,
    /// so that merging never relaxes what a reporter asked for; the report date becomes the earlier,
    /// which is when the embargo clock started. The duplicate stays, with `mergedInto` set.
    public mutating func merge(duplicate: inout Finding, at date: Date, by organisationId: String) throws(ProgramRuleError) {
        guard duplicate.id != id else {
            throw ProgramRuleError(.conflict, "a finding cannot be merged into itself", field: "duplicate_id")
        }
        guard isActive else {
            throw ProgramRuleError(.conflict, "\(id) was itself merged into \(mergedInto ?? "")", field: "primary_id")
        }
        guard duplicate.isActive else {
            throw ProgramRuleError(
                .conflict, "\(duplicate.id) was already merged into \(duplicate.mergedInto ?? "")", field: "duplicate_id")
        }
        guard duplicate.kind == kind else {
            throw ProgramRuleError(
                .invalidField, "a \(duplicate.kind.rawValue) finding cannot be a duplicate of a \(kind.rawValue) finding", field: "kind")
        }
        if let mine = cveId, let theirs = duplicate.cveId, mine != theirs {
            throw ProgramRuleError(.conflict, "the findings name different CVEs (\(mine), \(theirs))", field: "cve_id")
        }

        cveId = cveId ?? duplicate.cveId
        cwe = cwe ?? duplicate.cwe
        cvss31 = cvss31 ?? duplicate.cvss31
        cvss40 = cvss40 ?? duplicate.cvss40
        remediation = remediation ?? duplicate.remediation
        tlp = max(tlp, duplicate.tlp)
        reportedAt = min(reportedAt, duplicate.reportedAt)
        for item in duplicate.evidence where !evidence.contains(item) {
            evidence.append(item)
        }
        for product in duplicate.affectedProducts {
            if let index = affectedProducts.firstIndex(where: { $0.isSameProduct(as: product) }) {
                for version in product.versions where !affectedProducts[index].versions.contains(version) {
                    affectedProducts[index].versions.append(version)
                }
                affectedProducts[index].cpe = affectedProducts[index].cpe ?? product.cpe
                affectedProducts[index].purl = affectedProducts[index].purl ?? product.purl
                affectedProducts[index].fixedVersion = affectedProducts[index].fixedVersion ?? product.fixedVersion
                affectedProducts[index].vendorOrganisationId =
                    affectedProducts[index].vendorOrganisationId ?? product.vendorOrganisationId
            } else {
                affectedProducts.append(product)
            }
        }
        history.append(FindingHistoryEntry(
            at: date, event: .mergedDuplicate, byOrganisationId: organisationId, relatedFindingId: duplicate.id,
            relatedReporterId: duplicate.reporterOrganisationId, note: "merged duplicate \(duplicate.id): \(duplicate.title)"))
        duplicate.mergedInto = id
        duplicate.history.append(FindingHistoryEntry(
            at: date, event: .mergedInto, byOrganisationId: organisationId, relatedFindingId: id,
            note: "merged into \(id) as a duplicate"))
    }
}
