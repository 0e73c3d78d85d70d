import Foundation
import Logging
import Synchronization

/// Limits on everything a sandboxed command does.
public struct SandboxLimits: Sendable, Hashable {
    /// CPU seconds per process (RLIMIT_CPU).
    public var cpuSeconds: Int
    /// Address space per process (RLIMIT_AS).
    public var memoryBytes: Int
    /// Processes of the sandbox's own user, all together (RLIMIT_NPROC).
    public var processes: Int
    /// Largest file a process may write (RLIMIT_FSIZE).
    public var fileSizeBytes: Int
    /// Output kept per stream of one command.
    public var outputBytes: Int
    /// Wall-clock seconds for one command.
    public var wallSeconds: Double
    /// Memory of the whole sandbox: every process, with swap and the files in its `/tmp` and
    /// `/home/agent` (a control group's limit, where there is one).
    public var sandboxMemoryBytes: Int
    /// CPUs the whole sandbox may keep busy at once (a control group's quota).
    public var cpus: Double
    /// Size of `/home/agent`, and of each command's `/tmp`.
    public var diskBytes: Int
    /// Reads and writes per second to the host's disk, each (a control group's throttle).
    public var diskBytesPerSecond: Int

    public init(cpuSeconds: Int = 60, memoryBytes: Int = 2 << 30, processes: Int = 256, fileSizeBytes: Int = 256 << 20, outputBytes: Int = 1 << 20, wallSeconds: Double = 120, sandboxMemoryBytes: Int = 2 << 30, cpus: Double = 1, diskBytes: Int = 1 << 30, diskBytesPerSecond: Int = 128 << 20) {
        self.cpuSeconds = cpuSeconds
        self.memoryBytes = memoryBytes
        self.processes = processes
        self.fileSizeBytes = fileSizeBytes
        self.outputBytes = outputBytes
        self.wallSeconds = wallSeconds
        self.sandboxMemoryBytes = sandboxMemoryBytes
        self.cpus = cpus
        self.diskBytes = diskBytes
        self.diskBytesPerSecond = diskBytesPerSecond
    }

    /// `wallSeconds` as a duration. Task files are checked against their ranges when loaded; this
    /// only keeps a number no duration can hold (1e300, not a number) from trapping.
    public var wall: Duration { Self.duration(seconds: wallSeconds) }

    /// Seconds as a duration, zero for what is not a positive number, at most a year.
    public static func duration(seconds: Double) -> Duration {
        guard seconds.isFinite, seconds > 0 else { return .zero }
        return .milliseconds(Int64(min(seconds, 365 * 86_400) * 1000))
    }
}

/// Why a sandbox could not do its part. Every one of these is an infrastructure failure, never
/// the model's.
public struct SandboxError: Error, Hashable, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable { case unavailable, start, exec, teardown }
        private let base: Base
        private init(_ base: Base) { self.base = base }
        /// bubblewrap or the privileges for network namespaces are missing.
        public static let unavailable = Code(.unavailable)
        public static let start = Code(.start)
        public static let exec = Code(.exec)
        public static let teardown = Code(.teardown)
        public var description: String { base.rawValue }
    }

    public var code: Code
    public var message: String
    public var description: String { "sandbox \(code): \(message)" }
}

