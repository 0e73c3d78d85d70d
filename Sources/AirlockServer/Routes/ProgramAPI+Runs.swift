import AirlockAPI
import AirlockCore
import AirlockStore
import Foundation
import Hummingbird
import Synchronization

extension ProgramAPI {
    func listRuns(_ request: Request, _ context: Context) async throws -> Response {
        let actor = try context.requireActor()
        let id = try context.parameters.require("version_id")
        let query = try ListQuery(request)
        let page = try await store.transaction { records in
            let version = try await loadVersion(id, .versionRead, actor, records)
            // A grantee sees its own runs, not other grantees'.
            let own = try await relation(of: actor, toVersion: version, records) == .grantee ? actor.organisation.id : nil
            let page = try await records.runs(versionId: id, organisationId: own, after: query.cursor, limit: query.limit)
            try await audit(records, actor, "run.list", "model_version", id, ["count": "\(page.items.count)"])
            return page
        }
        return try json(ListPage(page))
    }

    /// A run's results imported from outside, or, with an execution, a run submitted to the
    /// program's workers: stored with its planned attempts, which go to the queue once stored.
    func createRun(_ request: Request, _ context: Context) async throws -> Response {
        let versionId = try context.parameters.require("version_id")
        let submitted = RunIdentity()
        let response = try await create(request, context, NewRun.self, limit: Self.maximumRunSubmissionBytes) { records, actor, body in
            let version = try await loadVersion(versionId, .runCreate, actor, records)
            guard version.state != .withdrawn else {
                throw ProgramRuleError(.invalidGrantState, "the version was withdrawn", field: "version_id")
            }
            if let execution = body.execution {
                let runs = try await submittedRuns(body, execution: execution, version: version, actor: actor, records: records)
                for submittedRun in runs {
                    let run = submittedRun.run
                    try await ProgramRuns.record(run, attempts: submittedRun.attempts, in: records)
                    if !submittedRun.sealedRoleKeys.isEmpty { try await records.updateRunRoleKeys(runId: run.id, sealed: submittedRun.sealedRoleKeys) }
                    try await audit(
                        records, actor, "run.submit", "run", run.id,
                        ["version": versionId, "kind": run.kind, "attempts": "\(run.execution?.plannedAttempts ?? 0)", "roles": (run.execution?.roles ?? [:]).keys.sorted().joined(separator: ",")])
                }
                submitted.ids.withLock { $0 = runs.map(\.run.id) }
                return (runs[0].run, "/api/v1/runs/\(runs[0].run.id)")
            }
            guard ["eval", "assessment"].contains(body.kind) else {
                throw ProgramRuleError(.invalidField, "must be eval or assessment", field: "kind")
            }
            let run = StoredRun(
                id: Identifier.make("run"), versionId: versionId, organisationId: actor.organisation.id, kind: body.kind,
                name: try Validate.name(body.name, field: "name"), sourceId: try body.sourceId.map { try Validate.text($0, field: "source_id", max: 200) }, levels: body.levels ?? [:],
                summary: body.summary ?? .object([:]), createdAt: now())
            try await records.insert(run)
            try await audit(records, actor, "run.create", "run", run.id, ["version": versionId, "kind": body.kind])
            return (run, "/api/v1/runs/\(run.id)")
        }
        // Stored: now to the queue. Were this lost, a restart or a resume publishes it again.
        for id in submitted.ids.withLock({ $0 }) { try await runs.publishWaiting(runId: id) }
        return response
    }

    func readRun(_ request: Request, _ context: Context) async throws -> Response {
        let actor = try context.requireActor(workerAllowed: true)
        let id = try context.parameters.require("run_id")
        let run = try await store.transaction { records in
            guard let run = try await records.run(id: id) else { throw ProblemDetails.notFound("run") }
            guard let version = try await records.version(id: run.versionId) else { throw ProblemDetails.notFound("run") }
            var relation = try await relation(of: actor, toVersion: version, records)
            // A grantee sees its own runs, not other grantees'.
            if relation == .grantee, run.organisationId != actor.organisation.id { relation = .none }
            try authorize(actor.user.role == .worker ? .runWork : .runRead, actor, relation, hiding: "run")
            // Workers read a run every few seconds to see it still runs: their assignments and
            // results are audited, not these reads, which would crowd the chain.
            if actor.user.role != .worker { try await audit(records, actor, "run.read", "run", id) }
            return run
        }
        return try json(run)
    }

    func readAudit(_ request: Request, _ context: Context) async throws -> Response {
        let actor = try context.requireActor()
        try authorize(.auditRead, actor, actor.organisation.kind == .programOffice ? .programOffice : .none, hiding: "audit log")
        let limit = try ListQuery.limit(request)
        var after: Int64 = 0
        if let text = request.uri.queryParameters["after"] {
            guard let value = Int64(String(text)), value >= 0 else {
                throw ProblemDetails.badRequest("after must be a non-negative integer", field: "after")
            }
            after = value
        }
        let entries = try await store.transaction { records in
            let entries = try await records.auditEntries(after: after, limit: limit)
            try await audit(records, actor, "audit.read", "audit_log", nil, ["after": "\(after)"])
            return entries
        }
        return try json(AuditPage(entries: entries, nextAfter: entries.count == limit ? entries.last?.sequence : nil))
    }

}

/// The ids of the runs a request submitted, out of its transaction.
final class RunIdentity: Sendable {
    let ids = Mutex<[String]>([])
}
