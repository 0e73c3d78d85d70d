/// The members of one JSON object, found by ``JSONScanner`` without decoding their values: each
/// key and where its value's bytes lie. A reader takes the few fields it needs and can edit the
/// object in place (``rewritten(replacing:)``), so every other member stays byte for byte.
///
/// The whole object is checked as strict JSON either way; how its member names are read is the
/// caller's explicit choice (``KeySpelling``), because the right answer depends on who else reads
/// the same bytes.
public struct JSONObjectMembers: Sendable {
    /// How member names written with escapes (`"mod\u0065l"`) are read.
    public enum KeySpelling: Sendable, Hashable {
        /// Escapes decoded, as every JSON parser reads them: `"object_marking_ref\u0073"` is
        /// `object_marking_refs`. For documents whose keys decide what is done with them (a
        /// TAXII object's markings), where skipping an escaped key would misread it.
        case decoded
        /// A name with an escape is refused (``JSONScanner/Failure/Code/escapedKey``). For bytes
        /// that are read here and forwarded to another parser (the gateway's request bodies):
        /// refusing them leaves no room for the two to read a key differently.
        case unescapedOnly
    }

    public struct Member: Sendable, Hashable {
        /// The name, escapes decoded.
        public var key: String
        /// The value's bytes within ``JSONObjectMembers/bytes``.
        public var value: Range<Int>
    }

    public let bytes: [UInt8]
    /// The object's bytes, from its `{` to its `}`.
    public let extent: Range<Int>
    public let members: [Member]

    /// The object that `bytes` hold, whitespace around it allowed.
    public init(_ bytes: [UInt8], keys: KeySpelling) throws(JSONScanner.Failure) {
        let found = try bytes.withUnsafeBufferPointer { (buffer) throws(JSONScanner.Failure) in
            var scanner = JSONScanner(buffer)
            scanner.skipWhitespace()
            let open = scanner.index
            guard scanner.peek == UInt8(ascii: "{") else {
                try scanner.scanDocument()
                throw JSONScanner.Failure(.notAnObject, "expected an object", offset: open)
            }
            let (members, escapedAt) = try Self.scanObject(&scanner, keys: keys)
            let extent = open..<scanner.index
            try scanner.scanToEnd()
            try Self.refuse(escapedAt)
            return (members, extent)
        }
        self.bytes = bytes
        (members, extent) = found
    }

    /// The object whose bytes are `range` within `bytes` (a member's value).
    public init(_ bytes: [UInt8], within range: Range<Int>, keys: KeySpelling) throws(JSONScanner.Failure) {
        let members = try bytes.withUnsafeBufferPointer { (buffer) throws(JSONScanner.Failure) in
            var scanner = JSONScanner(buffer, within: range)
            guard scanner.peek == UInt8(ascii: "{") else {
                throw JSONScanner.Failure(.notAnObject, "expected an object", offset: range.lowerBound)
            }
            let (members, escapedAt) = try Self.scanObject(&scanner, keys: keys)
            try scanner.scanToEnd()
            try Self.refuse(escapedAt)
            return members
        }
        self.bytes = bytes
        self.extent = range
        self.members = members
    }

    /// Scans an object from its `{` to past its `}`, with where the first name written with an
    /// escape lies when `keys` refuses them: the caller reports it only once all the bytes have
    /// been checked, so that bytes that are not JSON at all are always `malformed`.
    private static func scanObject(
        _ scanner: inout JSONScanner, keys: KeySpelling
    ) throws(JSONScanner.Failure) -> (members: [Member], escapedAt: Int?) {
        scanner.index += 1
        scanner.skipWhitespace()
        var members: [Member] = []
        if scanner.peek == UInt8(ascii: "}") {
            scanner.index += 1
            return (members, nil)
        }
        var escapedAt: Int?
        while true {
            let key = try scanner.scanMemberName()
            if key.hasEscapes, keys == .unescapedOnly { escapedAt = escapedAt ?? key.range.lowerBound }
            let start = scanner.index
            try scanner.skipValue(depth: 1)
            members.append(Member(key: scanner.text(key), value: start..<scanner.index))
            scanner.skipWhitespace()
            if try scanner.endOfList(closing: UInt8(ascii: "}"), what: "',' or '}' in an object") { break }
        }
        return (members, escapedAt)
    }

