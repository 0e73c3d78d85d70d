import AirlockCore
import Foundation
import Testing

/// The one RFC 3339 parser and formatter: ASCII digits only, every field in range, no crash on
/// any input, and a formatted time that reads back as itself.
@Suite struct RFC3339Tests {
    static let epoch2027 = Date(timeIntervalSince1970: 1_803_859_200)  // 2027-03-01T00:00:00Z

    @Test func readsTheForms() throws {
        #expect(RFC3339.parse("2027-03-01T00:00:00Z") == Self.epoch2027)
        #expect(RFC3339.parse("2027-03-01t00:00:00z") == Self.epoch2027)
        #expect(RFC3339.parse("2027-03-01T01:30:00+01:30") == Self.epoch2027)
        #expect(RFC3339.parse("2027-02-28T19:00:00-05:00") == Self.epoch2027)
        #expect(RFC3339.parse("2027-03-01T00:00:00-00:00") == Self.epoch2027)
        #expect(RFC3339.parse("2027-03-01T00:00:00.5Z") == Self.epoch2027.addingTimeInterval(0.5))
        #expect(RFC3339.parse("2027-03-01T00:00:00.123456789Z")?.timeIntervalSince(Self.epoch2027) ?? 0 > 0.1234567)
        #expect(RFC3339.parse("2028-02-29T00:00:00Z") != nil)
        #expect(RFC3339.parse("2000-02-29T00:00:00Z") != nil)
    }

    /// Other scripts' digits are digits to `\d` and `Int(_:)`; the old regex let them through and
    /// then crashed on a force unwrap. Here they are simply not a time, in every field.
    @Test(arguments: [
        "٢٠٢٧-01-01T00:00:00Z", "2027-٠١-01T00:00:00Z", "2027-01-٠١T00:00:00Z", "2027-01-01T٠٠:00:00Z",
        "2027-01-01T00:٠٠:00Z", "2027-01-01T00:00:٠٠Z", "2027-01-01T00:00:00.٥Z", "2027-01-01T00:00:00+٠١:00",
        "2027-01-01T00:00:00+01:٠٠", "２０２７-01-01T00:00:00Z", "2027-01-01T00:00:00.１Z", "߂߀߂߇-01-01T00:00:00Z",
    ])
    func refusesDigitsOfOtherScripts(_ text: String) {
        #expect(RFC3339.parse(text) == nil)
        #expect(RFC3339.instant(text, syntax: .stix) == nil)
    }

    @Test(arguments: [
        "", "2027", "2027-03-01", "2027-03-01T00:00Z", "2027-03-01 00:00:00Z", "2027-03-01T00:00:00", "2027-3-01T00:00:00Z",
        "2027-13-01T00:00:00Z", "2027-00-01T00:00:00Z", "2027-02-29T00:00:00Z", "2027-04-31T00:00:00Z", "2027-03-00T00:00:00Z",
        "2027-03-01T24:00:00Z", "2027-03-01T00:60:00Z", "2027-03-01T00:00:60Z", "2027-03-01T00:00:00.Z", "2027-03-01T00:00:00.1234567890Z",
        "2027-03-01T00:00:00+24:00", "2027-03-01T00:00:00+01:60", "2027-03-01T00:00:00+0100", "2027-03-01T00:00:00+01",
        "2027-03-01T00:00:00+1:00", "2027-03-01T00:00:00 Z", " 2027-03-01T00:00:00Z", "2027-03-01T00:00:00ZZ", "2027-03-01T00:00:00Z\n",
        "+2027-03-01T00:00:00Z", "2027-03-01T00:00:00.1e3Z", "2100-02-29T00:00:00Z",
    ])
    func refusesMalformedTimes(_ text: String) {
        #expect(RFC3339.parse(text) == nil, "\(text)")
    }

    @Test func extremeYears() {
        // The API keeps to UTC years 1…9999, so that every time it accepts can be written back.
        #expect(RFC3339.parse("0001-01-01T00:00:00Z") != nil)
        #expect(RFC3339.parse("9999-12-31T23:59:59.999999999Z") != nil)
        #expect(RFC3339.parse("0000-12-31T23:59:59Z") == nil)
        #expect(RFC3339.parse("0001-01-01T00:00:00+00:01") == nil)
        #expect(RFC3339.parse("9999-12-31T23:59:00-00:01") == nil)
        #expect(RFC3339.parse("0000-01-01T00:00:00Z", syntax: .stix) != nil)
        #expect(RFC3339.format(RFC3339.parse("0001-01-01T00:00:00Z")!) == "0001-01-01T00:00:00.000Z")
        #expect(RFC3339.format(RFC3339.parse("9999-12-31T23:59:59.999Z")!) == "9999-12-31T23:59:59.999Z")
        // Beyond what RFC 3339 can write: no crash, and a year that still reads as a number.
        #expect(RFC3339.format(Date.distantFuture).hasPrefix("4001-"))
        #expect(RFC3339.format(Date(timeIntervalSince1970: -1e13)).hasPrefix("-"))
        _ = RFC3339.format(Date(timeIntervalSinceReferenceDate: .nan))
        _ = RFC3339.format(Date(timeIntervalSinceReferenceDate: .infinity))
        _ = RFC3339.format(Date(timeIntervalSinceReferenceDate: -.greatestFiniteMagnitude))
    }

