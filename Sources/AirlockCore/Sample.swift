/// One item of a dataset: what the model is given and what counts as right.
public struct Sample: Sendable, Hashable, Codable {
    /// Stable across runs, so that a resumed run knows what it has done.
    public var id: String
    public var input: SampleInput
    /// Accepted answers; most scorers take any of them as correct.
    public var target: [String]
    /// Options of a multiple-choice item, in the order written.
    public var choices: [String]?
    public var metadata: [String: JSONValue]

    public init(id: String, input: SampleInput, target: [String], choices: [String]? = nil, metadata: [String: JSONValue] = [:]) {
        self.id = id
        self.input = input
        self.target = target
        self.choices = choices
        self.metadata = metadata
    }
}

/// The input of a sample: a prompt, or a conversation.
public enum SampleInput: Sendable, Hashable, Codable {
    case text(String)
    case messages([ChatMessage])

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let text = try? container.decode(String.self) {
            self = .text(text)
        } else {
            self = .messages(try container.decode([ChatMessage].self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .text(let text): try container.encode(text)
        case .messages(let messages): try container.encode(messages)
        }
    }

    /// The conversation the input stands for.
    public var messages: [ChatMessage] {
        switch self {
        case .text(let text): return [.user(text)]
        case .messages(let messages): return messages
        }
    }

    /// The text of the last user message: what templates call `{prompt}`.
    public var promptText: String {
        switch self {
        case .text(let text): return text
        case .messages(let messages): return messages.last(where: { $0.role == .user })?.content ?? ""
        }
    }
}

/// Identifies one attempt at a sample: the sample and the epoch (1-based).
public struct SampleKey: Sendable, Hashable, Codable, Comparable, CustomStringConvertible {
    public var sampleID: String
    public var epoch: Int

    public init(sampleID: String, epoch: Int) {
        self.sampleID = sampleID
        self.epoch = epoch
    }

    public static func < (lhs: SampleKey, rhs: SampleKey) -> Bool {
        (lhs.epoch, lhs.sampleID) < (rhs.epoch, rhs.sampleID)
    }

    public var description: String { "\(sampleID)#\(epoch)" }

    enum CodingKeys: String, CodingKey {
        case sampleID = "sample_id"
        case epoch
    }
}
