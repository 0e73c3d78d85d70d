/// Sampling settings sent with every generate call of a task.
public struct GenerationSettings: Sendable, Hashable, Codable {
    public var temperature: Double?
    public var topP: Double?
    public var maxTokens: Int?
    public var stop: [String]?
    public var seed: Int?
    /// Ask the provider to stream the response (OpenAI chat only).
    public var stream: Bool?

    public init(temperature: Double? = nil, topP: Double? = nil, maxTokens: Int? = nil, stop: [String]? = nil, seed: Int? = nil, stream: Bool? = nil) {
        self.temperature = temperature
        self.topP = topP
        self.maxTokens = maxTokens
        self.stop = stop
        self.seed = seed
        self.stream = stream
    }

    /// These settings, with any setting `other` has taking its place.
    public func merging(_ other: GenerationSettings) -> GenerationSettings {
        GenerationSettings(
            temperature: other.temperature ?? temperature,
            topP: other.topP ?? topP,
            maxTokens: other.maxTokens ?? maxTokens,
            stop: other.stop ?? stop,
            seed: other.seed ?? seed,
            stream: other.stream ?? stream
        )
    }

    enum CodingKeys: String, CodingKey {
        case temperature
        case topP = "top_p"
        case maxTokens = "max_tokens"
        case stop, seed, stream
    }
}
