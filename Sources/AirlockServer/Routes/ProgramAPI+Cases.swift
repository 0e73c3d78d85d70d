import AirlockAPI
import AirlockCore
import AirlockExchange
import AirlockStore
import Foundation
import HTTPTypes
import Hummingbird

extension ProgramAPI {
    // MARK: Relations

    /// The office oversees every case; participants see theirs; for everyone else it does not exist.
    func relation(of actor: Actor, toCase disclosureCase: DisclosureCase) -> ObjectRelation {
        if actor.organisation.kind == .programOffice { return .programOffice }
        return disclosureCase.isParticipant(actor.organisation.id) ? .participant : .none
    }

    func loadCase(_ id: String, _ action: ProgramAction, _ actor: Actor, _ records: ProgramRecords) async throws -> DisclosureCase {
        // A change reads, changes and shares the case under its collection's lock, so that changes take turns.
        if ![.caseRead, .caseExport].contains(action) { try await lockCase(id, records) }
        guard let disclosureCase = try await records.disclosureCase(id: id) else { throw ProblemDetails.notFound("case") }
        try authorize(action, actor, relation(of: actor, toCase: disclosureCase), hiding: "case")
        return disclosureCase
    }

    /// Makes concurrent changes of one case take turns until the transaction ends (PostgreSQL; SQLite
    /// serialises writers already): the lock of the case's TAXII collection, which sharing takes too.
    func lockCase(_ id: String, _ records: ProgramRecords) async throws {
        let collection = SharingCollection.disclosureCase(id).id(namespace: configuration.sharingNamespace)
        try await records.lockTAXIICollection(collectionId: collection)
    }

    /// Stores a changed case with its embargo end, shares it over TAXII, and returns its view.
    private func save(_ disclosureCase: DisclosureCase, _ actor: Actor, _ records: ProgramRecords, at now: Date) async throws -> CaseView {
        try disclosureCase.validate()
        let end = try await embargoEnd(of: disclosureCase, records)
        try await records.update(disclosureCase, embargoEnd: end, at: now)
        try await shareCase(disclosureCase, records, at: now)
        return view(disclosureCase, embargoEnd: end, actor)
    }

    private func view(_ disclosureCase: DisclosureCase, embargoEnd: Date?, _ actor: Actor) -> CaseView {
        CaseView(
            disclosureCase, embargoEnd: embargoEnd, showEvidence: actor.organisation.kind == .programOffice,
            taxiiCollectionId: SharingCollection.disclosureCase(disclosureCase.id).id(namespace: configuration.sharingNamespace),
            now: now())
    }

    /// Adds the organisations a finding brings: its reporters, the vendors of its products, and
    /// for a finding about the model, the model's developer.
    private func addParticipants(of finding: Finding, to disclosureCase: inout DisclosureCase, _ records: ProgramRecords) async throws {
        for reporter in finding.reporters { disclosureCase.add(CaseParticipant(organisationId: reporter, role: .reporter)) }
        let developerId = finding.kind.isAboutModel ? try await records.version(id: finding.modelVersionId)?.developerId : nil
        if let developerId { disclosureCase.add(CaseParticipant(organisationId: developerId, role: .modelDeveloper)) }
        for vendorId in finding.affectedProducts.compactMap(\.vendorOrganisationId) where vendorId != developerId {
            disclosureCase.add(CaseParticipant(organisationId: vendorId, role: .vendor))
        }
    }

    /// A finding that may join a case: one that exists, is active and is in no case yet.
    private func joinableFinding(_ id: String, field: String, _ records: ProgramRecords) async throws -> Finding {
        guard case let (finding, caseId)? = try await records.finding(id: id) else {
            throw ProgramRuleError(.invalidField, "no finding with that id", field: field)
        }
        guard finding.isActive else {
            throw ProgramRuleError(.invalidField, "\(id) was merged into \(finding.mergedInto ?? ""); add that one", field: field)
        }
        if caseId != nil { throw ProgramRuleError(.conflict, "\(id) is already in a case", field: field) }
        return finding
    }

    private func requireOrganisation(_ id: String, field: String, _ records: ProgramRecords) async throws {
        if try await records.organisation(id: id) == nil {
            throw ProgramRuleError(.invalidField, "no organisation with that id", field: field)
        }
    }

