import AirlockCore
import AirlockStore
import AirlockTestSupport
import Foundation
import SQLKit
import Testing

/// Sealed model credentials, API keys stored by digest, and stored idempotent responses.
@Suite struct SecretTests {
    private static let otherKey = Data(repeating: 0xA5, count: 32).base64EncodedString()

    /// Ids: the prefix, ten characters of time, sixteen random; they sort by time.
    @Test func identifiersSortByTime() {
        let earlier = Identifier.make("cal", at: Date(timeIntervalSince1970: 1_700_000_000))
        let later = Identifier.make("cal", at: Date(timeIntervalSince1970: 1_700_000_000.002))
        #expect(earlier.count == 30 && earlier.hasPrefix("cal_"))
        #expect(earlier < later)
        #expect(Identifier.make("cal", at: Date(timeIntervalSince1970: 0)).hasPrefix("cal_0000000000"))
        #expect(earlier.dropFirst(4).allSatisfy { "0123456789ABCDEFGHJKMNPQRSTVWXYZ".contains($0) })
        #expect(Set((0..<100).map { _ in Identifier.make("cal") }).count == 100)
    }

    @Test func sealerRoundTrips() throws {
        let sealer = try CredentialSealer(base64Key: TestBackend.testCredentialsKey)
        let sealed = try sealer.seal("Bearer sk-live-123", context: "ver_1")
        #expect(sealed.hasPrefix("v1:"))
        #expect(!sealed.contains("sk-live-123"))
        #expect(try sealer.open(sealed, context: "ver_1") == "Bearer sk-live-123")
        // A fresh nonce each time: the same secret never seals alike.
        #expect(try sealer.seal("Bearer sk-live-123", context: "ver_1") != sealed)
    }

    @Test func wrongContextOrKeyOrGarbageDoesNotOpen() throws {
        let sealer = try CredentialSealer(base64Key: TestBackend.testCredentialsKey)
        let sealed = try sealer.seal("secret", context: "ver_1")
        let wrongContext = #expect(throws: StoreError.self) { try sealer.open(sealed, context: "ver_2") }
        #expect(wrongContext?.code == .sealing)
        let otherSealer = try CredentialSealer(base64Key: Self.otherKey)
        let wrongKey = #expect(throws: StoreError.self) { try otherSealer.open(sealed, context: "ver_1") }
        #expect(wrongKey?.code == .sealing)
        for garbage in ["secret", "v1:not base64!", "v1:" + Data("short".utf8).base64EncodedString(), "v2:" + String(sealed.dropFirst(3))] {
            let error = #expect(throws: StoreError.self, "\(garbage)") { try sealer.open(garbage, context: "ver_1") }
            #expect(error?.code == .sealing)
        }
    }

    @Test(arguments: ["", "c2hvcnQ=", "not base64", Data(repeating: 1, count: 31).base64EncodedString()])
    func keysThatAreNot32BytesAreRefused(key: String) {
        let error = #expect(throws: StoreError.self) { try CredentialSealer(base64Key: key) }
        #expect(error?.code == .invalidConfiguration)
    }

    @Test(arguments: TestBackend.all)
    func endpointCredentialsAreStoredSealed(backend: TestBackend) async throws {
        try await backend.withFreshStore { store in
            let sealer = try #require(store.sealer)
            let plaintext = "Bearer sk-test-very-secret"
            let (version, sealed) = try await store.transaction { records in
                let world = try await World.seed(records)
                let sealed = try sealer.seal(plaintext, context: world.versionB1.id)
                try await records.updateEndpoint(
                    versionId: world.versionB1.id, url: "https://beta.example/v1", model: "beta-1", sealedCredentials: sealed,
                    at: Sample.date(60))
                return (world.versionB1, sealed)
            }
            try await store.transaction { records in
                let stored = try #require(try await records.sealedCredentials(versionId: version.id))
                #expect(stored == sealed)
                #expect(!stored.contains(plaintext))
                #expect(!stored.contains("sk-test"))
                #expect(try sealer.open(stored, context: version.id) == plaintext)
                let readBack = try #require(try await records.version(id: version.id))
                #expect(readBack.hasEndpointCredentials)
                #expect(readBack.endpointUrl == "https://beta.example/v1")
                #expect(readBack.endpointModel == "beta-1")
                #expect(readBack.updatedAt == Sample.date(60))
                // The raw column holds the sealed value, not the secret.
                let raw = try await records.sql.raw("SELECT endpoint_credentials FROM model_versions WHERE id = \(bind: version.id)")
                    .first()?.decode(column: "endpoint_credentials", as: String.self)
                #expect(raw == sealed)
                // Clearing the endpoint clears the credentials.
                try await records.updateEndpoint(versionId: version.id, url: nil, model: nil, sealedCredentials: nil, at: Sample.date(61))
                #expect(try await records.sealedCredentials(versionId: version.id) == nil)
                #expect(try await records.version(id: version.id)?.hasEndpointCredentials == false)
            }
        }
    }

