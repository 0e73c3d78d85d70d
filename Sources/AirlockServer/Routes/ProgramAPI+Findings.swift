import AirlockAPI
import AirlockCore
import AirlockStore
import Foundation
import Hummingbird

extension ProgramAPI {
    // MARK: Relations

    /// How the actor stands to a finding: the office; the reporter (of it or of a duplicate merged
    /// into it) as owner; a participant of the case it is in; or nothing.
    func relation(of actor: Actor, toFinding finding: Finding, caseId: String?, _ records: ProgramRecords) async throws
        -> ObjectRelation
    {
        if actor.organisation.kind == .programOffice { return .programOffice }
        if finding.reporters.contains(actor.organisation.id) { return .owner }
        if let caseId, try await records.isCaseParticipant(caseId: caseId, organisationId: actor.organisation.id) {
            return .participant
        }
        return .none
    }

    func loadFinding(_ id: String, _ action: ProgramAction, _ actor: Actor, _ records: ProgramRecords) async throws
        -> (finding: Finding, caseId: String?, relation: ObjectRelation)
    {
        guard case let (finding, caseId)? = try await records.finding(id: id) else { throw ProblemDetails.notFound("finding") }
        let relation = try await relation(of: actor, toFinding: finding, caseId: caseId, records)
        try authorize(action, actor, relation, hiding: "finding")
        return (finding, caseId, relation)
    }

    // MARK: Handlers

    func listFindings(_ request: Request, _ context: Context) async throws -> Response {
        let actor = try context.requireActor()
        let query = try ListQuery(request)
        try authorize(.findingList, actor, .none, hiding: "finding")
        let isOffice = actor.organisation.kind == .programOffice
        let page = try await store.transaction { records in
            let page = try await records.findings(
                reporterId: isOffice ? nil : actor.organisation.id, after: query.cursor, limit: query.limit)
            try await audit(records, actor, "finding.list", "finding", nil, ["count": "\(page.items.count)"])
            let views = page.items.map { FindingView($0.finding, caseId: $0.caseId, showEvidence: true) }
            return Page(items: views, nextCursor: page.nextCursor)
        }
        return try json(ListPage(page) { $0 })
    }

    func fileFinding(_ request: Request, _ context: Context) async throws -> Response {
        try await create(request, context, NewFinding.self) { records, actor, body in
            let finding = try await fileFinding(body, actor: actor, records)
            return (FindingView(finding, caseId: nil, showEvidence: true), "/api/v1/findings/\(finding.id)")
        }
    }

    /// Files a finding on a version, as `actor`: the API's and the finding form's one rule.
    func fileFinding(_ body: NewFinding, actor: Actor, _ records: ProgramRecords) async throws -> Finding {
        let version = try await loadVersion(body.modelVersionId, .findingCreate, actor, records)
        let relation = try await relation(of: actor, toVersion: version, records)
        let now = now()
        let evidence = try await checkedEvidence(body.evidence, version: version, relation: relation, actor: actor, records)
        for (index, product) in body.affectedProducts.enumerated() {
            if let vendorId = product.vendorOrganisationId, try await records.organisation(id: vendorId) == nil {
                throw ProgramRuleError(
                    .invalidField, "no organisation with that id", field: "affected_products[\(index)].vendor_organisation_id")
            }
        }
        let linksTranscript = evidence.contains { $0.runId != nil && $0.transcript != nil }
        let finding = Finding(
            id: Identifier.make("fnd", at: now), kind: body.kind, origin: body.origin ?? (linksTranscript ? .assessmentRun : .filed),
            title: try Validate.name(body.title, field: "title", max: 300),
            description: try Validate.text(body.description, field: "description", max: 20_000), affectedProducts: body.affectedProducts,
            cvss31: try body.cvssV3_1.map { try Self.cvss31($0) }, cvss40: try body.cvssV4_0.map { try Self.cvss40($0) },
            evidence: evidence, tlp: try body.tlp.map { try TrafficLightProtocol(parsing: $0) } ?? .amber,
            modelVersionId: version.id, reporterOrganisationId: actor.organisation.id, reportedAt: now, cwe: body.cwe,
            cveId: body.cveId, remediation: body.remediation)
        try finding.validate()
        try await records.insert(finding, caseId: nil, at: now)
        try await audit(
            records, actor, "finding.file", "finding", finding.id,
            ["version": version.id, "kind": finding.kind.rawValue, "tlp": finding.tlp.rawValue])
        return finding
    }

    func readFinding(_ request: Request, _ context: Context) async throws -> Response {
        let actor = try context.requireActor()
        return try json(try await findingView(try context.parameters.require("finding_id"), actor: actor))
    }

    /// A finding as `actor` may see it (a case's other participants without its evidence), audited.
    func findingView(_ id: String, actor: Actor, via: String? = nil) async throws -> FindingView {
        try await store.transaction { records in
            let (finding, caseId, relation) = try await loadFinding(id, .findingRead, actor, records)
            try await audit(records, actor, "finding.view", "finding", id, via.map { ["via": $0] } ?? [:])
            return FindingView(finding, caseId: caseId, showEvidence: relation != .participant)
        }
    }

