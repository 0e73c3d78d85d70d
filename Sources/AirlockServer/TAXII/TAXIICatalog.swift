import AirlockCore
import AirlockExchange
import AirlockStore

/// Who is calling the TAXII server: an organisation's user, or nobody.
struct TAXIIReader: Sendable {
    /// The user and organisation of the key or session; nil for an anonymous request.
    var actor: Actor?

    var organisation: Organisation? { actor?.organisation }
    var isProgramOffice: Bool { organisation?.kind == .programOffice }
    /// Whether the user's role writes for the organisation: members and admins do, viewers only read.
    var mayWrite: Bool { (actor?.user.role ?? .viewer) >= .member }

    /// Whether the caller's organisation belongs to the program's community, which reads
    /// TLP:GREEN. Every kind of organisation does except vendors: a vendor supplies the program's
    /// participants and is brought into the cases that concern its products, so outside its cases
    /// it reads what the public reads.
    var isProgramMember: Bool {
        guard let organisation else { return false }
        return organisation.kind != .vendor
    }
}

/// One collection as one caller sees it: whether they may read and write it, which markings they
/// read from it, and the marking an object posted without one takes.
struct TAXIICollectionAccess: Sendable {
    var collection: SharingCollection
    /// The TAXII id (``SharingCollection/id(namespace:)``).
    var id: String
    var canRead: Bool
    var canWrite: Bool
    /// The TLP levels this caller reads here: ``SharingAccess`` for their relation, cut at the
    /// collection's ``SharingCollection/strictestMarking``.
    var readableMarkings: Set<TrafficLightProtocol>

    /// The marking of a posted object whose `object_marking_refs` name no TLP level: AMBER in a
    /// case (CERT/CC's advice for pre-disclosure work), GREEN in the community and sector
    /// collections, CLEAR in the public one.
    var defaultMarking: TrafficLightProtocol {
        switch collection {
        case .disclosureCase: .amber
        case .community, .sector: .green
        case .public: .clear
        }
    }

    /// The case whose objects the collection holds, for a case collection.
    var caseId: String? {
        if case .disclosureCase(let id) = collection { id } else { nil }
    }

    /// Throws 403 unless the caller may write.
    func checkCanWrite() throws(TAXIIError) {
        try resource(title: "").checkCanWrite()
    }

    /// The collection resource, with a title and description for people.
    func resource(title: String, description: String? = nil) -> TAXIICollection {
        TAXIICollection(
            id: id, title: title, description: description, alias: collection.alias, canRead: canRead, canWrite: canWrite)
    }
}

/// Which TAXII collections exist for a caller, and what they may do with each.
///
/// | Collection | Listed for | can_read | can_write |
/// |---|---|---|---|
/// | `case-<id>` | the case's participants (others get 404) | yes | yes |
/// | `community` | program members | yes | the program office |
/// | `sector-<sector>` | operators of that sector; the program office (all sectors) | yes | the program office |
/// | `public` | everyone, anonymous included | yes | the program office |
///
/// Writing also needs a user whose role writes (member or admin; viewers read only).
/// Anonymous callers get 401 for every collection but the public one; an organisation that may
/// not see a collection gets 404, as if it did not exist.
struct TAXIICatalog: Sendable {
    let namespace: String
    let publicId: String
    let communityId: String
    let sectorIds: [InfrastructureSector: String]
    /// Sector by collection id, the reverse of ``sectorIds``.
    private let sectorsById: [String: InfrastructureSector]

    init(namespace: String) {
        self.namespace = namespace
        publicId = SharingCollection.public.id(namespace: namespace)
        communityId = SharingCollection.community.id(namespace: namespace)
        var sectorIds: [InfrastructureSector: String] = [:]
        for sector in InfrastructureSector.allCases { sectorIds[sector] = SharingCollection.sector(sector).id(namespace: namespace) }
        self.sectorIds = sectorIds
        sectorsById = Dictionary(uniqueKeysWithValues: sectorIds.map { ($0.value, $0.key) })
    }

    /// The collections listed for a caller, in order: their cases (by case id), the community,
    /// their sectors, the public collection.
    func collections(for reader: TAXIIReader, records: ProgramRecords) async throws -> [TAXIICollectionAccess] {
        var listed: [TAXIICollectionAccess] = []
        if let organisation = reader.organisation {
            let roles = try await records.taxiiCaseRoles(organisationId: organisation.id)
            for caseId in roles.keys.sorted() {
                listed.append(caseAccess(caseId: caseId, roles: roles[caseId] ?? [], reader: reader))
            }
        }
        if reader.isProgramMember { listed.append(access(.community, id: communityId, reader: reader)) }
        for sector in InfrastructureSector.allCases where mayRead(sector, reader) {
            listed.append(access(.sector(sector), id: sectorIds[sector]!, reader: reader))
        }
        listed.append(access(.public, id: publicId, reader: reader))
        return listed
    }

