import AirlockCore
import AirlockExchange
import AirlockServer
import AirlockStore
import AirlockTestSupport
import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

/// Who reads what over the real TAXII endpoints: a case with one object at each TLP level, its
/// GREEN and CLEAR objects shared on to the community and the banking sector, its CLEAR one to
/// the public; then, for each relation to the case (every participant role, a program member
/// outside the case, an outside organisation, anonymous), the objects that caller reaches through
/// every collection listed for it, and the 404s (401s for anonymous) for everything else.
@Suite struct TAXIIAccessTests {
    enum Reader: String, CaseIterable, Sendable, CustomTestStringConvertible {
        case reporter, vendor, affectedOperator, modelDeveloper, programOffice, programMember, outsider, anonymous

        var testDescription: String { rawValue }

        func credentials(_ world: TAXIIWorld) -> TAXIICredentials {
            switch self {
            case .reporter: .basic(world.key(.evaluator))
            case .vendor: .basic(world.key(.vendor))
            case .affectedOperator: .basic(world.key(.bank))
            case .modelDeveloper: .basic(world.key(.developer))
            case .programOffice: .basic(world.key(.office))
            case .programMember: .basic(world.key(.otherDeveloper))
            case .outsider: .basic(world.outsider.key)
            case .anonymous: .none
            }
        }
    }

    /// The table, written out from TLP 2.0 and the issue rather than from the code: the levels each
    /// relation reads. RED and AMBER never leave the case's participants.
    static let readable: [Reader: Set<TrafficLightProtocol>] = [
        .reporter: Set(TrafficLightProtocol.allCases), .vendor: Set(TrafficLightProtocol.allCases),
        .affectedOperator: Set(TrafficLightProtocol.allCases), .modelDeveloper: Set(TrafficLightProtocol.allCases),
        .programOffice: Set(TrafficLightProtocol.allCases),
        .programMember: [.green, .clear], .outsider: [.clear], .anonymous: [.clear],
    ]

    /// The object of each level: a distinct indicator number per level.
    static func number(_ level: TrafficLightProtocol) -> Int { TrafficLightProtocol.allCases.firstIndex(of: level)! + 1 }
    static func objectId(_ level: TrafficLightProtocol) -> String { TAXIIFixtures.indicatorId(number(level)) }
    /// A RED object filed into the community collection by mistake, straight into the store.
    static let misfiled = TAXIIFixtures.indicatorId(99)

    @Test(arguments: Reader.allCases)
    func eachRelationReadsWhatItsTLPLevelsAllowAndNothingElse(reader: Reader) async throws {
        try await withTAXIIServer { world, store, client in
            try await Self.share(world, store, client)
            let credentials = reader.credentials(world)
            let expected = Set(Self.readable[reader]!.map(Self.objectId))

            // Every collection the reader is listed, paged through objects and manifest.
            let list = try await client.taxii(.get, "/taxii2/airlock/collections/", credentials)
            let listed = (list.json["collections"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
            var reached: Set<String> = []
            for collection in listed {
                for endpoint in ["objects/", "manifest/"] {
                    let page = try await client.taxii(.get, taxiiPath(collection, endpoint) + "?limit=1000", credentials)
                    #expect(page.status == .ok, "\(reader) \(endpoint) of a listed collection: \(page.body)")
                    #expect(!page.more)
                    reached.formUnion(page.objectIds)
                }
            }
            #expect(reached == expected, "\(reader) reached \(reached.sorted()), expected \(expected.sorted())")

            // Everything else is absent from every endpoint of every collection: 404 (401 without credentials).
            let collections = [world.caseCollection, world.community, world.sector(.banking), world.publicCollection]
            for level in TrafficLightProtocol.allCases {
                let id = Self.objectId(level)
                let mayRead = expected.contains(id)
                var found = false
                for collection in collections {
                    for path in [taxiiPath(collection, "objects/\(id)/"), taxiiPath(collection, "objects/\(id)/versions/")] {
                        let reply = try await client.taxii(.get, path, credentials)
                        switch reply.status {
                        case .ok: found = true
                        case .notFound: break
                        case .unauthorized: #expect(reader == .anonymous && collection != world.publicCollection)
                        default: Issue.record("\(reader) GET \(path): \(reply.status)")
                        }
                        #expect(reply.status != .forbidden)
                    }
                    let manifest = try await client.taxii(.get, taxiiPath(collection, "manifest/") + "?match[id]=\(id)", credentials)
                    if !mayRead { #expect(manifest.objectIds.isEmpty, "\(reader) sees \(level.label) in a manifest") }
                    let objects = try await client.taxii(.get, taxiiPath(collection, "objects/") + "?match[id]=\(id)", credentials)
                    if !mayRead { #expect(objects.objectIds.isEmpty, "\(reader) sees \(level.label) in an envelope") }
                }
                #expect(found == mayRead, "\(reader) and \(level.label): found \(found)")
            }

            // The misfiled RED object is served to nobody, and its date_added shows in no header.
            let community = try await client.taxii(.get, taxiiPath(world.community, "objects/") + "?limit=1000", .basic(world.key(.office)))
            #expect(!community.objectIds.contains(Self.misfiled))
            let lastGreen = try #require(community.header("X-TAXII-Date-Added-Last"))
            let misfiledAdded = try await store.transaction { records in
                try await records.taxiiObjects(collectionId: world.community).first { $0.objectId == Self.misfiled }!.dateAddedMicros
            }
            #expect(TAXIITimestamp(lastGreen)!.microsecondsSince1970 < misfiledAdded)
        }
    }

    /// A participant posts one object per level to the case; the office shares GREEN and CLEAR on.
    static func share(_ world: TAXIIWorld, _ store: ProgramStore, _ client: any TestClientProtocol) async throws {
        let reporter = TAXIICredentials.basic(world.key(.evaluator))
        let office = TAXIICredentials.basic(world.key(.office))
        let inCase = try await client.taxii(
            .post, taxiiPath(world.caseCollection, "objects/"), reporter,
            body: TAXIIFixtures.envelope(TrafficLightProtocol.allCases.map { TAXIIFixtures.indicator(number($0), tlp: $0) }))
        #expect(inCase.json["success_count"] as? Int == 5, "\(inCase.body)")
        let shared = [TrafficLightProtocol.green, .clear].map { TAXIIFixtures.indicator(number($0), tlp: $0) }
        for collection in [world.community, world.sector(.banking)] {
            let reply = try await client.taxii(.post, taxiiPath(collection, "objects/"), office, body: TAXIIFixtures.envelope(shared))
            #expect(reply.json["success_count"] as? Int == 2, "\(reply.body)")
        }
        let published = try await client.taxii(
            .post, taxiiPath(world.publicCollection, "objects/"), office,
            body: TAXIIFixtures.envelope([TAXIIFixtures.indicator(number(.clear), tlp: .clear)]))
        #expect(published.json["success_count"] as? Int == 1)
        _ = try await store.transaction { records in
            try await records.insert([
                TAXIIStoredObject(
                    collectionId: world.community, objectId: misfiled, type: "indicator", version: "2026-01-01T00:00:00.000Z",
                    versionMicros: 1_767_225_600_000_000, specVersion: "2.1", dateAddedMicros: 4_000_000_000_000_000,
                    mediaType: "application/stix+json;version=2.1", tlp: "red", caseId: world.caseId,
                    body: TAXIIFixtures.indicator(99, tlp: .red))
            ])
        }
    }
}
