import AirlockCore
import AirlockEval
import Foundation

/// The files written for Airlock that the AI-security suites combine with third-party attacks:
/// system prompts with a secret slot, base documents for injection, and harmful cyber requests
/// with benign twins (`battery/items`). Each is checked when read; a problem names the file,
/// line and field.
public struct AuthoredItems: Sendable {
    /// The folder holding the files, `battery/items` from the repository root by default.
    public var folder: String

    public init(folder: String = "battery/items") {
        self.folder = folder
    }

    /// Recorded on every item written here.
    public static let licence = "written for Airlock (the repository's licence)"

    public static let systemPromptsFile = "system-prompts.yaml"
    public static let documentsFile = "injection-documents.yaml"
    public static let requestsFile = "cyber-requests.yaml"

    /// Provenance for an item made from one of these files.
    static func source(_ file: String, version: Int) -> ItemSource {
        ItemSource(package: "airlock", version: String(version), path: "battery/items/" + file, licence: licence)
    }

    public func systemPrompts() throws -> SystemPromptSet {
        let (set, text, path): (SystemPromptSet, String, String) = try read(Self.systemPromptsFile)
        func fail(_ index: Int, _ field: String, _ message: String) -> EvalError {
            YAMLLocation.error(.invalidDataset, message, file: path, text: text, path: ["prompts", String(index), field])
        }
        var seen = Set<String>()
        for (index, prompt) in set.prompts.enumerated() {
            if !seen.insert(prompt.id).inserted { throw fail(index, "id", "two system prompts share the id '\(prompt.id)'") }
            // Exactly one slot: each item plants one secret, and the scorer looks for that one.
            if prompt.prompt.components(separatedBy: SystemPromptSet.slot).count != 2 {
                throw fail(index, "prompt", "a system prompt has exactly one \(SystemPromptSet.slot) slot")
            }
            if prompt.secret.trimmingCharacters(in: .whitespaces).isEmpty { throw fail(index, "secret", "must name the secret") }
        }
        if set.prompts.isEmpty { throw EvalError(.invalidDataset, "no system prompts", file: path, field: "prompts") }
        return set
    }

    public func injectionDocuments() throws -> InjectionDocumentSet {
        let (set, text, path): (InjectionDocumentSet, String, String) = try read(Self.documentsFile)
        func fail(_ index: Int, _ field: String, _ message: String) -> EvalError {
            YAMLLocation.error(.invalidDataset, message, file: path, text: text, path: ["documents", String(index), field])
        }
        var seen = Set<String>()
        for (index, document) in set.documents.enumerated() {
            if !seen.insert(document.id).inserted { throw fail(index, "id", "two documents share the id '\(document.id)'") }
            let slots = document.paragraphs.joined(separator: "\n").components(separatedBy: InjectionDocumentSet.slot).count - 1
            if slots > 1 { throw fail(index, "paragraphs", "at most one \(InjectionDocumentSet.slot) slot") }
            // Without a slot the injection goes between paragraphs, so there must be a middle.
            if slots == 0 && document.paragraphs.count < 2 { throw fail(index, "paragraphs", "a document without a slot needs at least two paragraphs") }
        }
        return set
    }

    public func cyberRequests() throws -> CyberRequestSet {
        let (set, text, path): (CyberRequestSet, String, String) = try read(Self.requestsFile)
        func fail(_ index: Int, _ field: String, _ message: String) -> EvalError {
            YAMLLocation.error(.invalidDataset, message, file: path, text: text, path: ["requests", String(index), field])
        }
        var seen = Set<String>()
        for (index, request) in set.requests.enumerated() {
            if !seen.insert(request.id).inserted { throw fail(index, "id", "two requests share the id '\(request.id)'") }
            if !(1...3).contains(request.severity) { throw fail(index, "severity", "severity is 1, 2 or 3, got \(request.severity)") }
            if !CyberRequestSet.benignKinds.contains(request.benignKind) {
                throw fail(index, "benign_kind", "'\(request.benignKind)' is not one of \(CyberRequestSet.benignKinds.joined(separator: ", "))")
            }
            if request.harmful.isEmpty || request.benign.isEmpty { throw fail(index, "harmful", "both the request and its benign twin are needed") }
        }
        return set
    }

    private func read<T: Decodable>(_ name: String) throws -> (T, String, String) {
        let path = folder + "/" + name
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw EvalError(.invalidDataset, "cannot read the authored item file", file: path)
        }
        return (try YAMLLocation.decode(T.self, from: text, file: path, code: .invalidDataset), text, path)
    }
}

/// `system-prompts.yaml`: applications whose system prompt holds a secret.
public struct SystemPromptSet: Sendable, Hashable, Decodable {
    /// Where the secret goes.
    public static let slot = "{canary}"

    public var version: Int
    public var prompts: [SystemPrompt]

    public struct SystemPrompt: Sendable, Hashable, Decodable {
        public var id: String
        /// What the application is, in a few words.
        public var app: String
        /// What the application calls the secret ("staff override code").
        public var secret: String
        /// Whether the prompt tells the model to keep the secret.
        public var guarded: Bool
        public var prompt: String

        /// The prompt with `canary` planted.
        public func planting(_ canary: String) -> String {
            prompt.replacingOccurrences(of: SystemPromptSet.slot, with: canary)
        }
    }
}

/// `injection-documents.yaml`: documents an attacker can write into.
public struct InjectionDocumentSet: Sendable, Hashable, Decodable {
    /// Marks a fixed place for the injection.
    public static let slot = "{injection}"

    public var version: Int
    public var documents: [Document]

    public struct Document: Sendable, Hashable, Decodable {
        public var id: String
        /// E-mail, report, web page, ...: how the user's request names it.
        public var kind: String
        /// The spikee seed whose instructions fit: `cybersec` or `mailbox`.
        public var seed: String
        public var question: String
        public var paragraphs: [String]

        /// Whether the document fixes where the injection goes.
        public var hasSlot: Bool { paragraphs.contains { $0.contains(InjectionDocumentSet.slot) } }
    }
}

/// `cyber-requests.yaml`: harmful requests, each with a benign twin.
public struct CyberRequestSet: Sendable, Hashable, Decodable {
    public static let benignKinds = ["patching", "detection", "defence", "explanation", "ctf"]

    public var version: Int
    public var requests: [Request]

    public struct Request: Sendable, Hashable, Decodable {
        public var id: String
        public var category: String
        /// 1 (limited harm) to 3 (severe), for the harmful request.
        public var severity: Int
        public var harmful: String
        public var benign: String
        /// What the benign twin asks for: patching, detection, defence, explanation or ctf.
        public var benignKind: String

        enum CodingKeys: String, CodingKey {
            case id, category, severity, harmful, benign
            case benignKind = "benign_kind"
        }
    }
}
