import AirlockAPI
import AirlockCore
import AirlockStore
import Foundation
import Hummingbird
import HummingbirdBcrypt

extension ProgramAPI {
    func signIn(_ request: Request, _ context: Context) async throws -> Response {
        let (body, _) = try await decode(SignIn.self, from: request)
        let address = context.remoteAddress?.ipAddress ?? "unknown"
        let user = try await authenticate(email: body.email, password: body.password, address: address)
        if try await secondFactor(of: user) != nil {
            guard let code = body.code else {
                throw ProblemDetails(
                    .unauthorized, code: "second-factor-required", detail: "this account signs in with a one-time code too: send it as code",
                    field: "code", headers: [.wwwAuthenticate: "Bearer"])
            }
            try await takeCode(code, user: user, address: address)
        } else {
            signInThrottle.withLock { $0.succeeded(account: user.email) }
        }
        let now = now()
        let token = Identifier.secret("als")
        let expiresAt = now.addingTimeInterval(configuration.sessionLifetime)
        let session = try await store.transaction { records -> SessionView in
            guard let organisation = try await records.organisation(id: user.organisationId) else {
                throw StoreError(.corruptRecord, "user \(user.id) has no organisation")
            }
            let key = APIKey(
                id: Identifier.make("key"), kind: .session, userId: user.id, grantId: nil, organisationId: organisation.id,
                name: "session", createdAt: now, expiresAt: expiresAt, revokedAt: nil)
            try await records.insert(key, secret: token)
            try await records.appendAudit(
                at: now, actorUserId: user.id, actorOrganisationId: organisation.id, action: "session.create",
                objectType: "session", objectId: key.id)
            return SessionView(
                token: token, expiresAt: expiresAt, user: user, organisation: organisation)
        }
        return try json(session, status: .created)
    }

    /// The user whose e-mail and password these are: throttled per account and address before
    /// any password is checked (429), refused with 401 (audited) when none matches. The API's
    /// sign-in and the browser's share it.
    func authenticate(email: String, password: String, address: String) async throws -> User {
        // Over-long fields are refused before anything is logged or hashed.
        guard email.utf8.count <= Validate.maximumEmailBytes else {
            throw ProblemDetails.badRequest("must be at most \(Validate.maximumEmailBytes) bytes", field: "email")
        }
        guard password.utf8.count <= PasswordRule.maximumBytes else {
            throw ProblemDetails.badRequest("must be at most \(PasswordRule.maximumBytes) bytes", field: "password")
        }
        let email = email.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
        let now = now()
        // Throttled before the password is checked: a refused try costs no bcrypt and no audit entry.
        if case .wait(let seconds) = signInThrottle.withLock({ $0.decide(account: email, address: address, at: now) }) {
            throw ProblemDetails(
                .tooManyRequests, code: "sign-in-throttled", detail: "too many failed sign-ins: try again in \(seconds) seconds",
                headers: [.retryAfter: String(seconds)])
        }
        // An e-mail is unique within an organisation: the password says which account is meant.
        let accounts = try await store.transaction { try await $0.users(email: email) }
        var found: User?
        for account in accounts where found == nil {
            if let hash = account.passwordHash, try await Passwords.verify(password, hash: hash) { found = account.user }
        }
        // Verify against a fixed hash when nobody has a password, so timing does not tell who exists.
        if !accounts.contains(where: { $0.passwordHash != nil }) { _ = try await Passwords.verify(password, hash: Self.decoyHash) }
        guard let user = found else {
            signInThrottle.withLock { $0.failed(account: email, address: address, at: now) }
            try await store.transaction { records in
                try await audit(records, nil, "session.refused", "user", accounts.first?.user.id, ["email": email])
            }
            throw ProblemDetails(
                .unauthorized, code: "sign-in-failed", detail: "the email or password is wrong", headers: [.wwwAuthenticate: "Bearer"])
        }
        return user
    }

    /// The user's one-time codes once confirmed; nil when the password alone signs in.
    func secondFactor(of user: User) async throws -> OneTimeCodes? {
        guard let factor = try await store.transaction({ try await $0.secondFactor(userId: user.id) }), factor.confirmedAt != nil else { return nil }
        return OneTimeCodes(secret: try openSecondFactor(factor.sealedSecret, userId: user.id))
    }

    func openSecondFactor(_ sealed: String, userId: String) throws -> String {
        guard let sealer = store.sealer else { throw StoreError(.sealing, "second factors are sealed, and this server has no credentials key") }
        return try sealer.open(sealed, context: "second-factor:" + userId)
    }

