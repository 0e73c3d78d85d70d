/// A strict JSON (RFC 8259) scanner over bytes: it checks the grammar, UTF-8 included, and tells
/// where values start and end without building them, so that a POST's objects can be stored as the
/// client's own bytes instead of a re-encoding (which would reorder keys and reformat numbers).
struct TAXIIJSONScanner {
    struct Failure: Error {
        var message: String
        var offset: Int
    }

    /// A string's bytes between its quotes, and whether it has escapes to decode.
    struct StringToken {
        var range: Range<Int>
        var hasEscapes: Bool
    }

    /// Deeper nesting is refused, so a hostile body cannot exhaust the stack.
    static let maximumDepth = 200

    let bytes: UnsafeBufferPointer<UInt8>
    var index: Int

    init(_ bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
        self.index = 0
    }

    var atEnd: Bool { index >= bytes.count }

    var peek: UInt8? { index < bytes.count ? bytes[index] : nil }

    mutating func skipWhitespace() {
        while index < bytes.count, Self.isWhitespace(bytes[index]) { index += 1 }
    }

    static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09
    }

    func failure(_ message: String) -> Failure {
        Failure(message: atEnd ? message + " (the body ends too soon)" : message, offset: index)
    }

    mutating func expect(_ byte: UInt8, _ what: String) throws(Failure) {
        guard peek == byte else { throw failure("expected \(what)") }
        index += 1
    }

    /// Skips one value of any kind, checking it.
    mutating func skipValue(depth: Int) throws(Failure) {
        guard depth <= Self.maximumDepth else { throw failure("values are nested more than \(Self.maximumDepth) deep") }
        guard let byte = peek else { throw failure("expected a value") }
        switch byte {
        case UInt8(ascii: "{"):
            index += 1
            skipWhitespace()
            if peek == UInt8(ascii: "}") {
                index += 1
                return
            }
            while true {
                guard peek == UInt8(ascii: "\"") else { throw failure("expected a member name in quotes") }
                _ = try scanString()
                skipWhitespace()
                try expect(UInt8(ascii: ":"), "':' after a member name")
                skipWhitespace()
                try skipValue(depth: depth + 1)
                skipWhitespace()
                if try endOfList(closing: UInt8(ascii: "}"), what: "',' or '}' in an object") { return }
            }
        case UInt8(ascii: "["):
            index += 1
            skipWhitespace()
            if peek == UInt8(ascii: "]") {
                index += 1
                return
            }
            while true {
                try skipValue(depth: depth + 1)
                skipWhitespace()
                if try endOfList(closing: UInt8(ascii: "]"), what: "',' or ']' in an array") { return }
            }
        case UInt8(ascii: "\""):
            _ = try scanString()
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            try skipNumber()
        case UInt8(ascii: "t"):
            try skipLiteral("true")
        case UInt8(ascii: "f"):
            try skipLiteral("false")
        case UInt8(ascii: "n"):
            try skipLiteral("null")
        default:
            throw failure("expected a value")
        }
    }

    /// After a member or element: consumes `,` (more follow: `false`) or the closing bracket
    /// (`true`).
    mutating func endOfList(closing: UInt8, what: String) throws(Failure) -> Bool {
        guard let byte = peek else { throw failure("expected \(what)") }
        if byte == closing {
            index += 1
            return true
        }
        guard byte == UInt8(ascii: ",") else { throw failure("expected \(what)") }
        index += 1
        skipWhitespace()
        return false
    }

    /// Scans a string from its opening quote; checks escapes, control characters and UTF-8.
    mutating func scanString() throws(Failure) -> StringToken {
        index += 1
        let start = index
        var hasEscapes = false
        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "\""):
                let token = StringToken(range: start..<index, hasEscapes: hasEscapes)
                index += 1
                return token
            case UInt8(ascii: "\\"):
                hasEscapes = true
                index += 1
                guard let escape = peek else { break }
                switch escape {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
                    UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                    index += 1
                case UInt8(ascii: "u"):
                    index += 1
                    for _ in 0..<4 {
                        guard let digit = peek, Self.hexValue(digit) != nil else { throw failure("expected four hex digits after \\u") }
                        index += 1
                    }
                default:
                    throw failure("unknown escape in a string")
                }
            case 0x00..<0x20:
                throw failure("control character inside a string")
            case 0x80...0xFF:
                try skipUTF8Sequence()
            default:
                index += 1
            }
        }
        throw failure("unterminated string")
    }

    /// Checks one multi-byte UTF-8 sequence (RFC 3629: no overlong forms, no surrogates).
    private mutating func skipUTF8Sequence() throws(Failure) {
        let lead = bytes[index]
        let continuation: Int
        var secondRange: ClosedRange<UInt8> = 0x80...0xBF
        switch lead {
        case 0xC2...0xDF: continuation = 1
        case 0xE0: continuation = 2; secondRange = 0xA0...0xBF
        case 0xE1...0xEC, 0xEE...0xEF: continuation = 2
        case 0xED: continuation = 2; secondRange = 0x80...0x9F
        case 0xF0: continuation = 3; secondRange = 0x90...0xBF
        case 0xF1...0xF3: continuation = 3
        case 0xF4: continuation = 3; secondRange = 0x80...0x8F
        default: throw failure("invalid UTF-8")
        }
        for offset in 1...continuation {
            let position = index + offset
            guard position < bytes.count else { throw failure("invalid UTF-8") }
            let range = offset == 1 ? secondRange : 0x80...0xBF
            guard range.contains(bytes[position]) else { throw failure("invalid UTF-8") }
        }
        index += continuation + 1
    }

    private mutating func skipNumber() throws(Failure) {
        if peek == UInt8(ascii: "-") { index += 1 }
        guard let first = peek, Self.isDigit(first) else { throw failure("expected a digit") }
        index += 1
        if first != UInt8(ascii: "0") {
            while let byte = peek, Self.isDigit(byte) { index += 1 }
        }
        if peek == UInt8(ascii: ".") {
            index += 1
            guard let byte = peek, Self.isDigit(byte) else { throw failure("expected a digit after '.'") }
            while let byte = peek, Self.isDigit(byte) { index += 1 }
        }
        if peek == UInt8(ascii: "e") || peek == UInt8(ascii: "E") {
            index += 1
            if peek == UInt8(ascii: "+") || peek == UInt8(ascii: "-") { index += 1 }
            guard let byte = peek, Self.isDigit(byte) else { throw failure("expected a digit in an exponent") }
            while let byte = peek, Self.isDigit(byte) { index += 1 }
        }
    }

    private mutating func skipLiteral(_ literal: StaticString) throws(Failure) {
        let expected = UnsafeBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount)
        guard index + expected.count <= bytes.count, bytes[index..<(index + expected.count)].elementsEqual(expected) else {
            throw failure("expected a value")
        }
        index += expected.count
    }

    private static func isDigit(_ byte: UInt8) -> Bool {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
    }

    private static func hexValue(_ byte: UInt8) -> UInt32? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): UInt32(byte - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): UInt32(byte - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): UInt32(byte - UInt8(ascii: "A") + 10)
        default: nil
        }
    }

    /// The text of a scanned string, escapes decoded (a lone surrogate becomes U+FFFD).
    func text(_ token: StringToken) -> String {
        let raw = UnsafeBufferPointer(rebasing: bytes[token.range])
        guard token.hasEscapes else { return String(decoding: raw, as: UTF8.self) }
        var scalars = String.UnicodeScalarView()
        var utf8: [UInt8] = []
        var position = 0
        func flush() {
            if !utf8.isEmpty {
                scalars.append(contentsOf: String(decoding: utf8, as: UTF8.self).unicodeScalars)
                utf8.removeAll(keepingCapacity: true)
            }
        }
        func hex4(_ at: Int) -> UInt32? {
            guard at + 4 <= raw.count else { return nil }
            var value: UInt32 = 0
            for offset in 0..<4 {
                guard let digit = Self.hexValue(raw[at + offset]) else { return nil }
                value = value << 4 | digit
            }
            return value
        }
        while position < raw.count {
            let byte = raw[position]
            guard byte == UInt8(ascii: "\\"), position + 1 < raw.count else {
                utf8.append(byte)
                position += 1
                continue
            }
            let escape = raw[position + 1]
            position += 2
            switch escape {
            case UInt8(ascii: "b"): utf8.append(0x08)
            case UInt8(ascii: "f"): utf8.append(0x0C)
            case UInt8(ascii: "n"): utf8.append(0x0A)
            case UInt8(ascii: "r"): utf8.append(0x0D)
            case UInt8(ascii: "t"): utf8.append(0x09)
            case UInt8(ascii: "u"):
                guard let unit = hex4(position) else { break }
                position += 4
                var scalar = Unicode.Scalar(unit)
                if (0xD800...0xDBFF).contains(unit), position + 6 <= raw.count, raw[position] == UInt8(ascii: "\\"),
                   raw[position + 1] == UInt8(ascii: "u"), let low = hex4(position + 2), (0xDC00...0xDFFF).contains(low) {
                    scalar = Unicode.Scalar(0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00))
                    position += 6
                }
                flush()
                scalars.append(scalar ?? "\u{FFFD}")
            default: utf8.append(escape)
            }
        }
        flush()
        return String(scalars)
    }

    /// A value's bytes with the whitespace between tokens removed.
    func compacted(_ range: Range<Int>) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(range.count)
        var inString = false
        var escaped = false
        for position in range {
            let byte = bytes[position]
            if inString {
                out.append(byte)
                if escaped {
                    escaped = false
                } else if byte == UInt8(ascii: "\\") {
                    escaped = true
                } else if byte == UInt8(ascii: "\"") {
                    inString = false
                }
            } else if !Self.isWhitespace(byte) {
                out.append(byte)
                if byte == UInt8(ascii: "\"") { inString = true }
            }
        }
        return out
    }
}
