import AirlockCore
import AirlockStore
import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import NIOHTTP1

extension AccessGateway {
    /// Adds the gateway's OpenAI- and Anthropic-style routes under `/v1`.
    public func addRoutes<Context: RequestContext>(to router: Router<Context>) {
        let v1 = router.group("v1")
        for api in GatewayAPI.allCases {
            v1.post(RouterPath(stringLiteral: api.rawValue)) { request, context in try await self.call(api, request, context) }
        }
        v1.get("models") { request, _ in try await self.models(request) }
    }

    /// `GET /v1/models`: the one model a grant key reaches.
    func models(_ request: Request) async throws -> Response {
        guard let secret = Self.secret(from: request) else { return Self.error(.missingKey, for: .chatCompletions) }
        guard let route = try await route(forSecret: secret) else { return Self.error(.unknownKey, for: .chatCompletions) }
        if let refusal = route.refusal(at: now()) { return Self.error(refusal, for: .chatCompletions) }
        let body: [String: Any] = [
            "object": "list",
            "data": [["id": route.modelName, "object": "model", "created": Int(route.startsAt.timeIntervalSince1970), "owned_by": route.versionId]],
        ]
        return Self.json(body, status: .ok)
    }

    /// One call: key, grant, limits, forward, charge, record.
    func call(_ api: GatewayAPI, _ request: Request, _ context: some RequestContext) async throws -> Response {
        let started = ContinuousClock.now
        let startedAt = now()
        let callId = Identifier.make("cal", at: startedAt)
        guard let secret = Self.secret(from: request) else { return Self.error(.missingKey, for: api) }
        guard let route = try await route(forSecret: secret) else { return Self.error(.unknownKey, for: api) }

        @Sendable func record(
            status: Int, tokens: UsageMeter = UsageMeter(), charged: Int64 = 0, streamed: Bool = false, error: String? = nil,
            content: String? = nil
        ) -> GatewayCallRecord {
            GatewayCallRecord(
                callId: callId, at: startedAt, keyId: route.keyId, userId: route.userId, organisationId: route.granteeId,
                grantId: route.grantId, versionId: route.versionId, route: "/v1/\(api.rawValue)", status: status,
                promptTokens: tokens.promptTokens, completionTokens: tokens.completionTokens, chargedTokens: charged,
                latencyMilliseconds: Int((ContinuousClock.now - started) / .milliseconds(1)), streamed: streamed, error: error,
                sealedContent: content)
        }
        func refuse(_ refusal: GatewayRefusal) -> Response {
            recordRefusal(record(status: refusal.status, error: refusal.code))
            return Self.error(refusal, for: api)
        }

        if let refusal = route.refusal(at: now()) { return refuse(refusal) }
        guard let upstream = route.upstream else { return refuse(.noEndpoint) }
        var request = request
        let body = try await request.collectBody(upTo: 16 << 20)
        let prepared: GatewayRequest
        do {
            prepared = try GatewayRequest(api: api, body: Data(body.readableBytesView), upstreamModel: upstream.model)
        } catch .notJSON {
            return refuse(.badRequest("the body is not a JSON object"))
        } catch .badField(let field, let reason) {
            return refuse(.badRequest("\(field) \(reason)"))
        }
        let admission: GrantLimiter.Admission
        switch admit(route, reserve: prepared.reservation) {
        case .failure(let refusal): return refuse(.limited(refusal))
        case .success(let admitted): admission = admitted
        }
        let cut = CallCut()
        open(cut, callId: callId, grantId: route.grantId)

        var outbound = HTTPClientRequest(url: Self.join(upstream.baseURL, api.rawValue))
        outbound.method = .POST
        outbound.headers.add(name: "content-type", value: "application/json")
        if api == .messages {
            outbound.headers.add(name: "anthropic-version", value: request.headers[HTTPField.Name("anthropic-version")!] ?? "2023-06-01")
            if let credential = upstream.credential { outbound.headers.add(name: "x-api-key", value: credential) }
        } else if let credential = upstream.credential {
            outbound.headers.add(name: "authorization", value: "Bearer \(credential)")
        }
        outbound.body = .bytes(ByteBuffer(bytes: prepared.body))

        let response: HTTPClientResponse
        do {
            // The client's own request logging would cost every call; the call's record is ours.
            response = try await http.execute(
                outbound, timeout: .seconds(Int64(configuration.upstreamTimeout.components.seconds)), logger: Self.quiet)
        } catch {
            let refusal = GatewayRefusal.upstreamUnreachable(Self.describe(error))
            cut.release()
            finish(route, admission, callId: callId, record: record(status: refusal.status, error: refusal.code))
            return Self.error(refusal, for: api)
        }

        if !prepared.streams || response.status.code >= 400 {
            var meter = UsageMeter()
            let answer: ByteBuffer
            do {
                answer = try await response.body.collect(upTo: 64 << 20)
            } catch {
                let refusal = GatewayRefusal.upstreamFailed(status: Int(response.status.code), detail: "the answer could not be read")
                cut.release()
                finish(route, admission, callId: callId, record: record(status: refusal.status, error: refusal.code))
                return Self.error(refusal, for: api)
            }
            meter.read(response: Data(answer.readableBytesView))
            let failed = response.status.code >= 400
            let tokens = meter.reported ? meter.total : (failed ? 0 : prepared.reservation)
            let content = route.recordContent ? seal(request: prepared.body, response: Data(answer.readableBytesView), callId: callId) : nil
            cut.release()
            if response.status.code >= 500 {
                let refusal = GatewayRefusal.upstreamFailed(status: Int(response.status.code), detail: Self.snippet(answer))
                finish(
                    route, admission, callId: callId,
                    record: record(status: refusal.status, tokens: meter, charged: tokens, error: refusal.code, content: content))
                return Self.error(refusal, for: api)
            }
            finish(
                route, admission, callId: callId,
                record: record(status: Int(response.status.code), tokens: meter, charged: tokens, content: content))
            var headers: HTTPFields = [.contentType: response.headers.first(name: "content-type") ?? "application/json"]
            if failed { headers[HTTPField.Name("x-airlock-upstream-status")!] = "\(response.status.code)" }
            return Response(status: .init(code: Int(response.status.code)), headers: headers, body: .init(byteBuffer: answer))
        }

        // A stream: each piece is passed on as it arrives, and the call ends early if its grant
        // is revoked or its model closed meanwhile.
        let headers: HTTPFields = [.contentType: "text/event-stream", .cacheControl: "no-cache"]
        return Response(status: .ok, headers: headers, body: ResponseBody { writer in
            var meter = UsageMeter()
            var captured = Data()
            var cutBy: GatewayRefusal?
            var failure: String?
            let (pieces, continuation) = AsyncThrowingStream<ByteBuffer, any Error>.makeStream()
            do {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask {
                        do {
                            for try await piece in response.body { continuation.yield(piece) }
                            continuation.finish()
                        } catch {
                            continuation.finish(throwing: error)
                        }
                    }
                    group.addTask {
                        if let refusal = await cut.wait() { continuation.finish(throwing: refusal) }
                    }
                    defer { group.cancelAll() }
                    for try await piece in pieces {
                        meter.read(streamed: piece.readableBytesView)
                        if route.recordContent, captured.count < 1 << 20 { captured.append(contentsOf: piece.readableBytesView) }
                        try await writer.write(piece)
                    }
                    cut.release()
                }
            } catch let refusal as GatewayRefusal {
                cutBy = refusal
                try? await writer.write(ByteBuffer(string: Self.streamError(refusal, for: api)))
            } catch {
                failure = Self.describe(error)
            }
            cut.release()
            let tokens = meter.reported ? meter.total : prepared.reservation
            let content = route.recordContent ? self.seal(request: prepared.body, response: captured, callId: callId) : nil
            self.finish(
                route, admission, callId: callId,
                record: record(status: cutBy?.status ?? (failure == nil ? 200 : 502), tokens: meter, charged: tokens, streamed: true,
                    error: cutBy?.code ?? failure.map { "stream_failed: \($0)" }, content: content))
            try await writer.finish(nil)
        })
    }

    // MARK: Helpers

    static let quiet = Logger(label: "airlock.gateway.upstream") { _ in SwiftLogNoOpLogHandler() }

    /// The grant key: `Authorization: Bearer KEY` (OpenAI clients) or `x-api-key: KEY` (Anthropic's).
    static func secret(from request: Request) -> String? {
        if let header = request.headers[.authorization], header.utf8.count > 7,
            header.utf8.prefix(7).lazy.map({ $0 | 0x20 }).elementsEqual("bearer ".utf8)
        {
            let token = header.utf8.dropFirst(7).drop { $0 == UInt8(ascii: " ") }
            return token.isEmpty ? nil : String(decoding: token, as: UTF8.self)
        }
        if let key = request.headers[HTTPField.Name("x-api-key")!], !key.isEmpty { return key }
        return nil
    }

    static func join(_ base: String, _ path: String) -> String {
        (base.hasSuffix("/") ? String(base.dropLast()) : base) + "/" + path
    }

    func seal(request: Data, response: Data, callId: String) -> String? {
        let content: [String: String] = [
            "request": String(decoding: request, as: UTF8.self), "response": String(decoding: response, as: UTF8.self),
        ]
        guard let sealer = store.sealer, let data = try? JSONSerialization.data(withJSONObject: content, options: [.sortedKeys]) else {
            return nil
        }
        return try? sealer.seal(String(decoding: data, as: UTF8.self), context: callId)
    }

    static func describe(_ error: any Error) -> String {
        if let error = error as? HTTPClientError {
            return switch error {
            case .connectTimeout: "connection timed out"
            case .deadlineExceeded, .readTimeout: "no answer in time"
            case .remoteConnectionClosed: "the connection was closed"
            default: "\(error)"
            }
        }
        return (error as? any CustomStringConvertible)?.description ?? "\(type(of: error))"
    }

    static func snippet(_ buffer: ByteBuffer) -> String {
        let text = String(decoding: buffer.readableBytesView.prefix(300), as: UTF8.self)
        return text.isEmpty ? "(no body)" : text
    }

    static func errorType(_ refusal: GatewayRefusal) -> String {
        switch refusal.status {
        case 400: "invalid_request_error"
        case 401: "authentication_error"
        case 403: "permission_error"
        case 429: "rate_limit_error"
        default: "api_error"
        }
    }

    static func errorBody(_ refusal: GatewayRefusal, for api: GatewayAPI) -> [String: Any] {
        if api.isAnthropic {
            return ["type": "error", "error": ["type": errorType(refusal), "message": refusal.message, "code": refusal.code]]
        }
        return ["error": ["message": refusal.message, "type": errorType(refusal), "code": refusal.code, "param": NSNull()]]
    }

    static func error(_ refusal: GatewayRefusal, for api: GatewayAPI) -> Response {
        var response = json(errorBody(refusal, for: api), status: .init(code: refusal.status))
        if let retryAfter = refusal.retryAfter { response.headers[.retryAfter] = "\(retryAfter)" }
        if refusal.status == 401 { response.headers[.wwwAuthenticate] = "Bearer" }
        return response
    }

    /// The event that ends a cut stream, in the stream's own dialect.
    static func streamError(_ refusal: GatewayRefusal, for api: GatewayAPI) -> String {
        let data = (try? JSONSerialization.data(withJSONObject: errorBody(refusal, for: api), options: [.sortedKeys])) ?? Data()
        return (api.isAnthropic ? "event: error\n" : "") + "data: " + String(decoding: data, as: UTF8.self) + "\n\n"
    }

    static func json(_ object: [String: Any], status: HTTPResponse.Status) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
        return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
