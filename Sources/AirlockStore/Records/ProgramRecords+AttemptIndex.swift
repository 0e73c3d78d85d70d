import AirlockCore
import Foundation
import SQLKit

/// Which of a run's results a list shows, and in what order: what the samples page and the
/// API's attempt list read from their URL.
public struct AttemptSelection: Sendable, Hashable {
    public enum Order: String, Sendable, Hashable, CaseIterable {
        /// By sample, then epoch (the default).
        case sample
        /// By the scorer's value, lowest first, then by sample and epoch; or all of it reversed
        /// (highest first, ties by sample and epoch, last first), so that either is an index's order.
        case score
        case scoreDescending = "-score"
        /// In the order the results were kept, first first or newest first.
        case kept
        case keptDescending = "-kept"
    }

    /// `scored` or `failed`.
    public var status: String?
    public var failureCause: String?
    public var epoch: Int?
    /// The scorer whose value is shown, filtered on and sorted by.
    public var scorer: String?
    public var minimumScore: Double?
    public var maximumScore: Double?
    /// A metadata field and the value (as text) it must have.
    public var metadataKey: String?
    public var metadataValue: String?
    /// Words every result shown contains, anywhere in its transcript.
    public var text: String?
    public var order: Order

    public init(
        status: String? = nil, failureCause: String? = nil, epoch: Int? = nil, scorer: String? = nil, minimumScore: Double? = nil,
        maximumScore: Double? = nil, metadataKey: String? = nil, metadataValue: String? = nil, text: String? = nil, order: Order = .sample
    ) {
        self.status = status
        self.failureCause = failureCause
        self.epoch = epoch
        self.scorer = scorer
        self.minimumScore = minimumScore
        self.maximumScore = maximumScore
        self.metadataKey = metadataKey
        self.metadataValue = metadataValue
        self.text = text
        self.order = order
    }

    /// Whether only results with the scorer's value can be shown.
    var needsScore: Bool { minimumScore != nil || maximumScore != nil || order == .score || order == .scoreDescending }
}

/// Where a page of results ends: the last one's place in the page's order.
public struct AttemptCursor: Sendable, Hashable, Codable {
    public var sampleId: String
    public var epoch: Int
    public var score: Double?
    public var keptOrder: Int?

    public init(sampleId: String, epoch: Int, score: Double? = nil, keptOrder: Int? = nil) {
        self.sampleId = sampleId
        self.epoch = epoch
        self.score = score
        self.keptOrder = keptOrder
    }
}

/// One result in a list: without its record, with the selected scorer's value and its failure's cause.
public struct AttemptRow: Sendable, Hashable {
    public var attempt: StoredAttempt
    public var keptOrder: Int
    public var score: Double?
    public var failureCause: String?

    public init(attempt: StoredAttempt, keptOrder: Int, score: Double?, failureCause: String?) {
        self.attempt = attempt
        self.keptOrder = keptOrder
        self.score = score
        self.failureCause = failureCause
    }

    /// Where a page that ends with this row ends.
    public func cursor(_ order: AttemptSelection.Order) -> AttemptCursor {
        AttemptCursor(
            sampleId: attempt.sampleId, epoch: attempt.epoch, score: [.score, .scoreDescending].contains(order) ? score : nil,
            keptOrder: [.kept, .keptDescending].contains(order) ? keptOrder : nil)
    }
}

/// The fields a run's results were found to have: what its sample list can filter on.
public struct AttemptFields: Sendable, Hashable {
    public var scorers: [String] = []
    public var failureCauses: [String] = []
    public var metadataKeys: [String] = []
}

