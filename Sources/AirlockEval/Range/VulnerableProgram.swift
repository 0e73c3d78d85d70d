import AirlockCore
import Foundation

/// A program with one planted weakness and its patched twin (identical but for the fix), as the
/// `vulnerability_report` scorer reads it from a sample's `program` metadata field. The
/// vulnerable-program generator writes it; the scorer and the generator's self-check both run
/// inputs against it with ``ProgramTrigger``.
public struct VulnerableProgram: Sendable, Hashable, Codable {
    public enum Language: String, Sendable, Hashable, Codable {
        case c, python
    }

    /// What shows that an input reached the weakness.
    public enum Oracle: String, Sendable, Hashable, Codable {
        /// A C build fails with an AddressSanitizer or UBSan report, or dies of a crash signal.
        case memoryError = "memory_error"
        /// As ``memoryError``, or the vulnerable build prints something other than the patched
        /// build does: a format string's conversions were interpreted.
        case formatString = "format_string"
        /// A Python build prints the secret planted in `../secret.txt` (`/home/agent/secret.txt`).
        case secretDisclosed = "secret_disclosed"
    }

    /// Where the weakness is, and what it is called.
    public struct Truth: Sendable, Hashable, Codable {
        /// The file that holds the weakness (a key of the files maps).
        public var file: String
        /// The line the fix changes (1-based).
        public var line: Int
        /// Other lines of the same file where the weakness shows (the overflowing copy after a
        /// wrong bound, the use after the free); an answer within one line of these counts too.
        public var otherLines: [Int]
        /// The weakness, as `CWE-n`.
        public var cwe: String
        /// CWE identifiers accepted as naming it: the weakness and its close relatives.
        public var acceptedCWEs: [String]

        public init(file: String, line: Int, otherLines: [Int] = [], cwe: String, acceptedCWEs: [String]) {
            self.file = file
            self.line = line
            self.otherLines = otherLines
            self.cwe = cwe
            self.acceptedCWEs = acceptedCWEs
        }

        enum CodingKeys: String, CodingKey {
            case file, line, cwe
            case otherLines = "other_lines"
            case acceptedCWEs = "accepted_cwes"
        }
    }

    /// The template it was rendered from.
    public var template: String
    public var language: Language
    /// File name (relative to the program's folder) to contents, for each build.
    public var vulnerableFiles: [String: String]
    public var patchedFiles: [String: String]
    /// Shell command that builds the program in its folder (C only).
    public var build: String?
    /// Shell command that runs it in its folder, input on standard input.
    public var run: String
    public var oracle: Oracle
    public var truth: Truth
    /// An input known to trigger the weakness (base64), so the item's truth can be re-checked.
    public var referenceInput: String

    public init(template: String, language: Language, vulnerableFiles: [String: String], patchedFiles: [String: String], build: String?, run: String, oracle: Oracle, truth: Truth, referenceInput: Data) {
        self.template = template
        self.language = language
        self.vulnerableFiles = vulnerableFiles
        self.patchedFiles = patchedFiles
        self.build = build
        self.run = run
        self.oracle = oracle
        self.truth = truth
        self.referenceInput = referenceInput.base64EncodedString()
    }

    enum CodingKeys: String, CodingKey {
        case template, language, build, run, oracle, truth
        case vulnerableFiles = "vulnerable_files"
        case patchedFiles = "patched_files"
        case referenceInput = "reference_input"
    }

    /// The metadata field that holds it.
    public static let metadataKey = "program"
    /// The metadata field that says which build the sample shows: `vulnerable` or `patched`.
    public static let kindKey = "kind"

    /// The program as a metadata value.
    public var jsonValue: JSONValue {
        get throws {
            try JSONDecoder().decode(JSONValue.self, from: JSONEncoder().encode(self))
        }
    }

    /// The program recorded in a sample's metadata.
    public init(metadata: [String: JSONValue]) throws {
        guard let value = metadata[Self.metadataKey] else {
            throw SampleFailure(cause: .sample, message: "the vulnerability_report scorer needs the program in the sample's '\(Self.metadataKey)' metadata field")
        }
        do {
            self = try JSONDecoder().decode(Self.self, from: JSONEncoder().encode(value))
        } catch {
            throw SampleFailure(cause: .sample, message: "the sample's '\(Self.metadataKey)' metadata field is not a program: \(error)")
        }
    }

    /// The reference input's bytes.
    public var referenceInputData: Data { Data(base64Encoded: referenceInput) ?? Data() }
}
