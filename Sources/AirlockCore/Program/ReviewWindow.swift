import Foundation

/// The program's timing rules: how long before release a notice is due, and how long access may
/// outlast release.
public struct NoticePolicy: Sendable, Hashable, Codable {
    /// Days before the planned public release a notice is due (the program's default is 90).
    public var noticePeriodDays: Int
    /// Days after release a grant may still run, so operators can finish their patches.
    public var grantGraceDays: Int

    public init(noticePeriodDays: Int = 90, grantGraceDays: Int = 14) {
        self.noticePeriodDays = noticePeriodDays
        self.grantGraceDays = grantGraceDays
    }

    /// The review window of a notice filed at `noticedAt` for a release at `plannedRelease`.
    public func window(noticedAt: Date, plannedRelease: Date) throws(ProgramRuleError) -> ReviewWindow {
        guard plannedRelease > noticedAt else {
            throw ProgramRuleError(.invalidWindow, "planned release must be after the notice", field: "planned_release_at")
        }
        let due = plannedRelease.addingTimeInterval(-Double(noticePeriodDays) * 86_400)
        let accessEndsBy = plannedRelease.addingTimeInterval(Double(grantGraceDays) * 86_400)
        // Every time the API writes has a four-digit year: the derived end may not pass 9999.
        guard accessEndsBy < RFC3339.endOfYear9999 else {
            throw ProgramRuleError(
                .invalidWindow, "planned release plus the \(grantGraceDays)-day grace must end before the year 10000",
                field: "planned_release_at")
        }
        return ReviewWindow(
            opensAt: noticedAt,
            plannedRelease: plannedRelease,
            accessEndsBy: accessEndsBy,
            isLate: noticedAt > due
        )
    }
}

/// When a model version may be reviewed: from its notice to its planned release, with access
/// allowed until the grace period after release.
public struct ReviewWindow: Sendable, Hashable, Codable {
    public var opensAt: Date
    public var plannedRelease: Date
    /// The latest end of any access grant to the version.
    public var accessEndsBy: Date
    /// The notice came later than the notice period asks; accepted, and flagged.
    public var isLate: Bool

    public init(opensAt: Date, plannedRelease: Date, accessEndsBy: Date, isLate: Bool) {
        self.opensAt = opensAt
        self.plannedRelease = plannedRelease
        self.accessEndsBy = accessEndsBy
        self.isLate = isLate
    }

    /// Checks that a grant from `start` to `end` fits inside this window.
    public func checkGrant(start: Date, end: Date) throws(ProgramRuleError) {
        guard end > start else {
            throw ProgramRuleError(.invalidWindow, "a grant must end after it starts", field: "ends_at")
        }
        guard start >= opensAt else {
            throw ProgramRuleError(
                .invalidWindow, "a grant cannot start before the notice (\(RFC3339.format(opensAt)))", field: "starts_at")
        }
        guard end <= accessEndsBy else {
            throw ProgramRuleError(
                .invalidWindow,
                "a grant must end by release plus the grace period (\(RFC3339.format(accessEndsBy)))",
                field: "ends_at")
        }
    }
}