    static func plan(_ steps: [TLPStepRequest]) throws(ProgramRuleError) -> [TLPStep] {
        var plan: [TLPStep] = []
        for (index, step) in steps.enumerated() {
            let field = "tlp_plan[\(index)]"
            let tlp = try TrafficLightProtocol(parsing: step.tlp, field: "\(field).tlp")
            let trigger: TLPStep.Trigger
            switch step.when {
            case "immediately": trigger = .immediately
            case "on_triage": trigger = .onTriage
            case "on_publication": trigger = .onPublication
            case "at":
                guard let date = step.date else {
                    throw ProgramRuleError(.invalidField, "a dated step needs its date", field: "\(field).date")
                }
                trigger = .at(date)
            default:
                throw ProgramRuleError(
                    .invalidField, "\"\(step.when)\" is not immediately, at, on_triage or on_publication", field: "\(field).when")
            }
            if step.when != "at", step.date != nil {
                throw ProgramRuleError(.invalidField, "only a step \"at\" a date has a date", field: "\(field).date")
            }
            plan.append(TLPStep(tlp, trigger))
        }
        try DisclosureCase.validate(plan: plan)
        return plan
    }

    /// Runs a document builder; a document that cannot be built is refused with the reason.
    func document<T>(_ build: () throws(SharingDocumentError) -> T) throws -> T {
        do {
            return try build()
        } catch {
            if error.code == .noCVEId { throw ProgramRuleError(.invalidField, error.reason, field: "cve_id") }
            throw ProblemDetails(.unprocessableContent, code: "document-unavailable", detail: error.reason)
        }
    }

    // MARK: Cases

    func listCases(_ request: Request, _ context: Context) async throws -> Response {
        let actor = try context.requireActor()
        let query = try ListQuery(request)
        try authorize(.caseList, actor, .none, hiding: "case")
        let isOffice = actor.organisation.kind == .programOffice
        let page = try await store.transaction { records in
            let page = try await records.disclosureCases(
                participant: isOffice ? nil : actor.organisation.id, after: query.cursor, limit: query.limit)
            var summaries: [CaseSummary] = []
            for disclosureCase in page.items {
                summaries.append(CaseSummary(
                    id: disclosureCase.id, reference: disclosureCase.reference, title: disclosureCase.title, state: disclosureCase.state,
                    tlp: disclosureCase.tlp(at: now()), reportedAt: disclosureCase.reportedAt,
                    embargoEnd: try await embargoEnd(of: disclosureCase, records), findingCount: disclosureCase.activeFindings.count))
            }
            try await audit(records, actor, "case.list", "case", nil, ["count": "\(summaries.count)"])
            return Page(items: summaries, nextCursor: page.nextCursor)
        }
        return try json(ListPage(page) { $0 })
    }

    func openCase(_ request: Request, _ context: Context) async throws -> Response {
        try await create(request, context, NewCase.self) { records, actor, body in
            let (disclosureCase, end) = try await openCase(body, actor: actor, records)
            return (view(disclosureCase, embargoEnd: end, actor), "/api/v1/cases/\(disclosureCase.id)")
        }
    }

