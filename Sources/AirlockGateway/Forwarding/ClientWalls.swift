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
    /// When the wall now standing falls; nil while answers are written.
    private var deadline: NIODeadline?
    /// The one timer of the connection. Moving the wall later only moves `deadline`: the timer,
    /// when it fires early, sets itself again for the wall's new time. A request that arrives
    /// whole in one read schedules nothing.
    private var timer: (at: NIODeadline, task: Scheduled<Void>)?
    /// Whether an answer's head has been written and its end not yet.
    private var answerOpen = false

    init(timeouts: ClientTimeouts) {
        self.timeouts = timeouts
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { wall(timeouts.head, context: context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        wall(timeouts.head, context: context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        stopTimer()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        stopTimer()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head:
            if case .answering(let requests) = phase { phase = .answering(requests: requests) } else { phase = .body }
            deadline = .now() + TimeAmount(timeouts.body)
        case .body:
            if phase == .body { deadline = .now() + TimeAmount(timeouts.body) }
        case .end:
            switch phase {
            case .answering(let requests): phase = .answering(requests: requests + 1)
            default: phase = .answering(requests: 1)
            }
            deadline = nil
        }
        context.fireChannelRead(data)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        // A request cut between reads: its wall must stand by the time it falls.
        if phase == .body { startTimer(context: context) }
        context.fireChannelReadComplete()
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head(let response) where response.status.kind != .informational: answerOpen = true
        case .end:
            answerOpen = false
            if case .answering(let requests) = phase {
                if requests <= 1 {
                    phase = .idle
                    wall(timeouts.idle, context: context)
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
        deadline = nil
        stopTimer()
        if !answerOpen {
            let head = HTTPResponse(status: .badRequest, headerFields: [.connection: "close", .contentLength: "0"])
            context.write(wrapOutboundOut(.head(head)), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        }
        context.close(promise: nil)
    }

    private func wall(_ timeout: Duration, context: ChannelHandlerContext) {
        deadline = .now() + TimeAmount(timeout)
        startTimer(context: context)
    }

    /// Makes sure a timer fires no later than `deadline`.
    private func startTimer(context: ChannelHandlerContext) {
        guard let deadline else { return }
        if let timer, timer.at <= deadline { return }
        timer?.task.cancel()
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        let task = context.eventLoop.scheduleTask(deadline: deadline) {
            let (handler, context) = bound.value
            handler.timer = nil
            guard let deadline = handler.deadline else { return }
            if deadline <= .now() { context.close(promise: nil) } else { handler.startTimer(context: context) }
        }
        timer = (deadline, task)
    }

    private func stopTimer() {
        timer?.task.cancel()
        timer = nil
    }
}
