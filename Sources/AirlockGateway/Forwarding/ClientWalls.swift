import HTTPTypes
import NIOCore
import NIOHTTP1
import NIOHTTPTypes

/// How long the server waits on a client before it closes the connection: a slow client holds a
/// socket and a little memory, so each wait has a wall. Answers being written have none here
/// (a stream may run for minutes; `gateway.upstream_timeout_seconds` bounds a call).
public struct ClientTimeouts: Sendable, Hashable {
    /// `http.head_timeout_seconds` (default 10): from a new connection to its first request's
    /// whole head.
    public var head: Duration
    /// `http.body_timeout_seconds` (default 30): the longest gap between two pieces of a request's body.
    public var body: Duration
    /// `http.idle_timeout_seconds` (default 75): from the end of an answer to the next request's
    /// whole head on a kept-alive connection.
    public var idle: Duration

    public init(head: Duration = .seconds(10), body: Duration = .seconds(30), idle: Duration = .seconds(75)) {
        self.head = head
        self.body = body
        self.idle = idle
    }
}

/// Sits first after the HTTP codec and closes connections whose client is too slow (see
/// ``ClientTimeouts``); and answers a request the codec cannot parse (a chunk size past any
/// number, a malformed head) with 400 and a closed connection, never a 5xx.
final class ClientWallsHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    /// What the connection waits for, and so which wall applies.
    enum Phase: Equatable {
        case firstHead
        case body
        /// Requests received; answers being written (no wall).
        case answering(requests: Int)
        case idle
    }

    private let timeouts: ClientTimeouts
    private var phase = Phase.firstHead
    private var wall: Scheduled<Void>?
    /// Whether an answer's head has been written and its end not yet.
    private var answerOpen = false

    init(timeouts: ClientTimeouts) {
        self.timeouts = timeouts
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { arm(timeouts.head, context: context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        arm(timeouts.head, context: context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        wall?.cancel()
        wall = nil
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        wall?.cancel()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head:
            if case .answering(let requests) = phase { phase = .answering(requests: requests) } else { phase = .body }
            arm(timeouts.body, context: context)
        case .body:
            if phase == .body { arm(timeouts.body, context: context) }
        case .end:
            switch phase {
            case .answering(let requests): phase = .answering(requests: requests + 1)
            default: phase = .answering(requests: 1)
            }
            disarm()
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head(let response) where response.status.kind != .informational: answerOpen = true
        case .end:
            answerOpen = false
            if case .answering(let requests) = phase {
                if requests <= 1 {
                    phase = .idle
                    arm(timeouts.idle, context: context)
                } else {
                    phase = .answering(requests: requests - 1)
                }
            }
        default: break
        }
        context.write(data, promise: promise)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard error is HTTPParserError else { return context.fireErrorCaught(error) }
        // Bytes that are not HTTP: 400 where no answer is under way, and the connection closed.
        disarm()
        if !answerOpen {
            let head = HTTPResponse(status: .badRequest, headerFields: [.connection: "close", .contentLength: "0"])
            context.write(wrapOutboundOut(.head(head)), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        }
        context.close(promise: nil)
    }

    private func arm(_ timeout: Duration, context: ChannelHandlerContext) {
        wall?.cancel()
        let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
        wall = context.eventLoop.scheduleTask(in: TimeAmount(timeout)) { loopBound.value.close(promise: nil) }
    }

    private func disarm() {
        wall?.cancel()
        wall = nil
    }
}