    /// Opens a case on findings, as the office: the API's and the finding page's one rule. The
    /// case, and its embargo end in force.
    func openCase(_ body: NewCase, actor: Actor, _ records: ProgramRecords) async throws -> (DisclosureCase, Date?) {
        try authorize(.caseCreate, actor, actor.organisation.kind == .programOffice ? .programOffice : .none, hiding: "case")
        let now = now()
        guard !body.findingIds.isEmpty else {
            throw ProgramRuleError(.invalidField, "a case gathers at least one finding", field: "finding_ids")
        }
        let year = Calendar(identifier: .gregorian).dateComponents(in: TimeZone(secondsFromGMT: 0)!, from: now).year ?? 2026
        var disclosureCase = DisclosureCase(
            id: Identifier.make("cas", at: now), reference: try await records.nextCaseReference(year: year),
            title: try Validate.name(body.title, field: "title", max: 300),
            summary: try Validate.text(body.summary ?? "", field: "summary", max: 20_000), reportedAt: now,
            agreedEmbargoEnd: body.agreedEmbargoEnd, tlpPlan: try body.tlpPlan.map(Self.plan) ?? DisclosureCase.defaultTLPPlan)
        disclosureCase.add(CaseParticipant(organisationId: actor.organisation.id, role: .programOffice))
        for (index, participant) in (body.participants ?? []).enumerated() {
            try await requireOrganisation(participant.organisationId, field: "participants[\(index)].organisation_id", records)
            disclosureCase.add(participant)
        }
        for (index, findingId) in body.findingIds.enumerated() {
            let finding = try await joinableFinding(findingId, field: "finding_ids[\(index)]", records)
            if disclosureCase.findings.contains(where: { $0.id == finding.id }) {
                throw ProgramRuleError(.invalidField, "\(finding.id) is listed twice", field: "finding_ids[\(index)]")
            }
            try disclosureCase.add(finding)
            try await addParticipants(of: finding, to: &disclosureCase, records)
        }
        try disclosureCase.validate()
        let end = try await embargoEnd(of: disclosureCase, records)
        try await records.insert(disclosureCase, embargoEnd: end, at: now)
        try await shareCase(disclosureCase, records, at: now)
        try await audit(
            records, actor, "case.open", "case", disclosureCase.id,
            ["reference": disclosureCase.reference, "findings": body.findingIds.joined(separator: ",")])
        return (disclosureCase, end)
    }

    func readCase(_ request: Request, _ context: Context) async throws -> Response {
        let actor = try context.requireActor()
        return try json(try await caseView(try context.parameters.require("case_id"), actor: actor).view)
    }

    /// A case as `actor` may see it, audited, and the case itself: the API's read and the case's page.
    func caseView(_ id: String, actor: Actor, via: String? = nil) async throws -> (view: CaseView, disclosureCase: DisclosureCase) {
        try await store.transaction { records in
            let disclosureCase = try await loadCase(id, .caseRead, actor, records)
            let now = now()
            // A dated step-down takes effect in the TAXII collections when the case is next read or changed.
            let datedStepInEffect = disclosureCase.tlpPlan.contains { step in
                if case .at = step.trigger { disclosureCase.hasTakenEffect(step, at: now) } else { false }
            }
            if datedStepInEffect {
                try await shareCase(disclosureCase, records, at: now)
            }
            try await audit(records, actor, "case.view", "case", id, via.map { ["via": $0] } ?? [:])
            return (self.view(disclosureCase, embargoEnd: try await embargoEnd(of: disclosureCase, records), actor), disclosureCase)
        }
    }

    func addCaseParticipant(_ request: Request, _ context: Context) async throws -> Response {
        let actor = try context.requireActor()
        let id = try context.parameters.require("case_id")
        let (body, _) = try await decode(CaseParticipant.self, from: request)
        let view = try await store.transaction { records in
            var disclosureCase = try await loadCase(id, .caseManage, actor, records)
            try await requireOrganisation(body.organisationId, field: "organisation_id", records)
            disclosureCase.add(body)
            let view = try await save(disclosureCase, actor, records, at: now())
            try await audit(
                records, actor, "case.participant.add", "case", id, ["organisation": body.organisationId, "role": body.role.rawValue])
            return view
        }
        return try json(view)
    }

    func addCaseFinding(_ request: Request, _ context: Context) async throws -> Response {
        let actor = try context.requireActor()
        let id = try context.parameters.require("case_id")
        let (body, _) = try await decode(NewCaseFinding.self, from: request)
        let view = try await store.transaction { records in
            var disclosureCase = try await loadCase(id, .caseManage, actor, records)
            if disclosureCase.findings.contains(where: { $0.id == body.findingId }) {
                throw ProgramRuleError(.conflict, "the case already has finding \(body.findingId)", field: "finding_id")
            }
            let finding = try await joinableFinding(body.findingId, field: "finding_id", records)
            try disclosureCase.add(finding)
            try await addParticipants(of: finding, to: &disclosureCase, records)
            let view = try await save(disclosureCase, actor, records, at: now())
            try await audit(records, actor, "case.finding.add", "case", id, ["finding": finding.id])
            return view
        }
        return try json(view)
    }

    /// A vendor's (or the model developer's) status, set by the vendor itself or by the office.
    func setVendorStatus(_ request: Request, _ context: Context) async throws -> Response {
        let actor = try context.requireActor()
        let (body, _) = try await decode(VendorStatusChange.self, from: request)
        return try json(
            try await setVendorStatus(
                caseId: try context.parameters.require("case_id"), vendorId: try context.parameters.require("organisation_id"), body, actor: actor))
    }

