import AirlockCore
import Foundation

/// CVSS 3.1 (or 3.0) as the API shows it: the vector and the scores Airlock computed.
public struct CVSS31View: Codable, Sendable {
    public var vector: String
    public var version: String
    public var baseScore: Double
    public var baseSeverity: CVSSSeverity
    public var temporalScore: Double?
    public var environmentalScore: Double?

    public init(
        vector: String, version: String, baseScore: Double, baseSeverity: CVSSSeverity, temporalScore: Double? = nil,
        environmentalScore: Double? = nil
    ) {
        self.vector = vector
        self.version = version
        self.baseScore = baseScore
        self.baseSeverity = baseSeverity
        self.temporalScore = temporalScore
        self.environmentalScore = environmentalScore
    }

    /// The vector and its scores; temporal and environmental scores only where it has those metrics.
    public init(_ cvss: CVSS31) {
        self.init(
            vector: cvss.vector, version: cvss.version.rawValue, baseScore: cvss.baseScore, baseSeverity: cvss.baseSeverity,
            temporalScore: cvss.hasTemporalMetrics ? cvss.temporalScore : nil,
            environmentalScore: cvss.hasEnvironmentalMetrics ? cvss.environmentalScore : nil)
    }
}

/// CVSS 4.0 as the API shows it: the vector, the score Airlock computed and its nomenclature.
public struct CVSS40View: Codable, Sendable {
    public var vector: String
    public var score: Double
    public var severity: CVSSSeverity
    public var nomenclature: String

    public init(vector: String, score: Double, severity: CVSSSeverity, nomenclature: String) {
        self.vector = vector
        self.score = score
        self.severity = severity
        self.nomenclature = nomenclature
    }

    public init(_ cvss: CVSS40) {
        self.init(vector: cvss.vector, score: cvss.score, severity: cvss.severity, nomenclature: cvss.nomenclature.rawValue)
    }
}

/// A finding as the API shows it. Evidence (runs, samples, transcripts) only goes to the
/// reporter and the program office; a case's other participants see the finding without it.
public struct FindingView: Codable, Sendable {
    public var id: String
    public var kind: FindingKind
    public var origin: FindingOrigin
    public var title: String
    public var description: String
    public var modelVersionId: String
    public var reporterOrganisationId: String
    public var reporters: [String]
    public var reportedAt: Date
    public var affectedProducts: [AffectedProduct]
    public var cvssV3_1: CVSS31View?
    public var cvssV4_0: CVSS40View?
    /// The CVSS 4.0 rating when there is a 4.0 vector, else the 3.1 base rating.
    public var severity: CVSSSeverity?
    public var evidence: [FindingEvidence]?
    public var tlp: TrafficLightProtocol
    public var cwe: CWEReference?
    public var cveId: String?
    public var remediation: String?
    public var history: [FindingHistoryEntry]
    public var mergedInto: String?
    public var caseId: String?

    public init(
        id: String, kind: FindingKind, origin: FindingOrigin, title: String, description: String, modelVersionId: String,
        reporterOrganisationId: String, reporters: [String], reportedAt: Date, affectedProducts: [AffectedProduct],
        cvssV3_1: CVSS31View? = nil, cvssV4_0: CVSS40View? = nil, severity: CVSSSeverity? = nil,
        evidence: [FindingEvidence]? = nil, tlp: TrafficLightProtocol, cwe: CWEReference? = nil, cveId: String? = nil,
        remediation: String? = nil, history: [FindingHistoryEntry], mergedInto: String? = nil, caseId: String? = nil
    ) {
        self.id = id
        self.kind = kind
        self.origin = origin
        self.title = title
        self.description = description
        self.modelVersionId = modelVersionId
        self.reporterOrganisationId = reporterOrganisationId
        self.reporters = reporters
        self.reportedAt = reportedAt
        self.affectedProducts = affectedProducts
        self.cvssV3_1 = cvssV3_1
        self.cvssV4_0 = cvssV4_0
        self.severity = severity
        self.evidence = evidence
        self.tlp = tlp
        self.cwe = cwe
        self.cveId = cveId
        self.remediation = remediation
        self.history = history
        self.mergedInto = mergedInto
        self.caseId = caseId
    }

