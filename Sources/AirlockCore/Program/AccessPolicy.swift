/// How the acting user's organisation stands to the object of a request.
public enum ObjectRelation: String, Sendable, Hashable, CaseIterable {
    /// The actor's organisation is the program office, which oversees every object.
    case programOffice = "program_office"
    /// The actor's organisation owns the object: the developer of a model, the organisation itself.
    case owner
    /// The actor's organisation holds an access grant to the object's model version.
    case grantee
    /// The actor's organisation takes part in the disclosure case the object belongs to (a case,
    /// or a finding in one), in any role.
    case participant
    /// No relation. For a sensitive object even its existence is withheld.
    case none
}

/// What a request may do with an object.
public enum AccessDecision: String, Sendable, Hashable {
    case allow
    /// The actor may see the object but not do this to it.
    case forbidden
    /// The actor may not know the object exists.
    case notFound
}

/// Everything the API lets a user do, one case a kind of request.
public enum ProgramAction: String, Sendable, Hashable, CaseIterable {
    case organisationList, organisationRead, organisationCreate
    case userList, userCreate
    case commitmentList, commitmentCreate, commitmentRead
    case modelList, modelCreate, modelRead
    case versionList, versionCreate, versionRead, versionUpdateEndpoint
    case versionStartReview, versionMarkAssessed, versionRelease, versionWithdraw, versionGateway
    case grantList, grantCreate, grantRead, grantApprove, grantConsent, grantRevoke
    case grantKeyCreate, grantKeyList
    case runList, runCreate, runRead, runCancel, runResume
    /// A worker's part of a run: its assignment and bundle, and keeping its attempts' results.
    case runWork
    /// A run's task bundle uploaded before the run is submitted.
    case bundleUpload
    case findingList, findingCreate, findingRead, findingMerge
    case caseList, caseCreate, caseRead, caseManage, caseVendorStatus, casePublish, caseExport
    case auditRead
}

/// The program's authorisation rules, deny by default.
///
/// One table: for each action, the least role each relation needs. A relation missing from the
/// row is refused: with 404 where the object is sensitive and the actor has no relation to it,
/// with 403 otherwise.
public enum AccessPolicy {
    /// A row of the table.
    public struct Rule: Sendable {
        /// The least role needed, by relation. Absent: refused.
        public var leastRole: [ObjectRelation: MemberRole]
        /// The kinds of organisation that may take this action at all (for creating).
        public var kinds: Set<OrganisationKind>?
        /// Whether an actor without any relation must not learn the object exists.
        public var hidesExistence: Bool
        /// The one role that may take this action, when no other may (a worker's).
        public var onlyRole: MemberRole?

        init(leastRole: [ObjectRelation: MemberRole], kinds: Set<OrganisationKind>? = nil, hidesExistence: Bool, onlyRole: MemberRole? = nil) {
            self.leastRole = leastRole
            self.kinds = kinds
            self.hidesExistence = hidesExistence
            self.onlyRole = onlyRole
        }
    }

