/// A strict JSON (RFC 8259) scanner over bytes: the one JSON reader below `JSONDecoder`.
///
/// It checks the grammar, UTF-8 included, and tells where values start and end without building
/// them, so that callers can keep a client's own bytes (a TAXII object as posted, a request body
/// forwarded upstream) instead of a re-encoding that would reorder keys and reformat numbers.
/// It reads from `index` up to `end` and never past them; nesting deeper than ``maximumDepth``
/// is refused so that a hostile body cannot exhaust the stack. Numbers are checked for grammar,
/// not range (`1e400` passes; the reader of a value decides what it can hold). ``JSONObjectMembers`` reads one
/// object's members on top of it.
public struct JSONScanner {
    /// Why bytes are not what the caller asked for, and where.
    public struct Failure: Error, Sendable, Hashable, CustomStringConvertible {
        /// What kind of failure; more may be added.
        public struct Code: Sendable, Hashable, CustomStringConvertible {
            private enum Base: String, Sendable, Hashable { case malformed, tooDeep, escapedKey, notAnObject }
            private let base: Base
            private init(_ base: Base) { self.base = base }

            /// Not JSON: a grammar, escape or UTF-8 error, or data after the value.
            public static let malformed = Code(.malformed)
            /// Valid so far, but nested more than ``JSONScanner/maximumDepth`` deep.
            public static let tooDeep = Code(.tooDeep)
            /// A member name written with an escape where ``JSONObjectMembers/KeySpelling/unescapedOnly`` refuses them.
            public static let escapedKey = Code(.escapedKey)
            /// Valid JSON, but not the object asked for.
            public static let notAnObject = Code(.notAnObject)

            public var description: String { base.rawValue }
        }

        public var code: Code
        public var message: String
        /// The byte offset where scanning stopped.
        public var offset: Int

        public init(_ code: Code, _ message: String, offset: Int) {
            self.code = code
            self.message = message
            self.offset = offset
        }

        public var description: String { "\(message) at byte \(offset)" }
    }

    /// A string's bytes between its quotes, and whether it has escapes to decode.
    public struct StringToken: Sendable, Hashable {
        public var range: Range<Int>
        public var hasEscapes: Bool
    }

    /// Deeper nesting is refused, so a hostile body cannot exhaust the stack.
    public static let maximumDepth = 200

    public let bytes: UnsafeBufferPointer<UInt8>
    public var index: Int
    /// Where the bytes to scan end: `bytes.count`, or the end of a value within them.
    public let end: Int

    public init(_ bytes: UnsafeBufferPointer<UInt8>) {
        self.init(bytes, within: 0..<bytes.count)
    }

    /// A scanner of `range` within `bytes` only.
    public init(_ bytes: UnsafeBufferPointer<UInt8>, within range: Range<Int>) {
        self.bytes = bytes
        self.index = range.lowerBound
        self.end = min(range.upperBound, bytes.count)
    }

    public var atEnd: Bool { index >= end }

    public var peek: UInt8? { index < end ? bytes[index] : nil }

    public mutating func skipWhitespace() {
        while index < end, Self.isWhitespace(bytes[index]) { index += 1 }
    }

    public static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09
    }

    /// A grammar failure at the current position.
    public func failure(_ message: String) -> Failure {
        Failure(.malformed, atEnd ? message + " (the body ends too soon)" : message, offset: index)
    }

    public mutating func expect(_ byte: UInt8, _ what: String) throws(Failure) {
        guard peek == byte else { throw failure("expected \(what)") }
        index += 1
    }

    /// Checks that the bytes hold exactly one JSON value, with whitespace around it allowed.
    public mutating func scanDocument() throws(Failure) {
        skipWhitespace()
        try skipValue(depth: 0)
        try scanToEnd()
    }

    /// Checks that nothing but whitespace is left.
    public mutating func scanToEnd() throws(Failure) {
        skipWhitespace()
        guard atEnd else { throw failure("unexpected data after the JSON value") }
    }

    /// Whether `bytes` hold exactly one JSON value, whitespace around it allowed.
    public static func isValid(_ bytes: some Collection<UInt8>) -> Bool {
        let check = { (buffer: UnsafeBufferPointer<UInt8>) -> Bool in
            var scanner = JSONScanner(buffer)
            return (try? scanner.scanDocument()) != nil
        }
        return bytes.withContiguousStorageIfAvailable(check) ?? Array(bytes).withUnsafeBufferPointer(check)
    }

    /// Skips one value of any kind, checking it; `depth` is how deep it lies.
    public mutating func skipValue(depth: Int) throws(Failure) {
        guard depth <= Self.maximumDepth else {
            throw Failure(.tooDeep, "values are nested more than \(Self.maximumDepth) deep", offset: index)
        }
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
                _ = try scanMemberName()
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

    /// A member's name and the `:` after it, whitespace skipped; the value follows.
    public mutating func scanMemberName() throws(Failure) -> StringToken {
        guard peek == UInt8(ascii: "\"") else { throw failure("expected a member name in quotes") }
        let key = try scanString()
        skipWhitespace()
        try expect(UInt8(ascii: ":"), "':' after a member name")
        skipWhitespace()
        return key
    }

    /// After a member or element: consumes `,` (more follow: `false`) or the closing bracket
    /// (`true`).
    public mutating func endOfList(closing: UInt8, what: String) throws(Failure) -> Bool {
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
    public mutating func scanString() throws(Failure) -> StringToken {
        index += 1
        let start = index
        var hasEscapes = false
        while index < end {
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
            guard position < end else { throw failure("invalid UTF-8") }
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
        guard index + expected.count <= end, bytes[index..<(index + expected.count)].elementsEqual(expected) else {
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
    public func text(_ token: StringToken) -> String {
        Self.text(UnsafeBufferPointer(rebasing: bytes[token.range]), hasEscapes: token.hasEscapes)
    }

    /// The text of a string's bytes between its quotes (already checked), escapes decoded.
    static func text(_ raw: UnsafeBufferPointer<UInt8>, hasEscapes: Bool) -> String {
        guard hasEscapes else { return String(decoding: raw, as: UTF8.self) }
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
                guard let digit = hexValue(raw[at + offset]) else { return nil }
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
    public func compacted(_ range: Range<Int>) -> [UInt8] {
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
