import Foundation
import Synchronization

/// The one thread every child is started from.
///
/// bubblewrap's `--die-with-parent` (`PR_SET_PDEATHSIG`) fires when the *thread* that started it
/// exits, not the process, and the threads that async code and Foundation run on come and go:
/// a command or a victim service started from a thread that later went idle was killed mid-run.
/// A thread that lives as long as the process keeps `--die-with-parent` meaning what it says:
/// the sandbox dies with Airlock (kill -9 included), and not before.
final class SpawningThread: Sendable {
    static let shared = SpawningThread()

    /// A spawn handed to the spawning thread, and where its outcome goes.
    private struct Job: Sendable {
        let spawn: @Sendable () throws -> pid_t
        let done: @Sendable (Result<pid_t, any Error>) -> Void
    }

    private let jobs = Mutex<[Job]>([])
    private let pending = DispatchSemaphore(value: 0)

    private init() {
        let thread = Thread { self.serve() }
        thread.name = "airlock-spawn"
        thread.start()
    }

    private func serve() -> Never {
        while true {
            pending.wait()
            guard let job = jobs.withLock({ $0.isEmpty ? nil : $0.removeFirst() }) else { continue }
            job.done(Result { try job.spawn() })
        }
    }

    /// Runs `spawn` on the spawning thread and waits for the child's id. The wait is short (one
    /// posix_spawn), so callers on any thread may block on it.
    func spawn(_ spawn: @escaping @Sendable () throws -> pid_t) throws -> pid_t {
        let started = DispatchSemaphore(value: 0)
        let outcome = Mutex<Result<pid_t, any Error>?>(nil)
        jobs.withLock {
            $0.append(Job(spawn: spawn) { result in
                outcome.withLock { $0 = result }
                started.signal()
            })
        }
        pending.signal()
        started.wait()
        return try outcome.withLock { $0! }.get()
    }
}
