import AirlockCore
import AirlockStore
import Foundation
import Testing

/// Records for the store tests. Dates are whole milliseconds, as the store keeps them, so a
/// record read back equals the one written.
enum Sample {
    /// 2025-10-09T08:53:20.123Z.
    static let baseMillis: Int64 = 1_760_000_000_123

    /// A date `offset` milliseconds after the base.
    static func date(_ offset: Int64 = 0) -> Date {
        Date(timeIntervalSince1970: Double(baseMillis + offset) / 1000)
    }

    static let day: Int64 = 86_400_000

    static func organisation(
        _ name: String, kind: OrganisationKind = .modelDeveloper, sector: InfrastructureSector? = nil, at offset: Int64 = 0
    ) -> Organisation {
        Organisation(id: Identifier.make("org"), name: name, kind: kind, sector: sector, createdAt: date(offset))
    }

    static func user(_ email: String, in organisation: Organisation, role: MemberRole = .member) -> User {
        User(
            id: Identifier.make("usr"), organisationId: organisation.id, email: email, name: "Name of \(email)", role: role,
            createdAt: date(1))
    }

    static func commitment(_ organisation: Organisation, signedBy user: User, until: Int64? = nil) -> Commitment {
        Commitment(
            id: Identifier.make("cmt"), organisationId: organisation.id, terms: "We will give ninety days' notice.",
            signedBy: user.id, effectiveFrom: date(0), effectiveUntil: until.map { date($0) }, createdAt: date(2))
    }

    static func model(_ name: String, of developer: Organisation) -> CoveredModel {
        CoveredModel(
            id: Identifier.make("mdl"), developerId: developer.id, name: name, description: "A frontier model called \(name).",
            createdAt: date(3))
    }

    static func version(_ version: String, of model: CoveredModel, state: ModelVersionState = .notified) -> ModelVersion {
        ModelVersion(
            id: Identifier.make("ver"), modelId: model.id, developerId: model.developerId, version: version, state: state,
            noticedAt: date(0), plannedReleaseAt: date(100 * day), windowOpensAt: date(0), accessEndsBy: date(114 * day),
            lateNotice: false, capabilities: ["code", "agentic-tools"], modelCard: "# \(model.name) \(version)",
            endpointUrl: "https://models.example/v1", endpointModel: "\(model.name)-\(version)", hasEndpointCredentials: false,
            createdAt: date(4), updatedAt: date(5))
    }

    static func grant(
        to grantee: Organisation, on version: ModelVersion, createdBy user: User, revoked: Bool = false
    ) -> AccessGrant {
        AccessGrant(
            id: Identifier.make("gnt"), versionId: version.id, granteeId: grantee.id, purpose: .infrastructureDefence,
            startsAt: date(day), endsAt: date(30 * day), tokenQuota: 5_000_000_000, requestsPerMinute: 60,
            decisions: GrantDecisions(
                approvedAt: date(6), consentedAt: date(7), revokedAt: revoked ? date(8) : nil),
            createdBy: user.id, createdAt: date(6))
    }

    static func run(_ name: String, on version: ModelVersion, by organisation: Organisation, source: String? = nil) -> StoredRun {
        StoredRun(
            id: Identifier.make("run"), versionId: version.id, organisationId: organisation.id, kind: "eval", name: name,
            sourceId: source, levels: ["cyber": "high", "bio": "low"],
            summary: .object(["accuracy": .number(0.75), "samples": .number(40), "task": .string(name), "ok": .bool(true)]),
            createdAt: date(9))
    }

    static func key(for user: User, kind: APIKey.Kind = .user) -> APIKey {
        APIKey(
            id: Identifier.make("key"), kind: kind, userId: user.id, grantId: nil, organisationId: user.organisationId,
            name: "laptop", createdAt: date(10), expiresAt: date(10 + day), revokedAt: nil)
    }
}

