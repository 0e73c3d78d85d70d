/// Where a covered model version stands in the review.
///
/// Moves only by explicit transitions (``transition(to:)``), each one audited.
public enum ModelVersionState: String, Sendable, Hashable, Codable, CaseIterable {
    /// The developer filed its pre-release notice.
    case notified
    /// The program office opened the review.
    case inReview = "in_review"
    /// The review's assessments are in.
    case assessed
    /// The developer released the model to the public.
    case released
    /// The developer or the office withdrew the version; nothing more happens to it.
    case withdrawn

    /// The states this one may move to.
    public var successors: [ModelVersionState] {
        switch self {
        case .notified: [.inReview, .withdrawn]
        // A version may be released while still in review: the outcome is advisory, not a gate.
        case .inReview: [.assessed, .released, .withdrawn]
        case .assessed: [.inReview, .released, .withdrawn]
        case .released, .withdrawn: []
        }
    }

    /// The state after moving to `next`, or the reason it is refused.
    public func transition(to next: ModelVersionState) throws(ProgramRuleError) -> ModelVersionState {
        guard successors.contains(next) else {
            let allowed = successors.isEmpty
                ? "\(rawValue) is final"
                : "from \(rawValue) a version may move to \(successors.map(\.rawValue).joined(separator: ", "))"
            throw ProgramRuleError(.invalidTransition, "cannot move from \(rawValue) to \(next.rawValue): \(allowed)", field: "to")
        }
        return next
    }

    /// Which kind of organisation takes a version into `self`.
    ///
    /// The office runs the review; the developer decides on release; either may withdraw.
    public var movedBy: Set<OrganisationKind> {
        switch self {
        case .notified: []
        case .inReview, .assessed: [.programOffice]
        case .released: [.modelDeveloper]
        case .withdrawn: [.programOffice, .modelDeveloper]
        }
    }
}
