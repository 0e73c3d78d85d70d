/// One step of a task's solver chain, as written in the task file.
///
/// Written either as a bare name (`- generate`), a name with one text argument
/// (`- system_message: "You are…"`), or a name with options (`- multiple_choice: {shuffle: true}`).
public enum SolverDefinition: Sendable, Hashable, Codable {
    /// Prepends (or replaces) the system message. The template may use `{name}` for any metadata field.
    case systemMessage(template: String)
    /// Rewrites the last user message; `{prompt}` is its current text.
    case promptTemplate(template: String)
    /// Calls the model with the conversation so far.
    case generate
    /// Formats the question and its choices (shuffled by seed when asked) and calls the model.
    case multipleChoice(MultipleChoiceOptions)
    /// Asks for step-by-step reasoning before the answer.
    case chainOfThought(template: String?)
    /// Has the model (or the model in `role`) critique the answer, then answers again.
    case selfCritique(SelfCritiqueOptions)
    /// A ReAct agent: the model calls tools in the sample's sandbox until it submits an answer.
    case agent(AgentOptions)

    public struct AgentOptions: Sendable, Hashable, Codable {
        /// How tool calls travel: `native` (the API's tool calling), `text` (a written protocol, for
        /// base models), or `auto` (text for completion-only APIs, native otherwise).
        public enum ToolProtocol: String, Sendable, Hashable, Codable { case auto, native, text }

        /// Tools offered, from bash, python, read_file, write_file, submit (submit is always offered).
        public var tools: [String]
        /// Model turns before the agent is stopped.
        public var maxTurns: Int
        public var toolProtocol: ToolProtocol
        /// Replaces the default instructions given before the task.
        public var instructions: String?
        /// Bytes of tool output an attempt keeps in its conversation (and so in its requests and
        /// its record), within ``outputBudgetRange``; what is past it is cut, and the transcript says so.
        public var outputBudget: Int

        public static let outputBudgetRange = 1024...(64 << 20)

        public init(tools: [String] = ["bash", "python", "read_file", "write_file", "submit"], maxTurns: Int = 30, toolProtocol: ToolProtocol = .auto, instructions: String? = nil, outputBudget: Int = 2 << 20) {
            self.tools = tools
            self.maxTurns = maxTurns
            self.toolProtocol = toolProtocol
            self.instructions = instructions
            self.outputBudget = outputBudget
        }

        enum CodingKeys: String, CodingKey {
            case tools
            case maxTurns = "max_turns"
            case toolProtocol = "protocol"
            case instructions
            case outputBudget = "output_budget"
        }

        public init(from decoder: any Decoder) throws {
            let defaults = AgentOptions()
            let container = try decoder.container(keyedBy: CodingKeys.self)
            tools = try container.decodeIfPresent([String].self, forKey: .tools) ?? defaults.tools
            maxTurns = try container.decodeIfPresent(Int.self, forKey: .maxTurns) ?? defaults.maxTurns
            toolProtocol = try container.decodeIfPresent(ToolProtocol.self, forKey: .toolProtocol) ?? .auto
            instructions = try container.decodeIfPresent(String.self, forKey: .instructions)
            outputBudget = try container.decodeIfPresent(Int.self, forKey: .outputBudget) ?? defaults.outputBudget
            let known = Set(defaults.tools)
            if let unknown = tools.first(where: { !known.contains($0) }) {
                throw DecodingError.dataCorruptedError(forKey: .tools, in: container, debugDescription: "unknown tool '\(unknown)'; known: \(defaults.tools.joined(separator: ", "))")
            }
            if maxTurns < 1 {
                throw DecodingError.dataCorruptedError(forKey: .maxTurns, in: container, debugDescription: "must be at least 1")
            }
            if !Self.outputBudgetRange.contains(outputBudget) {
                throw DecodingError.dataCorruptedError(forKey: .outputBudget, in: container, debugDescription: "must be between \(Self.outputBudgetRange.lowerBound) and \(Self.outputBudgetRange.upperBound) bytes, got \(outputBudget)")
            }
        }
    }

    public struct MultipleChoiceOptions: Sendable, Hashable, Codable {
        /// Placeholders: `{question}`, `{choices}` (lettered lines), `{letters}` (for example "A, B, C, D").
        public var template: String?
        public var shuffle: Bool

        public init(template: String? = nil, shuffle: Bool = false) {
            self.template = template
            self.shuffle = shuffle
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            template = try container.decodeIfPresent(String.self, forKey: .template)
            shuffle = try container.decodeIfPresent(Bool.self, forKey: .shuffle) ?? false
        }
    }

    public struct SelfCritiqueOptions: Sendable, Hashable, Codable {
        /// Placeholders: `{question}`, `{completion}`.
        public var critiqueTemplate: String?
        /// Placeholders: `{question}`, `{completion}`, `{critique}`.
        public var completionTemplate: String?
        /// The model role that writes the critique; the model under test when absent.
        public var role: String?

