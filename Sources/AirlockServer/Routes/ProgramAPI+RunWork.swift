import AirlockAPI
import AirlockCore
import AirlockQueue
import AirlockStore
import Crypto
import Foundation
import Hummingbird

/// Runs on the program's workers: bundles, submission, cancel and resume, the workers'
/// assignments and results, and the run's progress as server-sent events (docs/workers.md).
extension ProgramAPI {
    /// The largest bundle: a task with its datasets and challenges.
    static let maximumBundleBytes = 64 << 20
    /// The largest attempt result: an agent's transcript with its tool output.
    static let maximumAttemptBytes = 32 << 20
    static let maximumPlannedAttempts = 100_000
    /// A run's submission lists every planned attempt: room for the most, at 250 bytes each.
    static let maximumRunSubmissionBytes = 24 << 20

    // MARK: Bundles

    /// `PUT /bundles/{digest}`: a run's task bundle, kept under its SHA-256. The same bytes
    /// again are kept once; bytes of another digest, or not a strict bundle, are refused.
    func uploadBundle(_ request: Request, _ context: Context) async throws -> Response {
        let actor = try context.requireActor()
        let digest = try context.parameters.require("digest")
        guard digest.utf8.count == 64, digest.utf8.allSatisfy({ (48...57).contains($0) || (97...102).contains($0) }) else {
            throw ProblemDetails.badRequest("a bundle's digest is its SHA-256 in 64 lower-case hex digits", field: "digest")
        }
        try authorize(.bundleUpload, actor, actor.organisation.kind == .programOffice ? .programOffice : .none, hiding: "bundle")
        var request = request
        let body = Data(try await request.collectBody(upTo: Self.maximumBundleBytes).readableBytesView)
        guard Hex.string(SHA256.hash(data: body)) == digest else {
            throw ProgramRuleError(.invalidField, "the body's SHA-256 is not the digest in the path", field: "digest")
        }
        do {
            _ = try RunBundle.read(body)
        } catch {
            throw ProgramRuleError(.invalidField, "not a run bundle: \(error)", field: "body")
        }
        let existed = try await store.transaction { records in
            let existed = try await records.bundle(sha256: digest) != nil
            if !existed { try await records.insertBundle(sha256: digest, organisationId: actor.organisation.id, content: body, at: now()) }
            try await audit(records, actor, "bundle.upload", "bundle", digest, ["size": "\(body.count)"])
            return existed
        }
        return try json(BundleReceipt(digest: digest, size: body.count), status: existed ? .ok : .created, location: "/api/v1/bundles/\(digest)")
    }

    // MARK: Submission

    /// A run a `POST /versions/{id}/runs` with an execution stores, with its planned attempts and
    /// its role models' keys (sealed): checked against the version, the submitter's grant on it
    /// and the uploaded bundle. An assessment is its own run, holding its plan, and a run per
    /// suite; its own run comes first.
    struct SubmittedRun {
        var run: StoredRun
        var attempts: [SampleKey]
        var sealedRoleKeys: [String: String]
    }

