import AirlockCore
import AirlockTestSupport
import Foundation
import PropertyBased
import Testing

/// The RFC 3339 parser under generated and mutated timestamps: it never crashes, what it accepts
/// is ASCII, formats back and reparses to the same instant, and agrees with Foundation's
/// Gregorian calendar; other scripts' digits are refused.
@Suite struct RFC3339FuzzTests {
    static let syntaxes: [(name: String, syntax: RFC3339.Syntax)] = [
        ("api", .api), ("stix", .stix),
        ("strict", RFC3339.Syntax(allowsOffsets: false, allowsLowerCase: false, maximumFractionDigits: 3)),
    ]

    /// Timestamps with every field drawn from a little past its range, so that both sides of
    /// each check are reached.
    static let timestamps = zip(
        Gen.int(in: 0...9999), Gen.int(in: 0...13), Gen.int(in: 0...32), Gen.int(in: 0...24), Gen.int(in: 0...60),
        Gen.int(in: 0...60), Gen<Character>.number.string(of: 0...12), Gen<String?>.element(of: ["Z", "z", "+00:00", "-05:30", "+23:59", "-23:59", "+24:00"]),
        Gen<String?>.element(of: ["T", "t", " "])
    ).map { year, month, day, hour, minute, second, fraction, zone, separator in
        func two(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
        let four = String(repeating: "0", count: 4 - String(year).count) + String(year)
        return "\(four)-\(two(month))-\(two(day))\(separator ?? "T")\(two(hour)):\(two(minute)):\(two(second))"
            + (fraction.isEmpty ? "" : "." + fraction) + (zone ?? "Z")
    }

    static let otherDigits = ["٢", "１", "۳", "߂", "४"]

    static let target = FuzzTarget(
        "rfc3339",
        seeds: ["2027-03-01T09:30:00.123Z", "1970-01-01T00:00:00Z", "0000-01-01T00:00:00Z", "9999-12-31T23:59:59.999999999Z",
                "2024-02-29T12:00:00+14:00", "2023-02-29T12:00:00Z", "0001-01-01T00:30:00+01:00", "9999-12-31T23:59:59.9999Z"],
        tokens: otherDigits + [":", "-", "+", ".", "Z", "T", "60", "24", "00", "99", "29", "31", "0000", "9999"],
        generator: timestamps
    ) { bytes throws(FuzzFailure) in
        let text = String(decoding: bytes, as: UTF8.self)
        for (name, syntax) in syntaxes {
            let instant = bytes.withUnsafeBufferPointer { RFC3339.instant(utf8: $0, syntax: syntax) }
            if Array(text.utf8) == bytes {
                try fuzzRequire(RFC3339.instant(text, syntax: syntax) == instant, "\(name): the String and the bytes read differently")
            }
            try checkAgainstCalendar(text, instant: instant, syntax: syntax, name: name)
            guard let instant else { continue }
            try fuzzRequire(bytes.allSatisfy { $0 < 0x80 }, "\(name): accepted bytes that are not ASCII")
            let digits = min(9, syntax.maximumFractionDigits)
            let written = RFC3339.format(instant, fractionDigits: digits)
            try fuzzRequire(RFC3339.instant(written, syntax: syntax) == instant, "\(name): \(written), its formatted form, reads as another instant")
            try checkOtherDigitsRefused(text, syntax: syntax, name: name)
        }
        if let date = RFC3339.parse(text) {
            // The API writes milliseconds, rounded: the text it writes reads back within half of
            // one, or, where rounding would carry into year 10000, as 9999's last millisecond (a `Date`
            // this late is precise to 30 µs).
            let written = RFC3339.format(date)
            guard let again = RFC3339.parse(written) else { throw FuzzFailure("api: the date's formatted form \(written) does not read back") }
            let off = again.timeIntervalSince(date)
            try fuzzRequire(
                abs(off) <= 0.000_55 || (written == "9999-12-31T23:59:59.999Z" && (-0.001_1...0).contains(off)),
                "api: \(written) is \(off) s from the date")
        }
    }

    /// Each ASCII digit of an accepted timestamp in turn replaced by another script's digit.
    static func checkOtherDigitsRefused(_ text: String, syntax: RFC3339.Syntax, name: String) throws(FuzzFailure) {
        let characters = Array(text)
        for (position, character) in characters.enumerated() where character.isASCII && character.isNumber {
            var changed = characters
            changed[position] = Character(otherDigits[position % otherDigits.count])
            try fuzzRequire(RFC3339.instant(String(changed), syntax: syntax) == nil, "\(name): accepted \(String(changed))")
        }
    }

    /// How Foundation's Gregorian calendar reads the fields: whether they name a time without
    /// rolling over, and its seconds since 1970 after the offset. Nil outside the grammar, or
    /// before 1601, where that calendar is Julian.
    static func calendarReading(_ text: String) -> (valid: Bool, seconds: Int64)? {
        let grammar = /([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt]([0-9]{2}):([0-9]{2}):([0-9]{2})(\.[0-9]{1,9})?([Zz]|([+-])([0-9]{2}):([0-9]{2}))/
        guard let match = text.wholeMatch(of: grammar), let year = Int(match.output.1), year >= 1601 else { return nil }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(secondsFromGMT: 0)!
        let fields = DateComponents(
            year: year, month: Int(match.output.2), day: Int(match.output.3), hour: Int(match.output.4), minute: Int(match.output.5),
            second: Int(match.output.6))
        var offset = 0
        if let sign = match.output.9, let hours = match.output.10.flatMap({ Int($0) }), let minutes = match.output.11.flatMap({ Int($0) }) {
            guard hours < 24, minutes < 60 else { return (false, 0) }
            offset = (sign == "-" ? -1 : 1) * (hours * 3600 + minutes * 60)
        }
        guard let date = calendar.date(from: fields) else { return (false, 0) }
        let back = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        let valid = back.year == fields.year && back.month == fields.month && back.day == fields.day && back.hour == fields.hour
            && back.minute == fields.minute && back.second == fields.second
        return (valid, Int64(date.timeIntervalSince1970) - Int64(offset))
    }

    /// Accepted timestamps are valid and name the calendar's instant; under the API's syntax,
    /// valid ones in years 1601 to 9998 (clear of the UTC year limit) are accepted.
    static func checkAgainstCalendar(_ text: String, instant: RFC3339.Instant?, syntax: RFC3339.Syntax, name: String) throws(FuzzFailure) {
        guard let reading = calendarReading(text) else { return }
        if let instant {
            try fuzzRequire(reading.valid, "\(name): accepted \(text), whose fields roll over in Foundation's calendar")
            try fuzzRequire(reading.seconds == instant.secondsSince1970, "\(name): \(text) is \(instant.secondsSince1970) s, Foundation says \(reading.seconds)")
        } else if syntax == .api, reading.valid, let year = Int(text.prefix(4)), year <= 9998 {
            throw FuzzFailure("\(name): refused \(text), a valid time")
        }
    }

    @Test func fuzz() {
        Self.target.run()
    }

    /// The oracle is not vacuous: a rolled-over date passes the grammar but not the calendar,
    /// and a valid one read as another instant is caught.
    @Test func calendarOracleCatchesMistakes() {
        let epoch = RFC3339.Instant(secondsSince1970: 0, nanoseconds: 0)
        #expect(throws: FuzzFailure.self) { try Self.checkAgainstCalendar("2023-02-29T00:00:00Z", instant: epoch, syntax: .api, name: "test") }
        #expect(throws: FuzzFailure.self) { try Self.checkAgainstCalendar("1970-01-01T00:00:01Z", instant: epoch, syntax: .api, name: "test") }
        #expect(throws: FuzzFailure.self) { try Self.checkAgainstCalendar("1970-01-01T00:00:00Z", instant: nil, syntax: .api, name: "test") }
        #expect(throws: Never.self) { try Self.checkAgainstCalendar("1970-01-01T01:00:00+01:00", instant: epoch, syntax: .api, name: "test") }
    }
}
