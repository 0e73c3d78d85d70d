import Foundation

/// A signed-in browser: kept apart from API keys, found by the digest of its cookie's secret,
/// with the token its forms must carry.
public struct BrowserSession: Sendable, Hashable {
    public var id: String
    public var userId: String
    /// Every form of this session carries it; a form without it is refused.
    public var formToken: String
    public var createdAt: Date
    public var lastSeenAt: Date
    /// Nil while it lasts; set by a sign-out (of this browser or of every one).
    public var endedAt: Date?

    public init(id: String, userId: String, formToken: String, createdAt: Date, lastSeenAt: Date, endedAt: Date? = nil) {
        self.id = id
        self.userId = userId
        self.formToken = formToken
        self.createdAt = createdAt
        self.lastSeenAt = lastSeenAt
        self.endedAt = endedAt
    }
}

/// How long a browser session lasts: it ends after `idle` without a request, and after
/// `absolute` whatever its use. A pure rule, tested without I/O.
public struct BrowserSessionRule: Sendable, Hashable {
    public enum State: Sendable, Hashable {
        case active
        /// No request for the idle timeout.
        case idle
        /// Older than the absolute timeout.
        case expired
        /// Signed out.
        case ended
    }

    public var idle: TimeInterval
    public var absolute: TimeInterval

    public init(idle: TimeInterval = 30 * 60, absolute: TimeInterval = 12 * 3600) {
        self.idle = idle
        self.absolute = absolute
    }

    public func state(of session: BrowserSession, at now: Date) -> State {
        if session.endedAt != nil { return .ended }
        if now.timeIntervalSince(session.createdAt) >= absolute { return .expired }
        if now.timeIntervalSince(session.lastSeenAt) >= idle { return .idle }
        return .active
    }

    /// Whether a request now should record itself as the session's last: at most once a
    /// minute, so that browsing does not write on every page.
    public func shouldTouch(_ session: BrowserSession, at now: Date) -> Bool {
        now.timeIntervalSince(session.lastSeenAt) >= min(60, idle / 10)
    }
}
