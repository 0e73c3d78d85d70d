import AirlockCore
import AirlockExchange
import Foundation

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

    private static let member = Array(#""object_marking_refs""#.utf8)

    /// The strictest TLP level the object's `object_marking_refs` name; nil when they name none.
    static func level(ofObject json: [UInt8]) -> TrafficLightProtocol? {
        // Most objects carry no markings; only those that mention the member are decoded.
        guard json.firstRange(of: member) != nil,
              let object = try? JSONSerialization.jsonObject(with: Data(json)) as? [String: Any],
              let refs = object["object_marking_refs"] as? [Any]
        else { return nil }
        return refs.compactMap { ref in
            guard let id = ref as? String else { return nil }
            return STIXMarking.level(ofMarking: id) ?? tlp1[id]
        }.max()
    }
}