extension ProgramRecords {
    /// Indexes a kept result's facts, and notes its fields (and failure cause) on the run.
    func index(runId: String, key: SampleKey, _ facts: AttemptFacts) async throws {
        for value in facts.values {
            try await sql.raw("""
                INSERT INTO run_attempt_values (run_id, sample_id, epoch, field, text_value, number_value) \
                VALUES (\(bind: runId), \(bind: key.sampleID), \(bind: key.epoch), \(bind: value.field), \(bind: value.text), \(bind: value.number)) \
                ON CONFLICT (run_id, sample_id, epoch, field) DO NOTHING
                """).run()
            let field = value.field == AttemptFacts.failureField ? value.field + ":" + (value.text ?? "") : value.field
            try await sql.raw("INSERT INTO run_attempt_fields (run_id, field) VALUES (\(bind: runId), \(bind: field)) ON CONFLICT (run_id, field) DO NOTHING").run()
        }
        switch flavour {
        case .sqlite:
            try await sql.raw("""
                INSERT INTO run_attempt_search (body, run_id, sample_id, epoch) \
                VALUES (\(bind: facts.searchText), \(bind: runId), \(bind: key.sampleID), \(bind: key.epoch))
                """).run()
            // The store's one SQLite connection made that row just now.
            try await sql.raw("""
                UPDATE run_attempts SET search_id = last_insert_rowid() \
                WHERE run_id = \(bind: runId) AND sample_id = \(bind: key.sampleID) AND epoch = \(bind: key.epoch)
                """).run()
        case .postgres:
            try await sql.raw("""
                INSERT INTO run_attempt_search (run_id, sample_id, epoch, body) \
                VALUES (\(bind: runId), \(bind: key.sampleID), \(bind: key.epoch), to_tsvector('simple', \(bind: facts.searchText))) \
                ON CONFLICT (run_id, sample_id, epoch) DO NOTHING
                """).run()
        }
    }

    /// Indexes up to `limit` results kept before results were indexed (schema version 9);
    /// how many it indexed, 0 when none is left.
    public func indexUnindexedAttempts(limit: Int) async throws -> Int {
        let rows = try await sql.raw("""
            SELECT run_id, sample_id, epoch, record, record_encoding FROM run_attempts WHERE indexed = 0 LIMIT \(unsafeRaw: String(limit))
            """).all()
        for row in rows {
            let runId = try row.decode(column: "run_id", as: String.self)
            let key = SampleKey(sampleID: try row.decode(column: "sample_id", as: String.self), epoch: try row.decode(column: "epoch", as: Int.self))
            // A record that cannot be read is indexed as having nothing: reading it says why.
            let record = (try? StoredRecord.decode(
                try row.decode(column: "record", as: String.self), encoding: try row.decode(column: "record_encoding", as: String.self),
                what: "")) ?? ""
            try await index(runId: runId, key: key, AttemptFacts(record: record))
            try await sql.raw("""
                UPDATE run_attempts SET indexed = 1 WHERE run_id = \(bind: runId) AND sample_id = \(bind: key.sampleID) AND epoch = \(bind: key.epoch)
                """).run()
        }
        return rows.count
    }

    /// The scorers, failure causes and metadata fields a run's results have, by name; at most
    /// 200 of each.
    public func attemptFields(runId: String) async throws -> AttemptFields {
        var fields = AttemptFields()
        for row in try await sql.raw("SELECT field FROM run_attempt_fields WHERE run_id = \(bind: runId) ORDER BY field").all() {
            let field = try row.decode(column: "field", as: String.self)
            func after(_ prefix: String) -> String? { field.hasPrefix(prefix) ? String(field.dropFirst(prefix.count)) : nil }
            if let scorer = after("score:"), fields.scorers.count < 200 {
                fields.scorers.append(scorer)
            } else if let cause = after(AttemptFacts.failureField + ":"), fields.failureCauses.count < 200 {
                fields.failureCauses.append(cause)
            } else if let key = after("metadata:"), fields.metadataKeys.count < 200 {
                fields.metadataKeys.append(key)
            }
        }
        return fields
    }

