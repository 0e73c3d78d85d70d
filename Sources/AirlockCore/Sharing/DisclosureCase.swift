import Foundation

/// The part an organisation plays in a disclosure case.
public enum CaseRole: String, Sendable, Hashable, Codable, CaseIterable {
    /// Filed the finding or ran the assessment that found it.
    case reporter
    /// Makes an affected product and is asked to fix it.
    case vendor
    /// Runs an affected product and needs to act before publication.
    case affectedOperator = "affected_operator"
    /// Built the model that found or exhibits the finding.
    case modelDeveloper = "model_developer"
    /// Coordinates the case and publishes the advisory.
    case programOffice = "program_office"
}

/// An organisation in a case, in one role (an organisation may appear once per role).
public struct CaseParticipant: Sendable, Hashable, Codable {
    /// The organisation's Airlock id.
    public var organisationId: String
    /// The part it plays.
    public var role: CaseRole

    public init(organisationId: String, role: CaseRole) {
        self.organisationId = organisationId
        self.role = role
    }
}

/// Why a product is not affected: CSAF 2.0's VEX flag labels (§3.2.3.5), as CISA's VEX
/// minimum requirements name them.
public enum VEXJustification: String, Sendable, Hashable, Codable, CaseIterable {
    case componentNotPresent = "component_not_present"
    case vulnerableCodeNotPresent = "vulnerable_code_not_present"
    case vulnerableCodeNotInExecutePath = "vulnerable_code_not_in_execute_path"
    case vulnerableCodeCannotBeControlledByAdversary = "vulnerable_code_cannot_be_controlled_by_adversary"
    case inlineMitigationsAlreadyExist = "inline_mitigations_already_exist"
}

/// A vendor's status for its products in a case. A "not affected" status always carries its
/// justification, since a VEX statement without one is not accepted.
public enum VendorStatus: Sendable, Hashable, Codable {
    case affected
    case notAffected(VEXJustification)
    case fixed
    case underInvestigation

    /// The status's name in the API and in records.
    public var name: String {
        switch self {
        case .affected: "affected"
        case .notAffected: "not_affected"
        case .fixed: "fixed"
        case .underInvestigation: "under_investigation"
        }
    }

    private enum CodingKeys: String, CodingKey { case status, justification }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let status = try container.decode(String.self, forKey: .status)
        switch status {
        case "affected": self = .affected
        case "fixed": self = .fixed
        case "under_investigation": self = .underInvestigation
        case "not_affected": self = .notAffected(try container.decode(VEXJustification.self, forKey: .justification))
        default:
            throw DecodingError.dataCorruptedError(
                forKey: .status, in: container,
                debugDescription: "unknown vendor status \"\(status)\" (affected, not_affected, fixed, under_investigation)")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(name, forKey: .status)
        if case .notAffected(let justification) = self {
            try container.encode(justification, forKey: .justification)
        }
    }
}

/// What a vendor says about its products: a status, notes, and when it last changed.
public struct VendorStatement: Sendable, Hashable, Codable {
    /// The vendor's organisation (a participant as vendor or model developer).
    public var vendorId: String
    /// The finding the statement is about; nil for every finding of the case.
    public var findingId: String?
    /// What the vendor says of its products in the finding(s).
    public var status: VendorStatus
    /// The vendor's words for the advisory: the fix, why it is not affected.
    public var notes: String
    /// When the vendor last changed the statement.
    public var updatedAt: Date

    public init(vendorId: String, findingId: String? = nil, status: VendorStatus, notes: String, updatedAt: Date) {
        self.vendorId = vendorId
        self.findingId = findingId
        self.status = status
        self.notes = notes
        self.updatedAt = updatedAt
    }
}

/// Where a case stands: being put together, shared under embargo, or public. Moves forward only.
public enum PublicationState: String, Sendable, Hashable, Codable, CaseIterable {
    /// Being triaged; nothing has gone to vendors yet.
    case draft
    /// Shared with the case's participants, who may act but not disclose.
    case embargoed
    /// Published: the advisory, VEX documents, CVE record and STIX objects are out. Final.
    case published
}

/// One step of a case's planned TLP step-down: a marking and when it takes effect.
public struct TLPStep: Sendable, Hashable, Codable {
    /// When a step takes effect.
    public enum Trigger: Sendable, Hashable, Codable {
        /// From the case's start.
        case immediately
        /// From a date.
        case at(Date)
        /// Once the program office has triaged the case.
        case onTriage
        /// Once the case is published.
        case onPublication

