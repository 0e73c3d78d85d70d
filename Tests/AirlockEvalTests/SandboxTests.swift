@testable import AirlockEval
import AirlockTestSupport
import Foundation
import Logging
import NIOCore
import NIOPosix
import Synchronization
import Testing

/// The walls of the range: what a command inside a sandbox can and cannot do. Each test targets
/// only this machine: its own loopback, or the namespace the sandbox made.
@Suite(.enabled(if: TestEnvironment.runs(.sandboxes, ifAvailable: Sandbox.isAvailable), "needs root and bubblewrap (make test installs it)"))
struct SandboxTests {
    let logger = Logger(label: "test")

    @Test func runsCommandsWithStdinStatusAndAFreshWorkFolder() async throws {
        try await Sandbox.withSandbox(logger: logger) { sandbox in
            let echo = try await sandbox.exec("cat; echo; pwd; id -un; echo scratch > /tmp/x && cat /tmp/x; exit 3", stdin: Data("hello".utf8))
            #expect(echo.status == 3)
            #expect(echo.output == "hello\n/home/agent\nagent\nscratch\n")
            try sandbox.writeFile("notes/in.txt", Data("from host".utf8))
            let roundTrip = try await sandbox.exec("cat notes/in.txt > out.txt && echo -n ' and back' >> out.txt")
            #expect(roundTrip.status == 0)
            #expect(String(decoding: try sandbox.readFile("/home/agent/out.txt"), as: UTF8.self) == "from host and back")
            #expect(throws: SandboxError.self) { try sandbox.readFile("../etc/passwd") }
        }
    }

    @Test func theWallClockLimitAndTheOutputCapHold() async throws {
        try await Sandbox.withSandbox(limits: SandboxLimits(outputBytes: 1000), logger: logger) { sandbox in
            let slow = try await sandbox.exec("sleep 30", timeout: .milliseconds(300))
            #expect(slow.timedOut)
            let loud = try await sandbox.exec("yes airlock | head -c 100000")
            #expect(loud.stdout.count == 1000)
            #expect(loud.truncated)
        }
    }

