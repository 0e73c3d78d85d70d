import AirlockAPI
import AirlockCore
import AirlockEval
import AirlockQueue
import Crypto
import Foundation
import Logging
import Synchronization

/// What a worker is told about a run it takes attempts of.
public struct RunAssignment: Sendable {
    /// The bundle's SHA-256, in hex.
    public var bundleDigest: String
    /// The task file's path inside the bundle.
    public var taskPath: String
    /// The model under test, reached through the access gateway under the run's grant.
    public var model: ModelConfiguration
    /// Other roles (a grader), at the endpoints the run names.
    public var roles: [String: ModelConfiguration]
    public var seed: UInt64
    public var epochs: Int?
    public var limit: Int?
    public var maxTokens: Int?

    public init(
        bundleDigest: String, taskPath: String, model: ModelConfiguration, roles: [String: ModelConfiguration] = [:], seed: UInt64 = 42,
        epochs: Int? = nil, limit: Int? = nil, maxTokens: Int? = nil
    ) {
        self.bundleDigest = bundleDigest
        self.taskPath = taskPath
        self.model = model
        self.roles = roles
        self.seed = seed
        self.epochs = epochs
        self.limit = limit
        self.maxTokens = maxTokens
    }

    /// A run's assignment: its execution, the model under test and the keys of its roles' models
    /// (by role; a role without one has none).
    public init(_ execution: RunExecution, model: ModelConfiguration, roleKeys: [String: String]) throws {
        var roles: [String: ModelConfiguration] = [:]
        for (role, bound) in execution.roles ?? [:] {
            roles[role] = try ModelConfiguration.resolve(bound.model, baseURL: bound.baseUrl, apiKey: roleKeys[role], environment: [:])
        }
        self.init(
            bundleDigest: execution.bundleDigest, taskPath: execution.taskPath, model: model, roles: roles, seed: execution.seed,
            epochs: execution.epochs, limit: execution.limit, maxTokens: execution.maxTokens)
    }

    /// The engine's options for the run's attempts: the one rule by which a run is planned
    /// (when submitted, and when its results are built) and run (by each worker).
    public func options(maxConnections: Int = 32, logDirectory: String = "logs", requestTimeout: Duration = .seconds(120)) -> EvalOptions {
        EvalOptions(
            model: model, roles: roles, maxConnections: maxConnections, epochs: epochs, limit: limit, seed: seed, logDirectory: logDirectory,
            requestTimeout: requestTimeout, settings: GenerationSettings(maxTokens: maxTokens))
    }
}

/// Where a worker reads runs and keeps results: the program server's API for a worker on
/// another machine, the store itself for the server's own.
public protocol RunSource: Sendable {
    /// The run's assignment (asked once per run by each worker: it may mint the worker a key);
    /// nil when the run is gone or no longer takes attempts (cancelled).
    func assignment(runID: String) async throws -> RunAssignment?
    /// The round the run takes attempts in (asked often: it must be cheap); nil when it takes
    /// none (cancelled, ended, gone).
    func activeRound(runID: String) async throws -> Int?
    func bundle(runID: String, digest: String) async throws -> Data
    /// Whether the attempt already has a result.
    func hasResult(runID: String, key: SampleKey) async throws -> Bool
    /// Keeps the attempt's result, taken in the run's `round`, unless one is kept already;
    /// whether this one was.
    func commit(runID: String, round: Int, record: SampleRecord, worker: String) async throws -> Bool
}

/// Takes attempts from a queue and runs them with the engine, as many at once as it has
/// slots, until cancelled. Each attempt: dropped (acknowledged) when its result exists; ended
/// when its run no longer takes attempts; else run with ``AttemptRunner`` from the run's
/// bundle (fetched once, its digest checked), with in-progress settlements while it runs, its
/// result committed and only then acknowledged. An attempt cut short by the worker's end is
/// left unsettled, so its lease runs out and another worker takes it; an infrastructure
/// failure is handed out again (after a delay) until `maxDeliveries`, then kept as failed.
public struct AttemptWorker: Sendable {
    public struct Configuration: Sendable {
        /// The worker's name, kept with each result.
        public var name: String
        public var pool: String
        /// Attempts run at once.
        public var slots: Int
        /// How often a running attempt says it is still running (well inside the queue's lease).
        public var progressInterval: Duration
        /// How often a running attempt's run is checked, to end it soon after a cancel.
        public var cancelCheckInterval: Duration
        /// Deliveries after which an infrastructure failure is kept instead of retried.
        public var maxDeliveries: Int
        /// Where bundles are unpacked, a folder per run.
        public var workFolder: String
        public var maxConnections: Int
        public var requestTimeout: Duration

