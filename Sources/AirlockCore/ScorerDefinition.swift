/// One scorer of a task, as written in the task file (same forms as solvers).
public enum ScorerDefinition: Sendable, Hashable, Codable {
    /// The whole answer equals a target, after trimming and (by default) ignoring case.
    case exact(ignoreCase: Bool)
    /// A target appears in the answer.
    case includes(ignoreCase: Bool)
    /// A regular expression extracts the answer (its first group, or `group`), compared with the targets.
    case pattern(PatternOptions)
    /// The letter of a multiple-choice answer equals the target letter.
    case choice
    /// Token-overlap F1 between the answer and the best-matching target.
    case f1
    /// A grader model judges the answer against the target with a rubric.
    case modelGraded(ModelGradedOptions)
    /// The planted secret (the target) appears in the answer, plainly or encoded (base64, hex,
    /// ROT13, reversed, spaced out, leetspeak, spelled). 1 means the secret leaked: the attack
    /// succeeded, so the mean is an attack success rate.
    case secretLeak
    /// A "find the bug" report (file, line, CWE, optional triggering input) judged against the
    /// program in the sample's metadata; `NONE` is right for a patched twin.
    case vulnerabilityReport(VulnerabilityReportOptions)

    public struct PatternOptions: Sendable, Hashable, Codable {
        public var regex: String
        public var group: Int?
        public var ignoreCase: Bool

        public init(regex: String, group: Int? = nil, ignoreCase: Bool = true) {
            self.regex = regex
            self.group = group
            self.ignoreCase = ignoreCase
        }

        enum CodingKeys: String, CodingKey {
            case regex, group
            case ignoreCase = "ignore_case"
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            regex = try container.decode(String.self, forKey: .regex)
            group = try container.decodeIfPresent(Int.self, forKey: .group)
            ignoreCase = try container.decodeIfPresent(Bool.self, forKey: .ignoreCase) ?? true
        }
    }

    public struct ModelGradedOptions: Sendable, Hashable, Codable {
        /// The grading prompt. Placeholders: `{question}`, `{answer}`, `{criterion}` (the target),
        /// `{rubric}`, `{instructions}`.
        public var template: String?
        /// What a correct answer must do, in words; shown to the grader as `{rubric}`.
        public var rubric: String?
        /// How the grader must state its grade.
        public var instructions: String?
        /// Extracts the grade letter from the grader's reply: C correct, P partial, I incorrect.
        public var gradePattern: String?
        public var partialCredit: Bool
        /// The model role that grades. It must be bound to a model; it never falls back to the model under test.
        public var role: String

        public init(template: String? = nil, rubric: String? = nil, instructions: String? = nil, gradePattern: String? = nil, partialCredit: Bool = false, role: String = "grader") {
            self.template = template
            self.rubric = rubric
            self.instructions = instructions
            self.gradePattern = gradePattern
            self.partialCredit = partialCredit
            self.role = role
        }

        enum CodingKeys: String, CodingKey {
            case template, rubric, instructions
            case gradePattern = "grade_pattern"
            case partialCredit = "partial_credit"
            case role
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            template = try container.decodeIfPresent(String.self, forKey: .template)
            rubric = try container.decodeIfPresent(String.self, forKey: .rubric)
            instructions = try container.decodeIfPresent(String.self, forKey: .instructions)
            gradePattern = try container.decodeIfPresent(String.self, forKey: .gradePattern)
            partialCredit = try container.decodeIfPresent(Bool.self, forKey: .partialCredit) ?? false
            role = try container.decodeIfPresent(String.self, forKey: .role) ?? "grader"
        }
    }

    public struct VulnerabilityReportOptions: Sendable, Hashable, Codable {
        /// Run an offered INPUT against both builds in a sandbox and say what it did.
        public var checkInput: Bool
        /// Give credit only when the offered input is confirmed to trigger the weakness.
        public var requireTrigger: Bool

        public init(checkInput: Bool = true, requireTrigger: Bool = false) {
            self.checkInput = checkInput
            self.requireTrigger = requireTrigger
        }

        enum CodingKeys: String, CodingKey {
            case checkInput = "check_input"
            case requireTrigger = "require_trigger"
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            checkInput = try container.decodeIfPresent(Bool.self, forKey: .checkInput) ?? true
            requireTrigger = try container.decodeIfPresent(Bool.self, forKey: .requireTrigger) ?? false
        }
    }

    private struct CaseOptions: Codable {
        var ignoreCase: Bool?
        enum CodingKeys: String, CodingKey { case ignoreCase = "ignore_case" }
    }

    public var name: String {
        switch self {
        case .exact: return "exact"
        case .includes: return "includes"
        case .pattern: return "pattern"
        case .choice: return "choice"
        case .f1: return "f1"
        case .modelGraded: return "model_graded"
        case .secretLeak: return "secret_leak"
        case .vulnerabilityReport: return "vulnerability_report"
        }
    }

    public static let names = ["exact", "includes", "pattern", "choice", "f1", "model_graded", "secret_leak", "vulnerability_report"]

    public init(from decoder: any Decoder) throws {
        let entry = try NamedEntry(from: decoder, allowed: Self.names, kind: "scorer")
        switch entry.name {
        case "exact":
            self = .exact(ignoreCase: try entry.options(CaseOptions.self)?.ignoreCase ?? true)
        case "includes":
            self = .includes(ignoreCase: try entry.options(CaseOptions.self)?.ignoreCase ?? true)
        case "pattern":
            if let options = try? entry.options(PatternOptions.self) {
                self = .pattern(options)
            } else {
                self = .pattern(.init(regex: try entry.text(key: "regex")))
            }
        case "choice":
            self = .choice
        case "f1":
            self = .f1
        case "secret_leak":
            self = .secretLeak
        case "vulnerability_report":
            self = .vulnerabilityReport(try entry.options(VulnerabilityReportOptions.self) ?? .init())
        default:
            self = .modelGraded(try entry.options(ModelGradedOptions.self) ?? .init())
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: DynamicKey.self)
        let key = DynamicKey(name)
        switch self {
        case .exact(let ignoreCase), .includes(let ignoreCase):
            try container.encode(CaseOptions(ignoreCase: ignoreCase), forKey: key)
        case .pattern(let options):
            try container.encode(options, forKey: key)
        case .choice, .f1, .secretLeak:
            try container.encode([String: String](), forKey: key)
        case .modelGraded(let options):
            try container.encode(options, forKey: key)
        case .vulnerabilityReport(let options):
            try container.encode(options, forKey: key)
        }
    }
}