    /// Each sample's values of a scorer in a run (one per epoch scored): what two runs are compared by.
    public func scoreValues(runId: String, scorer: String) async throws -> [String: [Double]] {
        var values: [String: [Double]] = [:]
        for row in try await sql.raw("""
            SELECT sample_id, number_value FROM run_attempt_values WHERE run_id = \(bind: runId) AND field = \(bind: AttemptFacts.scoreField(scorer)) \
            AND number_value IS NOT NULL
            """).all() {
            values[try row.decode(column: "sample_id", as: String.self), default: []].append(try row.decode(column: "number_value", as: Double.self))
        }
        return values
    }

    /// A page of a run's results as selected, after `cursor` in the selection's order. Each
    /// filter is a condition on an indexed column, and the order is the index's, so a page
    /// costs about its own rows however deep it is (with `text`, the search's matches). The
    /// records are left empty unless asked for.
    public func attempts(
        runId: String, selection: AttemptSelection, after cursor: AttemptCursor?, limit: Int, records: Bool = false
    ) async throws -> [AttemptRow] {
        let scoreField = AttemptFacts.scoreField(selection.scorer ?? "")
        let byScore = [.score, .scoreDescending].contains(selection.order)
        // SQLite never reorders a CROSS JOIN: the table that leads is the one whose index gives
        // the order asked for (PostgreSQL's planner is left to choose).
        let inOrder: SQLQueryString = flavour == .sqlite ? " CROSS JOIN " : " JOIN "
        var query: SQLQueryString = """
            SELECT a.run_id, a.sample_id, a.epoch, a.status, a.gateway_calls, a.worker, a.created_at, a.kept_order, \
            s.number_value AS score, f.text_value AS failure_cause
            """
        if records { query = query + ", a.record, a.record_encoding" }
        var search: SearchPlan?
        if let text = selection.text { search = try await searchPlan(runId: runId, text) }
        let scoreOn: SQLQueryString = """
            run_attempt_values s ON s.run_id = a.run_id AND s.sample_id = a.sample_id AND s.epoch = a.epoch AND s.field = \(bind: scoreField)
            """
        if case .leads(let matches)? = search {
            // A few matches lead, looked up by their search row; the page sorts them.
            query = query + " FROM (" + matches + ") matched CROSS JOIN run_attempts a ON a.search_id = matched.search_id"
                + (selection.needsScore || byScore ? " JOIN " : " LEFT JOIN ") + scoreOn
        } else if byScore {
            // The scores lead, in the order of their index (run, field, value, sample, epoch).
            query = query + " FROM run_attempt_values s" + inOrder + """
                run_attempts a ON a.run_id = s.run_id AND a.sample_id = s.sample_id AND a.epoch = s.epoch
                """
        } else {
            // The run's attempts lead, in the order of their key or of their keeping; each one's
            // score is looked up by its key.
            query = query + " FROM run_attempts a" + (selection.needsScore ? inOrder : " LEFT JOIN ") + scoreOn
        }
        query = query + """
             LEFT JOIN run_attempt_values f ON f.run_id = a.run_id AND f.sample_id = a.sample_id AND f.epoch = a.epoch \
            AND f.field = \(bind: AttemptFacts.failureField) WHERE a.run_id = \(bind: runId)
            """
        if byScore { query = query + " AND s.run_id = \(bind: runId) AND s.field = \(bind: scoreField)" }
        if let status = selection.status { query = query + " AND a.status = \(bind: status)" }
        if let epoch = selection.epoch { query = query + " AND a.epoch = \(bind: epoch)" }
        if let cause = selection.failureCause { query = query + " AND f.text_value = \(bind: cause)" }
        if let minimum = selection.minimumScore { query = query + " AND s.number_value >= \(bind: minimum)" }
        if let maximum = selection.maximumScore { query = query + " AND s.number_value <= \(bind: maximum)" }
        if let key = selection.metadataKey {
            query = query + """
                 AND EXISTS (SELECT 1 FROM run_attempt_values m WHERE m.run_id = a.run_id AND m.sample_id = a.sample_id \
                AND m.epoch = a.epoch AND m.field = \(bind: AttemptFacts.metadataField(key)) AND m.text_value = \(bind: selection.metadataValue ?? ""))
                """
        }
        if case .condition(let condition)? = search { query = query + condition }
        // After the cursor, as one row value: both databases seek an index to it.
        let order: SQLQueryString
        switch selection.order {
        case .sample:
            if let cursor { query = query + " AND (a.sample_id, a.epoch) > (\(bind: cursor.sampleId), \(bind: cursor.epoch))" }
            order = " ORDER BY a.sample_id, a.epoch"
        case .score:
            if let cursor, let score = cursor.score {
                query = query + " AND (s.number_value, s.sample_id, s.epoch) > (\(bind: score), \(bind: cursor.sampleId), \(bind: cursor.epoch))"
            }
            order = " ORDER BY s.number_value, s.sample_id, s.epoch"
        case .scoreDescending:
            // Wholly descending (ties by sample, last first), so that the index is walked backwards.
            if let cursor, let score = cursor.score {
                query = query + " AND (s.number_value, s.sample_id, s.epoch) < (\(bind: score), \(bind: cursor.sampleId), \(bind: cursor.epoch))"
            }
            order = " ORDER BY s.number_value DESC, s.sample_id DESC, s.epoch DESC"
        case .kept, .keptDescending:
            // The kept order is unique in a run: it alone is the key.
            if let kept = cursor?.keptOrder {
                query = query + (selection.order == .kept ? " AND a.kept_order > \(bind: kept)" : " AND a.kept_order < \(bind: kept)")
            }
            order = selection.order == .kept ? " ORDER BY a.kept_order" : " ORDER BY a.kept_order DESC"
        }
        return try await sql.raw(query + order + " LIMIT \(unsafeRaw: String(limit))").all().map { row in
            AttemptRow(
                attempt: try StoredAttempt(row: row, record: records), keptOrder: try row.decode(column: "kept_order", as: Int.self),
                score: try row.decode(column: "score", as: Double?.self), failureCause: try row.decode(column: "failure_cause", as: String?.self))
        }
    }

