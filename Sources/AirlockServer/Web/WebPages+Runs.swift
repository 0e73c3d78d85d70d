import AirlockCore
import AirlockStore
import Foundation
import HTTPTypes
import Hummingbird

/// The home page and the pages of a run: its results, its samples and each attempt's transcript.
extension WebPages {
    // MARK: Home

    struct HomePage {
        var frame: Frame
        var runs: [RunRow]
        var grants: [GrantRow]
        var versions: [VersionRow]
        var cases: [CaseDueRow]
        var hasRuns: Bool
        var hasGrants: Bool
        var hasVersions: Bool
        var hasCases: Bool
        var nothing: Bool
    }

    struct CaseDueRow {
        var id: String
        var title: String
        var due: String
    }

    struct RunRow {
        var id: String
        var name: String
        var kind: String
        var state: String
    }

    struct GrantRow {
        var id: String
        var purpose: String
        var waitingFor: String
    }

    struct VersionRow {
        var id: String
        var version: String
        var state: String
        var plannedRelease: String
        var daysLeft: Int
    }

    /// What needs the reader now: runs going on, grants waiting for a decision, notices in
    /// review with the days left to their planned release, and cases with a step due from the
    /// reader's organisation or an embargo ending within a week.
    func home(_ request: Request, _ context: ProgramRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        let now = api.now()
        let (runs, grants, versions, cases) = try await api.store.transaction { records in
            let visibility = api.visibility(of: actor)
            var runs: [RunRow] = []
            for run in try await records.activeRuns().prefix(200) where runs.count < 50 {
                guard (try? await api.loadRun(run.id, .runRead, actor, records)) != nil else { continue }
                runs.append(RunRow(id: run.id, name: run.name, kind: run.kind, state: run.state?.rawValue ?? ""))
            }
            let grants = try await records.grants(versionId: nil, visibleTo: visibility, after: nil, limit: 200).items
                .filter { $0.status(at: now) == .pending }
                .map { grant in
                    GrantRow(
                        id: grant.id, purpose: grant.purpose.rawValue,
                        waitingFor: [grant.decisions.approvedAt == nil ? "the office's approval" : nil, grant.decisions.consentedAt == nil ? "the developer's consent" : nil]
                            .compactMap { $0 }.joined(separator: " and "))
                }
            let versions = try await records.versions(modelId: nil, visibleTo: visibility, after: nil, limit: 200).items
                .filter { [.notified, .inReview].contains($0.state) }
                .map { version in
                    VersionRow(
                        id: version.id, version: version.version, state: version.state.rawValue,
                        plannedRelease: RFC3339.format(version.plannedReleaseAt).prefix(10).description,
                        daysLeft: max(0, Int(version.plannedReleaseAt.timeIntervalSince(now) / 86_400)))
                }
            // Cases with something due from the reader's organisation, or an embargo ending within a week.
            var cases: [CaseDueRow] = []
            let office = actor.organisation.kind == .programOffice
            for disclosureCase in try await records.disclosureCases(participant: office ? nil : actor.organisation.id, after: nil, limit: 200).items
            where disclosureCase.state != .published {
                let end = try await api.embargoEnd(of: disclosureCase, records)
                var due: [String] = []
                if office, disclosureCase.triagedAt == nil { due.append("triage it") }
                if office, let end, end <= now { due.append("publish it: its embargo has ended") }
                let stating = disclosureCase.participants.contains { $0.organisationId == actor.organisation.id && [.vendor, .modelDeveloper].contains($0.role) }
                if stating, !disclosureCase.vendorStatements.contains(where: { $0.vendorId == actor.organisation.id }) { due.append("state your status") }
                if let end, end > now, end.timeIntervalSince(now) <= 7 * 86_400 { due.append(Self.embargo(state: disclosureCase.state, end: end, now: now)) }
                if !due.isEmpty { cases.append(CaseDueRow(id: disclosureCase.id, title: "\(disclosureCase.reference): \(disclosureCase.title)", due: due.joined(separator: "; "))) }
            }
            return (runs, grants, versions, cases)
        }
        return page(
            "home",
            HomePage(
                frame: frame("Home", context), runs: runs, grants: grants, versions: versions, cases: cases, hasRuns: !runs.isEmpty, hasGrants: !grants.isEmpty,
                hasVersions: !versions.isEmpty, hasCases: !cases.isEmpty, nothing: runs.isEmpty && grants.isEmpty && versions.isEmpty && cases.isEmpty))
    }

