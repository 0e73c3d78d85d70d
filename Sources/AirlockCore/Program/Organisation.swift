/// What part an organisation plays in the program.
public enum OrganisationKind: String, Sendable, Hashable, Codable, CaseIterable {
    /// Runs the program: approves grants, opens reviews, reads the audit log.
    case programOffice = "program_office"
    /// Builds frontier models and files pre-release notices for them.
    case modelDeveloper = "model_developer"
    /// Tests models for national-security and cyber capabilities (a safety institute, an agency's cyber unit).
    case evaluator
    /// Runs critical infrastructure (banks, payment networks, custodians, utilities) and defends it.
    case infrastructureOperator = "infrastructure_operator"
    /// Supplies software or services to the program's participants.
    case vendor
}

/// The sector of an infrastructure operator.
public enum InfrastructureSector: String, Sendable, Hashable, Codable, CaseIterable {
    case banking, payments, custody, insurance, markets, energy, water, telecommunications, healthcare, transport, government, other
}

/// A user's role inside their organisation. Ordered: each role may do what the ones below it may.
public enum MemberRole: String, Sendable, Hashable, Codable, CaseIterable, Comparable {
    /// A machine account of the program office for `airlock worker`: takes attempts of runs and
    /// keeps their results, and may do nothing else (below every other role).
    case worker
    /// Reads what the organisation may read.
    case viewer
    /// Also writes what the organisation may write.
    case member
    /// Also manages the organisation's users and keys and takes its formal decisions.
    case admin

    private var rank: Int {
        switch self {
        case .worker: -1
        case .viewer: 0
        case .member: 1
        case .admin: 2
        }
    }

    public static func < (lhs: MemberRole, rhs: MemberRole) -> Bool { lhs.rank < rhs.rank }
}

/// The purpose an access grant is for.
public enum GrantPurpose: String, Sendable, Hashable, Codable, CaseIterable {
    case capabilityEvaluation = "capability_evaluation"
    case infrastructureDefence = "infrastructure_defence"
    case redTeaming = "red_teaming"
}