    /// Below this many matches in a run, SQLite's search lists them first and the page sorts
    /// them; from it on, the run's attempts are walked in order and each is looked up in the
    /// search's index, so that a word in every transcript costs a page, not the run.
    static let searchListLimit = 2_000

    /// How a search joins a page's query: its matches lead (a few of them), or a condition on
    /// each attempt.
    private enum SearchPlan {
        case leads(SQLQueryString)
        case condition(SQLQueryString)
    }

    /// The plan that finds the results whose text has every word of `text`; nil when it has no word.
    private func searchPlan(runId: String, _ text: String) async throws -> SearchPlan? {
        let words = text.split(whereSeparator: { $0.isWhitespace }).map(String.init)
        guard !words.isEmpty else { return nil }
        switch flavour {
        case .sqlite:
            // Each word a quoted FTS5 string: nothing in it is query syntax. An attempt's search
            // row is the one its search_id names.
            let match = words.map { "\"" + $0.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }.joined(separator: " ")
            let matches: SQLQueryString = """
                SELECT rowid AS search_id FROM run_attempt_search WHERE run_attempt_search MATCH \(bind: match) AND run_id = \(bind: runId)
                """
            let found = try await sql.raw("SELECT count(*) AS found FROM (" + matches + " LIMIT \(unsafeRaw: String(Self.searchListLimit)))").first()?
                .decode(column: "found", as: Int.self) ?? 0
            if found < Self.searchListLimit { return .leads(matches) }
            return .condition(" AND EXISTS (SELECT 1 FROM run_attempt_search WHERE run_attempt_search MATCH \(bind: match) AND rowid = a.search_id)")
        case .postgres:
            return .condition("""
                 AND (a.sample_id, a.epoch) IN (SELECT sample_id, epoch FROM run_attempt_search \
                WHERE run_id = \(bind: runId) AND body @@ plainto_tsquery('simple', \(bind: words.joined(separator: " "))))
                """)
        }
    }
}
