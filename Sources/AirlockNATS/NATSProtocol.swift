import Foundation
import NIOCore

/// The headers of a message (`NATS/1.0` block): ordered fields, names compared without case
/// when read, and the status line a server puts on its own messages (503 no responders, 404
/// no messages, 408 request timeout, 100 idle heartbeat).
public struct NATSHeaders: Sendable, Hashable {
    public struct Field: Sendable, Hashable {
        public var name: String
        public var value: String
    }

    public private(set) var fields: [Field] = []
    public var status: Int?
    public var statusDescription: String?

    public init() {}

    public init(_ pairs: KeyValuePairs<String, String>) {
        for (name, value) in pairs { fields.append(Field(name: name, value: value)) }
    }

    /// The first value of `name`.
    public subscript(name: String) -> String? {
        fields.first { $0.name.caseInsensitiveCompare(name) == .orderedSame }?.value
    }

    public mutating func append(_ name: String, _ value: String) {
        fields.append(Field(name: name, value: value))
    }

    /// The block as sent, checked: a name is a token without a colon, and neither holds CR or LF.
    func encoded() throws -> [UInt8] {
        var text = "NATS/1.0\r\n"
        for field in fields {
            guard !field.name.isEmpty, !field.name.utf8.contains(where: { $0 <= 0x20 || $0 == 0x3A || $0 == 0x7F }),
                  !field.value.utf8.contains(where: { $0 == 0x0D || $0 == 0x0A }) else {
                throw NATSError(.badHeader, "header \(field.name.debugDescription) cannot be sent")
            }
            text += "\(field.name): \(field.value)\r\n"
        }
        return Array((text + "\r\n").utf8)
    }

    /// Reads a block as received.
    static func parse(_ bytes: ByteBufferView) throws -> NATSHeaders {
        let text = String(decoding: bytes, as: UTF8.self)
        var lines = text.components(separatedBy: "\r\n")
        guard let first = lines.first, first.hasPrefix("NATS/1.0") else {
            throw NATSError(.protocolViolation, "a header block that does not start with NATS/1.0")
        }
        lines.removeFirst()
        var headers = NATSHeaders()
        let statusLine = first.dropFirst("NATS/1.0".count).trimmingCharacters(in: .whitespaces)
        if !statusLine.isEmpty {
            let parts = statusLine.split(separator: " ", maxSplits: 1)
            guard let code = Int(parts[0]), (100...999).contains(code) else {
                throw NATSError(.protocolViolation, "a header status that is not a number: \(statusLine.prefix(40))")
            }
            headers.status = code
            headers.statusDescription = parts.count > 1 ? String(parts[1]) : nil
        }
        for line in lines where !line.isEmpty {
            guard let colon = line.firstIndex(of: ":"), colon != line.startIndex else {
                throw NATSError(.protocolViolation, "a header line without a name: \(line.prefix(40))")
            }
            headers.append(String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
        }
        return headers
    }
}

/// A message as delivered (`MSG` or `HMSG`).
public struct NATSMessage: Sendable, Hashable {
    public var subject: String
    /// The subscription it was delivered to.
    public var sid: UInt64
    public var replyTo: String?
    public var headers: NATSHeaders?
    public var payload: ByteBuffer

    public init(subject: String, sid: UInt64, replyTo: String? = nil, headers: NATSHeaders? = nil, payload: ByteBuffer) {
        self.subject = subject
        self.sid = sid
        self.replyTo = replyTo
        self.headers = headers
        self.payload = payload
    }

    /// The payload's bytes.
    public var data: Data { Data(payload.readableBytesView) }
}

/// What the server says in `INFO`: the parts a client needs.
public struct ServerInfo: Sendable, Hashable, Decodable {
    public var serverID: String
    public var version: String
    public var maxPayload: Int
    public var headers: Bool
    public var authRequired: Bool
    /// Other servers of the cluster, as `host:port`.
    public var connectURLs: [String]
    public var jetStream: Bool
    /// The server is shutting down (lame duck mode): move to another.
    public var lameDuckMode: Bool

