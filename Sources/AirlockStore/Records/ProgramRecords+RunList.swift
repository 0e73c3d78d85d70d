import AirlockCore
import Foundation
import SQLKit

/// Which runs a list shows: each filter one equality on the run (or its version), the name by
/// its beginning.
public struct RunFilter: Sendable, Hashable {
    public var modelId: String?
    public var state: RunState?
    public var organisationId: String?
    public var kind: String?
    public var namePrefix: String?

    public init(modelId: String? = nil, state: RunState? = nil, organisationId: String? = nil, kind: String? = nil, namePrefix: String? = nil) {
        self.modelId = modelId
        self.state = state
        self.organisationId = organisationId
        self.kind = kind
        self.namePrefix = namePrefix
    }
}

/// A run in a list, with the names a reader knows it by.
public struct RunListItem: Sendable, Hashable {
    public var run: StoredRun
    public var modelName: String
    public var version: String
    public var organisationName: String
    public var attemptsDone: Int
}

extension ProgramRecords {
    /// Runs newest first, before the run `cursor` names: all of them, or those an organisation
    /// made or whose model it develops (the caller authorises each, as for one run).
    public func runs(visibleTo visibility: Visibility, filter: RunFilter, before cursor: String?, limit: Int) async throws -> Page<RunListItem> {
        var query: SQLQueryString = """
            SELECT r.*, m.name AS model_name, v.version AS version_label, o.name AS organisation_name FROM runs r \
            JOIN model_versions v ON v.id = r.version_id JOIN models m ON m.id = v.model_id JOIN organisations o ON o.id = r.organisation_id WHERE 1 = 1
            """
        if case .organisation(let id) = visibility { query = query + " AND (r.organisation_id = \(bind: id) OR v.developer_id = \(bind: id))" }
        if let model = filter.modelId { query = query + " AND v.model_id = \(bind: model)" }
        if let state = filter.state { query = query + " AND r.state = \(bind: state.rawValue)" }
        if let organisation = filter.organisationId { query = query + " AND r.organisation_id = \(bind: organisation)" }
        if let kind = filter.kind { query = query + " AND r.kind = \(bind: kind)" }
        if let prefix = filter.namePrefix, !prefix.isEmpty {
            // Characters, as both databases count them: no LIKE pattern to escape.
            query = query + " AND substr(r.name, 1, \(bind: prefix.unicodeScalars.count)) = \(bind: prefix)"
        }
        if let cursor { query = query + " AND r.id < \(bind: cursor)" }
        var items = try await sql.raw(query + " ORDER BY r.id DESC LIMIT \(bind: limit + 1)").all().map { row in
            RunListItem(
                run: try StoredRun(row: row), modelName: try row.decode(column: "model_name", as: String.self),
                version: try row.decode(column: "version_label", as: String.self), organisationName: try row.decode(column: "organisation_name", as: String.self),
                attemptsDone: try row.decode(column: "attempts_done", as: Int.self))
        }
        var next: String?
        if items.count > limit {
            items.removeLast()
            next = items.last?.run.id
        }
        return Page(items: items, nextCursor: next)
    }
}
