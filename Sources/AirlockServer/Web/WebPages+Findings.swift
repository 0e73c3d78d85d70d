import AirlockAPI
import AirlockCore
import AirlockStore
import Foundation
import Hummingbird

/// Findings: the reader's (all of them for the office), one finding, and a form to file one
/// with a CVSS 3.1 calculator and, for each TLP label, who would receive it.
extension WebPages {
    struct FindingsPage {
        var frame: Frame
        var rows: [FindingRow]
        var empty: Bool
        var next: String?
    }

    struct FindingRow {
        var id: String
        var title: String
        var kind: String
        var tlp: String
        var severity: String
        var reported: String
        var caseId: String?
        var merged: Bool
    }

    func findingsPage(_ request: Request, _ context: ProgramRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        let after = try URLEncodedForm.fields(request.uri.query ?? "")["after"]
        try api.authorize(.findingList, actor, .none, hiding: "finding")
        let page = try await api.store.transaction { records in
            let page = try await records.findings(
                reporterId: actor.organisation.kind == .programOffice ? nil : actor.organisation.id, after: after, limit: 100)
            try await api.audit(records, actor, "finding.list", "finding", nil, ["count": "\(page.items.count)", "via": "browser"])
            return page
        }
        let rows = page.items.map { item in
            FindingRow(
                id: item.finding.id, title: item.finding.title, kind: item.finding.kind.rawValue.replacingOccurrences(of: "_", with: " "),
                tlp: item.finding.tlp.label, severity: Self.severity(item.finding), reported: String(RFC3339.format(item.finding.reportedAt).prefix(10)),
                caseId: item.caseId, merged: !item.finding.isActive)
        }
        return self.page(
            "findings",
            FindingsPage(frame: frame("Findings", context), rows: rows, empty: rows.isEmpty, next: page.nextCursor.map { "/findings?after=" + Self.pathSegment($0) }))
    }

    static func severity(_ finding: Finding) -> String {
        if let cvss = finding.cvss40 { return String(format: "%.1f %@ (CVSS 4.0)", cvss.score, cvss.severity.rawValue) }
        if let cvss = finding.cvss31 { return String(format: "%.1f %@ (CVSS 3.1)", cvss.baseScore, cvss.baseSeverity.rawValue) }
        return "not scored"
    }

    struct FindingPage {
        var frame: Frame
        var id: String
        var title: String
        var description: String
        var tlp: String
        var reported: String
        var cveId: String?
        var caseId: String?
        var mergedInto: String?
        var kind: String
        var severity: String
        var vector: String?
        var reporter: String
        var version: String
        var products: [String]
        var evidence: [EvidenceItem]
        var history: [String]
        var hasEvidence: Bool
        var hasProducts: Bool
        /// The office may open a case on a finding that is in none.
        var canOpenCase: Bool
    }

    struct EvidenceItem {
        var text: String
        var link: String?
        var label: String
    }

    func findingPage(_ request: Request, _ context: ProgramRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        let id = try context.parameters.require("finding_id")
        let view = try await api.findingView(id, actor: actor, via: "browser")
        let (reporter, version, finding) = try await api.store.transaction { records in
            let version = try await records.version(id: view.modelVersionId)
            let model = version == nil ? nil : try await records.model(id: version!.modelId)
            return (
                try await records.organisation(id: view.reporterOrganisationId)?.name ?? view.reporterOrganisationId,
                "\(model?.name ?? view.modelVersionId) \(version?.version ?? "")", try await records.finding(id: id)?.finding
            )
        }
        let evidence = (view.evidence ?? []).map { item in
            let link = item.runId.flatMap { run in item.sampleId.map { "/runs/\(Self.pathSegment(run))/samples/\(Self.pathSegment($0))/\(item.epoch ?? 1)" } }
            return EvidenceItem(text: item.text, link: link, label: item.sampleId.map { "\($0), epoch \(item.epoch ?? 1)" } ?? "")
        }
        return page(
            "finding",
            FindingPage(
                frame: frame(view.title, context), id: view.id, title: view.title, description: view.description, tlp: view.tlp.label,
                reported: RFC3339.format(view.reportedAt), cveId: view.cveId, caseId: view.caseId, mergedInto: view.mergedInto, kind: view.kind.rawValue.replacingOccurrences(of: "_", with: " "),
                severity: finding.map(Self.severity) ?? "", vector: view.cvssV4_0?.vector ?? view.cvssV3_1?.vector, reporter: reporter, version: version,
                products: view.affectedProducts.map { "\($0.vendor) \($0.name) \($0.versions.joined(separator: ", "))" + ($0.fixedVersion.map { " (fixed in \($0))" } ?? "") },
                evidence: evidence,
                history: view.history.map { "\(String(RFC3339.format($0.at).prefix(16)).replacingOccurrences(of: "T", with: " ")) \($0.event.rawValue): \($0.note)" },
                hasEvidence: !evidence.isEmpty, hasProducts: !view.affectedProducts.isEmpty,
                canOpenCase: view.caseId == nil && view.mergedInto == nil && (try? api.authorize(.caseCreate, actor, actor.organisation.kind == .programOffice ? .programOffice : .none, hiding: "case")) != nil))
    }

