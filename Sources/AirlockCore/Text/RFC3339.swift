import Foundation

/// RFC 3339 timestamps (`2027-03-01T09:30:00.123Z`): the one parser and formatter of the package.
///
/// Pure arithmetic on ASCII bytes: only the digits `0`–`9` count as digits (never other scripts'
/// digits, which `\d` and `Int(_:)` would let through), no `Calendar`, no force unwraps. Every
/// field is checked against its range (no `24:00` or `02-30` rolling over). Callers that need
/// another strictness say so with a ``Syntax``.
public enum RFC3339 {
    /// What a parser accepts beyond `YYYY-MM-DDTHH:MM:SS` with `Z`.
    public struct Syntax: Sendable, Hashable {
        /// Whether a numeric offset (`+01:00`, `-05:30`) may stand in place of `Z`.
        public var allowsOffsets: Bool
        /// Whether lower-case `t` and `z` are read too (RFC 3339 §5.6 allows them).
        public var allowsLowerCase: Bool
        /// The most fraction digits read; a longer fraction is refused. Digits past the ninth are
        /// read but dropped, as an instant holds nanoseconds.
        public var maximumFractionDigits: Int
        /// The years (in UTC, after the offset) a time may fall in.
        public var utcYears: ClosedRange<Int64>

        public init(allowsOffsets: Bool, allowsLowerCase: Bool, maximumFractionDigits: Int, utcYears: ClosedRange<Int64> = 0...9999) {
            self.allowsOffsets = allowsOffsets
            self.allowsLowerCase = allowsLowerCase
            self.maximumFractionDigits = maximumFractionDigits
            self.utcYears = utcYears
        }

        /// The program API's: offsets and lower case allowed, at most nine fraction digits
        /// (a `Date` holds no more), and a UTC year from 1 to 9999 so that the time can be written back.
        public static let api = Syntax(allowsOffsets: true, allowsLowerCase: true, maximumFractionDigits: 9, utcYears: 1...9999)

        /// STIX 2.1 and TAXII 2.1 (STIX §3.2): UTC only, written `Z` with upper-case `T`, and any
        /// number of fraction digits, since producers write milliseconds, microseconds or more
        /// (and taxii2-client writes `added_after` to the second).
        public static let stix = Syntax(allowsOffsets: false, allowsLowerCase: false, maximumFractionDigits: .max)
    }

    /// An instant as whole seconds since 1970-01-01T00:00:00Z and nanoseconds within the second.
    ///
    /// Integers, so that STIX milliseconds and TAXII microseconds are exact where `Date`'s
    /// floating seconds are not.
    public struct Instant: Sendable, Hashable, Comparable {
        /// Seconds since 1970-01-01T00:00:00Z (negative before).
        public var secondsSince1970: Int64
        /// 0 to 999,999,999.
        public var nanoseconds: Int64

        public init(secondsSince1970: Int64, nanoseconds: Int64) {
            self.secondsSince1970 = secondsSince1970
            self.nanoseconds = nanoseconds
        }

        /// The instant as a `Date` (to the `Date`'s precision).
        public var date: Date {
            // From the reference date, so that the integer part is exact before the one rounding.
            Date(timeIntervalSinceReferenceDate: Double(secondsSince1970 - RFC3339.referenceDateSince1970) + Double(nanoseconds) / 1e9)
        }

        public static func < (lhs: Instant, rhs: Instant) -> Bool {
            (lhs.secondsSince1970, lhs.nanoseconds) < (rhs.secondsSince1970, rhs.nanoseconds)
        }
    }

    /// Seconds from 1970 to `Date`'s reference date, 2001-01-01T00:00:00Z.
    static let referenceDateSince1970: Int64 = 978_307_200
    /// Seconds from 1970 to 10000-01-01T00:00:00Z, the first instant with no RFC 3339 form.
    static let startOf10000: Int64 = 253_402_300_800

    /// 10000-01-01T00:00:00Z: the first instant whose year has no four-digit form, so the bound
    /// (exclusive) of every time the API accepts or derives.
    public static let endOfYear9999 = Date(timeIntervalSince1970: Double(days(fromYear: 10_000, month: 1, day: 1) * 86_400))

    // MARK: Parsing

