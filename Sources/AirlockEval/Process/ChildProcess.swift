import CAirlockSpawn
import Foundation
import Synchronization

/// How a child process ended.
public enum ChildTermination: Sendable, Hashable {
    case exited(Int32)
    case signalled(Int32)

    /// The number a shell reports: the exit code, or 128 plus the signal.
    public var status: Int32 {
        switch self {
        case .exited(let code): code
        case .signalled(let signal): 128 + signal
        }
    }
}

/// A child process of Airlock's. Every child (installer steps, the local model's server,
/// bubblewrap and all that runs in sandboxes, services) is started here: from the one spawning
/// thread, with an empty signal mask, default signal dispositions, no inherited descriptors
/// beyond its three streams (`airlock_spawn`).
public final class ChildProcess: Sendable {
    public let pid: pid_t
    /// The child leads a process group of its own, and signals go to the whole group.
    public let leadsGroup: Bool
    private let state = Mutex<State>(.running([]))
    /// Left when the child has been reaped, for threads that block on it.
    private let reaped = DispatchGroup()

    private enum State {
        case running([CheckedContinuation<ChildTermination, Never>])
        case ended(ChildTermination)
    }

    /// Airlock writes to its children's pipes; one that exits before reading all its input must
    /// cost a failed write, not Airlock. Children get SIGPIPE back at its default.
    private static let ignoreBrokenPipes: Void = { signal(SIGPIPE, SIG_IGN) }()

    /// Starts `executable` (a path) with `arguments`. `environment` nil inherits Airlock's;
    /// `stdin` nil reads `/dev/null`; standard output and error default to Airlock's own. With
    /// `processGroup`, the child leads a new process group and `send` reaches all it starts.
    public static func start(
        _ executable: String, _ arguments: [String], environment: [String: String]? = nil, directory: String? = nil,
        stdin: Int32? = nil, stdout: Int32 = STDOUT_FILENO, stderr: Int32 = STDERR_FILENO, processGroup: Bool = false
    ) throws -> ChildProcess {
        _ = ignoreBrokenPipes
        let null = stdin == nil ? open("/dev/null", O_RDONLY | O_CLOEXEC) : -1
        defer { if null >= 0 { close(null) } }
        let pid = try SpawningThread.shared.spawn {
            try spawn(executable, arguments, environment: environment, directory: directory, streams: (stdin ?? null, stdout, stderr), processGroup: processGroup)
        }
        let child = ChildProcess(pid: pid, leadsGroup: processGroup)
        let reaper = Thread { child.reap() }
        reaper.name = "airlock-wait-\(pid)"
        reaper.start()
        return child
    }

    private init(pid: pid_t, leadsGroup: Bool) {
        self.pid = pid
        self.leadsGroup = leadsGroup
        reaped.enter()
    }

    private static func spawn(
        _ executable: String, _ arguments: [String], environment: [String: String]?, directory: String?, streams: (Int32, Int32, Int32),
        processGroup: Bool
    ) throws -> pid_t {
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        let envp = environment.map { $0.map { strdup("\($0.key)=\($0.value)") } + [nil] }
        defer { for pointer in envp ?? [] { free(pointer) } }
        var pid: pid_t = 0
        let rc = argv.withUnsafeBufferPointer { argv in
            withOptionalBuffer(envp) { envp in
                airlock_spawn(&pid, executable, argv.baseAddress, envp, directory, streams.0, streams.1, streams.2, processGroup ? 1 : 0)
            }
        }
        guard rc == 0 else {
            throw ChildProcessError(executable: executable, message: String(cString: strerror(rc)))
        }
        return pid
    }

    private static func withOptionalBuffer<R>(_ array: [UnsafeMutablePointer<CChar>?]?, _ body: (UnsafePointer<UnsafeMutablePointer<CChar>?>?) -> R) -> R {
        guard let array else { return body(nil) }
        return array.withUnsafeBufferPointer { body($0.baseAddress) }
    }

    /// Waits for the child on a thread of its own, so no signal handler is needed to reap it.
    private func reap() {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        let termination: ChildTermination = status & 0x7f == 0 ? .exited((status >> 8) & 0xff) : .signalled(status & 0x7f)
        let waiters = state.withLock { state -> [CheckedContinuation<ChildTermination, Never>] in
            guard case .running(let waiters) = state else { return [] }
            state = .ended(termination)
            return waiters
        }
        reaped.leave()
        for waiter in waiters { waiter.resume(returning: termination) }
    }

