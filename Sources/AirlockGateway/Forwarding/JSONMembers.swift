import Foundation

/// The members of a JSON object, found without decoding their values: each key and where its
/// value's bytes lie. The gateway reads the few fields it needs and edits the body in place,
/// so every other field reaches the upstream byte for byte.
struct JSONMembers {
    struct Member {
        /// The key as written, escapes and all: see ``hasEscapedKey``.
        var key: String
        var value: Range<Int>
    }

    /// Whether any key is written with an escape. The gateway refuses such bodies: `"mod\u0065l"`
    /// would read as `model` upstream but not here.
    var hasEscapedKey: Bool { members.contains { $0.key.utf8.contains(UInt8(ascii: "\\")) } }

    /// The keys written more than once, among `keys`. Parsers differ on which copy wins, so
    /// the gateway refuses them rather than read one and forward the other.
    func duplicates(among keys: Set<String>) -> [String] {
        var seen: Set<String> = []
        var twice: [String] = []
        for member in members where keys.contains(member.key) {
            if !seen.insert(member.key).inserted { twice.append(member.key) }
        }
        return twice
    }

    let bytes: [UInt8]
    /// The object's bytes, from its `{` to its `}`.
    let extent: Range<Int>
    let members: [Member]

    /// Nil unless `bytes` hold one JSON object (whitespace around it allowed).
    init?(_ bytes: [UInt8]) {
        var scanner = Scanner(bytes: bytes)
        scanner.skipSpace()
        guard scanner.peek == UInt8(ascii: "{") else { return nil }
        let open = scanner.index
        guard let members = scanner.object() else { return nil }
        extent = open..<scanner.index
        guard scanner.atEndAfterSpace else { return nil }
        self.bytes = bytes
        self.members = members
    }

    /// The object inside a member's value, when it is one.
    init?(_ bytes: [UInt8], within range: Range<Int>) {
        var scanner = Scanner(bytes: bytes, index: range.lowerBound, end: range.upperBound)
        guard scanner.peek == UInt8(ascii: "{") else { return nil }
        guard let members = scanner.object() else { return nil }
        self.bytes = bytes
        extent = range.lowerBound..<scanner.index
        self.members = members
    }

    func value(_ key: String) -> ArraySlice<UInt8>? {
        members.last { $0.key == key }.map { bytes[$0.value] }
    }

    func object(_ key: String) -> JSONMembers? {
        members.last { $0.key == key }.flatMap { JSONMembers(bytes, within: $0.value) }
    }

    /// A member's value as a whole number, when it is written as one.
    func integer(_ key: String) -> Int64? {
        guard let value = value(key), !value.isEmpty, value.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        return Int64(String(decoding: value, as: UTF8.self))
    }

    /// The object with members replaced (by key) and added, as bytes.
    func rewritten(replacing replacements: [String: [UInt8]]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(extent.count + 64)
        var position = extent.lowerBound
        var missing = replacements
        for member in members where replacements[member.key] != nil {
            out += bytes[position..<member.value.lowerBound]
            out += replacements[member.key]!
            position = member.value.upperBound
            missing[member.key] = nil
        }
        out += bytes[position..<extent.upperBound]
        guard !missing.isEmpty else { return out }
        // New members go first, so that no trailing comma can be left behind.
        var added: [UInt8] = []
        for (key, value) in missing.sorted(by: { $0.key < $1.key }) {
            if !added.isEmpty { added.append(UInt8(ascii: ",")) }
            added += Array("\"\(key)\":".utf8) + value
        }
        if !members.isEmpty { added.append(UInt8(ascii: ",")) }
        out.insert(contentsOf: added, at: 1)
        return out
    }

    private struct Scanner {
        let bytes: [UInt8]
        var index = 0
        var end: Int

        init(bytes: [UInt8], index: Int = 0, end: Int? = nil) {
            self.bytes = bytes
            self.index = index
            self.end = end ?? bytes.count
        }

        var peek: UInt8? { index < end ? bytes[index] : nil }

        var atEndAfterSpace: Bool {
            mutating get {
                skipSpace()
                return index == end
            }
        }

        mutating func skipSpace() {
            while let byte = peek, byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 { index += 1 }
        }

        /// An object, from its `{` to past its `}`.
        mutating func object() -> [Member]? {
            index += 1
            var members: [Member] = []
            skipSpace()
            if peek == UInt8(ascii: "}") {
                index += 1
                return members
            }
            while true {
                skipSpace()
                guard peek == UInt8(ascii: "\""), let keyRange = string() else { return nil }
                skipSpace()
                guard peek == UInt8(ascii: ":") else { return nil }
                index += 1
                skipSpace()
                let start = index
                guard value() else { return nil }
                let key = String(decoding: bytes[(keyRange.lowerBound + 1)..<(keyRange.upperBound - 1)], as: UTF8.self)
                members.append(Member(key: key, value: start..<index))
                skipSpace()
                switch peek {
                case UInt8(ascii: ","): index += 1
                case UInt8(ascii: "}"):
                    index += 1
                    return members
                default: return nil
                }
            }
        }

        /// A string, quotes included.
        mutating func string() -> Range<Int>? {
            let start = index
            index += 1
            while let byte = peek {
                index += 1
                if byte == UInt8(ascii: "\\") {
                    index += 1
                } else if byte == UInt8(ascii: "\"") {
                    return start..<index
                }
            }
            return nil
        }

        /// Any value, skipped over; nested objects and arrays by counting brackets.
        mutating func value() -> Bool {
            guard let byte = peek else { return false }
            switch byte {
            case UInt8(ascii: "\""):
                return string() != nil
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                var depth = 0
                while let next = peek {
                    switch next {
                    case UInt8(ascii: "\""):
                        guard string() != nil else { return false }
                        continue
                    case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
                    case UInt8(ascii: "}"), UInt8(ascii: "]"):
                        depth -= 1
                        if depth == 0 {
                            index += 1
                            return true
                        }
                    default: break
                    }
                    index += 1
                }
                return false
            default:
                let start = index
                while let next = peek, next != UInt8(ascii: ","), next != UInt8(ascii: "}"), next != UInt8(ascii: "]"),
                    next != 0x20, next != 0x0A, next != 0x0D, next != 0x09
                {
                    index += 1
                }
                return index > start
            }
        }
    }
}

/// A string as a JSON string literal.
func jsonStringLiteral(_ text: String) -> [UInt8] {
    var out: [UInt8] = [UInt8(ascii: "\"")]
    for byte in text.utf8 {
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"): out += [UInt8(ascii: "\\"), byte]
        case ..<0x20: out += Array(String(format: "\\u%04x", byte).utf8)
        default: out.append(byte)
        }
    }
    out.append(UInt8(ascii: "\""))
    return out
}
