import Foundation
import PropertyBased
import Testing

/// A parser's fuzz target: a check over one input's bytes, replayed on the target's corpus and
/// seeds and then on generated and mutated inputs until the time budget is spent.
///
/// - `AIRLOCK_FUZZ_SECONDS`: the budget per target (default 2; `make test` uses the default).
/// - `AIRLOCK_FUZZ_SEED`: replays the one case a failure named, and nothing else.
///
/// The corpus is `Tests/Fuzz/<name>/`: every file is an input, replayed on every run. An input
/// that fails is saved under `.build/fuzz-findings/<name>/` (a crash too, by a trap handler that
/// also prints the case); moved into the corpus it becomes a regression test.
public struct FuzzTarget: Sendable {
    public var name: String
    /// Inputs to replay and to mutate, besides the corpus.
    public var seeds: [[UInt8]]
    /// Byte strings this target's mutations insert, besides ``FuzzMutator/sharedTokens``.
    public var tokens: [[UInt8]]
    /// A fresh input: a swift-property-based generator run with the case's random numbers.
    public var generate: @Sendable (inout Xoshiro) -> [UInt8]
    /// The properties; a failed one throws. A crash ends the process, after the trap handler
    /// printed the case.
    public var check: @Sendable ([UInt8]) throws(FuzzFailure) -> Void

    public init(
        _ name: String, seeds: [String], tokens: [String] = [], generator: Generator<String, some SendableSequenceType>,
        check: @escaping @Sendable ([UInt8]) throws(FuzzFailure) -> Void
    ) {
        self.name = name
        self.seeds = seeds.map { Array($0.utf8) }
        self.tokens = tokens.map { Array($0.utf8) }
        self.generate = { random in Array(generator.run(using: &random).utf8) }
        self.check = check
    }

    /// The folder of this target's regression corpus.
    public var corpusFolder: URL { FuzzBudget.testsFolder.appending(path: "Fuzz/\(name)") }

    /// The corpus files, sorted by name, with their bytes.
    public func corpus() -> [(file: String, bytes: [UInt8])] {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: corpusFolder.path)) ?? []
        return files.sorted().compactMap { file in
            (try? Data(contentsOf: corpusFolder.appending(path: file))).map { (file, [UInt8]($0)) }
        }
    }

    /// Replays the corpus and seeds, then fuzzes for the budget; records an issue naming the
    /// case at the first failure.
    public func run(sourceLocation: SourceLocation = #_sourceLocation) {
        let suite = sourceLocation.fileName.split(separator: ".").first.map(String.init) ?? name
        // Where the crash handler writes an input that crashed.
        try? FileManager.default.createDirectory(at: FuzzBudget.findingsFolder(target: name), withIntermediateDirectories: true)
        if let text = FuzzBudget.replaySeed {
            guard let seed = Xoshiro(seed: text) else {
                Issue.record("AIRLOCK_FUZZ_SEED '\(text)' is not a seed (44 base64 characters)", sourceLocation: sourceLocation)
                return
            }
            let input = FuzzMutator(target: self, pool: pool()).input(seed)
            runCase(input, origin: "case \(text)", seed: text, suite: suite, sourceLocation: sourceLocation)
            return
        }
        for (file, bytes) in corpus() {
            guard runCase(bytes, origin: "corpus file Tests/Fuzz/\(name)/\(file)", seed: nil, suite: suite, sourceLocation: sourceLocation) else {
                return
            }
        }
        for (position, bytes) in seeds.enumerated() {
            guard runCase(bytes, origin: "seed \(position)", seed: nil, suite: suite, sourceLocation: sourceLocation) else { return }
        }
        let pool = pool()
        let mutator = FuzzMutator(target: self, pool: pool)
        var runRandom = Xoshiro()
        let start = ContinuousClock.now
        var cases = 0
        while ContinuousClock.now < start + .milliseconds(Int(FuzzBudget.seconds * 1000)) {
            let seed = Xoshiro(seed: (runRandom.next(), runRandom.next(), runRandom.next(), runRandom.next()))
            let input = mutator.input(seed)
            guard runCase(input, origin: "case \(seed.currentSeed)", seed: seed.currentSeed, suite: suite, sourceLocation: sourceLocation)
            else { return }
            cases += 1
        }
        print("fuzz target '\(name)': \(pool.count) corpus and seed inputs, then \(cases) cases in \(ContinuousClock.now - start)")
    }

    /// The inputs mutations start from: the corpus, then the seeds.
    func pool() -> [[UInt8]] { corpus().map(\.bytes) + seeds }

    /// Runs one case; on a failure, minimises the input, saves it and records the issue.
    @discardableResult
    func runCase(_ input: [UInt8], origin: String, seed: String?, suite: String, sourceLocation: SourceLocation) -> Bool {
        let replay = seed.map { "replay: AIRLOCK_FUZZ_SEED='\($0)' swift test --filter \(suite)" }
        let crashFile = FuzzBudget.findingsFolder(target: name).appending(path: "crash")
        let note = [
            "\nfuzz target '\(name)' crashed on \(origin)", "input: \(FuzzBudget.describe(input))", replay,
            "saved as \(crashFile.path); move it into Tests/Fuzz/\(name)/ to keep it as a regression test\n",
        ].compactMap { $0 }.joined(separator: "\n")
        guard let failure = checked(input, note: note, crashFile: crashFile) else { return true }
        let smallest = minimised(input, crashFile: crashFile)
        let saved = FuzzBudget.save(smallest, target: name)
        var lines = ["fuzz target '\(name)', \(origin): \(FuzzBudget.printable(failure.message))", "input: \(FuzzBudget.describe(input))"]
        if smallest != input {
            let still = checked(smallest, note: "", crashFile: crashFile)?.message ?? failure.message
            lines.append("minimised: \(FuzzBudget.describe(smallest)) (\(FuzzBudget.printable(still)))")
        }
        if let replay { lines.append(replay) }
        if let saved { lines.append("saved as \(saved.path); move it into Tests/Fuzz/\(name)/ to keep it as a regression test") }
        Issue.record(Comment(rawValue: lines.joined(separator: "\n")), sourceLocation: sourceLocation)
        return false
    }

    /// The failure of `input`'s check, or nil when it passes; a crash prints `note` first.
    private func checked(_ input: [UInt8], note: String, crashFile: URL) -> FuzzFailure? {
        FuzzCrashNote.guarding(note: note, path: crashFile.path, input: input) {
            do throws(FuzzFailure) {
                try check(input)
                return nil
            } catch {
                return error
            }
        }
    }

    /// The input with spans removed while the check still fails, so that the report shows what
    /// matters. (A crash ends the process before this runs; one while minimising is noted too.)
    public func minimised(_ input: [UInt8], crashFile: URL? = nil) -> [UInt8] {
        let crashFile = crashFile ?? FuzzBudget.findingsFolder(target: name).appending(path: "crash")
        var smallest = input
        var span = max(smallest.count / 2, 1)
        var attempts = 0
        while span >= 1, attempts < 2_000 {
            var start = 0
            var removedAny = false
            while start < smallest.count, attempts < 2_000 {
                attempts += 1
                var candidate = smallest
                candidate.removeSubrange(start..<min(start + span, candidate.count))
                let note = "\nfuzz target '\(name)' crashed while minimising a failing input: \(FuzzBudget.describe(candidate))\n"
                if checked(candidate, note: note, crashFile: crashFile) != nil {
                    smallest = candidate
                    removedAny = true
                } else {
                    start += span
                }
            }
            if !removedAny { span /= 2 }
        }
        return smallest
    }
}

