import AirlockExchange
import Foundation
import Testing

@Suite struct TAXIIEnvelopeReaderTests {
    let reader = TAXIIEnvelopeReader(receivedAt: TAXIIFixture.time(500))
    let indicatorID = "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"

    private func indicator(_ members: String = "") -> String {
        #"{"type":"indicator","spec_version":"2.1","id":"\#(indicatorID)","created":"2016-04-06T20:03:48.000Z","modified":"2016-04-06T20:03:48.000Z"\#(members)}"#
    }

    private func items(_ body: String) throws(TAXIIError) -> [TAXIIEnvelopeItem] {
        try reader.read(Array(body.utf8))
    }

    private func rejection(_ object: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> TAXIIStatusDetail {
        let items = try self.items(#"{"objects":[\#(object)]}"#)
        guard items.count == 1, case .rejected(let detail) = items[0] else {
            Issue.record("expected one rejection, got \(items)", sourceLocation: sourceLocation)
            return TAXIIStatusDetail(id: "", version: "")
        }
        return detail
    }

    private func bodyError(_ body: some Collection<UInt8>, sourceLocation: SourceLocation = #_sourceLocation) -> TAXIIError? {
        #expect(throws: TAXIIError.self, sourceLocation: sourceLocation) { try reader.read(body) }
    }

    @Test func acceptsObjectsAndKeepsTheirBytesCompacted() throws {
        let pretty = """
            {
              "objects" : [
                {
                  "type": "indicator",
                  "spec_version": "2.1",
                  "id": "\(indicatorID)",
                  "created": "2016-04-06T20:03:48.000Z",
                  "modified": "2016-04-06T20:03:48.123Z",
                  "name": "Poison Ivy \\/ \\u00e9 \\"quoted\\"  spaced  ",
                  "confidence": 1.0,
                  "big": 12345678901234567890,
                  "exp": 1E+2,
                  "labels": [ "a" , "b" ],
                  "nested": { "x": null, "y": [true, false] }
                }
              ],
              "more": false
            }
            """
        let items = try items(pretty)
        guard items.count == 1, case .accepted(let draft) = items[0] else {
            Issue.record("expected one accepted object, got \(items)")
            return
        }
        #expect(draft.id == indicatorID)
        #expect(draft.type == "indicator")
        #expect(draft.specVersion == "2.1")
        #expect(draft.version == TAXIITimestamp("2016-04-06T20:03:48.123Z"))
        #expect(draft.versionText == "2016-04-06T20:03:48.123Z")
        // Member order, number spelling and escapes are the client's; whitespace in strings stays.
        let expected = #"{"type":"indicator","spec_version":"2.1","id":"\#(indicatorID)","created":"2016-04-06T20:03:48.000Z","modified":"2016-04-06T20:03:48.123Z","name":"Poison Ivy \/ \u00e9 \"quoted\"  spaced  ","confidence":1.0,"big":12345678901234567890,"exp":1E+2,"labels":["a","b"],"nested":{"x":null,"y":[true,false]}}"#
        #expect(String(decoding: draft.json, as: UTF8.self) == expected)
        #expect(TAXIITestJSON.decode(draft.json)["name"] == .string("Poison Ivy / é \"quoted\"  spaced  "))
    }

    @Test func readsDataAndAByteOrderMark() throws {
        let body = "\u{FEFF}" + #"{"objects":[\#(indicator())]}"#
        let items = try reader.read(Data(body.utf8))
        #expect(items.count == 1)
        if case .accepted(let draft)? = items.first {
            #expect(draft.json == Array(indicator().utf8))
        } else {
            Issue.record("not accepted: \(items)")
        }
    }

    @Test func aCyberObservableWithoutSpecVersionIsSTIX21() throws {
        let id = "ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd"
        let items = try items(#"{"objects":[{"type":"ipv4-addr","id":"\#(id)","value":"198.51.100.3"}]}"#)
        guard case .accepted(let draft)? = items.first else {
            Issue.record("not accepted: \(items)")
            return
        }
        #expect(draft.specVersion == "2.1")
        #expect(draft.version == nil)
        #expect(draft.versionText == nil)
        #expect(draft.record(dateAdded: TAXIIFixture.time(7), sequence: 1).mediaType == TAXIIMediaType.stix)
    }

    @Test func aMarkingDefinitionIsVersionedByCreated() throws {
        let id = "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"
        let items = try items(#"{"objects":[{"type":"marking-definition","spec_version":"2.1","id":"\#(id)","created":"2017-01-20T00:00:00.000Z"}]}"#)
        guard case .accepted(let draft)? = items.first else {
            Issue.record("not accepted: \(items)")
            return
        }
        #expect(draft.versionText == "2017-01-20T00:00:00.000Z")
        #expect(draft.version == TAXIITimestamp("2017-01-20T00:00:00Z"))
    }

    @Test func objectsThatFailAChecksAreRejectedOneByOne() throws {
        let cases: [(object: String, message: String, version: String)] = [
            (#"{"type":"Indicator","spec_version":"2.1","id":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","created":"2016-04-06T20:03:48.000Z","modified":"2016-04-07T20:03:48.000Z"}"#,
             "type", "2016-04-07T20:03:48.000Z"),
            (#"{"spec_version":"2.1","id":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","created":"2016-04-06T20:03:48.000Z"}"#,
             "type", "2016-04-06T20:03:48.000Z"),
            (#"{"type":"malware","spec_version":"2.1","id":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","created":"2016-04-06T20:03:48.000Z"}"#,
             "id must be 'malware--'", "2016-04-06T20:03:48.000Z"),
            (#"{"type":"indicator","spec_version":"2.1","id":"indicator--not-a-uuid","created":"2016-04-06T20:03:48.000Z"}"#,
             "UUID", "2016-04-06T20:03:48.000Z"),
            (#"{"type":"indicator","spec_version":"2.0","id":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","created":"2016-04-06T20:03:48.000Z"}"#,
             "spec_version '2.0'", "2016-04-06T20:03:48.000Z"),
            (#"{"type":"indicator","spec_version":2.1,"id":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","created":"2016-04-06T20:03:48.000Z"}"#,
             "spec_version must be the string", "2016-04-06T20:03:48.000Z"),
            (#"{"type":"indicator","id":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","created":"2016-04-06T20:03:48.000Z"}"#,
             "spec_version is missing", "2016-04-06T20:03:48.000Z"),
            (#"{"type":"indicator","spec_version":"2.1","id":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","created":"yesterday"}"#,
             "created must be a STIX timestamp", "yesterday"),
            (#"{"type":"indicator","spec_version":"2.1","id":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","created":"2016-04-06T20:03:48.000Z","modified":1}"#,
             "modified must be a STIX timestamp", "2016-04-06T20:03:48.000Z"),
            (#"{"type":"indicator","spec_version":"2.1","id":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","created":"2016-04-06T20:03:48.000Z","modified":"2016-04-05T20:03:48.000Z"}"#,
             "modified is earlier than created", "2016-04-05T20:03:48.000Z"),
            (#"{"type":"indicator","spec_version":"2.1","id":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","id":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd30","created":"2016-04-06T20:03:48.000Z"}"#,
             "more than one 'id'", "2016-04-06T20:03:48.000Z"),
            // A cyber-observable that fails is reported at the time of the request.
            (#"{"type":"ipv4-addr","id":"ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd","spec_version":"2.0"}"#,
             "spec_version '2.0'", "2020-01-01T00:08:20.000000Z"),
        ]
        for (object, message, version) in cases {
            let detail = try rejection(object)
            #expect(detail.message?.contains(message) == true, "\(object): \(detail.message ?? "no message")")
            #expect(detail.version == version, "\(object)")
            #expect(detail.id.hasPrefix("indicator--") || detail.id.hasPrefix("ipv4-addr--"))
        }
    }

    /// Found by the fuzz target (Tests/Fuzz/taxii-envelope/object-marking-refs-twice.json): with
    /// `object_marking_refs` given twice, readers disagree on the marking (`STIXObject`, through
    /// `JSONDecoder`, takes the first; `JSONSerialization` and the member reader the last), so
    /// such an object is refused, in either spelling.
    @Test(arguments: [#""object_marking_refs""#, #""object_marking_ref\u0073""#])
    func markingsGivenTwiceAreRejected(secondSpelling: String) throws {
        let red = "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"
        let clear = "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"
        let detail = try rejection(indicator(#","object_marking_refs":["\#(red)"],\#(secondSpelling):["\#(clear)"]"#))
        #expect(detail.message?.contains("more than one 'object_marking_refs'") == true, "\(detail.message ?? "no message")")
    }

    @Test func goodAndBadObjectsAreSortedInOrder() throws {
        let bad = #"{"type":"indicator","spec_version":"2.0","id":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd30","created":"2016-04-06T20:03:48.000Z"}"#
        let items = try items(#"{"objects":[\#(indicator()),\#(bad),\#(indicator(#","name":"x""#))]}"#)
        #expect(items.count == 3)
        if case .accepted = items[0] {} else { Issue.record("first should be accepted") }
        if case .rejected(let detail) = items[1] {
            #expect(detail.id == "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd30")
        } else {
            Issue.record("second should be rejected")
        }
        if case .accepted = items[2] {} else { Issue.record("third should be accepted") }
    }

    @Test func theStatusOfAPostCountsRejectionsAndDuplicates() throws {
        let bad = #"{"type":"indicator","spec_version":"2.0","id":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd30","created":"2016-04-06T20:03:48.000Z"}"#
        var index = TAXIIObjectIndex()
        _ = index.add(try items(#"{"objects":[\#(indicator())]}"#).compactMap(\.draft), now: TAXIIFixture.time(1))
        // One new version, one held already, one refused by the reader.
        let items = try items(#"{"objects":[\#(indicator()),\#(bad),\#(indicator().replacingOccurrences(of: "\"modified\":\"2016-04-06T20:03:48.000Z\"", with: "\"modified\":\"2017-01-01T00:00:00.000Z\""))]}"#)
        let outcomes = index.add(items.compactMap(\.draft), now: TAXIIFixture.time(2))
        let status = TAXIIStatus(
            id: "s2", requestTimestamp: TAXIIFixture.time(2), rejected: items.compactMap(\.rejection), outcomes: outcomes)
        #expect(status.successes == [TAXIIStatusDetail(id: indicatorID, version: "2017-01-01T00:00:00.000Z")])
        #expect(status.failures.map(\.id) == ["indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd30", indicatorID])
        let json = TAXIITestJSON.decode(status.jsonBytes)
        #expect(json["total_count"] == .number(3))
        #expect(json["success_count"] == .number(1))
        #expect(json["failure_count"] == .number(2))
        #expect(json["pending_count"] == .number(0))
        #expect(json["failures"]?.arrayValue.count == 2)
        #expect(json["status"] == .string("complete"))
    }

    @Test func escapedMemberNamesCount() throws {
        let object = #"{"\u0074ype":"indicator","spec_version":"2.1","\u0069d":"\#(indicatorID)","created":"2016-04-06T20:03:48.000Z"}"#
        let items = try items(#"{"objects":[\#(object)]}"#)
        guard case .accepted(let draft)? = items.first else {
            Issue.record("not accepted: \(items)")
            return
        }
        #expect(draft.id == indicatorID)
        #expect(draft.type == "indicator")
    }

    @Test func anEmptyListIsFine() throws {
        #expect(try items(#"{"objects":[]}"#).isEmpty)
        #expect(try items(#" { "more" : true , "objects" : [ ] } "#).isEmpty)
    }

    @Test(arguments: [
        "", "   ", "not json", "{", #"{"objects":[}"#, #"{"objects":[{"type":"indicator"}]"#, #"{"objects":[]} x"#,
        #"{"objects":[],}"#, #"{"objects":[1,]}"#, #"{objects:[]}"#, #"{"objects":[01]}"#, #"{"objects":[1.]}"#,
        #"{"objects":[-]}"#, #"{"objects":["a\qb"]}"#, #"{"objects":["\u12"]}"#, #"{"objects":[tru]}"#,
        "{\"objects\":[\"a\u{1}b\"]}", "{\"objects\":[\"a\tb\"]}", #"{"objects":[] "more":true}"#, #"{"a" 1}"#,
        "[1, 2", "\"unterminated",
    ])
    func aBodyThatIsNotJSONIs400(body: String) {
        let error = bodyError(Array(body.utf8))
        #expect(error?.code == .malformedContent, "\(body)")
        #expect(error?.httpStatus == 400)
    }

    @Test func invalidUTF8Is400() {
        for bytes: [UInt8] in [[0xC3, 0x28], [0xED, 0xA0, 0x80], [0xC0, 0xAF], [0xF5, 0x80, 0x80, 0x80], [0xE2, 0x82]] {
            let body = Array(#"{"objects":["#.utf8) + [UInt8(ascii: "\"")] + bytes + Array("\"]}".utf8)
            #expect(bodyError(body)?.code == .malformedContent, "\(bytes)")
        }
        let good = Array(#"{"objects":[],"note":""#.utf8) + [0xF0, 0x9F, 0x98, 0x80, 0xE2, 0x9C, 0x93] + Array("\"}".utf8)
        #expect((try? reader.read(good))?.isEmpty == true)
    }

    @Test func deepNestingIs400() {
        let depth = 10_000
        let body = #"{"objects":["# + String(repeating: "[", count: depth) + String(repeating: "]", count: depth) + "]}"
        let error = bodyError(Array(body.utf8))
        #expect(error?.code == .malformedContent)
        #expect(error?.message.contains("nested") == true)
    }

    @Test(arguments: [
        ("[]", "envelope"), ("42", "envelope"), (#""objects""#, "envelope"), ("{}", "no objects"),
        (#"{"more":false}"#, "no objects"), (#"{"objects":{}}"#, "must be an array"), (#"{"objects":null}"#, "must be an array"),
        (#"{"objects":[],"objects":[]}"#, "more than one objects"), (#"{"objects":[1]}"#, "objects[0] is not a JSON object"),
        (#"{"objects":[{"type":"indicator"}]}"#, "objects[0] has no string id"),
        (#"{"objects":[{"id":1}]}"#, "objects[0] has no string id"),
    ])
    func jsonThatIsNotAnEnvelopeIs422(body: String, message: String) {
        let error = bodyError(Array(body.utf8))
        #expect(error?.code == .unprocessableContent, "\(body)")
        #expect(error?.httpStatus == 422)
        #expect(error?.message.contains(message) == true, "\(error?.message ?? "")")
    }

    @Test func postedObjectsComeBackAsTheyWere() throws {
        // Reader, index and envelope writer together: what is posted is what is read.
        let objects = (1...5).map { n in
            #"{"type":"indicator","spec_version":"2.1","id":"\#(TAXIIFixture.id("indicator", n))","created":"2016-04-06T20:03:40.000Z","modified":"2016-04-06T20:03:4\#(n).000Z","pattern":"[ipv4-addr:value = '198.51.100.\#(n)']","pattern_type":"stix","valid_from":"2016-01-01T00:00:00Z"}"#
        }
        let body = "{\n \"objects\": [\n  " + objects.joined(separator: ",\n  ") + "\n ]\n}"
        let items = try reader.read(Array(body.utf8))
        let drafts = items.compactMap(\.draft)
        #expect(drafts.count == 5)
        #expect(items.compactMap(\.rejection).isEmpty)
        var index = TAXIIObjectIndex()
        let outcomes = index.add(drafts, now: TAXIIFixture.time(100))
        let status = TAXIIStatus(id: "s1", requestTimestamp: TAXIIFixture.time(100), rejected: [], outcomes: outcomes)
        #expect(TAXIITestJSON.decode(status.jsonBytes)["success_count"] == .number(5))

        let page = try index.page(TAXIIFixture.query([("limit", "3")]))
        let rest = try index.page(TAXIIFixture.query([("limit", "3"), ("next", page.next!)]))
        let served = (TAXIITestJSON.decode(page.jsonBytes)["objects"]?.arrayValue ?? [])
            + (TAXIITestJSON.decode(rest.jsonBytes)["objects"]?.arrayValue ?? [])
        #expect(served == objects.map { TAXIITestJSON.decode($0) })
        #expect(index.records.map { String(decoding: $0.json, as: UTF8.self) } == objects)
    }
}
