import AirlockCore
import Foundation

/// A STIX/TAXII timestamp (`2016-04-06T20:03:48.123456Z`, UTC), held as whole microseconds.
///
/// Parsing takes any number of fraction digits (none included, as in `added_after` values that
/// taxii2-client writes to the second); digits past the sixth are dropped. Dropping is exact for
/// `added_after` against microsecond `date_added` values (`d > t` if and only if `d > ⌊t⌋` for a
/// whole-microsecond `d`); two object versions that differ only below a microsecond are one version
/// here. Writing always gives six fraction digits, as medallion writes `date_added`.
public struct TAXIITimestamp: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// Microseconds since 1970-01-01T00:00:00Z.
    public var microsecondsSince1970: Int64

    public init(microsecondsSince1970: Int64) {
        self.microsecondsSince1970 = microsecondsSince1970
    }

    /// Reads a STIX timestamp: `YYYY-MM-DDTHH:MM:SS`, an optional `.` with one or more digits, `Z`.
    /// Upper-case `T` and `Z` only; no offsets; seconds up to 59. `nil` when it is not one.
    public init?(_ text: some StringProtocol) {
        var text = String(text)
        guard let value = text.withUTF8({ Self.parse($0) }) else { return nil }
        self.microsecondsSince1970 = value
    }

    /// Reads a STIX timestamp from its UTF-8 bytes.
    public init?(utf8 bytes: some Collection<UInt8>) {
        let parsed = bytes.withContiguousStorageIfAvailable { Self.parse($0) } ?? Array(bytes).withUnsafeBufferPointer { Self.parse($0) }
        guard let parsed else { return nil }
        self.microsecondsSince1970 = parsed
    }

    /// The instant of a `Date`, rounded down to the microsecond.
    public init(_ date: Date) {
        self.microsecondsSince1970 = Int64((date.timeIntervalSince1970 * 1_000_000).rounded(.down))
    }

    /// The instant as a `Date`.
    public var date: Date {
        Date(timeIntervalSince1970: Double(microsecondsSince1970) / 1_000_000)
    }

    /// This instant moved by a number of microseconds.
    public func advanced(byMicroseconds delta: Int64) -> TAXIITimestamp {
        TAXIITimestamp(microsecondsSince1970: microsecondsSince1970 + delta)
    }

    public static func < (lhs: TAXIITimestamp, rhs: TAXIITimestamp) -> Bool {
        lhs.microsecondsSince1970 < rhs.microsecondsSince1970
    }

    /// `YYYY-MM-DDTHH:MM:SS.ffffffZ`.
    public var description: String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(27)
        write(into: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends `YYYY-MM-DDTHH:MM:SS.ffffffZ` to `bytes`.
    func write(into bytes: inout [UInt8]) {
        let (seconds, micros) = RFC3339.floorDivide(microsecondsSince1970, 1_000_000)
        RFC3339.append(RFC3339.Instant(secondsSince1970: seconds, nanoseconds: micros * 1000), fractionDigits: 6, to: &bytes)
    }

    private static func parse(_ bytes: UnsafeBufferPointer<UInt8>) -> Int64? {
        guard let instant = RFC3339.instant(utf8: bytes, syntax: .stix) else { return nil }
        return instant.secondsSince1970 * 1_000_000 + instant.nanoseconds / 1000
    }
}

extension JSONWriter {
    /// A timestamp member, its digits written straight into the bytes (no `String` on the way).
    mutating func field(_ name: String, _ value: TAXIITimestamp) {
        key(name)
        raw { bytes in
            bytes.append(UInt8(ascii: "\""))
            value.write(into: &bytes)
            bytes.append(UInt8(ascii: "\""))
        }
    }
}