    @Test func nothingOutsideTheNamespaceCanBeReached() async throws {
        // A listener on the host's loopback, and on all of the host's addresses.
        let listener = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton).bind(host: "0.0.0.0", port: 0).get()
        let port = listener.localAddress!.port!
        defer { listener.close(promise: nil) }
        let hostAddresses = try System.enumerateDevices().compactMap { $0.address?.ipAddress }.filter { !$0.contains(":") }
        try await Sandbox.withSandbox(logger: logger) { sandbox in
            for address in Set(hostAddresses + ["127.0.0.1"]) {
                let probe = try await sandbox.exec(["/usr/bin/python3", "-c", "import socket; socket.create_connection(('\(address)', \(port)), timeout=2); print('reached')"])
                #expect(probe.status != 0, "reached \(address):\(port) from inside")
                #expect(!probe.output.contains("reached"))
            }
            let routes = try await sandbox.exec("cat /proc/net/route | wc -l; tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' '")
            #expect(routes.output == "1\nlo\n")
        }
    }

    @Test func hostFilesProcessesAndEnvironmentAreInvisible() async throws {
        let secretFolder = NSTemporaryDirectory() + "airlock-host-secret-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: secretFolder, withIntermediateDirectories: true)
        try "FLAG{host-only}".write(toFile: secretFolder + "/flag.txt", atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: secretFolder) }
        let marker = "airlock-marker-\(UUID().uuidString)"
        let hostProcess = Process()
        hostProcess.executableURL = URL(fileURLWithPath: "/bin/sleep")
        hostProcess.arguments = ["30"]
        hostProcess.environment = ["AIRLOCK_HOST_MARKER": marker]
        try hostProcess.run()
        defer { hostProcess.terminate() }
        setenv("AIRLOCK_HOST_SECRET", marker, 1)
        defer { unsetenv("AIRLOCK_HOST_SECRET") }
        try await Sandbox.withSandbox(logger: logger) { sandbox in
            let file = try await sandbox.exec("cat \(secretFolder)/flag.txt; ls /root /home 2>&1; cat /etc/shadow 2>&1")
            #expect(!file.output.contains("FLAG{host-only}"))
            let processes = try await sandbox.exec("ls /proc | grep -c '^[0-9]'; cat /proc/*/cmdline 2>/dev/null | tr '\\0' ' '")
            #expect(!processes.output.contains("sleep 30"))
            // Only the command itself and its helpers live in its PID namespace.
            #expect((Int(processes.output.split(separator: "\n").first ?? "") ?? 99) < 6)
            let environment = try await sandbox.exec("env; cat /proc/1/environ 2>/dev/null")
            #expect(!environment.output.contains(marker))
            #expect(!environment.output.contains("AIRLOCK_HOST_SECRET"))
        }
    }

    @Test func aForkBombIsContainedAndEverythingEndsWithTheSandbox() async throws {
        let uid = try await Sandbox.withSandbox(limits: SandboxLimits(processes: 64), logger: logger) { sandbox -> UInt32 in
            let bomb = try await sandbox.exec("bomb() { bomb | bomb & }; bomb; sleep 1; echo survived", timeout: .seconds(10))
            // It ran into the process limit instead of taking the machine.
            #expect(bomb.errorOutput.contains("fork") || bomb.errorOutput.contains("Resource temporarily unavailable") || bomb.timedOut)
            let after = try await sandbox.exec("echo still here")
            #expect(after.output == "still here\n")
            return sandbox.uid
        }
        let left = try await ChildProcess.run("/usr/bin/pgrep", ["-U", String(uid)], timeout: .seconds(5), outputLimit: 4096)
        #expect(left.output.isEmpty, "processes left behind: \(left.output)")
    }

    @Test func aMemoryHogIsStoppedAndReported() async throws {
        try await Sandbox.withSandbox(limits: SandboxLimits(memoryBytes: 256 << 20), logger: logger) { sandbox in
            let hog = try await sandbox.exec(["/usr/bin/python3", "-c", "b = bytearray(1 << 30); print('allocated')"])
            #expect(hog.status != 0)
            #expect(hog.errorOutput.contains("MemoryError"))
            #expect(!hog.output.contains("allocated"))
        }
    }

    @Test func servicesShareTheNetworkButNotTheirFiles() async throws {
        let (root, name) = try await Sandbox.withSandbox(logger: logger) { sandbox -> (String, String) in
            try "FLAG{served}".write(toFile: sandbox.serviceDirectory + "/flag.txt", atomically: true, encoding: .utf8)
            try sandbox.startService(["/usr/bin/python3", "-m", "http.server", "8080", "--bind", "127.0.0.1", "--directory", "/srv"])
            var fetched = ""
            for _ in 0..<50 where !fetched.contains("FLAG") {
                try await Task.sleep(for: .milliseconds(100))
                fetched = try await sandbox.exec(["/usr/bin/python3", "-c", "import urllib.request; print(urllib.request.urlopen('http://127.0.0.1:8080/flag.txt', timeout=1).read().decode())"]).output
            }
            #expect(fetched.contains("FLAG{served}"))
            let direct = try await sandbox.exec("cat /srv/flag.txt 2>&1; ls /srv 2>&1")
            #expect(!direct.output.contains("FLAG{served}"))
            return (sandbox.workDirectory, sandbox.name)
        }
        // Torn down: no files, no namespace.
        #expect(!FileManager.default.fileExists(atPath: root))
        let namespaces = try await ChildProcess.run("/usr/sbin/ip", ["netns", "list"], timeout: .seconds(5), outputLimit: 1 << 16)
        #expect(!namespaces.output.contains(name))
    }

    @Test func servicesRunAsTheirOwnUserInSrvAndCommandsOutliveTheThreadThatStartedThem() async throws {
        try await Sandbox.withSandbox(logger: logger) { sandbox in
            try sandbox.startService(["/bin/sh", "-c", "echo \"$(id -u) $HOME $(pwd)\" > /srv/who; exec python3 -m http.server 8081 --bind 127.0.0.1 --directory /srv"])
            // Long enough for the threads that started the service and the command to go idle
            // and exit: bubblewrap's --die-with-parent must not take them down with it.
            let slow = try await sandbox.exec("sleep 7; echo still-here")
            #expect(slow.output.contains("still-here"), "status \(slow.status)")
            let who = try await sandbox.exec(["/usr/bin/python3", "-c", "import urllib.request; print(urllib.request.urlopen('http://127.0.0.1:8081/who', timeout=2).read().decode())"])
            #expect(who.output.trimmingCharacters(in: .whitespacesAndNewlines) == "\(sandbox.serviceUID) /srv /srv")
            #expect(try await sandbox.exec("id -u").output.trimmingCharacters(in: .whitespacesAndNewlines) == "\(sandbox.uid)")
        }
    }

    /// Victims and agents' commands behave as on any machine: nothing blocked, nothing ignored
    /// (SIGPIPE once arrived ignored, so `yes | head` never ended by it).
    @Test func commandsAndServicesStartWithACleanSignalState() async throws {
        try await Sandbox.withSandbox(logger: logger) { sandbox in
            let command = try await sandbox.exec("cat /proc/self/status")
            let commandState = try #require(SignalState(status: command.output))
            #expect(commandState.isClean, "command: \(commandState)")
            let pipeline = try await sandbox.exec(["/bin/bash", "-c", "yes | head -c 1 >/dev/null; echo ${PIPESTATUS[0]}"])
            #expect(pipeline.output == "141\n")
            try sandbox.startService(["/bin/sh", "-c", "cat /proc/self/status > /srv/status.tmp; mv /srv/status.tmp /srv/status; exec sleep 60"])
            var status: String?
            for _ in 0..<100 where status == nil {
                status = try? String(contentsOfFile: sandbox.serviceDirectory + "/status", encoding: .utf8)
                if status == nil { try await Task.sleep(for: .milliseconds(100)) }
            }
            let written = try #require(status, "the service wrote no status")
            let serviceState = try #require(SignalState(status: written))
            #expect(serviceState.isClean, "service: \(serviceState)")
        }
    }

    @Test func teardownRunsWhenTheBodyThrows() async throws {
        struct Boom: Error {}
        var root = ""
        await #expect(throws: Boom.self) {
            try await Sandbox.withSandbox(logger: logger) { sandbox in
                root = sandbox.workDirectory
                try sandbox.startService(["/bin/sleep", "60"])
                throw Boom()
            }
        }
        #expect(!root.isEmpty)
        #expect(!FileManager.default.fileExists(atPath: root))
    }
}

