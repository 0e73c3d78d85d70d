import AirlockCore
import AirlockExchange
import AirlockServer
import AirlockStore
import AirlockTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import SQLKit
import Testing

/// The TAXII 2.1 server in process: every endpoint, every error code, paging, the date headers,
/// versions, delete and status.
@Suite struct TAXIIServerTests {
    static let taxiiType = "application/taxii+json;version=2.1"

    @Test func discoveryAndTheAPIRootAnswerWithAndWithoutTrailingSlashes() async throws {
        try await withTAXIIServer { _, _, client in
            for path in ["/taxii2/", "/taxii2"] {
                let discovery = try await client.taxii(.get, path)
                #expect(discovery.status == .ok)
                #expect(discovery.contentType == Self.taxiiType)
                #expect(discovery.json["title"] as? String == "Airlock TAXII 2.1 server")
                #expect(discovery.json["api_roots"] as? [String] == ["/taxii2/airlock/"])
                #expect(discovery.json["default"] as? String == "/taxii2/airlock/")
            }
            for path in ["/taxii2/airlock/", "/taxii2/airlock"] {
                let root = try await client.taxii(.get, path)
                #expect(root.status == .ok)
                #expect(root.contentType == Self.taxiiType)
                #expect(root.json["versions"] as? [String] == [Self.taxiiType])
                #expect(root.json["max_content_length"] as? Int == 10 << 20)
            }
            // A bare TAXII type, */* and no Accept at all are answered too.
            for accept in ["application/taxii+json", "*/*"] {
                #expect(try await client.taxii(.get, "/taxii2/", headers: [.accept: accept]).status == .ok)
            }
        }
    }

    @Test func eachCallerIsListedTheCollectionsTheyMaySee() async throws {
        try await withTAXIIServer { world, _, client in
            /// Each listed collection's id, with "rw", "r-" for can_read and can_write.
            func listed(_ credentials: TAXIICredentials) async throws -> [String: String] {
                let reply = try await client.taxii(.get, "/taxii2/airlock/collections/", credentials)
                #expect(reply.status == .ok)
                #expect(reply.contentType == Self.taxiiType)
                var result: [String: String] = [:]
                for collection in reply.json["collections"] as? [[String: Any]] ?? [] {
                    let id = try #require(collection["id"] as? String)
                    result[id] = (collection["can_read"] as? Bool == true ? "r" : "-") + (collection["can_write"] as? Bool == true ? "w" : "-")
                }
                return result
            }
            let allSectors = Set(InfrastructureSector.allCases.map(world.sector))

            let anonymous = try await listed(.none)
            #expect(Set(anonymous.keys) == [world.publicCollection])
            #expect(anonymous[world.publicCollection] == "r-")

            let office = try await listed(.basic(world.key(.office)))
            #expect(Set(office.keys) == Set([world.caseCollection, world.community, world.publicCollection]).union(allSectors))
            #expect(office.values.allSatisfy { $0 == "rw" })

            let bank = try await listed(.basic(world.key(.bank)))
            #expect(Set(bank.keys) == [world.caseCollection, world.community, world.sector(.banking), world.publicCollection])
            #expect(bank[world.caseCollection] == "rw")
            #expect(bank[world.community] == "r-")
            #expect(bank[world.sector(.banking)] == "r-")

            // A viewer reads but does not write, even in its own case.
            let viewer = try await listed(.basic(world.program.member(.bank, .viewer).key))
            #expect(viewer[world.caseCollection] == "r-")

            // The vendor is in the case but not in the program's community.
            #expect(Set(try await listed(.basic(world.key(.vendor))).keys) == [world.caseCollection, world.publicCollection])
            #expect(Set(try await listed(.bearer(world.key(.otherDeveloper))).keys) == [world.community, world.publicCollection])
            #expect(Set(try await listed(.basic(world.outsider.key)).keys) == [world.publicCollection])

            // One collection: with and without the trailing slash; the case's title names it.
            for path in [taxiiPath(world.caseCollection), String(taxiiPath(world.caseCollection).dropLast())] {
                let one = try await client.taxii(.get, path, .basic(world.key(.bank)))
                #expect(one.status == .ok)
                #expect((one.json["title"] as? String)?.contains(world.caseReference) == true)
                #expect(one.json["id"] as? String == world.caseCollection)
                #expect(one.json["media_types"] as? [String] == ["application/stix+json;version=2.1"])
            }
            // Outside the case, the case collection does not exist.
            #expect(try await client.taxii(.get, taxiiPath(world.caseCollection), .basic(world.key(.otherDeveloper))).status == .notFound)
            #expect(try await client.taxii(.get, taxiiPath(world.caseCollection), .none).status == .unauthorized)
        }
    }

