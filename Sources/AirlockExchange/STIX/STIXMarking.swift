import AirlockCore

/// The five TLP 2.0 marking definitions, as OASIS's TLP 2.0 extension defines them
/// (cti-stix-common-objects, `extension-definition--60a3c5c5-…`): fixed ids, names and values.
///
/// They are never versioned (§7.2.1) and never carry TLP 1.0's `definition_type: "tlp"`, whose
/// schema knows only white, green, amber and red.
public enum STIXMarking {
    /// The TLP 2.0 extension definition's id.
    public static let tlp2ExtensionId = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"
    /// The `created` of every TLP 2.0 marking definition, as OASIS's examples have it.
    public static let created = "2022-10-01T00:00:00.000Z"

    /// The fixed id of a level's marking definition.
    public static func id(of level: TrafficLightProtocol) -> String {
        switch level {
        case .clear: "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"
        case .green: "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"
        case .amber: "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"
        case .amberStrict: "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003"
        case .red: "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"
        }
    }

    /// The level a TLP 2.0 marking-definition id stands for; nil for any other id (TLP 1.0 ones included).
    public static func level(ofMarking id: String) -> TrafficLightProtocol? {
        TrafficLightProtocol.allCases.first { Self.id(of: $0) == id }
    }

    /// A level's marking-definition object.
    public static func definition(of level: TrafficLightProtocol) -> STIXObject {
        STIXObject([
            "type": .string("marking-definition"),
            "spec_version": .string("2.1"),
            "id": .string(id(of: level)),
            "created": .string(created),
            "name": .string(level.label),
            "extensions": .object([
                tlp2ExtensionId: .object([
                    "extension_type": .string("property-extension"),
                    "tlp_2_0": .string(level.rawValue),
                ])
            ]),
        ])
    }

    /// All five, least restrictive first.
    public static var all: [STIXObject] { TrafficLightProtocol.allCases.map(definition(of:)) }
}
