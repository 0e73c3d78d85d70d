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
        var canSeeKeys: Bool
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
                        canRevoke: [.pending, .active].contains(status) && may(.grantRevoke), canSeeKeys: may(.grantKeyList)))
            }
            try await api.audit(records, actor, "grant.list", "grant", nil, ["count": "\(rows.count)", "via": "browser"])
            return rows
        }
        return page("grants", GrantsPage(frame: frame("Access grants", context), grants: rows, empty: rows.isEmpty))
    }

    struct KeysPage {
        var frame: Frame
        var grantId: String
        var keys: [KeyRow]
        var empty: Bool
        var canIssue: Bool
        /// A key just issued: its secret, shown on this response only.
        var issued: String?
    }

    struct KeyRow {
        var id: String
        var name: String
        var created: String
        var expires: String
        var state: String
    }

    func keysPage(_ request: Request, _ context: ProgramRequestContext) async throws -> Response {
        try await keys(context, issued: nil)
    }

    /// A grant's keys, with the form that issues one where the API would let the reader.
    private func keys(_ context: ProgramRequestContext, issued: String?) async throws -> Response {
        let actor = try context.requireActor()
        let id = try context.parameters.require("grant_id")
        let now = api.now()
        let (keys, canIssue) = try await api.store.transaction { records in
            let grant = try await api.loadGrant(id, .grantKeyList, actor, records)
            guard let version = try await records.version(id: grant.versionId) else { throw ProblemDetails.notFound("grant") }
            let relation = api.relation(of: actor, toGrant: grant, version: version)
            try await api.audit(records, actor, "grant.keys.list", "grant", id, ["via": "browser"])
            let canIssue = grant.status(at: now) == .active && (try? api.authorize(.grantKeyCreate, actor, relation, hiding: "grant")) != nil
            return (try await records.keys(grantId: id), canIssue)
        }
        let rows = keys.map { key in
            KeyRow(
                id: key.id, name: key.name, created: RFC3339.format(key.createdAt), expires: key.expiresAt.map { RFC3339.format($0) } ?? "never",
                state: key.revokedAt != nil ? "revoked" : (key.expiresAt.map { $0 <= now } == true ? "expired" : "active"))
        }
        return page(
            "keys",
            KeysPage(frame: frame("Keys of \(id)", context), grantId: id, keys: rows, empty: rows.isEmpty, canIssue: canIssue, issued: issued),
            status: issued == nil ? .ok : .created)
    }

    /// `POST /grants/{id}/keys`: issues a key and shows its secret once, on this response only
    /// (never in a URL or a redirect).
    func issueKey(_ request: Request, _ context: ProgramRequestContext) async throws -> Response {
        let form = try await Self.form(request)
        let (actor, _) = try Self.checkFormToken(form, context)
        let id = try context.parameters.require("grant_id")
        let (_, secret) = try await api.store.transaction { records in
            try await api.issueGrantKey(grantId: id, name: form["name"] ?? "", expiresAt: nil, actor: actor, records)
        }
        // The gateway knows the key before the page shows it.
        await api.accessChanged()
        return try await keys(context, issued: secret)
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
