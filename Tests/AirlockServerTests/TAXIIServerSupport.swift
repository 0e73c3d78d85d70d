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

/// The test program plus a disclosure case for TAXII: the evaluator reported it, the developer's
/// model is concerned, the vendor makes the product, the bank runs it, the program office
/// coordinates. The other developer is a program member outside the case; a second vendor
/// organisation, outside the program's community and the case, is the outsider.
struct TAXIIWorld: Sendable {
    var program: ProgramWorld
    var caseId: String
    var caseReference: String
    /// An admin of a vendor organisation that takes no part in the case.
    var outsider: ProgramWorld.Member
    var namespace: String { ServerConfiguration().sharingNamespace }

    static let caseRoles: [(Org, CaseRole)] = [
        (.evaluator, .reporter), (.vendor, .vendor), (.bank, .affectedOperator), (.developer, .modelDeveloper),
        (.office, .programOffice),
    ]

    func id(_ collection: SharingCollection) -> String { collection.id(namespace: namespace) }
    var caseCollection: String { id(.disclosureCase(caseId)) }
    var community: String { id(.community) }
    var publicCollection: String { id(.public) }
    func sector(_ sector: InfrastructureSector) -> String { id(.sector(sector)) }

    /// An organisation's admin key.
    func key(_ org: Org) -> String { program.member(org, .admin).key }

    static func make(in store: ProgramStore) async throws -> TAXIIWorld {
        let program = try await ProgramWorld.make(in: store)
        let now = program.now
        return try await store.transaction { records in
            var disclosure = DisclosureCase(
                id: Identifier.make("cas", at: now), reference: "AIRLOCK-2027-0001", title: "Prompt injection in the model's tool use",
                summary: "", reportedAt: now)
            for (org, role) in caseRoles { disclosure.add(CaseParticipant(organisationId: program.id(org), role: role)) }
            try await records.insert(disclosure, embargoEnd: nil, at: now)
            let outside = Organisation(id: Identifier.make("org", at: now), name: "outside vendor", kind: .vendor, createdAt: now)
            try await records.insert(outside)
            let user = User(
                id: Identifier.make("usr", at: now), organisationId: outside.id, email: "admin@outside.example", name: "Outside Admin",
                role: .admin, createdAt: now)
            try await records.insert(user, passwordHash: nil)
            let secret = Identifier.secret("alk")
            try await records.insert(
                APIKey(id: Identifier.make("key", at: now), kind: .user, userId: user.id, organisationId: outside.id, name: "test", createdAt: now),
                secret: secret)
            return TAXIIWorld(
                program: program, caseId: disclosure.id, caseReference: disclosure.reference,
                outsider: ProgramWorld.Member(user: user, key: secret))
        }
    }
}

/// Runs `body` against the server in process (the whole router, TAXII included) on a fresh
/// store of `backend`, with the TAXII world in it.
func withTAXIIServer(
    backend: TestBackend = .sqlite, _ body: @Sendable (TAXIIWorld, ProgramStore, any TestClientProtocol) async throws -> Void
) async throws {
    try await backend.withFreshStore { store in
        let world = try await TAXIIWorld.make(in: store)
        let api = ProgramAPI(store: store, configuration: ServerConfiguration())
        try await testApplication(api).test(.router) { client in try await body(world, store, client) }
    }
}

/// A TAXII response: status, headers, and the body as text and JSON.
struct TAXIIReply: Sendable {
    var status: HTTPResponse.Status
    var headers: HTTPFields
    var body: String

    var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any] ?? [:] }
    var contentType: String? { headers[.contentType] }
    /// The ids of an envelope's or a manifest's objects, in order.
    var objectIds: [String] { (json["objects"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String } }
    var more: Bool { json["more"] as? Bool ?? false }
    var next: String? { json["next"] as? String }
    func header(_ name: String) -> String? { headers[HTTPField.Name(name)!] }
}

/// How a test request authenticates.
enum TAXIICredentials: Sendable {
    case none
    /// HTTP Basic with any user name and the key as the password, as TAXII clients send it.
    case basic(String)
    case bearer(String)
    /// An `Authorization` header as it is.
    case raw(String)
}

extension TestClientProtocol {
    /// A TAXII request: `Accept` is the TAXII 2.1 media type unless `headers` say otherwise, and a
    /// body goes as a TAXII envelope.
    func taxii(
        _ method: HTTPRequest.Method, _ path: String, _ credentials: TAXIICredentials = .none, body: String? = nil,
        headers extra: HTTPFields = [:]
    ) async throws -> TAXIIReply {
        var headers: HTTPFields = [.accept: "application/taxii+json;version=2.1"]
        if body != nil { headers[.contentType] = "application/taxii+json;version=2.1" }
        switch credentials {
        case .none: break
        case .basic(let key): headers[.authorization] = "Basic " + Data("taxii:\(key)".utf8).base64EncodedString()
        case .bearer(let key): headers[.authorization] = "Bearer \(key)"
        case .raw(let value): headers[.authorization] = value
        }
        for field in extra { headers[field.name] = field.value }
        return try await execute(uri: path, method: method, headers: headers, body: body.map { ByteBuffer(string: $0) }) { response in
            TAXIIReply(status: response.status, headers: response.headers, body: String(buffer: response.body))
        }
    }
}

/// STIX objects for the tests.
enum TAXIIFixtures {
    /// A deterministic UUID from a number.
    static func uuid(_ number: Int, salt: Int = 0) -> String {
        let hex = String(format: "%012x", number)
        return String(format: "%08x", salt) + "-0000-4000-8000-" + hex
    }

    /// An indicator, marked with a TLP level when given.
    static func indicator(
        _ number: Int, salt: Int = 0, tlp: TrafficLightProtocol? = nil, modified: String = "2026-01-01T00:00:00.000Z"
    ) -> String {
        let marking = tlp.map { #","object_marking_refs":[""# + STIXMarking.id(of: $0) + #""]"# } ?? ""
        return #"{"type":"indicator","spec_version":"2.1","id":"indicator--"# + uuid(number, salt: salt)
            + #"","created":"2026-01-01T00:00:00.000Z","modified":""# + modified
            + #"","name":"Indicator \#(number)","pattern":"[ipv4-addr:value = '198.51.100.\#(number % 250)']","pattern_type":"stix","valid_from":"2026-01-01T00:00:00Z""#
            + marking + "}"
    }

    static func envelope(_ objects: [String]) -> String { #"{"objects":["# + objects.joined(separator: ",") + "]}" }

    static func indicatorId(_ number: Int, salt: Int = 0) -> String { "indicator--" + uuid(number, salt: salt) }
}

/// The TAXII path of a collection's endpoint.
func taxiiPath(_ collection: String, _ rest: String = "") -> String {
    "/taxii2/airlock/collections/\(collection)/" + rest
}