    enum CodingKeys: String, CodingKey {
        case serverID = "server_id", version, maxPayload = "max_payload", headers
        case authRequired = "auth_required", connectURLs = "connect_urls", jetStream = "jetstream", lameDuckMode = "ldm"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        serverID = try container.decodeIfPresent(String.self, forKey: .serverID) ?? ""
        version = try container.decodeIfPresent(String.self, forKey: .version) ?? ""
        maxPayload = try container.decodeIfPresent(Int.self, forKey: .maxPayload) ?? 1 << 20
        headers = try container.decodeIfPresent(Bool.self, forKey: .headers) ?? false
        authRequired = try container.decodeIfPresent(Bool.self, forKey: .authRequired) ?? false
        connectURLs = try container.decodeIfPresent([String].self, forKey: .connectURLs) ?? []
        jetStream = try container.decodeIfPresent(Bool.self, forKey: .jetStream) ?? false
        lameDuckMode = try container.decodeIfPresent(Bool.self, forKey: .lameDuckMode) ?? false
    }
}

/// One thing the server sends.
public enum ServerOperation: Sendable, Hashable {
    case info(ServerInfo)
    case message(NATSMessage)
    case ping
    case pong
    case ok
    case error(String)
}

/// Reads the server's side of the protocol from bytes, a frame at a time; pure, so that it is
/// tested and fuzzed without a socket. A frame is taken only when all of it is there; anything
/// that is not the protocol, or past the limits, is an error (the connection is then dropped).
public struct ServerOperationParser: Sendable {
    /// The longest control line (`INFO` with a large cluster's URLs included).
    public var maxControlLine = 64 << 10
    /// The largest message accepted from the server.
    public var maxPayload = 64 << 20

    public init() {}

    /// The next operation, or nil when more bytes are needed; consumes only what it returns.
    public func next(_ buffer: inout ByteBuffer) throws -> ServerOperation? {
        let view = buffer.readableBytesView
        guard let end = view.firstIndex(of: UInt8(ascii: "\n")) else {
            if view.count > maxControlLine { throw NATSError(.protocolViolation, "a control line longer than \(maxControlLine) bytes") }
            return nil
        }
        let lineLength = end - view.startIndex
        guard lineLength <= maxControlLine, lineLength >= 1, view[end - 1] == UInt8(ascii: "\r") else {
            throw NATSError(.protocolViolation, lineLength > maxControlLine ? "a control line longer than \(maxControlLine) bytes" : "a control line not ended by CRLF")
        }
        let line = view[view.startIndex..<(end - 1)]
        let frameStart = lineLength + 1
        // The operation name, case-insensitive, up to the first space or tab.
        let nameEnd = line.firstIndex { $0 == 0x20 || $0 == 0x09 } ?? line.endIndex
        let name = String(decoding: line[line.startIndex..<nameEnd], as: UTF8.self).uppercased()
        let rest = line[nameEnd...]
        switch name {
        case "PING", "PONG", "+OK":
            guard rest.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) else { throw NATSError(.protocolViolation, "\(name) with arguments") }
            buffer.moveReaderIndex(forwardBy: frameStart)
            return name == "PING" ? .ping : name == "PONG" ? .pong : .ok
        case "-ERR":
            var text = String(decoding: rest, as: UTF8.self).trimmingCharacters(in: .whitespaces)
            if text.count >= 2, text.hasPrefix("'"), text.hasSuffix("'") { text = String(text.dropFirst().dropLast()) }
            buffer.moveReaderIndex(forwardBy: frameStart)
            return .error(text)
        case "INFO":
            let info: ServerInfo
            do {
                info = try JSONDecoder().decode(ServerInfo.self, from: Data(rest))
            } catch {
                throw NATSError(.protocolViolation, "INFO is not the expected JSON: \(error)")
            }
            buffer.moveReaderIndex(forwardBy: frameStart)
            return .info(info)
        case "MSG", "HMSG":
            let arguments = rest.split(whereSeparator: { $0 == 0x20 || $0 == 0x09 }).map { String(decoding: $0, as: UTF8.self) }
            let withHeaders = name == "HMSG"
            let sizes = withHeaders ? 2 : 1
            guard arguments.count == 2 + sizes || arguments.count == 3 + sizes else {
                throw NATSError(.protocolViolation, "\(name) with \(arguments.count) arguments")
            }
            guard let sid = UInt64(arguments[1]) else { throw NATSError(.protocolViolation, "\(name) with a subscription id that is not a number") }
            let numbers = try arguments.suffix(sizes).map { text -> Int in
                guard text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), text.utf8.count <= 10, let value = Int(text), value <= maxPayload else {
                    throw NATSError(.protocolViolation, "\(name) with a size that is not a number up to \(maxPayload): \(text.prefix(20))")
                }
                return value
            }
            let total = numbers.last!
            let headerLength = withHeaders ? numbers[0] : 0
            guard headerLength <= total else { throw NATSError(.protocolViolation, "HMSG whose headers are longer than the message") }
            guard view.count >= frameStart + total + 2 else { return nil }
            let payloadStart = view.startIndex + frameStart
            guard view[payloadStart + total] == UInt8(ascii: "\r"), view[payloadStart + total + 1] == UInt8(ascii: "\n") else {
                throw NATSError(.protocolViolation, "\(name) payload not followed by CRLF")
            }
            let headers = withHeaders ? try NATSHeaders.parse(view[payloadStart..<(payloadStart + headerLength)]) : nil
            let payload = buffer.getSlice(at: buffer.readerIndex + frameStart + headerLength, length: total - headerLength)!
            let message = NATSMessage(subject: arguments[0], sid: sid, replyTo: arguments.count == 3 + sizes ? arguments[2] : nil, headers: headers, payload: payload)
            buffer.moveReaderIndex(forwardBy: frameStart + total + 2)
            return .message(message)
        default:
            throw NATSError(.protocolViolation, "unknown operation \(name.prefix(20).debugDescription)")
        }
    }
}

