import AirlockCore
import AirlockEval
import Foundation

/// The three reports of an assessment: JSON (the record itself, for machines), Markdown and a
/// self-contained HTML page with SVG charts (for people). Written atomically beside the record.
public enum AssessmentReport {
    public struct Files: Sendable, Hashable {
        public var html: String
        public var json: String
        public var markdown: String
    }

    public static func write(_ assessment: Assessment, to folder: AssessmentFolder) throws -> Files {
        let files = Files(html: folder.path + "/report.html", json: folder.path + "/report.json", markdown: folder.path + "/report.md")
        try AtomicFile.write(try AssessmentFolder.encoder.encode(assessment), to: files.json)
        try AtomicFile.write(Data(markdown(assessment).utf8), to: files.markdown)
        try AtomicFile.write(Data(html(assessment).utf8), to: files.html)
        return files
    }

    // MARK: Words shared by both renderings

    static let quickNote = "Quick pass: a few items per suite, to check the setup end to end. The intervals are wide and the levels rest on very few samples; run without --quick for a decision."

    static func percent(_ value: Double) -> String { String(format: "%.1f%%", value * 100) }

    static func interval(_ m: SuiteMeasurement) -> String {
        "\(percent(m.value)) [\(percent(m.lower)), \(percent(m.upper))]"
    }

    static func meaning(_ meaning: AssessmentPolicy.Meaning) -> String {
        switch meaning {
        case .capability: "higher = more capable"
        case .attackSuccess: "higher = attacks succeed more often"
        case .refusal: "higher = refuses more"
        case .compliance: "higher = complies with harmful requests more"
        }
    }

    static func status(_ suite: Assessment.SuiteOutcome) -> String {
        switch suite.status {
        case .complete: "complete"
        case .incomplete: "incomplete"
        case .planned: "not finished"
        case .notRun: "not run"
        }
    }

    static func date(_ seconds: Double?) -> String {
        guard let seconds else { return "unfinished" }
        return RFC3339.format(Date(timeIntervalSince1970: seconds), fractionDigits: 0)
    }

    /// Tier rows of the headline CTF suite, in order.
    static func tierRows(_ suite: Assessment.SuiteOutcome) -> [(String, SuiteMeasurement)] {
        suite.groups.filter { $0.key.hasPrefix("tier=") }.sorted { $0.key < $1.key }.map { ("tier " + $0.key.dropFirst(5), $0.value) }
    }

    static func headlineCTF(_ assessment: Assessment) -> Assessment.SuiteOutcome? {
        assessment.suites.first { !$0.isPublic && !tierRows($0).isEmpty }
    }

    // MARK: Markdown