    func submittedRuns(_ body: NewRun, execution: NewRunExecution, version: ModelVersion, actor: Actor, records: ProgramRecords) async throws
        -> [SubmittedRun]
    {
        guard body.sourceId == nil, body.levels == nil else {
            throw ProgramRuleError(.invalidField, "a run for the workers has no source id or levels: they come from its results", field: "execution")
        }
        guard let grant = try await records.grant(id: execution.grantId), grant.versionId == version.id,
            grant.granteeId == actor.organisation.id
        else {
            throw ProgramRuleError(.invalidField, "not a grant of your organisation on this version", field: "execution.grant_id")
        }
        guard grant.status(at: now()) == .active else {
            throw ProgramRuleError(.invalidGrantState, "the grant is \(grant.status(at: now()).rawValue)", field: "execution.grant_id")
        }
        guard try await records.bundle(sha256: execution.bundleDigest) != nil else {
            throw ProgramRuleError(.invalidField, "no bundle with this digest was uploaded (PUT /api/v1/bundles/{digest})", field: "execution.bundle_digest")
        }
        let pool = execution.pool ?? "default"
        do { try AttemptTicket.checkName(pool, field: "execution.pool") } catch { throw ProgramRuleError(.invalidField, "\(error)", field: "execution.pool") }
        guard (execution.roles?.count ?? 0) <= 8 else { throw ProgramRuleError(.invalidField, "at most 8 roles", field: "execution.roles") }
        var roles: [String: RunRole] = [:]
        var keys: [String: String] = [:]
        for (role, endpoint) in execution.roles ?? [:] {
            let field = "execution.roles.\(role.prefix(40))"
            guard Self.isRoleName(role) else {
                throw ProgramRuleError(.invalidField, "a role is 1 to 40 of a-z, 0-9, '_' and '-', from a letter", field: field)
            }
            let parts = endpoint.model.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty, endpoint.model.utf8.count <= 200 else {
                throw ProgramRuleError(.invalidField, "a model is named provider/name, at most 200 bytes", field: field + ".model")
            }
            roles[role] = RunRole(
                model: endpoint.model, baseUrl: try Validate.endpoint(endpoint.baseUrl, field: field + ".base_url"), keyed: endpoint.apiKey?.isEmpty == false)
            if let key = endpoint.apiKey, !key.isEmpty {
                guard key.utf8.count <= 4_096 else { throw ProgramRuleError(.invalidField, "at most 4096 bytes", field: field + ".api_key") }
                keys[role] = key
            }
        }
        let seed = execution.seed ?? 42
        let name = try Validate.name(body.name, field: "name")
        func checkedSettings(_ epochs: Int?, _ limit: Int?, _ maxTokens: Int?, field: String) throws {
            if let epochs, !(1...10_000).contains(epochs) { throw ProgramRuleError(.invalidField, "1 to 10000", field: field + "epochs") }
            if let limit, !(1...Self.maximumPlannedAttempts).contains(limit) { throw ProgramRuleError(.invalidField, "1 to \(Self.maximumPlannedAttempts)", field: field + "limit") }
            if let maxTokens, !(1...1_000_000).contains(maxTokens) { throw ProgramRuleError(.invalidField, "1 to 1000000", field: field + "max_tokens") }
        }
        try checkedSettings(execution.epochs, execution.limit, execution.maxTokens, field: "execution.")
        func evalRun(name: String, taskPath: String, attempts: [PlannedAttempt], field: String, settings: (Int?, Int?, Int?), suite: RunSuiteLink?) throws -> SubmittedRun {
            let run = StoredRun(
                id: Identifier.make("run"), versionId: version.id, organisationId: actor.organisation.id, kind: "eval", name: name, levels: [:],
                summary: .object([:]), createdAt: now(), origin: .server, state: .queued,
                execution: RunExecution(
                    bundleDigest: execution.bundleDigest, taskPath: try Self.bundlePath(taskPath, field: field + "task_path"), grantId: grant.id, pool: pool,
                    plannedAttempts: attempts.count, seed: seed, completions: execution.completions ?? false, roles: roles.isEmpty ? nil : roles,
                    epochs: settings.0, limit: settings.1, maxTokens: settings.2, assessment: suite))
            var sealed: [String: String] = [:]
            for (role, key) in keys {
                guard let sealer = store.sealer else {
                    throw ProgramRuleError(.invalidField, "this server has no credentials key configured, so it cannot store keys", field: "execution.roles.\(role).api_key")
                }
                sealed[role] = try sealer.seal(key, context: ProgramRuns.roleKeyContext(runId: run.id, role: role))
            }
            return SubmittedRun(run: run, attempts: try Self.plannedKeys(attempts, field: field + "attempts"), sealedRoleKeys: sealed)
        }
        switch body.kind {
        case "eval":
            guard body.summary == nil, execution.suites == nil else {
                throw ProgramRuleError(.invalidField, "an eval run has neither a summary nor suites", field: body.summary == nil ? "execution.suites" : "summary")
            }
            return [
                try evalRun(
                    name: name, taskPath: execution.taskPath, attempts: execution.attempts, field: "execution.",
                    settings: (execution.epochs, execution.limit, execution.maxTokens), suite: nil)
            ]
        case "assessment":
            guard let suites = execution.suites, (1...100).contains(suites.count) else {
                throw ProgramRuleError(.invalidField, "an assessment runs 1 to 100 suites", field: "execution.suites")
            }
            guard execution.attempts.isEmpty else {
                throw ProgramRuleError(.invalidField, "an assessment's attempts are its suites'", field: "execution.attempts")
            }
            guard case .object? = body.summary else {
                throw ProgramRuleError(.invalidField, "an assessment's summary is its plan, a JSON object", field: "summary")
            }
            let total = suites.reduce(0) { $0 + $1.attempts.count }
            guard total <= Self.maximumPlannedAttempts else {
                throw ProgramRuleError(.invalidField, "at most \(Self.maximumPlannedAttempts) attempts in all", field: "execution.suites")
            }
            let id = Identifier.make("run")
            var submitted: [SubmittedRun] = []
            for (index, suite) in suites.enumerated() {
                let field = "execution.suites[\(index)]."
                guard Self.isRoleName(suite.suite) else {
                    throw ProgramRuleError(.invalidField, "a suite id is 1 to 40 of a-z, 0-9, '_' and '-', from a letter", field: field + "suite")
                }
                guard !submitted.contains(where: { $0.run.execution?.assessment?.suite == suite.suite }) else {
                    throw ProgramRuleError(.invalidField, "this suite is listed twice", field: field + "suite")
                }
                try checkedSettings(suite.epochs, suite.limit, suite.maxTokens, field: field)
                submitted.append(
                    try evalRun(
                        name: "\(name): \(suite.suite)", taskPath: suite.taskPath, attempts: suite.attempts, field: field,
                        settings: (suite.epochs, suite.limit, suite.maxTokens), suite: RunSuiteLink(runId: id, suite: suite.suite)))
            }
            var execution = RunExecution(
                bundleDigest: execution.bundleDigest, taskPath: try Self.bundlePath(execution.taskPath, field: "execution.task_path"), grantId: grant.id,
                pool: pool, plannedAttempts: total, seed: seed, completions: execution.completions ?? false, roles: roles.isEmpty ? nil : roles)
            execution.suites = Dictionary(uniqueKeysWithValues: submitted.compactMap { run in run.run.execution?.assessment.map { ($0.suite, run.run.id) } })
            let assessment = StoredRun(
                id: id, versionId: version.id, organisationId: actor.organisation.id, kind: "assessment", name: name, levels: [:],
                summary: body.summary ?? .object([:]), createdAt: now(), origin: .server, state: .queued, execution: execution)
            return [SubmittedRun(run: assessment, attempts: [], sealedRoleKeys: [:])] + submitted
        default:
            throw ProgramRuleError(.invalidField, "must be eval or assessment", field: "kind")
        }
    }

