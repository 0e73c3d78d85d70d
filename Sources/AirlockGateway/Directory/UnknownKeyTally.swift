import AirlockCore
import AirlockStore
import Foundation

/// Calls made with a key the gateway does not know, counted per source address and minute, so
/// that they go on the audit log without a flood of them growing it by an entry a call.
///
/// A minute's counts are written once that minute is over (or on shutdown). At most
/// `maximumAddresses` addresses are told apart in a minute; calls from any further address are
/// counted under `other`. The key itself is never kept: only the first 8 hex digits of its
/// SHA-256 digest, of the first unknown key seen from that address that minute.
public struct UnknownKeyTally: Sendable {
    public struct Bucket: Sendable, Hashable {
        public var address: String
        public var minute: Int64
    }

    public struct Count: Sendable, Hashable {
        public var calls: Int
        public var digestPrefix: String
    }

    public static let maximumAddresses = 1000
    public private(set) var counts: [Bucket: Count] = [:]

    public init() {}

    /// Counts one call from `address` with a key whose digest is `digest`, at `date`.
    public mutating func count(address: String, digest: String, at date: Date) {
        let minute = Int64(date.timeIntervalSince1970 / 60)
        var bucket = Bucket(address: address, minute: minute)
        if counts[bucket] == nil, counts.keys.lazy.filter({ $0.minute == minute }).count >= Self.maximumAddresses {
            bucket.address = "other"
        }
        counts[bucket, default: Count(calls: 0, digestPrefix: String(digest.prefix(8)))].calls += 1
    }

    /// The audit events of the minutes that ended before `date` (every minute, when `date` is
    /// nil), taken out of the tally.
    public mutating func take(endedBefore date: Date?) -> [AuditEvent] {
        let current = date.map { Int64($0.timeIntervalSince1970 / 60) } ?? .max
        let ended = counts.filter { $0.key.minute < current }
        for bucket in ended.keys { counts[bucket] = nil }
        return ended.sorted { ($0.key.minute, $0.key.address) < ($1.key.minute, $1.key.address) }.map { bucket, count in
            let start = Date(timeIntervalSince1970: Double(bucket.minute * 60))
            return AuditEvent(
                at: start, actorUserId: nil, actorOrganisationId: nil, action: "gateway.unknown_key", objectType: "gateway", objectId: nil,
                detail: [
                    "address": bucket.address, "minute": RFC3339.format(start, fractionDigits: 0), "calls": "\(count.calls)",
                    "key_digest_prefix": count.digestPrefix,
                ])
        }
    }
}
