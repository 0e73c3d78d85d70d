import AirlockCore
import AirlockStore
import Foundation
import Hummingbird

/// Access grants: those the reader may see, and the decisions the API would let the reader
/// take on each (approve, consent, revoke), as forms. A revocation asks to be confirmed.
extension WebPages {
    struct GrantsPage {
        var frame: Frame
        var grants: [GrantDecisionRow]
        var empty: Bool
    }

    struct GrantDecisionRow {
        var id: String
        var version: String
        var grantee: String
        var purpose: String
        var status: String
        var period: String
        var canApprove: Bool
        var canConsent: Bool
        var canRevoke: Bool
    }

    func grantsPage(_ request: Request, _ context: ProgramRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        let now = api.now()
        let rows = try await api.store.transaction { records in
            var rows: [GrantDecisionRow] = []
            for grant in try await records.grants(versionId: nil, visibleTo: api.visibility(of: actor), after: nil, limit: 500).items {
                guard let version = try await records.version(id: grant.versionId) else { continue }
                let model = try await records.model(id: version.modelId)
                let relation = api.relation(of: actor, toGrant: grant, version: version)
                // The forms are the decisions the API would allow this reader, by its own rule.
                func may(_ action: ProgramAction) -> Bool { (try? api.authorize(action, actor, relation, hiding: "grant")) != nil }
                let status = grant.status(at: now)
                func day(_ date: Date) -> String { String(RFC3339.format(date).prefix(10)) }
                rows.append(
                    GrantDecisionRow(
                        id: grant.id, version: "\(model?.name ?? version.modelId) \(version.version)",
                        grantee: try await records.organisation(id: grant.granteeId)?.name ?? grant.granteeId, purpose: grant.purpose.rawValue,
                        status: status.rawValue, period: "\(day(grant.startsAt)) to \(day(grant.endsAt))",
                        canApprove: status == .pending && grant.decisions.approvedAt == nil && may(.grantApprove),
                        canConsent: status == .pending && grant.decisions.consentedAt == nil && may(.grantConsent),
                        canRevoke: [.pending, .active].contains(status) && may(.grantRevoke)))
            }
            try await api.audit(records, actor, "grant.list", "grant", nil, ["count": "\(rows.count)", "via": "browser"])
            return rows
        }
        return page("grants", GrantsPage(frame: frame("Access grants", context), grants: rows, empty: rows.isEmpty))
    }

    /// `POST /grants/{id}/approval`, `consent` and `revocation` from the grants page: the API's
    /// decision; a revocation only with its box ticked.
    func decideGrant(_ action: ProgramAction, _ request: Request, _ context: ProgramRequestContext) async throws -> Response {
        let form = try await Self.form(request)
        let (actor, _) = try Self.checkFormToken(form, context)
        let id = try context.parameters.require("grant_id")
        if action == .grantRevoke, form["confirm"] != "yes" {
            throw ProgramRuleError(.invalidField, "tick the box to confirm the revocation: the grant's keys stop at once", field: "confirm")
        }
        _ = try await api.decide(action, grantId: id, reason: form["reason"], actor: actor)
        return Self.redirect("/grants")
    }
}
