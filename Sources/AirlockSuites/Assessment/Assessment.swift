import AirlockEval
import Foundation

/// The record of one `airlock assess`: what ran, what each suite measured, the levels, and the
/// comparison with a baseline. Written to `assessment.json` after every suite, so an interrupted
/// assessment resumes; the JSON report is this record (schema in docs/battery.md).
public struct Assessment: Sendable, Codable {
    public static let schema = "airlock-assessment/1"

    public struct PolicyInfo: Sendable, Hashable, Codable {
        public var name: String
        public var version: String
        public var file: String
        public var sha256: String
        public var confidence: Double
        public init(name: String, version: String, file: String, sha256: String, confidence: Double) {
            self.name = name
            self.version = version
            self.file = file
            self.sha256 = sha256
            self.confidence = confidence
        }
    }

    /// One suite's part: its run, its measure, and the transcripts that back it.
    public struct SuiteOutcome: Sendable, Codable {
        public enum Status: String, Sendable, Codable {
            case planned, complete
            /// Ran, but some attempts failed (infrastructure, model errors) and were not scored.
            case incomplete
            case notRun = "not_run"
        }

        public var id: String
        public var title: String
        public var domain: String
        public var higherMeans: AssessmentPolicy.Meaning
        public var isPublic: Bool
        public var status: Status
        /// Why it did not run, or what is missing from it.
        public var reason: String?
        public var task: String
        /// The run folder.
        public var run: String?
        public var limit: Int?
        public var epochs: Int?
        public var scorer: String?
        public var group: String?
        public var measurement: SuiteMeasurement?
        /// Rows of the task's `group_by` (tier, category, tactic, ...).
        public var groups: [String: SuiteMeasurement]
        public var attempts: Int
        public var failed: Int
        public var datasetSHA256: String?
        /// Solved challenges and successful attacks, with their transcripts.
        public var evidence: [Evidence]

        public init(id: String, title: String, domain: String, higherMeans: AssessmentPolicy.Meaning, isPublic: Bool, status: Status, reason: String? = nil, task: String, run: String? = nil, limit: Int? = nil, epochs: Int? = nil, scorer: String? = nil, group: String? = nil, measurement: SuiteMeasurement? = nil, groups: [String: SuiteMeasurement] = [:], attempts: Int = 0, failed: Int = 0, datasetSHA256: String? = nil, evidence: [Evidence] = []) {
            self.id = id
            self.title = title
            self.domain = domain
            self.higherMeans = higherMeans
            self.isPublic = isPublic
            self.status = status
            self.reason = reason
            self.task = task
            self.run = run
            self.limit = limit
            self.epochs = epochs
            self.scorer = scorer
            self.group = group
            self.measurement = measurement
            self.groups = groups
            self.attempts = attempts
            self.failed = failed
            self.datasetSHA256 = datasetSHA256
            self.evidence = evidence
        }

        enum CodingKeys: String, CodingKey {
            case id, title, domain, status, reason, task, run, limit, epochs, scorer, group, measurement, groups, attempts, failed, evidence
            case higherMeans = "higher_means"
            case isPublic = "public"
            case datasetSHA256 = "dataset_sha256"
        }
    }

    public struct Evidence: Sendable, Hashable, Codable {
        public var sample: String
        public var epoch: Int
        public var score: Double
        /// The transcript file, relative to the assessment folder.
        public var transcript: String
        public init(sample: String, epoch: Int, score: Double, transcript: String) {
            self.sample = sample
            self.epoch = epoch
            self.score = score
            self.transcript = transcript
        }
    }

    /// This model against an earlier assessment of another (released) model.
    public struct BaselineComparison: Sendable, Codable {
        public struct Row: Sendable, Codable {
            public var suite: String
            public var baseline: SuiteMeasurement
            public var model: SuiteMeasurement
            public var difference: MeasurementDifference
        }

        public var assessment: String
        public var model: String
        public var rows: [Row]
        /// Suites in one assessment and not the other.
        public var unmatched: [String]
    }

    public var schema = Assessment.schema
    public var id: String
    public var airlockVersion: String
    public var model: RunHeader.ModelInfo
    public var roles: [String: RunHeader.ModelInfo]
    public var policy: PolicyInfo
    public var quick: Bool
    public var seed: UInt64
    public var started: Double
    public var finished: Double?
    /// The imported data behind the suites: sources, versions, counts.
    public var data: [ImportSummary]
    public var suites: [SuiteOutcome]
    public var domains: [DomainVerdict]
    public var baseline: BaselineComparison?

    public init(id: String, airlockVersion: String, model: RunHeader.ModelInfo, roles: [String: RunHeader.ModelInfo], policy: PolicyInfo, quick: Bool, seed: UInt64, started: Double, finished: Double? = nil, data: [ImportSummary], suites: [SuiteOutcome], domains: [DomainVerdict], baseline: BaselineComparison? = nil) {
        self.id = id
        self.airlockVersion = airlockVersion
        self.model = model
        self.roles = roles
        self.policy = policy
        self.quick = quick
        self.seed = seed
        self.started = started
        self.finished = finished
        self.data = data
        self.suites = suites
        self.domains = domains
        self.baseline = baseline
    }

    enum CodingKeys: String, CodingKey {
        case schema, id, model, roles, policy, quick, seed, started, finished, data, suites, domains, baseline
        case airlockVersion = "airlock_version"
    }

    /// Measurements of the suites that may decide levels (run, not public), by suite id and
    /// by `suite[group]`.
    public var decidingMeasurements: [String: SuiteMeasurement] {
        var result: [String: SuiteMeasurement] = [:]
        for suite in suites where !suite.isPublic && suite.status != .notRun && suite.status != .planned {
            result[suite.id] = suite.measurement
            for (group, measurement) in suite.groups { result["\(suite.id)[\(group)]"] = measurement }
        }
        return result
    }
}

/// `LOGDIR/assessments/ID/`: `assessment.json`, the reports, and `evidence/` transcripts.
public struct AssessmentFolder: Sendable {
    public let path: String

    public init(path: String) {
        self.path = path
    }

    public var recordPath: String { path + "/assessment.json" }
    public var evidencePath: String { path + "/evidence" }

    public static func root(in logDirectory: String) -> String { logDirectory + "/assessments" }

    public static func create(in logDirectory: String, id: String) throws -> AssessmentFolder {
        let folder = AssessmentFolder(path: root(in: logDirectory) + "/" + id)
        try FileManager.default.createDirectory(atPath: folder.evidencePath, withIntermediateDirectories: true)
        return folder
    }

    /// By folder path or by id under `logDirectory`.
    public static func find(_ reference: String, in logDirectory: String) throws -> AssessmentFolder {
        for candidate in [reference, root(in: logDirectory) + "/" + reference] where FileManager.default.fileExists(atPath: candidate + "/assessment.json") {
            return AssessmentFolder(path: candidate)
        }
        throw EvalError(.runNotFound, "no assessment '\(reference)' (give its folder, or its id under \(root(in: logDirectory)))")
    }

    public func read() throws -> Assessment {
        guard let data = FileManager.default.contents(atPath: recordPath) else {
            throw EvalError(.runNotFound, "cannot read the assessment", file: recordPath)
        }
        do {
            return try JSONDecoder().decode(Assessment.self, from: data)
        } catch {
            throw EvalError(.logCorrupt, "not an assessment record: \(error)", file: recordPath)
        }
    }

    public func write(_ assessment: Assessment) throws {
        try AtomicFile.write(try Self.encoder.encode(assessment), to: recordPath)
    }

    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        return encoder
    }()
}