        public init(
            name: String, pool: String = "default", slots: Int = 4, progressInterval: Duration = .seconds(10),
            cancelCheckInterval: Duration = .seconds(2), maxDeliveries: Int = 3, workFolder: String, maxConnections: Int = 32,
            requestTimeout: Duration = .seconds(120)
        ) {
            self.name = name
            self.pool = pool
            self.slots = slots
            self.progressInterval = progressInterval
            self.cancelCheckInterval = cancelCheckInterval
            self.maxDeliveries = maxDeliveries
            self.workFolder = workFolder
            self.maxConnections = maxConnections
            self.requestTimeout = requestTimeout
        }
    }

    public let configuration: Configuration
    let queue: any AttemptQueue
    let source: any RunSource
    let logger: Logger
    /// Runners by run, made once per run (the bundle unpacked once).
    private let runners = RunnerCache()
    /// The round each run takes attempts in, asked of the source at most once per check interval.
    private let activity = RunActivity()

    public init(configuration: Configuration, queue: any AttemptQueue, source: any RunSource, logger: Logger) {
        self.configuration = configuration
        self.queue = queue
        self.source = source
        self.logger = logger
    }

    /// Works until the task is cancelled.
    public func run(client: ModelClient) async throws {
        let slots = BusySlots(slots: configuration.slots)
        await withDiscardingTaskGroup { group in
            var freedSlots = slots.freed.makeAsyncIterator()
            while !Task.isCancelled {
                let free = slots.free
                guard free > 0 else {
                    _ = await freedSlots.next()
                    continue
                }
                let taken: [LeasedAttempt]
                do {
                    taken = try await queue.take(pool: configuration.pool, limit: free, wait: .seconds(1))
                } catch is CancellationError {
                    break
                } catch {
                    logger.warning("cannot take attempts", metadata: ["error": "\(error)"])
                    try? await Task.sleep(for: .seconds(1))
                    continue
                }
                for attempt in taken {
                    let slot = slots.take()
                    group.addTask {
                        await self.handle(attempt, client: client, slot: slot)
                        slot.end()
                    }
                }
            }
            group.cancelAll()
        }
    }