    @Test func everyErrorCodeComesAsATAXIIErrorMessage() async throws {
        try await withTAXIIServer { world, store, client in
            let office = TAXIICredentials.basic(world.key(.office))
            let objects = taxiiPath(world.publicCollection, "objects/")
            let posted = try await client.taxii(
                .post, objects, office, body: TAXIIFixtures.envelope([TAXIIFixtures.indicator(1), TAXIIFixtures.indicator(2)]))
            #expect(posted.status == .accepted)

            func expectError(
                _ reply: TAXIIReply, _ status: HTTPResponse.Status, sourceLocation: SourceLocation = #_sourceLocation
            ) {
                #expect(reply.status == status, "\(reply.body)", sourceLocation: sourceLocation)
                #expect(reply.contentType == Self.taxiiType, sourceLocation: sourceLocation)
                #expect(reply.json["title"] is String, "\(reply.body)", sourceLocation: sourceLocation)
                #expect(reply.json["http_status"] as? String == "\(status.code)", sourceLocation: sourceLocation)
                if status == .unauthorized {
                    #expect(reply.headers[.wwwAuthenticate] == #"Basic realm="airlock""#, sourceLocation: sourceLocation)
                }
            }

            // 400: bad filters, a bad next, a body that is not JSON.
            for query in [
                "limit=0", "limit=-3", "limit=ten", "added_after=yesterday", "match[colour]=red", "match%5Btype%5D=Not_A_Type",
                "match[version]=sometimes", "next=not-a-token", "limit=5&limit=6", "match[id]=indicator--nope", "match%ZZ=1",
            ] {
                expectError(try await client.taxii(.get, objects + "?" + query, office), .badRequest)
            }
            // next from one set of filters with another.
            let first = try await client.taxii(.get, objects + "?limit=1&match[type]=indicator", office)
            #expect(first.status == .ok)
            let token = try #require(first.next)
            expectError(try await client.taxii(.get, objects + "?match[type]=malware&next=" + token, office), .badRequest)
            expectError(try await client.taxii(.post, objects, office, body: "{not json"), .badRequest)
            // 422: JSON, but not an envelope.
            expectError(try await client.taxii(.post, objects, office, body: #"{"objects": 5}"#), .unprocessableContent)

            // 401: no credentials where they are needed, wrong ones anywhere, grant keys.
            expectError(try await client.taxii(.get, taxiiPath(world.community, "objects/")), .unauthorized)
            expectError(try await client.taxii(.post, objects, body: TAXIIFixtures.envelope([])), .unauthorized)
            expectError(try await client.taxii(.get, "/taxii2/", .basic("alk_wrong")), .unauthorized)
            expectError(try await client.taxii(.get, "/taxii2/", .bearer("alk_wrong")), .unauthorized)
            expectError(try await client.taxii(.get, "/taxii2/", .raw("Digest username=x")), .unauthorized)
            expectError(try await client.taxii(.get, "/taxii2/", .raw("Basic " + Data("nopassword".utf8).base64EncodedString())), .unauthorized)
            expectError(try await client.taxii(.get, "/taxii2/airlock/status/\(UUID().uuidString.lowercased())/"), .unauthorized)
            let grantKey = try await Self.grantKey(world, store)
            expectError(try await client.taxii(.get, "/taxii2/airlock/collections/", .basic(grantKey)), .unauthorized)

            // 403: may read, may not write.
            expectError(
                try await client.taxii(
                    .post, taxiiPath(world.community, "objects/"), .basic(world.key(.bank)), body: TAXIIFixtures.envelope([])),
                .forbidden)
            expectError(
                try await client.taxii(.post, objects, .basic(world.program.member(.office, .viewer).key), body: TAXIIFixtures.envelope([])),
                .forbidden)
            expectError(
                try await client.taxii(.delete, objects + TAXIIFixtures.indicatorId(1) + "/", .basic(world.key(.bank))), .forbidden)

            // 404: collections, objects, statuses and endpoints that are not there, or not for this caller.
            expectError(try await client.taxii(.get, taxiiPath(world.caseCollection, "objects/"), .basic(world.key(.otherDeveloper))), .notFound)
            expectError(try await client.taxii(.get, taxiiPath(UUID().uuidString.lowercased(), "objects/"), office), .notFound)
            expectError(try await client.taxii(.get, objects + TAXIIFixtures.indicatorId(999) + "/", office), .notFound)
            expectError(try await client.taxii(.get, objects + TAXIIFixtures.indicatorId(999) + "/versions/", office), .notFound)
            expectError(try await client.taxii(.delete, objects + TAXIIFixtures.indicatorId(999) + "/", office), .notFound)
            expectError(try await client.taxii(.get, "/taxii2/airlock/status/\(UUID().uuidString.lowercased())/", office), .notFound)
            expectError(try await client.taxii(.get, "/taxii2/elsewhere/", office), .notFound)
            expectError(try await client.taxii(.get, "/taxii2/airlock/collections/\(world.publicCollection)/things/", office), .notFound)
            expectError(try await client.taxii(.put, objects, office, body: TAXIIFixtures.envelope([])), .notFound)
            expectError(try await client.taxii(.get, taxiiPath(world.sector(.energy), "objects/"), .basic(world.key(.bank))), .notFound)

            // 406: an Accept header that names no TAXII 2.1 type.
            for accept in ["application/json", "application/taxii+json;version=2.0", "text/html"] {
                expectError(try await client.taxii(.get, objects, office, headers: [.accept: accept]), .notAcceptable)
            }

            // 413: a body over max_content_length (TAXIIClientTests sends one whose Content-Length alone is too large).
            let big = #"{"objects":[],"padding":""# + String(repeating: "x", count: 10 << 20) + #""}"#
            expectError(try await client.taxii(.post, objects, office, body: big), .contentTooLarge)

            // 415: a POST body in another media type.
            for type in ["application/json", "application/stix+json;version=2.1", "application/taxii+json;version=2.0"] {
                expectError(
                    try await client.taxii(.post, objects, office, body: TAXIIFixtures.envelope([]), headers: [.contentType: type]),
                    .unsupportedMediaType)
            }
        }
    }

    @Test(arguments: TestBackend.all)
    func pagingThroughTwoHundredAndFiftyObjectsWithNextAndTheDateHeaders(backend: TestBackend) async throws {
        try await withTAXIIServer(backend: backend) { world, _, client in
            let office = TAXIICredentials.basic(world.key(.office))
            let objects = taxiiPath(world.publicCollection, "objects/")
            let posted = try await client.taxii(
                .post, objects, office, body: TAXIIFixtures.envelope((1...250).map { TAXIIFixtures.indicator($0) }))
            #expect(posted.status == .accepted)
            #expect(posted.contentType == Self.taxiiType)
            #expect(posted.json["status"] as? String == "complete")
            #expect(posted.json["success_count"] as? Int == 250)
            #expect(posted.json["total_count"] as? Int == 250)

            for endpoint in ["objects/", "manifest/"] {
                var seen: [String] = []
                var pages = 0
                var path = taxiiPath(world.publicCollection, endpoint) + "?limit=100"
                while true {
                    let page = try await client.taxii(.get, path, .none)
                    #expect(page.status == .ok)
                    #expect(page.contentType == Self.taxiiType)
                    pages += 1
                    seen += page.objectIds
                    let first = try #require(page.header("X-TAXII-Date-Added-First"))
                    let last = try #require(page.header("X-TAXII-Date-Added-Last"))
                    #expect(TAXIITimestamp(first) != nil && TAXIITimestamp(last) != nil)
                    #expect(first <= last)
                    if endpoint == "manifest/" {
                        let entry = try #require((page.json["objects"] as? [[String: Any]])?.first)
                        #expect(entry["date_added"] as? String == first)
                        #expect(entry["version"] as? String == "2026-01-01T00:00:00.000Z")
                        #expect(entry["media_type"] as? String == "application/stix+json;version=2.1")
                    }
                    guard page.more else {
                        #expect(page.next == nil)
                        break
                    }
                    let next = try #require(page.next)
                    path = taxiiPath(world.publicCollection, endpoint) + "?limit=100&next=" + next
                }
                #expect(pages == 3)
                #expect(seen.count == 250)
                #expect(Set(seen) == Set((1...250).map { TAXIIFixtures.indicatorId($0) }))
            }

            // Polling: added_after the last page's X-TAXII-Date-Added-Last gives only what came after.
            let all = try await client.taxii(.get, objects + "?limit=1000", .none)
            #expect(all.objectIds.count == 250 && !all.more)
            let last = try #require(all.header("X-TAXII-Date-Added-Last"))
            let later = try await client.taxii(
                .post, objects, office, body: TAXIIFixtures.envelope((251...253).map { TAXIIFixtures.indicator($0) }))
            #expect(later.json["success_count"] as? Int == 3)
            let polled = try await client.taxii(.get, objects + "?added_after=" + last, .none)
            #expect(polled.objectIds == (251...253).map { TAXIIFixtures.indicatorId($0) })
            let newLast = try #require(polled.header("X-TAXII-Date-Added-Last"))
            #expect(try #require(TAXIITimestamp(newLast)) > (try #require(TAXIITimestamp(last))))
            let empty = try await client.taxii(.get, objects + "?added_after=" + newLast, .none)
            #expect(empty.status == .ok && empty.objectIds.isEmpty && !empty.more)
            #expect(empty.header("X-TAXII-Date-Added-First") == nil)

            // The default page is 100; a larger limit is cut to 1,000.
            #expect(try await client.taxii(.get, objects, .none).objectIds.count == 100)
            #expect(try await client.taxii(.get, objects + "?limit=5000", .none).objectIds.count == 253)
            // Filters: type and id.
            #expect(try await client.taxii(.get, objects + "?match[type]=malware", .none).objectIds.isEmpty)
            let two = [TAXIIFixtures.indicatorId(7), TAXIIFixtures.indicatorId(9)]
            #expect(try await client.taxii(.get, objects + "?match[id]=" + two.joined(separator: ","), .none).objectIds == two)
        }
    }

    @Test(arguments: TestBackend.all)
    func versionsOfAnObjectAndDeletingThem(backend: TestBackend) async throws {
        try await withTAXIIServer(backend: backend) { world, _, client in
            let writer = TAXIICredentials.basic(world.key(.evaluator))
            let objects = taxiiPath(world.caseCollection, "objects/")
            let id = TAXIIFixtures.indicatorId(1)
            let v1 = "2026-01-01T00:00:00.000Z", v2 = "2026-02-01T00:00:00.000Z"
            #expect(try await client.taxii(.post, objects, writer, body: TAXIIFixtures.envelope([TAXIIFixtures.indicator(1, modified: v1)])).status == .accepted)
            let second = try await client.taxii(
                .post, objects, writer,
                body: TAXIIFixtures.envelope([TAXIIFixtures.indicator(1, modified: v2), TAXIIFixtures.indicator(1, modified: v1)]))
            #expect(second.json["success_count"] as? Int == 1)
            #expect(second.json["failure_count"] as? Int == 1)
            let failure = try #require((second.json["failures"] as? [[String: Any]])?.first)
            #expect(failure["id"] as? String == id && failure["version"] as? String == v1)

            let object = objects + id + "/"
            let latest = try await client.taxii(.get, object, writer)
            #expect(latest.status == .ok)
            #expect(latest.objectIds == [id])
            #expect((latest.json["objects"] as? [[String: Any]])?.first?["modified"] as? String == v2)
            #expect(try await client.taxii(.get, object + "?match[version]=all", writer).objectIds == [id, id])
            #expect(try await client.taxii(.get, object + "?match[version]=first", writer).objectIds == [id])
            let versions = try await client.taxii(.get, object + "versions/", writer)
            #expect(versions.status == .ok)
            #expect(versions.json["versions"] as? [String] == [v1, v2])
            #expect(versions.header("X-TAXII-Date-Added-Last") != nil)
            #expect(try await client.taxii(.get, object + "versions", writer).status == .ok)
            let manifest = try await client.taxii(.get, taxiiPath(world.caseCollection, "manifest/") + "?match[id]=" + id + "&match[version]=all", writer)
            #expect(manifest.objectIds == [id, id])

            // Delete the first version, then the last; then nothing is left.
            #expect(try await client.taxii(.delete, object + "?match[version]=first", writer).status == .ok)
            #expect(try await client.taxii(.get, object + "versions/", writer).json["versions"] as? [String] == [v2])
            let deleted = try await client.taxii(.delete, String(object.dropLast()), writer)
            #expect(deleted.status == .ok)
            #expect(deleted.contentType == Self.taxiiType)
            #expect(try await client.taxii(.get, object, writer).status == .notFound)
            #expect(try await client.taxii(.delete, object, writer).status == .notFound)
            // The same version can be added again once deleted.
            let again = try await client.taxii(.post, objects, writer, body: TAXIIFixtures.envelope([TAXIIFixtures.indicator(1, modified: v1)]))
            #expect(again.json["success_count"] as? Int == 1)
            #expect(try await client.taxii(.get, object, writer).objectIds == [id])
        }
    }

    @Test func theStatusOfAPostIsForThePostersOrganisationOnly() async throws {
        try await withTAXIIServer { world, _, client in
            let office = TAXIICredentials.bearer(world.key(.office))
            let posted = try await client.taxii(
                .post, taxiiPath(world.publicCollection, "objects"), office,
                body: TAXIIFixtures.envelope([TAXIIFixtures.indicator(1), #"{"type":"indicator","id":"indicator--bad"}"#]))
            #expect(posted.status == .accepted)
            let statusId = try #require(posted.json["id"] as? String)
            #expect(posted.json["total_count"] as? Int == 2)
            #expect(posted.json["success_count"] as? Int == 1)
            #expect(posted.json["failure_count"] as? Int == 1)
            #expect(posted.json["pending_count"] as? Int == 0)
            for path in ["/taxii2/airlock/status/\(statusId)/", "/taxii2/airlock/status/\(statusId)"] {
                let status = try await client.taxii(.get, path, .basic(world.program.member(.office, .viewer).key))
                #expect(status.status == .ok)
                #expect(status.contentType == Self.taxiiType)
                #expect(status.body == posted.body)
            }
            #expect(try await client.taxii(.get, "/taxii2/airlock/status/\(statusId)/", .basic(world.key(.bank))).status == .notFound)
            #expect(try await client.taxii(.get, "/taxii2/airlock/status/\(statusId)/").status == .unauthorized)
        }
    }

    @Test func postedObjectsTakeTheirTLPOrTheCollectionsDefaultAndNothingStricterThanItAllows() async throws {
        try await withTAXIIServer { world, store, client in
            let office = TAXIICredentials.basic(world.key(.office))
            let community = try await client.taxii(
                .post, taxiiPath(world.community, "objects/"), office,
                body: TAXIIFixtures.envelope([
                    TAXIIFixtures.indicator(1, tlp: .red), TAXIIFixtures.indicator(2, tlp: .amber), TAXIIFixtures.indicator(3, tlp: .green),
                    TAXIIFixtures.indicator(4),
                ]))
            #expect(community.json["success_count"] as? Int == 2)
            let failures = community.json["failures"] as? [[String: Any]] ?? []
            #expect(failures.compactMap { $0["id"] as? String } == [TAXIIFixtures.indicatorId(1), TAXIIFixtures.indicatorId(2)])
            #expect((failures.first?["message"] as? String)?.contains("TLP:RED") == true)

            let inCase = try await client.taxii(
                .post, taxiiPath(world.caseCollection, "objects/"), .basic(world.key(.vendor)),
                body: TAXIIFixtures.envelope([TAXIIFixtures.indicator(5), TAXIIFixtures.indicator(6, tlp: .red)]))
            #expect(inCase.json["success_count"] as? Int == 2)
            // A TLP 1.0 marking counts too (WHITE as CLEAR).
            let tlp1 = TAXIIFixtures.indicator(7).replacingOccurrences(
                of: "}", with: #","object_marking_refs":["marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9"]}"#)
            #expect(try await client.taxii(.post, taxiiPath(world.publicCollection, "objects/"), office, body: TAXIIFixtures.envelope([tlp1]))
                .json["success_count"] as? Int == 1)

            let stored = try await store.transaction { records in
                try await records.sql.raw("SELECT object_id, tlp, case_id FROM taxii_objects").all().map { row in
                    (try row.decode(column: "object_id", as: String.self),
                     try row.decode(column: "tlp", as: String.self) + " " + (try row.decode(column: "case_id", as: String?.self) ?? "-"))
                }
            }
            let byId = Dictionary(uniqueKeysWithValues: stored)
            #expect(byId[TAXIIFixtures.indicatorId(3)] == "green -")
            #expect(byId[TAXIIFixtures.indicatorId(4)] == "green -")
            #expect(byId[TAXIIFixtures.indicatorId(5)] == "amber \(world.caseId)")
            #expect(byId[TAXIIFixtures.indicatorId(6)] == "red \(world.caseId)")
            #expect(byId[TAXIIFixtures.indicatorId(7)] == "clear -")
        }
    }

    /// JSON readers decode escapes in member names, so `"object_marking_ref\u0073"` is
    /// `object_marking_refs` to every client that later reads the object: its marking must count.
    @Test func aMarkingWhoseMemberNameIsEscapedStillCounts() async throws {
        try await withTAXIIServer { world, _, client in
            let red = TAXIIFixtures.indicator(1, tlp: .red)
                .replacingOccurrences(of: #""object_marking_refs""#, with: #""object_marking_ref\u0073""#)
            let posted = try await client.taxii(
                .post, taxiiPath(world.community, "objects/"), .basic(world.key(.office)), body: TAXIIFixtures.envelope([red]))
            #expect(posted.json["success_count"] as? Int == 0)
            let failures = posted.json["failures"] as? [[String: Any]] ?? []
            #expect((failures.first?["message"] as? String)?.contains("TLP:RED") == true)
        }
    }

    @Test func eachPostIsAuditedOnceAndReadsAreNot() async throws {
        try await withTAXIIServer { world, store, client in
            let office = TAXIICredentials.basic(world.key(.office))
            let objects = taxiiPath(world.publicCollection, "objects/")
            func audited() async throws -> [String] {
                try await store.transaction { records in
                    try await records.sql.raw("SELECT action FROM audit_log ORDER BY sequence").all().map { try $0.decode(column: "action", as: String.self) }
                }
            }
            let before = try await audited()
            _ = try await client.taxii(.post, objects, office, body: TAXIIFixtures.envelope((1...20).map { TAXIIFixtures.indicator($0) }))
            _ = try await client.taxii(.post, objects, office, body: TAXIIFixtures.envelope([TAXIIFixtures.indicator(21)]))
            for _ in 0..<3 { _ = try await client.taxii(.get, objects, office) }
            _ = try await client.taxii(.delete, objects + TAXIIFixtures.indicatorId(21) + "/", office)
            let added = try await audited().dropFirst(before.count)
            #expect(Array(added) == ["taxii.add", "taxii.add", "taxii.delete"])
            // A probe of a case the caller is not in leaves a trace.
            _ = try await client.taxii(.get, taxiiPath(world.caseCollection, "objects/"), .basic(world.key(.otherDeveloper)))
            #expect(try await audited().last == "access.refused")
        }
    }

    /// Objects written to the store behind the server's back (as a case's sharing does) are
    /// served at the next request, and disappear when deleted there; the stamp check finds them.
    @Test(arguments: TestBackend.all)
    func theCacheFollowsWritesMadeDirectlyInTheStore(backend: TestBackend) async throws {
        try await withTAXIIServer(backend: backend) { world, store, client in
            let objects = taxiiPath(world.publicCollection, "objects/")
            #expect(try await client.taxii(.get, objects).objectIds.isEmpty)
            func row(_ number: Int, at micros: Int64) -> TAXIIStoredObject {
                TAXIIStoredObject(
                    collectionId: world.publicCollection, objectId: TAXIIFixtures.indicatorId(number), type: "indicator",
                    version: "2026-01-01T00:00:00.000Z", versionMicros: 1_767_225_600_000_000, specVersion: "2.1", dateAddedMicros: micros,
                    mediaType: "application/stix+json;version=2.1", tlp: "clear", caseId: nil, body: TAXIIFixtures.indicator(number))
            }
            let stored = try await store.transaction { records in try await records.insert([row(1, at: 1_800_000_000_000_000), row(2, at: 1_800_000_000_000_001)]) }
            #expect(try await client.taxii(.get, objects).objectIds == [TAXIIFixtures.indicatorId(1), TAXIIFixtures.indicatorId(2)])
            // Inserts only: the new rows are fetched and added.
            _ = try await store.transaction { records in try await records.insert([row(3, at: 1_800_000_000_000_002)]) }
            #expect(try await client.taxii(.get, objects).objectIds.count == 3)
            // A deletion, then an insert that may reuse the deleted last sequence number.
            try await store.transaction { records in
                try await records.deleteTAXIIObjects(collectionId: world.publicCollection, sequences: [stored[1].sequence])
            }
            #expect(try await client.taxii(.get, objects).objectIds == [TAXIIFixtures.indicatorId(1), TAXIIFixtures.indicatorId(3)])
            let last = try #require(try await store.transaction { records in try await records.taxiiObjects(collectionId: world.publicCollection) }.last)
            try await store.transaction { records in
                try await records.deleteTAXIIObjects(collectionId: world.publicCollection, sequences: [last.sequence])
                _ = try await records.insert([row(4, at: 1_800_000_000_000_003)])
            }
            #expect(try await client.taxii(.get, objects).objectIds == [TAXIIFixtures.indicatorId(1), TAXIIFixtures.indicatorId(4)])
        }
    }

    static func grantKey(_ world: TAXIIWorld, _ store: ProgramStore) async throws -> String {
        let secret = Identifier.secret("alg")
        try await store.transaction { records in
            try await records.insert(
                APIKey(
                    id: Identifier.make("key", at: world.program.now), kind: .grant, grantId: world.program.grant.id,
                    organisationId: world.program.id(.evaluator), name: "gateway", createdAt: world.program.now),
                secret: secret)
        }
        return secret
    }
}
