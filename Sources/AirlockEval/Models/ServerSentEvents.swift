/// One event of a `text/event-stream`.
public struct ServerSentEvent: Sendable, Hashable {
    public var event: String?
    public var data: String
}

/// Splits a `text/event-stream` into events as bytes arrive, whatever the chunk boundaries.
public struct ServerSentEventParser: Sendable {
    private var buffer: [UInt8] = []
    private var event: String?
    private var data: [String] = []

    public init() {}

    public mutating func feed(_ bytes: some Sequence<UInt8>) -> [ServerSentEvent] {
        buffer.append(contentsOf: bytes)
        var events: [ServerSentEvent] = []
        var start = 0
        var index = 0
        while index < buffer.count {
            let byte = buffer[index]
            if byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r") {
                let line = String(decoding: buffer[start..<index], as: UTF8.self)
                // A CRLF pair ends one line, not two.
                if byte == UInt8(ascii: "\r") {
                    if index + 1 == buffer.count { break }
                    if buffer[index + 1] == UInt8(ascii: "\n") { index += 1 }
                }
                if let complete = take(line) { events.append(complete) }
                start = index + 1
            }
            index += 1
        }
        buffer.removeFirst(start)
        return events
    }

    private mutating func take(_ line: String) -> ServerSentEvent? {
        if line.isEmpty {
            defer { event = nil; data = [] }
            return data.isEmpty ? nil : ServerSentEvent(event: event, data: data.joined(separator: "\n"))
        }
        if line.hasPrefix(":") { return nil }
        let field: Substring
        var value: Substring
        if let colon = line.firstIndex(of: ":") {
            field = line[..<colon]
            value = line[line.index(after: colon)...]
            if value.hasPrefix(" ") { value = value.dropFirst() }
        } else {
            field = Substring(line)
            value = ""
        }
        switch field {
        case "event": event = String(value)
        case "data": data.append(String(value))
        default: break
        }
        return nil
    }
}
