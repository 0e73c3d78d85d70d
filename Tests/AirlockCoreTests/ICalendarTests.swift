import AirlockCore
import Foundation
import Testing

/// The review calendar's writer: text that cannot break out of its property, lines folded as
/// RFC 5545 asks, and the events a calendar needs.
struct ICalendarTests {
    @Test func textIsEscapedAndControlCharactersLeftOut() {
        #expect(ICalendar.escape("a,b;c\\d\ne\u{7}f\rg") == #"a\,b\;c\\d\nefg"#)
        // A name that tries to end its event and begin another stays one line of text.
        let hostile = "Frontier\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nSUMMARY:pwned"
        #expect(!ICalendar.escape(hostile).contains("\n") && !ICalendar.escape(hostile).contains("\r"))
    }

    @Test func longLinesAreFoldedAt75OctetsWithoutSplittingACharacter() {
        let line = "SUMMARY:" + String(repeating: "é🙂ab", count: 60)
        let folded = ICalendar.fold(line)
        #expect(folded.count > 1)
        #expect(folded.allSatisfy { $0.utf8.count <= 75 })
        #expect(folded.dropFirst().allSatisfy { $0.hasPrefix(" ") })
        #expect(folded[0] + folded.dropFirst().map { String($0.dropFirst()) }.joined() == line)
        #expect(ICalendar.fold("short") == ["short"])
    }

    @Test func aDocumentHasItsEventsWithCRLFEndings() {
        let start = Date(timeIntervalSince1970: 1_800_000_000)  // 2027-01-15T08:00:00Z
        let text = ICalendar.document(
            name: "Reviews",
            events: [
                .init(uid: "v1-release@airlock", summary: "Planned release: A, 1.0", start: start, allDay: true),
                .init(uid: "v1-call@airlock", summary: "Call", start: start, end: start.addingTimeInterval(3600)),
            ],
            stamp: start)
        #expect(text.hasPrefix("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n") && text.hasSuffix("END:VCALENDAR\r\n"))
        #expect(!text.replacingOccurrences(of: "\r\n", with: "").contains("\n"))
        let lines = text.components(separatedBy: "\r\n")
        #expect(lines.contains("DTSTART;VALUE=DATE:20270115") && lines.contains("DTEND;VALUE=DATE:20270116"))
        #expect(lines.contains("DTSTART:20270115T080000Z") && lines.contains("DTEND:20270115T090000Z"))
        #expect(lines.contains(#"SUMMARY:Planned release: A\, 1.0"#))
        #expect(lines.filter { $0 == "BEGIN:VEVENT" }.count == 2 && lines.filter { $0 == "DTSTAMP:20270115T080000Z" }.count == 2)
    }
}