    /// Records a vendor's status, by the vendor itself or the office: the API's and the case page's one rule.
    func setVendorStatus(caseId id: String, vendorId: String, _ body: VendorStatusChange, actor: Actor) async throws -> CaseView {
        try await store.transaction { records in
            try await lockCase(id, records)
            guard var disclosureCase = try await records.disclosureCase(id: id) else { throw ProblemDetails.notFound("case") }
            var relation = relation(of: actor, toCase: disclosureCase)
            if relation == .participant, vendorId == actor.organisation.id { relation = .owner }
            try authorize(.caseVendorStatus, actor, relation, hiding: "case")
            let now = now()
            let status: VendorStatus
            switch body.status {
            case "affected": status = .affected
            case "fixed": status = .fixed
            case "under_investigation": status = .underInvestigation
            case "not_affected":
                guard let text = body.justification, let justification = VEXJustification(rawValue: text) else {
                    let allowed = VEXJustification.allCases.map(\.rawValue).joined(separator: ", ")
                    throw ProgramRuleError(.invalidField, "not_affected needs a justification: one of \(allowed)", field: "justification")
                }
                status = .notAffected(justification)
            default:
                throw ProgramRuleError(
                    .invalidField, "\"\(body.status)\" is not affected, not_affected, fixed or under_investigation", field: "status")
            }
            if body.justification != nil, body.status != "not_affected" {
                throw ProgramRuleError(.invalidField, "only a not_affected status has a justification", field: "justification")
            }
            if body.fixedVersion != nil, body.status != "fixed" {
                throw ProgramRuleError(.invalidField, "only a fixed status names a fixed version", field: "fixed_version")
            }
            try disclosureCase.record(VendorStatement(
                vendorId: vendorId, findingId: body.findingId, status: status,
                notes: try Validate.text(body.notes ?? "", field: "notes", max: 20_000), updatedAt: now))
            if let fixed = body.fixedVersion {
                let version = try Validate.name(fixed, field: "fixed_version", max: 200)
                for index in disclosureCase.findings.indices where disclosureCase.findings[index].isActive
                    && body.findingId.map({ $0 == disclosureCase.findings[index].id }) ?? true
                {
                    for product in disclosureCase.findings[index].affectedProducts.indices
                    where disclosureCase.findings[index].affectedProducts[product].vendorOrganisationId == vendorId {
                        guard !disclosureCase.findings[index].affectedProducts[product].versions.contains(version) else {
                            throw ProgramRuleError(.invalidField, "\(version) is among the affected versions", field: "fixed_version")
                        }
                        disclosureCase.findings[index].affectedProducts[product].fixedVersion = version
                    }
                }
            }
            // After publication every change is a revision of the advisory.
            if disclosureCase.state == .published, let last = disclosureCase.advisoryRevisions.last {
                let name = try await records.organisation(id: vendorId)?.name ?? vendorId
                let said = status.name.replacingOccurrences(of: "_", with: " ")
                try disclosureCase.recordAdvisoryRevision(at: max(now, last.date.addingTimeInterval(0.001)), summary: "\(name) states: \(said).")
            }
            let view = try await save(disclosureCase, actor, records, at: now)
            try await audit(
                records, actor, "case.vendor_status", "case", id,
                ["vendor": vendorId, "status": status.name, "finding": body.findingId ?? ""])
            return view
        }
    }

    /// The office has triaged the case: the plan's "on triage" step applies, and the case goes to its participants under embargo.
    func triageCase(_ request: Request, _ context: Context) async throws -> Response {
        let actor = try context.requireActor()
        let (body, _) = try await decode(CaseTriage.self, from: request, emptyAllowed: true)
        return try json(try await triage(caseId: try context.parameters.require("case_id"), note: body.note, actor: actor))
    }

    func triage(caseId id: String, note: String?, actor: Actor) async throws -> CaseView {
        try await store.transaction { records in
            var disclosureCase = try await loadCase(id, .caseManage, actor, records)
            let now = now()
            try disclosureCase.markTriaged(at: now)
            if disclosureCase.state == .draft { try disclosureCase.beginEmbargo(at: now) }
            let view = try await save(disclosureCase, actor, records, at: now)
            try await audit(records, actor, "case.triage", "case", id, ["note": note ?? "", "tlp": view.tlp.rawValue])
            return view
        }
    }