@Suite(.enabled(if: TestEnvironment.runs(.sandboxes, ifAvailable: Sandbox.isAvailable), "needs root and bubblewrap (make test installs it)"))
struct SandboxInputTests {
    @Test func aCommandThatIgnoresItsInputDoesNotBreakTheHost() async throws {
        try await Sandbox.withSandbox(logger: Logger(label: "test")) { sandbox in
            // Megabytes of input to a command that reads none of it and exits at once.
            let result = try await sandbox.exec("exit 0", stdin: Data(repeating: 65, count: 8 << 20))
            #expect(result.status == 0)
        }
    }
}

@Suite(.enabled(if: TestEnvironment.runs(.sandboxes, ifAvailable: Sandbox.isAvailable), "needs root and bubblewrap (make test installs it)"))
struct SandboxOrphanTests {
    /// An attempt cancelled while its sandbox runs a command (its run was cancelled): the
    /// command ends, and the sandbox is removed, its namespace and folder with it. (The teardown
    /// ran in the cancelled task, whose own commands were killed as they started.)
    @Test func aCancelledBodyStillRemovesItsSandbox() async throws {
        let name = Mutex<String?>(nil)
        let attempt = Task {
            try await Sandbox.withSandbox(logger: Logger(label: "test")) { sandbox in
                name.withLock { $0 = sandbox.name }
                return try await sandbox.exec("sleep 600", timeout: .seconds(600))
            }
        }
        for _ in 0..<200 where name.withLock({ $0 }) == nil { try await Task.sleep(for: .milliseconds(20)) }
        let sandbox = try #require(name.withLock { $0 })
        try await Task.sleep(for: .milliseconds(300))
        attempt.cancel()
        _ = try? await attempt.value
        let list = try await ChildProcess.run("/usr/sbin/ip", ["netns", "list"], timeout: .seconds(10), outputLimit: 1 << 16).output
        #expect(!list.contains(sandbox))
        #expect(!FileManager.default.fileExists(atPath: NSTemporaryDirectory() + sandbox))
    }

    @Test func sandboxesOfADeadProcessAreRemoved() async throws {
        // A process that has exited: its pid names the orphan.
        let gone = Process()
        gone.executableURL = URL(fileURLWithPath: "/bin/true")
        try gone.run()
        gone.waitUntilExit()
        let name = "airlock-\(gone.processIdentifier)-829999-1"
        let folder = NSTemporaryDirectory() + name
        try FileManager.default.createDirectory(atPath: folder + "/home/agent", withIntermediateDirectories: true)
        _ = try await ChildProcess.run("/usr/sbin/ip", ["netns", "add", name], timeout: .seconds(10), outputLimit: 4096)
        // And one of a live process (this one), which must be left alone.
        let alive = "airlock-\(getpid())-829998-1"
        _ = try await ChildProcess.run("/usr/sbin/ip", ["netns", "add", alive], timeout: .seconds(10), outputLimit: 4096)
        await Sandbox.removeOrphans()
        let list = try await ChildProcess.run("/usr/sbin/ip", ["netns", "list"], timeout: .seconds(10), outputLimit: 1 << 16).output
        #expect(!list.contains(name))
        #expect(!FileManager.default.fileExists(atPath: folder))
        #expect(list.contains(alive))
        _ = try await ChildProcess.run("/usr/sbin/ip", ["netns", "delete", alive], timeout: .seconds(10), outputLimit: 4096)
    }
}