/// One isolated machine for one attempt, made of Linux namespaces with bubblewrap:
/// - its own network namespace with loopback only, so nothing outside it can be reached;
/// - every command in fresh PID, IPC and UTS namespaces, under a user of its own (not root),
///   with the system read-only, a private `/tmp`, and no host files, processes or environment;
/// - a writable `/home/agent` that the host can read and write (``readFile(_:)``, ``writeFile(_:_:)``);
/// - services (the challenge's victims) in the same network namespace under a second user of
///   their own, with a `/srv` that commands cannot see, so the agent can neither read their
///   files nor signal them, and a service can tell its own user's connections from the agent's.
///
/// Teardown always runs, on success, error and cancellation, and leaves no process, namespace
/// or file behind; what a teardown cut short leaves is found from its ``UserLease``'s record.
/// Requires root (for the network namespace) and Debian's `bubblewrap`.
public final class Sandbox: Sendable {
    public let name: String
    /// The host folder mounted at `/home/agent`.
    public let workDirectory: String
    /// The host folder mounted at `/srv` for services only.
    public let serviceDirectory: String
    let root: String
    /// The agent's user, leased for this sandbox's life.
    var uid: UInt32 { lease.uid }
    let lease: UserLease
    /// The services' user.
    var serviceUID: UInt32 { uid + Self.userCount }
    let limits: SandboxLimits
    private let services = Mutex<[ChildProcess]>([])
    /// The control group every process of the sandbox joins, where the machine has them.
    private let controlGroup = Mutex<SandboxControlGroup?>(nil)

    static let bwrap = "/usr/bin/bwrap"
    static let ip = "/usr/sbin/ip"

    /// Users for sandboxes are taken from this range, one per live sandbox on the machine (a
    /// ``UserLease``), so that process limits and kills by user of one sandbox never touch
    /// another's processes, whichever process made it; each one's services run as the user
    /// `userCount` above it.
    private static let nextUser = Mutex(UInt32(0))
    static let firstUID: UInt32 = 820_000
    static let userCount: UInt32 = 10_000

    /// Whether this machine can make sandboxes.
    public static var isAvailable: Bool {
        getuid() == 0 && FileManager.default.isExecutableFile(atPath: bwrap) && FileManager.default.isExecutableFile(atPath: ip)
    }

    private init(name: String, root: String, lease: UserLease, limits: SandboxLimits) {
        self.name = name
        self.root = root
        workDirectory = root + "/home/agent"
        serviceDirectory = root + "/srv"
        self.lease = lease
        self.limits = limits
    }

    /// Makes a sandbox, runs `body` with it, and tears it down whatever happens.
    public static func withSandbox<T: Sendable>(limits: SandboxLimits = .init(), logger: Logger, _ body: (Sandbox) async throws -> T) async throws -> T {
        let sandbox = try await create(limits: limits)
        logger.debug("sandbox started", metadata: ["sandbox": "\(sandbox.name)"])
        do {
            let result = try await body(sandbox)
            try await sandbox.teardownEvenIfCancelled()
            return result
        } catch {
            try? await sandbox.teardownEvenIfCancelled()
            throw error
        }
    }

    static func create(limits: SandboxLimits) async throws -> Sandbox {
        guard isAvailable else {
            throw SandboxError(code: .unavailable, message: "sandboxes need root and Debian's bubblewrap (\(bwrap)) and iproute2 (\(ip))")
        }
        await sweepOnce.value
        let lease = try await leaseUser()
        let uid = lease.uid
        // The creator's pid is in the name, so that a later process can tell a sandbox whose
        // owner died (kill -9, a crash) and remove it.
        let name = "airlock-\(getpid())-\(uid)-\(UInt32.random(in: 0...UInt32.max))"
        let root = NSTemporaryDirectory() + name
        let sandbox = Sandbox(name: name, root: root, lease: lease, limits: limits)
        do {
            // Recorded before anything exists, so that whatever is left is found again.
            try lease.record(UserLease.Record(name: name, root: root))
            let files = FileManager.default
            for folder in [sandbox.workDirectory, sandbox.serviceDirectory, root + "/etc"] {
                try files.createDirectory(atPath: folder, withIntermediateDirectories: true)
            }
            let walls = SandboxWalls.probed
            if walls.sizedFoldersProblem == nil {
                try mountSizedFolder(sandbox.workDirectory, bytes: limits.diskBytes, owner: uid)
                try mountSizedFolder(sandbox.serviceDirectory, bytes: limits.diskBytes, owner: sandbox.serviceUID)
            }
            if case .success(let layout) = walls.controlGroups {
                let group = try SandboxControlGroup.create(name: name, limits: limits, layout: layout, device: hostDisk)
                sandbox.controlGroup.withLock { $0 = group }
                try lease.record(UserLease.Record(name: name, root: root, controlGroups: group.folders))
            }
            guard chown(sandbox.workDirectory, uid, uid) == 0, chown(sandbox.serviceDirectory, sandbox.serviceUID, sandbox.serviceUID) == 0 else {
                throw SandboxError(code: .start, message: "cannot give /home/agent and /srv to the sandbox users")
            }
            // A passwd of its own: the sandbox knows its users and nothing of the host's.
            let service = sandbox.serviceUID
            try "root:x:0:0:root:/root:/bin/sh\nagent:x:\(uid):\(uid):agent:/home/agent:/bin/sh\nservice:x:\(service):\(service):service:/srv:/bin/sh\n".write(toFile: root + "/etc/passwd", atomically: true, encoding: .utf8)
            try "root:x:0:\nagent:x:\(uid):\nservice:x:\(service):\n".write(toFile: root + "/etc/group", atomically: true, encoding: .utf8)
            try sandbox.setHostNames([])
            try SystemCallFilter.program.write(to: URL(fileURLWithPath: sandbox.seccompPath))
            try await sandbox.host([ip, "netns", "add", name])
            try await sandbox.host([ip, "-n", name, "link", "set", "lo", "up"])
        } catch {
            try? await sandbox.teardownEvenIfCancelled()
            if let error = error as? SandboxError { throw error }
            throw SandboxError(code: .start, message: "\(error)")
        }
        return sandbox
    }

