import HTTPTypes
import NIOCore
import NIOHTTPTypes

/// Sits in each HTTP/1 connection of the server, after the HTTP codec: takes the gateway's
/// calls (`POST /v1/chat/completions`, `/v1/completions`, `/v1/messages`) and serves them on
/// the connection's event loop, and passes every other request on to the router.
///
/// Calls never enter Swift concurrency's pool, and their upstream connection lives on the same
/// event loop: a call costs no thread hop. Pipelined requests are answered in order: a request
/// that arrives while another is being answered waits here until that answer ends.
final class GatewayConnectionHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private let gateway: AccessGateway
    /// The call being received or answered.
    private var call: GatewayCall?
    /// Requests passed to the router whose answers have not ended.
    private var routed = 0
    /// Whether the parts arriving belong to a request passed to the router.
    private var routing = false
    /// Parts of requests that arrived while an earlier one was being answered.
    private var held: [HTTPRequestPart] = []

    init(gateway: AccessGateway) {
        self.gateway = gateway
    }

    private var busy: Bool { call != nil || routed > 0 }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        if !held.isEmpty || (part.isHead && busy) {
            held.append(part)
            return
        }
        take(part, context: context)
    }

    private func take(_ part: HTTPRequestPart, context: ChannelHandlerContext) {
        switch part {
        case .head(let request):
            if request.method == .post, let api = GatewayAPI(path: request.path) {
                let call = GatewayCall(gateway: gateway, api: api, request: request, context: context) { [weak self] in
                    self?.callEnded(context: context)
                }
                self.call = call
            } else {
                routed += 1
                routing = true
                context.fireChannelRead(wrapInboundOut(part))
            }
        case .body(let buffer):
            if let call, call.receiving {
                call.receive(buffer)
            } else if routing {
                context.fireChannelRead(wrapInboundOut(part))
            }
        case .end:
            if let call, call.receiving {
                call.start()
            } else if routing {
                routing = false
                context.fireChannelRead(wrapInboundOut(part))
            }
        }
    }

    private func callEnded(context: ChannelHandlerContext) {
        call = nil
        release(context: context)
    }

    /// Takes the held requests, up to the next one that must wait.
    private func release(context: ChannelHandlerContext) {
        var passed = false
        defer {
            // The router's side delivers what it was handed at the end of a read.
            if passed { context.fireChannelReadComplete() }
        }
        while let next = held.first {
            if busy, next.isHead { return }
            held.removeFirst()
            take(next, context: context)
            passed = passed || routing || routed > 0
        }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let ended = if case .end = unwrapOutboundIn(data) { true } else { false }
        context.write(data, promise: promise)
        if ended, routed > 0 {
            routed -= 1
            release(context: context)
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        call?.clientWritabilityChanged(context.channel.isWritable)
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        call?.clientLeft()
        call = nil
        held.removeAll()
        context.fireChannelInactive()
    }
}

extension HTTPRequestPart {
    fileprivate var isHead: Bool {
        if case .head = self { true } else { false }
    }
}

extension GatewayAPI {
    /// The API a request path calls, or nil when it is not a gateway call.
    init?(path: String?) {
        guard var path = path?.utf8[...], path.starts(with: "/v1/".utf8) else { return nil }
        path = path.dropFirst(4)
        if let query = path.firstIndex(of: UInt8(ascii: "?")) { path = path[..<query] }
        if path.last == UInt8(ascii: "/") { path = path.dropLast() }
        guard let api = GatewayAPI(rawValue: String(decoding: path, as: UTF8.self)) else { return nil }
        self = api
    }
}
