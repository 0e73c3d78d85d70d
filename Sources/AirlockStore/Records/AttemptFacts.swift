import AirlockCore
import Foundation

/// What a run's sample list filters, sorts and searches on, read once from a result's record
/// when it is kept: each score, the failure's cause, the sample's metadata, and the transcript's
/// text. A record is the engine's `SampleRecord` as JSON; a field missing or of another shape
/// is left out, never an error (the record was checked when it came).
struct AttemptFacts: Sendable, Hashable {
    struct Value: Sendable, Hashable {
        var field: String
        var text: String?
        var number: Double?
    }

    var values: [Value]
    /// The text that full-text search finds the attempt by.
    var searchText: String

    /// At most this many metadata fields of a sample are indexed, each name and value cut to
    /// ``maximumValueLength``: a record of ten thousand fields does not make ten thousand rows.
    static let maximumMetadataFields = 50
    static let maximumValueLength = 500
    /// Search covers the first 256 KiB of an attempt's text: a PostgreSQL `tsvector` of it stays
    /// under that type's 1 MiB limit whatever the text, and an agent's long outputs past it are
    /// rarely what a reader searches for.
    static let maximumSearchBytes = 256 * 1024

    static func scoreField(_ scorer: String) -> String { "score:" + scorer }
    static func metadataField(_ key: String) -> String { "metadata:" + key }
    static let failureField = "failure"

    init(record: String) {
        self.init(record: (try? JSONDecoder().decode(JSONValue.self, from: Data(record.utf8))) ?? .null)
    }

    /// From a record already read (a result's commit checks it first).
    init(record value: JSONValue) {
        guard let fields = value.objectValue else {
            self.init(values: [], searchText: "")
            return
        }
        var values: [Value] = []
        for (scorer, score) in (fields["scores"]?.objectValue ?? [:]).sorted(by: { $0.key < $1.key }).prefix(Self.maximumMetadataFields) {
            guard case .number(let number)? = score.objectValue?["value"], number.isFinite else { continue }
            values.append(Value(field: Self.scoreField(Self.clipped(scorer)), text: nil, number: number))
        }
        if let cause = fields["failure"]?.objectValue?["cause"]?.stringValue {
            values.append(Value(field: Self.failureField, text: Self.clipped(cause), number: nil))
        }
        for (key, item) in (fields["metadata"]?.objectValue ?? [:]).sorted(by: { $0.key < $1.key }).prefix(Self.maximumMetadataFields) {
            var number: Double?
            switch item {
            case .string, .bool: break
            case .number(let value): number = value.isFinite ? value : nil
            case .null, .array, .object: continue
            }
            values.append(Value(field: Self.metadataField(Self.clipped(key)), text: Self.clipped(item.text), number: number))
        }
        // Two keys that are the same once clipped keep the first.
        var seen: Set<String> = []
        self.init(values: values.filter { seen.insert($0.field).inserted }, searchText: Self.searchText(fields))
    }

    init(values: [Value], searchText: String) {
        self.values = values
        self.searchText = searchText
    }

    private static func clipped(_ text: String) -> String {
        let text = text.replacingOccurrences(of: "\u{0}", with: "")
        return text.count > maximumValueLength ? String(text.prefix(maximumValueLength)) : text
    }

    /// The sample's id, input, target, every message and tool call, the completion, the
    /// scorers' answers and explanations, and the failure's message, in that order.
    private static func searchText(_ fields: [String: JSONValue]) -> String {
        var parts: [String] = []
        var bytes = 0
        func add(_ text: String?) {
            guard let text, !text.isEmpty, bytes < maximumSearchBytes else { return }
            parts.append(text)
            bytes += text.utf8.count + 1
        }
        func addMessages(_ messages: [JSONValue]) {
            for message in messages {
                add(message.objectValue?["content"]?.stringValue)
                for call in message.objectValue?["tool_calls"]?.arrayValue ?? [] {
                    add(call.objectValue?["name"]?.stringValue)
                    add(call.objectValue?["arguments"].map { $0.stringValue ?? (try? encodeJSON($0)) ?? "" })
                }
            }
        }
        add(fields["sample_id"]?.stringValue)
        switch fields["input"] {
        case .string(let text)?: add(text)
        case .array(let messages)?: addMessages(messages)
        default: break
        }
        for target in fields["target"]?.arrayValue ?? [] { add(target.stringValue) }
        addMessages(fields["messages"]?.arrayValue ?? [])
        add(fields["completion"]?.stringValue)
        for (_, score) in (fields["scores"]?.objectValue ?? [:]).sorted(by: { $0.key < $1.key }) {
            add(score.objectValue?["answer"]?.stringValue)
            add(score.objectValue?["explanation"]?.stringValue)
        }
        add(fields["failure"]?.objectValue?["message"]?.stringValue)
        var text = parts.joined(separator: "\n").replacingOccurrences(of: "\u{0}", with: "")
        if text.utf8.count > maximumSearchBytes {
            // A character cut in two at the end becomes U+FFFD, which no search looks for.
            text = String(decoding: text.utf8.prefix(maximumSearchBytes), as: UTF8.self)
        }
        return text
    }
}
