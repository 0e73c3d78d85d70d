import AirlockCore

/// The first file of a run: what was run, against which model, with which settings. Written once,
/// atomically, before any sample; a resumed run reads everything it needs from here.
public struct RunHeader: Sendable, Codable {
    public struct TaskInfo: Sendable, Codable {
        public var name: String
        /// Absolute path of the task file.
        public var file: String
        public var fileSHA256: String
        public var datasetFile: String
        public var datasetSHA256: String
        public var definition: TaskDefinition

        enum CodingKeys: String, CodingKey {
            case name, file
            case fileSHA256 = "file_sha256"
            case datasetFile = "dataset_file"
            case datasetSHA256 = "dataset_sha256"
            case definition
        }
    }

    public struct ModelInfo: Sendable, Codable, Hashable {
        /// `provider/name`.
        public var name: String
        public var baseURL: String

        public init(name: String, baseURL: String) {
            self.name = name
            self.baseURL = baseURL
        }

        enum CodingKeys: String, CodingKey {
            case name
            case baseURL = "base_url"
        }
    }

    public var format = "airlock-run/1"
    public var runID: String
    /// Seconds since 1970.
    public var created: Double
    public var task: TaskInfo
    public var model: ModelInfo
    public var roles: [String: ModelInfo]
    /// The generation settings in force (the task's, with command-line overrides).
    public var settings: GenerationSettings
    public var seed: UInt64
    public var epochs: Int
    /// The samples this run covers, in order (after any shuffle and limit).
    public var sampleIDs: [String]
    public var maxConnections: Int
    public var maxSamples: Int
    public var cache: Bool
    public var airlockVersion: String
    /// The walls the task's sandboxes get on the machine that started the run (none without a sandbox).
    public var sandboxWalls: SandboxWalls?

    enum CodingKeys: String, CodingKey {
        case format
        case runID = "run_id"
        case created, task, model, roles, settings, seed, epochs
        case sampleIDs = "sample_ids"
        case maxConnections = "max_connections"
        case maxSamples = "max_samples"
        case cache
        case airlockVersion = "airlock_version"
        case sandboxWalls = "sandbox_walls"
    }

    /// Every attempt the run must make.
    public var plannedKeys: [SampleKey] {
        (1...epochs).flatMap { epoch in sampleIDs.map { SampleKey(sampleID: $0, epoch: epoch) } }
    }
}

/// One finished attempt, appended to `samples.jsonl` as soon as it ends: the full transcript,
/// scores, usage, timings, and the failure when there is one.
public struct SampleRecord: Sendable, Codable {
    public enum Status: String, Sendable, Codable {
        case scored, failed
    }

    /// A model call's cost and timing (its output is in `messages`).
    public struct Call: Sendable, Codable, Hashable {
        public var seconds: Double
        public var retries: Int
        public var cached: Bool
        public var usage: TokenUsage
        public var stopReason: String?
        /// The access gateway's id for the call, when it went through one: the evidence names
        /// the calls that produced it.
        public var gatewayCallID: String?
        enum CodingKeys: String, CodingKey {
            case seconds, retries, cached, usage
            case stopReason = "stop_reason"
            case gatewayCallID = "gateway_call_id"
        }
    }

    public var sampleID: String
    public var epoch: Int
    public var status: Status
    public var input: SampleInput
    public var target: [String]
    /// The choices as presented to the model.
    public var choices: [String]?
    public var messages: [ChatMessage]
    public var completion: String?
    public var scores: [String: Score]
    public var usage: TokenUsage
    public var calls: [Call]
    public var metadata: [String: JSONValue]
    public var limitReached: String?
    /// Why an agent stopped (`submitted`, `answered`, `turns`, or a limit).
    public var stopReason: String?
    public var failure: SampleFailure?
    /// Seconds since 1970.
    public var started: Double
    public var totalSeconds: Double
    public var modelSeconds: Double

    enum CodingKeys: String, CodingKey {
        case sampleID = "sample_id"
        case epoch, status, input, target, choices, messages, completion, scores, usage, calls, metadata
        case limitReached = "limit_reached"
        case stopReason = "stop_reason"
        case failure, started
        case totalSeconds = "total_seconds"
        case modelSeconds = "model_seconds"
    }

    public var key: SampleKey { SampleKey(sampleID: sampleID, epoch: epoch) }
}

/// The last file of a finished run: metrics per scorer, with intervals, per epoch and per group.
public struct RunResults: Sendable, Codable {
    public struct ScorerResults: Sendable, Codable {
        public var name: String
        public var overall: MetricSummary
        /// Before reduction: one summary per epoch.
        public var epochs: [MetricSummary]
        /// By the task's `group_by` metadata field.
        public var groups: [String: MetricSummary]?
    }

    public var completed: Double
    /// Distinct samples, attempts planned, attempts scored and failed.
    public var samples: Int
    public var attempts: Int
    public var scored: Int
    public var failed: Int
    public var failuresByCause: [String: Int]
    public var reducer: String
    public var scorers: [ScorerResults]
    public var usage: TokenUsage
    public var limitsReached: Int

    enum CodingKeys: String, CodingKey {
        case completed, samples, attempts, scored, failed
        case failuresByCause = "failures_by_cause"
        case reducer, scorers, usage
        case limitsReached = "limits_reached"
    }
}
