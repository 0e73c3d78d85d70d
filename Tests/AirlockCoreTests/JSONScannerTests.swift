import AirlockCore
import Foundation
import Testing

@Suite struct JSONScannerTests {
    static func scan<T>(_ text: String, _ body: (inout JSONScanner) throws -> T) rethrows -> T {
        try Array(text.utf8).withUnsafeBufferPointer { buffer in
            var scanner = JSONScanner(buffer)
            return try body(&scanner)
        }
    }

    @Test(arguments: [
        "0", "-0", "1.5e-3", "12345678901234567890123", "1E+400", "true", "null", #""""#, #""\u00e9\ud83d\ude42\/""#, "[]", "{}",
        #" { "a" : [ 1 , { "b" : null } ] , "c" : "d" } "#, "\"é漢🙂\u{2028}\"",
    ])
    func validDocuments(text: String) {
        #expect(JSONScanner.isValid(Array(text.utf8)))
    }

    @Test(arguments: [
        "", "   ", "{", "[1,]", "{\"a\":1,}", "{a:1}", "01", "1.", "-", ".5", "1e", "+1", "tru", "nul", "\"a\\qb\"", "\"\\u12\"",
        "\"a\u{1}b\"", "\"a\tb\"", "\"unterminated", "[1 2]", "{\"a\" 1}", "{} {}", "[1]]", "NaN", "Infinity", "'a'",
    ])
    func invalidDocuments(text: String) {
        #expect(!JSONScanner.isValid(Array(text.utf8)), "\(text)")
    }

    @Test func invalidUTF8() {
        for bytes: [UInt8] in [[0xC3, 0x28], [0xED, 0xA0, 0x80], [0xC0, 0xAF], [0xF5, 0x80, 0x80, 0x80], [0xE2, 0x82], [0x80], [0xFF]] {
            #expect(!JSONScanner.isValid([UInt8(ascii: "\"")] + bytes + [UInt8(ascii: "\"")]), "\(bytes)")
        }
        #expect(JSONScanner.isValid([UInt8(ascii: "\""), 0xF0, 0x9F, 0x98, 0x80, 0xE2, 0x9C, 0x93, UInt8(ascii: "\"")]))
    }

    @Test func deepNestingIsRefusedNotOverflowed() throws {
        let depth = 100_000
        let text = String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
        let failure = Self.scan(text) { scanner -> JSONScanner.Failure? in
            do throws(JSONScanner.Failure) { try scanner.scanDocument(); return nil } catch { return error }
        }
        #expect(failure?.code == .tooDeep)
        let allowed = String(repeating: "[", count: JSONScanner.maximumDepth + 1) + String(repeating: "]", count: JSONScanner.maximumDepth + 1)
        #expect(JSONScanner.isValid(Array(allowed.utf8)))
    }