    /// Takes the user's one-time code, the last step of a sign-in: a wrong (or used) code is a
    /// failed sign-in, throttled and audited as a wrong password is, so that codes cannot be
    /// guessed faster than passwords. Only a whole sign-in clears the account's failures.
    func takeCode(_ code: String, user: User, address: String) async throws {
        let now = now()
        guard code.utf8.count <= 64 else { throw ProblemDetails.badRequest("must be at most 64 bytes", field: "code") }
        if case .wait(let seconds) = signInThrottle.withLock({ $0.decide(account: user.email, address: address, at: now) }) {
            throw ProblemDetails(
                .tooManyRequests, code: "sign-in-throttled", detail: "too many failed sign-ins: try again in \(seconds) seconds",
                headers: [.retryAfter: String(seconds)])
        }
        let taken = try await store.transaction { records in
            guard let factor = try await records.secondFactor(userId: user.id), factor.confirmedAt != nil else { return true }
            let codes = OneTimeCodes(secret: try openSecondFactor(factor.sealedSecret, userId: user.id))
            guard let step = codes.step(matching: code, at: now, after: factor.lastStep) else { return false }
            return try await records.takeSecondFactorStep(userId: user.id, step: step)
        }
        guard taken else {
            signInThrottle.withLock { $0.failed(account: user.email, address: address, at: now) }
            try await store.transaction { records in try await audit(records, nil, "session.refused", "user", user.id, ["reason": "code"]) }
            throw ProblemDetails(.unauthorized, code: "sign-in-failed", detail: "the code is wrong or was used already", field: "code", headers: [.wwwAuthenticate: "Bearer"])
        }
        signInThrottle.withLock { $0.succeeded(account: user.email) }
    }

    /// Bcrypt of a random string nobody knows, made once.
    static let decoyHash = Bcrypt.hash(Identifier.secret("decoy"), cost: 11)

    func signOut(_ request: Request, _ context: Context) async throws -> Response {
        let actor = try context.requireActor(workerAllowed: true)
        try await store.transaction { records in
            guard let key = try await records.key(id: actor.keyId), key.kind == .session else {
                throw ProgramRuleError(.invalidField, "this request was made with an API key, not a session", field: "Authorization")
            }
            try await records.revokeKey(id: key.id, at: now())
            try await audit(records, actor, "session.end", "session", key.id)
        }
        return Response(status: .noContent)
    }

    func me(_ request: Request, _ context: Context) async throws -> Response {
        let actor = try context.requireActor(workerAllowed: true)
        return try json(Me(user: actor.user, organisation: actor.organisation))
    }

    func listMyKeys(_ request: Request, _ context: Context) async throws -> Response {
        let actor = try context.requireActor(workerAllowed: true)
        let keys = try await store.transaction { try await $0.keys(userId: actor.user.id, kind: .user) }
        return try json(ListPage(items: keys.map(APIKeyView.init)))
    }

    func createMyKey(_ request: Request, _ context: Context) async throws -> Response {
        try await create(request, context, NewKey.self, revealsSecret: true, workerAllowed: true) { records, actor, body in
            if let expiresAt = body.expiresAt, expiresAt <= now() {
                throw ProgramRuleError(.invalidField, "must be in the future", field: "expires_at")
            }
            let secret = Identifier.secret("alk")
            let key = APIKey(
                id: Identifier.make("key"), kind: .user, userId: actor.user.id, grantId: nil, organisationId: actor.organisation.id,
                name: try Validate.name(body.name, field: "name"), createdAt: now(), expiresAt: body.expiresAt, revokedAt: nil)
            try await records.insert(key, secret: secret)
            try await audit(records, actor, "key.create", "api_key", key.id, ["name": key.name])
            return (IssuedKey(key: APIKeyView(key), secret: secret), "/api/v1/me/keys")
        }
    }

    func revokeMyKey(_ request: Request, _ context: Context) async throws -> Response {
        let actor = try context.requireActor(workerAllowed: true)
        let id = try context.parameters.require("key_id")
        try await store.transaction { records in
            guard let key = try await records.key(id: id), key.userId == actor.user.id, key.kind == .user else {
                throw ProblemDetails.notFound("key")
            }
            try await records.revokeKey(id: id, at: now())
            try await audit(records, actor, "key.revoke", "api_key", id)
        }
        return Response(status: .noContent)
    }
}
