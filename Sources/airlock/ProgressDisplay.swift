import AirlockCore
import AirlockEval
import Foundation

/// The live progress of a run: one line rewritten in place on a terminal, a plain line every few
/// seconds otherwise (so CI logs stay readable).
struct ProgressDisplay: Sendable {
    let enabled: Bool
    let isTerminal = isatty(STDERR_FILENO) == 1

    func announce(run: EvalRun) {
        guard enabled else { return }
        let header = run.header
        let resumed = run.progress.alreadyDone > 0 ? ", resuming with \(run.progress.alreadyDone) done" : ""
        write("\(header.task.name): \(header.sampleIDs.count) samples x \(header.epochs) epoch(s) on \(header.model.name)\(resumed)\nlog: \(run.directory.path)\n")
    }

    /// Runs `body` while a ticker shows progress; the ticker stops with it.
    func whileRunning<T: Sendable>(_ run: EvalRun, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
        guard enabled else { return try await body() }
        let clock = ContinuousClock()
        let start = clock.now
        return try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask {
                var lastPlain = clock.now
                while !Task.isCancelled {
                    try? await Task.sleep(for: .milliseconds(isTerminal ? 200 : 1000))
                    if isTerminal {
                        write("\r\u{1B}[K" + line(run.progress, elapsed: clock.now - start))
                    } else if clock.now - lastPlain >= .seconds(10) {
                        lastPlain = clock.now
                        write(line(run.progress, elapsed: clock.now - start) + "\n")
                    }
                }
                return nil
            }
            group.addTask { try await body() }
            var result: T?
            while let next = try await group.next() {
                if let value = next {
                    result = value
                    group.cancelAll()
                }
            }
            write((isTerminal ? "\r\u{1B}[K" : "") + line(run.progress, elapsed: clock.now - start) + "\n")
            return result!
        }
    }

    func line(_ progress: EvalProgress, elapsed: Duration) -> String {
        let done = progress.alreadyDone + progress.done
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let rate = seconds > 0 ? Double(progress.done) / seconds : 0
        let remaining = progress.total - done
        let eta = rate > 0 ? Self.duration(Double(remaining) / rate) : "--"
        let percent = progress.total > 0 ? 100 * done / progress.total : 100
        return "[\(done)/\(progress.total)] \(percent)%  \(String(format: "%.1f", rate))/s  ETA \(eta)  errors \(progress.failed)  connections \(progress.connectionLimit)"
    }

    static func duration(_ seconds: Double) -> String {
        let total = Int(seconds.rounded())
        if total >= 3600 { return "\(total / 3600)h\(total % 3600 / 60)m" }
        if total >= 60 { return "\(total / 60)m\(total % 60)s" }
        return "\(total)s"
    }

    private func write(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }
}

/// The results of a run as a table for people.
enum ResultsTable {
    static func render(header: RunHeader, results: RunResults, progress: EvalProgress?, elapsed: Duration?) -> String {
        var rows: [[String]] = [["scorer", "metric", "value", "stderr", "95% interval", "n"]]
        for scorer in results.scorers {
            rows.append(row(scorer.name, scorer.overall))
            if scorer.epochs.count > 1 {
                for (index, epoch) in scorer.epochs.enumerated() { rows.append(row("  epoch \(index + 1)", epoch)) }
            }
            for (group, summary) in (scorer.groups ?? [:]).sorted(by: { $0.key < $1.key }) {
                let fields = header.task.definition.metrics.groupFields
                rows.append(row(fields.count == 1 ? "  \(fields[0])=\(group)" : "  \(group)", summary))
            }
        }
        var text = "\n\(header.task.name) on \(header.model.name)  (epochs \(header.epochs), reducer \(results.reducer))\n\n"
        text += table(rows)
        text += "\nattempts: \(results.scored) scored, \(results.failed) failed of \(results.attempts)"
        if !results.failuresByCause.isEmpty {
            text += " (" + results.failuresByCause.sorted(by: { $0.key < $1.key }).map { "\($0.key): \($0.value)" }.joined(separator: ", ") + ")"
        }
        if results.limitsReached > 0 { text += "; \(results.limitsReached) stopped by a limit" }
        text += "\ntokens: \(results.usage.inputTokens) in, \(results.usage.outputTokens) out"
        if let walls = header.sandboxWalls { text += "\nsandbox: \(walls.resources); \(walls.fileSystems)" }
        if let progress, let elapsed {
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            text += String(format: "\ntime: %.1f s this session, %.1f attempts/s", seconds, seconds > 0 ? Double(progress.done) / seconds : 0)
        }
        return text
    }

    static func row(_ label: String, _ summary: MetricSummary) -> [String] {
        [label, summary.name, format(summary.value), format(summary.standardError), "[\(format(summary.lower)), \(format(summary.upper))]", String(summary.count)]
    }

    static func format(_ value: Double) -> String {
        value.isNaN ? "-" : String(format: "%.3f", value)
    }

    static func table(_ rows: [[String]]) -> String {
        let widths = (0..<rows[0].count).map { column in rows.map { $0[column].count }.max() ?? 0 }
        return rows.enumerated().map { index, row in
            let line = row.enumerated().map { $1.padding(toLength: widths[$0], withPad: " ", startingAt: 0) }.joined(separator: "  ")
            return index == 0 ? line + "\n" + widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ") : line
        }.joined(separator: "\n") + "\n"
    }
}
