import AirlockCore
import AirlockExchange
import AirlockServer
import AirlockStore
import AirlockTestSupport
import Foundation
import HTTPTypes
import Testing

/// A case's objects belong to their authors: only the organisation that first posted a STIX id,
/// or the program office, adds versions of it or deletes it; no version may claim a time in the future.
@Suite struct TAXIIAuthorshipTests {
    /// `object` with its `modified` and `description` replaced, as a participant would rewrite it.
    static func rewritten(_ body: String, modified: String) throws -> String {
        var object = try #require(try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])
        object["modified"] = modified
        object["description"] = "Nothing to see here: not a vulnerability."
        return String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self)
    }

    /// The status resource's failures, by object id.
    static func failures(_ reply: TAXIIReply) -> [String: String] {
        var failures: [String: String] = [:]
        for failure in reply.json["failures"] as? [[String: Any]] ?? [] {
            failures[failure["id"] as? String ?? ""] = failure["message"] as? String ?? ""
        }
        return failures
    }

    @Test func aParticipantCannotRewriteOrDeleteTheOfficesVulnerability() async throws {
        try await withSharingAPI { world, store, clock, client in
            let namespace = "https://airlock.example.org"
            let office = world.member(.office, .admin)
            let bank = TAXIICredentials.basic(world.member(.bank, .admin).key)
            let sharing = try await SharingWorld.make(world, client)
            let caseCollection = SharingCollection.disclosureCase(sharing.draftCase).id(namespace: namespace)
            let rows = try await store.transaction { try await $0.taxiiObjects(collectionId: caseCollection) }
            let vulnerability = try #require(rows.first { $0.type == "vulnerability" })
            let objects = taxiiPath(caseCollection, "objects/")

            // A new version now, and one dated in the year 9999: both refused, each with a reason.
            for modified in [TAXIITimestamp(clock.now).description, "9999-12-31T23:59:59.999Z"] {
                let posted = try await client.taxii(
                    .post, objects, bank, body: TAXIIFixtures.envelope([try Self.rewritten(vulnerability.body, modified: modified)]))
                #expect(posted.status == .accepted, "\(posted.body)")
                #expect(posted.json["success_count"] as? Int == 0, "\(posted.body)")
                #expect(Self.failures(posted)[vulnerability.objectId] != nil, "\(posted.body)")
            }
            // Deleting every version: refused as the collection's other refusals are.
            let deleted = try await client.taxii(.delete, objects + vulnerability.objectId + "/?match[version]=all", bank)
            #expect(deleted.status == .forbidden, "\(deleted.body)")
            #expect(deleted.json["error_code"] as? String == "forbidden")
            let held = try await store.transaction { try await $0.taxiiObjects(collectionId: caseCollection) }
            #expect(held.filter { $0.objectId == vulnerability.objectId }.count == rows.filter { $0.objectId == vulnerability.objectId }.count)

            // Publication shares the office's vulnerability beyond the case.
            _ = try await client.call(.post, "/api/v1/cases/\(sharing.draftCase)/triage", as: office, json: "{}")
            clock.advance(days: 50)
            let published = try await client.call(.post, "/api/v1/cases/\(sharing.draftCase)/publication", as: office, json: "{}")
            #expect(published.status == .ok, "\(published.body)")
            for collection in [SharingCollection.public, .community] {
                let shared = try await store.transaction { try await $0.taxiiObjects(collectionId: collection.id(namespace: namespace)) }
                #expect(shared.contains { $0.objectId == vulnerability.objectId }, "\(collection.alias)")
            }
        }
    }

    @Test(arguments: TestBackend.all)
    func onlyTheAuthorOrTheOfficeVersionsAParticipantsObject(backend: TestBackend) async throws {
        try await withTAXIIServer(backend: backend) { world, store, client in
            let objects = taxiiPath(world.caseCollection, "objects/")
            let id = TAXIIFixtures.indicatorId(1)
            func post(_ org: Org, modified: String) async throws -> TAXIIReply {
                try await client.taxii(
                    .post, objects, .basic(world.key(org)), body: TAXIIFixtures.envelope([TAXIIFixtures.indicator(1, modified: modified)]))
            }
            #expect(try await post(.bank, modified: "2026-01-01T00:00:00.000Z").json["success_count"] as? Int == 1)
            let vendor = try await post(.vendor, modified: "2026-01-02T00:00:00.000Z")
            #expect(vendor.json["success_count"] as? Int == 0, "\(vendor.body)")
            #expect(Self.failures(vendor)[id]?.contains("author") == true, "\(vendor.body)")
            #expect(try await post(.bank, modified: "2026-01-03T00:00:00.000Z").json["success_count"] as? Int == 1)
            #expect(try await post(.office, modified: "2026-01-04T00:00:00.000Z").json["success_count"] as? Int == 1)

            let vendorDelete = try await client.taxii(.delete, objects + id + "/?match[version]=all", .basic(world.key(.vendor)))
            #expect(vendorDelete.status == .forbidden, "\(vendorDelete.body)")
            let bankDelete = try await client.taxii(.delete, objects + id + "/?match[version]=all", .basic(world.key(.bank)))
            #expect(bankDelete.status == .ok, "\(bankDelete.body)")
            #expect(try await store.transaction { try await $0.taxiiObjects(collectionId: world.caseCollection) }.isEmpty)
        }
    }

    @Test func aVersionFromTheFutureIsRefused() async throws {
        try await withTAXIIServer { world, store, client in
            let objects = taxiiPath(world.caseCollection, "objects/")
            let soon = TAXIITimestamp(Date().addingTimeInterval(60)).description
            let later = TAXIITimestamp(Date().addingTimeInterval(3_600)).description
            let posted = try await client.taxii(
                .post, objects, .basic(world.key(.bank)),
                body: TAXIIFixtures.envelope([
                    TAXIIFixtures.indicator(1, modified: soon), TAXIIFixtures.indicator(2, modified: later),
                    TAXIIFixtures.indicator(3, modified: "9999-12-31T23:59:59.999Z"),
                    TAXIIFixtures.indicator(4, modified: "2026-01-01T00:00:00.000Z").replacingOccurrences(
                        of: "2026-01-01T00:00:00.000Z", with: "0000-06-01T00:00:00.000Z"),
                ]))
            #expect(posted.json["success_count"] as? Int == 1, "\(posted.body)")
            let failures = Self.failures(posted)
            #expect(failures[TAXIIFixtures.indicatorId(4)]?.contains("0001") == true, "\(posted.body)")
            #expect(failures[TAXIIFixtures.indicatorId(2)]?.contains("future") == true, "\(posted.body)")
            #expect(failures[TAXIIFixtures.indicatorId(3)]?.contains("future") == true, "\(posted.body)")
            #expect(try await store.transaction { try await $0.taxiiObjects(collectionId: world.caseCollection) }.map(\.objectId)
                == [TAXIIFixtures.indicatorId(1)])
        }
    }
}