    /// The collection `id` as the caller sees it: 401 for anonymous callers (but for the public
    /// collection), 404 where the caller may not see it.
    func access(to id: String, reader: TAXIIReader, records: ProgramRecords) async throws -> TAXIICollectionAccess {
        if id == publicId { return access(.public, id: id, reader: reader) }
        guard let organisation = reader.organisation else {
            throw TAXIIError(.unauthorized, "This collection needs credentials: HTTP Basic with an Airlock API key as the password.")
        }
        let notFound = TAXIIError.notFound("collection '\(id)'")
        if id == communityId {
            guard reader.isProgramMember else { throw notFound }
            return access(.community, id: id, reader: reader)
        }
        if let sector = sectorsById[id] {
            guard mayRead(sector, reader) else { throw notFound }
            return access(.sector(sector), id: id, reader: reader)
        }
        // A case collection: only among the caller's own cases, so nobody else learns a case exists.
        let roles = try await records.taxiiCaseRoles(organisationId: organisation.id)
        for (caseId, caseRoles) in roles where SharingCollection.disclosureCase(caseId).id(namespace: namespace) == id {
            return caseAccess(caseId: caseId, roles: caseRoles, reader: reader)
        }
        throw notFound
    }

    /// The title and description of a collection, for the collection resources; a case's come
    /// from its reference and title.
    func resource(_ access: TAXIICollectionAccess, records: ProgramRecords) async throws -> TAXIICollection {
        switch access.collection {
        case .disclosureCase(let caseId):
            let disclosure = try await records.disclosureCase(id: caseId)
            let reference = disclosure?.reference ?? caseId
            return access.resource(
                title: "Case \(reference)" + (disclosure.map { ": \($0.title)" } ?? ""),
                description: "STIX objects of disclosure case \(reference), for its participants only; TLP:RED objects never leave it.")
        case .community:
            return access.resource(
                title: "Program community",
                description: "TLP:GREEN and TLP:CLEAR objects shared with every organisation in the program.")
        case .sector(let sector):
            return access.resource(
                title: "Sector: \(sector.rawValue)",
                description: "TLP:GREEN and TLP:CLEAR objects for the program's \(sector.rawValue) operators.")
        case .public:
            return access.resource(
                title: "Public", description: "TLP:CLEAR objects, such as published advisories; readable without credentials.")
        }
    }

    // MARK: - Rules

    private func mayRead(_ sector: InfrastructureSector, _ reader: TAXIIReader) -> Bool {
        guard let organisation = reader.organisation else { return false }
        if organisation.kind == .programOffice { return true }
        return organisation.kind == .infrastructureOperator && organisation.sector == sector
    }

    private func caseAccess(caseId: String, roles: [String], reader: TAXIIReader) -> TAXIICollectionAccess {
        let held = Set(roles.compactMap(CaseRole.init(rawValue:)))
        let role = CaseRole.allCases.first(where: held.contains) ?? .reporter
        let collection = SharingCollection.disclosureCase(caseId)
        // No per-object recipient lists are kept: every participant is a named recipient.
        return TAXIICollectionAccess(
            collection: collection, id: collection.id(namespace: namespace), canRead: true, canWrite: reader.mayWrite,
            readableMarkings: Self.readable(.participant(role), in: collection))
    }

    private func access(_ collection: SharingCollection, id: String, reader: TAXIIReader) -> TAXIICollectionAccess {
        let relation: CaseReaderRelation =
            if reader.organisation == nil { .anonymous } else if reader.isProgramMember { .programMember } else { .outsider }
        return TAXIICollectionAccess(
            collection: collection, id: id, canRead: true, canWrite: reader.isProgramOffice && reader.mayWrite,
            readableMarkings: Self.readable(relation, in: collection))
    }

    static func readable(_ relation: CaseReaderRelation, in collection: SharingCollection) -> Set<TrafficLightProtocol> {
        SharingAccess.readableMarkings(relation: relation, isNamedRecipient: true).filter { $0 <= collection.strictestMarking }
    }
}
