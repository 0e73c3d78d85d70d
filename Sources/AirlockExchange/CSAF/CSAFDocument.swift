import AirlockCore

/// A CSAF 2.0 document ready to serve: its JSON, tracking id, file name and URL.
public struct CSAFDocument: Sendable, Hashable {
    /// The whole document.
    public var json: JSONValue
    /// `/document/tracking/id`.
    public var trackingId: String
    /// The file name CSAF §5.1 asks for (``fileName(forTrackingId:)``).
    public var fileName: String
    /// Where the publisher serves it.
    public var url: String
    /// The TLP 2.0 marking the document carries (its CSAF label may be the TLP 1.0 name).
    public var tlp: TrafficLightProtocol

    public init(json: JSONValue, trackingId: String, fileName: String, url: String, tlp: TrafficLightProtocol) {
        self.json = json
        self.trackingId = trackingId
        self.fileName = fileName
        self.url = url
        self.tlp = tlp
    }

    /// The document as UTF-8 JSON, indented by default as CSAF providers usually serve them.
    public func jsonBytes(pretty: Bool = true) -> [UInt8] { SharingJSON.bytes(json, pretty: pretty) }

    /// CSAF §5.1: the tracking id in lower case, each run of characters other than `+`, `-`,
    /// `a`–`z` and `0`–`9` replaced by `_`, then `.json`.
    public static func fileName(forTrackingId trackingId: String) -> String {
        var name = ""
        var inRun = false
        for character in trackingId.lowercased() {
            if character.isASCII && (character.isLetter || character.isNumber || character == "+" || character == "-") {
                name.append(character)
                inRun = false
            } else if !inRun {
                name.append("_")
                inRun = true
            }
        }
        return name + ".json"
    }

    /// CSAF 2.0's `distribution.tlp.label`: CSAF 2.0 knows only TLP 1.0's labels, so CLEAR is
    /// written WHITE and AMBER+STRICT AMBER (with ``distributionText(for:)`` saying the rest).
    public static func tlpLabel(for level: TrafficLightProtocol) -> String {
        switch level {
        case .clear: "WHITE"
        case .green: "GREEN"
        case .amber, .amberStrict: "AMBER"
        case .red: "RED"
        }
    }

    /// `distribution.text`: the TLP 2.0 label in words, and for AMBER+STRICT the limit that
    /// CSAF 2.0's plain AMBER cannot carry.
    public static func distributionText(for level: TrafficLightProtocol) -> String {
        switch level {
        case .amberStrict:
            "TLP:AMBER+STRICT (TLP 2.0): recipients may share this document only within their own organisation, on a "
                + "need-to-know basis, and not with clients. CSAF 2.0 has no AMBER+STRICT label, so tlp.label reads AMBER."
        case .clear:
            "TLP:CLEAR (TLP 2.0): no limit on disclosure. CSAF 2.0 writes this label as WHITE."
        case .green, .amber, .red:
            "\(level.label) (TLP 2.0)."
        }
    }
}

/// A document's tracking status (CSAF §3.2.1.12.6).
public enum CSAFTrackingStatus: String, Sendable, Hashable, CaseIterable {
    /// Before publication: shared with participants under embargo, version 0.
    case draft
    /// Published, with vendors still investigating: updates are expected.
    case interim
    /// Published, every vendor has stated its status.
    case final
}
