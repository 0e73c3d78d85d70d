/// An error from the evaluation engine, with a code to act on and a message for people.
///
/// Codes wrap a private enum so that new ones can be added without breaking callers.
public struct EvalError: Error, Hashable, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case invalidTask, invalidDataset, invalidModel, invalidArguments
            case runNotFound, runMismatch, logCorrupt, localModelUnavailable, io, invalidPolicy, setupFailed
        }

        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// The task file is missing, not YAML, or has a bad field.
        public static let invalidTask = Code(.invalidTask)
        /// The dataset file is missing or has a bad record.
        public static let invalidDataset = Code(.invalidDataset)
        /// The model name, base URL or key is unusable.
        public static let invalidModel = Code(.invalidModel)
        /// Command-line arguments do not fit together.
        public static let invalidArguments = Code(.invalidArguments)
        /// No run with that id or directory.
        public static let runNotFound = Code(.runNotFound)
        /// A resumed run's task or dataset changed since it started.
        public static let runMismatch = Code(.runMismatch)
        /// A run's log cannot be read.
        public static let logCorrupt = Code(.logCorrupt)
        /// The local model server could not be installed or started.
        public static let localModelUnavailable = Code(.localModelUnavailable)
        /// Reading or writing a file failed.
        public static let io = Code(.io)
        /// An assessment policy file is malformed.
        public static let invalidPolicy = Code(.invalidPolicy)
        /// A set-up step (an install) failed or ran out of time.
        public static let setupFailed = Code(.setupFailed)

        public var description: String { base.rawValue }
    }

    public var code: Code
    public var message: String
    /// The file the error is about, when there is one.
    public var file: String?
    /// The 1-based line in `file`, when known.
    public var line: Int?
    /// The field (a dotted path such as `solvers[1].multiple_choice.shuffle`), when known.
    public var field: String?

    public init(_ code: Code, _ message: String, file: String? = nil, line: Int? = nil, field: String? = nil) {
        self.code = code
        self.message = message
        self.file = file
        self.line = line
        self.field = field
    }

    /// `file:line: field: message`, the form editors and people both read.
    public var description: String {
        var location = ""
        if let file { location += file }
        if let line { location += ":\(line)" }
        if !location.isEmpty { location += ": " }
        if let field, !field.isEmpty { location += "\(field): " }
        return location + message
    }
}
