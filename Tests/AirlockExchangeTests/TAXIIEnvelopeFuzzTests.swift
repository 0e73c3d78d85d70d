import AirlockCore
import AirlockExchange
import AirlockTestSupport
import Foundation
import PropertyBased
import Testing

/// The TAXII envelope reader, and the STIX object and marking readers after it, under generated
/// and mutated envelopes: they never crash, and what they read (each object's id and type, its
/// bytes, its `object_marking_refs`) is what a full `JSONSerialization` parse finds.
@Suite struct TAXIIEnvelopeFuzzTests {
    static let markings = [
        "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487", "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
        "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9", "marking-definition--00000000-0000-4000-8000-000000000000",
    ]

    /// Envelopes of STIX-like objects: members left out, given twice, spelled with escapes, or
    /// of the wrong kind, beside random JSON members.
    static let envelopes = Generator<String, Shrink.None<String>> { random in
        func maybe(_ percent: Int, _ member: String) -> String? { JSONGrammar.chance(percent, &random) ? member : nil }
        let objects = (0..<Int.random(in: 0...4, using: &random)).map { _ in
            let type = JSONGrammar.pick(["indicator", "malware", "x-custom", "Indicator", "ab", "marking-definition"], &random)
            let uuid = JSONGrammar.pick(["8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", "00000000-0000-0000-0000-000000000000", "not-a-uuid"], &random)
            let time = JSONGrammar.pick(["2016-04-06T20:03:48.000Z", "2016-04-06T20:03:48Z", "2016-04-06T20:03:48.123456Z", "2016-02-30T00:00:00Z"], &random)
            let refs = (0..<Int.random(in: 0...3, using: &random)).map { _ in "\"" + JSONGrammar.pick(markings, &random) + "\"" }
            let members = [
                maybe(95, #""type":"\#(type)""#),
                maybe(95, #""id":"\#(JSONGrammar.pick([type, "indicator"], &random))--\#(uuid)""#),
                maybe(80, #""spec_version":"\#(JSONGrammar.pick(["2.1", "2.0"], &random))""#),
                maybe(70, #""created":"\#(time)""#),
                maybe(60, #""modified":"\#(time)""#),
                maybe(50, JSONGrammar.pick(["\"object_marking_refs\"", "\"object_marking_ref\\u0073\""], &random) + ":[" + refs.joined(separator: ",") + "]"),
                maybe(30, JSONGrammar.string(&random) + ":" + JSONGrammar.value(depth: 2, &random)),
                maybe(10, #""id":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f""#),
            ].compactMap { $0 }.shuffled(using: &random)
            return "{" + members.joined(separator: ",") + "}"
        }
        let envelope = [
            maybe(95, #""objects":[\#(objects.joined(separator: ","))]"#), maybe(20, #""more":false"#), maybe(5, #""objects":{}"#),
        ].compactMap { $0 }
        return (JSONGrammar.chance(5, &random) ? "\u{FEFF}" : "") + "{" + envelope.joined(separator: ",") + "}"
    }

    static let reader = TAXIIEnvelopeReader(receivedAt: TAXIITimestamp(microsecondsSince1970: 1_577_836_800_000_000))

    static let target = FuzzTarget(
        "taxii-envelope",
        seeds: [
            #"{"objects":[{"type":"indicator","spec_version":"2.1","id":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","created":"2016-04-06T20:03:48.000Z","modified":"2016-04-06T20:03:48.000Z","object_marking_refs":["marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"]}]}"#,
            #"{"more":false,"objects":[{"type":"ipv4-addr","id":"ipv4-addr--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","value":"198.51.100.3"},1]}"#,
        ],
        tokens: [#""object_marking_ref\u0073":"#, #""id":"#, #""type":"#, #""objects":["#, "\u{FEFF}", "--", "2.1"],
        generator: envelopes
    ) { bytes throws(FuzzFailure) in
        let items: [TAXIIEnvelopeItem]
        // Foundation reads a byte order mark itself; the reader tolerates one too.
        let json = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? Array(bytes.dropFirst(3)) : bytes
        let parsed = try? JSONSerialization.jsonObject(with: Data(json), options: [.fragmentsAllowed])
        do throws(TAXIIError) {
            items = try reader.read(bytes)
        } catch {
            if error.code == .malformedContent, !FoundationJSON.isOutsideReach(json), isShallow(json) {
                try fuzzRequire(parsed == nil, "refused as not JSON, but Foundation reads it")
            }
            if error.code == .unprocessableContent { try fuzzRequire(JSONScanner.isValid(json), "refused as no envelope, but it is not JSON") }
            return
        }
        // Where Foundation reads JSON otherwise than RFC 8259, there is nothing to compare.
        guard !FoundationJSON.isOutsideReach(json) else { return }
        guard let envelope = parsed as? [String: Any], let objects = envelope["objects"] as? [Any] else {
            throw FuzzFailure("read as an envelope, but Foundation finds no objects array")
        }
        try fuzzRequire(items.count == objects.count, "\(items.count) objects read, Foundation finds \(objects.count)")
        for (item, value) in zip(items, objects) {
            guard let object = value as? [String: Any] else { throw FuzzFailure("an element Foundation reads as no object was read") }
            let id = item.draft?.id ?? item.rejection?.id
            try fuzzRequire(id == object["id"] as? String, "id \(id.map(FuzzBudget.quoted) ?? "nil") read, Foundation finds \((object["id"] as? String).map(FuzzBudget.quoted) ?? "none")")
            guard let draft = item.draft else { continue }
            try fuzzRequire(draft.type == object["type"] as? String, "type \(FuzzBudget.quoted(draft.type)) read, Foundation finds \((object["type"] as? String).map(FuzzBudget.quoted) ?? "none")")
            try fuzzRequire(
                FoundationJSON.canonical(draft.json) == FoundationJSON.canonical(value: object),
                "the object's bytes \(FuzzBudget.describe(draft.json)) are not the object Foundation reads")
            try checkMarkings(draft.json, foundation: object)
        }
    }

    /// The readers of `object_marking_refs` (the STIX object's, and the member reader the TAXII
    /// server's marking uses) find the strings Foundation finds.
    static func checkMarkings(_ json: [UInt8], foundation object: [String: Any]) throws(FuzzFailure) {
        let expected = (object["object_marking_refs"] as? [Any])?.compactMap { $0 as? String }
        let members = try? JSONObjectMembers(json, keys: .decoded)
        try fuzzRequire(members?.strings("object_marking_refs") == expected, "object_marking_refs read as \(String(describing: members?.strings("object_marking_refs"))), Foundation finds \(String(describing: expected))")
        if let stix = try? STIXObject(json: json) {
            try fuzzRequire(stix.markingRefs == expected ?? [], "STIXObject's markings \(stix.markingRefs), Foundation finds \(String(describing: expected))")
            try fuzzRequire(stix.id == object["id"] as? String, "STIXObject's id \(stix.id)")
        }
    }

    /// Whether nesting stays within the depth Foundation and the scanner both read.
    static func isShallow(_ bytes: [UInt8]) -> Bool {
        var depth = 0
        for byte in bytes {
            if byte == UInt8(ascii: "[") || byte == UInt8(ascii: "{") { depth += 1 }
            if depth > JSONScanner.maximumDepth { return false }
        }
        return true
    }

    @Test func fuzz() {
        Self.target.run()
    }
}
