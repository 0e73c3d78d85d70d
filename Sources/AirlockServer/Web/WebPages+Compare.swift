import AirlockCore
import AirlockStore
import Foundation
import Hummingbird

/// Two runs side by side (two models or versions on the same task): each scorer's means and
/// their difference with its interval, paired on the samples both have (ScoreComparison), and
/// the samples that differ most; two assessments suite by suite.
extension WebPages {
    struct ComparePage {
        var frame: Frame
        var a: RunRow
        var b: RunRow
        var scorers: [Option]
        var hasScorers: Bool
        var overall: ComparisonRow?
        var suites: [ComparisonRow]
        var hasSuites: Bool
        var samples: [SampleComparisonRow]
        var hasSamples: Bool
        var onlyA: Int
        var onlyB: Int
        var note: String?
    }

    struct ComparisonRow {
        var name: String
        var a: String
        var b: String
        var difference: String
        var interval: String
        var method: String
        var verdict: String
        var link: String?
    }

    struct SampleComparisonRow {
        var sampleId: String
        var a: String
        var b: String
        var difference: String
        var linkA: String
        var linkB: String
    }

    static let comparedSamplesShown = 100

    func comparePage(_ request: Request, _ context: ProgramRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        let parameters = try URLEncodedForm.fields(request.uri.query ?? "")
        guard let idA = parameters.filled("a") else { throw ProblemDetails.badRequest("a names the first run", field: "a") }
        guard let idB = parameters.filled("b") else { throw ProblemDetails.badRequest("b names the second run", field: "b") }
        let scorer = parameters.filled("scorer")
        let comparison = try await api.store.transaction { records -> ComparePage in
            let a = try await api.loadRun(idA, .runRead, actor, records)
            let b = try await api.loadRun(idB, .runRead, actor, records)
            try await api.audit(records, actor, "run.compare", "run", a.id, ["with": b.id, "via": "browser"])
            var page = ComparePage(
                frame: frame("\(a.name) and \(b.name)", context), a: Self.row(a), b: Self.row(b), scorers: [], hasScorers: false, overall: nil, suites: [],
                hasSuites: false, samples: [], hasSamples: false, onlyA: 0, onlyB: 0, note: nil)
            if a.kind == "assessment" || b.kind == "assessment" {
                guard a.kind == b.kind else { throw ProblemDetails.badRequest("an assessment compares with an assessment", field: "b") }
                let suitesA = a.execution?.suites ?? [:]
                let suitesB = b.execution?.suites ?? [:]
                for suite in Set(suitesA.keys).union(suitesB.keys).sorted() {
                    guard let runA = suitesA[suite], let runB = suitesB[suite],
                        let suiteA = try await records.run(id: runA), let suiteB = try await records.run(id: runB)
                    else {
                        page.suites.append(ComparisonRow(name: suite, a: suitesA[suite] == nil ? "not run" : "", b: suitesB[suite] == nil ? "not run" : "", difference: "", interval: "", method: "", verdict: "", link: nil))
                        continue
                    }
                    let (_, result) = try await Self.compare(suiteA, suiteB, scorer: nil, records)
                    page.suites.append(Self.comparisonRow(suite, result, link: "/compare?" + Self.query(["a": runA, "b": runB])))
                }
                page.hasSuites = !page.suites.isEmpty
                return page
            }
            let (scorers, result) = try await Self.compare(a, b, scorer: scorer, records)
            page.scorers = Option.list(scorers.names, chosen: scorers.chosen, any: nil)
            page.hasScorers = scorers.names.count > 1
            guard let result else {
                page.note = "The two runs have no scorer in common."
                return page
            }
            page.overall = Self.comparisonRow(scorers.chosen ?? "", result, link: nil)
            page.samples = result.shared.prefix(Self.comparedSamplesShown).map { sample in
                SampleComparisonRow(
                    sampleId: sample.sampleId, a: Self.figure(sample.a), b: Self.figure(sample.b), difference: Self.signed(sample.difference),
                    linkA: "/runs/\(Self.pathSegment(a.id))/samples/\(Self.pathSegment(sample.sampleId))/1",
                    linkB: "/runs/\(Self.pathSegment(b.id))/samples/\(Self.pathSegment(sample.sampleId))/1")
            }
            page.hasSamples = !page.samples.isEmpty
            page.onlyA = result.samplesA - result.shared.count
            page.onlyB = result.samplesB - result.shared.count
            if result.method == .independent, result.samplesA > 0, result.samplesB > 0, !result.shared.isEmpty || a.origin == .imported || b.origin == .imported {
                page.note = "The runs share too few samples to pair: their means are compared as independent."
            }
            return page
        }
        return page("compare", comparison)
    }

