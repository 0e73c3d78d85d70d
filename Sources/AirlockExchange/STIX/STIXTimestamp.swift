import AirlockCore
import Foundation

/// A STIX timestamp with exactly millisecond precision, as `created` and `modified` need (§3.2):
/// `2026-03-01T09:30:00.000Z`.
///
/// Held as whole milliseconds since 1970 so that comparing versions and adding a millisecond
/// are exact; `Date`'s floating seconds could print `.122` for `.123`.
public struct STIXTimestamp: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// Milliseconds since 1970-01-01T00:00:00Z.
    public let milliseconds: Int64

    /// The timestamp `milliseconds` after 1970-01-01T00:00:00Z.
    public init(milliseconds: Int64) {
        self.milliseconds = milliseconds
    }

    /// The timestamp of `date`, cut (not rounded) to the millisecond.
    public init(_ date: Date) {
        // Round to the microsecond first so that 0.123 stored as 0.12299999 still reads .123.
        let microseconds = (date.timeIntervalSince1970 * 1_000_000).rounded()
        self.milliseconds = Int64((microseconds / 1000).rounded(.down))
    }

    /// Reads an RFC 3339 UTC timestamp (`Z` only) with any number of fraction digits; digits
    /// beyond the millisecond are cut. nil when it is not one.
    public init?(_ text: String) {
        guard let instant = RFC3339.instant(text, syntax: .stix) else { return nil }
        self.milliseconds = instant.secondsSince1970 * 1000 + instant.nanoseconds / 1_000_000
    }

    /// The timestamp as a `Date`.
    public var date: Date { Date(timeIntervalSince1970: Double(milliseconds) / 1000) }

    /// A millisecond-exact shift.
    public func adding(milliseconds delta: Int64) -> STIXTimestamp { STIXTimestamp(milliseconds: milliseconds + delta) }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.milliseconds < rhs.milliseconds }

    /// `YYYY-MM-DDTHH:mm:ss.sssZ`.
    public var description: String {
        let (seconds, millis) = RFC3339.floorDivide(milliseconds, 1000)
        return RFC3339.format(RFC3339.Instant(secondsSince1970: seconds, nanoseconds: millis * 1_000_000), fractionDigits: 3)
    }
}