    // MARK: A run

    struct RunPage {
        var frame: Frame
        var run: RunRow
        var origin: String
        var created: String
        var progress: String?
        /// Whether the run still goes on: its progress line follows the run's events.
        var live: Bool
        var scorers: [ScorerRow]
        var levels: [LevelRow]
        var suites: [SuiteRow]
        var hasScorers: Bool
        var hasLevels: Bool
        var hasSuites: Bool
        var hasSamples: Bool
        var canCancel: Bool
        var canResume: Bool
        /// Other runs of the same task, to compare with.
        var peers: [Option]
        var hasPeers: Bool
        /// An assessment's report: its domains' verdicts and each suite's measure and evidence.
        var domains: [DomainRow]
        var report: [SuiteReportRow]
        var hasReport: Bool
    }

    struct DomainRow {
        var title: String
        var level: String
        var settled: Bool
        var statement: String
    }

    struct SuiteReportRow {
        var id: String
        var title: String
        var status: String
        var measure: String
        var evidence: [EvidenceRow]
        var hasEvidence: Bool
    }

    struct EvidenceRow {
        var sample: String
        var epoch: Int
        var score: String
        var link: String?
    }

    /// An assessment's report as the engine writes it (`Assessment`: `domains`, `suites` with
    /// their measurements and evidence); evidence links to the suite's transcript where its run
    /// is one of the program's.
    static func report(_ summary: JSONValue) -> (domains: [DomainRow], suites: [SuiteReportRow]) {
        let domains = (field(summary, "domains")?.arrayValue ?? []).map { domain in
            DomainRow(
                title: field(domain, "title")?.stringValue ?? "", level: field(domain, "level")?.stringValue ?? "",
                settled: field(domain, "settled") == .bool(true), statement: field(domain, "statement")?.stringValue ?? "")
        }
        let suites = (field(summary, "suites")?.arrayValue ?? []).map { suite -> SuiteReportRow in
            let run = field(suite, "run")?.stringValue ?? ""
            var measure = field(suite, "reason")?.stringValue ?? "no score"
            if let measurement = field(suite, "measurement"), case .number(let value)? = field(measurement, "value"),
                case .number(let lower)? = field(measurement, "lower"), case .number(let upper)? = field(measurement, "upper"),
                case .number(let count)? = field(measurement, "count")
            {
                measure = String(format: "%.1f%% [%.1f, %.1f] n=%d", value * 100, lower * 100, upper * 100, Int(count))
            }
            let evidence = (field(suite, "evidence")?.arrayValue ?? []).map { item -> EvidenceRow in
                let sample = field(item, "sample")?.stringValue ?? ""
                var epoch = 0
                if case .number(let number)? = field(item, "epoch") { epoch = Int(number) }
                return EvidenceRow(
                    sample: sample, epoch: epoch, score: field(item, "score")?.text ?? "",
                    link: run.hasPrefix("run_") ? "/runs/\(pathSegment(run))/samples/\(pathSegment(sample))/\(epoch)" : nil)
            }
            return SuiteReportRow(
                id: field(suite, "id")?.stringValue ?? "", title: field(suite, "title")?.stringValue ?? "", status: field(suite, "status")?.stringValue ?? "",
                measure: measure, evidence: evidence, hasEvidence: !evidence.isEmpty)
        }
        return (domains, suites)
    }

    struct ScorerRow {
        var name: String
        var overall: MeasureRow
        var groups: [MeasureRow]
        var hasGroups: Bool
    }

    struct MeasureRow {
        var name: String
        var metric: String
        var value: String
        var interval: String
        var count: Int
    }

