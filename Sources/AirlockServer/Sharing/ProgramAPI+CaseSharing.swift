import AirlockCore
import AirlockExchange
import AirlockStore
import Foundation

/// What the document builders need to know about a case's organisations and its publisher.
struct CaseSharingInputs: Sendable {
    /// Every organisation the case names: participants and the vendors of affected products.
    var organisations: [SharingOrganisation]
    /// The program office that coordinates the case, with this deployment's namespace.
    var publisher: SharingPublisher
    /// The sectors of the case's affected operators, for the sector collections, in name order.
    var operatorSectors: [InfrastructureSector]
}

extension ProgramAPI {
    // MARK: Embargo

    /// The public release of the model versions the case's findings about the model concern: the
    /// latest of them, since the embargo waits for every one. A released version counts from its
    /// release (its planned date, or its last change if that came first); a withdrawn one is never
    /// released, so nil (the embargo then holds until publication with a reason).
    func modelPublicRelease(of disclosureCase: DisclosureCase, _ records: ProgramRecords) async throws -> Date? {
        let versionIds = Set(disclosureCase.activeFindings.filter(\.kind.isAboutModel).map(\.modelVersionId))
        var latest: Date?
        for id in versionIds.sorted() {
            guard let version = try await records.version(id: id) else { return nil }
            let release: Date
            switch version.state {
            case .released: release = min(version.plannedReleaseAt, version.updatedAt)
            case .withdrawn: return nil
            case .notified, .inReview, .assessed: release = version.plannedReleaseAt
            }
            latest = max(latest ?? release, release)
        }
        return latest
    }

    /// The embargo end in force (``DisclosureCase/embargoEnd(modelPublicRelease:)``); nil while it
    /// waits for a model release that is not set.
    func embargoEnd(of disclosureCase: DisclosureCase, _ records: ProgramRecords) async throws -> Date? {
        disclosureCase.embargoEnd(modelPublicRelease: try await modelPublicRelease(of: disclosureCase, records))
    }

    // MARK: Documents

    /// The organisations and the publisher of a case's documents. The publisher is the case's
    /// program office, else the program's first; its identity is TLP:CLEAR (every object points to it).
    func sharingInputs(of disclosureCase: DisclosureCase, _ records: ProgramRecords) async throws -> CaseSharingInputs {
        let vendorIds = disclosureCase.findings.flatMap(\.affectedProducts).compactMap(\.vendorOrganisationId)
        let organisations = try await records.organisations(ids: disclosureCase.participants.map(\.organisationId) + vendorIds)
        let officeId = disclosureCase.participants.first { $0.role == .programOffice }?.organisationId
        let office: Organisation? =
            if let officeId, let office = organisations.first(where: { $0.id == officeId }) { office }
            else { try await records.firstOrganisation(kind: .programOffice) }
        let publisherOrganisation = office.map {
            SharingOrganisation(id: $0.id, name: $0.name, kind: $0.kind, sector: $0.sector, identityMarking: .clear)
        } ?? SharingOrganisation(id: "program-office", name: "Airlock program office", kind: .programOffice, identityMarking: .clear)
        let operators = Set(disclosureCase.participants.filter { $0.role == .affectedOperator }.map(\.organisationId))
        let sectors = Set(organisations.filter { operators.contains($0.id) }.compactMap(\.sector))
            .sorted { $0.rawValue < $1.rawValue }
        return CaseSharingInputs(
            organisations: organisations.map { SharingOrganisation(id: $0.id, name: $0.name, kind: $0.kind, sector: $0.sector) },
            publisher: SharingPublisher(
                organisation: publisherOrganisation, namespace: configuration.sharingNamespace,
                advisoryBaseURL: configuration.advisoryBaseURL),
            operatorSectors: sectors)
    }