    /// Mounts a tmpfs of `bytes` (and an inode for every 4 KiB) on `folder` in the host, owned
    /// by `owner`: the agent's folder, bounded, and gone with the mount at teardown whatever
    /// was made in it.
    static func mountSizedFolder(_ folder: String, bytes: Int, owner: UInt32) throws {
        let options = "size=\(bytes),nr_inodes=\(max(1024, bytes / 4096)),mode=0755,uid=\(owner),gid=\(owner)"
        guard mount("tmpfs", folder, "tmpfs", UInt(MS_NOSUID | MS_NODEV), options) == 0 else {
            throw SandboxError(code: .start, message: "cannot mount a tmpfs on \(folder): \(String(cString: strerror(errno)))")
        }
    }

    /// The device that holds `/usr` (the host's disk the sandbox reads), for the disk
    /// throttle; nil for a file system without one (overlay, tmpfs).
    static let hostDisk: (major: UInt32, minor: UInt32)? = {
        var status = stat()
        guard stat("/usr", &status) == 0 else { return nil }
        let device = UInt64(status.st_dev)
        let major = UInt32(((device >> 8) & 0xFFF) | ((device >> 32) & ~UInt64(0xFFF)))
        let minor = UInt32((device & 0xFF) | ((device >> 12) & ~UInt64(0xFF)))
        return major == 0 ? nil : (major, minor)
    }()

    /// Makes `names` resolve to 127.0.0.1 inside, for services a challenge expects under a host
    /// name (for example `victim`). Takes effect from the next command.
    public func setHostNames(_ names: [String]) throws {
        let aliases = (["localhost", "sandbox"] + names).joined(separator: " ")
        try "127.0.0.1 \(aliases)\n::1 localhost\n".write(toFile: root + "/etc/hosts", atomically: true, encoding: .utf8)
    }

    /// Runs a shell command inside, as the sandbox's user, in `/home/agent`.
    public func exec(_ command: String, stdin: Data? = nil, timeout: Duration? = nil) async throws -> ChildProcessResult {
        try await exec(["/bin/sh", "-c", command], stdin: stdin, timeout: timeout)
    }

    /// Runs a program inside, as the sandbox's user, in `/home/agent`.
    public func exec(_ arguments: [String], stdin: Data? = nil, timeout: Duration? = nil) async throws -> ChildProcessResult {
        try await run(arguments, service: false, stdin: stdin, timeout: timeout)
    }