    /// Merges the finding in the path into `into` as its duplicate; both keep the merge in their history.
    func mergeFinding(_ request: Request, _ context: Context) async throws -> Response {
        let actor = try context.requireActor()
        let id = try context.parameters.require("finding_id")
        let (body, _) = try await decode(FindingMerge.self, from: request)
        let view = try await store.transaction { records in
            let (duplicate, duplicateCaseId, _) = try await loadFinding(id, .findingMerge, actor, records)
            // The primary is named in the body: one the actor may not know reads as missing.
            guard case let (primary, primaryCaseId)? = try await records.finding(id: body.into),
                case let primaryRelation = try await relation(of: actor, toFinding: primary, caseId: primaryCaseId, records),
                primaryRelation != .none
            else { throw ProgramRuleError(.invalidField, "no finding with that id", field: "into") }
            try authorize(.findingMerge, actor, primaryRelation, hiding: "finding")
            let now = now()
            var changedCases: [DisclosureCase] = []
            let caseIds = Set([duplicateCaseId, primaryCaseId].compactMap { $0 }).sorted()
            for caseId in caseIds { try await lockCase(caseId, records) }
            // Read again under the locks: a change to either case may have touched the findings meanwhile.
            guard let duplicate = try await records.finding(id: duplicate.id)?.finding,
                let primary = try await records.finding(id: primary.id)?.finding
            else { throw ProblemDetails.notFound("finding") }
            for caseId in caseIds {
                guard let disclosureCase = try await records.disclosureCase(id: caseId) else { continue }
                guard disclosureCase.state != .published else {
                    throw ProgramRuleError(
                        .invalidTransition, "case \(disclosureCase.reference) is published; its findings no longer change", field: "into")
                }
                changedCases.append(disclosureCase)
            }
            var merged: Finding
            if let caseId = duplicateCaseId, caseId == primaryCaseId, var disclosureCase = changedCases.first {
                // Within a case, the case moves the vendors' statements about the duplicate to the primary.
                try disclosureCase.mergeFinding(duplicate.id, into: primary.id, at: now, by: actor.organisation.id)
                try await records.update(disclosureCase, embargoEnd: try await embargoEnd(of: disclosureCase, records), at: now)
                changedCases = [disclosureCase]
                merged = disclosureCase.findings.first { $0.id == primary.id } ?? primary
            } else {
                merged = primary
                var folded = duplicate
                try merged.merge(duplicate: &folded, at: now, by: actor.organisation.id)
                try await records.update(merged, caseId: primaryCaseId, at: now)
                try await records.update(folded, caseId: duplicateCaseId, at: now)
                var reloaded: [DisclosureCase] = []
                for disclosureCase in changedCases {
                    if var fresh = try await records.disclosureCase(id: disclosureCase.id) {
                        // The primary may now date from the duplicate's earlier report: the embargo clock follows.
                        fresh.reportedAt = min(fresh.reportedAt, fresh.findings.map(\.reportedAt).min() ?? fresh.reportedAt)
                        try await records.update(fresh, embargoEnd: try await embargoEnd(of: fresh, records), at: now)
                        reloaded.append(fresh)
                    }
                }
                changedCases = reloaded
            }
            for disclosureCase in changedCases { try await shareCase(disclosureCase, records, at: now) }
            try await audit(
                records, actor, "finding.merge", "finding", duplicate.id,
                ["into": primary.id, "duplicate_reporter": duplicate.reporterOrganisationId])
            return FindingView(merged, caseId: primaryCaseId, showEvidence: true)
        }
        return try json(view)
    }

    // MARK: Checks

    /// The evidence as given, each run it links checked: the run exists, is on this version, and
    /// (for a grantee) is the actor's own.
    private func checkedEvidence(
        _ evidence: [FindingEvidence], version: ModelVersion, relation: ObjectRelation, actor: Actor, _ records: ProgramRecords
    ) async throws -> [FindingEvidence] {
        var checked: [FindingEvidence] = []
        for (index, item) in evidence.enumerated() {
            if let runId = item.runId {
                guard let run = try await records.run(id: runId), run.versionId == version.id,
                    relation != .grantee || run.organisationId == actor.organisation.id
                else {
                    throw ProgramRuleError(
                        .invalidField, "no run with that id on model version \(version.id)", field: "evidence[\(index)].run_id")
                }
            } else if item.sampleId != nil || item.transcript != nil || item.epoch != nil {
                throw ProgramRuleError(
                    .invalidField, "a sample, epoch or transcript belongs to a run: give its run_id", field: "evidence[\(index)].run_id")
            }
            if let epoch = item.epoch, epoch < 1 {
                throw ProgramRuleError(.invalidField, "epochs count from 1", field: "evidence[\(index)].epoch")
            }
            if let transcript = item.transcript, transcript.hasPrefix("/") || transcript.split(separator: "/").contains("..") {
                throw ProgramRuleError(
                    .invalidField, "a transcript is a path inside the run's folder (evidence/…)", field: "evidence[\(index)].transcript")
            }
            checked.append(item)
        }
        return checked
    }

    /// A CVSS 3.1 vector read by Airlock; a bad one is refused naming the metric at fault.
    static func cvss31(_ vector: String) throws(ProgramRuleError) -> CVSS31 {
        do {
            return try CVSS31(vector)
        } catch {
            throw ProgramRuleError(.invalidField, Self.reason(error), field: "cvss_v3_1")
        }
    }

    /// A CVSS 4.0 vector read by Airlock; a bad one is refused naming the metric at fault.
    static func cvss40(_ vector: String) throws(ProgramRuleError) -> CVSS40 {
        do {
            return try CVSS40(vector)
        } catch {
            throw ProgramRuleError(.invalidField, Self.reason(error), field: "cvss_v4_0")
        }
    }

    private static func reason(_ error: CVSSError) -> String {
        error.metric.map { "metric \($0): \(error.description)" } ?? error.description
    }
}
