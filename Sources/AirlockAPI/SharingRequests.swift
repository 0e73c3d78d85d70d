import AirlockCore
import Foundation

/// `POST /findings`: a finding as filed.
public struct NewFinding: Codable, Sendable {
    public var modelVersionId: String
    public var kind: FindingKind
    /// Absent: `assessment_run` when the evidence links a run and its transcript, else `filed`.
    public var origin: FindingOrigin?
    public var title: String
    public var description: String
    public var affectedProducts: [AffectedProduct]
    /// A CVSS 3.1 (or 3.0) vector, `cvss_v3_1` in JSON.
    public var cvssV3_1: String?
    /// A CVSS 4.0 vector, `cvss_v4_0` in JSON.
    public var cvssV4_0: String?
    public var evidence: [FindingEvidence]
    public var tlp: String?
    public var cwe: CWEReference?
    public var cveId: String?
    public var remediation: String?

    public init(
        modelVersionId: String, kind: FindingKind, origin: FindingOrigin? = nil, title: String, description: String,
        affectedProducts: [AffectedProduct], cvssV3_1: String? = nil, cvssV4_0: String? = nil, evidence: [FindingEvidence],
        tlp: String? = nil, cwe: CWEReference? = nil, cveId: String? = nil, remediation: String? = nil
    ) {
        self.modelVersionId = modelVersionId
        self.kind = kind
        self.origin = origin
        self.title = title
        self.description = description
        self.affectedProducts = affectedProducts
        self.cvssV3_1 = cvssV3_1
        self.cvssV4_0 = cvssV4_0
        self.evidence = evidence
        self.tlp = tlp
        self.cwe = cwe
        self.cveId = cveId
        self.remediation = remediation
    }
}

/// `POST /findings/{id}/merge`.
public struct FindingMerge: Codable, Sendable {
    /// The primary finding the one in the path is a duplicate of.
    public var into: String

    public init(into: String) {
        self.into = into
    }
}

/// `POST /cases`: a disclosure case over findings.
public struct NewCase: Codable, Sendable {
    public var title: String
    public var summary: String?
    public var findingIds: [String]
    public var participants: [CaseParticipant]?
    public var agreedEmbargoEnd: Date?
    public var tlpPlan: [TLPStepRequest]?

    public init(
        title: String, summary: String? = nil, findingIds: [String], participants: [CaseParticipant]? = nil,
        agreedEmbargoEnd: Date? = nil, tlpPlan: [TLPStepRequest]? = nil
    ) {
        self.title = title
        self.summary = summary
        self.findingIds = findingIds
        self.participants = participants
        self.agreedEmbargoEnd = agreedEmbargoEnd
        self.tlpPlan = tlpPlan
    }
}

/// A step of a TLP plan: `{"tlp": "amber", "when": "on_triage"}`, `{"tlp": "green", "when": "at", "date": …}`.
public struct TLPStepRequest: Codable, Sendable {
    public var tlp: String
    /// `immediately`, `at`, `on_triage` or `on_publication`.
    public var when: String
    /// For `at` only.
    public var date: Date?

    public init(tlp: String, when: String, date: Date? = nil) {
        self.tlp = tlp
        self.when = when
        self.date = date
    }
}

/// `POST /cases/{id}/findings`.
public struct NewCaseFinding: Codable, Sendable {
    public var findingId: String

    public init(findingId: String) {
        self.findingId = findingId
    }
}

/// `PUT /cases/{id}/vendor-status`: a vendor's VEX status for the case or one finding.
public struct VendorStatusChange: Codable, Sendable {
    public var status: String
    public var justification: String?
    public var fixedVersion: String?
    public var notes: String?
    public var findingId: String?

    public init(
        status: String, justification: String? = nil, fixedVersion: String? = nil, notes: String? = nil, findingId: String? = nil
    ) {
        self.status = status
        self.justification = justification
        self.fixedVersion = fixedVersion
        self.notes = notes
        self.findingId = findingId
    }
}

/// `POST /cases/{id}/triage`.
public struct CaseTriage: Codable, Sendable {
    public var note: String?

    public init(note: String? = nil) {
        self.note = note
    }
}

/// `POST /cases/{id}/publication`.
public struct CasePublication: Codable, Sendable {
    public var earlyReleaseReason: String?
    /// What changed, for a revision of an advisory already published.
    public var summary: String?

    public init(earlyReleaseReason: String? = nil, summary: String? = nil) {
        self.earlyReleaseReason = earlyReleaseReason
        self.summary = summary
    }
}
