import AirlockCore
import AirlockTestSupport
import Foundation
import PropertyBased
import Testing

/// The JSON scanner and member reader under generated and mutated documents: they never crash,
/// accept every document of the grammar, agree with Foundation's `JSONSerialization` on what is
/// valid and on each top-level member's value, and their rewritten objects are JSON.
@Suite struct JSONScannerFuzzTests {
    /// Short runs of JSON's punctuation, letters and stray bytes: arbitrary text more often near
    /// a grammar rule than random bytes would be.
    static let soup = Gen<Character?>.element(of: Array("{}[],:\"\\ -.0123456789eEtrufalsn\u{0}\u{1F}\u{7F}é\u{FFFD}")).map { $0 ?? " " }
        .string(of: 0...64)

    static let target = FuzzTarget(
        "json",
        seeds: [#"{"model":"m","messages":[{"role":"user","content":"hi"}],"max_tokens":100}"#, #"{"a":{"b":[1,2,{"c":null}]},"a":true}"#,
                #"[1,-0,0.5e-3,"\u0041\ud83d\ude42"]"#, #"{"object_marking_ref\u0073":["marking-definition--x"]}"#],
        tokens: ["\"model\":", "\"mod\\u0065l\":", ",\"a\":1", "{\"a\":", "\"\\u00"],
        generator: Gen.frequency((weight: 4, gen: JSONGrammar.documents), (weight: 1, gen: soup))
    ) { bytes throws(FuzzFailure) in
        let valid = JSONScanner.isValid(bytes)
        let strict = try? JSONObjectMembers(bytes, keys: .unescapedOnly)
        let decoded: JSONObjectMembers?
        do throws(JSONScanner.Failure) {
            decoded = try JSONObjectMembers(bytes, keys: .decoded)
        } catch {
            decoded = nil
            try fuzzRequire(error.code != .escapedKey, "escapedKey from the decoded spelling")
            if error.code == .notAnObject { try fuzzRequire(valid, "notAnObject for bytes that are not JSON") }
            if error.code == .malformed { try fuzzRequire(!valid, "malformed for valid bytes: \(error)") }
        }
        try fuzzRequire(strict == nil || decoded != nil, "read with keys unescaped only but not with keys decoded")
        try fuzzRequire(decoded == nil || valid, "read as an object, but not valid")
        let tooDeep = bytes.withUnsafeBufferPointer { buffer in
            var scanner = JSONScanner(buffer)
            do throws(JSONScanner.Failure) {
                try scanner.scanDocument()
                return false
            } catch {
                return error.code == .tooDeep
            }
        }
        let foundation = FoundationJSON.canonical(bytes)
        if !FoundationJSON.isOutsideReach(bytes), !tooDeep {
            try fuzzRequire(valid == (foundation != nil), valid ? "valid, but Foundation refuses it" : "refused, but Foundation reads it")
        }
        guard let object = decoded else { return }
        try checkMembers(object, foundation: foundation)
        try checkRewritten(object)
    }

    /// Each top-level key given once has the value Foundation gives it; every reader of a member
    /// runs without trapping.
    static func checkMembers(_ object: JSONObjectMembers, foundation: Data?) throws(FuzzFailure) {
        // Read from the input itself: Foundation writes -0.0 as `-0`, which it reads back as 0.
        let whole = foundation == nil ? nil : (try? JSONSerialization.jsonObject(with: Data(object.bytes))) as? [String: Any]
        let keys = object.members.map(\.key)
        for member in object.members {
            _ = object.strings(member.key)
            _ = object.integer(member.key)
            _ = try? object.object(member.key, keys: .decoded)
            guard let whole, keys.filter({ $0 == member.key }).count == 1 else { continue }
            let ours = FoundationJSON.canonical(object.bytes[member.value])
            let theirs = whole[member.key].flatMap(FoundationJSON.canonical(value:))
            try fuzzRequire(ours == theirs, "member \(FuzzBudget.quoted(member.key)): \(FuzzBudget.quoted(String(decoding: object.bytes[member.value], as: UTF8.self))) is not Foundation's value")
        }
    }

    /// Every member replaced by a string and one added: the result is JSON, with those values.
    static func checkRewritten(_ object: JSONObjectMembers) throws(FuzzFailure) {
        var replacements = Dictionary(object.members.map { ($0.key, Array("\"replaced\"".utf8)) }) { first, _ in first }
        replacements["added by the test"] = Array("[1,{\"b\":null}]".utf8)
        let rewritten = object.rewritten(replacing: replacements)
        try fuzzRequire(JSONScanner.isValid(rewritten), "rewritten, not JSON: \(FuzzBudget.describe(rewritten))")
        let again = try? JSONObjectMembers(rewritten, keys: .decoded)
        try fuzzRequire(again?.members.count == object.members.count + 1, "rewritten with other members")
        try fuzzRequire(again?.members.allSatisfy { again?.bytes[$0.value].elementsEqual(replacements[$0.key] ?? []) == true } == true,
                        "rewritten with other values")
        // A member's own object, rewritten alone, is JSON too.
        for member in object.members where object.bytes[member.value.lowerBound] == UInt8(ascii: "{") {
            guard let inner = try? object.object(member.key, keys: .decoded) else { continue }
            let alone = inner.rewritten(replacing: ["x": Array("0".utf8)])
            try fuzzRequire(JSONScanner.isValid(alone), "a member's object rewritten, not JSON: \(FuzzBudget.describe(alone))")
        }
    }

    @Test func fuzz() {
        Self.target.run()
    }

    /// swift-property-based's own runner over the grammar (its seed in a failure's message):
    /// every document is valid, and Foundation reads it.
    @Test func generatedDocumentsAreValidEverywhere() async {
        await propertyCheck(count: 300, input: JSONGrammar.documents) { text in
            let bytes = Array(text.utf8)
            #expect(JSONScanner.isValid(bytes))
            if !FoundationJSON.isOutsideReach(bytes) {
                #expect(FoundationJSON.canonical(bytes) != nil)
            }
            if bytes.first(where: { !JSONScanner.isWhitespace($0) }) == UInt8(ascii: "{") {
                #expect((try? JSONObjectMembers(bytes, keys: .decoded)) != nil)
            }
        }
    }
}
