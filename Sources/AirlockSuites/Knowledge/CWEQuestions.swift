import AirlockCore
import AirlockEval
import Foundation
import Logging

/// Where cwe2 3.0.0 keeps the catalogue, and the attribution its items carry.
public enum CWESource {
    /// The catalogue file, under the package's install root.
    public static let catalogue = "cwe2/database_v49/cwec_v4.14.xml"
    /// The attribution every item carries: the CWE Terms of Use require it.
    public static let licence = "MITRE CWE Terms of Use (© The MITRE Corporation), via cwe2 3.0.0 (MIT)"

    /// `CWE-89: Improper Neutralization of Special Elements used in an SQL Command ('SQL Injection')`.
    static func option(_ weakness: CWEWeakness) -> String {
        "\(weakness.identifier): \(weakness.name)"
    }

    /// `CWE-707 Improper Neutralization`, for grouping results.
    static func pillarLabel(_ catalogue: CWECatalogue, _ id: Int) -> String {
        guard let pillar = catalogue.pillar(of: id) else { return "unknown" }
        return "\(pillar.identifier) \(pillar.name)"
    }

    /// The text names a CWE by number (`CWE-79`), or the weakness by its name or short name.
    static func names(_ text: String, _ weakness: CWEWeakness) -> Bool {
        text.range(of: "CWE-", options: .caseInsensitive) != nil
            || TextMatch.containsWord(text, weakness.name)
            || weakness.alias.map { TextMatch.containsWord(text, $0) } == true
    }
}

// MARK: - CVE description → CWE (K2)

/// Root-cause mapping questions (suite K2): the description of a vulnerability the catalogue
/// cites as an `Observed_Example` → the weakness it is filed under, among four options.
///
/// A CVE filed under several weaknesses makes one question: its answer is one of them (seeded),
/// and none of the others, nor any ancestor or descendant of any of them in view 1000, is offered,
/// since each would be a defensible answer. Distractors come from the answer's family, nearest
/// first: siblings (another child of a parent), then parents' siblings, siblings' children and
/// peers (`PeerOf`, `CanAlsoBe`), then other descendants of the grandparents. Answers and options
/// are only weaknesses MITRE allows mapping to. Descriptions that name a CWE, or the answer by
/// name or short name (`'SQL Injection'`), are dropped. Sampled stratified by the answer's CWE,
/// so the set spans as many weaknesses as it can.
public struct CWEQuestionGenerator: Sendable {
    public var seed: UInt64
    public var count: Int

    /// 400: ±4.9 pp at p = 0.5, of about 2,000 usable CVEs.
    public init(seed: UInt64 = 1, count: Int = 400) {
        self.seed = seed
        self.count = count
    }

    private struct Candidate {
        var cve: String
        var answer: CWEWeakness
        var labels: [Int]
        var question: String
    }

