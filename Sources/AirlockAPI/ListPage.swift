import AirlockCore

/// One page of a list: the items, and the cursor of the next page (absent on the last).
///
/// The cursor is opaque: a client passes it back as `?cursor=` unchanged.
public struct ListPage<Item: Codable & Sendable>: Codable, Sendable {
    public var items: [Item]
    public var nextCursor: String?

    public init(items: [Item], nextCursor: String? = nil) {
        self.items = items
        self.nextCursor = nextCursor
    }
}

extension ListPage: Equatable where Item: Equatable {}

/// A page of the audit log: entries after a sequence number, and where the next page starts.
public struct AuditPage: Codable, Sendable {
    public var entries: [AuditEntry]
    /// The `after` of the next page; absent on the last.
    public var nextAfter: Int64?

    public init(entries: [AuditEntry], nextAfter: Int64?) {
        self.entries = entries
        self.nextAfter = nextAfter
    }
}
