import AirlockCore
import Foundation
import SQLKit

/// Browser sessions: found by their cookie's secret (kept as its digest), touched as they are
/// used, ended one at a time or all of a user's at once.
extension ProgramRecords {
    public func insert(_ session: BrowserSession, secret: String) async throws {
        try await sql.raw("""
            INSERT INTO browser_sessions (id, secret_hash, user_id, form_token, created_at, last_seen_at, ended_at) \
            VALUES (\(bind: session.id), \(bind: SecretDigest.of(secret)), \(bind: session.userId), \(bind: session.formToken), \
            \(bind: session.createdAt.storedMilliseconds), \(bind: session.lastSeenAt.storedMilliseconds), \(bind: session.endedAt?.storedMilliseconds))
            """).run()
    }

    /// The session whose cookie holds `secret`, ended or not (the caller decides).
    public func browserSession(secret: String) async throws -> BrowserSession? {
        try await sql.raw("SELECT * FROM browser_sessions WHERE secret_hash = \(bind: SecretDigest.of(secret))").first().map(BrowserSession.init(row:))
    }

    public func touchBrowserSession(id: String, at date: Date) async throws {
        try await sql.raw("UPDATE browser_sessions SET last_seen_at = \(bind: date.storedMilliseconds) WHERE id = \(bind: id)").run()
    }

    public func endBrowserSession(id: String, at date: Date) async throws {
        try await sql.raw("UPDATE browser_sessions SET ended_at = \(bind: date.storedMilliseconds) WHERE id = \(bind: id) AND ended_at IS NULL").run()
    }

    /// Ends every browser session of the user (sign-out everywhere); how many were open.
    @discardableResult
    public func endBrowserSessions(userId: String, at date: Date) async throws -> Int {
        try await sql.raw("""
            UPDATE browser_sessions SET ended_at = \(bind: date.storedMilliseconds) WHERE user_id = \(bind: userId) AND ended_at IS NULL RETURNING id
            """).all().count
    }
}

extension BrowserSession {
    init(row: any SQLRow) throws {
        self.init(
            id: try row.decode(column: "id", as: String.self), userId: try row.decode(column: "user_id", as: String.self),
            formToken: try row.decode(column: "form_token", as: String.self),
            createdAt: Date(storedMilliseconds: try row.decode(column: "created_at", as: Int64.self)),
            lastSeenAt: Date(storedMilliseconds: try row.decode(column: "last_seen_at", as: Int64.self)),
            endedAt: try row.decode(column: "ended_at", as: Int64?.self).map(Date.init(storedMilliseconds:)))
    }
}