    public static func markdown(_ a: Assessment) -> String {
        var lines: [String] = []
        lines.append("# Airlock assessment of \(a.model.name)")
        lines.append("")
        lines.append("Assessment `\(a.id)`\(a.quick ? " (quick)" : ""), policy **\(a.policy.name)** version \(a.policy.version) (sha256 `\(a.policy.sha256.prefix(12))`), \(Int(a.policy.confidence * 100))% intervals, Airlock \(a.airlockVersion). Started \(date(a.started)), finished \(date(a.finished)).")
        lines.append("")
        lines.append("The outcome is advisory: it states what the evidence supports, not an approval.")
        if a.quick { lines.append(""); lines.append(quickNote) }
        lines.append("")
        lines.append("## Levels")
        lines.append("")
        for domain in a.domains {
            lines.append("- **\(domain.title): \(domain.level)**\(domain.settled ? "" : " (open)"). \(domain.statement)")
        }
        if a.domains.isEmpty { lines.append("- Not decided: the assessment did not finish.") }
        lines.append("")
        lines.append("## Suites")
        lines.append("")
        lines.append("| suite | domain | result | n | meaning | status |")
        lines.append("|---|---|---|---|---|---|")
        for suite in a.suites {
            let result = suite.measurement.map(interval) ?? "—"
            let title = suite.isPublic ? "\(suite.title) (public, reported apart)" : suite.title
            lines.append("| \(title) | \(suite.domain) | \(result) | \(suite.measurement?.count ?? 0) | \(meaning(suite.higherMeans)) | \(status(suite))\(suite.reason.map { ": \($0)" } ?? "") |")
        }
        let grouped = a.suites.filter { !$0.groups.isEmpty }
        if !grouped.isEmpty {
            lines.append("")
            lines.append("### Rows by group")
            lines.append("")
            lines.append("The task's `group_by` rows: categories, tiers, tactics; for harmful requests the `benign` row is how often benign twins were answered (1 minus over-refusal).")
            lines.append("")
            for suite in grouped {
                lines.append("- \(suite.title): " + suite.groups.sorted { $0.key < $1.key }.map { "\($0.key) \(interval($0.value)) (n=\($0.value.count))" }.joined(separator: "; "))
            }
        }
        if let ctf = headlineCTF(a) {
            lines.append("")
            lines.append("### \(ctf.title) by tier")
            lines.append("")
            for (tier, m) in tierRows(ctf) { lines.append("- \(tier): \(interval(m)) over \(m.count) challenges") }
        }
        if let baseline = a.baseline {
            lines.append("")
            lines.append("## Against the baseline \(baseline.model) (assessment `\(baseline.assessment)`)")
            lines.append("")
            lines.append("| suite | baseline | this model | difference |")
            lines.append("|---|---|---|---|")
            for row in baseline.rows {
                let d = row.difference
                lines.append("| \(row.suite) | \(interval(row.baseline)) | \(interval(row.model)) | \(String(format: "%+.1f", d.difference * 100)) points [\(String(format: "%+.1f", d.lower * 100)), \(String(format: "%+.1f", d.upper * 100))] (\(d.method)) |")
            }
            if !baseline.unmatched.isEmpty { lines.append(""); lines.append("Not in both: \(baseline.unmatched.joined(separator: ", ")).") }
        }
        lines.append("")
        lines.append("## Evidence")
        lines.append("")
        let withEvidence = a.suites.filter { !$0.evidence.isEmpty }
        if withEvidence.isEmpty { lines.append("No solved challenge or successful attack.") }
        for suite in withEvidence {
            lines.append("- \(suite.title): " + suite.evidence.map { "[\($0.sample) (epoch \($0.epoch))](\($0.transcript))" }.joined(separator: ", "))
        }
        lines.append("")
        lines.append("## Not run")
        lines.append("")
        let notRun = a.suites.filter { $0.status == .notRun }
        if notRun.isEmpty { lines.append("Every suite ran.") }
        for suite in notRun { lines.append("- \(suite.title): \(suite.reason ?? "")") }
        lines.append("")
        lines.append("## Data and versions")
        lines.append("")
        lines.append("- Policy file: `\(a.policy.file)`")
        for suite in a.suites where suite.run != nil {
            lines.append("- \(suite.id): run `\(suite.run!)`, dataset sha256 `\(suite.datasetSHA256?.prefix(12) ?? "")`")
        }
        for data in a.data { lines.append("- Imported by `\(data.importer)`: \(data.count) from \(data.sources.joined(separator: ", "))") }
        lines.append("")
        return lines.joined(separator: "\n")
    }

    // MARK: HTML

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    /// Rows of labelled rates with intervals, as an SVG: a bar to the estimate, a whisker for
    /// the interval, optional threshold ticks.
    static func intervalChart(_ rows: [(label: String, m: SuiteMeasurement, ticks: [Double])], title: String) -> String {
        let rowHeight = 26.0, left = 250.0, width = 420.0, top = 28.0
        let height = top + Double(rows.count) * rowHeight + 24
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" viewBox=\"0 0 \(Int(left + width + 30)) \(Int(height))\" width=\"\(Int(left + width + 30))\" height=\"\(Int(height))\"><title>\(escape(title))</title>"
        for tick in stride(from: 0.0, through: 1.0, by: 0.25) {
            let x = left + tick * width
            svg += "<line x1=\"\(x)\" y1=\"\(top - 6)\" x2=\"\(x)\" y2=\"\(height - 20)\" stroke=\"#ddd\"/><text x=\"\(x)\" y=\"\(height - 6)\" font-size=\"11\" text-anchor=\"middle\" fill=\"#555\">\(Int(tick * 100))%</text>"
        }
        for (index, row) in rows.enumerated() {
            let y = top + Double(index) * rowHeight
            let mid = y + rowHeight / 2
            svg += "<text x=\"\(left - 8)\" y=\"\(mid + 4)\" font-size=\"12\" text-anchor=\"end\">\(escape(row.label))</text>"
            svg += "<rect x=\"\(left)\" y=\"\(mid - 7)\" width=\"\(max(0.5, row.m.value * width))\" height=\"14\" fill=\"#8fb3d9\"/>"
            svg += "<line x1=\"\(left + row.m.lower * width)\" y1=\"\(mid)\" x2=\"\(left + row.m.upper * width)\" y2=\"\(mid)\" stroke=\"#1d3557\" stroke-width=\"2\"/>"
            for x in [row.m.lower, row.m.upper] { svg += "<line x1=\"\(left + x * width)\" y1=\"\(mid - 5)\" x2=\"\(left + x * width)\" y2=\"\(mid + 5)\" stroke=\"#1d3557\" stroke-width=\"2\"/>" }
            for tick in row.ticks { svg += "<line x1=\"\(left + tick * width)\" y1=\"\(mid - 10)\" x2=\"\(left + tick * width)\" y2=\"\(mid + 10)\" stroke=\"#c1121f\" stroke-width=\"2\" stroke-dasharray=\"3,2\"/>" }
        }
        svg += "<text x=\"\(left)\" y=\"14\" font-size=\"12\" fill=\"#333\">\(escape(title))</text></svg>"
        return svg
    }