    /// Opens a disclosure case on the finding (the office), with its default marking plan and embargo.
    func openCase(_ request: Request, _ context: ProgramRequestContext) async throws -> Response {
        let form = try await Self.form(request)
        let (actor, _) = try Self.checkFormToken(form, context)
        let id = try context.parameters.require("finding_id")
        let (disclosureCase, _) = try await api.store.transaction { records in
            try await api.openCase(NewCase(title: form["title"] ?? "", summary: form["summary"], findingIds: [id]), actor: actor, records)
        }
        return Self.redirect("/cases/\(disclosureCase.id)")
    }

    // MARK: Filing, with a CVSS calculator

    /// The CVSS 3.1 base metrics, in the vector's order, with their values' names.
    static let cvss31Metrics: [(metric: String, name: String, values: [(String, String)])] = [
        ("AV", "Attack vector", [("N", "Network"), ("A", "Adjacent"), ("L", "Local"), ("P", "Physical")]),
        ("AC", "Attack complexity", [("L", "Low"), ("H", "High")]),
        ("PR", "Privileges required", [("N", "None"), ("L", "Low"), ("H", "High")]),
        ("UI", "User interaction", [("N", "None"), ("R", "Required")]),
        ("S", "Scope", [("U", "Unchanged"), ("C", "Changed")]),
        ("C", "Confidentiality", [("H", "High"), ("L", "Low"), ("N", "None")]),
        ("I", "Integrity", [("H", "High"), ("L", "Low"), ("N", "None")]),
        ("A", "Availability", [("H", "High"), ("L", "Low"), ("N", "None")]),
    ]

    /// The vector the form's metrics make: nil when none is chosen, an error naming the first
    /// one missing when only some are.
    static func cvss31Vector(_ form: [String: String]) throws -> String? {
        let chosen = cvss31Metrics.map { (metric: $0.metric, value: form["cvss_" + $0.metric] ?? "") }
        guard chosen.contains(where: { !$0.value.isEmpty }) else { return nil }
        if let missing = chosen.first(where: { $0.value.isEmpty }) {
            throw ProgramRuleError(.invalidField, "choose every base metric of CVSS 3.1, or none", field: "cvss_" + missing.metric)
        }
        return "CVSS:3.1/" + chosen.map { "\($0.metric):\($0.value)" }.joined(separator: "/")
    }

    struct NewFindingPage {
        var frame: Frame
        var versions: [Option]
        var vendorOrganisations: [Option]
        var kinds: [Option]
        var labels: [Option]
        var metrics: [MetricChoice]
        var title: String
        var description: String
        var vendor: String
        var product: String
        var affected: String
        var evidence: String
        var evidenceRun: String
        var evidenceSample: String
        var evidenceEpoch: String
        var score: String?
        var recipients: [Recipients]
        var message: String?
        var field: String?
    }

    struct MetricChoice {
        var metric: String
        var name: String
        var options: [Option]
    }

    struct Recipients {
        var label: String
        var who: String
    }

    /// The form, its version and evidence filled in from the URL (a transcript's "file a finding" link).
    func newFindingPage(_ request: Request, _ context: ProgramRequestContext) async throws -> Response {
        let query = try URLEncodedForm.fields(request.uri.query ?? "")
        let filled = query.filter { ["version", "evidence_run", "evidence_sample", "evidence_epoch"].contains($0.key) }
        return try await newFindingForm(filled, message: nil, field: nil, score: nil, status: .ok, context)
    }

    private func newFindingForm(
        _ form: [String: String], message: String?, field: String?, score: String?, status: HTTPResponse.Status, _ context: ProgramRequestContext
    ) async throws -> Response {
        let actor = try context.requireActor()
        let (versions, members) = try await api.store.transaction { records in
            var versions: [(String, String)] = []
            for version in try await records.versions(modelId: nil, visibleTo: api.visibility(of: actor), after: nil, limit: 200).items {
                // The versions the API would take a finding on, by its own rule.
                guard (try? await api.loadVersion(version.id, .findingCreate, actor, records)) != nil else { continue }
                versions.append((version.id, "\(try await records.model(id: version.modelId)?.name ?? version.modelId) \(version.version)"))
            }
            return (versions, try await records.organisations(after: nil, limit: 1000).items)
        }
        let vendorOrganisations = [Option(value: "", label: "none in the program", selected: (form["vendor_organisation"] ?? "").isEmpty)]
            + members.filter { $0.kind != .programOffice }.map { Option(value: $0.id, label: $0.name, selected: $0.id == form["vendor_organisation"]) }
        let chosenLabel = form.filled("tlp") ?? TrafficLightProtocol.amber.rawValue
        return page(
            "finding-new",
            NewFindingPage(
                frame: frame("File a finding", context),
                versions: versions.map { Option(value: $0.0, label: $0.1, selected: $0.0 == form["version"]) }, vendorOrganisations: vendorOrganisations,
                kinds: FindingKind.allCases.map { Option(value: $0.rawValue, label: $0.rawValue.replacingOccurrences(of: "_", with: " "), selected: $0.rawValue == form["kind"]) },
                labels: TrafficLightProtocol.allCases.map { Option(value: $0.rawValue, label: $0.label, selected: $0.rawValue == chosenLabel) },
                metrics: Self.cvss31Metrics.map { metric in
                    MetricChoice(
                        metric: metric.metric, name: metric.name,
                        options: [Option(value: "", label: "not scored", selected: (form["cvss_" + metric.metric] ?? "").isEmpty)]
                            + metric.values.map { Option(value: $0.0, label: $0.1, selected: form["cvss_" + metric.metric] == $0.0) })
                },
                title: form["title"] ?? "", description: form["description"] ?? "", vendor: form["vendor"] ?? "", product: form["product"] ?? "",
                affected: form["affected"] ?? "", evidence: form["evidence"] ?? "", evidenceRun: form["evidence_run"] ?? "",
                evidenceSample: form["evidence_sample"] ?? "", evidenceEpoch: form["evidence_epoch"] ?? "", score: score,
                recipients: TrafficLightProtocol.allCases.map { Recipients(label: $0.label, who: Self.recipients(of: $0, participants: nil, programMembers: members.count)) },
                message: message, field: field),
            status: status)
    }