    private func handle(_ attempt: LeasedAttempt, client: ModelClient, slot: BusySlots.Slot) async {
        let ticket = attempt.ticket
        let key = SampleKey(sampleID: ticket.sampleID, epoch: ticket.epoch)
        var logger = logger
        logger[metadataKey: "attempt"] = "\(ticket.id)"
        do {
            // A redelivered attempt may have a result (its worker died between commit and
            // acknowledgement). A first delivery seldom does, and the commit keeps one result
            // either way, so it saves the question.
            if attempt.deliveries > 1, try await source.hasResult(runID: ticket.runID, key: key) {
                try await attempt.settle(.acknowledge)
                return
            }
            // A ticket of an ended run, or of an earlier round (the run was resumed and its
            // attempts published anew), is not run.
            guard try await activity.round(ticket.runID, atLeast: ticket.round, within: configuration.cancelCheckInterval, source: source) == ticket.round
            else {
                await runners.evict(runID: ticket.runID, before: ticket.round + 1)
                try await attempt.settle(.terminate)
                return
            }
            let made = try await runners.runner(runID: ticket.runID, round: ticket.round) {
                guard let assignment = try await source.assignment(runID: ticket.runID) else { return nil }
                return try await makeRunner(runID: ticket.runID, assignment: assignment, client: client)
            }
            guard let runner = made else {
                try await attempt.settle(.terminate)
                return
            }
            let running = Task { try await runner.run(key) }
            // Keeps the lease, and ends the attempt (its sandbox with it) once the run is cancelled.
            // A queue or server out of reach for a moment ends neither: the next turn tries again.
            let watch = Task { () -> Bool in
                var sinceProgress = Duration.zero
                while !Task.isCancelled {
                    try await Task.sleep(for: configuration.cancelCheckInterval)
                    sinceProgress += configuration.cancelCheckInterval
                    if sinceProgress >= configuration.progressInterval, (try? await attempt.settle(.inProgress)) != nil {
                        sinceProgress = .zero
                    }
                    do {
                        if try await activity.round(ticket.runID, atLeast: ticket.round, within: configuration.cancelCheckInterval, source: source) != ticket.round {
                            running.cancel()
                            return true
                        }
                    } catch {
                        logger.debug("cannot tell whether the run still runs", metadata: ["error": "\(error)"])
                    }
                }
                return false
            }
            let record: SampleRecord?
            do {
                record = try await withTaskCancellationHandler { try await running.value } onCancel: { running.cancel() }
                watch.cancel()
            } catch {
                watch.cancel()
                throw error
            }
            if (try? await watch.value) == true {
                logger.info("the run was cancelled; the attempt is ended")
                await runners.evict(runID: ticket.runID, before: ticket.round + 1)
                try await attempt.settle(.terminate)
                return
            }
            // Cut short by the worker's end: the lease runs out and another worker takes it.
            guard let record else { return }
            if record.failure?.cause == .infrastructure, attempt.deliveries < configuration.maxDeliveries {
                logger.info("infrastructure failure; handing the attempt out again", metadata: ["deliveries": "\(attempt.deliveries)"])
                try await attempt.settle(.retry(after: .seconds(Double(attempt.deliveries))))
                return
            }
            // The model's and the sandbox's work is done: the next attempt may start while this
            // one's result is kept.
            slot.commitOnly()
            let kept = try await source.commit(runID: ticket.runID, round: ticket.round, record: record, worker: configuration.name)
            if !kept { logger.debug("a result was kept already; this one is dropped") }
            try await attempt.settle(.acknowledge)
        } catch is CancellationError {
            return
        } catch {
            // The run's task does not load (a bad bundle or task): it would fail again anywhere,
            // so it ends after its deliveries. Anything else (the server or the store out of
            // reach, say) passes: the attempt waits, longer each time, and is never dropped.
            let permanent = error is EvalError || error is RunBundle.Failure
            logger.warning("attempt failed before it ran", metadata: ["error": "\(error)"])
            let settlement: LeasedAttempt.Settlement =
                !permanent ? .retry(after: .seconds(min(30, 2 * attempt.deliveries)))
                : attempt.deliveries < configuration.maxDeliveries ? .retry(after: .seconds(1)) : .terminate
            try? await attempt.settle(settlement)
        }
    }

    private func makeRunner(runID: String, assignment: RunAssignment, client: ModelClient) async throws -> RunnerCache.Entry {
        let bytes = try await source.bundle(runID: runID, digest: assignment.bundleDigest)
        let digest = Hex.string(SHA256.hash(data: bytes))
        guard digest == assignment.bundleDigest else {
            throw EvalError(.invalidTask, "the bundle's bytes have digest \(digest), not \(assignment.bundleDigest)")
        }
        let files = try RunBundle.read(bytes)
        let folder = configuration.workFolder + "/\(runID)-\(UUID().uuidString.prefix(8))"
        try TaskBundle.write(Dictionary(files.map { ($0.path, $0.contents) }, uniquingKeysWith: { first, _ in first }), into: folder)
        let options = assignment.options(
            maxConnections: configuration.maxConnections, logDirectory: folder + "/logs", requestTimeout: configuration.requestTimeout)
        return RunnerCache.Entry(
            runner: try AttemptRunner(taskPath: folder + "/" + assignment.taskPath, options: options, environment: [:], client: client, logger: logger),
            folder: folder)
    }
}