/// What a client sends, written as the protocol says.
enum ClientCommand {
    case connect(ConnectOptions)
    case publish(subject: String, replyTo: String?, headers: NATSHeaders?, payload: ByteBuffer)
    case subscribe(subject: String, queue: String?, sid: UInt64)
    case unsubscribe(sid: UInt64, max: Int?)
    case ping
    case pong

    func write(into buffer: inout ByteBuffer) throws {
        switch self {
        case .connect(let options):
            buffer.writeString("CONNECT ")
            buffer.writeBytes(try JSONEncoder().encode(options))
            buffer.writeString("\r\n")
        case .publish(let subject, let replyTo, let headers, let payload):
            let reply = replyTo.map { " " + $0 } ?? ""
            if let headers {
                let block = try headers.encoded()
                buffer.writeString("HPUB \(subject)\(reply) \(block.count) \(block.count + payload.readableBytes)\r\n")
                buffer.writeBytes(block)
            } else {
                buffer.writeString("PUB \(subject)\(reply) \(payload.readableBytes)\r\n")
            }
            buffer.writeImmutableBuffer(payload)
            buffer.writeString("\r\n")
        case .subscribe(let subject, let queue, let sid):
            buffer.writeString("SUB \(subject)\(queue.map { " " + $0 } ?? "") \(sid)\r\n")
        case .unsubscribe(let sid, let max):
            buffer.writeString("UNSUB \(sid)\(max.map { " \($0)" } ?? "")\r\n")
        case .ping:
            buffer.writeString("PING\r\n")
        case .pong:
            buffer.writeString("PONG\r\n")
        }
    }
}

/// The `CONNECT` options Airlock sends; credentials are secrets and never logged.
struct ConnectOptions: Encodable {
    var verbose = false
    var pedantic = false
    var name: String
    var lang = "swift"
    var version = "airlock"
    var `protocol` = 1
    var headers = true
    var noResponders = true
    var user: String?
    var pass: String?
    var authToken: String?

    enum CodingKeys: String, CodingKey {
        case verbose, pedantic, name, lang, version, `protocol`, headers, user, pass
        case noResponders = "no_responders"
        case authToken = "auth_token"
    }
}

/// Subject rules: tokens separated by dots, none empty, no whitespace or control bytes; `*`
/// and a final `>` only where a subscription allows wildcards.
public enum NATSSubject {
    public static func check(_ subject: String, wildcards: Bool) throws {
        let tokens = subject.split(separator: ".", omittingEmptySubsequences: false)
        guard !subject.isEmpty, subject.utf8.count <= 4096, !subject.utf8.contains(where: { $0 <= 0x20 || $0 == 0x7F }), !tokens.contains(where: \.isEmpty) else {
            throw NATSError(.badSubject, "not a subject: \(subject.prefix(80).debugDescription)")
        }
        for (index, token) in tokens.enumerated() where token == "*" || token == ">" || token.contains("*") || token.contains(">") {
            guard wildcards, token == "*" || (token == ">" && index == tokens.count - 1) else {
                throw NATSError(.badSubject, "a wildcard where none may be: \(subject.prefix(80).debugDescription)")
            }
        }
    }
}