    /// The questions, in a seeded order; `package` is recorded as their source.
    public func generate(from catalogue: CWECatalogue, package: DataPackage) -> GeneratedItems {
        var skipped = SkipTally()
        var order: [String] = []
        var labels: [String: [Int]] = [:]
        var descriptions: [String: [Int: String]] = [:]
        for weakness in catalogue.weaknesses {
            for example in weakness.observedExamples {
                if labels[example.reference] == nil { order.append(example.reference) }
                if labels[example.reference, default: []].contains(weakness.id) { continue }
                labels[example.reference, default: []].append(weakness.id)
                descriptions[example.reference, default: [:]][weakness.id] = example.description
            }
        }

        var candidates: [Candidate] = []
        for cve in order {
            let filed = labels[cve]!
            let mappable = filed.compactMap { catalogue.weakness($0) }.filter(\.isMappable)
            guard !mappable.isEmpty else {
                skipped.add("cwe-mcq: filed only under weaknesses not allowed for mapping")
                continue
            }
            var generator = SeededGenerator(seed: seed, stream: "cwe-mcq/answer/\(cve)")
            let answer = mappable[generator.nextIndex(below: mappable.count)]
            let description = descriptions[cve]![answer.id]!
            guard description.count >= 20 else {
                skipped.add("cwe-mcq: the description is empty or too short")
                continue
            }
            if CWESource.names(description, answer) {
                skipped.add("cwe-mcq: the description names a CWE or its weakness")
                continue
            }
            let question = "MITRE's CWE catalogue (v\(catalogue.version)) cites the following vulnerability as an observed example of one weakness:\n\n\"\(description)\"\n\nWhich weakness is it filed under?"
            candidates.append(Candidate(cve: cve, answer: answer, labels: filed, question: question))
        }

        let ordered = StratifiedOrder.order(candidates, seed: seed, stream: "cwe-mcq", stratum: { $0.answer.identifier }, spread: \.cve)
        var items: [SuiteItem] = []
        var positions = MultipleChoiceAssembly.BalancedPositions(seed: seed, stream: "cwe-mcq/positions")
        for candidate in ordered where items.count < count {
            if MultipleChoiceAssembly.leaks(candidate.question, correct: CWESource.option(candidate.answer)) {
                skipped.add("cwe-mcq: the question contains the answer")
                continue
            }
            var generator = SeededGenerator(seed: seed, stream: "cwe-mcq/\(candidate.cve)")
            let tiers = distractorTiers(for: candidate, in: catalogue)
            guard let distractors = MultipleChoiceAssembly.distractors(from: tiers, excluding: CWESource.option(candidate.answer), generator: &generator) else {
                skipped.add("cwe-mcq: fewer than three related weaknesses to offer")
                continue
            }
            let (choices, target) = MultipleChoiceAssembly.assemble(correct: CWESource.option(candidate.answer), distractors: distractors, position: positions.next())
            items.append(SuiteItem(
                id: "cwe-mcq-\(candidate.cve)", input: candidate.question, target: [target], choices: choices,
                source: package.source(CWESource.catalogue, licence: CWESource.licence),
                metadata: [
                    "cwe": .string(candidate.answer.identifier),
                    "cve": .string(candidate.cve),
                    "abstraction": .string(candidate.answer.abstraction),
                    "pillar": .string(CWESource.pillarLabel(catalogue, candidate.answer.id)),
                ]))
        }
        if items.count < count { skipped.add("cwe-mcq: only \(items.count) of the \(count) asked for could be made") }
        var generator = SeededGenerator(seed: seed, stream: "cwe-mcq/order")
        generator.shuffle(&items)
        return GeneratedItems(items: items, skipped: skipped.lines)
    }

    /// Option texts of the answer's relatives, nearest tier first, without any defensible answer.
    private func distractorTiers(for candidate: Candidate, in catalogue: CWECatalogue) -> [[String]] {
        let id = candidate.answer.id
        var excluded = Set(candidate.labels)
        for label in candidate.labels {
            excluded.formUnion(catalogue.ancestors(of: label))
            excluded.formUnion(catalogue.descendants(of: label))
        }
        func offer(_ ids: Set<Int>) -> [String] {
            ids.subtracting(excluded).sorted().compactMap { catalogue.weakness($0) }
                .filter { $0.isMappable && !CWESource.names(candidate.question, $0) }
                .map(CWESource.option)
        }
        let parents = catalogue.parents(of: id)
        let siblings = catalogue.siblings(of: id)
        let peers = candidate.answer.related.filter { $0.nature == "PeerOf" || $0.nature == "CanAlsoBe" }.map(\.cweID)
        let near = Set(parents.flatMap { catalogue.siblings(of: $0) } + siblings.flatMap { catalogue.children(of: $0) } + peers)
        let wider = Set(parents.flatMap { catalogue.parents(of: $0) }.flatMap { catalogue.descendants(of: $0) })
        return [offer(siblings), offer(near), offer(wider)]
    }
}

// MARK: - Snippet triage (V1)

/// Vulnerable-snippet triage (suite V1): a code block from a weakness's demonstrative examples;
/// the model names the weakness (a CWE identifier) or answers NONE.
///
/// `Bad` blocks are the vulnerable items; their target lists the weakness and, for partial credit
/// in the hierarchy, its direct parents and children in view 1000 (mappable ones only), so the
/// `pattern` scorer accepts any of them. A block that appears under several weaknesses is one
/// item accepting all of them. `Good` blocks (the fixed version in the same example) are the
/// negatives, with target `NONE`; a `Good` block identical to some `Bad` one is dropped, and only
/// fixed blocks with a vulnerable twin are used, so both halves of a pair are in the set. Blocks
/// that name a CWE or the weakness, or are shorter than `minimumLength` or longer than
/// `maximumLength` characters, are dropped. Only weaknesses MITRE allows mapping to are used.
public struct CWESnippetGenerator: Sendable {
    /// Items of each kind.
    public struct Sizes: Sendable, Hashable {
        public var vulnerable: Int
        public var fixed: Int

        public init(vulnerable: Int, fixed: Int) {
            self.vulnerable = vulnerable
            self.fixed = fixed
        }

