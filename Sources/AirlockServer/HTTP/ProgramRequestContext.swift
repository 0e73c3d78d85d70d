import AirlockAPI
import AirlockCore
import AirlockStore
import Foundation
import Hummingbird
import NIOCore

/// Who is making a request: the user, their organisation, and the key or session they used.
public struct Actor: Sendable {
    public var user: User
    public var organisation: Organisation
    public var keyId: String
}

/// The request context of the program API: the core context and the authenticated actor.
public struct ProgramRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// Set by ``AuthenticationMiddleware`` when the request carries a valid key or session.
    public var actor: Actor?
    /// Set by ``WebMiddleware`` for a signed-in browser: the session its forms must match.
    public var browserSession: BrowserSession?
    /// The client's address, for throttling sign-ins; nil when the channel has none.
    public let remoteAddress: SocketAddress?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }

    public var requestDecoder: JSONDecoder { APIJSON.decoder }
    public var responseEncoder: JSONEncoder { APIJSON.encoder }

    /// The actor, or 401. A worker's key (role `worker`) is refused with 403 unless the
    /// endpoint is one a worker uses (`workerAllowed`): deny by default.
    func requireActor(workerAllowed: Bool = false) throws -> Actor {
        guard let actor else { throw ProblemDetails.unauthenticated }
        if actor.user.role == .worker, !workerAllowed {
            throw ProblemDetails.forbidden("a worker's key only takes attempts of runs and keeps their results")
        }
        return actor
    }
}