    /// The case's CSAF documents, for the advisory, the VEX documents and the CVE records.
    func csafExport(of disclosureCase: DisclosureCase, _ inputs: CaseSharingInputs) -> CSAFCaseExport {
        CSAFCaseExport(disclosureCase: disclosureCase, organisations: inputs.organisations, publisher: inputs.publisher)
    }

    /// The case's STIX objects; once published, they point to the advisory by URL and hash.
    func stixExport(of disclosureCase: DisclosureCase, _ inputs: CaseSharingInputs, at date: Date) throws(SharingDocumentError)
        -> STIXCaseExport
    {
        let advisory = disclosureCase.state == .published ? try csafExport(of: disclosureCase, inputs).securityAdvisory(at: date) : nil
        return STIXCaseExport(
            disclosureCase: disclosureCase, organisations: inputs.organisations, publisher: inputs.publisher, advisory: advisory)
    }

    /// The latest version of each STIX object this deployment published in a collection, read
    /// back from its rows. Objects others added (participants write to a case's collection) are
    /// left out, whatever `created_by_ref` they claim: only the creator versions an object.
    func publishedObjects(in rows: [TAXIIStoredObject], creator: String) -> [String: STIXObject] {
        var latest: [String: (micros: Int64, object: STIXObject)] = [:]
        for row in rows where row.organisationId == nil {
            guard let object = try? STIXObject(json: Array(row.body.utf8)),
                object.createdByRef == creator || (object.id == creator && object.createdByRef == nil)
            else { continue }
            if let known = latest[row.objectId], known.micros >= row.versionMicros { continue }
            latest[row.objectId] = (row.versionMicros, object)
        }
        return latest.mapValues(\.object)
    }

    // MARK: Sharing over TAXII

    /// Shares a case's STIX objects over TAXII: call it in the transaction of every change to the
    /// case (opening, participants, findings, vendor statuses, triage, publication, merges).
    ///
    /// - Regenerates the case's objects as of `date`, each versioned against the latest version
    ///   this deployment published in the case's collection (``SharingCollection/disclosureCase(_:)``),
    ///   and adds the new versions there (every marking: the collection's readers are the participants).
    /// - Revokes objects it published for the case earlier and no longer produces (a merged duplicate).
    /// - Once the case is published, or its TLP in force has stepped down from the plan's first
    ///   marking, adds the objects now marked TLP:GREEN or TLP:CLEAR to `community` and to the
    ///   sector collection of each affected operator's sector, and the TLP:CLEAR ones to `public`,
    ///   with the marking definitions they use.
    ///
    /// Rows carry the object's marking (`tlp`, from its `object_marking_refs`; RED when unmarked,
    /// CLEAR for marking definitions), the case id, the version (`modified`, else `created`, else
    /// `date_added`) and a `date_added` strictly after the collection's last. Versions a collection
    /// already holds are not added again (and an object without `created` or `modified`, a
    /// software SCO, never twice), so calling it again without a change adds nothing.
    ///
    /// Returns the rows added. A case without an active finding has nothing to share. Objects that
    /// cannot be built refuse the change (422), so the case and its collection never disagree.
    @discardableResult
    func shareCase(_ disclosureCase: DisclosureCase, _ records: ProgramRecords, at date: Date) async throws -> [TAXIIStoredObject] {
        guard !disclosureCase.activeFindings.isEmpty else { return [] }
        let inputs = try await sharingInputs(of: disclosureCase, records)
        let export = try document { () throws(SharingDocumentError) in try stixExport(of: disclosureCase, inputs, at: date) }
        let namespace = configuration.sharingNamespace
        let caseCollection = SharingCollection.disclosureCase(disclosureCase.id).id(namespace: namespace)
        // Collections are locked in one order (the case's, community, sectors, public), so writers never deadlock.
        try await records.lockTAXIICollection(collectionId: caseCollection)
        let caseRows = try await records.taxiiObjects(collectionId: caseCollection)
        let previous = publishedObjects(in: caseRows, creator: export.publisherIdentityId)
        let objects = try document { () throws(SharingDocumentError) in try export.objects(at: date, previous: Array(previous.values)) }

        let produced = Set(objects.map(\.id))
        var added = try await add(
            objects, to: caseCollection, held: caseRows, produced: produced, caseId: disclosureCase.id,
            creator: export.publisherIdentityId, at: date, records)

        let firstMarking = disclosureCase.tlpPlan.first?.tlp ?? .red
        guard disclosureCase.state == .published || disclosureCase.tlp(at: date) < firstMarking else { return added }
        var wider: [(SharingCollection, Set<TrafficLightProtocol>)] = [(.community, [.green, .clear])]
        wider += inputs.operatorSectors.map { (.sector($0), [.green, .clear]) }
        wider.append((.public, [.clear]))
        for (collection, levels) in wider {
            let shared = objects.filter { $0.type != "marking-definition" && levels.contains($0.tlp ?? .red) }
            guard !shared.isEmpty else { continue }
            let markings = Set(shared.compactMap(\.tlp)).sorted().map(STIXMarking.definition(of:))
            let id = collection.id(namespace: namespace)
            try await records.lockTAXIICollection(collectionId: id)
            added += try await add(
                shared + markings, to: id, held: try await records.taxiiObjects(collectionId: id), produced: produced,
                caseId: disclosureCase.id, creator: export.publisherIdentityId, at: date, records)
        }
        return added
    }

