import AirlockCore
import AirlockStore
import AirlockTestSupport
import Foundation
import Testing

/// What each organisation's lists return: its own records as developer, what it holds a live
/// grant to, nothing of others'; the program office (`.all`) sees everything.
@Suite struct VisibilityTests {
    private static func versionIds(_ records: ProgramRecords, _ visibility: Visibility, modelId: String? = nil) async throws -> Set<String> {
        Set(try await allPages(limit: 2) {
            try await records.versions(modelId: modelId, visibleTo: visibility, after: $0, limit: 2)
        }.flatMap(\.items).map(\.id))
    }

    private static func modelIds(_ records: ProgramRecords, _ visibility: Visibility) async throws -> Set<String> {
        Set(try await allPages(limit: 2) { try await records.models(visibleTo: visibility, after: $0, limit: 2) }
            .flatMap(\.items).map(\.id))
    }

    private static func grantIds(_ records: ProgramRecords, _ visibility: Visibility, versionId: String? = nil) async throws -> Set<String> {
        Set(try await allPages(limit: 2) {
            try await records.grants(versionId: versionId, visibleTo: visibility, after: $0, limit: 2)
        }.flatMap(\.items).map(\.id))
    }

    @Test(arguments: TestBackend.all)
    func versions(backend: TestBackend) async throws {
        try await backend.withFreshStore { store in
            try await store.transaction { records in
                let world = try await World.seed(records)
                #expect(try await Self.versionIds(records, .all) == [world.versionA1.id, world.versionB1.id, world.versionB2.id])
                #expect(try await Self.versionIds(records, .organisation(world.developerA.id)) == [world.versionA1.id])
                #expect(try await Self.versionIds(records, .organisation(world.developerB.id)) == [world.versionB1.id, world.versionB2.id])
                // The live grant shows its version; the revoked one does not.
                #expect(try await Self.versionIds(records, .organisation(world.grantee.id)) == [world.versionB1.id])
                #expect(try await Self.versionIds(records, .organisation(world.outsider.id)) == [])
                // The model filter narrows within what is visible.
                #expect(try await Self.versionIds(records, .organisation(world.grantee.id), modelId: world.modelA.id) == [])
                #expect(try await Self.versionIds(records, .all, modelId: world.modelB.id) == [world.versionB1.id, world.versionB2.id])

                #expect(try await records.holdsGrant(organisationId: world.grantee.id, versionId: world.versionB1.id))
                #expect(try await records.holdsGrant(organisationId: world.grantee.id, versionId: world.versionA1.id) == false)
                #expect(try await records.holdsGrant(organisationId: world.outsider.id, versionId: world.versionB1.id) == false)
            }
        }
    }

    @Test(arguments: TestBackend.all)
    func models(backend: TestBackend) async throws {
        try await backend.withFreshStore { store in
            try await store.transaction { records in
                let world = try await World.seed(records)
                #expect(try await Self.modelIds(records, .all) == [world.modelA.id, world.modelB.id])
                #expect(try await Self.modelIds(records, .organisation(world.developerA.id)) == [world.modelA.id])
                #expect(try await Self.modelIds(records, .organisation(world.developerB.id)) == [world.modelB.id])
                #expect(try await Self.modelIds(records, .organisation(world.grantee.id)) == [world.modelB.id])
                #expect(try await Self.modelIds(records, .organisation(world.outsider.id)) == [])
            }
        }
    }

    @Test(arguments: TestBackend.all)
    func grants(backend: TestBackend) async throws {
        try await backend.withFreshStore { store in
            try await store.transaction { records in
                let world = try await World.seed(records)
                let both: Set = [world.liveGrant.id, world.revokedGrant.id]
                #expect(try await Self.grantIds(records, .all) == both)
                // A grantee sees the grants it holds, revoked ones too; a developer those to its versions.
                #expect(try await Self.grantIds(records, .organisation(world.grantee.id)) == both)
                #expect(try await Self.grantIds(records, .organisation(world.developerA.id)) == [world.revokedGrant.id])
                #expect(try await Self.grantIds(records, .organisation(world.developerB.id)) == [world.liveGrant.id])
                #expect(try await Self.grantIds(records, .organisation(world.outsider.id)) == [])
                #expect(
                    try await Self.grantIds(records, .organisation(world.grantee.id), versionId: world.versionB1.id)
                        == [world.liveGrant.id])
                #expect(try await Self.grantIds(records, .organisation(world.developerA.id), versionId: world.versionB1.id) == [])
            }
        }
    }

    @Test(arguments: TestBackend.all)
    func commitments(backend: TestBackend) async throws {
        try await backend.withFreshStore { store in
            try await store.transaction { records in
                let world = try await World.seed(records)
                let signerA = Sample.user("ceo@a.example", in: world.developerA, role: .admin)
                let signerB = Sample.user("ceo@b.example", in: world.developerB, role: .admin)
                try await records.insert(signerA, passwordHash: nil)
                try await records.insert(signerB, passwordHash: nil)
                let commitmentA = Sample.commitment(world.developerA, signedBy: signerA)
                let commitmentB = Sample.commitment(world.developerB, signedBy: signerB)
                try await records.insert(commitmentA)
                try await records.insert(commitmentB)
                let ofA = try await records.commitments(visibleTo: .organisation(world.developerA.id), after: nil, limit: 10)
                #expect(ofA.items == [commitmentA])
                let ofOutsider = try await records.commitments(visibleTo: .organisation(world.outsider.id), after: nil, limit: 10)
                #expect(ofOutsider.items.isEmpty)
                let all = try await records.commitments(visibleTo: .all, after: nil, limit: 10)
                #expect(Set(all.items) == [commitmentA, commitmentB])
            }
        }
    }
}
