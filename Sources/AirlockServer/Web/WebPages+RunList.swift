import AirlockCore
import AirlockStore
import Foundation
import Hummingbird

/// The runs the reader may see, newest first, a page at a time, filtered by model, state,
/// organisation, kind and name in the URL; and a run's cancel and resume, as forms.
extension WebPages {
    struct RunsPage {
        var frame: Frame
        var models: [Option]
        var states: [Option]
        var organisations: [Option]
        var kinds: [Option]
        var name: String
        var hasOrganisations: Bool
        var filtered: Bool
        var rows: [RunListRow]
        var next: String?
        var first: String?
        var empty: Bool
    }

    struct RunListRow {
        var id: String
        var name: String
        var kind: String
        var state: String
        var model: String
        var organisation: String
        var progress: String
        var created: String
    }

    static let runsPerPage = 50

    func runsPage(_ request: Request, _ context: ProgramRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        let parameters = try URLEncodedForm.fields(request.uri.query ?? "")
        func text(_ name: String) throws -> String? {
            guard let value = parameters.filled(name) else { return nil }
            guard value.count <= 200 else { throw ProblemDetails.badRequest("\(name) is at most 200 characters", field: name) }
            return value
        }
        var filter = RunFilter(modelId: try text("model"), organisationId: try text("organisation"), kind: try text("kind"), namePrefix: try text("name"))
        if let state = try text("state") {
            guard let value = RunState(rawValue: state) else {
                throw ProblemDetails.badRequest("state is one of \(RunState.allCases.map(\.rawValue).joined(separator: ", "))", field: "state")
            }
            filter.state = value
        }
        if let kind = filter.kind, !["eval", "assessment"].contains(kind) { throw ProblemDetails.badRequest("kind is eval or assessment", field: "kind") }
        let cursor = try text("before")
        if let cursor, cursor.range(of: "^run_[0-9A-Z]{26}$", options: .regularExpression) == nil {
            throw ProblemDetails.badRequest("before is not a run this server gave out", field: "before")
        }
        let office = actor.organisation.kind == .programOffice
        let (page, models, organisations) = try await api.store.transaction { records in
            let page = try await records.runs(visibleTo: api.visibility(of: actor), filter: filter, before: cursor, limit: Self.runsPerPage)
            var shown: [RunListItem] = []
            // Each run as its own page would authorise it: a list shows nothing a page hides.
            for item in page.items where (try? await api.loadRun(item.run.id, .runRead, actor, records)) != nil { shown.append(item) }
            let models = try await records.models(visibleTo: api.visibility(of: actor), after: nil, limit: 200).items
            let organisations = office ? try await records.organisations(after: nil, limit: 200).items : []
            return (Page(items: shown, nextCursor: page.nextCursor), models, organisations)
        }
        let rows = page.items.map { item in
            let run = item.run
            let planned = run.execution?.plannedAttempts
            return RunListRow(
                id: run.id, name: run.name, kind: run.kind, state: run.state?.rawValue ?? "imported", model: "\(item.modelName) \(item.version)",
                organisation: item.organisationName, progress: planned.map { "\(item.attemptsDone) of \($0)" } ?? "",
                created: String(RFC3339.format(run.createdAt).prefix(16)).replacingOccurrences(of: "T", with: " "))
        }
        var kept = parameters.filter { ["model", "state", "organisation", "kind", "name"].contains($0.key) }
        kept = kept.filter { !$0.value.isEmpty }
        var next: String?
        if let last = page.nextCursor {
            var following = kept
            following["before"] = last
            next = "/runs?" + Self.query(following)
        }
        func options(_ pairs: [(String, String)], _ chosen: String?) -> [Option] {
            [Option(value: "", label: "any", selected: chosen == nil)] + pairs.map { Option(value: $0.0, label: $0.1, selected: $0.0 == chosen) }
        }
        return self.page(
            "runs",
            RunsPage(
                frame: frame("Runs", context), models: options(models.map { ($0.id, $0.name) }, filter.modelId),
                states: options(RunState.allCases.map { ($0.rawValue, $0.rawValue) }, filter.state?.rawValue),
                organisations: options(organisations.map { ($0.id, $0.name) }, filter.organisationId),
                kinds: options([("eval", "evaluation"), ("assessment", "assessment")], filter.kind), name: filter.namePrefix ?? "",
                hasOrganisations: office, filtered: !kept.isEmpty, rows: rows, next: next, first: cursor == nil ? nil : "/runs?" + Self.query(kept),
                empty: rows.isEmpty))
    }

    /// Cancels or resumes a run from its page, as the API would.
    func moveRun(_ action: ProgramAction, _ request: Request, _ context: ProgramRequestContext) async throws -> Response {
        let (actor, _) = try Self.checkFormToken(try await Self.form(request), context)
        let id = try context.parameters.require("run_id")
        _ = try await api.moveWorkerRun(action, id: id, actor: actor, via: "browser")
        return Self.redirect("/runs/\(Self.pathSegment(id))")
    }
}