/// A property that does not hold, with what was seen.
public struct FuzzFailure: Error, Sendable {
    public var message: String

    public init(_ message: String) {
        self.message = message
    }
}

/// Throws ``FuzzFailure`` with `message` unless `condition` holds.
public func fuzzRequire(_ condition: Bool, _ message: @autoclosure () -> String) throws(FuzzFailure) {
    if !condition { throw FuzzFailure(message()) }
}

/// The budget and replay settings from the environment, and how inputs are written in reports.
public enum FuzzBudget {
    /// Seconds of fuzzing per target: `AIRLOCK_FUZZ_SECONDS`, 2 by default.
    public static var seconds: Double {
        ProcessInfo.processInfo.environment["AIRLOCK_FUZZ_SECONDS"].flatMap(Double.init).map { max($0, 0) } ?? 2
    }

    /// `AIRLOCK_FUZZ_SEED`: the one case to replay.
    public static var replaySeed: String? {
        ProcessInfo.processInfo.environment["AIRLOCK_FUZZ_SEED"].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// The package's `Tests` folder.
    static let testsFolder = URL(filePath: #filePath).deletingLastPathComponent().deletingLastPathComponent()

    /// `.build/fuzz-findings/<target>/`.
    static func findingsFolder(target: String) -> URL {
        testsFolder.deletingLastPathComponent().appending(path: ".build/fuzz-findings/\(target)")
    }

    /// Writes a failing input to the findings folder, named by its contents.
    static func save(_ input: [UInt8], target: String) -> URL? {
        let folder = findingsFolder(target: target)
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in input { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        let file = folder.appending(path: "failure-" + String(hash, radix: 16))
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            try Data(input).write(to: file)
            return file
        } catch {
            return nil
        }
    }

    /// A failure's message with control characters escaped: a NUL from an input's `\\u0000`
    /// would cut the report short.
    static func printable(_ message: String) -> String {
        var text = ""
        for scalar in message.unicodeScalars {
            if scalar.value < 0x20 || scalar.value == 0x7F {
                text += "\\x" + (scalar.value < 0x10 ? "0" : "") + String(scalar.value, radix: 16)
            } else {
                text.unicodeScalars.append(scalar)
            }
        }
        return text
    }

    /// Text from an input (a key, an id) for a message: quoted, escaped, cut at 100 bytes.
    public static func quoted(_ text: some StringProtocol) -> String {
        describe(Array(text.utf8), limit: 100, withLength: false)
    }

    /// The input as a quoted, escaped string cut at 300 bytes, with its length.
    public static func describe(_ input: [UInt8], limit: Int = 300, withLength: Bool = true) -> String {
        var text = "\""
        for byte in input.prefix(limit) {
            switch byte {
            case UInt8(ascii: "\""): text += "\\\""
            case UInt8(ascii: "\\"): text += "\\\\"
            case 0x20..<0x7F: text.unicodeScalars.append(Unicode.Scalar(byte))
            case 0x0A: text += "\\n"
            default: text += "\\x" + (byte < 0x10 ? "0" : "") + String(byte, radix: 16)
            }
        }
        text += "\""
        guard withLength else { return input.count > limit ? text + "…" : text }
        return input.count > limit ? text + "… (\(input.count) bytes)" : text + " (\(input.count) bytes)"
    }
}