        /// 300 vulnerable (recall ±5.7 pp) and 150 fixed (false-positive rate ±8 pp).
        public static let standard = Sizes(vulnerable: 300, fixed: 150)
    }

    public var seed: UInt64
    public var sizes: Sizes
    public var minimumLength: Int
    public var maximumLength: Int

    public init(seed: UInt64 = 1, sizes: Sizes = .standard, minimumLength: Int = 30, maximumLength: Int = 3000) {
        self.seed = seed
        self.sizes = sizes
        self.minimumLength = minimumLength
        self.maximumLength = maximumLength
    }

    private struct Block {
        var weakness: CWEWeakness
        var code: CWEExampleCode
        var id: String { "cwe-snippet-\(weakness.id)-\(code.example)-\(code.position)" }
    }

    private struct Candidate {
        var id: String
        var weakness: CWEWeakness
        var language: String
        var code: String
        var target: [String]
        var twin: String?
    }

    /// Vulnerable and fixed items, interleaved in a seeded order; `package` is recorded as their source.
    public func generate(from catalogue: CWECatalogue, package: DataPackage) -> GeneratedItems {
        var skipped = SkipTally()
        var badKeys: [String] = []
        var badBlocks: [String: [Block]] = [:]
        var goodKeys: [String] = []
        var goodBlocks: [String: [Block]] = [:]
        for weakness in catalogue.weaknesses where weakness.status != "Deprecated" {
            for code in weakness.exampleCode where code.nature == "Bad" || code.nature == "Good" {
                // Blocks are compared with white space folded: the same snippet is often laid out twice.
                let key = code.code.split(whereSeparator: \.isWhitespace).joined(separator: " ")
                if code.nature == "Bad" {
                    if badBlocks[key] == nil { badKeys.append(key) }
                    badBlocks[key, default: []].append(Block(weakness: weakness, code: code))
                } else {
                    if goodBlocks[key] == nil { goodKeys.append(key) }
                    goodBlocks[key, default: []].append(Block(weakness: weakness, code: code))
                }
            }
        }

        func fits(_ block: Block, _ kind: String) -> Bool {
            let length = block.code.code.count
            if length < minimumLength || length > maximumLength {
                skipped.add("cwe-snippets: \(kind) block shorter than \(minimumLength) or longer than \(maximumLength) characters")
                return false
            }
            if CWESource.names(block.code.code, block.weakness) {
                skipped.add("cwe-snippets: \(kind) block names a CWE or its weakness")
                return false
            }
            return true
        }

        var vulnerable: [Candidate] = []
        var vulnerableByExample: [String: String] = [:]
        for key in badKeys {
            let blocks = badBlocks[key]!
            let mappable = blocks.filter(\.weakness.isMappable)
            guard let first = mappable.first else {
                skipped.add("cwe-snippets: vulnerable block only under weaknesses not allowed for mapping")
                continue
            }
            guard fits(first, "vulnerable") else { continue }
            if mappable.dropFirst().contains(where: { CWESource.names(first.code.code, $0.weakness) }) {
                skipped.add("cwe-snippets: vulnerable block names a CWE or its weakness")
                continue
            }
            var accepted: [String] = []
            for weakness in mappable.map(\.weakness) {
                let related = [weakness.id] + catalogue.parents(of: weakness.id) + catalogue.children(of: weakness.id)
                for id in related {
                    guard let relative = catalogue.weakness(id), relative.isMappable, !accepted.contains(relative.identifier) else { continue }
                    accepted.append(relative.identifier)
                }
            }
            vulnerable.append(Candidate(id: first.id, weakness: first.weakness, language: first.code.language ?? "unspecified", code: first.code.code, target: accepted))
            for block in blocks where vulnerableByExample["\(block.weakness.id)-\(block.code.example)"] == nil {
                vulnerableByExample["\(block.weakness.id)-\(block.code.example)"] = first.id
            }
        }

        var fixed: [Candidate] = []
        for key in goodKeys {
            let first = goodBlocks[key]![0]
            if badBlocks[key] != nil {
                skipped.add("cwe-snippets: fixed block identical to a vulnerable one")
                continue
            }
            guard first.weakness.isMappable else {
                skipped.add("cwe-snippets: fixed block of a weakness not allowed for mapping")
                continue
            }
            guard fits(first, "fixed") else { continue }
            guard let twin = vulnerableByExample["\(first.weakness.id)-\(first.code.example)"] else {
                skipped.add("cwe-snippets: fixed block without a usable vulnerable twin")
                continue
            }
            fixed.append(Candidate(id: first.id, weakness: first.weakness, language: first.code.language ?? "unspecified", code: first.code.code, target: ["NONE"], twin: twin))
        }

        // Fixed blocks first, then their twins, then more vulnerable blocks, spread over weaknesses.
        let chosenFixed = Array(StratifiedOrder.order(fixed, seed: seed, stream: "cwe-snippets/fixed", stratum: \.weakness.identifier, spread: \.id).prefix(sizes.fixed))
        let twins = Set(chosenFixed.compactMap(\.twin))
        var chosenVulnerable = vulnerable.filter { twins.contains($0.id) }
        let rest = StratifiedOrder.order(vulnerable.filter { !twins.contains($0.id) }, seed: seed, stream: "cwe-snippets/vulnerable", stratum: \.weakness.identifier, spread: \.id)
        chosenVulnerable += rest.prefix(max(0, sizes.vulnerable - chosenVulnerable.count))
        if chosenFixed.count < sizes.fixed { skipped.add("cwe-snippets: only \(chosenFixed.count) of the \(sizes.fixed) fixed blocks asked for could be made") }
        if chosenVulnerable.count < sizes.vulnerable { skipped.add("cwe-snippets: only \(chosenVulnerable.count) of the \(sizes.vulnerable) vulnerable blocks asked for could be made") }

        var items = chosenVulnerable.map { item($0, kind: "vulnerable", catalogue, package) } + chosenFixed.map { item($0, kind: "fixed", catalogue, package) }
        var generator = SeededGenerator(seed: seed, stream: "cwe-snippets/order")
        generator.shuffle(&items)
        return GeneratedItems(items: items, skipped: skipped.lines)
    }