    /// Publishes the case (revision 1 of the advisory), or records a revision of a published one.
    func publishCase(_ request: Request, _ context: Context) async throws -> Response {
        let actor = try context.requireActor()
        let (body, _) = try await decode(CasePublication.self, from: request, emptyAllowed: true)
        return try json(try await publish(caseId: try context.parameters.require("case_id"), body, actor: actor))
    }

    func publish(caseId id: String, _ body: CasePublication, actor: Actor) async throws -> CaseView {
        try await store.transaction { records in
            var disclosureCase = try await loadCase(id, .casePublish, actor, records)
            let now = now()
            var detail: [String: String] = [:]
            if disclosureCase.state == .published, let last = disclosureCase.advisoryRevisions.last {
                guard let summary = body.summary, !summary.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
                    throw ProgramRuleError(
                        .invalidField, "the case is published; a revision needs a summary of what changed", field: "summary")
                }
                try disclosureCase.recordAdvisoryRevision(
                    at: max(now, last.date.addingTimeInterval(0.001)), summary: try Validate.text(summary, field: "summary", max: 2000))
            } else {
                try disclosureCase.publish(
                    at: now, modelPublicRelease: try await modelPublicRelease(of: disclosureCase, records),
                    earlyReleaseReason: try body.earlyReleaseReason.map { try Validate.text($0, field: "early_release_reason", max: 2000) })
                detail["early_release_reason"] = disclosureCase.earlyReleaseReason ?? ""
            }
            detail["revision"] = "\(disclosureCase.advisoryRevisions.last?.number ?? 0)"
            let view = try await save(disclosureCase, actor, records, at: now)
            try await audit(records, actor, "case.publish", "case", id, detail)
            return view
        }
    }

    // MARK: Exports

    /// Loads a case for an export and audits the export in the same transaction.
    private func exporting<T: Sendable>(
        _ request: Request, _ context: Context, format: String, detail: [String: String] = [:],
        _ build: (DisclosureCase, CaseSharingInputs, ProgramRecords, Actor) async throws -> T
    ) async throws -> T {
        let actor = try context.requireActor()
        let id = try context.parameters.require("case_id")
        return try await store.transaction { records in
            let disclosureCase = try await loadCase(id, .caseExport, actor, records)
            let result = try await build(disclosureCase, try await sharingInputs(of: disclosureCase, records), records, actor)
            try await audit(records, actor, "case.export", "case", id, detail.merging(["format": format]) { $1 })
            return result
        }
    }

    private func raw(_ bytes: [UInt8]) -> Response {
        Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    func exportCSAF(_ request: Request, _ context: Context) async throws -> Response {
        let advisory = try await exporting(request, context, format: "csaf") { disclosureCase, inputs, _, _ in
            try document { () throws(SharingDocumentError) in try csafExport(of: disclosureCase, inputs).securityAdvisory(at: now()) }
        }
        return raw(advisory.jsonBytes())
    }

    /// The vendors with a VEX document: vendors and the model developer with products in an active finding.
    private func vexVendors(of disclosureCase: DisclosureCase) -> [String] {
        var vendors: [String] = []
        for product in disclosureCase.activeFindings.flatMap(\.affectedProducts) {
            guard let vendorId = product.vendorOrganisationId, !vendors.contains(vendorId) else { continue }
            let roles = disclosureCase.roles(of: vendorId)
            if roles.contains(.vendor) || roles.contains(.modelDeveloper) { vendors.append(vendorId) }
        }
        return vendors
    }

    func listVEX(_ request: Request, _ context: Context) async throws -> Response {
        let views = try await exporting(request, context, format: "vex") { disclosureCase, inputs, _, _ in
            let export = csafExport(of: disclosureCase, inputs)
            let now = now()
            return try vexVendors(of: disclosureCase).map { vendorId in
                let vex = try document { () throws(SharingDocumentError) in try export.vex(forVendor: vendorId, at: now) }
                return VEXDocumentView(
                    vendorId: vendorId, trackingId: vex.trackingId, fileName: vex.fileName, url: vex.url, tlp: vex.tlp, document: vex.json)
            }
        }
        return try json(ListPage(items: views))
    }

    func exportVEX(_ request: Request, _ context: Context) async throws -> Response {
        let vendorId = try context.parameters.require("vendor_id")
        let vex = try await exporting(request, context, format: "vex", detail: ["vendor": vendorId]) { disclosureCase, inputs, _, _ in
            guard vexVendors(of: disclosureCase).contains(vendorId) else { throw ProblemDetails.notFound("VEX document for that vendor") }
            let export = csafExport(of: disclosureCase, inputs)
            return try document { () throws(SharingDocumentError) in try export.vex(forVendor: vendorId, at: now()) }
        }
        return raw(vex.jsonBytes())
    }

    /// The draft CVE JSON 5 record of one finding. `?cve_id=` gives an id the CNA reserved (when
    /// the finding has none), `?assigner_org_id=` the CNA's CVE Program organisation (a UUIDv4;
    /// a placeholder of zeros for the CNA to fill in otherwise).
    func exportCVE(_ request: Request, _ context: Context) async throws -> Response {
        let findingId = try context.parameters.require("finding_id")
        let reservedId = request.uri.queryParameters["cve_id"].map(String.init)
        let assigner = request.uri.queryParameters["assigner_org_id"].map(String.init) ?? Self.placeholderAssigner
        let record = try await exporting(request, context, format: "cve", detail: ["finding": findingId]) { disclosureCase, inputs, _, _ in
            guard disclosureCase.activeFindings.contains(where: { $0.id == findingId }) else { throw ProblemDetails.notFound("finding") }
            if let reservedId, !Finding.isCVEId(reservedId) {
                throw ProgramRuleError(.invalidField, "\"\(reservedId)\" is not a CVE id (CVE-YYYY-NNNN)", field: "cve_id")
            }
            guard CVENumberingAuthority.isUUIDv4(assigner) else {
                throw ProgramRuleError(.invalidField, "the CNA's organisation id is a UUIDv4", field: "assigner_org_id")
            }
            let now = now()
            let export = csafExport(of: disclosureCase, inputs)
            let advisory = try document { () throws(SharingDocumentError) in try export.securityAdvisory(at: now) }
            let draft = CVERecordDraft(
                disclosureCase: disclosureCase, organisations: inputs.organisations, publisher: inputs.publisher,
                authority: CVENumberingAuthority(orgId: assigner))
            return try document { () throws(SharingDocumentError) in
                try draft.record(for: findingId, reservedId: reservedId, advisoryURL: advisory.url, at: now)
            }
        }
        return raw(SharingJSON.bytes(record, pretty: true))
    }

    /// A CNA organisation id for drafts made without one: a valid UUIDv4 of zeros, for the CNA to replace.
    static let placeholderAssigner = "00000000-0000-4000-8000-000000000000"

    /// The case's STIX objects in a bundle, as versioned in its TAXII collection, filtered to
    /// those the caller may read at their marking (``SharingAccess``).
    func exportSTIX(_ request: Request, _ context: Context) async throws -> Response {
        let bundle = try await exporting(request, context, format: "stix") { disclosureCase, inputs, records, actor in
            let now = now()
            let export = try document { () throws(SharingDocumentError) in try stixExport(of: disclosureCase, inputs, at: now) }
            let rows = try await records.taxiiObjects(
                collectionId: SharingCollection.disclosureCase(disclosureCase.id).id(namespace: configuration.sharingNamespace))
            let previous = Array(publishedObjects(in: rows, creator: export.publisherIdentityId).values)
            var bundle = try document { () throws(SharingDocumentError) in try export.bundle(at: now, previous: previous) }
            var reader = CaseReaderRelation.of(actor.organisation.id, to: disclosureCase, isProgramMember: true)
            if actor.organisation.kind == .programOffice, !reader.isParticipant { reader = .participant(.programOffice) }
            let readable = bundle.objects.filter { object in
                object.type != "marking-definition"
                    && SharingAccess.canRead(object.tlp ?? .red, relation: reader, isNamedRecipient: true)
            }
            let markings = Set(readable.flatMap(\.markingRefs))
            bundle.objects = readable + bundle.objects.filter { $0.type == "marking-definition" && markings.contains($0.id) }
            return bundle
        }
        return raw(bundle.jsonBytes())
    }
}
