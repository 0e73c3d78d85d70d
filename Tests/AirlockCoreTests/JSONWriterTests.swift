import AirlockCore
import Foundation
import Testing

@Suite struct JSONWriterTests {
    /// Everything a string can hold that a writer might get wrong.
    static let awkward = "quote \" backslash \\ slash / newline \n tab \t cr \r bell \u{07} backspace \u{08} feed \u{0C} nul \u{00} unit \u{1F} del \u{7F} é 漢字 🙂 \u{2028} \u{2029} </script>"

    struct Sample: Codable, Equatable {
        var text: String
        var count: Int
        var ratio: Double
        var flag: Bool
        var missing: String?
        var tags: [String]
        var nested: [String: Double]
    }

    @Test func writesWhatCodableReadsBack() throws {
        let sample = Sample(text: Self.awkward, count: -42, ratio: 0.123456789, flag: true, missing: nil, tags: ["a", Self.awkward, ""], nested: ["big": 1e300, "small": 1e-7, "whole": 1_000_000])
        var writer = JSONWriter()
        writer.object { writer in
            writer.field("text", sample.text)
            writer.field("count", sample.count)
            writer.field("ratio", sample.ratio)
            writer.field("flag", sample.flag)
            writer.field("missing", ifPresent: sample.missing)
            writer.field("tags", strings: sample.tags)
            writer.key("nested")
            writer.object { writer in
                for (name, value) in sample.nested { writer.field(name, value) }
            }
        }
        #expect(try JSONDecoder().decode(Sample.self, from: Data(writer.bytes)) == sample)
        #expect(try JSONSerialization.jsonObject(with: Data(writer.bytes)) is [String: Any])
        #expect(JSONScanner.isValid(writer.bytes))
    }

    /// RFC 8785's escaping: short forms where JSON has them, `\u00xx` for other control
    /// characters, everything else (`/`, DEL, U+2028/2029, non-ASCII) as UTF-8.
    @Test func stringsAreEscapedOnlyWhereJSONNeedsIt() throws {
        let quoted = String(decoding: JSONWriter.quoted(Self.awkward), as: UTF8.self)
        #expect(quoted == #""quote \" backslash \\ slash / newline \n tab \t cr \r bell \u0007 backspace \b feed \f nul \u0000 unit \u001f del "# + "\u{7F} é 漢字 🙂 \u{2028} \u{2029} </script>\"")
        #expect(try JSONDecoder().decode(String.self, from: Data(quoted.utf8)) == Self.awkward)
        for scalar in (0..<0x20).compactMap(Unicode.Scalar.init) {
            let text = "a" + String(scalar) + "b"
            #expect(try JSONDecoder().decode(String.self, from: Data(JSONWriter.quoted(text))) == text)
        }
    }

    @Test func numbers() {
        var writer = JSONWriter()
        writer.array([0, -0.0, 3, -2.5, 1e15, 1e-7, 0.1, .nan, .infinity]) { $0.number($1) }
        #expect(String(decoding: writer.bytes, as: UTF8.self) == "[0,0,3,-2.5,1000000000000000.0,1e-07,0.1,null,null]")
    }

    @Test func valuesAndRawBytes() throws {
        let value = JSONValue.object(["b": .array([.null, .bool(false), .number(2)]), "a": .string("x"), "é": .object([:]), "Z": .array([])])
        var sorted = JSONWriter()
        sorted.value(value, sortedKeys: true)
        #expect(String(decoding: sorted.bytes, as: UTF8.self) == #"{"Z":[],"a":"x","b":[null,false,2],"é":{}}"#)
        var any = JSONWriter()
        any.value(value)
        #expect(try JSONDecoder().decode(JSONValue.self, from: Data(any.bytes)) == value)

        var raw = JSONWriter()
        raw.beginArray()
        raw.raw(Array(#"{"kept":  1.50}"#.utf8))
        raw.raw { $0 += Array(#""2026""#.utf8) }
        raw.endArray()
        #expect(String(decoding: raw.bytes, as: UTF8.self) == #"[{"kept":  1.50},"2026"]"#)
    }

    @Test func indentedOutput() {
        var writer = JSONWriter(indentation: 2)
        writer.value(.object(["a": .array([.number(1), .object(["b": .string("c")])]), "e": .array([]), "f": .object([:])]), sortedKeys: true)
        #expect(String(decoding: writer.bytes, as: UTF8.self) == """
            {
              "a": [
                1,
                {
                  "b": "c"
                }
              ],
              "e": [],
              "f": {}
            }
            """)
    }
}
