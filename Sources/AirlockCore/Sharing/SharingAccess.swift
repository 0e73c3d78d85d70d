/// How a reader's organisation stands to a disclosure case.
public enum CaseReaderRelation: Sendable, Hashable {
    /// The organisation takes part in the case in this role.
    case participant(CaseRole)
    /// The organisation is in the program (its community) but not in this case.
    case programMember
    /// An organisation outside the program.
    case outsider
    /// No credentials at all.
    case anonymous

    /// Every relation, each participant role once: the rows of the access table.
    public static let all: [CaseReaderRelation] = CaseRole.allCases.map { .participant($0) } + [.programMember, .outsider, .anonymous]

    /// The relation of an organisation (nil: anonymous) to `disclosureCase`. An organisation with
    /// several roles reads as its first in `CaseRole.allCases` order; the role never changes what
    /// it may read.
    public static func of(
        _ organisationId: String?, to disclosureCase: DisclosureCase, isProgramMember: Bool
    ) -> CaseReaderRelation {
        guard let organisationId else { return .anonymous }
        let roles = disclosureCase.roles(of: organisationId)
        if let role = CaseRole.allCases.first(where: roles.contains) { return .participant(role) }
        return isProgramMember ? .programMember : .outsider
    }

    /// Whether the organisation takes part in the case.
    public var isParticipant: Bool {
        if case .participant = self { return true }
        return false
    }
}

/// Who may read a disclosure case and the objects shared from it: pure rules, deny by default.
///
/// A case itself is visible only to its participants; everyone else gets 404, since even its
/// existence (that a product or a model has a problem) is sensitive. Objects shared from a case
/// (STIX objects in a TAXII collection, documents) follow their TLP 2.0 marking:
///
/// | Marking | Participant (any role) | Program member, not in the case | Outside organisation | Anonymous |
/// |---|---|---|---|---|
/// | TLP:RED | only if a named recipient of the object | no | no | no |
/// | TLP:AMBER+STRICT | yes | no | no | no |
/// | TLP:AMBER | yes | no | no | no |
/// | TLP:GREEN | yes | yes | no | no |
/// | TLP:CLEAR | yes | yes | yes | yes |
///
/// - TLP:RED is for named recipients only: the case names organisations, so a RED object goes to
///   the case's participants the object names. An object that names no narrower list names every
///   participant (the caller passes `isNamedRecipient: true` for them). RED never leaves the case,
///   whatever an object names.
/// - TLP:AMBER+STRICT limits sharing to the recipient's own organisation: the participants.
/// - TLP:AMBER also allows the recipient's clients. In this program the recipients are the
///   participant organisations and a client reaches AMBER through its participant, never through
///   Airlock, so Airlock serves AMBER to participants only, as AMBER+STRICT.
/// - TLP:GREEN goes to the community: here, the program's member organisations.
/// - TLP:CLEAR has no limit.
///
/// Objects a reader may not read are as absent as the case: 404, never 403.
public enum SharingAccess {
    /// Whether the case itself is visible: participants only, others 404.
    public static func caseVisibility(_ relation: CaseReaderRelation) -> AccessDecision {
        relation.isParticipant ? .allow : .notFound
    }

    /// Whether a reader in `relation` may read an object marked `marking`.
    ///
    /// `isNamedRecipient` only matters for TLP:RED: whether the object names the reader's
    /// organisation among its recipients (true for every participant of an object without a narrower list).
    public static func canRead(_ marking: TrafficLightProtocol, relation: CaseReaderRelation, isNamedRecipient: Bool) -> Bool {
        switch marking {
        case .red: relation.isParticipant && isNamedRecipient
        case .amberStrict, .amber: relation.isParticipant
        case .green: relation.isParticipant || relation == .programMember
        case .clear: true
        }
    }

    /// ``canRead(_:relation:isNamedRecipient:)`` as a decision: allowed, or 404.
    public static func decide(_ marking: TrafficLightProtocol, relation: CaseReaderRelation, isNamedRecipient: Bool) -> AccessDecision {
        canRead(marking, relation: relation, isNamedRecipient: isNamedRecipient) ? .allow : .notFound
    }

    /// The markings a reader may read, for filtering a collection in one query.
    public static func readableMarkings(relation: CaseReaderRelation, isNamedRecipient: Bool) -> Set<TrafficLightProtocol> {
        Set(TrafficLightProtocol.allCases.filter { canRead($0, relation: relation, isNamedRecipient: isNamedRecipient) })
    }
}