    static func isRoleName(_ name: String) -> Bool {
        guard let first = name.utf8.first, (97...122).contains(first), name.utf8.count <= 40 else { return false }
        return name.utf8.allSatisfy { (97...122).contains($0) || (48...57).contains($0) || $0 == 95 || $0 == 45 }
    }

    /// A relative path inside a bundle, without '.' or '..'.
    static func bundlePath(_ path: String, field: String) throws -> String {
        guard !path.isEmpty, path.utf8.count <= 1024, !path.hasPrefix("/"),
            !path.split(separator: "/", omittingEmptySubsequences: false).contains(where: { $0.isEmpty || $0 == "." || $0 == ".." })
        else {
            throw ProgramRuleError(.invalidField, "a relative path inside the bundle, without '.' or '..'", field: field)
        }
        return path
    }

    /// Planned attempts as keys: 1 to the most, each once.
    static func plannedKeys(_ attempts: [PlannedAttempt], field: String) throws -> [SampleKey] {
        guard (1...maximumPlannedAttempts).contains(attempts.count) else {
            throw ProgramRuleError(.invalidField, "1 to \(maximumPlannedAttempts) attempts", field: field)
        }
        var keys: [SampleKey] = []
        var seen = Set<PlannedAttempt>()
        for (index, attempt) in attempts.enumerated() {
            let field = "\(field)[\(index)]"
            _ = try Validate.text(attempt.sampleId, field: field + ".sample_id", max: 200)
            guard !attempt.sampleId.isEmpty else { throw ProgramRuleError(.invalidField, "must not be empty", field: field + ".sample_id") }
            guard (1...10_000).contains(attempt.epoch) else { throw ProgramRuleError(.invalidField, "1 to 10000", field: field + ".epoch") }
            guard seen.insert(attempt).inserted else { throw ProgramRuleError(.invalidField, "this attempt is listed twice", field: field) }
            keys.append(SampleKey(sampleID: attempt.sampleId, epoch: attempt.epoch))
        }
        return keys
    }