    /// The form's `calculate` button shows the CVSS score; its `file` button files the finding.
    func fileFinding(_ request: Request, _ context: ProgramRequestContext) async throws -> Response {
        let form = try await Self.form(request)
        let (actor, _) = try Self.checkFormToken(form, context)
        let vector: String?
        do {
            vector = try Self.cvss31Vector(form)
        } catch let error as ProgramRuleError {
            return try await newFindingForm(form, message: error.reason, field: error.field, score: nil, status: .unprocessableContent, context)
        }
        let score: String?
        do {
            score = try vector.map { vector -> String in
                let cvss = try CVSS31(vector)
                return String(format: "%.1f %@: %@", cvss.baseScore, cvss.baseSeverity.rawValue, vector)
            }
        } catch let error as CVSSError {
            return try await newFindingForm(form, message: error.reason, field: "cvss_" + (error.metric ?? "AV"), score: nil, status: .unprocessableContent, context)
        }
        if form["action"] == "calculate" { return try await newFindingForm(form, message: nil, field: nil, score: score, status: .ok, context) }
        var products: [AffectedProduct] = []
        if let product = form["product"], !product.isEmpty {
            let versions = (form["affected"] ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            products.append(
                AffectedProduct(vendor: form["vendor"] ?? "", name: product, versions: versions, vendorOrganisationId: form.filled("vendor_organisation")))
        }
        guard let kind = FindingKind(rawValue: form["kind"] ?? "") else {
            return try await newFindingForm(form, message: "choose what kind of finding this is", field: "kind", score: score, status: .unprocessableContent, context)
        }
        guard let evidenceText = form.filled("evidence") else {
            return try await newFindingForm(form, message: "say what shows it: a finding needs evidence", field: "evidence", score: score, status: .unprocessableContent, context)
        }
        let epoch = form.filled("evidence_epoch").flatMap { Int($0) }
        let evidence = FindingEvidence(text: evidenceText, runId: form.filled("evidence_run"), sampleId: form.filled("evidence_sample"), epoch: epoch)
        let body = NewFinding(
            modelVersionId: form["version"] ?? "", kind: kind, title: form["title"] ?? "", description: form["description"] ?? "", affectedProducts: products,
            cvssV3_1: vector, evidence: [evidence], tlp: form["tlp"])
        do {
            let finding = try await api.store.transaction { records in try await api.fileFinding(body, actor: actor, records) }
            return Self.redirect("/findings/\(finding.id)")
        } catch let error as ProgramRuleError {
            return try await newFindingForm(form, message: error.reason, field: error.field, score: score, status: .unprocessableContent, context)
        }
    }

    /// Who may read an object marked `tlp`, in words, by ``SharingAccess``'s own rule: the named
    /// organisations (a case's participants) or, outside a case, its reporter and the office.
    static func recipients(of tlp: TrafficLightProtocol, participants: [String]?, programMembers: Int) -> String {
        var who: [String] = []
        if SharingAccess.canRead(tlp, relation: .participant(.reporter), isNamedRecipient: true) {
            who.append(participants.map { $0.isEmpty ? "no participant yet" : $0.joined(separator: ", ") } ?? "the participants of the case it joins (until then: your organisation and the program office)")
        }
        if SharingAccess.canRead(tlp, relation: .programMember, isNamedRecipient: false) { who.append("every organisation in the program (\(programMembers))") }
        if SharingAccess.canRead(tlp, relation: .outsider, isNamedRecipient: false) { who.append("organisations outside the program") }
        if SharingAccess.canRead(tlp, relation: .anonymous, isNamedRecipient: false) { who.append("anyone, without signing in: it is public") }
        if tlp == .red { who.append("each only where the object names it") }
        return who.joined(separator: "; ")
    }
}
