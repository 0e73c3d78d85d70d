import AirlockCore
import Foundation

/// Writes a run as Inspect's `.eval` log (a ZIP of `header.json`, `samples/ID_epoch_N.json` and
/// `summaries.json`), so that Inspect's viewer and log API read Airlock's runs.
/// The member layout follows `docs/inspect-eval-format.md` (checked against inspect-ai 0.3.285).
public enum InspectExport {
    /// Writes the archive a sample at a time, so a run of any size is exported in the memory of
    /// its largest sample and its summaries: the records are read twice, once to find the line
    /// that stands for each attempt, once in the planned order to write them.
    public static func write(run directory: RunDirectory, to output: String) throws {
        guard output.hasSuffix(".eval") else {
            throw EvalError(.invalidArguments, "Inspect reads .eval files only; name the output FILE.eval", field: "--output")
        }
        let header = try directory.readHeader()
        var lines: [SampleKey: (offset: Int, length: Int, status: SampleRecord.Status)] = [:]
        var attempts: [SampleKey: AttemptSummary] = [:]
        var metadata: [String: [String: JSONValue]] = [:]
        try directory.scanRecords { record, offset, length in
            guard RunDirectory.stands(record.status, over: lines[record.key]?.status) else { return }
            lines[record.key] = (offset, length, record.status)
            attempts[record.key] = AttemptSummary(record)
            metadata[record.sampleID] = record.metadata
        }
        let definition = header.task.definition
        let stored = directory.readResults()
        let results = stored ?? RunResultsCalculator.compute(header: header, attempts: attempts, metadata: metadata)

        let encoder = JSONEncoder()
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        encoder.outputFormatting = [.sortedKeys]
        let decoder = JSONDecoder()
        try AtomicFile.write(to: output) { temporary in
            let archive = try ZipArchive(path: temporary)
            // No records file: a run with no record yet.
            let samples = FileHandle(forReadingAtPath: directory.samplesPath)
            defer { try? samples?.close() }
            var summaries = Data("[".utf8)
            var usage = TokenUsage()
            var completedAt = header.created
            for key in header.plannedKeys {
                guard let line = lines[key], let samples else { continue }
                try samples.seek(toOffset: UInt64(line.offset))
                let record = try decoder.decode(SampleRecord.self, from: try samples.read(upToCount: line.length) ?? Data())
                usage += record.usage
                completedAt = max(completedAt, record.started + record.totalSeconds)
                let sample = sampleJSON(record, model: header.model.name, limits: definition.limits)
                try archive.add("samples/\(memberID(record.sampleID))_epoch_\(record.epoch).json", try encoder.encode(sample))
                var summary = sample
                if case .object(var fields) = summary {
                    for key in ["messages", "output", "events", "store"] { fields[key] = nil }
                    fields["completed"] = .bool(true)
                    fields["retries"] = .number(0)
                    fields["message_count"] = .number(Double(record.messages.count))
                    if let failure = record.failure { fields["error"] = .string("\(failure.cause.rawValue): \(failure.message)") }
                    summary = .object(fields)
                }
                if summaries.count > 1 { summaries.append(UInt8(ascii: ",")) }
                summaries.append(try encoder.encode(summary))
            }
            summaries.append(UInt8(ascii: "]"))
            try archive.add("summaries.json", summaries)
            try archive.add("header.json", try encoder.encode(headerJSON(header, results: results, complete: stored != nil, usage: usage, completedAt: completedAt)))
            try archive.finish()
        }
    }

    static func headerJSON(_ header: RunHeader, results: RunResults, complete: Bool, usage: TokenUsage, completedAt: Double) -> JSONValue {
        let definition = header.task.definition
        let scorerNames = Scorers.names(definition.scorers)
        let created = iso(header.created)
        return .object([
            "version": .number(2),
            "status": .string(complete ? "success" : "cancelled"),
            "eval": .object([
                "eval_id": .string(header.runID),
                "run_id": .string(header.runID),
                "task_id": .string("\(header.task.name)-\(header.task.fileSHA256.prefix(12))"),
                "created": .string(created),
                "task": .string(header.task.name),
                "task_version": .number(Double(definition.version ?? 0)),
                "task_file": .string(header.task.file),
                "dataset": .object([
                    "name": .string(URL(fileURLWithPath: header.task.datasetFile).deletingPathExtension().lastPathComponent),
                    "location": .string(header.task.datasetFile),
                    "samples": .number(Double(header.sampleIDs.count)),
                    "sample_ids": .array(header.sampleIDs.map { .string($0) }),
                    "shuffled": .bool(definition.dataset.shuffle),
                ]),
                "model": .string(header.model.name),
                "model_base_url": .string(header.model.baseURL),
                "model_roles": .object(header.roles.mapValues { .object(["model": .string($0.name)]) }),
                "config": .object([
                    "epochs": .number(Double(header.epochs)),
                    "epochs_reducer": .array([.string(definition.epochs.reducer.description)]),
                    "max_connections": .number(Double(header.maxConnections)),
                    "max_samples": .number(Double(header.maxSamples)),
                ]),
                "packages": .object(["airlock": .string(header.airlockVersion)]),
                "scorers": .array(scorerNames.map { name in
                    .object(["name": .string(name), "options": .object([:]), "metadata": .object([:]), "metrics": .array([])])
                }),
            ]),
            "plan": .object([
                "name": .string("plan"),
                "steps": .array(definition.solvers.map { .object(["solver": .string($0.name), "params": .object([:])]) }),
                "config": .object([:]),
            ]),
            "results": .object([
                "total_samples": .number(Double(results.attempts)),
                "completed_samples": .number(Double(results.scored)),
                "scores": .array(results.scorers.map { scorer in
                    .object([
                        "name": .string(scorer.name),
                        "scorer": .string(scorer.name),
                        "reducer": .string(results.reducer),
                        "scored_samples": .number(Double(scorer.overall.count)),
                        "unscored_samples": .number(Double(header.sampleIDs.count - scorer.overall.count)),
                        "params": .object([:]),
                        "metrics": .object([
                            scorer.overall.name: metric(scorer.overall.name, scorer.overall.value),
                            "stderr": metric("stderr", scorer.overall.standardError),
                            "ci_lower": metric("ci_lower", scorer.overall.lower),
                            "ci_upper": metric("ci_upper", scorer.overall.upper),
                        ]),
                    ])
                }),
            ]),
            "stats": .object([
                "started_at": .string(created),
                "completed_at": .string(iso(completedAt)),
                "model_usage": .object([header.model.name: usageJSON(usage)]),
            ]),
        ])
    }

