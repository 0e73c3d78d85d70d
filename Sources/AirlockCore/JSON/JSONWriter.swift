/// Writes JSON straight into UTF-8 bytes: the one JSON writer of the code base.
///
/// The hot paths (the engine's request bodies and log records, TAXII pages, audit details) use it
/// instead of `JSONEncoder`, which costs several times more; what it writes decodes with the
/// types' `Codable` conformances. Strings are escaped as RFC 8785 (JSON Canonicalization Scheme)
/// asks: `"`, `\` and control characters only, short forms where JSON has them, everything else
/// (`/`, U+2028 and U+2029, all non-ASCII) copied as UTF-8. Members are written in the order the
/// caller gives them; canonical documents sort their keys before writing.
public struct JSONWriter: Sendable {
    /// The bytes written so far.
    public private(set) var bytes: [UInt8] = []
    /// Whether the next member or element needs a comma before it.
    private var needsComma = false
    /// Whether a key was just written, so the value follows it without a separator.
    private var afterKey = false
    /// Spaces per level when indenting; 0 for compact output.
    private let indentation: Int
    private var depth = 0

    /// A writer for compact JSON, or JSON indented by `indentation` spaces per level (members
    /// and elements one per line, `": "` after keys).
    public init(capacity: Int = 512, indentation: Int = 0) {
        bytes.reserveCapacity(capacity)
        self.indentation = indentation
    }

    // MARK: Containers

    public mutating func beginObject() { open(UInt8(ascii: "{")) }
    public mutating func endObject() { close(UInt8(ascii: "}")) }
    public mutating func beginArray() { open(UInt8(ascii: "[")) }
    public mutating func endArray() { close(UInt8(ascii: "]")) }

    /// An object whose members `body` writes.
    @inlinable
    public mutating func object(_ body: (inout JSONWriter) -> Void) {
        beginObject()
        body(&self)
        endObject()
    }

    /// An array with one element per element of `elements`, each written by `body`.
    @inlinable
    public mutating func array<S: Sequence>(_ elements: S, _ body: (inout JSONWriter, S.Element) -> Void) {
        beginArray()
        for element in elements { body(&self, element) }
        endArray()
    }

    /// Writes `"name":`; the value follows.
    public mutating func key(_ name: String) {
        separate()
        Self.appendQuoted(name, to: &bytes)
        bytes.append(UInt8(ascii: ":"))
        if indentation > 0 { bytes.append(UInt8(ascii: " ")) }
        afterKey = true
    }

    // MARK: Members

    public mutating func field(_ name: String, _ value: String) { key(name); string(value) }
    public mutating func field(_ name: String, _ value: Int) { key(name); int(value) }
    public mutating func field(_ name: String, _ value: Double) { key(name); number(value) }
    public mutating func field(_ name: String, _ value: Bool) { key(name); bool(value) }

    /// A string member, left out when `value` is nil.
    public mutating func field(_ name: String, ifPresent value: String?) {
        if let value { field(name, value) }
    }

    /// An array of strings under `name`.
    public mutating func field(_ name: String, strings: [String]) {
        key(name)
        array(strings) { $0.string($1) }
    }

    // MARK: Values

    public mutating func string(_ value: String) {
        separate()
        Self.appendQuoted(value, to: &bytes)
        needsComma = true
    }

    public mutating func int(_ value: Int) {
        separate()
        bytes.append(contentsOf: String(value).utf8)
        needsComma = true
    }

    /// A number: whole values below 10^15 without a fraction, others in Swift's shortest form
    /// that reads back to the same `Double`; JSON has no NaN or infinity, so those are `null`.
    public mutating func number(_ value: Double) {
        separate()
        if value.rounded() == value, abs(value) < 1e15 {
            bytes.append(contentsOf: String(Int64(value)).utf8)
        } else if value.isFinite {
            bytes.append(contentsOf: value.description.utf8)
        } else {
            bytes.append(contentsOf: "null".utf8)
        }
        needsComma = true
    }

    public mutating func bool(_ value: Bool) {
        separate()
        bytes.append(contentsOf: (value ? "true" : "false").utf8)
        needsComma = true
    }

    public mutating func null() {
        separate()
        bytes.append(contentsOf: "null".utf8)
        needsComma = true
    }

    /// A `JSONValue`; object members in the dictionary's order unless `sortedKeys` orders them
    /// by their UTF-16 code units (RFC 8785 §3.2.3).
    public mutating func value(_ value: JSONValue, sortedKeys: Bool = false) {
        switch value {
        case .null: null()
        case .bool(let flag): bool(flag)
        case .number(let number): self.number(number)
        case .string(let text): string(text)
        case .array(let values): array(values) { $0.value($1, sortedKeys: sortedKeys) }
        case .object(let fields):
            beginObject()
            if sortedKeys {
                for name in fields.keys.sorted(by: { $0.utf16.lexicographicallyPrecedes($1.utf16) }) {
                    key(name)
                    self.value(fields[name]!, sortedKeys: true)
                }
            } else {
                for (name, field) in fields {
                    key(name)
                    self.value(field)
                }
            }
            endObject()
        }
    }

    /// Copies a value that is already JSON (a stored object) in as it is.
    public mutating func raw(_ json: [UInt8]) {
        separate()
        bytes.append(contentsOf: json)
        needsComma = true
    }

    /// A value that `write` appends as JSON bytes itself, for types that know their own
    /// spelling (a timestamp between quotes) and would otherwise build a `String` first.
    public mutating func raw(_ write: (inout [UInt8]) -> Void) {
        separate()
        write(&bytes)
        needsComma = true
    }

    // MARK: Strings

    /// A string as a JSON string literal, quotes included.
    public static func quoted(_ text: String) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count + 2)
        appendQuoted(text, to: &out)
        return out
    }

    /// Appends `text` as a JSON string literal: the one string escaper.
    public static func appendQuoted(_ text: String, to bytes: inout [UInt8]) {
        bytes.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"): bytes.append(UInt8(ascii: "\\")); bytes.append(byte)
            case 0x08: bytes.append(UInt8(ascii: "\\")); bytes.append(UInt8(ascii: "b"))
            case 0x09: bytes.append(UInt8(ascii: "\\")); bytes.append(UInt8(ascii: "t"))
            case 0x0A: bytes.append(UInt8(ascii: "\\")); bytes.append(UInt8(ascii: "n"))
            case 0x0C: bytes.append(UInt8(ascii: "\\")); bytes.append(UInt8(ascii: "f"))
            case 0x0D: bytes.append(UInt8(ascii: "\\")); bytes.append(UInt8(ascii: "r"))
            case 0x00..<0x20:
                bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0")])
                bytes.append(hexDigits[Int(byte >> 4)])
                bytes.append(hexDigits[Int(byte & 0x0F)])
            default: bytes.append(byte)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    // MARK: Layout

    private mutating func separate() {
        if afterKey {
            afterKey = false
            return
        }
        if needsComma { bytes.append(UInt8(ascii: ",")) }
        if indentation > 0, depth > 0 { newline() }
    }

    private mutating func open(_ bracket: UInt8) {
        separate()
        bytes.append(bracket)
        depth += 1
        needsComma = false
    }

    private mutating func close(_ bracket: UInt8) {
        depth -= 1
        // Only a container with something in it is broken over lines: `[]` stays whole.
        if indentation > 0, needsComma { newline() }
        bytes.append(bracket)
        needsComma = true
    }

    private mutating func newline() {
        bytes.append(UInt8(ascii: "\n"))
        bytes.append(contentsOf: repeatElement(UInt8(ascii: " "), count: depth * indentation))
    }
}