    struct LevelRow {
        var domain: String
        var level: String
    }

    struct SuiteRow {
        var suite: String
        var runId: String
    }

    func runPage(_ request: Request, _ context: ProgramRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        let id = try context.parameters.require("run_id")
        let (run, counts, canCancel, canResume, peers) = try await api.store.transaction { records in
            let run = try await api.loadRun(id, .runRead, actor, records)
            try await api.audit(records, actor, "run.read", "run", id, ["via": "browser"])
            // The buttons are the moves the API would allow this reader, by its own rule.
            func may(_ action: ProgramAction) async -> Bool { (try? await api.loadRun(id, action, actor, records)) != nil }
            let movable = run.origin == .server
            let canCancel = movable && run.state?.isActive == true ? await may(.runCancel) : false
            let canResume = movable && [.failed, .cancelled].contains(run.state) ? await may(.runResume) : false
            // Runs of the same task (its name), to compare this one with.
            var peers: [Option] = []
            for item in try await records.runs(visibleTo: api.visibility(of: actor), filter: RunFilter(kind: run.kind, namePrefix: run.name), before: nil, limit: 50).items
            where item.run.name == run.name && item.run.id != run.id && item.run.execution?.assessment == nil {
                guard (try? await api.loadRun(item.run.id, .runRead, actor, records)) != nil else { continue }
                peers.append(Option(value: item.run.id, label: "\(item.modelName) \(item.version), \(String(RFC3339.format(item.run.createdAt).prefix(10))) (\(item.run.id))", selected: false))
            }
            return (run, run.kind == "eval" && run.origin == .server ? try await records.attemptCounts(runId: id) : nil, canCancel, canResume, peers)
        }
        var scorers: [ScorerRow] = []
        for scorer in Self.field(run.summary, "scorers")?.arrayValue ?? [] {
            let name = Self.field(scorer, "name")?.stringValue ?? ""
            guard let overall = Self.measure(name, Self.field(scorer, "overall")) else { continue }
            let groups: [MeasureRow] = (Self.field(scorer, "groups")?.objectValue ?? [:]).sorted { $0.key < $1.key }.compactMap { Self.measure($0.key, $0.value) }
            scorers.append(ScorerRow(name: name, overall: overall, groups: groups, hasGroups: !groups.isEmpty))
        }
        let progress = counts.map { counts in
            "\(counts.done) of \(run.execution?.plannedAttempts ?? 0) attempts" + (counts.failed > 0 ? ", \(counts.failed) failed" : "")
        }
        let levels = run.levels.sorted { $0.key < $1.key }.map { LevelRow(domain: $0.key, level: $0.value) }
        let report = run.kind == "assessment" ? Self.report(run.summary) : (domains: [], suites: [])
        let suites = (run.execution?.suites ?? [:]).sorted { $0.key < $1.key }.map { SuiteRow(suite: $0.key, runId: $0.value) }
        return page(
            "run",
            RunPage(
                frame: frame(run.name, context), run: RunRow(id: run.id, name: run.name, kind: run.kind, state: run.state?.rawValue ?? "imported"),
                origin: run.origin.rawValue, created: RFC3339.format(run.createdAt), progress: progress, live: counts != nil && run.state?.isActive == true,
                scorers: scorers, levels: levels, suites: suites,
                hasScorers: !scorers.isEmpty, hasLevels: !levels.isEmpty && report.domains.isEmpty, hasSuites: !suites.isEmpty, hasSamples: counts != nil, canCancel: canCancel, canResume: canResume, peers: peers, hasPeers: !peers.isEmpty,
                domains: report.domains, report: report.suites, hasReport: !report.suites.isEmpty))
    }

    struct ReportPage {
        var frame: Frame
        var run: RunRow
        var model: String
        var organisation: String
        var state: String
        var created: String
        var printed: String
        var domains: [DomainRow]
        var report: [SuiteReportRow]
        var final: Bool
    }