        public init(critiqueTemplate: String? = nil, completionTemplate: String? = nil, role: String? = nil) {
            self.critiqueTemplate = critiqueTemplate
            self.completionTemplate = completionTemplate
            self.role = role
        }

        enum CodingKeys: String, CodingKey {
            case critiqueTemplate = "critique_template"
            case completionTemplate = "completion_template"
            case role
        }
    }

    /// The name the step has in task files.
    public var name: String {
        switch self {
        case .systemMessage: return "system_message"
        case .promptTemplate: return "prompt_template"
        case .generate: return "generate"
        case .multipleChoice: return "multiple_choice"
        case .chainOfThought: return "chain_of_thought"
        case .selfCritique: return "self_critique"
        case .agent: return "agent"
        }
    }

    public static let names = ["system_message", "prompt_template", "generate", "multiple_choice", "chain_of_thought", "self_critique", "agent"]

    public init(from decoder: any Decoder) throws {
        let entry = try NamedEntry(from: decoder, allowed: Self.names, kind: "solver")
        switch entry.name {
        case "system_message":
            self = .systemMessage(template: try entry.text(key: "template"))
        case "prompt_template":
            self = .promptTemplate(template: try entry.text(key: "template"))
        case "generate":
            self = .generate
        case "multiple_choice":
            self = .multipleChoice(try entry.options(MultipleChoiceOptions.self) ?? .init())
        case "chain_of_thought":
            self = .chainOfThought(template: try entry.optionalText(key: "template"))
        case "agent":
            self = .agent(try entry.options(AgentOptions.self) ?? .init())
        default:
            self = .selfCritique(try entry.options(SelfCritiqueOptions.self) ?? .init())
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: DynamicKey.self)
        let key = DynamicKey(name)
        switch self {
        case .systemMessage(let template), .promptTemplate(let template):
            try container.encode(["template": template], forKey: key)
        case .generate:
            try container.encode([String: String](), forKey: key)
        case .multipleChoice(let options):
            try container.encode(options, forKey: key)
        case .chainOfThought(let template):
            try container.encode(["template": template], forKey: key)
        case .selfCritique(let options):
            try container.encode(options, forKey: key)
        case .agent(let options):
            try container.encode(options, forKey: key)
        }
    }
}

/// A coding key made at run time, for maps whose keys are names.
public struct DynamicKey: CodingKey, Hashable, Sendable {
    public var stringValue: String
    public var intValue: Int? { nil }
    public init(_ string: String) { stringValue = string }
    public init?(stringValue: String) { self.stringValue = stringValue }
    public init?(intValue: Int) { nil }
}

/// A list entry written as `name`, `name: text` or `name: {options}`.
struct NamedEntry {
    let name: String
    private let codingPath: [any CodingKey]
    private let container: KeyedDecodingContainer<DynamicKey>?

    init(from decoder: any Decoder, allowed: [String], kind: String) throws {
        if let bare = try? decoder.singleValueContainer().decode(String.self) {
            guard allowed.contains(bare) else {
                throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "unknown \(kind) '\(bare)'; known: \(allowed.joined(separator: ", "))"))
            }
            name = bare
            codingPath = decoder.codingPath
            container = nil
            return
        }
        let keyed = try decoder.container(keyedBy: DynamicKey.self)
        guard keyed.allKeys.count == 1, let key = keyed.allKeys.first else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "a \(kind) is one name, optionally with options: `- name` or `- name: {…}`"))
        }
        guard allowed.contains(key.stringValue) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath + [key], debugDescription: "unknown \(kind) '\(key.stringValue)'; known: \(allowed.joined(separator: ", "))"))
        }
        name = key.stringValue
        codingPath = decoder.codingPath
        container = keyed
    }

    private var key: DynamicKey { DynamicKey(name) }

    /// The options map, or nil when the entry is a bare name or has an empty value.
    func options<T: Decodable>(_ type: T.Type) throws -> T? {
        guard let container else { return nil }
        if (try? container.decodeNil(forKey: key)) == true { return nil }
        return try container.decode(T.self, forKey: key)
    }

    /// A text argument written inline (`name: text`) or as `name: {key: text}`.
    func optionalText(key textKey: String) throws -> String? {
        guard let container else { return nil }
        if (try? container.decodeNil(forKey: key)) == true { return nil }
        if let text = try? container.decode(String.self, forKey: key) { return text }
        let nested = try container.nestedContainer(keyedBy: DynamicKey.self, forKey: key)
        return try nested.decodeIfPresent(String.self, forKey: DynamicKey(textKey))
    }

    func text(key textKey: String) throws -> String {
        guard let text = try optionalText(key: textKey) else {
            let path = codingPath + [key]
            throw DecodingError.keyNotFound(DynamicKey(textKey), .init(codingPath: path, debugDescription: "\(name) needs a \(textKey)"))
        }
        return text
    }
}