    private func item(_ candidate: Candidate, kind: String, _ catalogue: CWECatalogue, _ package: DataPackage) -> SuiteItem {
        var metadata: [String: JSONValue] = [
            "kind": .string(kind),
            "cwe": .string(candidate.weakness.identifier),
            "language": .string(candidate.language),
            "pillar": .string(CWESource.pillarLabel(catalogue, candidate.weakness.id)),
        ]
        if let twin = candidate.twin { metadata["twin"] = .string(twin) }
        let input = "Language: \(candidate.language)\n\n```\n\(candidate.code)\n```"
        return SuiteItem(id: candidate.id, input: input, target: candidate.target, source: package.source(CWESource.catalogue, licence: CWESource.licence), metadata: metadata)
    }
}

// MARK: - The importers

/// `cwe-mcq`: writes `items/cwe-mcq.jsonl` from cwe2's catalogue (suite K2).
public struct CWEQuestionsImporter: SuiteImporter {
    public var name: String { "cwe-mcq" }
    public var packages: [String] { ["cwe2"] }
    public var generator: CWEQuestionGenerator

    public init(generator: CWEQuestionGenerator = CWEQuestionGenerator()) {
        self.generator = generator
    }

    public func run(in folder: DataFolder, logger: Logger) throws -> ImportSummary {
        let package = try folder.package("cwe2")
        let catalogue = try CWECatalogue.read(path: package.path(CWESource.catalogue))
        return try write(generator.generate(from: catalogue, package: package), importer: name, package: package, folder: folder, logger: logger)
    }
}

/// `cwe-snippets`: writes `items/cwe-snippets.jsonl` from cwe2's catalogue (suite V1).
public struct CWESnippetsImporter: SuiteImporter {
    public var name: String { "cwe-snippets" }
    public var packages: [String] { ["cwe2"] }
    public var generator: CWESnippetGenerator

    public init(generator: CWESnippetGenerator = CWESnippetGenerator()) {
        self.generator = generator
    }

    public func run(in folder: DataFolder, logger: Logger) throws -> ImportSummary {
        let package = try folder.package("cwe2")
        let catalogue = try CWECatalogue.read(path: package.path(CWESource.catalogue))
        return try write(generator.generate(from: catalogue, package: package), importer: name, package: package, folder: folder, logger: logger)
    }
}

/// Writes an importer's items to `items/NAME.jsonl` and says what it did.
private func write(_ output: GeneratedItems, importer: String, package: DataPackage, folder: DataFolder, logger: Logger) throws -> ImportSummary {
    let relative = "items/\(importer).jsonl"
    try ItemFile.write(output.items, to: folder.root + "/" + relative)
    logger.info("wrote items", metadata: ["importer": "\(importer)", "count": "\(output.items.count)"])
    return ImportSummary(importer: importer, count: output.items.count, outputs: [relative], sources: ["\(package.name) \(package.version)"], skipped: output.skipped)
}
