@testable import AirlockEval
import AirlockTestSupport
import Foundation
import Logging
import Synchronization
import Testing

/// A process's blocked and ignored signals, from `/proc/PID/status`.
struct SignalState: Equatable, CustomStringConvertible {
    var blocked: UInt64
    var ignored: UInt64

    /// glibc's own real-time signals (32 and 33), which its threads may block for themselves.
    static let libcSignals: UInt64 = 0x1_8000_0000

    init?(status: String) {
        func field(_ name: String) -> UInt64? {
            status.split(separator: "\n").first { $0.hasPrefix(name + ":") }
                .flatMap { UInt64($0.dropFirst(name.count + 1).trimmingCharacters(in: .whitespaces), radix: 16) }
        }
        guard let blocked = field("SigBlk"), let ignored = field("SigIgn") else { return nil }
        self.blocked = blocked
        self.ignored = ignored
    }

    /// Nothing blocked and nothing ignored, glibc's signals aside.
    var isClean: Bool { blocked & ~Self.libcSignals == 0 && ignored & ~Self.libcSignals == 0 }

    var description: String { "SigBlk \(String(blocked, radix: 16)), SigIgn \(String(ignored, radix: 16))" }

    static func of(pid: pid_t) -> SignalState? {
        (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)).flatMap(SignalState.init(status:))
    }
}

@Suite struct ChildProcessTests {
    /// Airlock's own threads block signals and Airlock ignores SIGPIPE; its children must not inherit either.
    @Test func childrenStartWithNoBlockedAndNoIgnoredSignals() async throws {
        // Started from a task, as the engine does (the concurrency pool's threads block most signals).
        let result = try await Task.detached {
            try await ChildProcess.run("/bin/cat", ["/proc/self/status"], timeout: .seconds(30), outputLimit: 1 << 16)
        }.value
        #expect(result.status == 0)
        let state = try #require(SignalState(status: result.output))
        #expect(state.isClean, "\(state)")
    }

    @Test func aPipelineWhoseReaderLeavesEndsBySIGPIPE() async throws {
        let result = try await ChildProcess.run("/bin/bash", ["-c", "yes | head -c 1 >/dev/null; echo ${PIPESTATUS[0]}"], timeout: .seconds(30), outputLimit: 1 << 10)
        // 141 = 128 + SIGPIPE; with SIGPIPE ignored `yes` gets a write error and exits 1.
        #expect(result.output == "141\n")
    }

    @Test func onlyTheThreeStreamsAreInherited() async throws {
        // A pipe without close-on-exec, as a library might leave one.
        var ends: [Int32] = [0, 0]
        #expect(pipe(&ends) == 0)
        defer { close(ends[0]); close(ends[1]) }
        let result = try await ChildProcess.run("/bin/ls", ["/proc/self/fd"], timeout: .seconds(30), outputLimit: 1 << 10)
        // 0, 1, 2, and the directory ls reads.
        let descriptors = result.output.split(separator: "\n").compactMap { Int32($0) }
        #expect(descriptors.count == 4, "\(descriptors)")
    }