    public static func rule(for action: ProgramAction) -> Rule {
        let anyone: [ObjectRelation: MemberRole] = [.programOffice: .viewer, .owner: .viewer, .grantee: .viewer, .none: .viewer]
        switch action {
        // The directory of participants is known to every participant: grants name them.
        case .organisationList, .organisationRead:
            return Rule(leastRole: anyone, hidesExistence: false)
        case .organisationCreate:
            return Rule(leastRole: [.programOffice: .admin], hidesExistence: false)
        case .userList:
            return Rule(leastRole: [.programOffice: .viewer, .owner: .viewer], hidesExistence: false)
        case .userCreate:
            return Rule(leastRole: [.programOffice: .admin, .owner: .admin], hidesExistence: false)
        case .commitmentList:
            return Rule(leastRole: [.programOffice: .viewer, .owner: .viewer], hidesExistence: false)
        case .commitmentCreate:
            return Rule(leastRole: [.owner: .admin], kinds: [.modelDeveloper], hidesExistence: false)
        case .commitmentRead:
            return Rule(leastRole: [.programOffice: .viewer, .owner: .viewer], hidesExistence: true)
        case .modelList, .versionList, .grantList, .runList:
            // Lists are filtered to what the actor may read; the call itself is open.
            return Rule(leastRole: anyone, hidesExistence: false)
        case .modelCreate:
            return Rule(leastRole: [.owner: .member], kinds: [.modelDeveloper], hidesExistence: false)
        case .modelRead, .versionRead, .runRead:
            return Rule(leastRole: [.programOffice: .viewer, .owner: .viewer, .grantee: .viewer], hidesExistence: true)
        case .versionCreate, .versionUpdateEndpoint:
            return Rule(leastRole: [.owner: .member], hidesExistence: true)
        case .versionStartReview, .versionMarkAssessed:
            return Rule(leastRole: [.programOffice: .member], hidesExistence: true)
        case .versionRelease:
            return Rule(leastRole: [.owner: .admin], hidesExistence: true)
        case .versionWithdraw:
            return Rule(leastRole: [.programOffice: .admin, .owner: .admin], hidesExistence: true)
        // The kill switch: the developer (or the office) cuts every grantee off in one action.
        case .versionGateway:
            return Rule(leastRole: [.programOffice: .admin, .owner: .admin], hidesExistence: true)
        case .grantCreate:
            return Rule(leastRole: [.programOffice: .member], hidesExistence: true)
        case .grantRead:
            return Rule(leastRole: [.programOffice: .viewer, .owner: .viewer, .grantee: .viewer], hidesExistence: true)
        case .grantApprove:
            return Rule(leastRole: [.programOffice: .admin], hidesExistence: true)
        case .grantConsent:
            return Rule(leastRole: [.owner: .admin], hidesExistence: true)
        case .grantRevoke:
            return Rule(leastRole: [.programOffice: .admin, .owner: .admin], hidesExistence: true)
        case .grantKeyCreate:
            return Rule(leastRole: [.grantee: .admin], hidesExistence: true)
        case .grantKeyList:
            return Rule(leastRole: [.programOffice: .viewer, .grantee: .member], hidesExistence: true)
        case .runCreate:
            return Rule(leastRole: [.programOffice: .member, .grantee: .member], hidesExistence: true)
        // The grantee's own runs only (a grantee does not see another's).
        case .runCancel, .runResume:
            return Rule(leastRole: [.programOffice: .member, .grantee: .member], hidesExistence: true)
        // Workers are the program office's machines; the run's key is theirs alone.
        case .runWork:
            return Rule(leastRole: [.programOffice: .worker], hidesExistence: true, onlyRole: .worker)
        // A bundle is content, named by its digest; only a run that names it gives it meaning.
        case .bundleUpload:
            return Rule(leastRole: [.programOffice: .member, .owner: .member, .grantee: .member, .none: .member], hidesExistence: false)
        // Findings: filed on a version the organisation has a relation to (the developer on its
        // own models); read by the reporter (owner), the office and the participants of its case.
        case .findingList, .caseList:
            return Rule(leastRole: anyone, hidesExistence: false)
        case .findingCreate:
            return Rule(
                leastRole: [.programOffice: .member, .owner: .member, .grantee: .member],
                kinds: [.programOffice, .evaluator, .infrastructureOperator, .modelDeveloper], hidesExistence: true)
        case .findingRead:
            return Rule(leastRole: [.programOffice: .viewer, .owner: .viewer, .participant: .viewer], hidesExistence: true)
        case .findingMerge:
            return Rule(leastRole: [.programOffice: .member, .owner: .member], hidesExistence: true)
        // Disclosure cases: only participants (and the office that coordinates) know one exists.
        case .caseCreate:
            return Rule(leastRole: [.programOffice: .member], hidesExistence: false)
        case .caseRead, .caseExport:
            return Rule(leastRole: [.programOffice: .viewer, .participant: .viewer], hidesExistence: true)
        case .caseManage:
            return Rule(leastRole: [.programOffice: .member], hidesExistence: true)
        // A vendor states its own status (owner: the vendor the statement is about).
        case .caseVendorStatus:
            return Rule(leastRole: [.programOffice: .member, .owner: .member], hidesExistence: true)
        case .casePublish:
            return Rule(leastRole: [.programOffice: .admin], hidesExistence: true)
        case .auditRead:
            return Rule(leastRole: [.programOffice: .admin], hidesExistence: false)
        }
    }

    /// The decision for a user with `role` in an organisation of `kind` standing in `relation` to the object.
    public static func decide(
        _ action: ProgramAction, role: MemberRole, kind: OrganisationKind, relation: ObjectRelation
    ) -> AccessDecision {
        let rule = rule(for: action)
        if let least = rule.leastRole[relation], role >= least, rule.onlyRole.map({ $0 == role }) ?? true,
            rule.kinds.map({ $0.contains(kind) }) ?? true
        {
            return .allow
        }
        return relation == .none && rule.hidesExistence ? .notFound : .forbidden
    }
}