    @Test(arguments: TestBackend.all)
    func aStoreWithoutAKeyHasNoSealer(backend: TestBackend) async throws {
        try await backend.withFreshStore(credentialsKey: nil) { store in
            #expect(store.sealer == nil)
        }
    }

    @Test(arguments: TestBackend.all)
    func apiKeysAreFoundByTheirSecretAndStoredAsItsDigest(backend: TestBackend) async throws {
        try await backend.withFreshStore { store in
            let secret = Identifier.secret("ak")
            let (key, user) = try await store.transaction { records in
                let world = try await World.seed(records)
                let key = Sample.key(for: world.officer)
                try await records.insert(key, secret: secret)
                try await records.insert(Sample.key(for: world.officer, kind: .session), secret: Identifier.secret("ses"))
                return (key, world.officer)
            }
            try await store.transaction { records in
                #expect(try await records.key(secret: secret) == key)
                #expect(try await records.key(id: key.id) == key)
                #expect(try await records.key(secret: secret + "x") == nil)
                #expect(try await records.keys(userId: user.id, kind: .user) == [key])
                #expect(try await records.keys(userId: user.id, kind: .session).count == 1)

                let rows = try await records.sql.raw("SELECT id, secret_hash FROM api_keys WHERE id = \(bind: key.id)").all()
                let stored = try #require(rows.first).decode(column: "secret_hash", as: String.self)
                #expect(stored == SecretDigest.of(secret))
                #expect(stored.count == 64)
                #expect(stored != secret)
                // The secret is nowhere in the table.
                let leaks = try await records.sql.raw("SELECT id FROM api_keys WHERE secret_hash = \(bind: secret)").all()
                #expect(leaks.isEmpty)

                try await records.revokeKey(id: key.id, at: Sample.date(70))
                #expect(try await records.key(secret: secret)?.revokedAt == Sample.date(70))
                // A second revocation keeps the first time.
                try await records.revokeKey(id: key.id, at: Sample.date(80))
                #expect(try await records.key(id: key.id)?.revokedAt == Sample.date(70))
            }
        }
    }

    @Test func secretDigestIsSHA256() {
        #expect(SecretDigest.of("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    @Test(arguments: TestBackend.all)
    func idempotentResponsesAreStoredPerUserAndKey(backend: TestBackend) async throws {
        try await backend.withFreshStore { store in
            let response = ProgramRecords.StoredResponse(
                requestHash: SecretDigest.of("POST /v1/models {}"), status: 201, body: #"{"id":"mdl_1"}"#, location: "/v1/models/mdl_1")
            let noLocation = ProgramRecords.StoredResponse(requestHash: "h2", status: 200, body: "{}", location: nil)
            try await store.transaction { records in
                try await records.store(response, userId: "usr_1", key: "key-1", at: Sample.date())
                try await records.store(noLocation, userId: "usr_2", key: "key-1", at: Sample.date())
            }
            try await store.transaction { records throws in
                #expect(try await records.storedResponse(userId: "usr_1", key: "key-1") == response)
                #expect(try await records.storedResponse(userId: "usr_2", key: "key-1") == noLocation)
                #expect(try await records.storedResponse(userId: "usr_1", key: "key-2") == nil)
                #expect(try await records.storedResponse(userId: "usr_3", key: "key-1") == nil)
            }
            // The same user and key a second time is refused, and the first response stays.
            await #expect(throws: (any Error).self) {
                try await store.transaction { records in
                    try await records.store(noLocation, userId: "usr_1", key: "key-1", at: Sample.date(1))
                }
            }
            try await store.transaction { records throws in
                #expect(try await records.storedResponse(userId: "usr_1", key: "key-1") == response)
            }
        }
    }
}