    /// Inspect's viewer finds members by `ID_epoch_N`: a slash would make a folder, so it is replaced.
    static func memberID(_ id: String) -> String {
        id.replacingOccurrences(of: "/", with: "-")
    }

    static func metric(_ name: String, _ value: Double) -> JSONValue {
        .object(["name": .string(name), "value": .number(value), "params": .object([:])])
    }

    static func usageJSON(_ usage: TokenUsage) -> JSONValue {
        .object([
            "input_tokens": .number(Double(usage.inputTokens)),
            "output_tokens": .number(Double(usage.outputTokens)),
            "total_tokens": .number(Double(usage.totalTokens)),
        ])
    }

    static func iso(_ seconds: Double) -> String {
        RFC3339.format(Date(timeIntervalSince1970: seconds), fractionDigits: 3)
    }

    static func messageJSON(_ message: ChatMessage, model: String, isInput: Bool) -> JSONValue {
        var fields: [String: JSONValue] = ["role": .string(message.role.rawValue), "content": .string(message.content)]
        if message.role == .assistant {
            fields["source"] = .string("generate")
            fields["model"] = .string(model)
        } else if isInput {
            fields["source"] = .string("input")
        }
        if let calls = message.toolCalls {
            fields["tool_calls"] = .array(calls.map { call in
                let arguments = (try? JSONDecoder().decode(JSONValue.self, from: Data(call.arguments.utf8))) ?? .object([:])
                return .object(["id": .string(call.id), "function": .string(call.name), "arguments": arguments])
            })
        }
        if let id = message.toolCallID { fields["tool_call_id"] = .string(id) }
        if let name = message.toolName { fields["function"] = .string(name) }
        return .object(fields)
    }

    static func stopReason(_ reason: String?) -> String {
        switch reason {
        case "stop", "end_turn", "stop_sequence": return "stop"
        case "length", "max_tokens": return "max_tokens"
        case "tool_calls", "tool_use": return "tool_calls"
        case "content_filter": return "content_filter"
        default: return "unknown"
        }
    }

    static func sampleJSON(_ record: SampleRecord, model: String, limits: SampleLimits) -> JSONValue {
        let inputCount = record.input.messages.count
        let messages = record.messages.enumerated().map { messageJSON($1, model: model, isInput: $0 < inputCount) }
        var input: JSONValue
        switch record.input {
        case .text(let text): input = .string(text)
        case .messages(let list): input = .array(list.map { messageJSON($0, model: model, isInput: true) })
        }
        var output: [String: JSONValue] = ["model": .string(model), "choices": .array([]), "completion": .string("")]
        if record.status == .scored, let last = record.messages.last, last.role == .assistant {
            output["choices"] = .array([.object(["message": messageJSON(last, model: model, isInput: false), "stop_reason": .string(stopReason(record.calls.last?.stopReason))])])
            output["completion"] = .string(record.completion ?? "")
            output["usage"] = usageJSON(record.usage)
        }
        var fields: [String: JSONValue] = [
            "id": .string(record.sampleID),
            "epoch": .number(Double(record.epoch)),
            "input": input,
            "target": .array(record.target.map { .string($0) }),
            "messages": .array(messages),
            "output": .object(output),
            "scores": .object(record.scores.mapValues { score in
                var fields: [String: JSONValue] = ["value": .number(score.value)]
                if let answer = score.answer { fields["answer"] = .string(answer) }
                if let explanation = score.explanation { fields["explanation"] = .string(explanation) }
                return .object(fields)
            }),
            "metadata": .object(record.metadata),
            "store": .object([:]),
            "events": .array([]),
            "model_usage": record.usage.totalTokens > 0 ? .object([model: usageJSON(record.usage)]) : .object([:]),
            "started_at": .string(iso(record.started)),
            "completed_at": .string(iso(record.started + record.totalSeconds)),
            "total_time": .number(record.totalSeconds),
            "working_time": .number(record.totalSeconds),
            "uuid": .string("\(record.sampleID)-\(record.epoch)"),
        ]
        if let choices = record.choices { fields["choices"] = .array(choices.map { .string($0) }) }
        if let failure = record.failure {
            let message = "\(failure.cause.rawValue): \(failure.message)"
            fields["error"] = .object(["message": .string(message), "traceback": .string(message), "traceback_ansi": .string(message)])
        }
        switch record.limitReached {
        case "tokens": fields["limit"] = .object(["type": .string("token"), "limit": .number(Double(limits.tokens ?? 0))])
        case "messages": fields["limit"] = .object(["type": .string("message"), "limit": .number(Double(limits.messages ?? 0))])
        case "time": fields["limit"] = .object(["type": .string("time"), "limit": .number(limits.time ?? 0)])
        default: break
        }
        return .object(fields)
    }
}
