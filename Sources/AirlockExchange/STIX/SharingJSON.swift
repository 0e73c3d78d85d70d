import AirlockCore
import Foundation

/// JSON text for the sharing documents (STIX, CSAF, CVE), written from `JSONValue`.
///
/// Keys are sorted by UTF-16 code units and strings escaped as RFC 8785 (JSON Canonicalization
/// Scheme) asks, so the compact form is canonical JSON: STIX needs it for SCO ids (§2.9), and
/// the same document always gives the same bytes. Numbers are written as integers when whole and
/// otherwise in Swift's shortest round-trip form, which matches RFC 8785 for the values these
/// documents hold (scores such as 9.8); exponent forms (1e-7) are not canonicalised.
public enum SharingJSON {
    /// Compact canonical JSON text.
    public static func canonical(_ value: JSONValue) -> String {
        var writer = Writer(pretty: false)
        writer.write(value, depth: 0)
        return writer.text
    }

    /// The document as UTF-8 bytes: compact canonical, or indented by two spaces with a final newline.
    public static func bytes(_ value: JSONValue, pretty: Bool = false) -> [UInt8] {
        var writer = Writer(pretty: pretty)
        writer.write(value, depth: 0)
        if pretty { writer.text.append("\n") }
        return Array(writer.text.utf8)
    }

    /// Reads a JSON document.
    public static func parse(_ bytes: some Collection<UInt8>) throws -> JSONValue {
        try JSONDecoder().decode(JSONValue.self, from: Data(bytes))
    }

    private struct Writer {
        let pretty: Bool
        var text = ""

        init(pretty: Bool) { self.pretty = pretty }

        mutating func write(_ value: JSONValue, depth: Int) {
            switch value {
            case .null: text += "null"
            case .bool(let flag): text += flag ? "true" : "false"
            case .number(let number): text += Self.format(number)
            case .string(let string): writeString(string)
            case .array(let items):
                guard !items.isEmpty else { text += "[]"; return }
                text += "["
                for (index, item) in items.enumerated() {
                    if index > 0 { text += "," }
                    newline(depth + 1)
                    write(item, depth: depth + 1)
                }
                newline(depth)
                text += "]"
            case .object(let members):
                guard !members.isEmpty else { text += "{}"; return }
                text += "{"
                // RFC 8785 §3.2.3: members sorted by the UTF-16 code units of their names.
                let keys = members.keys.sorted { $0.utf16.lexicographicallyPrecedes($1.utf16) }
                for (index, key) in keys.enumerated() {
                    if index > 0 { text += "," }
                    newline(depth + 1)
                    writeString(key)
                    text += pretty ? ": " : ":"
                    write(members[key] ?? .null, depth: depth + 1)
                }
                newline(depth)
                text += "}"
            }
        }

        mutating func newline(_ depth: Int) {
            guard pretty else { return }
            text += "\n" + String(repeating: "  ", count: depth)
        }

        /// RFC 8785 §3.2.2.2: only `"`, `\` and control characters are escaped, short forms where JSON has them.
        mutating func writeString(_ string: String) {
            text += "\""
            for scalar in string.unicodeScalars {
                switch scalar {
                case "\"": text += "\\\""
                case "\\": text += "\\\\"
                case "\u{08}": text += "\\b"
                case "\u{0C}": text += "\\f"
                case "\n": text += "\\n"
                case "\r": text += "\\r"
                case "\t": text += "\\t"
                case let control where control.value < 0x20:
                    let hex = String(control.value, radix: 16)
                    text += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                default: text.unicodeScalars.append(scalar)
                }
            }
            text += "\""
        }

        static func format(_ number: Double) -> String {
            guard number.isFinite else { return "null" }
            if number == number.rounded(), abs(number) < 1e15 { return String(Int64(number)) }
            return String(number)
        }
    }
}