    /// `finding` in `caseId`, with its evidence or without.
    public init(_ finding: Finding, caseId: String?, showEvidence: Bool) {
        self.init(
            id: finding.id, kind: finding.kind, origin: finding.origin, title: finding.title, description: finding.description,
            modelVersionId: finding.modelVersionId, reporterOrganisationId: finding.reporterOrganisationId,
            reporters: finding.reporters, reportedAt: finding.reportedAt, affectedProducts: finding.affectedProducts,
            cvssV3_1: finding.cvss31.map(CVSS31View.init), cvssV4_0: finding.cvss40.map(CVSS40View.init),
            severity: finding.cvss40?.severity ?? finding.cvss31?.baseSeverity, evidence: showEvidence ? finding.evidence : nil,
            tlp: finding.tlp, cwe: finding.cwe, cveId: finding.cveId, remediation: finding.remediation, history: finding.history,
            mergedInto: finding.mergedInto, caseId: caseId)
    }
}

/// A step of a case's TLP plan, and whether it has taken effect.
public struct TLPStepView: Codable, Sendable {
    public var tlp: TrafficLightProtocol
    public var when: String
    public var date: Date?
    /// Whether the step has taken effect.
    public var inEffect: Bool

    public init(tlp: TrafficLightProtocol, when: String, date: Date? = nil, inEffect: Bool) {
        self.tlp = tlp
        self.when = when
        self.date = date
        self.inEffect = inEffect
    }
}

/// A vendor's VEX status in a case, for the case or one finding.
public struct VendorStatusView: Codable, Sendable {
    public var vendorId: String
    public var findingId: String?
    public var status: String
    public var justification: VEXJustification?
    public var notes: String
    public var updatedAt: Date

    public init(
        vendorId: String, findingId: String? = nil, status: String, justification: VEXJustification? = nil, notes: String,
        updatedAt: Date
    ) {
        self.vendorId = vendorId
        self.findingId = findingId
        self.status = status
        self.justification = justification
        self.notes = notes
        self.updatedAt = updatedAt
    }
}

/// A case as its participants see it: the embargo end and the TLP in force, the plan, the
/// participants, the findings and every vendor's status.
public struct CaseView: Codable, Sendable {
    public var id: String
    public var reference: String
    public var title: String
    public var summary: String
    public var state: PublicationState
    public var reportedAt: Date
    public var agreedEmbargoEnd: Date?
    /// The embargo end in force; absent while it waits for a model release that is not set.
    public var embargoEnd: Date?
    public var embargoWaitsForModelRelease: Bool
    public var tlp: TrafficLightProtocol
    public var tlpPlan: [TLPStepView]
    public var triagedAt: Date?
    public var publishedAt: Date?
    public var earlyReleaseReason: String?
    public var participants: [CaseParticipant]
    public var findings: [FindingView]
    public var vendorStatuses: [VendorStatusView]
    public var advisoryRevisions: [AdvisoryRevision]
    /// The case's TAXII collection, which its participants read.
    public var taxiiCollectionId: String

    public init(
        id: String, reference: String, title: String, summary: String, state: PublicationState, reportedAt: Date,
        agreedEmbargoEnd: Date? = nil, embargoEnd: Date? = nil, embargoWaitsForModelRelease: Bool, tlp: TrafficLightProtocol,
        tlpPlan: [TLPStepView], triagedAt: Date? = nil, publishedAt: Date? = nil, earlyReleaseReason: String? = nil,
        participants: [CaseParticipant], findings: [FindingView], vendorStatuses: [VendorStatusView],
        advisoryRevisions: [AdvisoryRevision], taxiiCollectionId: String
    ) {
        self.id = id
        self.reference = reference
        self.title = title
        self.summary = summary
        self.state = state
        self.reportedAt = reportedAt
        self.agreedEmbargoEnd = agreedEmbargoEnd
        self.embargoEnd = embargoEnd
        self.embargoWaitsForModelRelease = embargoWaitsForModelRelease
        self.tlp = tlp
        self.tlpPlan = tlpPlan
        self.triagedAt = triagedAt
        self.publishedAt = publishedAt
        self.earlyReleaseReason = earlyReleaseReason
        self.participants = participants
        self.findings = findings
        self.vendorStatuses = vendorStatuses
        self.advisoryRevisions = advisoryRevisions
        self.taxiiCollectionId = taxiiCollectionId
    }

