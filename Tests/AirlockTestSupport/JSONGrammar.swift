import Foundation
import PropertyBased

/// Random JSON text of RFC 8259's grammar for the fuzz targets: repeated and escape-spelled
/// keys, deep chains, long strings and every kind of escape.
public enum JSONGrammar {
    /// Whole documents, whitespace around them.
    public static let documents = Generator<String, Shrink.None<String>> { random in
        space(&random) + value(depth: 0, &random) + space(&random)
    }

    public static func chance(_ percent: Int, _ random: inout some RandomNumberGenerator) -> Bool {
        Int.random(in: 0..<100, using: &random) < percent
    }

    public static func pick(_ options: [String], _ random: inout some RandomNumberGenerator) -> String {
        options[Int.random(in: 0..<options.count, using: &random)]
    }

    public static func space(_ random: inout some RandomNumberGenerator) -> String {
        chance(70, &random) ? "" : pick([" ", "\n", "\t", "\r\n  "], &random)
    }

    public static func string(_ random: inout some RandomNumberGenerator) -> String {
        let pieces = ["a", "Z", "é", "漢", "🙂", "\\\"", "\\\\", "\\/", "\\b", "\\f", "\\n", "\\r", "\\t", "\\u0000", "\\u001F", "\\u00e9",
                      "\\ud83d\\ude42", "\\u2028", "\u{2028}", "\u{2029}", "</", " ", "\u{7F}"]
        let length = chance(5, &random) ? 2_000 : Int.random(in: 0..<12, using: &random)
        return "\"" + (0..<length).map { _ in pick(pieces, &random) }.joined() + "\""
    }

    public static func number(_ random: inout some RandomNumberGenerator) -> String {
        var text = chance(30, &random) ? "-" : ""
        text += chance(20, &random)
            ? "0" : String(Int.random(in: 1...9, using: &random))
                + String(repeating: "7", count: chance(10, &random) ? 40 : Int.random(in: 0..<5, using: &random))
        if chance(40, &random) { text += "." + String(Int.random(in: 0..<1000, using: &random)) }
        // Exponents within a Double's range: range is the reader's business, not the grammar's.
        if chance(30, &random) { text += pick(["e", "E", "e+", "e-"], &random) + String(Int.random(in: 0..<300, using: &random)) }
        return text
    }

    public static func value(depth: Int, _ random: inout some RandomNumberGenerator) -> String {
        switch Int.random(in: 0..<(depth > 40 ? 4 : 7), using: &random) {
        case 0, 3: return string(&random)
        case 1: return number(&random)
        case 2: return pick(["true", "false", "null"], &random)
        case 4 where chance(10, &random):
            // A deep chain, near the scanner's limit.
            let levels = Int.random(in: 50..<150, using: &random)
            return String(repeating: "[", count: levels) + value(depth: depth + levels, &random) + String(repeating: "]", count: levels)
        case 4, 5:
            let elements = (0..<Int.random(in: 0..<5, using: &random)).map { _ in value(depth: depth + 1, &random) }
            return "[" + space(&random) + elements.joined(separator: space(&random) + "," + space(&random)) + space(&random) + "]"
        default:
            let keys = ["\"model\"", "\"mod\\u0065l\"", "\"a\"", "\"\"", "\"é\"", "\"e\u{301}\"", "\"object_marking_ref\\u0073\""]
            let members = (0..<Int.random(in: 0..<5, using: &random)).map { _ in
                // Repeated and escaped keys are valid JSON.
                (chance(50, &random) ? pick(keys, &random) : string(&random)) + space(&random) + ":" + space(&random)
                    + value(depth: depth + 1, &random)
            }
            return "{" + space(&random) + members.joined(separator: "," + space(&random)) + space(&random) + "}"
        }
    }
}

/// Foundation's `JSONSerialization` as the oracle the fuzz targets compare with.
public enum FoundationJSON {
    /// Foundation's reading of `bytes`, written back with sorted keys: a value to compare.
    public static func canonical(_ bytes: some Collection<UInt8>) -> Data? {
        (try? JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed])).flatMap(canonical(value:))
    }

    /// A value Foundation read, written with sorted keys.
    public static func canonical(value: Any) -> Data? {
        try? JSONSerialization.data(withJSONObject: value, options: [.fragmentsAllowed, .sortedKeys])
    }

    /// Where Foundation and RFC 8259 part, left out of comparisons: a lone surrogate escape
    /// (valid grammar; ``AirlockCore/JSONScanner`` decodes it to U+FFFD, Foundation refuses it),
    /// numbers beyond a `Double`'s range (`1e400`: the scanner checks grammar, range is the
    /// reader's business), a trailing comma (`[1,]`, `{"a":1,}`), which Foundation on Linux
    /// reads, `JSONDecoder` included, and a U+FEFF, which Foundation skips before a document and
    /// drops from the start of a string (`["\u{FEFF}a"]` reads as `["a"]`), and a NUL byte among
    /// the first four, from which Foundation takes the text for UTF-16 or UTF-32 (`2\0` reads as 2).
    public static func isOutsideReach(_ bytes: [UInt8]) -> Bool {
        let text = String(decoding: bytes, as: UTF8.self)
        let outOfRange = text.matches(of: /[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?/).contains { Double($0.output.0).map { !$0.isFinite } ?? true }
        return bytes.prefix(4).contains(0) || outOfRange || hasLoneSurrogate(text) || text.contains(/,[ \t\r\n]*[\]}]/.matchingSemantics(.unicodeScalar)) || text.contains("\u{FEFF}")
    }

    /// Whether a `\uD800`–`\uDFFF` escape stands without its partner.
    static func hasLoneSurrogate(_ text: String) -> Bool {
        // Every escape in order, so that `\\ud83d` (an escaped backslash) is not taken for one.
        let units = text.matches(of: /\\(?:u([0-9a-fA-F]{4})|[^u])/).compactMap { match in
            match.output.1.flatMap { UInt32($0, radix: 16) }.map { (range: match.range, value: $0) }
        }
        var index = 0
        while index < units.count {
            let unit = units[index]
            if (0xD800...0xDBFF).contains(unit.value) {
                guard index + 1 < units.count, units[index + 1].range.lowerBound == unit.range.upperBound,
                    (0xDC00...0xDFFF).contains(units[index + 1].value)
                else { return true }
                index += 2
            } else if (0xDC00...0xDFFF).contains(unit.value) {
                return true
            } else {
                index += 1
            }
        }
        return false
    }
}
