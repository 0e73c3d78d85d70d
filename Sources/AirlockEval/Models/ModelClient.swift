import AsyncHTTPClient
import NIOCore
import NIOPosix

/// The HTTP client all model providers of a run share, and the providers made on it.
public struct ModelClient: Sendable {
    let transport: HTTPTransport

    /// Runs `body` with a client sized for `maxConnections` per host, and shuts it down after,
    /// also when `body` throws.
    public static func withClient<T: Sendable>(maxConnections: Int, _ body: (ModelClient) async throws -> T) async throws -> T {
        var configuration = HTTPClient.Configuration()
        // The default pool allows 8 connections per host; the engine's own gate decides instead.
        configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: max(8, maxConnections))
        configuration.timeout = .init(connect: .seconds(10), read: .seconds(600))
        let client = HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton, configuration: configuration)
        do {
            let result = try await body(ModelClient(transport: HTTPTransport(client: client)))
            try await client.shutdown()
            return result
        } catch {
            try? await client.shutdown()
            throw error
        }
    }

    public func provider(for configuration: ModelConfiguration) -> any ModelProvider {
        switch configuration.api {
        case .openAIChat: return OpenAIChatProvider(configuration: configuration, transport: transport)
        case .openAICompletions: return OpenAICompletionsProvider(configuration: configuration, transport: transport)
        case .anthropic: return AnthropicProvider(configuration: configuration, transport: transport)
        }
    }
}