    /// Escapes decode to the text every parser reads, surrogate pairs included; a lone
    /// surrogate becomes U+FFFD.
    @Test func stringsDecode() throws {
        let cases: [(String, String)] = [
            (#""plain é""#, "plain é"), (#""a\"b\\c\/d\b\f\n\r\t""#, "a\"b\\c/d\u{08}\u{0C}\n\r\t"),
            (#""\u0041\u00e9\u6F22\ud83d\ude42""#, "Aé漢🙂"), (#""x\ud800y""#, "x\u{FFFD}y"), (#""\udc00""#, "\u{FFFD}"),
            (#""\u2028\u2029""#, "\u{2028}\u{2029}"),
        ]
        for (json, text) in cases {
            let decoded = try Self.scan(json) { scanner in scanner.text(try scanner.scanString()) }
            #expect(decoded == text, "\(json)")
            if !json.contains(#"\ud800"#), !json.contains(#"\udc00"#) {
                #expect(try JSONDecoder().decode(String.self, from: Data(json.utf8)) == text)
            }
        }
    }

    @Test func compactedKeepsStringsWhole() throws {
        let text = #" { "a" : [ 1 , "b  \" c" ] } "#
        let compact = try Self.scan(text) { scanner in
            scanner.skipWhitespace()
            let start = scanner.index
            try scanner.skipValue(depth: 0)
            return scanner.compacted(start..<scanner.index)
        }
        #expect(String(decoding: compact, as: UTF8.self) == #"{"a":[1,"b  \" c"]}"#)
    }

    @Test func aScannerStopsAtItsRange() throws {
        let bytes = Array(#"[1,2] trailing"#.utf8)
        try bytes.withUnsafeBufferPointer { buffer in
            var scanner = JSONScanner(buffer, within: 0..<5)
            try scanner.scanDocument()
            var cut = JSONScanner(buffer, within: 0..<4)
            #expect(throws: JSONScanner.Failure.self) { try cut.scanDocument() }
        }
    }
}

@Suite struct JSONObjectMembersTests {
    @Test func membersAndTheirValues() throws {
        let object = try JSONObjectMembers(Array(#" {"n": 12, "s": "x", "o": {"k": [1]}, "a": ["p", 1, "q\u0021"], "neg": -3} "#.utf8), keys: .decoded)
        #expect(object.members.map(\.key) == ["n", "s", "o", "a", "neg"])
        #expect(object.integer("n") == 12)
        #expect(object.integer("neg") == nil)
        #expect(object.integer("s") == nil)
        #expect(object.value("s").map { String(decoding: $0, as: UTF8.self) } == #""x""#)
        #expect(try object.object("o", keys: .decoded)?.value("k").map(Array.init) == Array("[1]".utf8))
        #expect(try object.object("s", keys: .decoded) == nil)
        #expect(object.strings("a") == ["p", "q!"])
        #expect(object.strings("n") == nil)
        #expect(object.value("absent") == nil)
    }

    /// Decoding is for documents whose keys decide what is done with them: a key written
    /// `"object_marking_ref\u0073"` is `object_marking_refs`, as for every later reader.
    @Test func decodedKeysAreReadAsParsersReadThem() throws {
        let object = try JSONObjectMembers(Array(#"{"object_marking_ref\u0073":["marking-definition--x"]}"#.utf8), keys: .decoded)
        #expect(object.strings("object_marking_refs") == ["marking-definition--x"])
    }

    /// Refusal is for bytes forwarded to another parser; nested values may still hold escapes,
    /// and bytes that are not JSON at all are `malformed` first.
    @Test func unescapedOnlyRefusesEscapedKeys() throws {
        #expect(throws: JSONScanner.Failure.self) {
            try JSONObjectMembers(Array(#"{"mod\u0065l":"x"}"#.utf8), keys: .unescapedOnly)
        }
        do throws(JSONScanner.Failure) {
            _ = try JSONObjectMembers(Array(#"{"mod\u0065l":"x"}"#.utf8), keys: .unescapedOnly)
        } catch {
            #expect(error.code == .escapedKey)
        }
        do throws(JSONScanner.Failure) {
            _ = try JSONObjectMembers(Array(#"{"mod\u0065l":"x"} trailing"#.utf8), keys: .unescapedOnly)
        } catch {
            #expect(error.code == .malformed)
        }
        let nested = try JSONObjectMembers(Array(#"{"messages":[{"r\u006fle":"user"}],"o":{"\u0061":1}}"#.utf8), keys: .unescapedOnly)
        #expect(nested.members.count == 2)
        #expect(throws: JSONScanner.Failure.self) { try nested.object("o", keys: .unescapedOnly) }
        #expect(try nested.object("o", keys: .decoded)?.integer("a") == 1)
    }

    @Test func repeatedKeys() throws {
        let object = try JSONObjectMembers(Array(#"{"a":1,"b":2,"a":3,"c":4,"c":5}"#.utf8), keys: .decoded)
        #expect(object.repeatedKeys(among: ["a", "b"]) == ["a"])
        #expect(object.integer("a") == 3)
    }

    @Test(arguments: ["[1]", "1", #""s""#, "{", #"{"a":}"#, #"{"a":"b""#, #"{"a" 1}"#, "{} {}", #"{"a":[1,2}"#, #"{"a":tru}"#, #"{"a":01}"#, ""])
    func notAnObject(text: String) {
        #expect(throws: JSONScanner.Failure.self, "\(text)") { try JSONObjectMembers(Array(text.utf8), keys: .decoded) }
    }

    /// Everything but the replaced members is copied byte for byte; new members go first.
    @Test func rewrittenInPlace() throws {
        let body = #"{ "seed": 12345678901234567890, "model":"client-name", "messages":[{"role":"user","content":"a } \" ] { \\ x"}], "temperature":0.70 }"#
        let object = try JSONObjectMembers(Array(body.utf8), keys: .unescapedOnly)
        let edited = object.rewritten(replacing: ["model": JSONWriter.quoted("up\"stream")])
        #expect(String(decoding: edited, as: UTF8.self) == #"{ "seed": 12345678901234567890, "model":"up\"stream", "messages":[{"role":"user","content":"a } \" ] { \\ x"}], "temperature":0.70 }"#)
        let added = try JSONObjectMembers(Array(#"{"x":1}"#.utf8), keys: .decoded).rewritten(replacing: ["b": Array("2".utf8), "a\"": Array("true".utf8)])
        #expect(String(decoding: added, as: UTF8.self) == #"{"a\"":true,"b":2,"x":1}"#)
        let empty = try JSONObjectMembers(Array("{}".utf8), keys: .decoded).rewritten(replacing: ["m": JSONWriter.quoted("v")])
        #expect(String(decoding: empty, as: UTF8.self) == #"{"m":"v"}"#)
        let inner = try #require(try JSONObjectMembers(Array(#"{"o": {"k":false,"x":1} }"#.utf8), keys: .decoded).object("o", keys: .decoded))
        #expect(String(decoding: inner.rewritten(replacing: ["k": Array("true".utf8)]), as: UTF8.self) == #"{"k":true,"x":1}"#)
    }
}
