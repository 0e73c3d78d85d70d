import Foundation

/// A Traffic Light Protocol 2.0 label: how far a recipient may pass information on.
///
/// Ordered by restriction: `clear < green < amber < amberStrict < red`, so `max` of two labels is
/// the stricter one. The raw value is the TLP 2.0 value used by STIX's TLP extension
/// (`"amber+strict"`); ``label`` is the form people write (`"TLP:AMBER+STRICT"`).
public enum TrafficLightProtocol: String, Sendable, Hashable, Codable, CaseIterable, Comparable, CustomStringConvertible {
    /// Anyone, without limit (TLP 2.0 replaced TLP:WHITE with it).
    case clear
    /// Peers and partners in the recipient's community, not through public channels.
    case green
    /// The recipient's organisation and its clients, on a need-to-know basis.
    case amber
    /// The recipient's own organisation only, on a need-to-know basis.
    case amberStrict = "amber+strict"
    /// The named recipients only; no further disclosure.
    case red

    /// The label as FIRST writes it: `TLP:` and the colour in capitals, no space.
    public var label: String { "TLP:" + rawValue.uppercased() }

    public var description: String { label }

    private var rank: Int {
        switch self {
        case .clear: 0
        case .green: 1
        case .amber: 2
        case .amberStrict: 3
        case .red: 4
        }
    }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rank < rhs.rank }

    /// Reads a label: `TLP:AMBER+STRICT`, or the bare value `amber+strict`, in any case, with
    /// surrounding white space ignored.
    ///
    /// TLP 1.0's `TLP:WHITE` is refused with a pointer to `TLP:CLEAR`, so that an old label is
    /// never silently read as something else. `field` names the request field in the error.
    public init(parsing text: String, field: String = "tlp") throws(ProgramRuleError) {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines).uppercased()
        let colour = trimmed.hasPrefix("TLP:") ? String(trimmed.dropFirst(4)) : trimmed
        if let level = Self(rawValue: colour.lowercased()) {
            self = level
            return
        }
        let expected = Self.allCases.map(\.label).joined(separator: ", ")
        if colour == "WHITE" {
            throw ProgramRuleError(
                .invalidField, "TLP:WHITE is a TLP 1.0 label; TLP 2.0 replaced it with TLP:CLEAR", field: field)
        }
        throw ProgramRuleError(.invalidField, "\"\(text)\" is not a TLP 2.0 label (expected one of \(expected))", field: field)
    }
}
