import AirlockCore

/// Writes JSON straight into bytes. The engine's hot path (request bodies and log records, once
/// per model call and per attempt) uses it instead of `JSONEncoder`, which costs several times
/// more; what it writes decodes with the types' `Codable` conformances (tests check both agree).
struct JSONWriter {
    private(set) var bytes: [UInt8] = []
    /// Whether the next member or element needs a comma before it.
    private var needsComma = false

    init(capacity: Int = 512) {
        bytes.reserveCapacity(capacity)
    }

    mutating func object(_ body: (inout JSONWriter) -> Void) {
        separate()
        bytes.append(UInt8(ascii: "{"))
        needsComma = false
        body(&self)
        bytes.append(UInt8(ascii: "}"))
        needsComma = true
    }

    mutating func array<S: Sequence>(_ elements: S, _ body: (inout JSONWriter, S.Element) -> Void) {
        separate()
        bytes.append(UInt8(ascii: "["))
        needsComma = false
        for element in elements { body(&self, element) }
        bytes.append(UInt8(ascii: "]"))
        needsComma = true
    }

    /// Writes `"name":`; the value follows.
    mutating func key(_ name: String) {
        separate()
        appendString(name)
        bytes.append(UInt8(ascii: ":"))
        needsComma = false
    }

    mutating func field(_ name: String, _ value: String) { key(name); string(value) }
    mutating func field(_ name: String, _ value: Int) { key(name); int(value) }
    mutating func field(_ name: String, _ value: Double) { key(name); number(value) }
    mutating func field(_ name: String, _ value: Bool) { key(name); bool(value) }

    mutating func field(_ name: String, ifPresent value: String?) {
        if let value { field(name, value) }
    }

    mutating func string(_ value: String) {
        separate()
        appendString(value)
        needsComma = true
    }

    mutating func int(_ value: Int) {
        separate()
        bytes.append(contentsOf: String(value).utf8)
        needsComma = true
    }

    mutating func number(_ value: Double) {
        separate()
        if value.rounded() == value, abs(value) < 1e15 {
            bytes.append(contentsOf: String(Int64(value)).utf8)
        } else {
            // Swift's description is the shortest text that reads back to the same Double.
            bytes.append(contentsOf: (value.isFinite ? value.description : "0").utf8)
        }
        needsComma = true
    }

    mutating func bool(_ value: Bool) {
        separate()
        bytes.append(contentsOf: (value ? "true" : "false").utf8)
        needsComma = true
    }

    mutating func null() {
        separate()
        bytes.append(contentsOf: "null".utf8)
        needsComma = true
    }

    mutating func value(_ value: JSONValue) {
        switch value {
        case .null: null()
        case .bool(let flag): bool(flag)
        case .number(let number): self.number(number)
        case .string(let text): string(text)
        case .array(let values): array(values) { $0.value($1) }
        case .object(let fields):
            object { writer in
                for (name, value) in fields {
                    writer.key(name)
                    writer.value(value)
                }
            }
        }
    }

    private mutating func separate() {
        if needsComma { bytes.append(UInt8(ascii: ",")) }
    }

    private mutating func appendString(_ text: String) {
        bytes.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
            case UInt8(ascii: "\\"): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case UInt8(ascii: "\n"): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case UInt8(ascii: "\r"): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
            case UInt8(ascii: "\t"): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"), hex[Int(byte >> 4)], hex[Int(byte & 0xF)]])
            default: bytes.append(byte)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }
}

// MARK: The engine's types

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
                        writer.field("value", score.value)
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
                    writer.field("seconds", call.seconds)
                    writer.field("retries", call.retries)
                    writer.field("cached", call.cached)
                    writer.key("usage")
                    writer.usage(call.usage)
                    writer.field("stop_reason", ifPresent: call.stopReason)
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
            writer.field("started", record.started)
            writer.field("total_seconds", record.totalSeconds)
            writer.field("model_seconds", record.modelSeconds)
        }
    }
}
