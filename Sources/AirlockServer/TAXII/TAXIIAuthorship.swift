import AirlockCore
import AirlockExchange
import AirlockStore

/// The rules for changing what a collection holds: a STIX object belongs to its author, and no
/// version may be dated in the future.
///
/// - Only the program office, or the organisation that posted the earliest version held of a
///   STIX id (its author), adds versions of that object or deletes it. The objects the program
///   shares itself (a case's report, vulnerabilities, notes) are the office's. Without this, a
///   participant could post the office's vulnerability again with a later `modified` and its own
///   text, and that version would be the current one for every reader.
/// - `modified` (and so `created`, never later) may be at most ``clockSkewMicroseconds`` ahead of the
///   server's clock: a version dated in the year 9999 would stay current for good. The version
///   may not fall before the year 0001 either, which the API's times never reach.
enum TAXIIAuthorship {
    /// How far ahead of the server's clock a version may be dated: 5 minutes.
    static let clockSkewMicroseconds: Int64 = 5 * 60 * 1_000_000

    /// Whether `reader` may add versions of, or delete, an object held as `held`.
    static func mayChange(_ held: TAXIIHeldObject, reader: TAXIIReader) -> Bool {
        if reader.isProgramOffice { return true }
        guard let author = held.authorId else { return false }
        return author == reader.organisation?.id
    }

    /// The status failure for a posted version of an object that belongs to another author.
    static func notTheAuthor(_ draft: TAXIIObjectDraft, receivedAt: TAXIITimestamp) -> TAXIIStatusDetail {
        TAXIIStatusDetail(
            id: draft.id, version: draft.versionText ?? receivedAt.description,
            message: "The object has another author: only the organisation that first posted it, or the program office, adds versions of it.")
    }

    /// 0001-01-01T00:00:00Z, the earliest version accepted.
    static let earliestVersion = TAXIITimestamp(microsecondsSince1970: RFC3339.days(fromYear: 1, month: 1, day: 1) * 86_400 * 1_000_000)

    /// The status failure for a draft dated later than the clock allows, or before the year
    /// 0001; nil when it is neither.
    static func refusedVersion(_ draft: TAXIIObjectDraft, receivedAt: TAXIITimestamp) -> TAXIIStatusDetail? {
        guard let version = draft.version else { return nil }
        let message: String
        if version > receivedAt.advanced(byMicroseconds: clockSkewMicroseconds) {
            message = "The object's modified (or created) time is in the future; this server accepts times at most 5 minutes ahead of \(receivedAt)."
        } else if version < earliestVersion {
            message = "The object's modified (or created) time is before the year 0001."
        } else {
            return nil
        }
        return TAXIIStatusDetail(id: draft.id, version: draft.versionText ?? version.description, message: message)
    }

    /// The error for deleting an object of another author, which the caller can read.
    static let deleteRefused = TAXIIError(
        .forbidden, "The object has another author: only the organisation that first posted it, or the program office, deletes it.")
}
