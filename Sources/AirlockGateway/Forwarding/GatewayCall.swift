import AirlockCore
import AirlockStore
import Foundation
import HTTPTypes
import NIOCore
import NIOHTTP1
import NIOHTTPTypes

/// One call through the gateway, from its request's head to its answer's end, on its client
/// connection's event loop: key, grant, limits, forward, charge, record.
final class GatewayCall: UpstreamExchangeDelegate {
    private let gateway: AccessGateway
    private let api: GatewayAPI
    private let context: ChannelHandlerContext
    private let ended: () -> Void
    private let started = ContinuousClock.now
    private let startedAt: Date
    private let callId: String
    private let secret: String?
    private let anthropicVersion: String?
    private let closeAfter: Bool

    /// Whether the request's body is still arriving.
    private(set) var receiving = true
    private var body: ByteBuffer?
    private var tooLarge = false

    private var route: GatewayRoute?
    private var prepared: GatewayRequest?
    private var admission: GrantLimiter.Admission?
    private var connection: UpstreamConnection?
    /// Whether the request was sent again on a new connection, after a kept-alive one closed.
    private var resent = false
    private var deadline: Scheduled<Void>?
    private var upstreamStatus = 0
    private var upstreamContentType: String?
    private var answer: ByteBuffer?
    /// Whether the answer is a stream being passed on (its head already sent to the client).
    private var streaming = false
    private var meter = UsageMeter()
    private var captured = Data()
    private var done = false
    private var answeredStatus = 0

    static let maximumBody = 16 << 20
    static let maximumAnswer = 64 << 20

    init(gateway: AccessGateway, api: GatewayAPI, request: HTTPRequest, context: ChannelHandlerContext, ended: @escaping () -> Void) {
        self.gateway = gateway
        self.api = api
        self.context = context
        self.ended = ended
        startedAt = gateway.now()
        callId = Identifier.make("cal", at: startedAt)
        secret = AccessGateway.secret(from: request.headerFields)
        anthropicVersion = request.headerFields[AccessGateway.anthropicVersion]
        closeAfter = request.headerFields[.connection]?.lowercased().contains("close") == true
    }

    // MARK: The request

    func receive(_ buffer: ByteBuffer) {
        guard !tooLarge else { return }
        if (body?.readableBytes ?? 0) + buffer.readableBytes > Self.maximumBody {
            tooLarge = true
            body = nil
        } else if body == nil {
            body = buffer
        } else {
            body!.writeImmutableBuffer(buffer)
        }
    }

    /// The request is whole: find its route, then go on.
    func start() {
        receiving = false
        guard let secret else { return respond(.missingKey) }
        let digest = SecretDigest.of(secret)
        switch gateway.cachedRoute(forDigest: digest) {
        case .found(let route):
            proceed(route)
        case .unknown:
            refuseUnknown(digest)
        case .reload:
            let gateway = self.gateway
            context.eventLoop.makeFutureWithTask { try await gateway.route(forDigest: digest) }.assumeIsolated().whenComplete { result in
                guard !self.done else { return }
                switch result {
                case .success(let route?): self.proceed(route)
                case .success(nil): self.refuseUnknown(digest)
                case .failure(let error): self.respond(.unavailable(AccessGateway.describe(error)))
                }
            }
        }
    }

    /// An unknown key: counted for the audit log by source address, never the key itself.
    private func refuseUnknown(_ digest: String) {
        let address = context.channel.remoteAddress?.ipAddress ?? "unknown"
        gateway.countUnknownKey(digest: digest, address: address)
        respond(.unknownKey)
    }