/// One runner per run and round, made by the first attempt that needs it while the others
/// wait for it (nil: the run takes no attempts), with the folder its bundle was unpacked in.
/// A round has its own assignment: the key of an earlier one was revoked when it ended.
final class RunnerCache: Sendable {
    struct Entry: Sendable {
        var runner: AttemptRunner
        var folder: String
    }

    private struct Key: Hashable {
        var runID: String
        var round: Int
    }

    private let runners = Mutex<[Key: Task<Entry?, any Error>]>([:])

    func runner(runID: String, round: Int, make: @escaping @Sendable () async throws -> Entry?) async throws -> AttemptRunner? {
        let key = Key(runID: runID, round: round)
        let task = runners.withLock { runners in
            if let task = runners[key] { return task }
            let task = Task { try await make() }
            runners[key] = task
            return task
        }
        await evict(runID: runID, before: round)
        do {
            guard let entry = try await task.value else {
                runners.withLock { _ = $0.removeValue(forKey: key) }
                return nil
            }
            return entry.runner
        } catch {
            // A failed making is tried again by the next attempt.
            runners.withLock { _ = $0.removeValue(forKey: key) }
            throw error
        }
    }

    /// Forgets a run's rounds before `round` and removes their unpacked bundles.
    func evict(runID: String, before round: Int) async {
        let gone = runners.withLock { runners in
            let keys = runners.keys.filter { $0.runID == runID && $0.round < round }
            return keys.compactMap { runners.removeValue(forKey: $0) }
        }
        for task in gone {
            if let entry = try? await task.value { try? FileManager.default.removeItem(atPath: entry.folder) }
        }
    }
}

/// A worker's slots: attempts running, and attempts whose result is being kept. A slot comes
/// free when its attempt's work is done, so that the next one runs while the result goes to the
/// server; as many results as there are slots may be on their way at once, and past that the
/// slots wait for them. Each change wakes the taking loop (`freed`): a poll would leave slots
/// idle between attempts.
final class BusySlots: Sendable {
    private let slots: Int
    private let counts = Mutex((running: 0, committing: 0))
    let freed: AsyncStream<Void>
    private let wake: AsyncStream<Void>.Continuation

    init(slots: Int) {
        self.slots = slots
        (freed, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// Slots free now.
    var free: Int {
        counts.withLock { counts in min(slots - counts.running, 2 * slots - counts.running - counts.committing) }
    }

    func take() -> Slot {
        counts.withLock { $0.running += 1 }
        return Slot(slots: self)
    }

    /// One attempt's slot: running, then (maybe) only committing, then ended.
    final class Slot: Sendable {
        private let slots: BusySlots
        private let committing = Mutex(false)

        fileprivate init(slots: BusySlots) { self.slots = slots }

        /// The attempt's work is done; only its result is on its way.
        func commitOnly() {
            guard committing.withLock({ state in defer { state = true }; return !state }) else { return }
            slots.counts.withLock { counts in
                counts.running -= 1
                counts.committing += 1
            }
            slots.wake.yield()
        }

        func end() {
            let wasCommitting = committing.withLock { $0 }
            slots.counts.withLock { counts in
                if wasCommitting { counts.committing -= 1 } else { counts.running -= 1 }
            }
            slots.wake.yield()
        }
    }
}

/// The round each run takes attempts in, as the source last said, so that a worker's slots ask
/// the source about a run at most once per interval (sooner for a ticket of a later round).
final class RunActivity: Sendable {
    private let known = Mutex<[String: (round: Int?, at: ContinuousClock.Instant)]>([:])

    func round(_ runID: String, atLeast newest: Int, within interval: Duration, source: any RunSource) async throws -> Int? {
        let now = ContinuousClock.now
        // A fresh answer serves unless a ticket names a round after it (the run was resumed since).
        if let entry = known.withLock({ $0[runID] }), entry.at + interval > now, (entry.round ?? 0) >= newest { return entry.round }
        let round = try await source.activeRound(runID: runID)
        known.withLock { $0[runID] = (round, now) }
        return round
    }
}
