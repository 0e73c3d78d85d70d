import Foundation
import Synchronization

/// A finished child process: its status, and its output up to a cap.
public struct ChildProcessResult: Sendable, Hashable {
    public var status: Int32
    public var stdout: Data
    public var stderr: Data
    /// The wall-clock limit ended it.
    public var timedOut: Bool
    /// Output past the cap was dropped.
    public var truncated: Bool

    public var output: String { String(decoding: stdout, as: UTF8.self) }
    public var errorOutput: String { String(decoding: stderr, as: UTF8.self) }
}

/// Runs a program to completion with standard input, a wall-clock limit and an output cap.
enum ChildProcess {
    /// A child that exits before reading all its input must cost a failed write, not this process.
    private static let ignoreBrokenPipes: Void = { signal(SIGPIPE, SIG_IGN) }()

    static func run(_ executable: String, _ arguments: [String], stdin: Data? = nil, timeout: Duration, outputLimit: Int) async throws -> ChildProcessResult {
        _ = ignoreBrokenPipes
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = ["PATH": "/usr/sbin:/usr/bin:/sbin:/bin"]
        let input = Pipe()
        let output = Pipe()
        let error = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = error
        let exited = AsyncStream<Void>.makeStream()
        process.terminationHandler = { _ in exited.continuation.finish() }
        try await SpawningThread.shared.start(process)
        // Readers run on their own threads: a full pipe must never block the child.
        let stdoutReader = CappedReader(output.fileHandleForReading, limit: outputLimit)
        let stderrReader = CappedReader(error.fileHandleForReading, limit: outputLimit)
        let feeder = Thread {
            if let stdin { try? input.fileHandleForWriting.write(contentsOf: stdin) }
            try? input.fileHandleForWriting.close()
        }
        feeder.start()
        let timedOut = await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                for await _ in exited.stream {}
                return false
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return !Task.isCancelled
            }
            let first = await group.next() ?? false
            if first || Task.isCancelled {
                // Out of time (or cancelled): kill it; bubblewrap takes everything inside with it.
                kill(process.processIdentifier, SIGKILL)
            }
            group.cancelAll()
            for await _ in group {}
            return first
        }
        process.waitUntilExit()
        let (out, outTruncated) = stdoutReader.finish()
        let (err, errTruncated) = stderrReader.finish()
        try Task.checkCancellation()
        return ChildProcessResult(status: process.terminationStatus, stdout: out, stderr: err, timedOut: timedOut, truncated: outTruncated || errTruncated)
    }
}

/// Reads a pipe to its end on a thread of its own, keeping at most `limit` bytes.
final class CappedReader: Sendable {
    private let state = Mutex((data: Data(), truncated: false))
    private let done = DispatchSemaphore(value: 0)

    init(_ handle: FileHandle, limit: Int) {
        Thread { self.read(handle, limit: limit) }.start()
    }

    private func read(_ handle: FileHandle, limit: Int) {
        while true {
            let chunk = handle.availableData
            if chunk.isEmpty { break }
            state.withLock { state in
                let room = limit - state.data.count
                if chunk.count > room { state.truncated = true }
                if room > 0 { state.data.append(chunk.prefix(room)) }
            }
        }
        done.signal()
    }

    func finish() -> (Data, Bool) {
        done.wait()
        return state.withLock { ($0.data, $0.truncated) }
    }
}
