import Foundation

/// Where this machine's control groups are: version 2 when its unified hierarchy has the
/// memory and pids controllers, else version 1 when memory, pids, cpu and blkio are mounted
/// (some machines mount those with an empty v2 hierarchy beside them). A sandbox's group is
/// made under Airlock's own group for each controller, so any limit Airlock runs under holds
/// for its sandboxes too. Read from `/proc/self/mountinfo` and `/proc/self/cgroup` by a pure
/// parse, tested without I/O.
struct ControlGroupLayout: Sendable, Hashable {
    enum Version: String, Sendable { case v1, v2 }

    var version: Version
    /// The folder under which groups are made, by controller (v1), or under "" (v2).
    var parents: [String: String]

    /// The controllers a sandbox's group uses, by version.
    static let v1Controllers = ["memory", "pids", "cpu", "blkio"]
    static let v2Controllers = ["memory", "pids", "cpu", "io"]

    /// The layout, or why there is none. `controllers` reads a v2 group's `cgroup.controllers`.
    static func parse(mountinfo: String, cgroup: String, controllers: (String) -> String?) -> Result<ControlGroupLayout, ControlGroupError> {
        struct Mount { var root: String, point: String, type: String, options: Set<String> }
        var mounts: [Mount] = []
        for line in mountinfo.split(separator: "\n") {
            let fields = line.split(separator: " ").map(String.init)
            guard let dash = fields.firstIndex(of: "-"), dash >= 6, fields.count >= dash + 4 else { continue }
            let type = fields[dash + 1]
            guard type == "cgroup" || type == "cgroup2" else { continue }
            mounts.append(Mount(root: unescape(fields[3]), point: unescape(fields[4]), type: type, options: Set(fields[dash + 3].split(separator: ",").map(String.init))))
        }
        // hierarchy-id:controllers:path, one line per hierarchy; "0::path" is v2's.
        var paths: [String: String] = [:]
        for line in cgroup.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false).map(String.init)
            guard parts.count == 3 else { continue }
            for name in parts[1].split(separator: ",") { paths[String(name)] = parts[2] }
            if parts[0] == "0", parts[1].isEmpty { paths[""] = parts[2] }
        }
        func folder(_ mount: Mount, _ path: String) -> String {
            // Inside a cgroup namespace the mount's root is part of the path.
            let relative = mount.root != "/" && path.hasPrefix(mount.root) ? String(path.dropFirst(mount.root.count)) : path
            return (mount.point + "/" + relative).replacingOccurrences(of: "//", with: "/").trimmingSuffix("/")
        }
        if let unified = mounts.first(where: { $0.type == "cgroup2" }), let path = paths[""] {
            let parent = folder(unified, path)
            let available = Set((controllers(parent) ?? "").split(whereSeparator: \.isWhitespace).map(String.init))
            if available.isSuperset(of: ["memory", "pids"]) {
                return .success(ControlGroupLayout(version: .v2, parents: ["": parent]))
            }
        }
        var parents: [String: String] = [:]
        for controller in v1Controllers {
            guard let mount = mounts.first(where: { $0.type == "cgroup" && $0.options.contains(controller) }), let path = paths[controller] else {
                return .failure(ControlGroupError(message: "no cgroup v2 with memory and pids, and no v1 \(controller) controller mounted"))
            }
            parents[controller] = folder(mount, path)
        }
        return .success(ControlGroupLayout(version: .v1, parents: parents))
    }

    /// mountinfo writes space, tab, newline and backslash as octal escapes.
    private static func unescape(_ field: String) -> String {
        guard field.contains("\\") else { return field }
        var bytes: [UInt8] = []
        var rest = Substring(field)
        while let first = rest.first {
            if first == "\\", rest.count >= 4, let value = UInt8(rest.dropFirst().prefix(3), radix: 8) {
                bytes.append(value)
                rest = rest.dropFirst(4)
            } else {
                bytes.append(contentsOf: Array(String(first).utf8))
                rest = rest.dropFirst()
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// This machine's layout, read once.
    static let current: Result<ControlGroupLayout, ControlGroupError> = {
        guard let mountinfo = try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8),
              let cgroup = try? String(contentsOfFile: "/proc/self/cgroup", encoding: .utf8) else {
            return .failure(ControlGroupError(message: "cannot read /proc/self/mountinfo or /proc/self/cgroup"))
        }
        return parse(mountinfo: mountinfo, cgroup: cgroup) { try? String(contentsOfFile: $0 + "/cgroup.controllers", encoding: .utf8) }
    }()
}

struct ControlGroupError: Error, Hashable, Sendable, CustomStringConvertible {
    var message: String
    var description: String { message }
}

/// One sandbox's control group: every process of the sandbox (commands, their children, the
/// services) joins it before bubblewrap starts, so its limits hold for all of them together:
/// memory (with swap, and the pages of its tmpfs files), processes and threads, a CPU quota
/// and a lower weight than the host's own work, and a throughput limit on the host's disk.
struct SandboxControlGroup: Sendable, Hashable {
    /// One folder per controller (v1), or one (v2).
    var folders: [String]

    /// The weight of a sandbox beside the host's own groups (v1 `cpu.shares` 1024 and v2
    /// `cpu.weight` 100 are the defaults): half, so that the host's work wins when CPUs are short.
    static let cpuShares = 512
    static let cpuWeight = 50
    static let cpuPeriodMicroseconds = 100_000

    /// Makes the group `name` under `layout` with `limits`; the device is the host disk whose
    /// reads and writes are throttled (none for a file system without one).
    static func create(name: String, limits: SandboxLimits, layout: ControlGroupLayout, device: (major: UInt32, minor: UInt32)?) throws -> SandboxControlGroup {
        let memory = "\(limits.sandboxMemoryBytes)"
        let quota = "\(max(1000, Int(limits.cpus * Double(cpuPeriodMicroseconds))))"
        let pids = "\(limits.processes * 2)"
        let rate = limits.diskBytesPerSecond
        var group: SandboxControlGroup
        var settings: [(String, String, required: Bool)]
        switch layout.version {
        case .v1:
            let parents = ControlGroupLayout.v1Controllers.compactMap { layout.parents[$0] }
            group = SandboxControlGroup(folders: Array(Set(parents.map { $0 + "/" + name })).sorted())
            let folder = { (controller: String) in layout.parents[controller]! + "/" + name }
            settings = [
                (folder("memory") + "/memory.limit_in_bytes", memory, true),
                // Swap counted too where the kernel accounts it (after the memory limit: it may not be lower).
                (folder("memory") + "/memory.memsw.limit_in_bytes", memory, false),
                (folder("pids") + "/pids.max", pids, true),
                (folder("cpu") + "/cpu.shares", "\(cpuShares)", true),
                (folder("cpu") + "/cpu.cfs_period_us", "\(cpuPeriodMicroseconds)", true),
                (folder("cpu") + "/cpu.cfs_quota_us", quota, true),
            ]
            if let device {
                settings.append((folder("blkio") + "/blkio.throttle.read_bps_device", "\(device.major):\(device.minor) \(rate)", true))
                settings.append((folder("blkio") + "/blkio.throttle.write_bps_device", "\(device.major):\(device.minor) \(rate)", true))
            }
        case .v2:
            let parent = layout.parents[""]!
            group = SandboxControlGroup(folders: [parent + "/" + name])
            // Controllers must be handed down to children; this fails where the parent holds
            // processes itself (v2's rule), which is said as the reason.
            let available = (try? String(contentsOfFile: parent + "/cgroup.controllers", encoding: .utf8)) ?? ""
            let wanted = ControlGroupLayout.v2Controllers.filter { available.split(whereSeparator: \.isWhitespace).contains(Substring($0)) }
            try write(wanted.map { "+" + $0 }.joined(separator: " "), to: parent + "/cgroup.subtree_control")
            let folder = group.folders[0]
            settings = [
                (folder + "/memory.max", memory, true),
                (folder + "/memory.swap.max", "0", false),
                (folder + "/pids.max", pids, true),
                (folder + "/cpu.weight", "\(cpuWeight)", wanted.contains("cpu")),
                (folder + "/cpu.max", "\(quota) \(cpuPeriodMicroseconds)", wanted.contains("cpu")),
            ]
            if let device, wanted.contains("io") {
                settings.append((folder + "/io.max", "\(device.major):\(device.minor) rbps=\(rate) wbps=\(rate)", false))
            }
        }
        for folder in group.folders where mkdir(folder, 0o755) != 0 && errno != EEXIST {
            let reason = String(cString: strerror(errno))
            group.remove()
            throw ControlGroupError(message: "cannot make \(folder): \(reason)")
        }
        for (file, value, required) in settings {
            do {
                try write(value, to: file)
            } catch where required {
                group.remove()
                throw error
            } catch {}
        }
        return group
    }

    /// The files a process writes its pid to, to join.
    var processFiles: [String] { folders.map { $0 + "/cgroup.procs" } }

    /// Kills every process in the group: at once with v2's `cgroup.kill`, else over and over
    /// until none is left (a fork that raced the kill joined the group too, and the pids limit
    /// bounds how many there can be).
    func killAll() async {
        if folders.count == 1, (try? Self.write("1", to: folders[0] + "/cgroup.kill")) != nil { return }
        for _ in 0..<200 {
            var found = false
            for folder in folders {
                let text = (try? String(contentsOfFile: folder + "/cgroup.procs", encoding: .utf8)) ?? ""
                for pid in text.split(separator: "\n").compactMap({ Int32($0) }) where pid > 1 {
                    found = true
                    kill(pid, SIGKILL)
                }
            }
            if !found { return }
            try? await Task.sleep(for: .milliseconds(5))
        }
    }

    /// Removes the group's folders (a group with processes left cannot go); nil when gone.
    @discardableResult
    func remove() -> String? {
        var problems: [String] = []
        for folder in folders {
            var attempts = 0
            // A killed process leaves its group a moment after the signal.
            while rmdir(folder) != 0, errno != ENOENT {
                attempts += 1
                if attempts == 100 {
                    problems.append("rmdir \(folder): \(String(cString: strerror(errno)))")
                    break
                }
                usleep(5_000)
            }
        }
        return problems.isEmpty ? nil : problems.joined(separator: "; ")
    }

    static func write(_ value: String, to file: String) throws {
        let descriptor = open(file, O_WRONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw ControlGroupError(message: "cannot open \(file): \(String(cString: strerror(errno)))") }
        defer { close(descriptor) }
        let bytes = Array(value.utf8)
        guard Glibc.write(descriptor, bytes, bytes.count) == bytes.count else {
            throw ControlGroupError(message: "cannot write '\(value)' to \(file): \(String(cString: strerror(errno)))")
        }
    }
}

extension String {
    fileprivate func trimmingSuffix(_ suffix: String) -> String {
        self.count > 1 && hasSuffix(suffix) ? String(dropLast(suffix.count)) : self
    }
}