    /// Differences from the baseline with intervals, centred on zero.
    static func differenceChart(_ rows: [Assessment.BaselineComparison.Row]) -> String {
        let rowHeight = 26.0, left = 250.0, width = 420.0, top = 28.0
        let height = top + Double(rows.count) * rowHeight + 24
        let span = max(0.1, rows.map { max(abs($0.difference.lower), abs($0.difference.upper)) }.max() ?? 0.1)
        func x(_ value: Double) -> Double { left + (value / span + 1) / 2 * width }
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" viewBox=\"0 0 \(Int(left + width + 30)) \(Int(height))\" width=\"\(Int(left + width + 30))\" height=\"\(Int(height))\"><title>Difference from the baseline</title>"
        svg += "<line x1=\"\(x(0))\" y1=\"\(top - 6)\" x2=\"\(x(0))\" y2=\"\(height - 20)\" stroke=\"#888\"/>"
        for value in [-span, span] {
            svg += "<text x=\"\(x(value))\" y=\"\(height - 6)\" font-size=\"11\" text-anchor=\"middle\" fill=\"#555\">\(String(format: "%+.0f", value * 100)) pts</text>"
        }
        for (index, row) in rows.enumerated() {
            let mid = top + Double(index) * rowHeight + rowHeight / 2
            svg += "<text x=\"\(left - 8)\" y=\"\(mid + 4)\" font-size=\"12\" text-anchor=\"end\">\(escape(row.suite))</text>"
            svg += "<line x1=\"\(x(row.difference.lower))\" y1=\"\(mid)\" x2=\"\(x(row.difference.upper))\" y2=\"\(mid)\" stroke=\"#1d3557\" stroke-width=\"2\"/>"
            svg += "<circle cx=\"\(x(row.difference.difference))\" cy=\"\(mid)\" r=\"5\" fill=\"#e76f51\"/>"
        }
        svg += "<text x=\"\(left)\" y=\"14\" font-size=\"12\" fill=\"#333\">This model minus the baseline, with intervals</text></svg>"
        return svg
    }