    /// An assessment's report as a document: what the run page shows, without the site's
    /// controls, laid out for paper (the stylesheet's print rules) with each link's address.
    func reportPage(_ request: Request, _ context: ProgramRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        let id = try context.parameters.require("run_id")
        let (run, model, organisation) = try await api.store.transaction { records in
            let run = try await api.loadRun(id, .runRead, actor, records)
            guard run.kind == "assessment" else { throw ProblemDetails.notFound("assessment report") }
            try await api.audit(records, actor, "run.report.read", "run", id, ["via": "browser"])
            let version = try await records.version(id: run.versionId)
            let model = version == nil ? nil : try await records.model(id: version!.modelId)
            let organisation = try await records.organisation(id: run.organisationId)
            return (run, "\(model?.name ?? run.versionId) \(version?.version ?? "")", organisation?.name ?? run.organisationId)
        }
        let report = Self.report(run.summary)
        return page(
            "report",
            ReportPage(
                frame: frame("Assessment report: \(run.name)", context), run: Self.row(run), model: model, organisation: organisation,
                state: run.state?.rawValue ?? "imported", created: RFC3339.format(run.createdAt), printed: RFC3339.format(api.now()),
                domains: report.domains, report: report.suites, final: run.state.map { !$0.isActive } ?? true))
    }

    static func field(_ value: JSONValue?, _ key: String) -> JSONValue? { value?.objectValue?[key] }

    /// A metric summary as the engine writes it (`value`, `stderr`, `lower`, `upper`, `count`);
    /// a summary of nothing (its value null) shows as a dash.
    static func measure(_ name: String, _ summary: JSONValue?) -> MeasureRow? {
        guard let summary, case .number(let count)? = field(summary, "count") else { return nil }
        func figure(_ key: String) -> String {
            guard case .number(let value)? = field(summary, key), value.isFinite else { return "–" }
            return String(format: "%.3f", value)
        }
        return MeasureRow(
            name: name, metric: field(summary, "name")?.stringValue ?? "", value: figure("value"), interval: "\(figure("lower")) to \(figure("upper"))",
            count: Int(count))
    }

    // MARK: Samples

    struct SamplesPage {
        var frame: Frame
        var runId: String
        var runName: String
        var statuses: [Option]
        var causes: [Option]
        var scorers: [Option]
        var fields: [Option]
        var orders: [Option]
        var epoch: String
        var scoreMinimum: String
        var scoreMaximum: String
        var value: String
        var text: String
        var scorer: String
        var hasCauses: Bool
        var hasScorers: Bool
        var hasFields: Bool
        var filtered: Bool
        var rows: [SampleRow]
        var next: String?
        var first: String?
        var download: String
        var empty: Bool
    }

    /// One choice of a `<select>`, chosen or not.
    struct Option {
        var value: String
        var label: String
        var selected: Bool

        static func list(_ values: [String], chosen: String?, any: String? = "any") -> [Option] {
            (any.map { [Option(value: "", label: $0, selected: chosen == nil)] } ?? [])
                + values.map { Option(value: $0, label: $0, selected: $0 == chosen) }
        }
    }

    struct SampleRow {
        var sampleId: String
        var epoch: Int
        var status: String
        var score: String
        var cause: String
        var worker: String
        var calls: Int
        var link: String
    }

    static let samplesPerPage = 100

