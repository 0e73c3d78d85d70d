import AirlockCore

/// A secret that never prints: logs, errors and descriptions show `<REDACTED>`.
public struct APIKey: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible {
    public let value: String
    public init(_ value: String) { self.value = value }
    public var description: String { "<REDACTED>" }
    public var debugDescription: String { "<REDACTED>" }
}

/// Which API a model speaks.
public enum ModelAPI: String, Sendable, Hashable, CaseIterable {
    /// OpenAI-compatible `/chat/completions` (with tool calls and streaming).
    case openAIChat = "openai"
    /// OpenAI-compatible `/completions`, for base models: the conversation becomes one prompt.
    case openAICompletions = "openai-completions"
    /// Anthropic `/v1/messages`.
    case anthropic = "anthropic"
}

/// How to reach one model: `provider/name`, a base URL and a key.
///
/// Keys and URLs come from flags first, then the environment:
/// - `openai/NAME`: `OPENAI_BASE_URL` (default `https://api.openai.com/v1`), `OPENAI_API_KEY` (secret).
/// - `openai-completions/NAME`: the same variables.
/// - `anthropic/NAME`: `ANTHROPIC_BASE_URL` (default `https://api.anthropic.com`), `ANTHROPIC_API_KEY` (secret).
/// - `gateway/NAME` and `gateway-completions/NAME`: a model behind Airlock's access gateway,
///   spoken to as `openai` and `openai-completions`: `AIRLOCK_GATEWAY_URL` (default
///   `http://127.0.0.1:8470/v1`), `AIRLOCK_GATEWAY_KEY` (secret, the grant key).
/// - `local`: the bundled Gemma 3 270M served by llama.cpp; resolved when the server starts.
public struct ModelConfiguration: Sendable, Hashable, CustomStringConvertible {
    public var api: ModelAPI
    public var name: String
    public var baseURL: String
    public var apiKey: APIKey?

    public init(api: ModelAPI, name: String, baseURL: String, apiKey: APIKey? = nil) {
        self.api = api
        self.name = name
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.apiKey = apiKey
    }

    /// `provider/name`.
    public var modelName: String { "\(api.rawValue)/\(name)" }
    public var description: String { "\(modelName) at \(baseURL)" }

    /// Resolves a model name, with an optional base URL and key from flags, against the environment.
    public static func resolve(_ model: String, baseURL: String? = nil, apiKey: String? = nil, environment: [String: String]) throws -> ModelConfiguration {
        guard let slash = model.firstIndex(of: "/") else {
            throw EvalError(.invalidModel, "a model is named provider/name (providers: \(ModelAPI.allCases.map(\.rawValue).joined(separator: ", ")), or 'local'); got '\(model)'", field: "--model")
        }
        let providerName = String(model[..<slash])
        let name = String(model[model.index(after: slash)...])
        if let api = [("gateway", ModelAPI.openAIChat), ("gateway-completions", .openAICompletions)].first(where: { $0.0 == providerName })?.1 {
            guard !name.isEmpty else { throw EvalError(.invalidModel, "the model name after '\(providerName)/' is empty", field: "--model") }
            let url = baseURL ?? environment["AIRLOCK_GATEWAY_URL"] ?? "http://127.0.0.1:8470/v1"
            let key = (apiKey ?? environment["AIRLOCK_GATEWAY_KEY"]).flatMap { $0.isEmpty ? nil : APIKey($0) }
            guard key != nil else {
                throw EvalError(.invalidModel, "a gateway model needs the grant's key in AIRLOCK_GATEWAY_KEY or --model-api-key", field: "--model")
            }
            return ModelConfiguration(api: api, name: name, baseURL: url, apiKey: key)
        }
        guard let api = ModelAPI(rawValue: providerName) else {
            throw EvalError(.invalidModel, "unknown provider '\(providerName)' (known: \(ModelAPI.allCases.map(\.rawValue).joined(separator: ", ")))", field: "--model")
        }
        guard !name.isEmpty else { throw EvalError(.invalidModel, "the model name after '\(providerName)/' is empty", field: "--model") }
        let (urlVariable, keyVariable, defaultURL): (String, String, String)
        switch api {
        case .openAIChat, .openAICompletions: (urlVariable, keyVariable, defaultURL) = ("OPENAI_BASE_URL", "OPENAI_API_KEY", "https://api.openai.com/v1")
        case .anthropic: (urlVariable, keyVariable, defaultURL) = ("ANTHROPIC_BASE_URL", "ANTHROPIC_API_KEY", "https://api.anthropic.com")
        }
        let url = baseURL ?? environment[urlVariable] ?? defaultURL
        guard url.hasPrefix("http://") || url.hasPrefix("https://") else {
            throw EvalError(.invalidModel, "the base URL must start with http:// or https://, got '\(url)'", field: "--model-base-url")
        }
        let key = (apiKey ?? environment[keyVariable]).flatMap { $0.isEmpty ? nil : APIKey($0) }
        return ModelConfiguration(api: api, name: name, baseURL: url, apiKey: key)
    }
}