    /// The date `text` names under `syntax` (by default the API's), or nil when it is not one.
    public static func parse(_ text: some StringProtocol, syntax: Syntax = .api) -> Date? {
        instant(text, syntax: syntax)?.date
    }

    /// The instant `text` names under `syntax`, or nil when it is not one.
    public static func instant(_ text: some StringProtocol, syntax: Syntax = .api) -> Instant? {
        var text = String(text)
        return text.withUTF8 { instant(utf8: $0, syntax: syntax) }
    }

    /// The instant that UTF-8 `bytes` name under `syntax`, or nil when they do not name one.
    public static func instant(utf8 bytes: UnsafeBufferPointer<UInt8>, syntax: Syntax = .api) -> Instant? {
        var reader = ByteReader(bytes: bytes)
        guard let year = reader.digits(4), reader.take("-"), let month = reader.digits(2), reader.take("-"),
            let day = reader.digits(2), reader.take("T", lowerCase: syntax.allowsLowerCase),
            let hour = reader.digits(2), reader.take(":"), let minute = reader.digits(2), reader.take(":"),
            let second = reader.digits(2)
        else { return nil }
        guard (1...12).contains(month), (1...daysIn(month: month, year: year)).contains(day), hour < 24, minute < 60,
            second < 60
        else { return nil }
        var nanoseconds: Int64 = 0
        if reader.take(".") {
            var count = 0
            var scale: Int64 = 100_000_000
            while let digit = reader.digit() {
                count += 1
                guard count <= syntax.maximumFractionDigits else { return nil }
                nanoseconds += digit * scale
                scale /= 10
            }
            guard count > 0 else { return nil }
        }
        var offsetSeconds: Int64 = 0
        if reader.take("Z", lowerCase: syntax.allowsLowerCase) {
            // UTC.
        } else if syntax.allowsOffsets, let sign = reader.sign() {
            guard let offsetHours = reader.digits(2), reader.take(":"), let offsetMinutes = reader.digits(2),
                offsetHours < 24, offsetMinutes < 60
            else { return nil }
            offsetSeconds = sign * (offsetHours * 3600 + offsetMinutes * 60)
        } else {
            return nil
        }
        guard reader.isAtEnd else { return nil }
        let days = self.days(fromYear: year, month: month, day: day)
        let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offsetSeconds
        guard syntax.utcYears.contains(civil(fromDays: floorDivide(seconds, 86_400).quotient).year) else { return nil }
        return Instant(secondsSince1970: seconds, nanoseconds: nanoseconds)
    }

    // MARK: Formatting

    /// `YYYY-MM-DDTHH:MM:SS.fffZ` in UTC with `fractionDigits` digits (0 to 9; 0 writes no `.`),
    /// rounded to the last digit written. The API writes milliseconds.
    ///
    /// A date that is not finite, or whose year falls outside 0…9999, has no RFC 3339 form: it is
    /// clamped to ±10¹⁴ seconds and written with its year in as many digits as it needs, so that
    /// it still reads as a number. A date that rounds into year 10000 from 9999 (or lies at its
    /// first instant) is written as 9999's last unit instead.
    public static func format(_ date: Date, fractionDigits: Int = 3) -> String {
        let digits = min(max(fractionDigits, 0), 9)
        let interval = date.timeIntervalSinceReferenceDate
        let clamped = interval.isFinite ? min(max(interval, -1e14), 1e14) : 0
        let whole = clamped.rounded(.down)
        let scale = power(of: 10, digits)
        var units = Int64(((clamped - whole) * Double(scale)).rounded())
        var seconds = Int64(whole) + referenceDateSince1970
        if units >= scale {
            seconds += 1
            units -= scale
        }
        // A time in 9999's last unit is carried into 10000 by rounding, or already by a `Date`'s
        // precision (one read as 23:59:59.9999999): it stays in 9999, as what is read is written back.
        if seconds == startOf10000, units == 0, clamped <= Double(startOf10000 - referenceDateSince1970) {
            seconds -= 1
            units = scale - 1
        }
        return format(Instant(secondsSince1970: seconds, nanoseconds: units * power(of: 10, 9 - digits)), fractionDigits: digits)
    }

