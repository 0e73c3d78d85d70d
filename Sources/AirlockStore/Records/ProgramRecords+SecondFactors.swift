import AirlockCore
import Foundation
import SQLKit

/// A user's second factor (a one-time code secret, sealed) and the sign-ins waiting for a code.
public struct StoredSecondFactor: Sendable, Hashable {
    public var userId: String
    public var sealedSecret: String
    /// Nil until the user has shown a code from it: until then it does not guard sign-in.
    public var confirmedAt: Date?
    /// The last time step a code was taken at.
    public var lastStep: Int64
}

/// A password that was right, waiting for its user's code.
public struct SignInChallenge: Sendable, Hashable {
    public var id: String
    public var userId: String
    /// Where the browser goes once signed in.
    public var next: String
    public var failures: Int
    public var createdAt: Date
    public var endedAt: Date?

    public init(id: String, userId: String, next: String, failures: Int = 0, createdAt: Date, endedAt: Date? = nil) {
        self.id = id
        self.userId = userId
        self.next = next
        self.failures = failures
        self.createdAt = createdAt
        self.endedAt = endedAt
    }
}

extension ProgramRecords {
    public func secondFactor(userId: String) async throws -> StoredSecondFactor? {
        try await sql.raw("SELECT * FROM user_second_factors WHERE user_id = \(bind: userId)").first().map { row in
            StoredSecondFactor(
                userId: try row.decode(column: "user_id", as: String.self), sealedSecret: try row.decode(column: "sealed_secret", as: String.self),
                confirmedAt: try row.decode(column: "confirmed_at", as: Int64?.self).map(Date.init(storedMilliseconds:)),
                lastStep: try row.decode(column: "last_step", as: Int64.self))
        }
    }

    /// Starts a new, unconfirmed secret for the user, in place of an unconfirmed one; false when
    /// the user has a confirmed one (it must be removed first).
    public func startSecondFactor(userId: String, sealedSecret: String, at date: Date) async throws -> Bool {
        try await sql.raw("DELETE FROM user_second_factors WHERE user_id = \(bind: userId) AND confirmed_at IS NULL").run()
        return try await sql.raw("""
            INSERT INTO user_second_factors (user_id, sealed_secret, confirmed_at, last_step, created_at) \
            VALUES (\(bind: userId), \(bind: sealedSecret), NULL, 0, \(bind: date.storedMilliseconds)) \
            ON CONFLICT (user_id) DO NOTHING RETURNING user_id
            """).first() != nil
    }

    /// Takes the code of time step `step`: only once, and only after the last step taken, so a
    /// code seen over a shoulder (or replayed) does not sign in again. Whether it was taken.
    public func takeSecondFactorStep(userId: String, step: Int64, confirmingAt date: Date? = nil) async throws -> Bool {
        var query: SQLQueryString = "UPDATE user_second_factors SET last_step = \(bind: step)"
        if let date { query = query + ", confirmed_at = \(bind: date.storedMilliseconds)" }
        return try await sql.raw(query + " WHERE user_id = \(bind: userId) AND last_step < \(bind: step) RETURNING user_id").first() != nil
    }

    public func removeSecondFactor(userId: String) async throws {
        try await sql.raw("DELETE FROM user_second_factors WHERE user_id = \(bind: userId)").run()
    }

    public func insert(_ challenge: SignInChallenge, secret: String) async throws {
        try await sql.raw("""
            INSERT INTO sign_in_challenges (id, secret_hash, user_id, next_path, failures, created_at, ended_at) \
            VALUES (\(bind: challenge.id), \(bind: SecretDigest.of(secret)), \(bind: challenge.userId), \(bind: challenge.next), \
            \(bind: challenge.failures), \(bind: challenge.createdAt.storedMilliseconds), NULL)
            """).run()
    }

    public func signInChallenge(secret: String) async throws -> SignInChallenge? {
        try await sql.raw("SELECT * FROM sign_in_challenges WHERE secret_hash = \(bind: SecretDigest.of(secret))").first().map { row in
            SignInChallenge(
                id: try row.decode(column: "id", as: String.self), userId: try row.decode(column: "user_id", as: String.self),
                next: try row.decode(column: "next_path", as: String.self), failures: try row.decode(column: "failures", as: Int.self),
                createdAt: try row.date("created_at"), endedAt: try row.decode(column: "ended_at", as: Int64?.self).map(Date.init(storedMilliseconds:)))
        }
    }

    /// Counts a wrong code; the failures after it.
    public func failSignInChallenge(id: String) async throws -> Int {
        try await sql.raw("UPDATE sign_in_challenges SET failures = failures + 1 WHERE id = \(bind: id) RETURNING failures").first()?
            .decode(column: "failures", as: Int.self) ?? 0
    }

    public func endSignInChallenge(id: String, at date: Date) async throws {
        try await sql.raw("UPDATE sign_in_challenges SET ended_at = \(bind: date.storedMilliseconds) WHERE id = \(bind: id) AND ended_at IS NULL").run()
    }
}