        private enum CodingKeys: String, CodingKey { case when, date }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            switch try container.decode(String.self, forKey: .when) {
            case "immediately": self = .immediately
            case "on_triage": self = .onTriage
            case "on_publication": self = .onPublication
            case "at": self = .at(try container.decode(Date.self, forKey: .date))
            case let other:
                throw DecodingError.dataCorruptedError(
                    forKey: .when, in: container,
                    debugDescription: "unknown trigger \"\(other)\" (immediately, at, on_triage, on_publication)")
            }
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            switch self {
            case .immediately: try container.encode("immediately", forKey: .when)
            case .onTriage: try container.encode("on_triage", forKey: .when)
            case .onPublication: try container.encode("on_publication", forKey: .when)
            case .at(let date):
                try container.encode("at", forKey: .when)
                try container.encode(date, forKey: .date)
            }
        }
    }

    /// The marking from this step on.
    public var tlp: TrafficLightProtocol
    /// When the step takes effect.
    public var trigger: Trigger

    public init(_ tlp: TrafficLightProtocol, _ trigger: Trigger) {
        self.tlp = tlp
        self.trigger = trigger
    }
}

/// A revision of the published advisory: CSAF's revision history, numbered from 1.
public struct AdvisoryRevision: Sendable, Hashable, Codable {
    /// The revision number, as CSAF's integer versioning counts.
    public var number: Int
    /// When the revision was released.
    public var date: Date
    /// What changed, for readers of the advisory.
    public var summary: String

    public init(number: Int, date: Date, summary: String) {
        self.number = number
        self.date = date
        self.summary = summary
    }
}

/// A coordinated disclosure case: findings, the organisations that take part, what each vendor
/// says, the embargo, the planned TLP step-down and the publication.
///
/// Pure rules, no I/O: the server loads a case, applies one change, and stores it with an audit
/// entry. Only participants see a case (``SharingAccess``).
public struct DisclosureCase: Sendable, Hashable, Codable {
    /// The case's Airlock id.
    public var id: String
    /// The case's public reference (`AIRLOCK-2026-0007`), which is also the advisory's tracking id.
    public var reference: String
    /// The case's title, used in the advisory's title.
    public var title: String
    /// A summary for the advisory, written for the public.
    public var summary: String
    /// Every finding, merged duplicates included (they stay for the record).
    public var findings: [Finding]
    /// The organisations in the case and their roles; only they see it.
    public var participants: [CaseParticipant]
    /// What each vendor says, per finding or for the whole case.
    public var vendorStatements: [VendorStatement]
    /// When the case was first reported: the embargo clock starts here.
    public var reportedAt: Date
    /// An embargo end the participants agreed on; nil for the default of 45 days.
    public var agreedEmbargoEnd: Date?
    /// The planned TLP step-down, strictest first.
    public var tlpPlan: [TLPStep]
    /// Draft, under embargo, or published.
    public var state: PublicationState
    /// When the program office triaged the case (the plan's "on triage" step).
    public var triagedAt: Date?
    /// When the case was published.
    public var publishedAt: Date?
    /// Why the case was published before its embargo ended, when it was.
    public var earlyReleaseReason: String?
    /// The published advisory's revisions, from 1; empty until publication.
    public var advisoryRevisions: [AdvisoryRevision]

    public init(
        id: String, reference: String, title: String, summary: String, findings: [Finding] = [],
        participants: [CaseParticipant] = [], vendorStatements: [VendorStatement] = [], reportedAt: Date,
        agreedEmbargoEnd: Date? = nil, tlpPlan: [TLPStep] = DisclosureCase.defaultTLPPlan, state: PublicationState = .draft,
        triagedAt: Date? = nil, publishedAt: Date? = nil, earlyReleaseReason: String? = nil,
        advisoryRevisions: [AdvisoryRevision] = []
    ) {
        self.id = id
        self.reference = reference
        self.title = title
        self.summary = summary
        self.findings = findings
        self.participants = participants
        self.vendorStatements = vendorStatements
        self.reportedAt = reportedAt
        self.agreedEmbargoEnd = agreedEmbargoEnd
        self.tlpPlan = tlpPlan
        self.state = state
        self.triagedAt = triagedAt
        self.publishedAt = publishedAt
        self.earlyReleaseReason = earlyReleaseReason
        self.advisoryRevisions = advisoryRevisions
    }

