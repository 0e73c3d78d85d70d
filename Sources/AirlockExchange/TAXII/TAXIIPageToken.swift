import Crypto

/// Where a record stands in a collection's order: its `date_added`, then the store's sequence
/// number, which orders records added in the same microsecond. Pages continue after a position
/// (keyset paging), so they stay right while records are added or deleted between requests.
public struct TAXIIPagePosition: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var dateAdded: TAXIITimestamp
    public var sequence: Int64

    public init(dateAdded: TAXIITimestamp, sequence: Int64) {
        self.dateAdded = dateAdded
        self.sequence = sequence
    }

    public static func < (lhs: TAXIIPagePosition, rhs: TAXIIPagePosition) -> Bool {
        (lhs.dateAdded, lhs.sequence) < (rhs.dateAdded, rhs.sequence)
    }

    public var description: String { "\(dateAdded)#\(sequence)" }
}

/// The `next` token: an opaque, URL-safe string that carries the position to continue after and a
/// digest of what the first page was asked for (endpoint, scope, filters; not `limit`).
///
/// Tokens hold no server state, so they never expire and survive restarts. A token whose filters
/// digest differs from the request's is refused (400, as medallion refuses changed filters); a
/// damaged one is refused too. They are not secrets: a client that forges a position only skips
/// within the same filtered view it may read anyway.
///
/// Layout (29 bytes, 39 characters of unpadded base64url): a format byte `1`, `date_added` µs and
/// the sequence (each 8 bytes, big-endian), 8 bytes of SHA-256 of the bound text, and 4 bytes of
/// SHA-256 of all that as a check.
enum TAXIIPageToken {
    private static let format: UInt8 = 1
    private static let length = 29

    static func token(after position: TAXIIPagePosition, for query: TAXIIObjectQuery) -> String {
        var bytes: [UInt8] = [format]
        bytes.reserveCapacity(length)
        append(position.dateAdded.microsecondsSince1970, to: &bytes)
        append(position.sequence, to: &bytes)
        bytes += filterDigest(query)
        bytes += check(bytes)
        return base64URLEncoded(bytes)
    }

    static func position(from token: String, for query: TAXIIObjectQuery) throws(TAXIIError) -> TAXIIPagePosition {
        guard let bytes = base64URLDecoded(token), bytes.count == length, bytes[0] == format,
              Array(bytes[25..<29]) == check(Array(bytes[0..<25]))
        else {
            throw TAXIIError(
                .invalidNextToken, "next is not a token from this server, or it was cut or changed; start again without next.",
                parameter: "next", value: token)
        }
        guard Array(bytes[17..<25]) == filterDigest(query) else {
            throw TAXIIError(
                .filtersChanged,
                "next belongs to a request with other filters; ask for the following pages with the same parameters as the first (only limit may change).",
                parameter: "next", value: token)
        }
        return TAXIIPagePosition(
            dateAdded: TAXIITimestamp(microsecondsSince1970: integer(bytes[1..<9])), sequence: integer(bytes[9..<17]))
    }

    private static func filterDigest(_ query: TAXIIObjectQuery) -> [UInt8] {
        // The scope is length-prefixed so that no scope text can pose as a filter.
        let text = "taxii-next-1|\(query.endpoint.tokenName)|\(query.scope.utf8.count):\(query.scope)|\(query.filters.canonicalText)"
        return Array(SHA256.hash(data: Array(text.utf8)).prefix(8))
    }

    private static func check(_ bytes: [UInt8]) -> [UInt8] {
        Array(SHA256.hash(data: bytes).prefix(4))
    }

    private static func append(_ value: Int64, to bytes: inout [UInt8]) {
        let bits = UInt64(bitPattern: value)
        for shift in stride(from: 56, through: 0, by: -8) {
            bytes.append(UInt8(truncatingIfNeeded: bits >> UInt64(shift)))
        }
    }

    private static func integer(_ bytes: ArraySlice<UInt8>) -> Int64 {
        var bits: UInt64 = 0
        for byte in bytes { bits = bits << 8 | UInt64(byte) }
        return Int64(bitPattern: bits)
    }

    private static let alphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    private static func base64URLEncoded(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count * 4 + 2) / 3)
        var index = 0
        while index < bytes.count {
            let remaining = bytes.count - index
            let b0 = UInt32(bytes[index])
            let b1 = remaining > 1 ? UInt32(bytes[index + 1]) : 0
            let b2 = remaining > 2 ? UInt32(bytes[index + 2]) : 0
            let group = b0 << 16 | b1 << 8 | b2
            out.append(alphabet[Int(group >> 18 & 63)])
            out.append(alphabet[Int(group >> 12 & 63)])
            if remaining > 1 { out.append(alphabet[Int(group >> 6 & 63)]) }
            if remaining > 2 { out.append(alphabet[Int(group & 63)]) }
            index += 3
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static func base64URLDecoded(_ text: String) -> [UInt8]? {
        var values: [UInt32] = []
        values.reserveCapacity(text.utf8.count)
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): values.append(UInt32(byte - UInt8(ascii: "A")))
            case UInt8(ascii: "a")...UInt8(ascii: "z"): values.append(UInt32(byte - UInt8(ascii: "a")) + 26)
            case UInt8(ascii: "0")...UInt8(ascii: "9"): values.append(UInt32(byte - UInt8(ascii: "0")) + 52)
            case UInt8(ascii: "-"): values.append(62)
            case UInt8(ascii: "_"): values.append(63)
            default: return nil
            }
        }
        guard values.count % 4 != 1 else { return nil }
        var bytes: [UInt8] = []
        var index = 0
        while index < values.count {
            let chunk = values[index..<min(index + 4, values.count)]
            var group: UInt32 = 0
            for (offset, value) in chunk.enumerated() { group |= value << UInt32(18 - 6 * offset) }
            bytes.append(UInt8(truncatingIfNeeded: group >> 16))
            if chunk.count > 2 { bytes.append(UInt8(truncatingIfNeeded: group >> 8)) }
            if chunk.count > 3 { bytes.append(UInt8(truncatingIfNeeded: group)) }
            index += 4
        }
        // Only the canonical spelling of the bytes is a token: unused low bits must be zero.
        guard base64URLEncoded(bytes) == text else { return nil }
        return bytes
    }
}