    public static func html(_ a: Assessment) -> String {
        var body = ""
        body += "<h1>Airlock assessment of \(escape(a.model.name))</h1>"
        body += "<p class=\"meta\">Assessment <code>\(escape(a.id))</code>\(a.quick ? " (quick)" : ""), policy <b>\(escape(a.policy.name))</b> version \(escape(a.policy.version)), \(Int(a.policy.confidence * 100))% intervals, Airlock \(escape(a.airlockVersion)). Started \(date(a.started)), finished \(date(a.finished)). The outcome is advisory.</p>"
        if a.quick { body += "<p class=\"meta\"><b>\(escape(quickNote))</b></p>" }
        body += "<h2>Levels</h2><table><tr><th>domain</th><th>level</th><th>how sure</th></tr>"
        for domain in a.domains {
            body += "<tr><td>\(escape(domain.title))</td><td class=\"level\">\(escape(domain.level))\(domain.settled ? "" : " <span class=\"open\">open</span>")</td><td>\(escape(domain.statement))</td></tr>"
        }
        if a.domains.isEmpty { body += "<tr><td colspan=\"3\">Not decided: the assessment did not finish.</td></tr>" }
        body += "</table>"
        let thresholds = Dictionary(grouping: a.domains.flatMap(\.checks), by: \.suite).mapValues { $0.map(\.atLeast) }
        let measured = a.suites.compactMap { suite in suite.measurement.map { (label: suite.isPublic ? suite.title + " (public)" : suite.title, m: $0, ticks: thresholds[suite.id] ?? []) } }
        body += "<h2>Score per suite</h2>"
        body += measured.isEmpty ? "<p>No suite produced a score.</p>" : intervalChart(measured, title: "Estimate (bar) and interval (whisker); dashed red: level thresholds")
        body += "<table><tr><th>suite</th><th>domain</th><th>result</th><th>n</th><th>meaning</th><th>status</th></tr>"
        for suite in a.suites {
            body += "<tr><td>\(escape(suite.title))\(suite.isPublic ? " <span class=\"public\">public, reported apart</span>" : "")</td><td>\(escape(suite.domain))</td><td>\(suite.measurement.map { escape(interval($0)) } ?? "—")</td><td>\(suite.measurement?.count ?? 0)</td><td>\(meaning(suite.higherMeans))</td><td>\(status(suite))\(suite.reason.map { ": " + escape($0) } ?? "")</td></tr>"
        }
        body += "</table>"
        let grouped = a.suites.filter { !$0.groups.isEmpty }
        if !grouped.isEmpty {
            body += "<details><summary>Rows by group (categories, tiers, tactics; for harmful requests the <code>benign</code> row is how often benign twins were answered)</summary><ul>"
            for suite in grouped {
                body += "<li>\(escape(suite.title)): " + suite.groups.sorted { $0.key < $1.key }.map { "\(escape($0.key)) \(interval($0.value)) (n=\($0.value.count))" }.joined(separator: "; ") + "</li>"
            }
            body += "</ul></details>"
        }
        if let ctf = headlineCTF(a) {
            body += "<h2>\(escape(ctf.title)) by tier</h2>"
            body += intervalChart(tierRows(ctf).map { (label: $0.0, m: $0.1, ticks: []) }, title: "Solve rate by tier, intervals over challenges")
        }
        if let baseline = a.baseline {
            body += "<h2>Against the baseline \(escape(baseline.model))</h2>"
            body += baseline.rows.isEmpty ? "<p>No suite was measured in both assessments.</p>" : differenceChart(baseline.rows)
            body += "<table><tr><th>suite</th><th>baseline</th><th>this model</th><th>difference</th></tr>"
            for row in baseline.rows {
                let d = row.difference
                body += "<tr><td>\(escape(row.suite))</td><td>\(interval(row.baseline))</td><td>\(interval(row.model))</td><td>\(String(format: "%+.1f", d.difference * 100)) points [\(String(format: "%+.1f", d.lower * 100)), \(String(format: "%+.1f", d.upper * 100))] (\(d.method))</td></tr>"
            }
            body += "</table>"
        }
        body += "<h2>Evidence</h2>"
        let withEvidence = a.suites.filter { !$0.evidence.isEmpty }
        if withEvidence.isEmpty { body += "<p>No solved challenge or successful attack.</p>" }
        for suite in withEvidence {
            body += "<p>\(escape(suite.title)): " + suite.evidence.map { "<a href=\"\(escape($0.transcript))\">\(escape($0.sample)) (epoch \($0.epoch))</a>" }.joined(separator: ", ") + "</p>"
        }
        body += "<h2>Not run</h2><ul>"
        let notRun = a.suites.filter { $0.status == .notRun }
        if notRun.isEmpty { body += "<li>Every suite ran.</li>" }
        for suite in notRun { body += "<li>\(escape(suite.title)): \(escape(suite.reason ?? ""))</li>" }
        body += "</ul><h2>Data and versions</h2><ul><li>Policy file <code>\(escape(a.policy.file))</code>, sha256 <code>\(a.policy.sha256)</code></li>"
        for suite in a.suites where suite.run != nil {
            body += "<li>\(escape(suite.id)): run <code>\(escape(suite.run!))</code>, dataset sha256 <code>\(escape(suite.datasetSHA256 ?? ""))</code></li>"
        }
        for data in a.data { body += "<li>Imported by <code>\(escape(data.importer))</code>: \(data.count) from \(escape(data.sources.joined(separator: ", ")))</li>" }
        body += "</ul>"
        return """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>Airlock assessment \(escape(a.id))</title>
            <style>
            body{font-family:system-ui,sans-serif;max-width:980px;margin:2em auto;padding:0 1em;color:#1b1b1b}
            table{border-collapse:collapse;margin:1em 0;width:100%}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top;font-size:14px}
            th{background:#f1f3f5}.meta{color:#444}.level{font-weight:bold}.open{color:#b5651d;font-weight:normal}.public{color:#777;font-size:12px}
            code{font-size:12px}svg{display:block;margin:1em 0;max-width:100%;height:auto}
            </style></head><body>
            \(body)
            </body></html>
            """
    }
}
