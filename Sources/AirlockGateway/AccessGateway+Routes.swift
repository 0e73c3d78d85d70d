import AirlockCore
import AirlockStore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOPosix
import NIOHTTP1

extension AccessGateway {
    /// The HTTP/1 server for an application that carries the gateway: each connection gets a
    /// ``ClientWallsHandler`` (slow clients, unparsable requests) and a ``GatewayConnectionHandler``,
    /// which serves the calls; every other request goes to the router.
    public var httpServer: HTTPServerBuilder {
        let timeouts = configuration.clientTimeouts
        return .http1(
            configuration: .init(additionalChannelHandlers: [ClientWallsHandler(timeouts: timeouts), GatewayConnectionHandler(gateway: self)]))
    }

    /// Adds `GET /v1/models`. The calls themselves are served by ``httpServer``'s handler.
    public func addRoutes<Context: RequestContext>(to router: Router<Context>) {
        router.group("v1").get("models") { request, _ in try await self.models(request) }
    }

    /// `GET /v1/models`: the one model a grant key reaches.
    func models(_ request: Request) async throws -> Response {
        guard let secret = Self.secret(from: request.headers) else { return Self.error(.missingKey, for: .chatCompletions) }
        let digest = SecretDigest.of(secret)
        guard let route = try await route(forDigest: digest) else {
            countUnknownKey(digest: digest, address: "unknown")
            return Self.error(.unknownKey, for: .chatCompletions)
        }
        if let refusal = route.refusal(at: now()) { return Self.error(refusal, for: .chatCompletions) }
        let body: [String: Any] = [
            "object": "list",
            "data": [["id": route.modelName, "object": "model", "created": Int(route.startsAt.timeIntervalSince1970), "owned_by": route.versionId]],
        ]
        return Self.json(body, status: .ok)
    }
}