    // MARK: Embargo

    /// CERT/CC's default: public 45 days after the report, negotiable either way.
    public static let defaultEmbargoDays = 45

    /// The default embargo end for a report at `reportedAt`: 45 days later.
    public static func defaultEmbargoEnd(reportedAt: Date) -> Date {
        reportedAt.addingTimeInterval(Double(defaultEmbargoDays) * 86_400)
    }

    /// Whether any active finding is about the model itself.
    public var concernsModel: Bool { activeFindings.contains { $0.kind.isAboutModel } }

    /// The embargo end in force: the agreed end, or 45 days from the report; and when a finding
    /// is about the model, never before the model's public release.
    ///
    /// `modelPublicRelease` is the model's public release date (planned or actual), nil while
    /// none is set. nil comes back when the case concerns the model and its release is not set:
    /// the embargo then holds until it is, because publishing a weakness of an unreleased model
    /// would disclose the model.
    public func embargoEnd(modelPublicRelease: Date?) -> Date? {
        let end = agreedEmbargoEnd ?? Self.defaultEmbargoEnd(reportedAt: reportedAt)
        guard concernsModel else { return end }
        guard let modelPublicRelease else { return nil }
        return max(end, modelPublicRelease)
    }

    // MARK: TLP step-down

    /// The plan of the issue: RED from the start, AMBER once triaged (so vendors can act,
    /// as CERT/CC advises), CLEAR on publication.
    public static let defaultTLPPlan: [TLPStep] = [TLPStep(.red, .immediately), TLPStep(.amber, .onTriage), TLPStep(.clear, .onPublication)]

    /// Whether `step` has taken effect at `date`.
    public func hasTakenEffect(_ step: TLPStep, at date: Date) -> Bool {
        switch step.trigger {
        case .immediately: return true
        case .at(let start): return date >= start
        case .onTriage: return triagedAt.map { date >= $0 } ?? false
        case .onPublication: return state == .published && (publishedAt.map { date >= $0 } ?? false)
        }
    }

    /// The case's marking at `date`: the least restrictive step that has taken effect. A plan
    /// with no step in effect (an invalid one) gives RED, the safe side.
    public func tlp(at date: Date) -> TrafficLightProtocol {
        tlpPlan.filter { hasTakenEffect($0, at: date) }.map(\.tlp).min() ?? .red
    }

    /// A finding's marking at `date`.
    ///
    /// Before publication it is never below the reporter's own marking (sharing wider than a
    /// label needs the source's permission); once published, the plan's marking applies.
    public func tlp(for finding: Finding, at date: Date) -> TrafficLightProtocol {
        let plan = tlp(at: date)
        let isPublic = state == .published && (publishedAt.map { date >= $0 } ?? false)
        return isPublic ? plan : max(plan, finding.tlp)
    }

    // MARK: Participants and findings

    /// Findings that still count: merged duplicates left out.
    public var activeFindings: [Finding] { findings.filter(\.isActive) }

    /// The roles an organisation holds in the case; empty when it does not take part.
    public func roles(of organisationId: String) -> Set<CaseRole> {
        Set(participants.filter { $0.organisationId == organisationId }.map(\.role))
    }

    /// Whether an organisation takes part in the case in any role.
    public func isParticipant(_ organisationId: String) -> Bool {
        participants.contains { $0.organisationId == organisationId }
    }

    /// Adds an organisation in a role; adding it twice in the same role changes nothing.
    public mutating func add(_ participant: CaseParticipant) {
        if !participants.contains(participant) { participants.append(participant) }
    }

    /// Adds a finding after checking it.
    public mutating func add(_ finding: Finding) throws(ProgramRuleError) {
        guard state != .published else {
            throw ProgramRuleError(.invalidTransition, "a published case takes no new findings; open a new case", field: "finding")
        }
        guard !findings.contains(where: { $0.id == finding.id }) else {
            throw ProgramRuleError(.conflict, "the case already has finding \(finding.id)", field: "id")
        }
        try finding.validate()
        findings.append(finding)
        reportedAt = min(reportedAt, finding.reportedAt)
    }

