import AirlockExchange
import Testing

/// Each writer's JSON, decoded back and compared with what it must say.
@Suite struct TAXIIResourceTests {
    @Test func discovery() {
        let full = TAXIIDiscovery(
            title: "Airlock \"review\" server", description: "Line one\nline two\t\\ tab", contact: "ops@example.org",
            defaultAPIRoot: "/api1/", apiRoots: ["/api1/", "https://example.org/api2/"])
        #expect(TAXIITestJSON.decode(full.jsonBytes) == .object([
            "title": .string("Airlock \"review\" server"),
            "description": .string("Line one\nline two\t\\ tab"),
            "contact": .string("ops@example.org"),
            "default": .string("/api1/"),
            "api_roots": .array([.string("/api1/"), .string("https://example.org/api2/")]),
        ]))
        let bare = TAXIIDiscovery(title: "T", apiRoots: [])
        #expect(String(decoding: bare.jsonBytes, as: UTF8.self) == #"{"title":"T"}"#)
    }

    @Test func stringsAreEscapedOnlyWhereJSONNeedsIt() {
        let title = "a/b é ✓ \u{1} \u{1F} \r \" \\"
        let bytes = TAXIIDiscovery(title: title, apiRoots: []).jsonBytes
        #expect(TAXIITestJSON.decode(bytes)["title"] == .string(title))
        #expect(String(decoding: bytes, as: UTF8.self) == #"{"title":"a/b é ✓ \u0001 \u001f \r \" \\"}"#)
    }

    @Test func apiRoot() throws {
        let root = TAXIIAPIRoot(title: "Reviews", description: "Findings", maxContentLength: 10_485_760)
        #expect(TAXIITestJSON.decode(root.jsonBytes) == .object([
            "title": .string("Reviews"),
            "description": .string("Findings"),
            "versions": .array([.string("application/taxii+json;version=2.1")]),
            "max_content_length": .number(10_485_760),
        ]))
        try root.checkContentLength(10_485_760)
        let error = #expect(throws: TAXIIError.self) { try root.checkContentLength(10_485_761) }
        #expect(error?.code == .contentTooLarge)
        #expect(error?.httpStatus == 413)
    }

    @Test func collections() throws {
        let one = TAXIICollection(
            id: "91a7b528-80eb-42ed-a74d-c6fbd5a26116", title: "Findings", description: "Shared findings",
            alias: "findings", canRead: true, canWrite: false)
        let expected: TAXIITestJSON = .object([
            "id": .string("91a7b528-80eb-42ed-a74d-c6fbd5a26116"),
            "title": .string("Findings"),
            "description": .string("Shared findings"),
            "alias": .string("findings"),
            "can_read": .bool(true),
            "can_write": .bool(false),
            "media_types": .array([.string("application/stix+json;version=2.1")]),
        ])
        #expect(TAXIITestJSON.decode(one.jsonBytes) == expected)
        let two = TAXIICollection(id: "c2", title: "Bare", canRead: false, canWrite: true, mediaTypes: [])
        #expect(TAXIITestJSON.decode(TAXIICollection.collectionsJSON([one, two])) == .object([
            "collections": .array([
                expected,
                .object(["id": .string("c2"), "title": .string("Bare"), "can_read": .bool(false), "can_write": .bool(true)]),
            ]),
        ]))
        #expect(String(decoding: TAXIICollection.collectionsJSON([]), as: UTF8.self) == "{}")

        try one.checkCanRead()
        #expect((#expect(throws: TAXIIError.self) { try one.checkCanWrite() })?.httpStatus == 403)
        try two.checkCanWrite()
        #expect((#expect(throws: TAXIIError.self) { try two.checkCanRead() })?.code == .forbidden)
    }

    private func page(more: Bool) throws -> TAXIIObjectPage {
        let records = (1...3).map { TAXIIFixture.record(TAXIIFixture.id("indicator", $0), version: Int64($0), added: 10, sequence: Int64($0)) }
        let query = try TAXIIFixture.query([("limit", "2")])
        return TAXIIObjectPage(fetched: more ? records : Array(records.prefix(2)), query: query)
    }

    @Test func envelopeCopiesTheStoredObjects() throws {
        let page = try page(more: true)
        #expect(page.records.count == 2)
        #expect(page.more)
        let next = try #require(page.next)
        let json = TAXIITestJSON.decode(page.envelopeJSON())
        #expect(json == .object([
            "more": .bool(true),
            "next": .string(next),
            "objects": .array(page.records.map { TAXIITestJSON.decode($0.json) }),
        ]))
        // The stored bytes appear as they are.
        let text = String(decoding: page.envelopeJSON(), as: UTF8.self)
        #expect(text == #"{"more":true,"next":"\#(next)","objects":["# + page.records.map { String(decoding: $0.json, as: UTF8.self) }.joined(separator: ",") + "]}")
        #expect(page.jsonBytes == page.envelopeJSON())

        let last = try self.page(more: false)
        #expect(!last.more)
        #expect(last.next == nil)
        #expect(TAXIITestJSON.decode(last.envelopeJSON())["next"] == nil)
        #expect(TAXIITestJSON.decode(last.envelopeJSON())["more"] == .bool(false))
    }

    @Test func manifest() throws {
        let page = try page(more: true)
        let manifestPage = TAXIIObjectPage(fetched: page.records, query: try TAXIIFixture.query([], endpoint: .manifest))
        #expect(TAXIITestJSON.decode(manifestPage.jsonBytes) == .object([
            "more": .bool(false),
            "objects": .array(page.records.map { record in
                .object([
                    "id": .string(record.id),
                    "date_added": .string(record.dateAdded.description),
                    "version": .string(record.versionText),
                    "media_type": .string("application/stix+json;version=2.1"),
                ])
            }),
        ]))
        #expect(TAXIITestJSON.decode(manifestPage.jsonBytes)["objects"]?.arrayValue.first?["date_added"]
            == .string("2020-01-01T00:00:10.000000Z"))
    }

    @Test func versions() throws {
        let page = try page(more: true)
        let id = TAXIIFixture.id("indicator", 1)
        let versionsPage = TAXIIObjectPage(fetched: page.records, query: try TAXIIFixture.query([], endpoint: .objectVersions(id: id)))
        #expect(TAXIITestJSON.decode(versionsPage.jsonBytes) == .object([
            "more": .bool(false),
            "versions": .array(page.records.map { .string($0.versionText) }),
        ]))
    }

    @Test func dateHeadersCarryMicroseconds() throws {
        let records = [
            TAXIIFixture.record(TAXIIFixture.id("indicator", 1), version: 1, added: 10, sequence: 1),
            TAXIIFixture.record(TAXIIFixture.id("indicator", 2), version: 1, added: 20, sequence: 2),
        ]
        var second = records[1]
        second.dateAdded = TAXIIFixture.time(20, micros: 7)
        let page = TAXIIObjectPage(fetched: [records[0], second], query: try TAXIIFixture.query([]))
        #expect(page.headers.map(\.name) == ["X-TAXII-Date-Added-First", "X-TAXII-Date-Added-Last"])
        #expect(page.headers.map(\.value) == ["2020-01-01T00:00:10.000000Z", "2020-01-01T00:00:20.000007Z"])
        #expect(page.dateAddedLast == TAXIIFixture.time(20, micros: 7))
    }

    @Test func statusCountsFollowTheLists() {
        let ok = TAXIIStatusDetail(id: TAXIIFixture.id("indicator", 1), version: "2016-04-06T20:03:48.000Z")
        let bad = TAXIIStatusDetail(id: TAXIIFixture.id("malware", 2), version: "2016-04-06T20:03:48.000Z", message: "refused")
        let wait = TAXIIStatusDetail(id: TAXIIFixture.id("tool", 3), version: "2016-04-06T20:03:48.000Z")
        let complete = TAXIIStatus(
            id: "2d086da7-4bdc-4f91-900e-d77486753710", requestTimestamp: TAXIIFixture.time(1), successes: [ok, ok],
            failures: [bad])
        #expect(complete.state == .complete)
        #expect(TAXIITestJSON.decode(complete.jsonBytes) == .object([
            "id": .string("2d086da7-4bdc-4f91-900e-d77486753710"),
            "status": .string("complete"),
            "request_timestamp": .string("2020-01-01T00:00:01.000000Z"),
            "total_count": .number(3),
            "success_count": .number(2),
            "successes": .array([
                .object(["id": .string(ok.id), "version": .string(ok.version)]),
                .object(["id": .string(ok.id), "version": .string(ok.version)]),
            ]),
            "failure_count": .number(1),
            "failures": .array([.object(["id": .string(bad.id), "version": .string(bad.version), "message": .string("refused")])]),
            "pending_count": .number(0),
        ]))

        let pending = TAXIIStatus(id: "s", requestTimestamp: TAXIIFixture.time(1), pendings: [wait])
        let json = TAXIITestJSON.decode(pending.jsonBytes)
        #expect(json["status"] == .string("pending"))
        #expect(json["total_count"] == .number(1))
        #expect(json["pending_count"] == .number(1))
        #expect(json["pendings"]?.arrayValue.count == 1)
        #expect(json["successes"] == nil && json["failures"] == nil)

        let empty = TAXIITestJSON.decode(TAXIIStatus(id: "e", requestTimestamp: TAXIIFixture.time(1)).jsonBytes)
        #expect(empty["total_count"] == .number(0) && empty["status"] == .string("complete"))
    }

    @Test func errorResources() {
        let notFound = TAXIIError.notFound("collection 'x'")
        #expect(TAXIITestJSON.decode(notFound.jsonBytes) == .object([
            "title": .string("Not found"),
            "description": .string("No collection 'x' is here."),
            "error_code": .string("not_found"),
            "http_status": .string("404"),
        ]))
        let statuses: [(TAXIIError.Code, Int)] = [
            (.invalidParameter, 400), (.unsupportedParameter, 400), (.invalidNextToken, 400), (.filtersChanged, 400),
            (.malformedContent, 400), (.unauthorized, 401), (.forbidden, 403), (.notFound, 404), (.notAcceptable, 406),
            (.contentTooLarge, 413), (.unsupportedMediaType, 415), (.unprocessableContent, 422),
        ]
        for (code, status) in statuses {
            let error = TAXIIError(code, "m")
            #expect(error.httpStatus == status, "\(code)")
            #expect(TAXIITestJSON.decode(error.jsonBytes)["http_status"] == .string(String(status)))
            #expect(TAXIITestJSON.decode(error.jsonBytes)["error_code"] == .string(code.description))
        }
        #expect(Set(statuses.map(\.0.title)).count == statuses.count)
    }
}
