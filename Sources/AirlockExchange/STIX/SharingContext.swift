import AirlockCore

// The inputs the STIX, CSAF and CVE builders share: who the organisations are, who publishes, and
// the one error type of these builders.

/// An organisation as the documents name it.
public struct SharingOrganisation: Sendable, Hashable {
    /// The organisation's Airlock id.
    public var id: String
    /// The name the documents print.
    public var name: String
    /// What part it plays in the program (sets the STIX identity's sectors).
    public var kind: OrganisationKind
    /// For infrastructure operators.
    public var sector: InfrastructureSector?
    /// The marking of the organisation's STIX identity. GREEN by default: the program's directory
    /// is known to its members (every member may list organisations), not to the public.
    public var identityMarking: TrafficLightProtocol

    public init(
        id: String, name: String, kind: OrganisationKind, sector: InfrastructureSector? = nil,
        identityMarking: TrafficLightProtocol = .green
    ) {
        self.id = id
        self.name = name
        self.kind = kind
        self.sector = sector
        self.identityMarking = identityMarking
    }
}

/// Who publishes the documents, and where.
public struct SharingPublisher: Sendable, Hashable {
    /// The program office; its identity is `created_by_ref` of every STIX object, and it is the
    /// CSAF publisher (category coordinator). Its identity is usually TLP:CLEAR, since every
    /// published object points to it.
    public var organisation: SharingOrganisation
    /// The publisher's namespace URL (CSAF `publisher.namespace`, `https://airlock.example.org`);
    /// it also seeds the STIX ids, so two deployments never mint the same id.
    public var namespace: String
    /// Where advisories are served: a document's URL is `base/tlp/year/file.json` (CSAF §7.1:
    /// a folder per TLP label, since AMBER and RED need access control, then per year).
    public var advisoryBaseURL: String
    /// How to reach the publisher, for CSAF `publisher.contact_details`.
    public var contactDetails: String?

    public init(organisation: SharingOrganisation, namespace: String, advisoryBaseURL: String, contactDetails: String? = nil) {
        self.organisation = organisation
        self.namespace = namespace
        self.advisoryBaseURL = advisoryBaseURL
        self.contactDetails = contactDetails
    }
}

/// A document could not be built or versioned: a missing organisation, a revoked object, a CVE
/// record without a CVE id.
///
/// Codes wrap a private enum so that new ones can be added without breaking callers.
public struct SharingDocumentError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The kinds of failure.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case unknownOrganisation, nothingToPublish, revoked, notTheCreator, mismatch, notVersionable, noCVEId, invalidInput
        }

        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// A participant or vendor is not in the organisations given.
        public static let unknownOrganisation = Code(.unknownOrganisation)
        /// The case has no active finding, or the vendor no product.
        public static let nothingToPublish = Code(.nothingToPublish)
        /// The object was revoked; a revoked object gets no new versions (STIX §3.6).
        public static let revoked = Code(.revoked)
        /// Only the object's creator may version it (STIX §3.6).
        public static let notTheCreator = Code(.notTheCreator)
        /// The previous and the new version are not the same object (id or type differ).
        public static let mismatch = Code(.mismatch)
        /// Marking definitions are never versioned (STIX §7.2.1).
        public static let notVersionable = Code(.notVersionable)
        /// A CVE record needs a CVE id: the finding's, or one reserved for it.
        public static let noCVEId = Code(.noCVEId)
        /// An input does not have the required form.
        public static let invalidInput = Code(.invalidInput)

        public var description: String { base.rawValue }
    }

    /// What kind of failure it is.
    public var code: Code
    /// What is wrong, for people.
    public var reason: String

    public init(_ code: Code, _ reason: String) {
        self.code = code
        self.reason = reason
    }

    public var description: String { "\(code): \(reason)" }
}

/// The organisations by id, with a clear error for one that is missing.
struct OrganisationDirectory {
    private let byId: [String: SharingOrganisation]

    init(_ organisations: [SharingOrganisation], publisher: SharingPublisher) {
        var byId: [String: SharingOrganisation] = [:]
        for organisation in organisations + [publisher.organisation] where byId[organisation.id] == nil {
            byId[organisation.id] = organisation
        }
        self.byId = byId
    }

    func organisation(_ id: String) throws(SharingDocumentError) -> SharingOrganisation {
        guard let organisation = byId[id] else {
            throw SharingDocumentError(.unknownOrganisation, "organisation \(id) takes part in the case but was not given")
        }
        return organisation
    }

    func name(_ id: String) -> String? { byId[id]?.name }
}
