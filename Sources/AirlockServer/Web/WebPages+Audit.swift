import AirlockAPI
import AirlockCore
import AirlockStore
import Foundation
import HTTPTypes
import Hummingbird

/// The audit log, for the program office as the API's `GET /audit`: a page at a time, filtered
/// by action, its hash chain verified on request, and exported whole as JSONL.
extension WebPages {
    struct AuditPage {
        var frame: Frame
        var entries: [AuditRow]
        var action: String
        var verdict: String?
        var intact: Bool
        var next: String?
        var empty: Bool
    }

    struct AuditRow {
        var sequence: Int64
        var at: String
        var actor: String
        var action: String
        var object: String
        var detail: String
    }

    static let auditEntriesPerPage = 100

    private func requireAuditReader(_ context: ProgramRequestContext) throws -> Actor {
        let actor = try context.requireActor()
        try api.authorize(.auditRead, actor, actor.organisation.kind == .programOffice ? .programOffice : .none, hiding: "audit log")
        return actor
    }

    func auditPage(_ request: Request, _ context: ProgramRequestContext) async throws -> Response {
        let actor = try requireAuditReader(context)
        let parameters = request.uri.queryParameters
        var after: Int64 = 0
        if let text = parameters["after"] {
            guard let value = Int64(String(text)), value >= 0 else { throw ProblemDetails.badRequest("after must be a non-negative integer", field: "after") }
            after = value
        }
        let action = parameters["action"].map(String.init) ?? ""
        let verify = parameters["verify"] != nil
        let (entries, verdict) = try await api.store.transaction { records in
            let entries = try await records.auditEntries(after: after, limit: Self.auditEntriesPerPage)
            let verdict = verify ? try await records.verifyAudit() : nil
            try await api.audit(records, actor, "audit.read", "audit_log", nil, ["after": "\(after)", "via": "browser"])
            return (entries, verdict)
        }
        let rows = entries.filter { action.isEmpty || $0.action.hasPrefix(action) }.map { entry in
            AuditRow(
                sequence: entry.sequence, at: RFC3339.format(entry.at), actor: [entry.actorUserId, entry.actorOrganisationId].compactMap { $0 }.joined(separator: " of "),
                action: entry.action, object: "\(entry.objectType) \(entry.objectId ?? "")", detail: entry.detail)
        }
        var summary: String?
        var intact = false
        switch verdict {
        case .intact(let count, let head)?:
            summary = "The chain is intact: \(count) entries, head \(head.prefix(16))…"
            intact = true
        case .tampered(let sequence, let reason)?:
            summary = "The chain is broken at entry \(sequence): \(reason)"
        case nil: break
        }
        var next: String?
        if entries.count == Self.auditEntriesPerPage, let last = entries.last {
            next = "/audit?" + Self.query(["after": "\(last.sequence)", "action": action])
        }
        return page(
            "audit",
            AuditPage(frame: frame("Audit log", context), entries: rows, action: action, verdict: summary, intact: intact, next: next, empty: rows.isEmpty))
    }

    /// The whole log as JSONL, a thousand entries at a time, each as `GET /audit` writes it.
    func exportAudit(_ request: Request, _ context: ProgramRequestContext) async throws -> Response {
        let actor = try requireAuditReader(context)
        try await api.store.transaction { records in try await api.audit(records, actor, "audit.export", "audit_log", nil, ["via": "browser"]) }
        let store = api.store
        let headers: HTTPFields = [.contentType: "application/x-ndjson", .contentDisposition: "attachment; filename=\"airlock-audit.jsonl\""]
        return Response(status: .ok, headers: headers, body: ResponseBody { writer in
            var after: Int64 = 0
            while true {
                let page = try await store.transaction { records in try await records.auditEntries(after: after, limit: 1000) }
                guard let last = page.last else { break }
                var buffer = ByteBuffer()
                for entry in page {
                    // As the API writes it, a line each.
                    buffer.writeBytes(try APIJSON.encoder.encode(entry))
                    buffer.writeString("\n")
                }
                try await writer.write(buffer)
                after = last.sequence
            }
            try await writer.finish(nil)
        })
    }
}
