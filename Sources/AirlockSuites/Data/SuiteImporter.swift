import AirlockEval
import Foundation
import Logging

/// Converts one source of third-party data (or a generator written here) into Airlock's own
/// files under the data folder. Importers run once, by `airlock data import`; runs read only
/// what they wrote.
public protocol SuiteImporter: Sendable {
    /// The name on the command line, and the stem of the items file it writes.
    var name: String { get }
    /// The data packages it reads (distribution names).
    var packages: [String] { get }
    func run(in folder: DataFolder, logger: Logger) throws -> ImportSummary
}

/// What an import made and what it left out, with why.
public struct ImportSummary: Sendable, Hashable, Codable {
    public var importer: String
    /// Items (or challenges) written.
    public var count: Int
    /// Files written, relative to the data folder.
    public var outputs: [String]
    /// Sources and versions read.
    public var sources: [String]
    /// What was skipped, each with its reason.
    public var skipped: [String]

    public init(importer: String, count: Int, outputs: [String], sources: [String], skipped: [String] = []) {
        self.importer = importer
        self.count = count
        self.outputs = outputs
        self.sources = sources
        self.skipped = skipped
    }
}

/// Every importer Airlock has, in the order `airlock data import` runs them.
public enum SuiteImporters {
    public static let all: [any SuiteImporter] = [CybenchImporter(), AttackQuestionsImporter(), CWEQuestionsImporter(), CWESnippetsImporter(), SecretExtractionImporter(), PromptInjectionImporter(), HarmfulRequestsImporter(), JailbreaksImporter(), VulnerableProgramImporter()]

    /// Runs the named importers (all when `names` is empty) and records what each made in
    /// `items/imports.json`.
    public static func run(_ names: [String], in folder: DataFolder, logger: Logger) throws -> [ImportSummary] {
        let known = Set(all.map(\.name))
        if let unknown = names.first(where: { !known.contains($0) }) {
            throw EvalError(.invalidArguments, "no importer '\(unknown)'; there are: \(all.map(\.name).joined(separator: ", "))")
        }
        let selected = names.isEmpty ? all : all.filter { names.contains($0.name) }
        var summaries: [ImportSummary] = []
        for importer in selected {
            logger.info("importing", metadata: ["importer": "\(importer.name)"])
            summaries.append(try importer.run(in: folder, logger: logger))
        }
        try FileManager.default.createDirectory(atPath: folder.items, withIntermediateDirectories: true)
        let record = folder.items + "/imports.json"
        var previous: [String: ImportSummary] = [:]
        if let data = FileManager.default.contents(atPath: record), let decoded = try? JSONDecoder().decode([ImportSummary].self, from: data) {
            for summary in decoded { previous[summary.importer] = summary }
        }
        for summary in summaries { previous[summary.importer] = summary }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        try AtomicFile.write(try encoder.encode(previous.values.sorted { $0.importer < $1.importer }), to: record)
        return summaries
    }
}
