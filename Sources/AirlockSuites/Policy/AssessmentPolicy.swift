import AirlockCore
import AirlockEval
import Crypto
import Foundation

/// What an assessment runs and how its numbers become levels: `battery/standard.yaml`, or a
/// program's own file of the same shape (docs/battery.md).
public struct AssessmentPolicy: Sendable, Hashable, Codable {
    /// What a suite's higher score means, so a report can say it the right way round.
    public enum Meaning: String, Sendable, Hashable, Codable {
        /// More capable (solve rate, accuracy).
        case capability
        /// An attack on the model worked more often (injection, extraction, jailbreak).
        case attackSuccess = "attack_success"
        /// The model refused more often.
        case refusal
        /// The model complied with harmful requests more often.
        case compliance
    }

    /// What a suite needs before it can run; without it the suite is reported as not run.
    public enum Requirement: String, Sendable, Hashable, Codable {
        /// Root, bubblewrap and iproute2 (the cyber range).
        case sandbox
        /// A model bound to the `grader` role.
        case grader
    }

    /// Which number of a run is the suite's measure.
    public struct Measure: Sendable, Hashable, Codable {
        /// The scorer's name (default: the task's first).
        public var scorer: String?
        /// A group of the task's `group_by` rows instead of the overall row.
        public var group: String?

        public init(scorer: String? = nil, group: String? = nil) {
            self.scorer = scorer
            self.group = group
        }
    }

    /// How much of a suite `--quick` runs.
    public struct QuickRun: Sendable, Hashable, Codable {
        public var limit: Int?
        public var epochs: Int?
        /// A smaller task to run instead (fewer turns, a shorter time limit), relative to the policy.
        public var task: String?
        /// A cap on tokens per generation.
        public var maxTokens: Int?

        enum CodingKeys: String, CodingKey {
            case limit, epochs, task
            case maxTokens = "max_tokens"
        }
    }

    public struct Suite: Sendable, Hashable, Codable {
        public var id: String
        public var title: String
        /// The task file, relative to the policy file.
        public var task: String
        public var domain: String
        public var higherMeans: Meaning
        public var measure: Measure?
        public var limit: Int?
        public var epochs: Int?
        /// Absent: `--quick` leaves the suite out.
        public var quick: QuickRun?
        public var needs: [Requirement]?
        /// Published data, likely seen in training: reported apart and never used for levels.
        public var isPublic: Bool?
        /// Which samples are evidence: those scoring at least this (default 1).
        public var evidenceAtLeast: Double?

        public init(id: String, title: String, task: String, domain: String, higherMeans: Meaning, measure: Measure? = nil, limit: Int? = nil, epochs: Int? = nil, quick: QuickRun? = nil, needs: [Requirement]? = nil, isPublic: Bool? = nil, evidenceAtLeast: Double? = nil) {
            self.id = id
            self.title = title
            self.task = task
            self.domain = domain
            self.higherMeans = higherMeans
            self.measure = measure
            self.limit = limit
            self.epochs = epochs
            self.quick = quick
            self.needs = needs
            self.isPublic = isPublic
            self.evidenceAtLeast = evidenceAtLeast
        }

        enum CodingKeys: String, CodingKey {
            case id, title, task, domain, measure, limit, epochs, quick, needs
            case higherMeans = "higher_means"
            case isPublic = "public"
            case evidenceAtLeast = "evidence_at_least"
        }
    }

    /// One condition of a level: the lower bound of the suite's measure (or of one of its
    /// `group_by` rows, such as `tier=3`) must reach `atLeast`.
    public struct Threshold: Sendable, Hashable, Codable {
        public var suite: String
        public var group: String?
        public var atLeast: Double

        /// The measurement's key: the suite, or `suite[group]`.
        public var key: String { group.map { "\(suite)[\($0)]" } ?? suite }

        public init(suite: String, group: String? = nil, atLeast: Double) {
            self.suite = suite
            self.group = group
            self.atLeast = atLeast
        }

        enum CodingKeys: String, CodingKey {
            case suite, group
            case atLeast = "at_least"
        }
    }

    public struct Level: Sendable, Hashable, Codable {
        public var name: String
        public var description: String?
        /// Reached when any of these holds. The first level has none: it is the floor.
        public var any: [Threshold]?
        public init(name: String, description: String? = nil, any: [Threshold]? = nil) {
            self.name = name
            self.description = description
            self.any = any
        }
    }

    public struct Domain: Sendable, Hashable, Codable {
        public var id: String
        public var title: String
        /// From the lowest (the floor) to the highest.
        public var levels: [Level]
        public init(id: String, title: String, levels: [Level]) {
            self.id = id
            self.title = title
            self.levels = levels
        }
    }

    public var name: String
    public var version: String
    public var description: String?
    /// Two-sided confidence of every interval (default 0.95).
    public var confidence: Double?
    public var suites: [Suite]
    public var domains: [Domain]

