import AirlockCore
import Foundation

/// A run on disk: `header.json` (written once), `samples.jsonl` (appended as attempts finish),
/// `results.json` (written when every attempt is done). A kill at any moment loses at most the
/// attempts in flight: a torn last line is cut off when the run is opened again.
public struct RunDirectory: Sendable {
    public let path: String

    public init(path: String) {
        self.path = path
    }

    public var headerPath: String { path + "/header.json" }
    public var samplesPath: String { path + "/samples.jsonl" }
    public var resultsPath: String { path + "/results.json" }

    /// Creates a new run folder under `logDirectory` and writes its header.
    public static func create(in logDirectory: String, header: RunHeader) throws -> RunDirectory {
        let stamp = Self.timestamp(header.created)
        let safeName = String(header.task.name.map { $0.isLetter || $0.isNumber || $0 == "-" ? $0 : "-" })
        let directory = RunDirectory(path: "\(logDirectory)/\(stamp)_\(safeName)_\(header.runID)")
        do {
            try FileManager.default.createDirectory(atPath: directory.path, withIntermediateDirectories: true)
        } catch {
            throw EvalError(.io, "cannot create the run folder: \(error.localizedDescription)", file: directory.path)
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(try encoder.encode(header), to: directory.headerPath)
        return directory
    }

    static func timestamp(_ seconds: Double) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd'T'HH-mm-ss"
        return formatter.string(from: Date(timeIntervalSince1970: seconds))
    }

    public func readHeader() throws -> RunHeader {
        guard let data = FileManager.default.contents(atPath: headerPath) else {
            throw EvalError(.runNotFound, "not a run folder (no header.json)", file: path)
        }
        do {
            return try JSONDecoder().decode(RunHeader.self, from: data)
        } catch {
            throw EvalError(.logCorrupt, "the header cannot be read: \(error)", file: headerPath)
        }
    }

    public func readResults() -> RunResults? {
        guard let data = FileManager.default.contents(atPath: resultsPath) else { return nil }
        return try? JSONDecoder().decode(RunResults.self, from: data)
    }

    public func writeResults(_ results: RunResults) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(try encoder.encode(results), to: resultsPath)
    }

    /// Every complete record, in the order written. A torn final line (the process died while
    /// writing it) is cut from the file when `repair` is set, so later appends start clean.
    public func readRecords(repair: Bool = false) throws -> [SampleRecord] {
        var records: [SampleRecord] = []
        let goodEnd = try scanRecords { record, _, _ in records.append(record) }
        if repair, goodEnd < (try? FileManager.default.attributesOfItem(atPath: samplesPath)[.size] as? Int) ?? goodEnd {
            guard truncate(samplesPath, off_t(goodEnd)) == 0 else {
                throw EvalError(.io, "cannot cut the torn last record: \(String(cString: strerror(errno)))", file: samplesPath)
            }
        }
        return records
    }

    /// Reads `samples.jsonl` a piece at a time, handing `body` each complete record with where
    /// its line lies (byte offset and length, without the newline); a torn final line is not
    /// handed. Returns the end of the last complete line.
    @discardableResult
    public func scanRecords(_ body: (SampleRecord, _ offset: Int, _ length: Int) throws -> Void) throws -> Int {
        guard let file = FileHandle(forReadingAtPath: samplesPath) else { return 0 }
        defer { try? file.close() }
        let decoder = JSONDecoder()
        var buffer: [UInt8] = []
        var bufferStart = 0  // the file offset of buffer[0]
        var unsearched = 0
        var lineNumber = 0
        while true {
            let chunk: Data
            do {
                chunk = try file.read(upToCount: 1 << 20) ?? Data()
            } catch {
                throw EvalError(.io, "cannot read: \(error)", file: samplesPath)
            }
            if chunk.isEmpty { return bufferStart }
            buffer.append(contentsOf: chunk)
            var lineStart = 0
            // A line longer than a piece is searched for its end once, not from its start each time.
            var searchFrom = unsearched
            while let newline = buffer[searchFrom...].firstIndex(of: UInt8(ascii: "\n")) {
                lineNumber += 1
                let record: SampleRecord
                do {
                    record = try decoder.decode(SampleRecord.self, from: Data(buffer[lineStart..<newline]))
                } catch {
                    throw EvalError(.logCorrupt, "record \(lineNumber) cannot be read: \(error)", file: samplesPath, line: lineNumber)
                }
                try body(record, bufferStart + lineStart, newline - lineStart)
                lineStart = newline + 1
                searchFrom = lineStart
            }
            buffer.removeFirst(lineStart)
            bufferStart += lineStart
            unsearched = buffer.count
        }
    }

    /// The record that stands for each attempt: a scored one wins over failures; otherwise the latest.
    public static func effectiveRecords(_ records: [SampleRecord]) -> [SampleKey: SampleRecord] {
        var effective: [SampleKey: SampleRecord] = [:]
        for record in records where stands(record.status, over: effective[record.key]?.status) { effective[record.key] = record }
        return effective
    }

    /// Whether a record of `status` stands for its attempt over the one that stood before it.
    public static func stands(_ status: SampleRecord.Status, over earlier: SampleRecord.Status?) -> Bool {
        !(earlier == .scored && status != .scored)
    }

    /// Run folders under `logDirectory`, newest first.
    public static func list(in logDirectory: String) -> [RunDirectory] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: logDirectory)) ?? []
        return names.sorted(by: >).map { RunDirectory(path: "\(logDirectory)/\($0)") }
            .filter { FileManager.default.fileExists(atPath: $0.headerPath) }
    }

    /// Finds a run by folder path, folder name, or run id under `logDirectory`.
    public static func find(_ reference: String, in logDirectory: String) throws -> RunDirectory {
        if FileManager.default.fileExists(atPath: reference + "/header.json") { return RunDirectory(path: reference) }
        let matches = list(in: logDirectory).filter {
            let name = URL(fileURLWithPath: $0.path).lastPathComponent
            return name == reference || name.hasSuffix("_" + reference)
        }
        guard let match = matches.first else {
            throw EvalError(.runNotFound, "no run '\(reference)' (give a run folder, or a run id under --log-dir \(logDirectory))")
        }
        return match
    }
}

/// Appends records to `samples.jsonl`, one `write` per record so that a kill leaves at most one torn line.
final class SampleLogWriter {
    private let descriptor: Int32
    let path: String

    init(path: String) throws {
        self.path = path
        descriptor = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw EvalError(.io, "cannot open for appending: \(String(cString: strerror(errno)))", file: path)
        }
    }

    deinit { close(descriptor) }

    /// Appends one encoded record, which must end with a newline.
    func append(_ line: Data) throws {
        try line.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = write(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    throw EvalError(.io, "cannot append a record: \(String(cString: strerror(errno)))", file: path)
                }
                offset += written
            }
        }
    }
}
