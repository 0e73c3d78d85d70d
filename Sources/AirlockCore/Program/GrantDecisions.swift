import Foundation

/// A grant's standing, as the API reports it.
public enum GrantStatus: String, Sendable, Hashable, Codable, CaseIterable {
    /// Waiting for the office's approval, the developer's consent, or both.
    case pending
    /// Approved and consented; usable between its start and end.
    case active
    /// Past its end.
    case expired
    /// Revoked by the office or the developer; final.
    case revoked
}

/// The two decisions an access grant needs, and the revocation either side may make.
///
/// A pure state machine: the server loads it, applies one event, and stores the result with an
/// audit entry in the same transaction.
public struct GrantDecisions: Sendable, Hashable, Codable {
    /// When the program office approved.
    public var approvedAt: Date?
    /// When the model developer consented.
    public var consentedAt: Date?
    /// When either side revoked.
    public var revokedAt: Date?

    public init(approvedAt: Date? = nil, consentedAt: Date? = nil, revokedAt: Date? = nil) {
        self.approvedAt = approvedAt
        self.consentedAt = consentedAt
        self.revokedAt = revokedAt
    }

    /// The grant's status at `now` for a grant ending at `endsAt`.
    public func status(at now: Date, endsAt: Date) -> GrantStatus {
        if revokedAt != nil { return .revoked }
        if now >= endsAt { return .expired }
        return approvedAt != nil && consentedAt != nil ? .active : .pending
    }

    /// Whether the grant may be used at `now`: both decisions given, not revoked, inside its dates.
    public func isUsable(at now: Date, startsAt: Date, endsAt: Date) -> Bool {
        status(at: now, endsAt: endsAt) == .active && now >= startsAt
    }

    /// The office's approval.
    public mutating func approve(at now: Date) throws(ProgramRuleError) {
        try checkOpen("approved")
        guard approvedAt == nil else { throw ProgramRuleError(.invalidGrantState, "the grant is already approved") }
        approvedAt = now
    }

    /// The developer's consent.
    public mutating func consent(at now: Date) throws(ProgramRuleError) {
        try checkOpen("consented to")
        guard consentedAt == nil else { throw ProgramRuleError(.invalidGrantState, "the developer has already consented") }
        consentedAt = now
    }

    /// Revocation, by either side, effective at once.
    public mutating func revoke(at now: Date) throws(ProgramRuleError) {
        try checkOpen("revoked")
        revokedAt = now
    }

    private func checkOpen(_ verb: String) throws(ProgramRuleError) {
        if revokedAt != nil { throw ProgramRuleError(.invalidGrantState, "a revoked grant cannot be \(verb)") }
    }
}
