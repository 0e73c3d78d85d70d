import AirlockCore
import Foundation
import SQLKit

/// Findings and disclosure cases are kept as their domain types' JSON, with the columns that
/// queries select on beside them: a case's findings live in `findings` (by `case_id`), its
/// participants also in `case_participants`, so that "the cases I take part in" is one query.
extension ProgramRecords {
    private static let documentEncoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }()

    private static func document(_ value: some Encodable) throws -> String {
        String(decoding: try documentEncoder.encode(value), as: UTF8.self)
    }

    private static func decode<T: Decodable>(_ type: T.Type, _ text: String, id: String) throws -> T {
        do {
            return try JSONDecoder().decode(type, from: Data(text.utf8))
        } catch {
            throw StoreError(.corruptRecord, "the stored document of \(id) cannot be read: \(error)")
        }
    }

    // MARK: Findings

    public func insert(_ finding: Finding, caseId: String?, at date: Date) async throws {
        try await sql.raw("""
            INSERT INTO findings (id, case_id, version_id, reporter_id, kind, tlp, merged_into, document, created_at, updated_at) \
            VALUES (\(bind: finding.id), \(bind: caseId), \(bind: finding.modelVersionId), \(bind: finding.reporterOrganisationId), \
            \(bind: finding.kind.rawValue), \(bind: finding.tlp.rawValue), \(bind: finding.mergedInto), \(bind: try Self.document(finding)), \
            \(bind: date.storedMilliseconds), \(bind: date.storedMilliseconds))
            """).run()
    }

    public func update(_ finding: Finding, caseId: String?, at date: Date) async throws {
        try await sql.raw("""
            UPDATE findings SET case_id = \(bind: caseId), kind = \(bind: finding.kind.rawValue), tlp = \(bind: finding.tlp.rawValue), \
            merged_into = \(bind: finding.mergedInto), document = \(bind: try Self.document(finding)), \
            updated_at = \(bind: date.storedMilliseconds) WHERE id = \(bind: finding.id)
            """).run()
    }

    /// A finding and the case it is in, if any.
    public func finding(id: String) async throws -> (finding: Finding, caseId: String?)? {
        guard let row = try await sql.raw("SELECT document, case_id FROM findings WHERE id = \(bind: id)").first() else { return nil }
        return (try Self.decode(Finding.self, try row.decode(column: "document", as: String.self), id: id), try row.decode(column: "case_id", as: String?.self))
    }

    /// Findings reported by an organisation, or by anyone when `reporterId` is nil, in id order,
    /// each with the case it is in.
    public func findings(reporterId: String?, after cursor: String?, limit: Int) async throws
        -> Page<(finding: Finding, caseId: String?)>
    {
        var query: SQLQueryString = "SELECT id, case_id, document FROM findings WHERE 1 = 1"
        if let reporterId { query = query + " AND reporter_id = \(bind: reporterId)" }
        if let cursor { query = query + " AND id > \(bind: cursor)" }
        let rows = try await sql.raw(query + " ORDER BY id LIMIT \(bind: limit + 1)").all()
        let findings = try rows.prefix(limit).map { row in
            let id = try row.decode(column: "id", as: String.self)
            return (
                finding: try Self.decode(Finding.self, try row.decode(column: "document", as: String.self), id: id),
                caseId: try row.decode(column: "case_id", as: String?.self)
            )
        }
        return Page(items: findings, nextCursor: rows.count > limit ? findings.last?.finding.id : nil)
    }

    // MARK: Cases

    /// Stores a new case; its findings are moved into it.
    public func insert(_ disclosureCase: DisclosureCase, embargoEnd: Date?, at date: Date) async throws {
        var stored = disclosureCase
        stored.findings = []
        try await sql.raw("""
            INSERT INTO disclosure_cases (id, reference, state, embargo_end, document, created_at, updated_at) VALUES \
            (\(bind: disclosureCase.id), \(bind: disclosureCase.reference), \(bind: disclosureCase.state.rawValue), \
            \(bind: embargoEnd?.storedMilliseconds), \(bind: try Self.document(stored)), \(bind: date.storedMilliseconds), \
            \(bind: date.storedMilliseconds))
            """).run()
        try await writeParticipantsAndFindings(of: disclosureCase, at: date)
    }

    /// Stores a changed case: its document, participants and findings.
    public func update(_ disclosureCase: DisclosureCase, embargoEnd: Date?, at date: Date) async throws {
        var stored = disclosureCase
        stored.findings = []
        try await sql.raw("""
            UPDATE disclosure_cases SET state = \(bind: disclosureCase.state.rawValue), embargo_end = \(bind: embargoEnd?.storedMilliseconds), \
            document = \(bind: try Self.document(stored)), updated_at = \(bind: date.storedMilliseconds) WHERE id = \(bind: disclosureCase.id)
            """).run()
        try await sql.raw("DELETE FROM case_participants WHERE case_id = \(bind: disclosureCase.id)").run()
        try await writeParticipantsAndFindings(of: disclosureCase, at: date)
    }

    private func writeParticipantsAndFindings(of disclosureCase: DisclosureCase, at date: Date) async throws {
        for participant in Set(disclosureCase.participants) {
            try await sql.raw("""
                INSERT INTO case_participants (case_id, organisation_id, role) VALUES (\(bind: disclosureCase.id), \
                \(bind: participant.organisationId), \(bind: participant.role.rawValue))
                """).run()
        }
        for finding in disclosureCase.findings {
            if try await self.finding(id: finding.id) == nil {
                try await insert(finding, caseId: disclosureCase.id, at: date)
            } else {
                try await update(finding, caseId: disclosureCase.id, at: date)
            }
        }
    }

    /// A case with its findings.
    public func disclosureCase(id: String) async throws -> DisclosureCase? {
        guard let row = try await sql.raw("SELECT document FROM disclosure_cases WHERE id = \(bind: id)").first() else { return nil }
        var disclosureCase = try Self.decode(DisclosureCase.self, try row.decode(column: "document", as: String.self), id: id)
        disclosureCase.findings = try await sql.raw("SELECT id, document FROM findings WHERE case_id = \(bind: id) ORDER BY id").all().map { row in
            try Self.decode(Finding.self, try row.decode(column: "document", as: String.self), id: try row.decode(column: "id", as: String.self))
        }
        return disclosureCase
    }

    /// The ids of the cases an organisation takes part in (every case when nil), in id order.
    public func disclosureCaseIds(participant organisationId: String?) async throws -> [String] {
        let query: SQLQueryString =
            if let organisationId {
                "SELECT DISTINCT case_id AS id FROM case_participants WHERE organisation_id = \(bind: organisationId) ORDER BY case_id"
            } else {
                "SELECT id FROM disclosure_cases ORDER BY id"
            }
        return try await sql.raw(query).all().map { try $0.decode(column: "id", as: String.self) }
    }

    /// A page of cases an organisation takes part in (every case when nil), in id order, with their findings.
    public func disclosureCases(participant organisationId: String?, after cursor: String?, limit: Int) async throws
        -> Page<DisclosureCase>
    {
        // DISTINCT and the cursor on the same column, so a case in several roles counts once.
        var query: SQLQueryString =
            if let organisationId {
                """
                SELECT id FROM (SELECT DISTINCT case_id AS id FROM case_participants \
                WHERE organisation_id = \(bind: organisationId)) AS mine WHERE 1 = 1
                """
            } else {
                "SELECT id FROM disclosure_cases WHERE 1 = 1"
            }
        if let cursor { query = query + " AND id > \(bind: cursor)" }
        let ids = try await sql.raw(query + " ORDER BY id LIMIT \(bind: limit + 1)").all()
            .map { try $0.decode(column: "id", as: String.self) }
        var cases: [DisclosureCase] = []
        for id in ids.prefix(limit) {
            if let disclosureCase = try await disclosureCase(id: id) { cases.append(disclosureCase) }
        }
        return Page(items: cases, nextCursor: ids.count > limit ? ids[limit - 1] : nil)
    }

    /// Whether an organisation takes part in a case, in any role.
    public func isCaseParticipant(caseId: String, organisationId: String) async throws -> Bool {
        try await sql.raw("""
            SELECT 1 AS found FROM case_participants WHERE case_id = \(bind: caseId) AND organisation_id = \(bind: organisationId)
            """).first() != nil
    }

    /// The organisations with these ids that exist, in the order asked, each once.
    public func organisations(ids: [String]) async throws -> [Organisation] {
        var seen: Set<String> = []
        var found: [Organisation] = []
        for id in ids where seen.insert(id).inserted {
            if let organisation = try await organisation(id: id) { found.append(organisation) }
        }
        return found
    }

    /// The first organisation of a kind, by id: the program office that publishes when a case names none.
    public func firstOrganisation(kind: OrganisationKind) async throws -> Organisation? {
        try await sql.raw("SELECT * FROM organisations WHERE kind = \(bind: kind.rawValue) ORDER BY id LIMIT 1").first()
            .map(Organisation.init(row:))
    }

    /// The next case reference of a year: `AIRLOCK-2026-0001`, `…-0002`, ….
    public func nextCaseReference(year: Int) async throws -> String {
        let prefix = "AIRLOCK-\(year)-"
        let count = try await sql.raw(
            "SELECT COUNT(*) AS count FROM disclosure_cases WHERE reference LIKE \(bind: prefix + "%")"
        ).first()?.decode(column: "count", as: Int.self) ?? 0
        let number = String(count + 1)
        return prefix + String(repeating: "0", count: max(0, 4 - number.count)) + number
    }
}