    private func run(_ arguments: [String], service: Bool, stdin: Data?, timeout: Duration?) async throws -> ChildProcessResult {
        let wall = timeout ?? limits.wall
        do {
            let result = try await ChildProcess.run("/bin/sh", launch(arguments, service: service), stdin: stdin, timeout: wall, outputLimit: limits.outputBytes)
            if result.status == Self.launchFailed, result.errorOutput.hasPrefix(Self.launchFailedMessage) {
                throw SandboxError(code: .exec, message: result.errorOutput)
            }
            return result
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            throw SandboxError(code: .exec, message: "\(error)")
        }
    }

    /// Runs a challenge's build as the services' user, with `/srv` mounted and `/home/agent`
    /// writable, so that it can make the agent's starting files; afterwards everything in
    /// `/home/agent` belongs to the agent.
    public func build(_ command: String, timeout: Duration) async throws -> ChildProcessResult {
        guard chown(workDirectory, serviceUID, serviceUID) == 0 else {
            throw SandboxError(code: .start, message: "cannot lend /home/agent to the build")
        }
        let result = try await run(["/bin/sh", "-c", command], service: true, stdin: nil, timeout: timeout)
        try giveToAgent(workDirectory)
        return result
    }

    /// `path` and everything under it, owned by the agent.
    func giveToAgent(_ path: String) throws {
        guard chown(path, uid, uid) == 0 else {
            throw SandboxError(code: .start, message: "cannot give \(path) to the sandbox user")
        }
        guard let children = FileManager.default.enumerator(atPath: path) else { return }
        for case let child as String in children { _ = lchown("\(path)/\(child)", uid, uid) }
    }

