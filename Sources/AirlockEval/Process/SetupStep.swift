import Foundation

/// One step of setting a machine up (a venv, a pip install, assembling the model): a command
/// with its own log file and a time limit, which says every `heartbeat` that it is alive.
///
/// On failure or time-out it throws an error naming the step, its log file and the command
/// that retries it; steps are written so that a retry resumes (what is done is skipped).
/// `scripts/setup-step.sh` does the same for the steps `make` runs before Airlock is built.
public struct SetupStep: Sendable {
    /// What the step does, as people read it ("installing llama.cpp's server from PyPI").
    public var name: String
    public var logPath: String
    public var timeLimit: Duration
    /// The command a person runs to try again.
    public var retry: String
    public var heartbeat: Duration = .seconds(30)
    /// Where progress lines go (standard error by default, so a long step is seen at any log level).
    public var report: @Sendable (String) -> Void = { FileHandle.standardError.write(Data("\($0)\n".utf8)) }

    public init(name: String, logPath: String, timeLimit: Duration, retry: String) {
        self.name = name
        self.logPath = logPath
        self.timeLimit = timeLimit
        self.retry = retry
    }

    /// Runs `executable` with `arguments` (and `environment`, nil: Airlock's own), its output
    /// appended to the step's log.
    public func run(_ executable: String, _ arguments: [String], environment: [String: String]? = nil) async throws {
        let folder = URL(fileURLWithPath: logPath).deletingLastPathComponent().path
        try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let log = open(logPath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard log >= 0 else { throw failure("cannot open its log") }
        defer { close(log) }
        let header = "\n== \(Date()) \(([executable] + arguments).joined(separator: " "))\n"
        _ = header.utf8CString.withUnsafeBufferPointer { write(log, $0.baseAddress, $0.count - 1) }
        report("\(name) (log: \(logPath))")
        let child: ChildProcess
        do {
            child = try ChildProcess.start(executable, arguments, environment: environment, stdout: log, stderr: log, processGroup: true)
        } catch {
            throw failure("\(error)")
        }
        let clock = ContinuousClock()
        let started = clock.now
        // The first to finish: the child (its termination), or the clock (nil: out of time, or cancelled).
        let outcome = await withTaskGroup(of: ChildTermination?.self) { group in
            group.addTask { await child.wait() }
            group.addTask {
                while clock.now - started < timeLimit {
                    let left = timeLimit - (clock.now - started)
                    guard (try? await Task.sleep(for: min(heartbeat, left))) != nil else { return nil }
                    if clock.now - started < timeLimit {
                        report("  still \(name): \(Self.minutesAndSeconds(clock.now - started)) elapsed")
                    }
                }
                return nil
            }
            let first = await group.next() ?? nil
            // The group waits for the child's task, so a child out of time is stopped here, with all it started.
            if first == nil { await child.stop(grace: .seconds(10)) }
            group.cancelAll()
            return first
        }
        guard let termination = outcome else {
            try Task.checkCancellation()
            throw failure("it did not finish within \(Self.minutesAndSeconds(timeLimit))")
        }
        guard termination.status == 0 else {
            throw failure("it exited with status \(termination.status)")
        }
        report("  done: \(name) in \(Self.minutesAndSeconds(clock.now - started))")
    }

    func failure(_ reason: String) -> EvalError {
        EvalError(.setupFailed, "step '\(name)' failed: \(reason); see its log, then retry with: \(retry)", file: logPath)
    }

    static func minutesAndSeconds(_ duration: Duration) -> String {
        let seconds = Int(duration.components.seconds)
        return seconds >= 60 ? "\(seconds / 60)m\(String(format: "%02d", seconds % 60))s" : "\(seconds)s"
    }
}