    /// Merges one finding of the case into another as its duplicate (``Finding/merge(duplicate:at:by:)``).
    public mutating func mergeFinding(_ duplicateId: String, into primaryId: String, at date: Date, by organisationId: String)
        throws(ProgramRuleError)
    {
        guard let primaryIndex = findings.firstIndex(where: { $0.id == primaryId }) else {
            throw ProgramRuleError(.invalidField, "no finding \(primaryId) in this case", field: "primary_id")
        }
        guard let duplicateIndex = findings.firstIndex(where: { $0.id == duplicateId }) else {
            throw ProgramRuleError(.invalidField, "no finding \(duplicateId) in this case", field: "duplicate_id")
        }
        var primary = findings[primaryIndex]
        var duplicate = findings[duplicateIndex]
        try primary.merge(duplicate: &duplicate, at: date, by: organisationId)
        findings[primaryIndex] = primary
        findings[duplicateIndex] = duplicate
        // Statements about the duplicate now speak about the primary, unless the vendor said something about it already.
        for index in vendorStatements.indices where vendorStatements[index].findingId == duplicateId {
            let vendor = vendorStatements[index].vendorId
            if !vendorStatements.contains(where: { $0.vendorId == vendor && $0.findingId == primaryId }) {
                vendorStatements[index].findingId = primaryId
            }
        }
        vendorStatements.removeAll { $0.findingId == duplicateId }
    }

    // MARK: Vendor statements

    /// Records a vendor's statement, replacing its earlier one on the same finding (or on the whole case).
    public mutating func record(_ statement: VendorStatement) throws(ProgramRuleError) {
        let roles = roles(of: statement.vendorId)
        guard roles.contains(.vendor) || roles.contains(.modelDeveloper) else {
            throw ProgramRuleError(
                .invalidField, "\(statement.vendorId) is not a vendor or the model developer in this case", field: "vendor_id")
        }
        if let findingId = statement.findingId, !activeFindings.contains(where: { $0.id == findingId }) {
            throw ProgramRuleError(.invalidField, "no active finding \(findingId) in this case", field: "finding_id")
        }
        if statement.notes.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty, statement.status != .underInvestigation {
            throw ProgramRuleError(.invalidField, "a statement of \(statement.status.name) needs notes for the advisory", field: "notes")
        }
        vendorStatements.removeAll { $0.vendorId == statement.vendorId && $0.findingId == statement.findingId }
        vendorStatements.append(statement)
    }

    /// The vendor's statement that applies to a finding: one about that finding, else one about the whole case.
    public func statement(of vendorId: String, for findingId: String) -> VendorStatement? {
        vendorStatements.first { $0.vendorId == vendorId && $0.findingId == findingId }
            ?? vendorStatements.first { $0.vendorId == vendorId && $0.findingId == nil }
    }

    // MARK: Publication

    /// The office has triaged the case: the plan's "on triage" step takes effect.
    public mutating func markTriaged(at date: Date) throws(ProgramRuleError) {
        guard triagedAt == nil else { throw ProgramRuleError(.conflict, "the case is already triaged", field: "triaged_at") }
        triagedAt = date
    }

    /// The case goes to its participants under embargo.
    public mutating func beginEmbargo(at date: Date) throws(ProgramRuleError) {
        guard state == .draft else {
            throw ProgramRuleError(
                .invalidTransition, "cannot move from \(state.rawValue) to embargoed: only a draft case can", field: "state")
        }
        guard !activeFindings.isEmpty else {
            throw ProgramRuleError(.invalidField, "a case goes under embargo with at least one finding", field: "findings")
        }
        state = .embargoed
    }

    /// Publishes the case at `date`.
    ///
    /// Before the embargo end in force (``embargoEnd(modelPublicRelease:)``) — or while it is
    /// unknown because the model's release is not set — publication needs an explicit reason
    /// (active exploitation, an unresponsive vendor, …), which is kept with the case.
    public mutating func publish(at date: Date, modelPublicRelease: Date?, earlyReleaseReason reason: String? = nil)
        throws(ProgramRuleError)
    {
        guard state == .embargoed else {
            throw ProgramRuleError(
                .invalidTransition, "cannot move from \(state.rawValue) to published: only an embargoed case can", field: "state")
        }
        let reason = reason?.trimmingCharacters(in: .whitespacesAndNewlines)
        let end = embargoEnd(modelPublicRelease: modelPublicRelease)
        let early = end.map { date < $0 } ?? true
        if early, reason?.isEmpty ?? true {
            let why = end.map { "the embargo runs until \(RFC3339.format($0))" }
                ?? "the embargo holds until the model's public release, which is not set"
            throw ProgramRuleError(
                .invalidWindow, "\(why); publishing earlier needs an early-release reason", field: "early_release_reason")
        }
        state = .published
        publishedAt = date
        earlyReleaseReason = early ? reason : nil
        advisoryRevisions = [AdvisoryRevision(number: 1, date: date, summary: "Initial public release.")]
    }