/// A small program: two developers with a model and versions each, a grantee holding one live and
/// one revoked grant, and an organisation with no relation to anything.
struct World: Sendable {
    var office: Organisation
    var developerA: Organisation
    var developerB: Organisation
    var grantee: Organisation
    var outsider: Organisation
    var officer: User
    var modelA: CoveredModel
    var modelB: CoveredModel
    /// Developer A's version; the grantee's grant to it is revoked.
    var versionA1: ModelVersion
    /// Developer B's version the grantee holds a live grant to.
    var versionB1: ModelVersion
    /// Developer B's version nobody else holds a grant to.
    var versionB2: ModelVersion
    var liveGrant: AccessGrant
    var revokedGrant: AccessGrant

    static func seed(_ records: ProgramRecords) async throws -> World {
        let office = Sample.organisation("Program Office", kind: .programOffice)
        let developerA = Sample.organisation("Developer A")
        let developerB = Sample.organisation("Developer B")
        let grantee = Sample.organisation("First Bank", kind: .infrastructureOperator, sector: .banking)
        let outsider = Sample.organisation("Unrelated Evaluator", kind: .evaluator)
        for organisation in [office, developerA, developerB, grantee, outsider] { try await records.insert(organisation) }
        let officer = Sample.user("officer@office.example", in: office, role: .admin)
        try await records.insert(officer, passwordHash: nil)
        let modelA = Sample.model("alpha", of: developerA)
        let modelB = Sample.model("beta", of: developerB)
        try await records.insert(modelA)
        try await records.insert(modelB)
        let versionA1 = Sample.version("1.0", of: modelA)
        let versionB1 = Sample.version("1.0", of: modelB)
        let versionB2 = Sample.version("2.0", of: modelB)
        for version in [versionA1, versionB1, versionB2] { try await records.insert(version, sealedCredentials: nil) }
        let liveGrant = Sample.grant(to: grantee, on: versionB1, createdBy: officer)
        let revokedGrant = Sample.grant(to: grantee, on: versionA1, createdBy: officer, revoked: true)
        try await records.insert(liveGrant)
        try await records.insert(revokedGrant)
        return World(
            office: office, developerA: developerA, developerB: developerB, grantee: grantee, outsider: outsider,
            officer: officer, modelA: modelA, modelB: modelB, versionA1: versionA1, versionB1: versionB1,
            versionB2: versionB2, liveGrant: liveGrant, revokedGrant: revokedGrant)
    }
}

/// Every page of a list, following cursors from the start; stops after 100 pages so a cursor
/// that never ends fails the test rather than hanging it.
func allPages<Item: Identified>(
    limit: Int, _ fetch: (String?) async throws -> Page<Item>
) async throws -> [Page<Item>] {
    var pages: [Page<Item>] = []
    var cursor: String?
    repeat {
        let page = try await fetch(cursor)
        pages.append(page)
        cursor = page.nextCursor
    } while cursor != nil && pages.count < 100
    return pages
}

/// Checks that seven records listed three at a time come as pages of 3, 3 and 1, each cursor the
/// last id of its page, every record once, in id order.
func expectPagesOfSeven<Item: Identified>(
    _ pages: [Page<Item>], ids expected: [String], sourceLocation: SourceLocation = #_sourceLocation
) {
    #expect(expected.count == 7, "the fixture should insert seven records", sourceLocation: sourceLocation)
    #expect(pages.map(\.items.count) == [3, 3, 1], sourceLocation: sourceLocation)
    #expect(pages.map(\.nextCursor) == pages.enumerated().map { index, page in
        index < pages.count - 1 ? page.items.last?.id : nil
    }, sourceLocation: sourceLocation)
    #expect(pages.last?.nextCursor == nil, sourceLocation: sourceLocation)
    #expect(pages.flatMap(\.items).map(\.id) == expected.sorted(), sourceLocation: sourceLocation)
}

/// The store error `body` throws, if it throws one.
func storeError(_ body: () async throws -> Void) async -> StoreError? {
    do {
        try await body()
        return nil
    } catch let error as StoreError {
        return error
    } catch {
        Issue.record("expected a StoreError, got \(String(reflecting: error))")
        return nil
    }
}