    /// A run's kept attempts, a page at a time (keyset: after the last one shown), filtered,
    /// searched and sorted as the URL says (``AttemptListQuery``, the API's parameters).
    func samplesPage(_ request: Request, _ context: ProgramRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        let id = try context.parameters.require("run_id")
        let list = try AttemptListQuery(request)
        let (run, fields, selection, rows) = try await api.store.transaction { records in
            let run = try await api.loadRun(id, .runRead, actor, records)
            let fields = try await records.attemptFields(runId: id)
            let selection = list.resolved(fields)
            return (run, fields, selection, try await records.attempts(runId: id, selection: selection, after: list.cursor, limit: Self.samplesPerPage))
        }
        let sampleRows = rows.map { row in
            SampleRow(
                sampleId: row.attempt.sampleId, epoch: row.attempt.epoch, status: row.attempt.status, score: row.score.map { JSONValue.number($0).text } ?? "",
                cause: row.failureCause ?? "", worker: row.attempt.worker, calls: row.attempt.gatewayCallIds.count,
                link: "/runs/\(id)/samples/\(Self.pathSegment(row.attempt.sampleId))/\(row.attempt.epoch)")
        }
        var parameters = list.parameters
        if list.selection.scorer == nil { parameters["scorer"] = nil }
        var next: String?
        if rows.count == Self.samplesPerPage, let last = rows.last {
            var following = parameters
            following["cursor"] = try AttemptListQuery.cursorText(last.cursor(selection.order))
            next = "/runs/\(id)/samples?" + Self.query(following)
        }
        let orders: [(AttemptSelection.Order, String)] = [
            (.sample, "sample"), (.score, "score, lowest first"), (.scoreDescending, "score, highest first"), (.kept, "first kept first"),
            (.keptDescending, "last kept first"),
        ]
        let filtered = parameters.contains { $0.key != "sort" && !$0.value.isEmpty }
        return page(
            "samples",
            SamplesPage(
                frame: frame("Samples of \(run.name)", context), runId: id, runName: run.name,
                statuses: Option.list(["scored", "failed"], chosen: selection.status), causes: Option.list(fields.failureCauses, chosen: selection.failureCause),
                scorers: Option.list(fields.scorers, chosen: selection.scorer, any: nil),
                fields: Option.list(fields.metadataKeys, chosen: selection.metadataKey, any: "none"),
                orders: orders.map { Option(value: $0.0 == .sample ? "" : $0.0.rawValue, label: $0.1, selected: $0.0 == selection.order) },
                epoch: selection.epoch.map(String.init) ?? "", scoreMinimum: parameters["score_min"] ?? "", scoreMaximum: parameters["score_max"] ?? "",
                value: parameters["value"] ?? "", text: selection.text ?? "", scorer: selection.scorer ?? "",
                hasCauses: !fields.failureCauses.isEmpty, hasScorers: !fields.scorers.isEmpty, hasFields: !fields.metadataKeys.isEmpty,
                filtered: filtered, rows: sampleRows, next: next, first: list.cursor == nil ? nil : "/runs/\(id)/samples?" + Self.query(parameters),
                download: Self.query(parameters), empty: sampleRows.isEmpty))
    }

    /// A run's kept attempts as the samples page selects them, as CSV (one row each, without
    /// transcripts) or JSONL (each record whole), streamed a page at a time: a run of any size,
    /// in the memory of one page.
    func downloadSamples(_ request: Request, _ context: ProgramRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        let id = try context.parameters.require("run_id")
        let format = request.uri.queryParameters["format"].map(String.init) ?? "csv"
        guard ["csv", "jsonl"].contains(format) else { throw ProblemDetails.badRequest("format is csv or jsonl", field: "format") }
        let list = try AttemptListQuery(request)
        let selection = try await api.store.transaction { records in
            _ = try await api.loadRun(id, .runRead, actor, records)
            try await api.audit(records, actor, "run.download", "run", id, ["format": format, "via": "browser"])
            return list.resolved(try await records.attemptFields(runId: id))
        }
        let store = api.store
        let csv = format == "csv"
        let headers: HTTPFields = [
            .contentType: csv ? "text/csv; charset=utf-8" : "application/x-ndjson",
            .contentDisposition: "attachment; filename=\"\(id)-samples.\(format)\"",
        ]
        return Response(status: .ok, headers: headers, body: ResponseBody { writer in
            if csv { try await writer.write(ByteBuffer(string: "sample_id,epoch,status,score,failure_cause,worker,gateway_calls,kept_at\r\n")) }
            var after = list.cursor
            while true {
                let page = try await store.transaction { records in
                    try await records.attempts(runId: id, selection: selection, after: after, limit: 500, records: !csv)
                }
                guard let last = page.last else { break }
                var buffer = ByteBuffer()
                for row in page {
                    let attempt = row.attempt
                    if csv {
                        let fields = [
                            attempt.sampleId, "\(attempt.epoch)", attempt.status, row.score.map { JSONValue.number($0).text } ?? "", row.failureCause ?? "",
                            attempt.worker, "\(attempt.gatewayCallIds.count)", RFC3339.format(attempt.createdAt),
                        ]
                        buffer.writeString(fields.map(Self.csvField).joined(separator: ",") + "\r\n")
                    } else {
                        buffer.writeString(Self.jsonLine(attempt.record) + "\n")
                    }
                }
                try await writer.write(buffer)
                after = last.cursor(selection.order)
            }
            try await writer.finish(nil)
        })
    }

