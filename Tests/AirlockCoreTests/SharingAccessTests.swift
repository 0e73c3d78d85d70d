import AirlockCore
import Foundation
import Testing

/// Who may read what of a disclosure case: every TLP level against every relation of the
/// reader's organisation to the case, named recipient or not.
@Suite struct SharingAccessTests {
    /// The table, written out from the issue and TLP 2.0 rather than from the code: for each
    /// marking, the relations that may read it. `participant` stands for every role;
    /// `participant-named` for a participant the object names among its recipients.
    static let readers: [TrafficLightProtocol: Set<String>] = [
        .red: ["participant-named"],
        .amberStrict: ["participant-named", "participant"],
        .amber: ["participant-named", "participant"],
        .green: ["participant-named", "participant", "program-member"],
        .clear: ["participant-named", "participant", "program-member", "outsider", "anonymous"],
    ]

    static func label(_ relation: CaseReaderRelation, named: Bool) -> String {
        switch relation {
        case .participant: named ? "participant-named" : "participant"
        case .programMember: "program-member"
        case .outsider: "outsider"
        case .anonymous: "anonymous"
        }
    }

    static let relations = CaseReaderRelation.all

    @Test func theRelationsAreEveryRoleAndThreeOutsiders() {
        #expect(Self.relations.count == CaseRole.allCases.count + 3)
        #expect(Self.relations.filter(\.isParticipant).count == 5)
    }

    @Test(arguments: TrafficLightProtocol.allCases, SharingAccessTests.relations)
    func readAccess(marking: TrafficLightProtocol, relation: CaseReaderRelation) {
        for named in [true, false] {
            let expected = Self.readers[marking, default: []].contains(Self.label(relation, named: named))
            #expect(
                SharingAccess.canRead(marking, relation: relation, isNamedRecipient: named) == expected,
                "\(marking.label), \(relation), named \(named)")
            // Refusals are 404s: a reader who may not read an object may not learn it exists.
            #expect(SharingAccess.decide(marking, relation: relation, isNamedRecipient: named) == (expected ? .allow : .notFound))
        }
    }

    @Test(arguments: SharingAccessTests.relations)
    func onlyParticipantsSeeTheCase(relation: CaseReaderRelation) {
        #expect(SharingAccess.caseVisibility(relation) == (relation.isParticipant ? .allow : .notFound))
    }

    @Test func redNeverLeavesTheCaseWhateverItNames() {
        for relation in [CaseReaderRelation.programMember, .outsider, .anonymous] {
            #expect(!SharingAccess.canRead(.red, relation: relation, isNamedRecipient: true))
        }
    }

    @Test(arguments: CaseRole.allCases)
    func everyRoleReadsAlike(role: CaseRole) {
        #expect(SharingAccess.readableMarkings(relation: .participant(role), isNamedRecipient: true) == Set(TrafficLightProtocol.allCases))
        #expect(SharingAccess.readableMarkings(relation: .participant(role), isNamedRecipient: false) == [.clear, .green, .amber, .amberStrict])
    }

    @Test func readableMarkingsOfOutsiders() {
        #expect(SharingAccess.readableMarkings(relation: .programMember, isNamedRecipient: false) == [.clear, .green])
        #expect(SharingAccess.readableMarkings(relation: .outsider, isNamedRecipient: true) == [.clear])
        #expect(SharingAccess.readableMarkings(relation: .anonymous, isNamedRecipient: false) == [.clear])
    }

    @Test func relationOfAnOrganisationToACase() {
        var disclosure = DisclosureCase(id: "c", reference: "AIRLOCK-1", title: "T", summary: "", reportedAt: Date(timeIntervalSince1970: 0))
        disclosure.add(CaseParticipant(organisationId: "org_vendor", role: .vendor))
        disclosure.add(CaseParticipant(organisationId: "org_lab", role: .vendor))
        disclosure.add(CaseParticipant(organisationId: "org_lab", role: .modelDeveloper))
        #expect(CaseReaderRelation.of("org_vendor", to: disclosure, isProgramMember: true) == .participant(.vendor))
        // Several roles read as the first in CaseRole order; the role does not change access.
        #expect(CaseReaderRelation.of("org_lab", to: disclosure, isProgramMember: true) == .participant(.vendor))
        #expect(CaseReaderRelation.of("org_bank", to: disclosure, isProgramMember: true) == .programMember)
        #expect(CaseReaderRelation.of("org_bank", to: disclosure, isProgramMember: false) == .outsider)
        #expect(CaseReaderRelation.of(nil, to: disclosure, isProgramMember: false) == .anonymous)
        // A participant is a participant even if the caller forgot it is a program member.
        #expect(CaseReaderRelation.of("org_vendor", to: disclosure, isProgramMember: false).isParticipant)
    }
}