    /// cmake waits for its own children through libuv, which needs SIGCHLD: with it blocked,
    /// `execute_process` never returns (the llama.cpp build hung this way).
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/cmake"), "needs cmake (make test installs it)"))
    func aLibuvProgramThatWaitsOnItsChildFinishes() async throws {
        let folder = NSTemporaryDirectory() + "airlock-cmake-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try """
            cmake_minimum_required(VERSION 3.10)
            project(probe NONE)
            execute_process(COMMAND uname -s OUTPUT_VARIABLE system)
            message(STATUS "system: ${system}")
            """.write(toFile: folder + "/CMakeLists.txt", atomically: true, encoding: .utf8)
        let result = try await ChildProcess.run(
            "/usr/bin/cmake", ["-S", folder, "-B", folder + "/build"], environment: nil, timeout: .seconds(120), outputLimit: 1 << 20
        )
        #expect(!result.timedOut)
        #expect(result.status == 0, "\(result.errorOutput)")
        #expect(result.output.contains("system: Linux"))
    }

    @Test func waitAndStopReportHowTheChildEnded() async throws {
        let exited = try ChildProcess.start("/bin/sh", ["-c", "exit 7"])
        #expect(await exited.wait() == .exited(7))
        #expect(!exited.isRunning)
        let sleeper = try ChildProcess.start("/bin/sleep", ["60"])
        #expect(sleeper.isRunning)
        #expect(await sleeper.stop(grace: .seconds(5)) == .signalled(SIGTERM))
        #expect(sleeper.waitUntilExit() == .signalled(SIGTERM))
        #expect(throws: ChildProcessError.self) { try ChildProcess.start("/no/such/program", []) }
    }
}

@Suite struct SetupStepTests {
    static func folder() throws -> String {
        let folder = NSTemporaryDirectory() + "airlock-setup-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        return folder
    }

    /// Collects what a step reports.
    final class Lines: Sendable {
        let lines = Mutex<[String]>([])
        var all: [String] { lines.withLock { $0 } }
        func add(_ line: String) { lines.withLock { $0.append(line) } }
    }

    @Test func anInstallStepsChildHasACleanSignalStateAndItsOutputGoesToTheLog() async throws {
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var step = SetupStep(name: "probing", logPath: folder + "/probe.log", timeLimit: .seconds(60), retry: "make probe")
        let lines = Lines()
        step.report = { lines.add($0) }
        try await Task.detached { try await step.run("/bin/cat", ["/proc/self/status"]) }.value
        let log = try String(contentsOfFile: folder + "/probe.log", encoding: .utf8)
        let state = try #require(SignalState(status: log))
        #expect(state.isClean, "\(state)")
        #expect(lines.all.first == "probing (log: \(folder)/probe.log)")
        #expect(lines.all.last?.hasPrefix("  done: probing in ") == true)
    }

    @Test(.timeLimit(.minutes(1))) func aLongStepSaysItIsAliveWithTheTimeElapsed() async throws {
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var step = SetupStep(name: "waiting", logPath: folder + "/wait.log", timeLimit: .seconds(60), retry: "make wait")
        step.heartbeat = .milliseconds(100)
        let lines = Lines()
        // The step runs until it has been heard from three times, however slow the machine.
        step.report = { line in
            lines.add(line)
            if lines.all.filter({ $0.hasPrefix("  still waiting: ") }).count == 3 {
                _ = FileManager.default.createFile(atPath: folder + "/enough", contents: nil)
            }
        }
        try await step.run("/bin/sh", ["-c", "while [ ! -e \(folder)/enough ]; do sleep 0.05; done"])
        let alive = lines.all.filter { $0.hasPrefix("  still waiting: ") && $0.hasSuffix("s elapsed") }
        #expect(alive.count >= 3, "\(lines.all)")
    }

    @Test func aFailedStepNamesItselfItsLogAndTheRetry() async throws {
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var step = SetupStep(name: "failing", logPath: folder + "/fail.log", timeLimit: .seconds(60), retry: "make again")
        step.report = { _ in }
        let error = try await #require(throws: EvalError.self) { try await step.run("/bin/sh", ["-c", "echo broken; exit 3"]) }
        #expect(error.code == .setupFailed)
        #expect(error.file == folder + "/fail.log")
        #expect(error.message.contains("step 'failing' failed: it exited with status 3"))
        #expect(error.message.contains("retry with: make again"))
        #expect(try String(contentsOfFile: folder + "/fail.log", encoding: .utf8).contains("broken"))
    }

    @Test(.timeLimit(.minutes(1))) func aStepOverItsTimeLimitIsStoppedWithAllItStarted() async throws {
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var step = SetupStep(name: "hanging", logPath: folder + "/hang.log", timeLimit: .milliseconds(500), retry: "make hang")
        step.report = { _ in }
        // The step's child starts a grandchild that would outlive it, as pip starts cmake.
        let pidFile = folder + "/grandchild.pid"
        let error = try await #require(throws: EvalError.self) {
            try await step.run("/bin/sh", ["-c", "sleep 300 & echo $! > \(pidFile); wait"])
        }
        #expect(error.message.contains("did not finish within"))
        let grandchild = try #require(Int32(try String(contentsOfFile: pidFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
        // Killed: gone, or a zombie until whoever adopted it reaps it.
        func running() -> Bool {
            let state = (try? String(contentsOfFile: "/proc/\(grandchild)/stat", encoding: .utf8))?.split(separator: " ").dropFirst(2).first
            return state != nil && state != "Z"
        }
        for _ in 0..<50 where running() { try await Task.sleep(for: .milliseconds(100)) }
        #expect(!running(), "the grandchild \(grandchild) is still running")
    }
}

@Suite(.enabled(if: TestEnvironment.runs(.localModel, ifAvailable: LocalModel.isInstalled(LocalModel.Configuration(environment: ProcessInfo.processInfo.environment))), "needs the local model (make test installs it)"))
struct LocalModelServerTests {
    @Test func theServerStartsWithACleanSignalState() async throws {
        let configuration = LocalModel.Configuration(environment: ProcessInfo.processInfo.environment)
        let state = try await LocalModel.withServer(configuration, logger: Logger(label: "test")) { _ -> SignalState? in
            // The server is this process's child whose command line runs llama_cpp.server.
            let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
            let server = entries.compactMap { Int32($0) }.first { pid in
                guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
                      status.contains("\nPPid:\t\(getpid())\n"),
                      let command = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return false }
                return String(decoding: command, as: UTF8.self).contains("llama_cpp.server")
            }
            return server.flatMap(SignalState.of(pid:))
        }
        let found = try #require(state, "no llama.cpp server among this process's children")
        // CPython itself ignores SIGPIPE and SIGXFSZ at start-up (its signal module's defaults);
        // nothing else may be ignored, and nothing blocked.
        let python: UInt64 = 1 << (SIGPIPE - 1) | 1 << (SIGXFSZ - 1)
        #expect(found.blocked & ~SignalState.libcSignals == 0, "\(found)")
        #expect(found.ignored & ~(SignalState.libcSignals | python) == 0, "\(found)")
    }
}
