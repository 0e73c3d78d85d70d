import AirlockCore
import AirlockExchange

/// The TLP level of a posted STIX object: the strictest TLP marking among its
/// `object_marking_refs`. TLP 2.0 markings (``STIXMarking``) and STIX 2.1's predefined TLP 1.0
/// ones (WHITE read as CLEAR) count; other markings do not. Granular markings are not read: an
/// object's level is that of the object as a whole.
enum TAXIIObjectMarking {
    /// The TLP 1.0 marking definitions that STIX 2.1 predefines (§7.2.1.4), by id.
    static let tlp1: [String: TrafficLightProtocol] = [
        "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9": .clear,
        "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da": .green,
        "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82": .amber,
        "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed": .red,
    ]

    /// The strictest TLP level the object's `object_marking_refs` name; nil when they name none.
    static func level(ofObject json: [UInt8]) -> TrafficLightProtocol? {
        // Keys decoded: `"object_marking_ref\u0073"` is this member to every later reader, so a
        // search for the plain spelling would let an escaped marking pass unread.
        guard let object = try? JSONObjectMembers(json, keys: .decoded), let refs = object.strings("object_marking_refs") else {
            return nil
        }
        return refs.compactMap { STIXMarking.level(ofMarking: $0) ?? tlp1[$0] }.max()
    }
}
