import AirlockCore

// The engine's types written with AirlockCore's `JSONWriter` (request bodies and log records,
// once per model call and per attempt): several times cheaper than `JSONEncoder`; tests check
// that what it writes decodes with the `Codable` conformances.
extension JSONWriter {
    mutating func message(_ message: ChatMessage) {
        object { writer in
            writer.field("role", message.role.rawValue)
            writer.field("content", message.content)
            if let calls = message.toolCalls {
                writer.key("tool_calls")
                writer.array(calls) { writer, call in
                    writer.object { writer in
                        writer.field("id", call.id)
                        writer.field("name", call.name)
                        writer.field("arguments", call.arguments)
                    }
                }
            }
            writer.field("tool_call_id", ifPresent: message.toolCallID)
            writer.field("tool_name", ifPresent: message.toolName)
        }
    }

    mutating func usage(_ usage: TokenUsage) {
        object { writer in
            writer.field("input_tokens", usage.inputTokens)
            writer.field("output_tokens", usage.outputTokens)
        }
    }

    /// A log record, with the keys of `SampleRecord.CodingKeys`.
    mutating func record(_ record: SampleRecord) {
        object { writer in
            writer.field("sample_id", record.sampleID)
            writer.field("epoch", record.epoch)
            writer.field("status", record.status.rawValue)
            writer.key("input")
            switch record.input {
            case .text(let text): writer.string(text)
            case .messages(let messages): writer.array(messages) { $0.message($1) }
            }
            writer.key("target")
            writer.array(record.target) { $0.string($1) }
            if let choices = record.choices {
                writer.key("choices")
                writer.array(choices) { $0.string($1) }
            }
            writer.key("messages")
            writer.array(record.messages) { $0.message($1) }
            writer.field("completion", ifPresent: record.completion)
            writer.key("scores")
            writer.object { writer in
                for (name, score) in record.scores {
                    writer.key(name)
                    writer.object { writer in
                        writer.field("value", finite(score.value))
                        writer.field("answer", ifPresent: score.answer)
                        writer.field("explanation", ifPresent: score.explanation)
                    }
                }
            }
            writer.key("usage")
            writer.usage(record.usage)
            writer.key("calls")
            writer.array(record.calls) { writer, call in
                writer.object { writer in
                    writer.field("seconds", finite(call.seconds))
                    writer.field("retries", call.retries)
                    writer.field("cached", call.cached)
                    writer.key("usage")
                    writer.usage(call.usage)
                    writer.field("stop_reason", ifPresent: call.stopReason)
                    writer.field("gateway_call_id", ifPresent: call.gatewayCallID)
                }
            }
            writer.key("metadata")
            writer.value(.object(record.metadata))
            writer.field("limit_reached", ifPresent: record.limitReached)
            writer.field("stop_reason", ifPresent: record.stopReason)
            if let failure = record.failure {
                writer.key("failure")
                writer.object { writer in
                    writer.field("cause", failure.cause.rawValue)
                    writer.field("message", failure.message)
                }
            }
            writer.field("started", finite(record.started))
            writer.field("total_seconds", finite(record.totalSeconds))
            writer.field("model_seconds", finite(record.modelSeconds))
        }
    }
}

/// A log record's numbers must read back into non-optional `Double`s: JSON has no NaN or
/// infinity, and the writer's `null` would not decode, so they are written as 0.
private func finite(_ value: Double) -> Double { value.isFinite ? value : 0 }

extension SampleRecord {
    /// The record as a run's `samples.jsonl` holds it (one line, without its newline).
    public var logJSON: [UInt8] {
        var writer = JSONWriter(capacity: 1024)
        writer.record(self)
        return writer.bytes
    }
}
