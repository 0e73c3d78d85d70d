import AirlockAPI
import AirlockCore
import AirlockStore
import Foundation
import Hummingbird

/// Disclosure cases as their participants see them (VINCE's vendor view): the marking now and
/// its planned steps with who receives the case at each, the embargo's time left, findings,
/// each vendor's status and statement; a vendor's own status form; the office's triage and
/// publication, each showing who will receive the case before it is taken.
extension WebPages {
    struct CasesPage {
        var frame: Frame
        var rows: [CaseRow]
        var empty: Bool
        var next: String?
    }

    struct CaseRow {
        var id: String
        var reference: String
        var title: String
        var state: String
        var tlp: String
        var embargo: String
        var findings: Int
    }

    func casesPage(_ request: Request, _ context: ProgramRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        let after = try URLEncodedForm.fields(request.uri.query ?? "")["after"]
        try api.authorize(.caseList, actor, .none, hiding: "case")
        let now = api.now()
        let (rows, next) = try await api.store.transaction { records in
            let page = try await records.disclosureCases(
                participant: actor.organisation.kind == .programOffice ? nil : actor.organisation.id, after: after, limit: 100)
            var rows: [CaseRow] = []
            for disclosureCase in page.items {
                rows.append(
                    CaseRow(
                        id: disclosureCase.id, reference: disclosureCase.reference, title: disclosureCase.title, state: disclosureCase.state.rawValue,
                        tlp: disclosureCase.tlp(at: now).label,
                        embargo: Self.embargo(state: disclosureCase.state, end: try await api.embargoEnd(of: disclosureCase, records), now: now),
                        findings: disclosureCase.activeFindings.count))
            }
            try await api.audit(records, actor, "case.list", "case", nil, ["count": "\(rows.count)", "via": "browser"])
            return (rows, page.nextCursor)
        }
        return page("cases", CasesPage(frame: frame("Disclosure cases", context), rows: rows, empty: rows.isEmpty, next: next.map { "/cases?after=" + Self.pathSegment($0) }))
    }

    /// The embargo in words: its end and the days left, or what it waits for.
    static func embargo(state: PublicationState, end: Date?, now: Date) -> String {
        if state == .published { return "published" }
        guard let end else { return "holds until the model's public release, which is not set" }
        let day = String(RFC3339.format(end).prefix(10))
        let days = Int((end.timeIntervalSince(now) / 86_400).rounded(.up))
        return days > 0 ? "ends \(day), in \(days) day\(days == 1 ? "" : "s")" : "ended \(day): the case may be published"
    }

    struct CasePage {
        var frame: Frame
        var id: String
        var reference: String
        var title: String
        var summary: String
        var hasSummary: Bool
        var state: String
        var tlp: String
        var embargo: String
        var reported: String
        var participants: [ParticipantRow]
        var findings: [CaseFindingRow]
        var statuses: [StatusRow]
        var hasStatuses: Bool
        var plan: [PlanRow]
        var revisions: [String]
        var hasRevisions: Bool
        var vendorForm: VendorForm?
        var triage: Preview?
        var publication: Preview?
        var published: Bool
        var canRevise: Bool
    }

    struct ParticipantRow {
        var organisation: String
        var roles: String
    }

    struct CaseFindingRow {
        var id: String
        var title: String
        var kind: String
        var severity: String
        var tlp: String
    }

    struct StatusRow {
        var vendor: String
        var finding: String
        var status: String
        var notes: String
        var updated: String
    }

    struct PlanRow {
        var tlp: String
        var when: String
        var inEffect: Bool
        var who: String
    }

    struct VendorForm {
        var vendors: [Option]
        var findings: [Option]
        var statuses: [Option]
        var justifications: [Option]
    }

    /// What a step would do before it is taken: the marking after it and who then receives the case.
    struct Preview {
        var tlp: String
        var who: String
        var note: String?
    }