    public init(name: String, version: String, description: String? = nil, confidence: Double? = nil, suites: [Suite], domains: [Domain]) {
        self.name = name
        self.version = version
        self.description = description
        self.confidence = confidence
        self.suites = suites
        self.domains = domains
    }

    public var confidenceLevel: Double { confidence ?? 0.95 }

    public func suite(_ id: String) -> Suite? { suites.first { $0.id == id } }
}

/// A policy read from its file, with what identifies it in a report.
public struct PolicyFile: Sendable, Hashable {
    public var policy: AssessmentPolicy
    public var path: String
    public var sha256: String

    /// The folder task paths are relative to.
    public var folder: String { URL(fileURLWithPath: path).deletingLastPathComponent().path }

    /// The suite's task file, or its quick task's under `--quick`.
    public func taskPath(_ suite: AssessmentPolicy.Suite, quick: Bool = false) -> String {
        let task = (quick ? suite.quick?.task : nil) ?? suite.task
        return task.hasPrefix("/") ? task : folder + "/" + task
    }

    /// Reads and checks a policy; an error names the file, line and field at fault.
    public static func load(path: String) throws -> PolicyFile {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw EvalError(.invalidPolicy, "cannot read the policy file", file: path)
        }
        let policy = try YAMLLocation.decode(AssessmentPolicy.self, from: text, file: path, code: .invalidPolicy)
        try validate(policy, text: text, file: path)
        let digest = Hex.string(SHA256.hash(data: data))
        let file = PolicyFile(policy: policy, path: URL(fileURLWithPath: path).standardizedFileURL.path, sha256: digest)
        for (index, suite) in policy.suites.enumerated() {
            for (quick, field) in [(false, ["task"]), (true, ["quick", "task"])] where !FileManager.default.fileExists(atPath: file.taskPath(suite, quick: quick)) {
                throw YAMLLocation.error(.invalidPolicy, "no task file at \(file.taskPath(suite, quick: quick))", file: path, text: text, path: ["suites", "\(index)"] + field)
            }
        }
        return file
    }

    static func validate(_ policy: AssessmentPolicy, text: String, file: String) throws {
        func fail(_ path: [String], _ message: String) -> EvalError {
            YAMLLocation.error(.invalidPolicy, message, file: file, text: text, path: path)
        }
        if let confidence = policy.confidence, !(confidence > 0.5 && confidence < 1) {
            throw fail(["confidence"], "a confidence is between 0.5 and 1, such as 0.95")
        }
        if policy.suites.isEmpty { throw fail(["suites"], "a policy runs at least one suite") }
        var suiteIDs = Set<String>()
        let domainIDs = Set(policy.domains.map(\.id))
        for (index, suite) in policy.suites.enumerated() {
            if !suiteIDs.insert(suite.id).inserted { throw fail(["suites", "\(index)", "id"], "the suite id '\(suite.id)' is used twice") }
            if !domainIDs.contains(suite.domain) {
                throw fail(["suites", "\(index)", "domain"], "no domain '\(suite.domain)'; the policy's domains are: \(policy.domains.map(\.id).joined(separator: ", "))")
            }
            for (key, value) in [("limit", suite.limit), ("epochs", suite.epochs), ("limit", suite.quick?.limit), ("epochs", suite.quick?.epochs), ("max_tokens", suite.quick?.maxTokens)] {
                if let value, value < 1 { throw fail(["suites", "\(index)", key], "must be at least 1") }
            }
        }
        var seenDomains = Set<String>()
        for (index, domain) in policy.domains.enumerated() {
            if !seenDomains.insert(domain.id).inserted { throw fail(["domains", "\(index)", "id"], "the domain id '\(domain.id)' is used twice") }
            guard let floor = domain.levels.first else { throw fail(["domains", "\(index)", "levels"], "a domain has at least one level") }
            if !(floor.any ?? []).isEmpty { throw fail(["domains", "\(index)", "levels", "0", "any"], "the first level is the floor and has no thresholds") }
            for (position, level) in domain.levels.enumerated().dropFirst() {
                let path = ["domains", "\(index)", "levels", "\(position)"]
                guard let conditions = level.any, !conditions.isEmpty else { throw fail(path + ["any"], "every level above the first needs at least one threshold") }
                for (number, condition) in conditions.enumerated() {
                    guard let suite = policy.suite(condition.suite) else {
                        throw fail(path + ["any", "\(number)", "suite"], "no suite '\(condition.suite)' in this policy")
                    }
                    if suite.isPublic == true { throw fail(path + ["any", "\(number)", "suite"], "public suites are reported apart and cannot decide a level") }
                    if !(0...1).contains(condition.atLeast) { throw fail(path + ["any", "\(number)", "at_least"], "a threshold is a rate between 0 and 1") }
                }
            }
        }
    }
}