    /// `disclosureCase` at `now`, with the embargo end in force and its TAXII collection's id.
    public init(
        _ disclosureCase: DisclosureCase, embargoEnd: Date?, showEvidence: Bool, taxiiCollectionId: String, now: Date
    ) {
        let plan = disclosureCase.tlpPlan.map { step in
            let (when, date): (String, Date?) =
                switch step.trigger {
                case .immediately: ("immediately", nil)
                case .at(let date): ("at", date)
                case .onTriage: ("on_triage", nil)
                case .onPublication: ("on_publication", nil)
                }
            return TLPStepView(tlp: step.tlp, when: when, date: date, inEffect: disclosureCase.hasTakenEffect(step, at: now))
        }
        let statuses = disclosureCase.vendorStatements.map { statement in
            var justification: VEXJustification?
            if case .notAffected(let why) = statement.status { justification = why }
            return VendorStatusView(
                vendorId: statement.vendorId, findingId: statement.findingId, status: statement.status.name,
                justification: justification, notes: statement.notes, updatedAt: statement.updatedAt)
        }
        self.init(
            id: disclosureCase.id, reference: disclosureCase.reference, title: disclosureCase.title,
            summary: disclosureCase.summary, state: disclosureCase.state, reportedAt: disclosureCase.reportedAt,
            agreedEmbargoEnd: disclosureCase.agreedEmbargoEnd, embargoEnd: embargoEnd,
            embargoWaitsForModelRelease: embargoEnd == nil, tlp: disclosureCase.tlp(at: now), tlpPlan: plan,
            triagedAt: disclosureCase.triagedAt, publishedAt: disclosureCase.publishedAt,
            earlyReleaseReason: disclosureCase.earlyReleaseReason, participants: disclosureCase.participants,
            findings: disclosureCase.findings.map { FindingView($0, caseId: disclosureCase.id, showEvidence: showEvidence) },
            vendorStatuses: statuses, advisoryRevisions: disclosureCase.advisoryRevisions, taxiiCollectionId: taxiiCollectionId)
    }
}

/// A case in a list.
public struct CaseSummary: Codable, Sendable {
    public var id: String
    public var reference: String
    public var title: String
    public var state: PublicationState
    public var tlp: TrafficLightProtocol
    public var reportedAt: Date
    public var embargoEnd: Date?
    public var findingCount: Int

    public init(
        id: String, reference: String, title: String, state: PublicationState, tlp: TrafficLightProtocol, reportedAt: Date,
        embargoEnd: Date? = nil, findingCount: Int
    ) {
        self.id = id
        self.reference = reference
        self.title = title
        self.state = state
        self.tlp = tlp
        self.reportedAt = reportedAt
        self.embargoEnd = embargoEnd
        self.findingCount = findingCount
    }
}

/// A VEX document of one vendor, in the list of a case's VEX documents.
public struct VEXDocumentView: Codable, Sendable {
    public var vendorId: String
    public var trackingId: String
    public var fileName: String
    public var url: String
    public var tlp: TrafficLightProtocol
    public var document: JSONValue

    public init(
        vendorId: String, trackingId: String, fileName: String, url: String, tlp: TrafficLightProtocol, document: JSONValue
    ) {
        self.vendorId = vendorId
        self.trackingId = trackingId
        self.fileName = fileName
        self.url = url
        self.tlp = tlp
        self.document = document
    }
}