    @Test func fractionsOfManyDigits() throws {
        let long = "2027-03-01T00:00:00." + String(repeating: "9", count: 40) + "Z"
        #expect(RFC3339.parse(long) == nil)
        let instant = try #require(RFC3339.instant(long, syntax: .stix))
        #expect(instant == RFC3339.Instant(secondsSince1970: 1_803_859_200, nanoseconds: 999_999_999))
        #expect(RFC3339.instant("2027-03-01T00:00:00.1234567891Z", syntax: .stix)?.nanoseconds == 123_456_789)
        #expect(RFC3339.instant("2027-03-01T00:00:00+01:00", syntax: .stix) == nil)
        #expect(RFC3339.instant("2027-03-01t00:00:00Z", syntax: .stix) == nil)
    }

    @Test func writesUTCWithTheDigitsAsked() {
        let date = Self.epoch2027.addingTimeInterval(0.1234567)
        #expect(RFC3339.format(date) == "2027-03-01T00:00:00.123Z")
        #expect(RFC3339.format(date, fractionDigits: 0) == "2027-03-01T00:00:00Z")
        #expect(RFC3339.format(date, fractionDigits: 6) == "2027-03-01T00:00:00.123457Z")
        // Rounding carries into the second.
        #expect(RFC3339.format(Self.epoch2027.addingTimeInterval(-0.0001)) == "2027-03-01T00:00:00.000Z")
        #expect(RFC3339.format(Date(timeIntervalSince1970: -0.5)) == "1969-12-31T23:59:59.500Z")
        let instant = RFC3339.Instant(secondsSince1970: 1_803_859_200, nanoseconds: 123_456_789)
        #expect(RFC3339.format(instant, fractionDigits: 6) == "2027-03-01T00:00:00.123456Z")
    }

    /// Found by the fuzz target (Tests/Fuzz/rfc3339/year-9999-*): a time the API reads in the
    /// last millisecond of 9999 is written back in 9999, not rounded (or, past a `Date`'s
    /// precision, carried) into a year 10000 that it would refuse to read.
    @Test(arguments: ["9999-12-31T23:59:59.9995Z", "9999-12-31T23:59:59.9999Z", "9999-12-31T23:59:59.999999999Z"])
    func lastMillisecondOf9999StaysIn9999(text: String) throws {
        let date = try #require(RFC3339.parse(text))
        #expect(RFC3339.format(date) == "9999-12-31T23:59:59.999Z")
        #expect(RFC3339.parse(RFC3339.format(date)) != nil)
        #expect(RFC3339.format(date, fractionDigits: 0) == "9999-12-31T23:59:59Z")
    }

    /// parse(format(x)) == x for millisecond times over the API's whole range, and format(parse(s)) == s.
    @Test func roundTrips() throws {
        var generator = SeededGenerator(seed: 9457)
        for _ in 0..<20_000 {
            let text = Self.randomTime(&generator)
            let date = try #require(RFC3339.parse(text), "\(text)")
            #expect(RFC3339.format(date) == text)
            #expect(RFC3339.parse(RFC3339.format(date)) == date, "\(text)")
            let instant = try #require(RFC3339.instant(text, syntax: .stix))
            #expect(RFC3339.instant(RFC3339.format(instant, fractionDigits: 9), syntax: .stix) == instant)
        }
    }

    /// A canonical API time (milliseconds, `Z`) anywhere in years 1…9999.
    static func randomTime(_ generator: inout SeededGenerator) -> String {
        let year = Int64.random(in: 1...9999, using: &generator)
        let month = Int64.random(in: 1...12, using: &generator)
        let days: Int64 = [1, 3, 5, 7, 8, 10, 12].contains(month) ? 31 : month == 2 ? 28 : 30
        let seconds = RFC3339.days(fromYear: year, month: month, day: Int64.random(in: 1...days, using: &generator)) * 86_400
            + Int64.random(in: 0..<86_400, using: &generator)
        let instant = RFC3339.Instant(secondsSince1970: seconds, nanoseconds: Int64.random(in: 0..<1000, using: &generator) * 1_000_000)
        return RFC3339.format(instant, fractionDigits: 3)
    }
}

/// The one password rule.
@Suite struct PasswordRuleTests {
    @Test func twelveCharactersOrMore() throws {
        try PasswordRule.check("correct-hors")
        try PasswordRule.check(String(repeating: "é", count: 12))
        let error = #expect(throws: ProgramRuleError.self) { try PasswordRule.check("eleven-char") }
        #expect(error?.code == .invalidField)
        #expect(error?.field == "password")
        #expect(error?.reason == "a password has at least 12 characters")
        #expect(throws: ProgramRuleError.self) { try PasswordRule.check("") }
    }
}
