import AirlockAPI
import AirlockCore
import AirlockStore
import Foundation
import HTTPTypes
import Hummingbird

/// Covered models and their versions: the review windows with countdowns to each planned
/// release, a version's page with its runs, and the calendar of them all as an `.ics` feed.
extension WebPages {
    struct ModelsPage {
        var frame: Frame
        var versions: [WindowRow]
        var empty: Bool
    }

    struct WindowRow {
        var id: String
        var model: String
        var version: String
        var state: String
        var opens: String
        var plannedRelease: String
        var accessEndsBy: String
        var daysLeft: Int
        var late: Bool
    }

    /// The versions the reader may see, with their models' names; at most 500, soonest release first.
    private func visibleWindows(_ actor: Actor, _ records: ProgramRecords) async throws -> [(CoveredModel?, ModelVersion)] {
        let versions = try await records.versions(modelId: nil, visibleTo: api.visibility(of: actor), after: nil, limit: 500).items
        var models: [String: CoveredModel] = [:]
        for id in Set(versions.map(\.modelId)) { models[id] = try await records.model(id: id) }
        return versions.sorted { $0.plannedReleaseAt < $1.plannedReleaseAt }.map { (models[$0.modelId], $0) }
    }

    func windowRow(_ model: CoveredModel?, _ version: ModelVersion, now: Date) -> WindowRow {
        func day(_ date: Date) -> String { String(RFC3339.format(date).prefix(10)) }
        return WindowRow(
            id: version.id, model: model?.name ?? version.modelId, version: version.version, state: version.state.rawValue, opens: day(version.windowOpensAt),
            plannedRelease: day(version.plannedReleaseAt), accessEndsBy: day(version.accessEndsBy),
            daysLeft: max(0, Int(version.plannedReleaseAt.timeIntervalSince(now) / 86_400)), late: version.lateNotice)
    }

    func modelsPage(_ request: Request, _ context: ProgramRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        let now = api.now()
        let windows = try await api.store.transaction { records in
            let windows = try await visibleWindows(actor, records)
            try await api.audit(records, actor, "version.list", "model_version", nil, ["count": "\(windows.count)", "via": "browser"])
            return windows
        }
        let rows = windows.map { windowRow($0.0, $0.1, now: now) }
        return page("models", ModelsPage(frame: frame("Models and review windows", context), versions: rows, empty: rows.isEmpty))
    }

    struct VersionPage {
        var frame: Frame
        var window: WindowRow
        var capabilities: String
        var endpoint: String?
        var gateway: String
        var runs: [RunRow]
        var hasRuns: Bool
        /// Whether the reader may open or close the gateway (the developer's kill switch).
        var canSwitch: Bool
        var gatewayOpen: Bool
    }

    func versionPage(_ request: Request, _ context: ProgramRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        let id = try context.parameters.require("version_id")
        let now = api.now()
        let (model, version, runs, canSwitch) = try await api.store.transaction { records in
            let version = api.disclosed(try await api.loadVersion(id, .versionRead, actor, records), to: actor)
            // A grantee sees its own runs, not other grantees', as the API's list.
            let relation = try await api.relation(of: actor, toVersion: version, records)
            let runs = try await records.runs(versionId: id, organisationId: relation == .grantee ? actor.organisation.id : nil, after: nil, limit: 200).items
            try await api.audit(records, actor, "version.read", "model_version", id, ["via": "browser"])
            let canSwitch = (try? api.authorize(.versionGateway, actor, relation, hiding: "model version")) != nil
            return (try await records.model(id: version.modelId), version, runs, canSwitch)
        }
        let rows = runs.map { RunRow(id: $0.id, name: $0.name, kind: $0.kind, state: $0.state?.rawValue ?? "imported") }
        return page(
            "version",
            VersionPage(
                frame: frame("\(model?.name ?? "") \(version.version)", context), window: windowRow(model, version, now: now),
                capabilities: version.capabilities.joined(separator: ", "),
                endpoint: version.endpointUrl.map { "\($0) (\(version.endpointModel ?? ""))" },
                gateway: version.gatewayOpen ? "open to " + version.gatewayPurposes.map(\.rawValue).joined(separator: ", ") : "closed",
                runs: rows, hasRuns: !rows.isEmpty, canSwitch: canSwitch, gatewayOpen: version.gatewayOpen))
    }

    /// `POST /versions/{id}/gateway`: the kill switch, only with its box ticked; opening again
    /// keeps the purposes the gateway had.
    func switchGateway(_ request: Request, _ context: ProgramRequestContext) async throws -> Response {
        let form = try await Self.form(request)
        let (actor, _) = try Self.checkFormToken(form, context)
        let id = try context.parameters.require("version_id")
        guard let open = ["open": true, "close": false][form["gateway"] ?? ""] else {
            throw ProgramRuleError(.invalidField, "open or close", field: "gateway")
        }
        guard form["confirm"] == "yes" else {
            throw ProgramRuleError(.invalidField, "tick the box to confirm: every grant's calls to this version stop or start at once", field: "confirm")
        }
        _ = try await api.setGateway(versionId: id, GatewaySetting(open: open, purposes: nil, reason: form["reason"]), actor: actor)
        return Self.redirect("/versions/\(Self.pathSegment(id))")
    }

    /// The review calendar of the versions the reader may see: each version's review window and
    /// its planned release, as all-day events a calendar can subscribe to.
    func calendar(_ request: Request, _ context: ProgramRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        let windows = try await api.store.transaction { records in try await visibleWindows(actor, records) }
        var events: [ICalendar.Event] = []
        for (model, version) in windows {
            let name = "\(model?.name ?? version.modelId) \(version.version)"
            events.append(
                ICalendar.Event(
                    uid: "\(version.id)-window@airlock", summary: "Review window: \(name)",
                    description: "Pre-release access until \(RFC3339.format(version.accessEndsBy)); state \(version.state.rawValue).",
                    start: version.windowOpensAt, end: version.accessEndsBy, allDay: true))
            events.append(
                ICalendar.Event(
                    uid: "\(version.id)-release@airlock", summary: "Planned release: \(name)", description: "The advisory is due before it.",
                    start: version.plannedReleaseAt, allDay: true))
        }
        let text = ICalendar.document(name: "Airlock review calendar", events: events, stamp: api.now())
        return Response(
            status: .ok, headers: [.contentType: "text/calendar; charset=utf-8", .contentDisposition: "attachment; filename=\"airlock-reviews.ics\""],
            body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}