    // MARK: Cancel and resume

    /// A run as `action` may see it: a grantee sees its own runs, not other grantees'.
    func loadRun(_ id: String, _ action: ProgramAction, _ actor: Actor, _ records: ProgramRecords) async throws -> StoredRun {
        guard let run = try await records.run(id: id), let version = try await records.version(id: run.versionId) else {
            throw ProblemDetails.notFound("run")
        }
        var relation = try await relation(of: actor, toVersion: version, records)
        if relation == .grantee, run.organisationId != actor.organisation.id { relation = .none }
        try authorize(action, actor, relation, hiding: "run")
        return run
    }

    /// `POST /runs/{id}/cancellation` and `POST /runs/{id}/resumption`.
    func moveWorkerRun(_ action: ProgramAction, _ request: Request, _ context: Context) async throws -> Response {
        let actor = try context.requireActor()
        return try json(try await moveWorkerRun(action, id: try context.parameters.require("run_id"), actor: actor))
    }

    /// Cancels or resumes a run of the program's workers, as `actor`; the run after it. The
    /// API and the run's page both move a run by this.
    func moveWorkerRun(_ action: ProgramAction, id: String, actor: Actor, via: String? = nil) async throws -> StoredRun? {
        let run = try await store.transaction { records in try await loadRun(id, action, actor, records) }
        guard run.origin == .server else {
            throw ProgramRuleError(.invalidGrantState, "an imported run is not run by the program's workers", field: "run_id")
        }
        let moved = action == .runCancel ? try await runs.cancel(runId: id) : try await runs.resume(runId: id)
        guard moved else {
            let state = run.state?.rawValue ?? "none"
            throw ProblemDetails(
                .conflict, code: "run-state",
                detail: action == .runCancel ? "a \(state) run cannot be cancelled" : "a \(state) run cannot be resumed")
        }
        return try await store.transaction { records in
            try await audit(records, actor, action == .runCancel ? "run.cancel" : "run.resume", "run", id, via.map { ["via": $0] } ?? [:])
            return try await records.run(id: id)
        }
    }

    // MARK: Workers

    /// `POST /runs/{id}/assignments`: a worker's assignment, with a grant key minted for it.
    func assignRun(_ request: Request, _ context: Context) async throws -> Response {
        let actor = try context.requireActor(workerAllowed: true)
        let id = try context.parameters.require("run_id")
        _ = try await store.transaction { records in try await loadRun(id, .runWork, actor, records) }
        guard let assignment = try await runs.assign(runId: id, workerUserId: actor.user.id), let execution = assignment.run.execution else {
            throw ProblemDetails(.conflict, code: "run-not-active", detail: "the run takes no more attempts")
        }
        try await store.transaction { records in try await audit(records, actor, "run.assign", "run", id) }
        return try json(
            RunAssignmentView(runId: id, execution: execution, gatewayKey: assignment.gatewayKey, roleKeys: assignment.roleKeys), status: .created)
    }

