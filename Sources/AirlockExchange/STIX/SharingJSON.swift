import AirlockCore
import Foundation

/// JSON text for the sharing documents (STIX, CSAF, CVE), written from `JSONValue` by
/// AirlockCore's `JSONWriter`.
///
/// Keys are sorted by UTF-16 code units and strings escaped as RFC 8785 (JSON Canonicalization
/// Scheme) asks, so the compact form is canonical JSON: STIX needs it for SCO ids (§2.9), and
/// the same document always gives the same bytes. Numbers are written as integers when whole and
/// otherwise in Swift's shortest round-trip form, which matches RFC 8785 for the values these
/// documents hold (scores such as 9.8); exponent forms (1e-7) are not canonicalised.
public enum SharingJSON {
    /// Compact canonical JSON text.
    public static func canonical(_ value: JSONValue) -> String {
        String(decoding: bytes(value), as: UTF8.self)
    }

    /// The document as UTF-8 bytes: compact canonical, or indented by two spaces with a final newline.
    public static func bytes(_ value: JSONValue, pretty: Bool = false) -> [UInt8] {
        var writer = JSONWriter(capacity: 1024, indentation: pretty ? 2 : 0)
        writer.value(value, sortedKeys: true)
        var bytes = writer.bytes
        if pretty { bytes.append(UInt8(ascii: "\n")) }
        return bytes
    }

    /// Reads a JSON document.
    public static func parse(_ bytes: some Collection<UInt8>) throws -> JSONValue {
        try JSONDecoder().decode(JSONValue.self, from: Data(bytes))
    }
}
