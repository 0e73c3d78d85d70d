import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import Synchronization

/// Where calls are forwarded: one model endpoint's scheme, host, port and base path, read once
/// from the version's endpoint URL.
struct UpstreamAddress: Hashable, Sendable {
    var secure: Bool
    var host: String
    var port: Int
    /// The endpoint URL's path without its trailing slash, e.g. `/v1`.
    var basePath: String

    init?(_ url: String) {
        guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased(), scheme == "http" || scheme == "https",
            let host = components.host, !host.isEmpty
        else { return nil }
        secure = scheme == "https"
        self.host = host
        port = components.port ?? (secure ? 443 : 80)
        basePath = components.percentEncodedPath.hasSuffix("/") ? String(components.percentEncodedPath.dropLast()) : components.percentEncodedPath
    }

    /// The `Host` header's value.
    var authority: String { port == (secure ? 443 : 80) ? host : "\(host):\(port)" }
}

/// Keep-alive HTTP/1.1 connections to the model endpoints, kept per event loop so that a call
/// and its upstream connection share one thread: no hop between the client's connection and
/// the upstream's.
final class UpstreamConnections: Sendable {
    struct Key: Hashable {
        var loop: ObjectIdentifier
        var address: UpstreamAddress
    }

    private let idle = Mutex<[Key: [UpstreamConnection]]>([:])
    private let connectTimeout: TimeAmount
    private let maxIdlePerKey: Int
    private let tls: NIOSSLContext?

    init(connectTimeout: TimeAmount, maxIdlePerKey: Int) {
        self.connectTimeout = connectTimeout
        self.maxIdlePerKey = maxIdlePerKey
        tls = try? NIOSSLContext(configuration: .makeClientConfiguration())
    }

    /// An idle connection to `address` on `loop` (unless `fresh`), or a new one.
    func connection(to address: UpstreamAddress, on loop: any EventLoop, fresh: Bool = false) -> EventLoopFuture<UpstreamConnection> {
        let key = Key(loop: ObjectIdentifier(loop), address: address)
        while !fresh, var reused = idle.withLock({ $0[key]?.popLast() }) {
            reused.reused = true
            if reused.channel.isActive { return loop.makeSucceededFuture(reused) }
        }
        let tls = self.tls
        return ClientBootstrap(group: loop)
            .connectTimeout(connectTimeout)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if address.secure {
                        guard let tls else { throw NIOSSLError.failedToLoadCertificate }
                        try channel.pipeline.syncOperations.addHandler(try NIOSSLClientHandler(context: tls, serverHostname: address.host))
                    }
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(UpstreamResponseHandler())
                }
            }
            .connect(host: address.host, port: address.port)
            .flatMapThrowing { channel in
                let handler = try channel.pipeline.syncOperations.handler(type: UpstreamResponseHandler.self)
                return UpstreamConnection(channel: channel, handler: handler, key: key)
            }
    }

    /// Puts a connection whose last exchange ended cleanly back for the next call.
    func release(_ connection: UpstreamConnection) {
        guard connection.channel.isActive else { return }
        let kept = idle.withLock { idle -> Bool in
            guard idle[connection.key, default: []].count < maxIdlePerKey else { return false }
            idle[connection.key, default: []].append(connection)
            return true
        }
        if !kept { connection.channel.close(promise: nil) }
    }

    /// Closes every idle connection (at shutdown).
    func closeAll() {
        let all = idle.withLock { idle in
            defer { idle.removeAll() }
            return idle.values.flatMap { $0 }
        }
        for connection in all { connection.channel.close(promise: nil) }
    }
}

/// One upstream connection, used by one call at a time, on its event loop only.
struct UpstreamConnection: @unchecked Sendable {
    // Sendable by confinement: the handler is only touched on the channel's event loop.
    let channel: any Channel
    let handler: UpstreamResponseHandler
    let key: UpstreamConnections.Key
    /// Whether it carried an earlier call: the endpoint may close such a connection just as a
    /// request goes out on it.
    var reused = false
}

/// What an upstream exchange reports, on the connection's event loop.
protocol UpstreamExchangeDelegate: AnyObject {
    func upstreamHead(_ head: HTTPResponseHead)
    func upstreamBody(_ buffer: ByteBuffer)
    func upstreamEnd()
    func upstreamFailed(_ error: any Error)
}

/// The last handler of an upstream connection: hands the response's parts to the call that
/// sent the request, and says whether the connection can be used again.
final class UpstreamResponseHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart

    weak var delegate: (any UpstreamExchangeDelegate)?
    /// Whether the connection may carry another request after this response.
    private(set) var reusable = true

    struct ClosedBeforeAnswer: Error, CustomStringConvertible {
        var description: String { "the connection was closed" }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            if !head.isKeepAlive { reusable = false }
            delegate?.upstreamHead(head)
        case .body(let buffer):
            delegate?.upstreamBody(buffer)
        case .end:
            let delegate = self.delegate
            self.delegate = nil
            delegate?.upstreamEnd()
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        reusable = false
        if let delegate {
            self.delegate = nil
            delegate.upstreamFailed(ClosedBeforeAnswer())
        }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        reusable = false
        if let delegate {
            self.delegate = nil
            delegate.upstreamFailed(error)
        }
        context.close(promise: nil)
    }
}
