import Foundation
import Synchronization

/// The one thread every sandboxed child is started from.
///
/// bubblewrap's `--die-with-parent` (`PR_SET_PDEATHSIG`) fires when the *thread* that started it
/// exits, not the process, and the threads that async code and Foundation run on come and go:
/// a command or a victim service started from a thread that later went idle was killed mid-run.
/// A thread that lives as long as the process keeps `--die-with-parent` meaning what it says:
/// the sandbox dies with Airlock (kill -9 included), and not before.
final class SpawningThread: Sendable {
    static let shared = SpawningThread()

    /// A process handed to the spawning thread and back; only one thread touches it at a time.
    private struct Job: @unchecked Sendable {
        let process: Process
        let done: @Sendable (Result<Void, any Error>) -> Void
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
            job.done(Result { try job.process.run() })
        }
    }

    /// Starts `process` from the spawning thread and waits until it has started.
    func start(_ process: Process) throws {
        let started = DispatchSemaphore(value: 0)
        let outcome = Mutex<Result<Void, any Error>?>(nil)
        enqueue(Job(process: process) { result in
            outcome.withLock { $0 = result }
            started.signal()
        })
        started.wait()
        try outcome.withLock { $0! }.get()
    }

    /// The same, suspending instead of blocking.
    func start(_ process: Process) async throws {
        // The process crosses into the continuation's closure inside a Job, which is how it
        // travels to the spawning thread anyway.
        let carried = Job(process: process, done: { _ in })
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            enqueue(Job(process: carried.process, done: { continuation.resume(with: $0) }))
        }
    }

    private func enqueue(_ job: Job) {
        jobs.withLock { $0.append(job) }
        pending.signal()
    }
}
