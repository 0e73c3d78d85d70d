import AirlockExchange
import Foundation
import Testing

@Suite struct TAXIITimestampTests {
    @Test(arguments: [
        ("1970-01-01T00:00:00Z", Int64(0)),
        ("2016-04-06T20:03:48.123456Z", 1_459_973_028_123_456),
        ("2016-04-06T20:03:48.123Z", 1_459_973_028_123_000),
        ("2016-04-06T20:03:48.1Z", 1_459_973_028_100_000),
        ("2016-04-06T20:03:48Z", 1_459_973_028_000_000),
        // Digits past the sixth are dropped.
        ("2016-04-06T20:03:48.1234569Z", 1_459_973_028_123_456),
        ("2016-04-06T20:03:48.123456999999999999Z", 1_459_973_028_123_456),
        ("2000-02-29T23:59:59.000001Z", 951_868_799_000_001),
        ("1969-12-31T23:59:59.999999Z", -1),
        ("0001-01-01T00:00:00.000000Z", -62_135_596_800_000_000),
        ("9999-12-31T23:59:59.999999Z", 253_402_300_799_999_999),
    ])
    func readsSTIXTimestampsOfAnyPrecision(text: String, micros: Int64) {
        #expect(TAXIITimestamp(text)?.microsecondsSince1970 == micros)
        #expect(TAXIITimestamp(utf8: Array(text.utf8))?.microsecondsSince1970 == micros)
    }

    @Test(arguments: [
        "", "2016-04-06", "2016-04-06T20:03:48", "2016-04-06T20:03:48.Z", "2016-04-06T20:03:48.123z",
        "2016-04-06t20:03:48Z", "2016-04-06T20:03:48+00:00", "2016-04-06 20:03:48Z", "2016-13-06T20:03:48Z",
        "2016-00-06T20:03:48Z", "2016-04-31T20:03:48Z", "2015-02-29T00:00:00Z", "1900-02-29T00:00:00Z",
        "2016-04-06T24:00:00Z", "2016-04-06T20:60:00Z", "2016-04-06T20:03:60Z", "2016-04-06T20:03:48.12a4Z",
        "16-04-06T20:03:48Z", "2016-4-06T20:03:48Z", "+016-04-06T20:03:48Z", "2016-04-06T20:03:48.123456ZZ",
    ])
    func refusesWhatIsNotASTIXTimestamp(text: String) {
        #expect(TAXIITimestamp(text) == nil)
    }

    @Test func leapDaysAreChecked() {
        #expect(TAXIITimestamp("2016-02-29T00:00:00Z") != nil)
        #expect(TAXIITimestamp("2000-02-29T00:00:00Z") != nil)
        #expect(TAXIITimestamp("2100-02-29T00:00:00Z") == nil)
    }

    @Test func writesSixFractionDigits() {
        #expect(TAXIITimestamp(microsecondsSince1970: 0).description == "1970-01-01T00:00:00.000000Z")
        #expect(TAXIITimestamp(microsecondsSince1970: -1).description == "1969-12-31T23:59:59.999999Z")
        #expect(TAXIITimestamp("2016-04-06T20:03:48.1Z")?.description == "2016-04-06T20:03:48.100000Z")
        #expect(TAXIITimestamp("2000-02-29T23:59:59.000001Z")?.description == "2000-02-29T23:59:59.000001Z")
    }

    @Test func writingThenReadingGivesTheSameInstant() {
        // A deterministic spread of instants from year 1 to 9999, past and after 1970.
        var value: Int64 = -62_135_596_800_000_000
        let step: Int64 = 7_919_993_751_234_567
        while value < 253_402_300_799_999_999 {
            let timestamp = TAXIITimestamp(microsecondsSince1970: value)
            #expect(TAXIITimestamp(timestamp.description) == timestamp, "\(timestamp)")
            value += step
        }
    }

    @Test func convertsDates() {
        #expect(TAXIITimestamp(Date(timeIntervalSince1970: 1.5)).microsecondsSince1970 == 1_500_000)
        #expect(TAXIITimestamp(microsecondsSince1970: 2_250_000).date == Date(timeIntervalSince1970: 2.25))
    }

    @Test func ordersByInstant() {
        let early = TAXIITimestamp("2016-04-06T20:03:48.1Z")
        let late = TAXIITimestamp("2016-04-06T20:03:48.100001Z")
        #expect(early! < late!)
        #expect(TAXIITimestamp("2016-04-06T20:03:48.1Z") == TAXIITimestamp("2016-04-06T20:03:48.100000Z"))
    }

    @Test func dateAddedAlwaysMovesForward() {
        let previous = TAXIIFixture.time(10)
        #expect(TAXIITimestamp.dateAdded(now: TAXIIFixture.time(20), previous: nil) == TAXIIFixture.time(20))
        #expect(TAXIITimestamp.dateAdded(now: TAXIIFixture.time(20), previous: previous) == TAXIIFixture.time(20))
        // A clock that stands still or steps back still gives a later date_added.
        #expect(TAXIITimestamp.dateAdded(now: previous, previous: previous) == TAXIIFixture.time(10, micros: 1))
        #expect(TAXIITimestamp.dateAdded(now: TAXIIFixture.time(5), previous: previous) == TAXIIFixture.time(10, micros: 1))
    }
}