    /// A CSV field (RFC 4180), with a leading `'` where a spreadsheet would take it for a formula.
    static func csvField(_ text: String) -> String {
        var text = text
        if let first = text.unicodeScalars.first, "=+-@\t\r".unicodeScalars.contains(first) { text = "'" + text }
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// A record on one line: as kept when it has no line break, else written again compactly.
    static func jsonLine(_ record: String) -> String {
        guard record.contains(where: { $0 == "\n" || $0 == "\r" }) else { return record }
        guard let value = try? JSONDecoder().decode(JSONValue.self, from: Data(record.utf8)), let data = try? JSONEncoder().encode(value) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }

    static func pathSegment(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? ""
    }

    static func query(_ fields: [String: String]) -> String {
        fields.filter { !$0.value.isEmpty }.sorted { $0.key < $1.key }.map { "\($0.key)=\(pathSegment($0.value))" }.joined(separator: "&")
    }

    // MARK: A transcript

    struct TranscriptPage {
        var frame: Frame
        var runId: String
        var runName: String
        var sampleId: String
        var epoch: Int
        var status: String
        var failure: String?
        var facts: [Fact]
        var chunk: MessageChunk
        var messageCount: Int
        var scores: [ScoreRow]
        var calls: [String]
        var hasScores: Bool
        var hasCalls: Bool
        var fileFinding: String
    }

    struct Fact {
        var name: String
        var value: String
    }

    /// Messages `start` on, at most ``messagesPerChunk``, and the link to the rest.
    struct MessageChunk {
        var start: Int
        var messages: [MessageRow]
        var earlier: String?
        var later: String?
        var laterCount: Int
    }

    struct MessageRow {
        var number: Int
        var role: String
        var tool: String?
        /// The first part of a long text; the rest is folded behind "show all".
        var text: String
        var rest: String?
        var toolCalls: [ToolCallRow]
    }

    struct ToolCallRow {
        var name: String
        var arguments: String
    }

    struct ScoreRow {
        var name: String
        var value: String
        var answer: String?
        var explanation: String?
    }

    static let foldAfter = 4_000

    /// A score's answer or explanation in its table cell: the messages below hold it whole.
    static func clipped(_ text: String) -> String {
        text.count > 300 ? String(text.prefix(300)) + "…" : text
    }

    static let messagesPerChunk = 200

    /// One attempt: its messages and tool calls as text (model output can neither run nor act
    /// here), long texts folded, a chunk at a time (`from`, so that a transcript of thousands of
    /// events opens at once: the page's script appends the next chunk in place, and without it
    /// the link opens it); its scores, failure, limits and the gateway calls that produced it.
    func transcriptPage(_ request: Request, _ context: ProgramRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        let id = try context.parameters.require("run_id")
        let sample = try context.parameters.require("sample_id")
        guard let epoch = Int(try context.parameters.require("epoch")) else { throw ProblemDetails.notFound("attempt") }
        let parameters = try URLEncodedForm.fields(request.uri.query ?? "")
        var from = 0
        if let text = parameters["from"] {
            guard let value = Int(text), value >= 0 else { throw ProblemDetails.badRequest("from is a whole number from 0", field: "from") }
            from = value
        }
        let part = parameters["part"]
        guard part == nil || part == "messages" else { throw ProblemDetails.badRequest("part is messages", field: "part") }
        let (run, attempt) = try await api.store.transaction { records in
            let run = try await api.loadRun(id, .runRead, actor, records)
            guard let attempt = try await records.attempt(runId: id, key: SampleKey(sampleID: sample, epoch: epoch)) else { throw ProblemDetails.notFound("attempt") }
            if from == 0 { try await api.audit(records, actor, "run.attempt.read", "run", id, ["sample": sample, "epoch": "\(epoch)", "via": "browser"]) }
            return (run, attempt)
        }
        let record = (try? JSONDecoder().decode(JSONValue.self, from: Data(attempt.record.utf8))) ?? .object([:])
        let all = Self.field(record, "messages")?.arrayValue ?? []
        let start = min(from, all.count)
        let end = min(all.count, start + Self.messagesPerChunk)
        let path = "/runs/\(Self.pathSegment(id))/samples/\(Self.pathSegment(sample))/\(epoch)"
        let chunk = MessageChunk(
            start: start + 1, messages: all[start..<end].enumerated().map { Self.messageRow($0.element, number: start + $0.offset + 1) },
            earlier: start > 0 ? path + "?from=\(max(0, start - Self.messagesPerChunk))" : nil, later: end < all.count ? path + "?from=\(end)" : nil,
            laterCount: min(Self.messagesPerChunk, all.count - end))
        if part == "messages" { return page("messages", chunk) }
        let scores = (Self.field(record, "scores")?.objectValue ?? [:]).sorted { $0.key < $1.key }.map { name, score in
            ScoreRow(
                name: name, value: Self.field(score, "value").map { $0.text } ?? "", answer: Self.field(score, "answer")?.stringValue.map(Self.clipped),
                explanation: Self.field(score, "explanation")?.stringValue.map(Self.clipped))
        }
        let failure = Self.field(record, "failure").map { "\(Self.field($0, "cause")?.stringValue ?? ""): \(Self.field($0, "message")?.stringValue ?? "")" }
        var facts: [Fact] = []
        func fact(_ name: String, _ value: JSONValue?) {
            if let value, value != .null, !value.text.isEmpty { facts.append(Fact(name: name, value: value.text)) }
        }
        fact("Stopped because", Self.field(record, "stop_reason"))
        fact("Limit reached", Self.field(record, "limit_reached"))
        fact("Input tokens", Self.field(Self.field(record, "usage"), "input_tokens"))
        fact("Output tokens", Self.field(Self.field(record, "usage"), "output_tokens"))
        if case .number(let seconds)? = Self.field(record, "total_seconds") { facts.append(Fact(name: "Time", value: String(format: "%.1f s", seconds))) }
        facts.append(Fact(name: "Messages", value: "\(all.count)"))
        return page(
            "transcript",
            TranscriptPage(
                frame: frame("\(sample), epoch \(epoch)", context), runId: id, runName: run.name, sampleId: sample, epoch: epoch, status: attempt.status,
                failure: failure, facts: facts, chunk: chunk, messageCount: all.count, scores: scores, calls: attempt.gatewayCallIds,
                hasScores: !scores.isEmpty, hasCalls: !attempt.gatewayCallIds.isEmpty,
                fileFinding: "/findings/new?" + Self.query(["version": run.versionId, "evidence_run": id, "evidence_sample": sample, "evidence_epoch": "\(epoch)"])))
    }

    static func messageRow(_ message: JSONValue, number: Int) -> MessageRow {
        let text = field(message, "content")?.stringValue ?? ""
        let folded = text.count > foldAfter
        return MessageRow(
            number: number, role: field(message, "role")?.stringValue ?? "", tool: field(message, "tool_name")?.stringValue,
            text: folded ? String(text.prefix(foldAfter)) : text, rest: folded ? String(text.dropFirst(foldAfter)) : nil,
            toolCalls: (field(message, "tool_calls")?.arrayValue ?? []).map {
                ToolCallRow(name: field($0, "name")?.stringValue ?? "", arguments: field($0, "arguments").map { $0.stringValue ?? Self.compactJSON($0) } ?? "")
            })
    }

    static func compactJSON(_ value: JSONValue) -> String {
        (try? JSONEncoder().encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? ""
    }
}