    /// Records a revision of the published advisory (a vendor fixed, a CVE was assigned).
    public mutating func recordAdvisoryRevision(at date: Date, summary: String) throws(ProgramRuleError) {
        guard state == .published, let last = advisoryRevisions.last else {
            throw ProgramRuleError(.invalidTransition, "only a published case has advisory revisions", field: "state")
        }
        guard date > last.date else {
            throw ProgramRuleError(.invalidField, "a revision must come after revision \(last.number)", field: "date")
        }
        guard !summary.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw ProgramRuleError(.invalidField, "a revision needs a summary", field: "summary")
        }
        advisoryRevisions.append(AdvisoryRevision(number: last.number + 1, date: date, summary: summary))
    }

    // MARK: Validation

    /// Checks the whole case; the error names the first field at fault (`findings[0].title`, `tlp_plan[2]`).
    public func validate() throws(ProgramRuleError) {
        func invalid(_ field: String, _ reason: String) -> ProgramRuleError { ProgramRuleError(.invalidField, reason, field: field) }
        if id.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { throw invalid("id", "a case needs an id") }
        // CSAF tracking ids have no leading or trailing white space and are not empty.
        if reference.isEmpty || reference.trimmingCharacters(in: .whitespacesAndNewlines) != reference {
            throw invalid("reference", "a case reference is not empty and has no leading or trailing spaces")
        }
        if title.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { throw invalid("title", "a case needs a title") }
        for (index, finding) in findings.enumerated() {
            do {
                try finding.validate()
            } catch {
                throw ProgramRuleError(error.code, error.reason, field: "findings[\(index)]" + (error.field.map { ".\($0)" } ?? ""))
            }
        }
        if let end = agreedEmbargoEnd, end <= reportedAt {
            throw invalid("agreed_embargo_end", "the embargo must end after the report")
        }
        try Self.validate(plan: tlpPlan)
        for (index, statement) in vendorStatements.enumerated() {
            let roles = roles(of: statement.vendorId)
            if !(roles.contains(.vendor) || roles.contains(.modelDeveloper)) {
                throw invalid(
                    "vendor_statements[\(index)].vendor_id", "\(statement.vendorId) is not a vendor or the model developer in this case")
            }
        }
    }

    /// Checks a step-down plan: it starts immediately, each step is less restrictive than the one
    /// before, dates rise, and publication, if planned, comes last.
    public static func validate(plan: [TLPStep]) throws(ProgramRuleError) {
        guard let first = plan.first else {
            throw ProgramRuleError(.invalidField, "a case needs a TLP plan with at least its starting marking", field: "tlp_plan")
        }
        guard first.trigger == .immediately else {
            throw ProgramRuleError(.invalidField, "the first step of a TLP plan applies immediately", field: "tlp_plan[0]")
        }
        var lastDate: Date?
        for index in plan.indices.dropFirst() {
            let step = plan[index]
            let field = "tlp_plan[\(index)]"
            guard step.tlp < plan[index - 1].tlp else {
                throw ProgramRuleError(
                    .invalidField, "a step-down goes to a less restrictive marking than \(plan[index - 1].tlp.label)", field: field)
            }
            switch step.trigger {
            case .immediately:
                throw ProgramRuleError(.invalidField, "only the first step applies immediately", field: field)
            case .at(let date):
                if let lastDate, date <= lastDate { throw ProgramRuleError(.invalidField, "dated steps come in date order", field: field) }
                lastDate = date
            case .onTriage:
                if plan[..<index].contains(where: { $0.trigger == .onTriage }) {
                    throw ProgramRuleError(.invalidField, "a plan has one step on triage", field: field)
                }
            case .onPublication:
                if index != plan.count - 1 {
                    throw ProgramRuleError(.invalidField, "the step on publication is the last step", field: field)
                }
            }
        }
    }
}