    /// A scorer both runs have (the one asked for, else the first) and their comparison: from
    /// each sample's values where both runs have them indexed, else from their summaries.
    static func compare(
        _ a: StoredRun, _ b: StoredRun, scorer: String?, _ records: ProgramRecords
    ) async throws -> (scorers: (names: [String], chosen: String?), result: ScoreComparison?) {
        let indexedA = try await records.attemptFields(runId: a.id).scorers
        let indexedB = try await records.attemptFields(runId: b.id).scorers
        let summaryA = summaries(a)
        let summaryB = summaries(b)
        var names = indexedA.filter(indexedB.contains)
        let indexed = !names.isEmpty
        if !indexed { names = summaryA.keys.filter { summaryB[$0] != nil }.sorted() }
        guard let chosen = scorer.flatMap({ names.contains($0) ? $0 : nil }) ?? names.first else { return ((names, nil), nil) }
        if indexed {
            let result = ScoreComparison.compare(
                try await records.scoreValues(runId: a.id, scorer: chosen), try await records.scoreValues(runId: b.id, scorer: chosen))
            return ((names, chosen), result)
        }
        return ((names, chosen), ScoreComparison.compare(summaryA[chosen]!, summaryB[chosen]!))
    }

    /// A run's overall summary by scorer, as its results (or an import) give them.
    static func summaries(_ run: StoredRun) -> [String: MetricSummary] {
        var summaries: [String: MetricSummary] = [:]
        for scorer in field(run.summary, "scorers")?.arrayValue ?? [] {
            guard let name = field(scorer, "name")?.stringValue, let overall = field(scorer, "overall"),
                let data = try? JSONEncoder().encode(overall), let summary = try? JSONDecoder().decode(MetricSummary.self, from: data), summary.value.isFinite
            else { continue }
            summaries[name] = summary
        }
        return summaries
    }

    static func row(_ run: StoredRun) -> RunRow {
        RunRow(id: run.id, name: run.name, kind: run.kind, state: run.state?.rawValue ?? "imported")
    }

    static func comparisonRow(_ name: String, _ result: ScoreComparison?, link: String?) -> ComparisonRow {
        guard let result else { return ComparisonRow(name: name, a: "", b: "", difference: "", interval: "", method: "no scorer in common", verdict: "", link: link) }
        let interval = result.lower.isFinite ? "\(signed(result.lower)) to \(signed(result.upper))" : "–"
        let verdict = !result.lower.isFinite ? "too few samples" : result.isSignificant ? (result.difference > 0 ? "b higher" : "a higher") : "no clear difference"
        let method = result.method == .paired ? "paired on \(result.shared.count) samples" : "independent"
        return ComparisonRow(
            name: name, a: "\(figure(result.meanA)) (n=\(result.samplesA))", b: "\(figure(result.meanB)) (n=\(result.samplesB))",
            difference: signed(result.difference), interval: interval, method: method, verdict: verdict, link: link)
    }

    static func figure(_ value: Double) -> String { value.isFinite ? String(format: "%.3f", value) : "–" }

    static func signed(_ value: Double) -> String { value.isFinite ? String(format: "%+.3f", value) : "–" }
}
