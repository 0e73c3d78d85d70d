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
        let (seconds, micros) = Self.floorDivide(microsecondsSince1970, 1_000_000)
        let (days, secondOfDay) = Self.floorDivide(seconds, 86_400)
        let (year, month, day) = Self.civil(fromDays: days)
        if year < 0 || year > 9999 {
            // Never parsed from text; written plainly so that the value still reads as a number.
            bytes.append(contentsOf: String(year).utf8)
        } else {
            Self.appendDigits(year, count: 4, to: &bytes)
        }
        bytes.append(UInt8(ascii: "-"))
        Self.appendDigits(month, count: 2, to: &bytes)
        bytes.append(UInt8(ascii: "-"))
        Self.appendDigits(day, count: 2, to: &bytes)
        bytes.append(UInt8(ascii: "T"))
        Self.appendDigits(secondOfDay / 3600, count: 2, to: &bytes)
        bytes.append(UInt8(ascii: ":"))
        Self.appendDigits(secondOfDay / 60 % 60, count: 2, to: &bytes)
        bytes.append(UInt8(ascii: ":"))
        Self.appendDigits(secondOfDay % 60, count: 2, to: &bytes)
        bytes.append(UInt8(ascii: "."))
        Self.appendDigits(micros, count: 6, to: &bytes)
        bytes.append(UInt8(ascii: "Z"))
    }

    // MARK: - Calendar arithmetic (proleptic Gregorian, after H. Hinnant's `days_from_civil`)

    private static func parse(_ b: UnsafeBufferPointer<UInt8>) -> Int64? {
        // YYYY-MM-DDTHH:MM:SS is 19 bytes; then `Z` or `.` digits `Z`.
        guard b.count >= 20,
              b[4] == UInt8(ascii: "-"), b[7] == UInt8(ascii: "-"), b[10] == UInt8(ascii: "T"),
              b[13] == UInt8(ascii: ":"), b[16] == UInt8(ascii: ":"), b[b.count - 1] == UInt8(ascii: "Z"),
              let year = digits(b, 0, 4), let month = digits(b, 5, 2), let day = digits(b, 8, 2),
              let hour = digits(b, 11, 2), let minute = digits(b, 14, 2), let second = digits(b, 17, 2)
        else { return nil }
        guard (1...12).contains(month), day >= 1, day <= daysIn(month: month, year: year),
              hour < 24, minute < 60, second < 60
        else { return nil }
        var micros: Int64 = 0
        if b.count > 20 {
            guard b[19] == UInt8(ascii: "."), b.count > 21 else { return nil }
            var scale: Int64 = 100_000
            for index in 20..<(b.count - 1) {
                let byte = b[index]
                guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
                micros += Int64(byte - UInt8(ascii: "0")) * scale
                scale /= 10
            }
        }
        let days = Self.days(fromCivilYear: year, month: month, day: day)
        let seconds = days * 86_400 + Int64(hour * 3600 + minute * 60 + second)
        return seconds * 1_000_000 + micros
    }

    private static func digits(_ b: UnsafeBufferPointer<UInt8>, _ start: Int, _ count: Int) -> Int? {
        var value = 0
        for index in start..<(start + count) {
            let byte = b[index]
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            value = value * 10 + Int(byte - UInt8(ascii: "0"))
        }
        return value
    }

    private static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    private static func days(fromCivilYear year: Int, month: Int, day: Int) -> Int64 {
        let y = Int64(month <= 2 ? year - 1 : year)
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let m = Int64(month)
        let dayOfYear = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + Int64(day) - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    private static func civil(fromDays days: Int64) -> (year: Int, month: Int, day: Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        return (Int(year), Int(month), Int(day))
    }

    private static func floorDivide(_ value: Int64, _ divisor: Int64) -> (Int64, Int64) {
        var quotient = value / divisor
        var remainder = value % divisor
        if remainder < 0 {
            quotient -= 1
            remainder += divisor
        }
        return (quotient, remainder)
    }

    private static func appendDigits(_ value: some BinaryInteger, count: Int, to bytes: inout [UInt8]) {
        var divisor = 1
        for _ in 1..<count { divisor *= 10 }
        var rest = Int(value)
        while divisor > 0 {
            bytes.append(UInt8(ascii: "0") + UInt8(rest / divisor % 10))
            rest %= divisor
            divisor /= 10
        }
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