    /// Adds the versions of `objects` a collection does not hold, and revokes the case's objects
    /// it holds from this publisher that the case no longer produces; one `date_added` for the batch.
    private func add(
        _ objects: [STIXObject], to collectionId: String, held: [TAXIIStoredObject], produced: Set<String>, caseId: String,
        creator: String, at date: Date,
        _ records: ProgramRecords
    ) async throws -> [TAXIIStoredObject] {
        var heldVersions: Set<String> = []
        var heldIds: Set<String> = []
        for row in held {
            heldVersions.insert("\(row.objectId) \(row.versionMicros)")
            heldIds.insert(row.objectId)
        }
        var batch: [STIXObject] = []
        for object in objects {
            let versionText = object["modified"]?.stringValue ?? object["created"]?.stringValue
            if let versionText {
                guard let version = TAXIITimestamp(versionText), !heldVersions.contains("\(object.id) \(version.microsecondsSince1970)")
                else { continue }
            } else if heldIds.contains(object.id) {
                continue
            }
            batch.append(object)
        }
        let ours = publishedObjects(in: held.filter { $0.caseId == caseId }, creator: creator)
        for (id, object) in ours.sorted(by: { $0.key < $1.key }) where !produced.contains(id) && !object.isRevoked {
            batch.append(try document { () throws(SharingDocumentError) in try STIXVersioning.revoke(object, at: date) })
        }
        guard !batch.isEmpty else { return [] }

        let last = try await records.taxiiLastDateAdded(collectionId: collectionId)
        let dateAdded = TAXIITimestamp.dateAdded(
            now: TAXIITimestamp(date), previous: last.map { TAXIITimestamp(microsecondsSince1970: $0) })
        let rows = batch.map { object in
            let versionText = object["modified"]?.stringValue ?? object["created"]?.stringValue
            let version = versionText.flatMap { TAXIITimestamp($0) } ?? dateAdded
            let marking: TrafficLightProtocol = object.type == "marking-definition" ? .clear : (object.tlp ?? .red)
            return TAXIIStoredObject(
                collectionId: collectionId, objectId: object.id, type: object.type, version: versionText ?? dateAdded.description,
                versionMicros: version.microsecondsSince1970, specVersion: object["spec_version"]?.stringValue ?? "2.1",
                dateAddedMicros: dateAdded.microsecondsSince1970, mediaType: TAXIIMediaType.stix, tlp: marking.rawValue,
                caseId: caseId, body: String(decoding: object.jsonBytes, as: UTF8.self))
        }
        return try await records.insert(rows)
    }
}
