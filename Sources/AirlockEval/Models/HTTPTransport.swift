import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import NIOPosix

/// Sends JSON over one shared HTTP client and turns every failure into a ``ModelCallError``.
struct HTTPTransport: Sendable {
    let client: HTTPClient

    /// The most a response body may hold; a larger one is a malformed response, not an out-of-memory.
    static let maximumBody = 64 << 20

    /// The header in which Airlock's access gateway names the call in its record.
    static let gatewayCallHeader = "airlock-call-id"

    /// The body, and the gateway's id for the call when it went through one.
    func post(url: String, headers: HTTPHeaders, body: Data, timeout: Duration) async throws -> (body: ByteBuffer, gatewayCallID: String?) {
        let response = try await send(url: url, headers: headers, body: body, timeout: timeout)
        do {
            return (try await response.body.collect(upTo: Self.maximumBody), response.headers.first(name: Self.gatewayCallHeader))
        } catch {
            throw Self.classify(error)
        }
    }

    /// Posts and hands each piece of the response body to `onChunk` as it arrives; the
    /// gateway's id for the call, if any.
    func postStreaming(url: String, headers: HTTPHeaders, body: Data, timeout: Duration, onChunk: (ByteBuffer) throws -> Void) async throws -> String? {
        let response = try await send(url: url, headers: headers, body: body, timeout: timeout)
        do {
            for try await chunk in response.body { try onChunk(chunk) }
        } catch let error as ModelCallError {
            throw error
        } catch {
            throw Self.classify(error)
        }
        return response.headers.first(name: Self.gatewayCallHeader)
    }

    private func send(url: String, headers: HTTPHeaders, body: Data, timeout: Duration) async throws -> HTTPClientResponse {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers = headers
        request.headers.replaceOrAdd(name: "content-type", value: "application/json")
        request.body = .bytes(ByteBuffer(data: body))
        let response: HTTPClientResponse
        do {
            response = try await client.execute(request, timeout: .nanoseconds(Int64(timeout.nanoseconds)))
        } catch {
            throw Self.classify(error)
        }
        guard (200..<300).contains(response.status.code) else {
            let text = (try? await response.body.collect(upTo: 1 << 20)).map { String(buffer: $0) } ?? ""
            throw ModelCallError.forStatus(Int(response.status.code), retryAfter: Self.retryAfter(response.headers), body: text)
        }
        return response
    }

    /// Decodes a success's body as `type`. A body that is not JSON at all (cut off by a dropped
    /// connection, or a proxy's page) is a transient failure, retried like a broken connection;
    /// JSON of the wrong shape is the model API's fault.
    static func decode<T: Decodable>(_ type: T.Type, from buffer: ByteBuffer, what: String) throws -> T {
        do {
            return try JSONDecoder().decode(type, from: buffer)
        } catch {
            let excerpt = String(buffer: buffer).prefix(200)
            if (try? JSONSerialization.jsonObject(with: Data(buffer: buffer), options: [.fragmentsAllowed])) == nil {
                throw ModelCallError(.connection, message: "the body of a \(what) is cut off or not JSON (\(buffer.readableBytes) bytes): \(excerpt)")
            }
            throw ModelCallError(.malformedResponse, message: "not a \(what): \(excerpt)")
        }
    }

    /// Seconds to wait from `retry-after-ms` or `Retry-After` (seconds or an HTTP date).
    static func retryAfter(_ headers: HTTPHeaders) -> Double? {
        if let ms = headers.first(name: "retry-after-ms").flatMap(Double.init) { return ms / 1000 }
        guard let value = headers.first(name: "retry-after") else { return nil }
        if let seconds = Double(value.trimmingCharacters(in: .whitespaces)) { return max(0, seconds) }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        return formatter.date(from: value).map { max(0, $0.timeIntervalSinceNow) }
    }

    static func classify(_ error: any Error) -> any Error {
        if error is CancellationError { return error }
        if let error = error as? ModelCallError { return error }
        if let error = error as? HTTPClientError {
            switch error {
            case .deadlineExceeded, .readTimeout, .connectTimeout, .writeTimeout, .getConnectionFromPoolTimeout, .tlsHandshakeTimeout:
                return ModelCallError(.timeout, message: "\(error)")
            case .cancelled:
                return CancellationError()
            case .invalidURL, .emptyHost, .emptyScheme:
                return ModelCallError(.clientError, message: "\(error)")
            default:
                return ModelCallError(.connection, message: "\(error)")
            }
        }
        return ModelCallError(.connection, message: "\(error)")
    }
}

extension Duration {
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }

    var seconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