    /// `instant` as `YYYY-MM-DDTHH:MM:SS.fffZ` with `fractionDigits` digits (0 to 9), cut (not
    /// rounded) to the last digit written.
    public static func format(_ instant: Instant, fractionDigits: Int = 3) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(30)
        append(instant, fractionDigits: fractionDigits, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends `instant` as `format(_:fractionDigits:)` writes it, for writers of bytes.
    public static func append(_ instant: Instant, fractionDigits: Int, to bytes: inout [UInt8]) {
        let digits = min(max(fractionDigits, 0), 9)
        let (days, secondOfDay) = floorDivide(instant.secondsSince1970, 86_400)
        let (year, month, day) = civil(fromDays: days)
        if (0...9999).contains(year) {
            appendDigits(year, count: 4, to: &bytes)
        } else {
            bytes.append(contentsOf: String(year).utf8)
        }
        bytes.append(UInt8(ascii: "-"))
        appendDigits(month, count: 2, to: &bytes)
        bytes.append(UInt8(ascii: "-"))
        appendDigits(day, count: 2, to: &bytes)
        bytes.append(UInt8(ascii: "T"))
        appendDigits(secondOfDay / 3600, count: 2, to: &bytes)
        bytes.append(UInt8(ascii: ":"))
        appendDigits(secondOfDay / 60 % 60, count: 2, to: &bytes)
        bytes.append(UInt8(ascii: ":"))
        appendDigits(secondOfDay % 60, count: 2, to: &bytes)
        if digits > 0 {
            bytes.append(UInt8(ascii: "."))
            let nanoseconds = min(max(instant.nanoseconds, 0), 999_999_999)
            appendDigits(nanoseconds / power(of: 10, 9 - digits), count: digits, to: &bytes)
        }
        bytes.append(UInt8(ascii: "Z"))
    }

    // MARK: Calendar arithmetic (proleptic Gregorian, after H. Hinnant's `days_from_civil`)

    /// Days from 1970-01-01 to the date.
    public static func days(fromYear year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// The date `days` after 1970-01-01.
    public static func civil(fromDays days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    /// Quotient and non-negative remainder, for instants before 1970.
    public static func floorDivide(_ value: Int64, _ divisor: Int64) -> (quotient: Int64, remainder: Int64) {
        let remainder = value % divisor
        return remainder < 0 ? (value / divisor - 1, remainder + divisor) : (value / divisor, remainder)
    }

    static func daysIn(month: Int64, year: Int64) -> Int64 {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    static func power(of base: Int64, _ exponent: Int) -> Int64 {
        (0..<max(exponent, 0)).reduce(1) { value, _ in value * base }
    }

    static func appendDigits(_ value: Int64, count: Int, to bytes: inout [UInt8]) {
        var divisor = power(of: 10, count - 1)
        var rest = value
        while divisor > 0 {
            bytes.append(UInt8(ascii: "0") + UInt8(truncatingIfNeeded: rest / divisor % 10))
            rest %= divisor
            divisor /= 10
        }
    }

    /// Reads an RFC 3339 string byte by byte; every read checks the bounds.
    private struct ByteReader {
        let bytes: UnsafeBufferPointer<UInt8>
        var index = 0

        var isAtEnd: Bool { index == bytes.count }

        /// One ASCII digit, or nil (and nothing consumed).
        mutating func digit() -> Int64? {
            guard index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) else { return nil }
            defer { index += 1 }
            return Int64(bytes[index] - UInt8(ascii: "0"))
        }

        /// Exactly `count` ASCII digits as a number.
        mutating func digits(_ count: Int) -> Int64? {
            var value: Int64 = 0
            for _ in 0..<count {
                guard let digit = digit() else { return nil }
                value = value * 10 + digit
            }
            return value
        }

        /// Consumes `character` (or its lower case, when allowed) if it comes next.
        mutating func take(_ character: Unicode.Scalar, lowerCase: Bool = false) -> Bool {
            guard index < bytes.count else { return false }
            let byte = bytes[index]
            let lower = UInt8(ascii: character) | 0x20
            guard byte == UInt8(ascii: character) || (lowerCase && byte == lower) else { return false }
            index += 1
            return true
        }

        /// `+` as 1 or `-` as -1.
        mutating func sign() -> Int64? {
            if take("+") { return 1 }
            if take("-") { return -1 }
            return nil
        }
    }
}