    private static func refuse(_ escapedAt: Int?) throws(JSONScanner.Failure) {
        if let escapedAt {
            throw JSONScanner.Failure(.escapedKey, "a member name is written with an escape sequence", offset: escapedAt)
        }
    }

    /// The value of the member `key`; the last, when it is given more than once (see
    /// ``repeatedKeys(among:)``).
    public func value(_ key: String) -> ArraySlice<UInt8>? {
        members.last { $0.key == key }.map { bytes[$0.value] }
    }

    /// The object that is the value of `key`; nil when there is none or the value is not an object.
    public func object(_ key: String, keys: KeySpelling) throws(JSONScanner.Failure) -> JSONObjectMembers? {
        guard let member = members.last(where: { $0.key == key }), bytes[member.value.lowerBound] == UInt8(ascii: "{") else {
            return nil
        }
        return try JSONObjectMembers(bytes, within: member.value, keys: keys)
    }

    /// A member's value as a whole number, when it is written as one.
    public func integer(_ key: String) -> Int64? {
        guard let value = value(key), !value.isEmpty, value.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        return Int64(String(decoding: value, as: UTF8.self))
    }

    /// The strings among the elements of an array member, decoded; nil when `key` is not an array.
    public func strings(_ key: String) -> [String]? {
        guard let member = members.last(where: { $0.key == key }), bytes[member.value.lowerBound] == UInt8(ascii: "[") else {
            return nil
        }
        return bytes.withUnsafeBufferPointer { buffer in
            var scanner = JSONScanner(buffer, within: member.value)
            var strings: [String] = []
            scanner.index += 1
            scanner.skipWhitespace()
            // The array was checked when the object was scanned; these cannot fail.
            while let byte = scanner.peek, byte != UInt8(ascii: "]") {
                if byte == UInt8(ascii: "\""), let token = try? scanner.scanString() {
                    strings.append(scanner.text(token))
                } else if (try? scanner.skipValue(depth: 1)) == nil {
                    break
                }
                scanner.skipWhitespace()
                guard (try? scanner.endOfList(closing: UInt8(ascii: "]"), what: "',' or ']'")) == false else { break }
            }
            return strings
        }
    }

    /// The keys among `keys` written more than once. Parsers differ on which copy wins, so a
    /// reader whose bytes go on to another parser refuses them rather than read one and forward
    /// the other.
    public func repeatedKeys(among keys: Set<String>) -> [String] {
        var seen: Set<String> = []
        var twice: [String] = []
        for member in members where keys.contains(member.key) {
            if !seen.insert(member.key).inserted { twice.append(member.key) }
        }
        return twice
    }

    /// The object with members replaced (by key) and added, as bytes; everything else is copied.
    public func rewritten(replacing replacements: [String: [UInt8]]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(extent.count + 64)
        var position = extent.lowerBound
        var missing = replacements
        for member in members {
            guard let replacement = replacements[member.key] else { continue }
            out += bytes[position..<member.value.lowerBound]
            out += replacement
            position = member.value.upperBound
            missing[member.key] = nil
        }
        out += bytes[position..<extent.upperBound]
        guard !missing.isEmpty else { return out }
        // New members go first, so that no trailing comma can be left behind.
        var added: [UInt8] = []
        for (key, value) in missing.sorted(by: { $0.key < $1.key }) {
            if !added.isEmpty { added.append(UInt8(ascii: ",")) }
            JSONWriter.appendQuoted(key, to: &added)
            added.append(UInt8(ascii: ":"))
            added += value
        }
        if !members.isEmpty { added.append(UInt8(ascii: ",")) }
        out.insert(contentsOf: added, at: 1)
        return out
    }
}
