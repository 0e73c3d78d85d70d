import Foundation

/// An iCalendar feed (RFC 5545) of events: text escaped, lines folded at 75 octets without
/// splitting a character, CRLF line ends. A name or description can hold anything (a model's
/// name is its developer's words): nothing in it can end a property or begin another.
public enum ICalendar {
    public struct Event: Sendable, Hashable {
        /// Unique and stable, so that a calendar updates the event rather than adding another.
        public var uid: String
        public var summary: String
        public var description: String
        public var start: Date
        /// The end (exclusive); all-day events end the next day by default.
        public var end: Date?
        public var allDay: Bool

        public init(uid: String, summary: String, description: String = "", start: Date, end: Date? = nil, allDay: Bool = false) {
            self.uid = uid
            self.summary = summary
            self.description = description
            self.start = start
            self.end = end
            self.allDay = allDay
        }
    }

    public static func document(name: String, events: [Event], stamp: Date) -> String {
        var lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Airlock//Review calendar//EN", "CALSCALE:GREGORIAN", "X-WR-CALNAME:" + escape(name)]
        for event in events {
            lines += ["BEGIN:VEVENT", "UID:" + escape(event.uid), "DTSTAMP:" + timestamp(stamp)]
            if event.allDay {
                lines.append("DTSTART;VALUE=DATE:" + day(event.start))
                lines.append("DTEND;VALUE=DATE:" + day(event.end ?? event.start.addingTimeInterval(86_400)))
            } else {
                lines.append("DTSTART:" + timestamp(event.start))
                if let end = event.end { lines.append("DTEND:" + timestamp(end)) }
            }
            lines.append("SUMMARY:" + escape(event.summary))
            if !event.description.isEmpty { lines.append("DESCRIPTION:" + escape(event.description)) }
            lines.append("END:VEVENT")
        }
        lines.append("END:VCALENDAR")
        return lines.flatMap(fold).map { $0 + "\r\n" }.joined()
    }

    /// TEXT as RFC 5545 writes it: `\`, `;` and `,` escaped, a line break as `\n`, and any
    /// other control character left out.
    public static func escape(_ text: String) -> String {
        var result = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\\": result += "\\\\"
            case ";": result += "\\;"
            case ",": result += "\\,"
            case "\n": result += "\\n"
            case _ where scalar.value < 0x20 || scalar.value == 0x7F: continue
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result
    }

    /// A content line folded at 75 octets: each further line starts with a space.
    public static func fold(_ line: String) -> [String] {
        var lines: [String] = []
        var current = ""
        var octets = 0
        for character in line {
            let size = String(character).utf8.count
            let limit = lines.isEmpty ? 75 : 74
            if octets + size > limit {
                lines.append(lines.isEmpty ? current : " " + current)
                current = ""
                octets = 0
            }
            current.append(character)
            octets += size
        }
        lines.append(lines.isEmpty ? current : " " + current)
        return lines
    }

    static func timestamp(_ date: Date) -> String {
        let parts = Calendar(identifier: .gregorian).dateComponents(in: TimeZone(identifier: "UTC")!, from: date)
        return String(format: "%04d%02d%02dT%02d%02d%02dZ", parts.year ?? 0, parts.month ?? 0, parts.day ?? 0, parts.hour ?? 0, parts.minute ?? 0, parts.second ?? 0)
    }

    static func day(_ date: Date) -> String {
        let parts = Calendar(identifier: .gregorian).dateComponents(in: TimeZone(identifier: "UTC")!, from: date)
        return String(format: "%04d%02d%02d", parts.year ?? 0, parts.month ?? 0, parts.day ?? 0)
    }
}
