import AirlockCore
import Crypto
import Foundation

/// STIX identifiers (`type--uuid`, §2.9) for what Airlock publishes.
public enum STIXIdentifier {
    /// The namespace STIX fixes for SCO ids (§2.9): UUIDv5 over the canonical JSON of the
    /// ID-contributing properties.
    public static let scoNamespace: [UInt8] = uuidBytes("00abedb4-aa42-466c-9c01-fed23315a9b7")

    /// The id of the SDO or SRO of type `type` that stands for the Airlock entity `key` (a finding's
    /// id, a case's id, `case/vendor/finding` for a statement), published under `namespace`.
    ///
    /// Stable: the same entity gets the same id in every version and every rebuild, which STIX
    /// versioning needs (a version is `id` + `modified`). Derived, not random: the first 16 bytes
    /// of SHA-256(namespace, type, key) with the version and variant bits of a UUIDv4, so the
    /// validator's SHOULD check 103 (UUIDv4 for SDOs and SROs) stays quiet while no two types or
    /// deployments share a UUID (§2.9 forbids reusing one across types).
    public static func derived(_ type: String, key: String, namespace: String) -> String {
        var hasher = SHA256()
        // NUL separators: no two (namespace, type, key) triples give the same input.
        hasher.update(data: Array("airlock-stix\u{0}\(namespace)\u{0}\(type)\u{0}\(key)".utf8))
        var bytes = Array(hasher.finalize().prefix(16))
        bytes[6] = (bytes[6] & 0x0F) | 0x40
        bytes[8] = (bytes[8] & 0x3F) | 0x80
        return type + "--" + uuidString(bytes)
    }

    /// The id of an SCO (§2.9): UUIDv5 in STIX's namespace over the RFC 8785 canonical JSON of
    /// its ID-contributing properties (for `software`: name, cpe, swid, vendor, version).
    public static func sco(_ type: String, contributing properties: [String: JSONValue]) -> String {
        var hasher = Insecure.SHA1()
        hasher.update(data: scoNamespace)
        hasher.update(data: Array(SharingJSON.canonical(.object(properties)).utf8))
        var bytes = Array(hasher.finalize().prefix(16))
        bytes[6] = (bytes[6] & 0x0F) | 0x50
        bytes[8] = (bytes[8] & 0x3F) | 0x80
        return type + "--" + uuidString(bytes)
    }

    /// Whether `id` has the shape the STIX JSON schema asks for: `type--` and an RFC 4122 UUID.
    public static func isValid(_ id: String) -> Bool {
        id.wholeMatch(of: #/[a-z][a-z0-9-]+[a-z0-9]--[0-9a-f]{8}-[0-9a-f]{4}-[1-5][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}/#) != nil
    }

    /// The UUID version of an id's UUID part (4 for derived ids, 5 for SCOs).
    public static func uuidVersion(of id: String) -> Int? {
        guard let range = id.range(of: "--") else { return nil }
        let uuid = Array(id[range.upperBound...].utf8)
        guard uuid.count == 36, let digit = Int(String(UnicodeScalar(uuid[14])), radix: 16) else { return nil }
        return digit
    }

    static func uuidString(_ bytes: [UInt8]) -> String {
        let hex = Array(Hex.string(bytes).utf8)
        return [0..<8, 8..<12, 12..<16, 16..<20, 20..<32].map { String(decoding: hex[$0], as: UTF8.self) }.joined(separator: "-")
    }

    static func uuidBytes(_ text: String) -> [UInt8] {
        let hex = Array(text.replacingOccurrences(of: "-", with: "").utf8)
        return stride(from: 0, to: hex.count, by: 2).map { UInt8(String(decoding: hex[$0..<$0 + 2], as: UTF8.self), radix: 16) ?? 0 }
    }
}
