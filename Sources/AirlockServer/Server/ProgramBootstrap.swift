import AirlockCore
import AirlockStore
import Foundation

/// The first records of a new program: its program office, an admin, and the admin's API key.
public enum ProgramBootstrap {
    public struct Result: Sendable {
        public var organisation: Organisation
        public var user: User
        public var key: APIKey
        /// The admin's API key, shown once.
        public var secret: String
    }

    /// Creates the program office and its first admin; refused once a program office exists.
    public static func createProgramOffice(
        in store: ProgramStore, name: String, email: String, userName: String, password: String? = nil, now: Date = Date()
    ) async throws -> Result {
        let name = try Validate.name(name, field: "organisation")
        let userName = try Validate.name(userName, field: "name")
        var passwordHash: String?
        if let password {
            try PasswordRule.check(password)
            passwordHash = try await Passwords.hash(password)
        }
        return try await store.transaction { records in
            let existing = try await records.organisations(after: nil, limit: 1000).items
            if existing.contains(where: { $0.kind == .programOffice }) {
                throw ProgramRuleError(.conflict, "this program already has a program office; add users through the API")
            }
            let organisation = Organisation(id: Identifier.make("org", at: now), name: name, kind: .programOffice, createdAt: now)
            let user = User(
                id: Identifier.make("usr", at: now), organisationId: organisation.id, email: try Validate.email(email),
                name: userName, role: .admin, createdAt: now)
            let secret = Identifier.secret("alk")
            let key = APIKey(
                id: Identifier.make("key", at: now), kind: .user, userId: user.id, organisationId: organisation.id,
                name: "bootstrap", createdAt: now)
            try await records.insert(organisation)
            try await records.insert(user, passwordHash: passwordHash)
            try await records.insert(key, secret: secret)
            try await records.appendAudit(
                at: now, actorUserId: nil, actorOrganisationId: nil, action: "program.bootstrap", objectType: "organisation",
                objectId: organisation.id, detail: ["admin": user.id])
            return Result(organisation: organisation, user: user, key: key, secret: secret)
        }
    }
}