    /// How it ended, or nil while it runs.
    public var termination: ChildTermination? {
        state.withLock { state in
            if case .ended(let termination) = state { return termination }
            return nil
        }
    }

    public var isRunning: Bool { termination == nil }

    /// Sends `signal` (to the child's group where it leads one) unless the child has been
    /// reaped, when its id may belong to another.
    public func send(_ signal: Int32) {
        state.withLock { state in
            if case .running = state { _ = kill(leadsGroup ? -pid : pid, signal) }
        }
    }

    /// Waits until the child has ended.
    public func wait() async -> ChildTermination {
        await withCheckedContinuation { continuation in
            let ended = state.withLock { state -> ChildTermination? in
                switch state {
                case .ended(let termination): return termination
                case .running(let waiters):
                    state = .running(waiters + [continuation])
                    return nil
                }
            }
            if let ended { continuation.resume(returning: ended) }
        }
    }

    /// Blocks the calling thread until the child has ended.
    public func waitUntilExit() -> ChildTermination {
        reaped.wait()
        return termination!
    }

    /// Asks the child (or its group) to end with SIGTERM, kills it after `grace`, and waits for it.
    @discardableResult
    public func stop(grace: Duration = .seconds(5)) async -> ChildTermination {
        send(SIGTERM)
        let ended = await withTaskGroup(of: ChildTermination?.self) { group in
            group.addTask { await self.wait() }
            group.addTask {
                try? await Task.sleep(for: grace)
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
        if let ended {
            // What the leader started may outlive it; the group's id stays reserved while any remain.
            if leadsGroup { _ = kill(-pid, SIGKILL) }
            return ended
        }
        send(SIGKILL)
        return await wait()
    }
}

/// A child that could not be started.
public struct ChildProcessError: Error, CustomStringConvertible {
    public var executable: String
    public var message: String
    public var description: String { "cannot start \(executable): \(message)" }
}

/// A finished child process: its status, and its output up to a cap.
public struct ChildProcessResult: Sendable, Hashable {
    /// The exit code, or 128 plus the signal that ended it.
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

extension ChildProcess {
    /// Runs a program to completion with standard input, a wall-clock limit and an output cap.
    public static func run(
        _ executable: String, _ arguments: [String], environment: [String: String]? = ["PATH": "/usr/sbin:/usr/bin:/sbin:/bin"],
        stdin: Data? = nil, timeout: Duration, outputLimit: Int
    ) async throws -> ChildProcessResult {
        let input = try ChildPipe()
        let output = try ChildPipe()
        let errors = try ChildPipe()
        let child: ChildProcess
        do {
            child = try start(executable, arguments, environment: environment, stdin: input.read, stdout: output.write, stderr: errors.write)
        } catch {
            input.closeBoth(); output.closeBoth(); errors.closeBoth()
            throw error
        }
        close(input.read); close(output.write); close(errors.write)
        // Readers run on their own threads: a full pipe must never block the child.
        let stdoutReader = CappedReader(FileHandle(fileDescriptor: output.read, closeOnDealloc: true), limit: outputLimit)
        let stderrReader = CappedReader(FileHandle(fileDescriptor: errors.read, closeOnDealloc: true), limit: outputLimit)
        let feeder = Thread {
            let handle = FileHandle(fileDescriptor: input.write, closeOnDealloc: true)
            if let stdin { try? handle.write(contentsOf: stdin) }
            try? handle.close()
        }
        feeder.start()
        let timedOut = await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                _ = await child.wait()
                return false
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return !Task.isCancelled
            }
            let first = await group.next() ?? false
            if first || Task.isCancelled {
                // Out of time (or cancelled): kill it; bubblewrap takes everything inside with it.
                child.send(SIGKILL)
            }
            group.cancelAll()
            for await _ in group {}
            return first
        }
        let termination = await child.wait()
        let (out, outTruncated) = stdoutReader.finish()
        let (err, errTruncated) = stderrReader.finish()
        try Task.checkCancellation()
        return ChildProcessResult(status: termination.status, stdout: out, stderr: err, timedOut: timedOut, truncated: outTruncated || errTruncated)
    }
}

/// A pipe whose ends close on exec (the child gets its end through `airlock_spawn`'s dup2).
struct ChildPipe {
    let read: Int32
    let write: Int32

    init() throws {
        var ends: [Int32] = [0, 0]
        guard airlock_pipe(&ends) == 0 else {
            throw ChildProcessError(executable: "pipe", message: String(cString: strerror(errno)))
        }
        read = ends[0]
        write = ends[1]
    }

    func closeBoth() {
        close(read)
        close(write)
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