    func casePage(_ request: Request, _ context: ProgramRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        let id = try context.parameters.require("case_id")
        let (view, disclosureCase) = try await api.caseView(id, actor: actor, via: "browser")
        let now = api.now()
        let page = try await api.store.transaction { records -> CasePage in
            var names: [String: String] = [:]
            let organisations = try await records.organisations(after: nil, limit: 1000).items
            for organisation in organisations { names[organisation.id] = organisation.name }
            func name(_ id: String) -> String { names[id] ?? id }
            let participantNames = Array(Set(view.participants.map { name($0.organisationId) })).sorted()
            let members = organisations.count
            var roles: [String: [String]] = [:]
            for participant in view.participants { roles[participant.organisationId, default: []].append(participant.role.rawValue.replacingOccurrences(of: "_", with: " ")) }
            let findingTitles = Dictionary(view.findings.map { ($0.id, $0.title) }, uniquingKeysWith: { first, _ in first })
            func who(_ tlp: TrafficLightProtocol) -> String { Self.recipients(of: tlp, participants: participantNames, programMembers: members) }
            // The forms are the steps the API would allow this reader, by its own rule.
            let relation = api.relation(of: actor, toCase: disclosureCase)
            func may(_ action: ProgramAction, _ relation: ObjectRelation) -> Bool { (try? api.authorize(action, actor, relation, hiding: "case")) != nil }
            let office = actor.organisation.kind == .programOffice
            let vendorIds = Array(Set(view.participants.filter { [.vendor, .modelDeveloper].contains($0.role) }.map(\.organisationId)))
                .filter { office ? may(.caseVendorStatus, relation) : $0 == actor.organisation.id && may(.caseVendorStatus, .owner) }.sorted()
            var triage: Preview?
            if view.triagedAt == nil, may(.caseManage, relation) {
                var after = disclosureCase
                after.triagedAt = now
                triage = Preview(tlp: after.tlp(at: now).label, who: who(after.tlp(at: now)), note: "The case goes to its participants under embargo.")
            }
            var publication: Preview?
            if disclosureCase.state != .published, may(.casePublish, relation) {
                var after = disclosureCase
                after.state = .published
                after.publishedAt = now
                let early = view.embargoEnd.map { now < $0 } ?? true
                publication = Preview(
                    tlp: after.tlp(at: now).label, who: who(after.tlp(at: now)),
                    note: early ? "The embargo has not ended: publishing now needs a reason, kept with the case." : nil)
            }
            return CasePage(
                frame: frame("\(view.reference): \(view.title)", context), id: view.id, reference: view.reference, title: view.title, summary: view.summary,
                hasSummary: !view.summary.isEmpty, state: view.state.rawValue, tlp: view.tlp.label, embargo: Self.embargo(state: view.state, end: view.embargoEnd, now: now),
                reported: String(RFC3339.format(view.reportedAt).prefix(10)),
                participants: roles.keys.sorted { name($0) < name($1) }.map { ParticipantRow(organisation: name($0), roles: roles[$0]!.sorted().joined(separator: ", ")) },
                findings: disclosureCase.activeFindings.map { finding in
                    CaseFindingRow(
                        id: finding.id, title: finding.title, kind: finding.kind.rawValue.replacingOccurrences(of: "_", with: " "), severity: Self.severity(finding),
                        tlp: disclosureCase.tlp(for: finding, at: now).label)
                },
                statuses: view.vendorStatuses.map { status in
                    StatusRow(
                        vendor: name(status.vendorId), finding: status.findingId.map { findingTitles[$0] ?? $0 } ?? "the whole case",
                        status: status.status.replacingOccurrences(of: "_", with: " ") + (status.justification.map { ": " + $0.rawValue.replacingOccurrences(of: "_", with: " ") } ?? ""),
                        notes: status.notes, updated: String(RFC3339.format(status.updatedAt).prefix(10)))
                },
                hasStatuses: !view.vendorStatuses.isEmpty,
                plan: disclosureCase.tlpPlan.map { step in
                    let when: String =
                        switch step.trigger {
                        case .immediately: "from the start"
                        case .at(let date): "from " + String(RFC3339.format(date).prefix(10))
                        case .onTriage: "once triaged"
                        case .onPublication: "once published"
                        }
                    return PlanRow(tlp: step.tlp.label, when: when, inEffect: disclosureCase.hasTakenEffect(step, at: now), who: who(step.tlp))
                },
                revisions: view.advisoryRevisions.map { "\($0.number). \(String(RFC3339.format($0.date).prefix(10))): \($0.summary)" },
                hasRevisions: !view.advisoryRevisions.isEmpty,
                vendorForm: vendorIds.isEmpty
                    ? nil
                    : VendorForm(
                        vendors: vendorIds.map { Option(value: $0, label: name($0), selected: false) },
                        findings: [Option(value: "", label: "the whole case", selected: true)]
                            + disclosureCase.activeFindings.map { Option(value: $0.id, label: $0.title, selected: false) },
                        statuses: ["under_investigation", "affected", "not_affected", "fixed"].map {
                            Option(value: $0, label: $0.replacingOccurrences(of: "_", with: " "), selected: false)
                        },
                        justifications: [Option(value: "", label: "none (only for not affected)", selected: true)]
                            + VEXJustification.allCases.map { Option(value: $0.rawValue, label: $0.rawValue.replacingOccurrences(of: "_", with: " "), selected: false) }),
                triage: triage, publication: publication, published: disclosureCase.state == .published,
                canRevise: disclosureCase.state == .published && may(.casePublish, relation))
        }
        return self.page("case", page)
    }

    func setCaseVendorStatus(_ request: Request, _ context: ProgramRequestContext) async throws -> Response {
        let form = try await Self.form(request)
        let (actor, _) = try Self.checkFormToken(form, context)
        let id = try context.parameters.require("case_id")
        _ = try await api.setVendorStatus(
            caseId: id, vendorId: form.filled("vendor") ?? actor.organisation.id,
            VendorStatusChange(
                status: form.filled("status") ?? "", justification: form.filled("justification"), fixedVersion: form.filled("fixed_version"),
                notes: form.filled("notes"), findingId: form.filled("finding")),
            actor: actor)
        return Self.redirect("/cases/\(Self.pathSegment(id))")
    }

    func triageCase(_ request: Request, _ context: ProgramRequestContext) async throws -> Response {
        let form = try await Self.form(request)
        let (actor, _) = try Self.checkFormToken(form, context)
        let id = try context.parameters.require("case_id")
        _ = try await api.triage(caseId: id, note: form.filled("note"), actor: actor)
        return Self.redirect("/cases/\(Self.pathSegment(id))")
    }

    /// Publishes the case (or records a revision of its advisory) once the box is ticked: the
    /// page has shown who will receive it.
    func publishCase(_ request: Request, _ context: ProgramRequestContext) async throws -> Response {
        let form = try await Self.form(request)
        let (actor, _) = try Self.checkFormToken(form, context)
        let id = try context.parameters.require("case_id")
        if form["revision"] == nil, form["confirm"] != "yes" {
            throw ProgramRuleError(.invalidField, "tick the box to confirm: publishing sends the case to everyone its new marking allows", field: "confirm")
        }
        _ = try await api.publish(
            caseId: id, CasePublication(earlyReleaseReason: form.filled("early_release_reason"), summary: form.filled("summary")), actor: actor)
        return Self.redirect("/cases/\(Self.pathSegment(id))")
    }
}