    private func proceed(_ route: GatewayRoute) {
        self.route = route
        if let refusal = route.refusal(at: gateway.now()) { return refuse(refusal) }
        guard let upstream = route.upstream else { return refuse(.noEndpoint) }
        guard let address = upstream.address else { return refuse(.upstreamUnreachable("the endpoint is not an http or https URL")) }
        if tooLarge { return refuse(.badRequest("the body is larger than \(Self.maximumBody >> 20) MiB")) }
        let prepared: GatewayRequest
        do {
            prepared = try GatewayRequest(api: api, body: body.map { Data($0.readableBytesView) } ?? Data(), upstreamModel: upstream.model)
        } catch {
            switch error {
            case .notJSON: return refuse(.badRequest("the body is not a JSON object"))
            case .badField(let field, let reason): return refuse(.badRequest("\(field) \(reason)"))
            }
        }
        self.prepared = prepared
        body = nil
        switch gateway.admit(route, reserve: prepared.reservation) {
        case .failure(let refusal): return refuse(.limited(refusal))
        case .success(let admitted): admission = admitted
        }
        // On the journal before it is forwarded: a crash from here on still charges the call.
        gateway.journal?.append(record(route, status: 0, charged: prepared.reservation, streamed: prepared.streams))
        let bound = NIOLoopBound(self, eventLoop: context.eventLoop)
        gateway.open(callId: callId, grantId: route.grantId) { refusal in
            bound.eventLoop.execute { bound.value.cut(refusal) }
        }
        deadline = context.eventLoop.assumeIsolated().scheduleTask(in: .init(gateway.configuration.upstreamTimeout)) {
            self.upstreamFailed(UpstreamTimedOut())
        }
        connect(prepared, upstream: upstream, address: address, fresh: false)
    }

    private func connect(_ prepared: GatewayRequest, upstream: GatewayRoute.Upstream, address: UpstreamAddress, fresh: Bool) {
        gateway.upstreams.connection(to: address, on: context.eventLoop, fresh: fresh).assumeIsolated().whenComplete { result in
            switch result {
            case .failure(let error):
                self.upstreamFailed(error)
            case .success(let connection):
                guard !self.done else { return self.gateway.upstreams.release(connection) }
                self.send(prepared, upstream: upstream, address: address, on: connection)
            }
        }
    }

