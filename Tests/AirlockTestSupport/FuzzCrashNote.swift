import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Names the case that crashed the test process.
///
/// A check that traps (an overflow, an index out of range) ends the process with the runtime's
/// message alone. While a case runs, its note (target, seed, input, how to replay) lies in a slot
/// of its thread; a handler of the synchronous crash signals prints the note of the crashing
/// thread, writes the input to the findings folder, and hands the signal to the handler that was
/// there before, so the process still dies as it would have.
enum FuzzCrashNote {
    private struct Slot {
        var thread: pthread_t = 0
        var active = false
        var note = UnsafeMutablePointer<UInt8>.allocate(capacity: noteCapacity)
        var noteLength = 0
        var path = UnsafeMutablePointer<CChar>.allocate(capacity: pathCapacity)
        var input: UnsafeBufferPointer<UInt8>?
    }

    private static let noteCapacity = 2_048
    private static let pathCapacity = 1_024
    private static let slotCount = 64
    private static let signals = [SIGILL, SIGTRAP, SIGSEGV, SIGBUS, SIGFPE]

    /// Read by the signal handler, which may not take locks or allocate; a slot is written only
    /// by the thread that claimed it, through `claimed`.
    private nonisolated(unsafe) static let slots: UnsafeMutablePointer<Slot> = {
        let slots = UnsafeMutablePointer<Slot>.allocate(capacity: slotCount)
        for index in 0..<slotCount { (slots + index).initialize(to: Slot()) }
        return slots
    }()
    private nonisolated(unsafe) static let previous: UnsafeMutablePointer<sigaction> = {
        let previous = UnsafeMutablePointer<sigaction>.allocate(capacity: 64)
        previous.initialize(repeating: sigaction(), count: 64)
        return previous
    }()
    private static let claimed = Mutex<[Bool]>(Array(repeating: false, count: slotCount))

    private static let installed: Void = {
        for signal in signals {
            var action = sigaction()
            action.__sigaction_handler.sa_handler = { signal in FuzzCrashNote.crashed(signal) }
            sigemptyset(&action.sa_mask)
            action.sa_flags = SA_ONSTACK
            sigaction(signal, &action, previous + Int(signal))
        }
    }()

    /// Runs `body` with `note` as this thread's note, and `input` to be written to `path` should it crash.
    static func guarding<Result>(note: String, path: String, input: [UInt8], _ body: () -> Result) -> Result {
        _ = installed
        guard let index = claimed.withLock({ slots -> Int? in
            guard let free = slots.firstIndex(of: false) else { return nil }
            slots[free] = true
            return free
        }) else { return body() }
        defer {
            slots[index].active = false
            slots[index].input = nil
            claimed.withLock { $0[index] = false }
        }
        let noteBytes = Array(note.utf8.prefix(noteCapacity))
        noteBytes.withUnsafeBufferPointer { slots[index].note.update(from: $0.baseAddress!, count: $0.count) }
        slots[index].noteLength = noteBytes.count
        let pathBytes = Array(path.utf8CString.prefix(pathCapacity - 1)) + [0]
        pathBytes.withUnsafeBufferPointer { slots[index].path.update(from: $0.baseAddress!, count: $0.count) }
        slots[index].thread = pthread_self()
        return input.withUnsafeBufferPointer { buffer in
            slots[index].input = buffer
            slots[index].active = true
            return body()
        }
    }

    private static func crashed(_ signal: Int32) {
        let me = pthread_self()
        for index in 0..<slotCount where slots[index].active && pthread_equal(slots[index].thread, me) != 0 {
            _ = write(2, slots[index].note, slots[index].noteLength)
            if let input = slots[index].input {
                let file = open(slots[index].path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
                if file >= 0 {
                    if let base = input.baseAddress { _ = write(file, base, input.count) }
                    close(file)
                }
            }
        }
        // The earlier handler (the runtime's backtracer, or the default) takes over: a fault runs
        // again when this returns; a trap instruction does not, so it is raised again.
        sigaction(signal, previous + Int(signal), nil)
        if signal == SIGTRAP { raise(signal) }
    }
}
