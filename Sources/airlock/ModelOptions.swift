import AirlockEval
import ArgumentParser
import Foundation

/// The model under test and how to reach it, shared by the commands that call models.
struct ModelOptions: ParsableArguments {
    @Option(help: "The model under test: provider/name, or local.")
    var model: String?

    @Option(help: "The model's API base URL (default: OPENAI_BASE_URL or ANTHROPIC_BASE_URL, then the provider's).")
    var modelBaseURL: String?

    @Option(name: .customLong("model-api-key"), help: "The model's API key. Prefer OPENAI_API_KEY or ANTHROPIC_API_KEY: a flag shows in the process list.")
    var modelAPIKey: String?

    @Option(name: .customLong("model-role"), help: "Bind a role to a model: ROLE=provider/name (repeatable), e.g. grader=openai/gpt-4o.")
    var modelRoles: [String] = []

    @Option(help: "Seconds before one model request times out.")
    var timeout: Double = 120

    @Option(help: "Retries for a transient model error (rate limits are retried apart).")
    var maxRetries: Int = 5

    var requestTimeout: Duration { .milliseconds(Int64(timeout * 1000)) }

    func validate() throws {
        for binding in modelRoles where !binding.contains("=") {
            throw ValidationError("--model-role takes ROLE=provider/name, got '\(binding)'")
        }
    }

    /// `ROLE=provider/name` bindings; `ROLE=local` reuses the local server the model under test runs on.
    func roles(model: ModelConfiguration, isLocal: Bool, environment: [String: String]) throws -> [String: ModelConfiguration] {
        var roles: [String: ModelConfiguration] = [:]
        for binding in modelRoles {
            let parts = binding.split(separator: "=", maxSplits: 1).map(String.init)
            roles[parts[0]] = parts[1] == "local" && isLocal ? model : try ModelConfiguration.resolve(parts[1], environment: environment)
        }
        return roles
    }
}

/// Whether `model` is the bundled local model on its loopback server.
func isLocalModel(_ model: ModelConfiguration) -> Bool {
    model.name == LocalModel.modelName && model.baseURL.hasPrefix("http://127.0.0.1")
}
