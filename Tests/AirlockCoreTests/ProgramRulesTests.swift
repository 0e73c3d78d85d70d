import AirlockCore
import Foundation
import Testing

/// The program's pure rules: version states, notice windows and grant decisions.
@Suite struct ProgramRulesTests {
    static let day: TimeInterval = 86_400
    static let now = Date(timeIntervalSince1970: 1_760_000_000)

    // MARK: Model version states

    /// Written out from the issue, not from `successors`: notified → in_review | withdrawn;
    /// in_review → assessed | released | withdrawn; assessed → in_review | released | withdrawn;
    /// released and withdrawn are final.
    private static let allowedMoves: Set<String> = [
        "notified→in_review", "notified→withdrawn",
        "in_review→assessed", "in_review→released", "in_review→withdrawn",
        "assessed→in_review", "assessed→released", "assessed→withdrawn",
    ]

    @Test func theStatesAreTheFiveOfTheIssue() {
        #expect(ModelVersionState.allCases.map(\.rawValue) == ["notified", "in_review", "assessed", "released", "withdrawn"])
    }

    @Test(arguments: ModelVersionState.allCases, ModelVersionState.allCases)
    func transition(from state: ModelVersionState, to next: ModelVersionState) throws {
        let move = "\(state.rawValue)→\(next.rawValue)"
        #expect(state.successors.contains(next) == Self.allowedMoves.contains(move), "\(move)")
        if Self.allowedMoves.contains(move) {
            #expect(try state.transition(to: next) == next, "\(move)")
        } else {
            let error = #expect(throws: ProgramRuleError.self, "\(move)") { try state.transition(to: next) }
            #expect(error?.code == .invalidTransition)
            #expect(error?.reason.contains(state.rawValue) == true, "\(error?.reason ?? "")")
            #expect(error?.reason.contains(next.rawValue) == true, "\(error?.reason ?? "")")
        }
    }

    @Test func releasedAndWithdrawnAreFinal() {
        #expect(ModelVersionState.released.successors.isEmpty)
        #expect(ModelVersionState.withdrawn.successors.isEmpty)
        let error = #expect(throws: ProgramRuleError.self) { try ModelVersionState.released.transition(to: .inReview) }
        #expect(error?.reason.contains("final") == true)
    }

    @Test func whoMovesAVersion() {
        #expect(ModelVersionState.notified.movedBy.isEmpty)
        #expect(ModelVersionState.inReview.movedBy == [.programOffice])
        #expect(ModelVersionState.assessed.movedBy == [.programOffice])
        #expect(ModelVersionState.released.movedBy == [.modelDeveloper])
        #expect(ModelVersionState.withdrawn.movedBy == [.programOffice, .modelDeveloper])
    }

    // MARK: Notice and review window

    @Test func defaultNoticePeriodIsNinetyDaysWithFourteenDaysGrace() {
        let policy = NoticePolicy()
        #expect(policy.noticePeriodDays == 90)
        #expect(policy.grantGraceDays == 14)
    }

    @Test(arguments: [
        (100 * ProgramRulesTests.day, false),
        (90 * ProgramRulesTests.day, false),
        (90 * ProgramRulesTests.day - 0.001, true),
        (30 * ProgramRulesTests.day, true),
        (1, true),
    ])
    func lateNotice(releaseAfter lead: TimeInterval, isLate: Bool) throws {
        let window = try NoticePolicy().window(noticedAt: Self.now, plannedRelease: Self.now.addingTimeInterval(lead))
        #expect(window.isLate == isLate)
        #expect(window.opensAt == Self.now)
        #expect(window.plannedRelease == Self.now.addingTimeInterval(lead))
        #expect(window.accessEndsBy == Self.now.addingTimeInterval(lead + 14 * Self.day))
    }

    @Test func aShorterPolicyPeriodMovesTheDeadline() throws {
        let window = try NoticePolicy(noticePeriodDays: 20, grantGraceDays: 0)
            .window(noticedAt: Self.now, plannedRelease: Self.now.addingTimeInterval(30 * Self.day))
        #expect(!window.isLate)
        #expect(window.accessEndsBy == Self.now.addingTimeInterval(30 * Self.day))
    }