    /// Starts a long-lived service inside (a challenge's victim), in the sandbox's network
    /// namespace, under the services' user with `/srv` mounted; its output goes to `service-N.log` beside `/home/agent`.
    public func startService(_ arguments: [String]) throws {
        let index = services.withLock { $0.count }
        let logPath = "\(root)/service-\(index).log"
        let log = open(logPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard log >= 0 else { throw SandboxError(code: .start, message: "cannot open \(logPath)") }
        defer { close(log) }
        let process: ChildProcess
        do {
            process = try ChildProcess.start(
                "/bin/sh", launch(arguments, service: true),
                environment: ["PATH": "/usr/sbin:/usr/bin:/sbin:/bin"], stdout: log, stderr: log
            )
        } catch {
            throw SandboxError(code: .start, message: "cannot start a service: \(error)")
        }
        services.withLock { $0.append(process) }
    }

    /// A file under `/home/agent`, read from the host side. The agent owns that folder, so no
    /// link in it is followed (a link to a host file reads as an error, never as the host file),
    /// only a regular file is read (a FIFO would block), and at most the file size limit.
    public func readFile(_ path: String) throws -> Data {
        let descriptor = try openBeneath(path, flags: O_RDONLY | O_NONBLOCK)
        let handle = FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
        var status = stat()
        guard fstat(descriptor, &status) == 0, status.st_mode & S_IFMT == S_IFREG else {
            throw SandboxError(code: .exec, message: "\(path) in /home/agent is not a regular file")
        }
        return (try? handle.read(upToCount: limits.fileSizeBytes)) ?? Data()
    }

    /// Writes a file under `/home/agent` from the host side, owned by the sandbox's user. A link
    /// the agent left at the path is replaced, never followed.
    public func writeFile(_ path: String, _ data: Data) throws {
        let descriptor = try openBeneath(path, flags: O_WRONLY | O_CREAT | O_EXCL, replacing: true)
        let handle = FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
        _ = fchown(descriptor, uid, uid)
        do {
            try handle.write(contentsOf: data)
        } catch {
            throw SandboxError(code: .exec, message: "cannot write \(path): \(error)")
        }
    }

    /// Opens `path` under `/home/agent` one folder at a time, following no link on the way;
    /// folders missing on the way are made when `replacing` (a write), and the last name is
    /// removed first then, so that what is opened is a new file.
    func openBeneath(_ path: String, flags: Int32, replacing: Bool = false) throws -> Int32 {
        let relative = path.hasPrefix("/home/agent/") ? String(path.dropFirst("/home/agent/".count)) : path
        let names = relative.split(separator: "/").map(String.init).filter { $0 != "." }
        guard let last = names.last, !names.contains("..") else {
            throw SandboxError(code: .exec, message: "\(path) is outside /home/agent")
        }
        var folder = open(workDirectory, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        for name in names.dropLast() where folder >= 0 {
            if replacing { _ = mkdirat(folder, name, 0o755) }
            let next = openat(folder, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            close(folder)
            folder = next
        }
        guard folder >= 0 else { throw SandboxError(code: .exec, message: "no folder for \(path) in /home/agent (or a link on the way)") }
        defer { close(folder) }
        if replacing { _ = unlinkat(folder, last, 0) }
        let descriptor = openat(folder, last, flags | O_NOFOLLOW | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw SandboxError(code: .exec, message: "cannot open \(path) in /home/agent: \(String(cString: strerror(errno)))")
        }
        return descriptor
    }

    /// The arguments of `/bin/sh` that run `command` inside: the shell joins the sandbox's
    /// control group (so everything it starts is in it) and opens the seccomp program on
    /// descriptor 3 for bubblewrap (Airlock's children get only their three streams); then the
    /// network namespace, bubblewrap, the limits and the user.
    func launch(_ command: [String], service: Bool) -> [String] {
        let script = #"s=$0; while [ "$1" != -- ]; do echo $$ > "$1" || { echo "\#(Self.launchFailedMessage) $1" >&2; exit \#(Self.launchFailed); }; shift; done; shift; exec "$@" 3<"$s""#
        let groups = controlGroup.withLock { $0?.processFiles ?? [] }
        return ["-c", script, seccompPath] + groups + ["--", Self.ip, "netns", "exec", name] + bubblewrap(service: service) + confined(command, service: service)
    }

    /// The status and message of a command that could not join its control group.
    static let launchFailed: Int32 = 125
    static let launchFailedMessage = "airlock: cannot join the sandbox's control group"

    /// bubblewrap with everything but the command.
    func bubblewrap(service: Bool) -> [String] {
        var arguments = [
            Self.bwrap, "--die-with-parent", "--new-session", "--seccomp", "3",
            "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try", "--hostname", "sandbox",
            "--ro-bind", "/usr", "/usr",
            "--symlink", "usr/bin", "/bin", "--symlink", "usr/sbin", "/sbin",
            "--symlink", "usr/lib", "/lib", "--symlink", "usr/lib64", "/lib64",
            // Folders bubblewrap makes are private to root unless told otherwise.
            "--perms", "0755", "--dir", "/etc",
            "--ro-bind", root + "/etc/passwd", "/etc/passwd",
            "--ro-bind", root + "/etc/group", "/etc/group",
            "--ro-bind", root + "/etc/hosts", "/etc/hosts",
            "--ro-bind-try", "/etc/nsswitch.conf", "/etc/nsswitch.conf",
            "--ro-bind-try", "/etc/alternatives", "/etc/alternatives",
            "--ro-bind-try", "/etc/ld.so.cache", "/etc/ld.so.cache",
            "--ro-bind-try", "/etc/ssl", "/etc/ssl",
            "--proc", "/proc", "--dev", "/dev", "--perms", "1777", "--size", "\(limits.diskBytes)", "--tmpfs", "/tmp",
            "--perms", "0755", "--dir", "/home",
            "--bind", workDirectory, "/home/agent",
            // The same folder at /root, for imported challenges that put the agent's files there.
            "--bind", workDirectory, "/root",
            "--clearenv", "--setenv", "PATH", "/usr/local/bin:/usr/bin:/bin", "--setenv", "LANG", "C.UTF-8",
        ]
        if service {
            // Services start in /srv with it as their home: nothing the agent writes (a .pth file
            // in a user site folder, a module in the working folder) is loaded by a service.
            arguments += ["--bind", serviceDirectory, "/srv", "--chdir", "/srv", "--setenv", "HOME", "/srv", "--setenv", "USER", "service", "--setenv", "PYTHONNOUSERSITE", "1"]
        } else {
            arguments += ["--chdir", "/home/agent", "--setenv", "HOME", "/home/agent", "--setenv", "USER", "agent"]
        }
        return arguments
    }

    /// Limits, then the sandbox's user (or the services'), then the command.
    func confined(_ command: [String], service: Bool) -> [String] {
        let user = service ? serviceUID : uid
        return [
            "--", "/usr/bin/prlimit",
            "--cpu=\(limits.cpuSeconds)", "--as=\(limits.memoryBytes)", "--nproc=\(limits.processes)", "--fsize=\(limits.fileSizeBytes)", "--core=0",
            "--", "/usr/bin/setpriv", "--reuid=\(user)", "--regid=\(user)", "--clear-groups", "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs",
            "--",
        ] + command
    }

    /// The seccomp program commands and services run under (``SystemCallFilter``).
    var seccompPath: String { root + "/seccomp.bpf" }

    /// Stops every process of the sandbox, removes its network namespace and its files. The
    /// lease's record stays when something is left, for the next sweep; the lease itself ends.
    /// The teardown, in a task of its own: a cancelled attempt (its run cancelled, its worker
    /// stopping) still removes its sandbox. Run in the cancelled task itself, the teardown's own
    /// commands (`ip netns delete` among them) were killed as they started.
    func teardownEvenIfCancelled() async throws {
        try await Task.detached { try await self.teardown() }.value
    }

    func teardown() async throws {
        let running = services.withLock { services -> [ChildProcess] in
            defer { services.removeAll() }
            return services
        }
        for process in running {
            process.send(SIGKILL)
            _ = await process.wait()
        }
        defer { lease.release() }
        let groups = controlGroup.withLock { $0?.folders ?? [] }
        let problems = await Self.remove(UserLease.Record(name: name, root: root, controlGroups: groups), uid: uid)
        if !problems.isEmpty { throw SandboxError(code: .teardown, message: problems.joined(separator: "; ")) }
        lease.clearRecord()
    }

    /// Kills what is left of a sandbox (its control group, what is in its namespace, then
    /// anything of its users, which its lease makes its own), deletes the namespace, unmounts
    /// and removes the folder and the group; the problems met, if any.
    private static func remove(_ record: UserLease.Record, uid: UInt32) async -> [String] {
        let group = SandboxControlGroup(folders: record.controlGroups)
        await group.killAll()
        if let pids = try? await ChildProcess.run(ip, ["netns", "pids", record.name], timeout: .seconds(10), outputLimit: 1 << 20) {
            for pid in pids.output.split(separator: "\n").compactMap({ Int32($0) }) { kill(pid, SIGKILL) }
        }
        // Processes that left the namespace (a new one of their own) are still of its users.
        _ = try? await ChildProcess.run("/usr/bin/pkill", ["-KILL", "-U", "\(uid),\(uid + userCount)"], timeout: .seconds(10), outputLimit: 1 << 16)
        var problems: [String] = []
        // Detached even while something holds them open; what was in them goes with the last user.
        for folder in ["/home/agent", "/srv"] where umount2(record.root + folder, Int32(MNT_DETACH)) != 0 && errno != EINVAL && errno != ENOENT {
            problems.append("umount \(record.root)\(folder): \(String(cString: strerror(errno)))")
        }
        let removed = try? await ChildProcess.run(ip, ["netns", "delete", record.name], timeout: .seconds(10), outputLimit: 1 << 16)
        if let removed, removed.status != 0, !removed.errorOutput.contains("No such file") {
            problems.append("netns delete: \(removed.errorOutput)")
        }
        if let error = await removeFolder(record.root) { problems.append(error) }
        if let error = group.remove() { problems.append(error) }
        return problems
    }

    /// Removes a folder the agent wrote, whatever its depth (a tree deeper than PATH_MAX defeats
    /// path-based removal): GNU rm walks it by descriptor, never follows a link and stays on
    /// its file system. Nil when it is gone.
    static func removeFolder(_ path: String) async -> String? {
        guard path.hasPrefix("/"), (path as NSString).lastPathComponent.hasPrefix("airlock-") else { return "refused to remove \(path)" }
        do {
            let result = try await ChildProcess.run("/bin/rm", ["-rf", "--one-file-system", "--", path], timeout: .seconds(300), outputLimit: 1 << 16)
            if result.status == 0 { return nil }
            return "remove \(path): \(result.errorOutput.prefix(300))"
        } catch {
            return "remove \(path): \(error)"
        }
    }

    /// Runs ``removeOrphans()`` once per process, before its first sandbox.
    private static let sweepOnce = Task { await removeOrphans() }

    /// Removes sandboxes whose creating process is gone: their processes, namespace and files.
    /// Teardown cannot run in a process that was killed; this is where its work gets done. The
    /// leases are the registry: a lease that can be taken belongs to no live sandbox, and a
    /// record in it names what is left. Namespaces of dead owners without a record (from
    /// before leases) are removed too.
    static func removeOrphans() async {
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: UserLease.folder)) ?? [] {
            guard let uid = UInt32(entry), let lease = try? UserLease.acquire(uid) else { continue }
            await removeLeftovers(of: lease)
            lease.release()
        }
        guard let list = try? await ChildProcess.run(ip, ["netns", "list"], timeout: .seconds(10), outputLimit: 1 << 20) else { return }
        for line in list.output.split(separator: "\n") {
            let name = String(line.split(separator: " ").first ?? "")
            let parts = name.split(separator: "-")
            guard parts.count == 4, parts[0] == "airlock", let owner = Int32(parts[1]), let uid = UInt32(parts[2]) else { continue }
            // Signal 0 checks that the owner is alive without touching it.
            guard kill(owner, 0) != 0, errno == ESRCH else { continue }
            if let pids = try? await ChildProcess.run(ip, ["netns", "pids", name], timeout: .seconds(10), outputLimit: 1 << 20) {
                for pid in pids.output.split(separator: "\n").compactMap({ Int32($0) }) { kill(pid, SIGKILL) }
            }
            // Its users' processes only while no live sandbox holds them.
            if let lease = try? UserLease.acquire(uid) {
                _ = try? await ChildProcess.run("/usr/bin/pkill", ["-KILL", "-U", "\(uid),\(uid + userCount)"], timeout: .seconds(10), outputLimit: 1 << 16)
                lease.release()
            }
            _ = try? await ChildProcess.run(ip, ["netns", "delete", name], timeout: .seconds(10), outputLimit: 1 << 16)
            for folder in ["/home/agent", "/srv"] { umount2(NSTemporaryDirectory() + name + folder, Int32(MNT_DETACH)) }
            _ = await removeFolder(NSTemporaryDirectory() + name)
        }
    }

    /// What a lease's previous holder left (it died, or its teardown failed), removed.
    private static func removeLeftovers(of lease: UserLease) async {
        guard let record = lease.record else { return }
        if await remove(record, uid: lease.uid).isEmpty { lease.clearRecord() }
    }

    private func host(_ arguments: [String]) async throws {
        let result = try await ChildProcess.run(arguments[0], Array(arguments.dropFirst()), timeout: .seconds(30), outputLimit: 1 << 16)
        guard result.status == 0 else {
            throw SandboxError(code: .start, message: "\(arguments.joined(separator: " ")): \(result.errorOutput)")
        }
    }

    /// A user no live sandbox on this machine holds, with anything its last holder left removed.
    static func leaseUser() async throws -> UserLease {
        for _ in 0..<userCount {
            let candidate = firstUID + nextUser.withLock { next in
                defer { next = (next + 1) % userCount }
                return next
            }
            guard let lease = try UserLease.acquire(candidate) else { continue }
            await removeLeftovers(of: lease)
            if lease.record == nil { return lease }
            lease.release()
        }
        throw SandboxError(code: .start, message: "all \(userCount) sandbox users are in use")
    }
}