    private func send(_ prepared: GatewayRequest, upstream: GatewayRoute.Upstream, address: UpstreamAddress, on connection: UpstreamConnection) {
        self.connection = connection
        connection.handler.delegate = self
        var headers = HTTPHeaders()
        headers.reserveCapacity(5)
        headers.add(name: "host", value: address.authority)
        headers.add(name: "content-type", value: "application/json")
        headers.add(name: "content-length", value: String(prepared.body.count))
        if api == .messages {
            headers.add(name: "anthropic-version", value: anthropicVersion ?? "2023-06-01")
            if let credential = upstream.credential { headers.add(name: "x-api-key", value: credential) }
        } else if let credential = upstream.credential {
            headers.add(name: "authorization", value: "Bearer \(credential)")
        }
        let channel = connection.channel
        let head = HTTPRequestHead(version: .http1_1, method: .POST, uri: address.basePath + "/" + api.rawValue, headers: headers)
        channel.write(HTTPClientRequestPart.head(head), promise: nil)
        channel.write(HTTPClientRequestPart.body(.byteBuffer(channel.allocator.buffer(bytes: prepared.body))), promise: nil)
        let sent = channel.eventLoop.makePromise(of: Void.self)
        channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: sent)
        sent.futureResult.assumeIsolated().whenFailure { error in
            if self.connection?.channel === channel { self.upstreamFailed(error) }
        }
    }

    // MARK: The answer

    func upstreamHead(_ head: HTTPResponseHead) {
        upstreamStatus = Int(head.status.code)
        upstreamContentType = head.headers.first(name: "content-type")
        guard prepared?.streams == true, upstreamStatus < 400 else {
            answer = context.channel.allocator.buffer(capacity: 0)
            return
        }
        streaming = true
        var fields = HTTPFields()
        fields[.contentType] = "text/event-stream"
        fields[.cacheControl] = "no-cache"
        fields[AccessGateway.callIdField] = callId
        context.writeAndFlush(NIOAny(HTTPResponsePart.head(HTTPResponse(status: .ok, headerFields: fields))), promise: nil)
    }

    func upstreamBody(_ buffer: ByteBuffer) {
        if streaming {
            meter.read(streamed: buffer.readableBytesView)
            if route?.recordContent == true, captured.count < 1 << 20 { captured.append(contentsOf: buffer.readableBytesView) }
            context.writeAndFlush(NIOAny(HTTPResponsePart.body(buffer)), promise: nil)
            // A client that reads slowly slows the upstream, not the gateway's memory.
            if !context.channel.isWritable { connection?.channel.setOption(.autoRead, value: false).whenFailure { _ in } }
        } else if (answer?.readableBytes ?? 0) + buffer.readableBytes > Self.maximumAnswer {
            upstreamFailed(AnswerTooLarge())
        } else {
            answer?.writeImmutableBuffer(buffer)
        }
    }

    func upstreamEnd() {
        guard !done, let route, let admission, let prepared else { return }
        deadline?.cancel()
        if let connection {
            self.connection = nil
            if connection.handler.reusable { gateway.upstreams.release(connection) } else { connection.channel.close(promise: nil) }
        }
        if streaming { return endStream(route, admission, prepared) }

        let answer = self.answer ?? ByteBuffer()
        var meter = UsageMeter()
        meter.read(response: Data(answer.readableBytesView))
        let failed = upstreamStatus >= 400
        let tokens = meter.reported ? meter.total : (failed ? 0 : prepared.reservation)
        let content = route.recordContent ? gateway.seal(request: prepared.body, response: Data(answer.readableBytesView), callId: callId) : nil
        if failed {
            // Summarised, never passed on: an endpoint's error may echo the credential it was sent.
            let detail = AccessGateway.summary(ofUpstreamError: answer, credential: route.upstream?.credential)
            let refusal: GatewayRefusal =
                upstreamStatus >= 500 || upstreamStatus == 401 || upstreamStatus == 403 || upstreamStatus == 407
                ? .upstreamFailed(status: upstreamStatus, detail: detail) : .upstreamRefused(status: upstreamStatus, detail: detail)
            gateway.finish(
                route, admission, callId: callId,
                record: record(route, status: refusal.status, tokens: meter, charged: tokens, error: refusal.code, content: content))
            return respond(refusal)
        }
        gateway.finish(route, admission, callId: callId, record: record(route, status: upstreamStatus, tokens: meter, charged: tokens, content: content))
        var fields = HTTPFields()
        fields[.contentType] = upstreamContentType ?? "application/json"
        write(status: upstreamStatus, fields, answer)
    }

    func upstreamFailed(_ error: any Error) {
        guard !done, let route, let admission, let prepared else { return }
        // An endpoint may close a kept-alive connection just as the request goes out on it (its
        // idle timeout): nothing was answered, so the request is sent once more, on a new connection.
        if upstreamStatus == 0, !resent, connection?.reused == true, !(error is UpstreamTimedOut),
            let upstream = route.upstream, let address = upstream.address
        {
            resent = true
            let failed = connection
            connection = nil
            failed?.handler.delegate = nil
            failed?.channel.close(promise: nil)
            return connect(prepared, upstream: upstream, address: address, fresh: true)
        }
        dropConnection()
        let detail = AccessGateway.describe(error)
        if streaming { return endStream(route, admission, prepared, failure: detail) }
        let refusal: GatewayRefusal =
            error is AnswerTooLarge ? .upstreamFailed(status: upstreamStatus, detail: "the answer is larger than \(Self.maximumAnswer >> 20) MiB")
            : upstreamStatus == 0 ? .upstreamUnreachable(detail)
            : .upstreamFailed(status: upstreamStatus, detail: "the answer could not be read")
        gateway.finish(route, admission, callId: callId, record: record(route, status: refusal.status, error: refusal.code))
        respond(refusal)
    }

    /// The grant was revoked or the model closed: an open stream ends with an error event, and
    /// a stream the endpoint has not begun ends with the refusal. A call waiting for a whole
    /// answer is let finish.
    func cut(_ refusal: GatewayRefusal) {
        guard !done, let route, let admission, let prepared, prepared.streams else { return }
        dropConnection()
        if streaming { return endStream(route, admission, prepared, cutBy: refusal) }
        gateway.finish(
            route, admission, callId: callId,
            record: record(route, status: refusal.status, charged: prepared.reservation, streamed: true, error: refusal.code))
        respond(refusal)
    }

    private func endStream(_ route: GatewayRoute, _ admission: GrantLimiter.Admission, _ prepared: GatewayRequest, cutBy: GatewayRefusal? = nil, failure: String? = nil) {
        let tokens = meter.streamCharge(reservation: prepared.reservation)
        let content = route.recordContent ? gateway.seal(request: prepared.body, response: captured, callId: callId) : nil
        gateway.finish(
            route, admission, callId: callId,
            record: record(
                route, status: cutBy?.status ?? (failure == nil ? 200 : 502), tokens: meter, charged: tokens, streamed: true,
                error: cutBy?.code ?? failure.map { "stream_failed: \($0)" }, content: content))
        answeredStatus = 200
        if let cutBy {
            context.write(NIOAny(HTTPResponsePart.body(ByteBuffer(string: AccessGateway.streamError(cutBy, for: api)))), promise: nil)
        }
        context.writeAndFlush(NIOAny(HTTPResponsePart.end(nil)), promise: nil)
        end()
    }

    // MARK: The client

    func clientWritabilityChanged(_ writable: Bool) {
        if writable { connection?.channel.setOption(.autoRead, value: true).whenFailure { _ in } }
    }

    /// The client closed its connection: the upstream call is dropped and charged its
    /// reservation (or a stream's final usage, where that had arrived).
    func clientLeft() {
        guard !done else { return }
        guard let route, let admission, let prepared else {
            done = true
            return
        }
        dropConnection()
        done = true
        gateway.count(api, status: 499, duration: ContinuousClock.now - started)
        let tokens = streaming ? meter.streamCharge(reservation: prepared.reservation) : prepared.reservation
        gateway.finish(
            route, admission, callId: callId,
            record: record(route, status: 499, tokens: meter, charged: tokens, streamed: streaming, error: "client_closed"))
    }

    // MARK: Helpers

    private func dropConnection() {
        deadline?.cancel()
        guard let connection else { return }
        self.connection = nil
        connection.handler.delegate = nil
        connection.channel.close(promise: nil)
    }

    private func record(
        _ route: GatewayRoute, status: Int, tokens: UsageMeter = UsageMeter(), charged: Int64 = 0, streamed: Bool = false, error: String? = nil,
        content: String? = nil
    ) -> GatewayCallRecord {
        GatewayCallRecord(
            callId: callId, at: startedAt, keyId: route.keyId, userId: route.userId, organisationId: route.granteeId,
            grantId: route.grantId, versionId: route.versionId, route: api.route, status: status,
            promptTokens: tokens.promptTokens, completionTokens: tokens.completionTokens, chargedTokens: charged,
            latencyMilliseconds: Int((ContinuousClock.now - started) / .milliseconds(1)), streamed: streamed, error: error,
            sealedContent: content)
    }

    /// Refuses a call that found its route: the refusal is on the record.
    private func refuse(_ refusal: GatewayRefusal) {
        if let route { gateway.recordRefusal(record(route, status: refusal.status, error: refusal.code)) }
        respond(refusal)
    }

    private func respond(_ refusal: GatewayRefusal) {
        let (fields, body) = AccessGateway.errorAnswer(refusal, for: api)
        write(status: refusal.status, fields, body)
    }

    private func write(status: Int, _ fields: HTTPFields, _ body: ByteBuffer) {
        answeredStatus = status
        var fields = fields
        fields[.contentLength] = String(body.readableBytes)
        fields[AccessGateway.callIdField] = callId
        context.write(NIOAny(HTTPResponsePart.head(HTTPResponse(status: .init(code: status), headerFields: fields))), promise: nil)
        context.write(NIOAny(HTTPResponsePart.body(body)), promise: nil)
        context.writeAndFlush(NIOAny(HTTPResponsePart.end(nil)), promise: nil)
        end()
    }

    private func end() {
        done = true
        gateway.count(api, status: answeredStatus, duration: ContinuousClock.now - started)
        if closeAfter { context.close(promise: nil) }
        ended()
    }
}

struct UpstreamTimedOut: Error, CustomStringConvertible {
    var description: String { "no answer in time" }
}

struct AnswerTooLarge: Error {}