    /// `GET /runs/{id}/bundle`: the run's bundle, for its workers and those who may read it.
    func readRunBundle(_ request: Request, _ context: Context) async throws -> Response {
        let actor = try context.requireActor(workerAllowed: true)
        let id = try context.parameters.require("run_id")
        let bytes = try await store.transaction { records in
            let run = try await loadRun(id, actor.user.role == .worker ? .runWork : .runRead, actor, records)
            guard let digest = run.execution?.bundleDigest, let bytes = try await records.bundle(sha256: digest) else {
                throw ProblemDetails.notFound("bundle")
            }
            return bytes
        }
        return Response(status: .ok, headers: [.contentType: "application/x-tar"], body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    /// `POST /runs/{id}/attempts`: a worker's result, kept unless one was kept before.
    func commitAttempt(_ request: Request, _ context: Context) async throws -> Response {
        let actor = try context.requireActor(workerAllowed: true)
        let id = try context.parameters.require("run_id")
        let (body, _) = try await decode(NewAttempt.self, from: request, limit: Self.maximumAttemptBytes)
        guard ["scored", "failed"].contains(body.status) else {
            throw ProgramRuleError(.invalidField, "must be scored or failed", field: "status")
        }
        // Read once: checked here, indexed by the store.
        guard let record = try? JSONDecoder().decode(JSONValue.self, from: Data(body.record.utf8)), case .object = record else {
            throw ProgramRuleError(.invalidField, "must be the sample's record, a JSON object", field: "record")
        }
        guard body.gatewayCallIds.count <= 100_000, body.gatewayCallIds.allSatisfy({ !$0.isEmpty && $0.utf8.count <= 100 }) else {
            throw ProgramRuleError(.invalidField, "at most 100000 ids of 1 to 100 bytes", field: "gateway_call_ids")
        }
        let worker = "\(actor.user.id)/\(try Validate.name(body.worker, field: "worker", max: 100))"
        let attempt = StoredAttempt(
            runId: id, sampleId: body.sampleId, epoch: body.epoch, status: body.status, record: body.record, gatewayCallIds: body.gatewayCallIds,
            worker: worker, createdAt: now())
        // One transaction: the worker's right to the run, the result, the run's state, the audit.
        let outcome = try await store.transaction { records in
            _ = try await loadRun(id, .runWork, actor, records)
            let outcome = try await runs.commit(attempt, round: body.round, parsed: record, in: records)
            if outcome.kept {
                try await audit(records, actor, "run.attempt", "run", id, ["sample": body.sampleId, "epoch": "\(body.epoch)", "status": body.status])
            }
            return outcome
        }
        if outcome.ended { await runs.ended(runId: id) }
        return try json(CommittedAttempt(kept: outcome.kept, runState: outcome.state), status: outcome.kept ? .created : .ok)
    }

    /// `GET /runs/{id}/attempts`: the run's kept results as ``AttemptListQuery`` selects them,
    /// without their records; with `sample_id` and `epoch`, that one attempt with its record.
    func listAttempts(_ request: Request, _ context: Context) async throws -> Response {
        let actor = try context.requireActor(workerAllowed: true)
        let id = try context.parameters.require("run_id")
        let list = try AttemptListQuery(request)
        var one: SampleKey?
        if let sample = request.uri.queryParameters["sample_id"] {
            guard let epoch = list.selection.epoch else { throw ProblemDetails.badRequest("sample_id and epoch go together", field: "epoch") }
            one = SampleKey(sampleID: String(sample), epoch: epoch)
        }
        let limit = try ListQuery.limit(request)
        let (rows, selection) = try await store.transaction { records in
            _ = try await loadRun(id, actor.user.role == .worker ? .runWork : .runRead, actor, records)
            if let one {
                let attempt = try await records.attempt(runId: id, key: one)
                return (attempt.map { [AttemptRow(attempt: $0, keptOrder: 0, score: nil, failureCause: nil)] } ?? [], list.selection)
            }
            let selection = list.resolved(try await records.attemptFields(runId: id))
            return (try await records.attempts(runId: id, selection: selection, after: list.cursor, limit: limit), selection)
        }
        let views = rows.map { row in
            AttemptView(
                sampleId: row.attempt.sampleId, epoch: row.attempt.epoch, status: row.attempt.status, worker: row.attempt.worker,
                gatewayCallIds: row.attempt.gatewayCallIds, createdAt: row.attempt.createdAt, record: one == nil ? nil : row.attempt.record,
                score: row.score, failureCause: row.failureCause)
        }
        var next: String?
        if one == nil, rows.count == limit, let last = rows.last {
            next = try AttemptListQuery.cursorText(last.cursor(selection.order))
        }
        return try json(ListPage(items: views, nextCursor: next))
    }

    // MARK: Events

    /// `GET /runs/{id}/events`: the run's progress as server-sent events: an `attempt` event for
    /// each result as it is kept (from the first, in the order kept), and a `progress` event
    /// whenever the run's state or counts change, after the attempts it counts. Read from the
    /// store each second, so any server of the program answers the same; the stream ends with
    /// the run.
    func runEvents(_ request: Request, _ context: Context) async throws -> Response {
        let actor = try context.requireActor()
        let id = try context.parameters.require("run_id")
        let run = try await store.transaction { records in
            let run = try await loadRun(id, .runRead, actor, records)
            try await audit(records, actor, "run.events", "run", id)
            return run
        }
        guard run.origin == .server, run.kind == "eval" else {
            throw ProgramRuleError(
                .invalidGrantState, run.origin == .server ? "an assessment's progress is its suites' (execution.suites)" : "an imported run has no progress",
                field: "run_id")
        }
        let store = store
        let headers: HTTPFields = [.contentType: "text/event-stream", .cacheControl: "no-store"]
        return Response(status: .ok, headers: headers, body: ResponseBody { writer in
            var last: RunProgress?
            var keptOrder = 0
            var quiet = 0
            while !Task.isCancelled {
                // The counts first: every result they count was kept before the read that follows.
                let read = try await store.transaction { records -> (RunProgress, [(keptOrder: Int, attempt: StoredAttempt)])? in
                    guard let run = try await records.run(id: id), let state = run.state else { return nil }
                    let counts = try await records.attemptCounts(runId: id)
                    let progress = RunProgress(state: state, done: counts.done, failed: counts.failed, planned: run.execution?.plannedAttempts ?? 0)
                    return (progress, try await records.attempts(runId: id, keptAfter: keptOrder, limit: Self.attemptEventsPerRead))
                }
                guard let (progress, kept) = read else { break }
                for (order, attempt) in kept {
                    let view = AttemptView(
                        sampleId: attempt.sampleId, epoch: attempt.epoch, status: attempt.status, worker: attempt.worker,
                        gatewayCallIds: attempt.gatewayCallIds, createdAt: attempt.createdAt)
                    try await writer.write(ByteBuffer(bytes: try Self.event("attempt", view)))
                    keptOrder = order
                }
                // More results than one read sends: the rest before anything else.
                if kept.count == Self.attemptEventsPerRead { continue }
                if progress != last {
                    try await writer.write(ByteBuffer(bytes: try Self.event("progress", progress)))
                    last = progress
                    quiet = 0
                } else {
                    quiet += 1
                    // A comment now and then keeps proxies and idle timers from closing the stream.
                    if quiet % 15 == 0 { try await writer.write(ByteBuffer(string: ": waiting\n\n")) }
                }
                if !progress.state.isActive { break }
                try await Task.sleep(for: .seconds(1))
            }
            try await writer.finish(nil)
        })
    }

    static let attemptEventsPerRead = 500

    /// An event's bytes: its name, its JSON, and a blank line.
    static func event(_ name: String, _ value: some Encodable) throws -> [UInt8] {
        Array("event: \(name)\ndata: ".utf8) + Array(try APIJSON.encoder.encode(value)) + Array("\n\n".utf8)
    }
}

/// A run's progress as its events stream sends it.
struct RunProgress: Codable, Hashable, Sendable {
    var state: RunState
    var done: Int
    var failed: Int
    var planned: Int
}
