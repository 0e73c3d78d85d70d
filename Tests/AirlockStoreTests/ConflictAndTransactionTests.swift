import AirlockCore
import AirlockStore
import AirlockTestSupport
import Foundation
import Testing

/// A unique name or key that is already taken, and what a failed transaction leaves behind.
@Suite struct ConflictAndTransactionTests {
    /// A record that clashes with one the seed wrote.
    enum Clash: String, CaseIterable, CustomStringConvertible {
        case organisationName, userEmailPerOrganisation, modelNamePerDeveloper, versionPerModel, runSourcePerVersion

        var description: String { rawValue }

        func insert(into records: ProgramRecords, over world: World) async throws {
            switch self {
            case .organisationName:
                try await records.insert(Sample.organisation(world.developerA.name, kind: .evaluator))
            case .userEmailPerOrganisation:
                try await records.insert(Sample.user(world.officer.email, in: world.office), passwordHash: nil)
            case .modelNamePerDeveloper:
                try await records.insert(Sample.model(world.modelA.name, of: world.developerA))
            case .versionPerModel:
                try await records.insert(Sample.version(world.versionB1.version, of: world.modelB), sealedCredentials: nil)
            case .runSourcePerVersion:
                try await records.insert(Sample.run("again", on: world.versionB1, by: world.grantee, source: "shared-source"))
            }
        }

        /// The same kind of record under a different owner, which is allowed.
        func insertAllowedNeighbour(into records: ProgramRecords, over world: World) async throws {
            switch self {
            case .organisationName:
                try await records.insert(Sample.organisation(world.developerA.name + " Ltd", kind: .evaluator))
            case .userEmailPerOrganisation:
                // Another organisation's user may have the same e-mail: a clash would tell it exists.
                try await records.insert(Sample.user(world.officer.email, in: world.grantee), passwordHash: nil)
            case .modelNamePerDeveloper:
                try await records.insert(Sample.model(world.modelA.name, of: world.developerB))
            case .versionPerModel:
                try await records.insert(Sample.version(world.versionB2.version, of: world.modelA), sealedCredentials: nil)
            case .runSourcePerVersion:
                try await records.insert(Sample.run("again", on: world.versionB2, by: world.grantee, source: "shared-source"))
            }
        }
    }

    @Test(arguments: TestBackend.all, Clash.allCases)
    func uniqueClashIsAConflict(backend: TestBackend, clash: Clash) async throws {
        try await backend.withFreshStore { store in
            let world = try await store.transaction { records in
                let world = try await World.seed(records)
                try await records.insert(Sample.run("first", on: world.versionB1, by: world.grantee, source: "shared-source"))
                return world
            }
            let error = await storeError {
                try await store.transaction { records in try await clash.insert(into: records, over: world) }
            }
            #expect(error?.code == .conflict)
            #expect(error?.message.contains("already exists") == true)
            // The store is still usable after the refused insert, and the neighbour is no clash.
            try await store.transaction { records in try await clash.insertAllowedNeighbour(into: records, over: world) }
        }
    }

    @Test(arguments: TestBackend.all)
    func aThrowRollsBackEveryWrite(backend: TestBackend) async throws {
        struct Abandon: Error {}
        try await backend.withFreshStore { store in
            let kept = Sample.organisation("Kept")
            try await store.transaction { records in try await records.insert(kept) }
            let organisation = Sample.organisation("Abandoned")
            let user = Sample.user("gone@abandoned.example", in: organisation)
            let model = Sample.model("gone", of: organisation)
            await #expect(throws: Abandon.self) {
                try await store.transaction { records in
                    try await records.insert(organisation)
                    try await records.insert(user, passwordHash: nil)
                    try await records.insert(model)
                    try await records.store(
                        .init(requestHash: "h", status: 201, body: "{}", location: nil), userId: user.id, key: "k", at: Sample.date())
                    try await records.appendAudit(
                        at: Sample.date(), actorUserId: user.id, actorOrganisationId: organisation.id, action: "model.create",
                        objectType: "model", objectId: model.id)
                    // Written and visible inside the transaction, before the throw.
                    #expect(try await records.organisation(id: organisation.id) == organisation)
                    throw Abandon()
                }
            }
            try await store.transaction { records in
                #expect(try await records.organisation(id: organisation.id) == nil)
                #expect(try await records.user(id: user.id) == nil)
                #expect(try await records.model(id: model.id) == nil)
                #expect(try await records.storedResponse(userId: user.id, key: "k") == nil)
                #expect(try await records.auditEntries(after: 0, limit: 10).isEmpty)
                let head = try await records.auditHead()
                #expect(head.sequence == 0)
                #expect(head.hash == AuditChain.genesis)
                #expect(try await records.organisation(id: kept.id) == kept)
            }
        }
    }
}