    @Test(arguments: [-ProgramRulesTests.day, 0])
    func releaseNotAfterNoticeIsRefused(offset: TimeInterval) {
        let error = #expect(throws: ProgramRuleError.self) {
            try NoticePolicy().window(noticedAt: Self.now, plannedRelease: Self.now.addingTimeInterval(offset))
        }
        #expect(error?.code == .invalidWindow)
        #expect(error?.field == "planned_release_at")
    }

    private static func window() throws -> ReviewWindow {
        try NoticePolicy().window(noticedAt: now, plannedRelease: now.addingTimeInterval(100 * day))
    }

    @Test func grantInsideTheWindowIsAccepted() throws {
        let window = try Self.window()
        try window.checkGrant(start: Self.now, end: window.accessEndsBy)
        try window.checkGrant(start: Self.now.addingTimeInterval(Self.day), end: Self.now.addingTimeInterval(50 * Self.day))
    }

    @Test func grantStartingBeforeTheNoticeIsRefused() throws {
        let window = try Self.window()
        let error = #expect(throws: ProgramRuleError.self) {
            try window.checkGrant(start: Self.now.addingTimeInterval(-1), end: Self.now.addingTimeInterval(10 * Self.day))
        }
        #expect(error?.code == .invalidWindow)
        #expect(error?.field == "starts_at")
    }

    @Test func grantEndingAfterReleasePlusGraceIsRefused() throws {
        let window = try Self.window()
        let error = #expect(throws: ProgramRuleError.self) {
            try window.checkGrant(start: Self.now, end: window.accessEndsBy.addingTimeInterval(1))
        }
        #expect(error?.code == .invalidWindow)
        #expect(error?.field == "ends_at")
    }

    @Test(arguments: [0, -ProgramRulesTests.day])
    func grantEndingNoLaterThanItStartsIsRefused(length: TimeInterval) throws {
        let window = try Self.window()
        let start = Self.now.addingTimeInterval(10 * Self.day)
        let error = #expect(throws: ProgramRuleError.self) {
            try window.checkGrant(start: start, end: start.addingTimeInterval(length))
        }
        #expect(error?.code == .invalidWindow)
        #expect(error?.field == "ends_at")
    }

    // MARK: Grant decisions

    private static let startsAt = now.addingTimeInterval(day)
    private static let endsAt = now.addingTimeInterval(30 * day)
    private static let during = now.addingTimeInterval(2 * day)

    @Test func pendingUntilBothApproveAndConsent() throws {
        var approvedOnly = GrantDecisions()
        #expect(approvedOnly.status(at: Self.during, endsAt: Self.endsAt) == .pending)
        try approvedOnly.approve(at: Self.now)
        #expect(approvedOnly.approvedAt == Self.now)
        #expect(approvedOnly.status(at: Self.during, endsAt: Self.endsAt) == .pending)
        #expect(!approvedOnly.isUsable(at: Self.during, startsAt: Self.startsAt, endsAt: Self.endsAt))

        var consentedOnly = GrantDecisions()
        try consentedOnly.consent(at: Self.now)
        #expect(consentedOnly.consentedAt == Self.now)
        #expect(consentedOnly.status(at: Self.during, endsAt: Self.endsAt) == .pending)
        #expect(!consentedOnly.isUsable(at: Self.during, startsAt: Self.startsAt, endsAt: Self.endsAt))
    }

    @Test(arguments: [true, false])
    func activeOnceBothDecisionsAreIn(approveFirst: Bool) throws {
        var decisions = GrantDecisions()
        if approveFirst {
            try decisions.approve(at: Self.now)
            try decisions.consent(at: Self.now)
        } else {
            try decisions.consent(at: Self.now)
            try decisions.approve(at: Self.now)
        }
        #expect(decisions.status(at: Self.during, endsAt: Self.endsAt) == .active)
        #expect(decisions.isUsable(at: Self.during, startsAt: Self.startsAt, endsAt: Self.endsAt))
        // Active but not yet started, then past its end.
        #expect(!decisions.isUsable(at: Self.now, startsAt: Self.startsAt, endsAt: Self.endsAt))
        #expect(decisions.status(at: Self.endsAt, endsAt: Self.endsAt) == .expired)
        #expect(!decisions.isUsable(at: Self.endsAt, startsAt: Self.startsAt, endsAt: Self.endsAt))
    }

    @Test func expiredAfterItsEndEvenUndecided() {
        #expect(GrantDecisions().status(at: Self.endsAt.addingTimeInterval(1), endsAt: Self.endsAt) == .expired)
    }

    @Test func revocationIsFinal() throws {
        var decisions = GrantDecisions()
        try decisions.approve(at: Self.now)
        try decisions.revoke(at: Self.during)
        #expect(decisions.revokedAt == Self.during)
        #expect(decisions.status(at: Self.during, endsAt: Self.endsAt) == .revoked)
        // Revoked stays revoked, even past the end.
        #expect(decisions.status(at: Self.endsAt.addingTimeInterval(Self.day), endsAt: Self.endsAt) == .revoked)
        #expect(!decisions.isUsable(at: Self.during, startsAt: Self.startsAt, endsAt: Self.endsAt))

        let before = decisions
        var attempt = decisions
        let consent = #expect(throws: ProgramRuleError.self) { try attempt.consent(at: Self.during) }
        #expect(consent?.code == .invalidGrantState)
        let revokeAgain = #expect(throws: ProgramRuleError.self) { try attempt.revoke(at: Self.endsAt) }
        #expect(revokeAgain?.code == .invalidGrantState)
        #expect(attempt == before)

        var unapproved = GrantDecisions(consentedAt: Self.now)
        try unapproved.revoke(at: Self.now)
        let approve = #expect(throws: ProgramRuleError.self) { try unapproved.approve(at: Self.during) }
        #expect(approve?.code == .invalidGrantState)
        #expect(unapproved.approvedAt == nil)
    }

    @Test func decisionsAreTakenOnce() throws {
        var decisions = GrantDecisions()
        try decisions.approve(at: Self.now)
        let approveAgain = #expect(throws: ProgramRuleError.self) { try decisions.approve(at: Self.during) }
        #expect(approveAgain?.code == .invalidGrantState)
        #expect(decisions.approvedAt == Self.now)

        try decisions.consent(at: Self.now)
        let consentAgain = #expect(throws: ProgramRuleError.self) { try decisions.consent(at: Self.during) }
        #expect(consentAgain?.code == .invalidGrantState)
        #expect(decisions.consentedAt == Self.now)
    }
}
