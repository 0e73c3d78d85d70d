import AirlockCore
import Foundation
import Testing

/// Decodes `json` as `T` with a plain JSONDecoder.
func decodeJSON<T: Decodable>(_ type: T.Type, _ json: String) throws -> T {
    try JSONDecoder().decode(T.self, from: Data(json.utf8))
}

/// Encodes `value` with sorted keys, as text.
func encodeJSON<T: Encodable>(_ value: T) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    return String(decoding: try encoder.encode(value), as: UTF8.self)
}

@Suite struct JSONValueTests {
    @Test func decodesEveryKind() throws {
        let value = try decodeJSON(JSONValue.self, #"{"n": null, "b": true, "f": false, "i": 3, "d": 2.5, "s": "x", "a": [1, "two", null], "o": {"k": "v"}}"#)
        #expect(value == .object([
            "n": .null,
            "b": .bool(true),
            "f": .bool(false),
            "i": .number(3),
            "d": .number(2.5),
            "s": .string("x"),
            "a": .array([.number(1), .string("two"), .null]),
            "o": .object(["k": .string("v")]),
        ]))
    }

    @Test func numbersAreNotBooleansAndBooleansAreNotNumbers() throws {
        #expect(try decodeJSON(JSONValue.self, "1") == .number(1))
        #expect(try decodeJSON(JSONValue.self, "0") == .number(0))
        #expect(try decodeJSON(JSONValue.self, "true") == .bool(true))
        #expect(try decodeJSON(JSONValue.self, #""true""#) == .string("true"))
        #expect(try decodeJSON(JSONValue.self, #""1""#) == .string("1"))
    }

    @Test func wholeNumbersEncodeWithoutFraction() throws {
        #expect(try encodeJSON(JSONValue.number(3)) == "3")
        #expect(try encodeJSON(JSONValue.number(-42)) == "-42")
        #expect(try encodeJSON(JSONValue.number(2.5)) == "2.5")
        #expect(try encodeJSON(JSONValue.array([.number(1), .bool(false), .null, .string("a")])) == #"[1,false,null,"a"]"#)
        #expect(try encodeJSON(JSONValue.object(["b": .number(1), "a": .object([:])])) == #"{"a":{},"b":1}"#)
    }

    @Test func roundTripsThroughJSON() throws {
        let original = JSONValue.object(["list": .array([.number(1.25), .string("é"), .bool(true)]), "none": .null, "deep": .object(["x": .number(7)])])
        let data = try JSONEncoder().encode(original)
        #expect(try JSONDecoder().decode(JSONValue.self, from: data) == original)
    }

    @Test(arguments: [
        (JSONValue.null, ""),
        (.bool(true), "true"),
        (.bool(false), "false"),
        (.number(42), "42"),
        (.number(-7), "-7"),
        (.number(0.5), "0.5"),
        (.string("plain"), "plain"),
        (.array([.string("a"), .number(2), .bool(false)]), "a, 2, false"),
        (.object(["k": .string("v")]), "{…}"),
    ])
    func text(value: JSONValue, expected: String) {
        #expect(value.text == expected)
    }

    @Test func hugeWholeNumbersKeepTheirFractionFreeDoubleForm() {
        // 1e15 and up are printed as Double, not Int64 (which could overflow).
        #expect(JSONValue.number(1.5e20).text == "1.5e+20")
        #expect(JSONValue.number(999_999_999_999_999).text == "999999999999999")
    }

    @Test func stringValue() {
        #expect(JSONValue.string("s").stringValue == "s")
        #expect(JSONValue.number(1).stringValue == nil)
        #expect(JSONValue.null.stringValue == nil)
    }
}
