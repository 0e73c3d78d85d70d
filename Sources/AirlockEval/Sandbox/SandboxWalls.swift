import Foundation

/// The walls this machine's sandboxes get, found once per process and recorded in each run's
/// header: resource control by a control group per sandbox or per-process limits only, a
/// size-limited `/home/agent` or the host's disk, and the system-call filter. Where a wall is
/// missing its line says why; the per-process limits (``SandboxLimits``) apply either way.
public struct SandboxWalls: Sendable, Codable, Hashable {
    /// `cgroup v1: memory, pids, cpu, blkio`, or `per-process limits only: <why>`.
    public var resources: String
    /// How `/home/agent` and `/tmp` are bounded.
    public var fileSystems: String
    /// What the system-call filter refuses.
    public var systemCalls: String

    enum CodingKeys: String, CodingKey {
        case resources
        case fileSystems = "file_systems"
        case systemCalls = "system_calls"
    }

    /// This machine's walls (nil where sandboxes cannot be made at all).
    public static var current: SandboxWalls? {
        guard Sandbox.isAvailable else { return nil }
        let probe = probed
        let resources: String
        switch probe.controlGroups {
        case .success(let layout):
            let controllers = layout.version == .v1 ? ControlGroupLayout.v1Controllers : ControlGroupLayout.v2Controllers
            resources = "cgroup \(layout.version): \(controllers.joined(separator: ", ")) (memory of the whole sandbox, processes, CPU quota and weight, disk throughput)"
        case .failure(let error):
            resources = "per-process limits only (address space, processes of the user, CPU seconds, file size): \(error.message)"
        }
        let fileSystems = if let problem = probe.sizedFoldersProblem {
            "tmpfs with size= for /tmp; /home/agent and /srv on the host's disk, files capped by size only: \(problem)"
        } else {
            "tmpfs with size= for /home/agent, /srv and /tmp"
        }
        return SandboxWalls(resources: resources, fileSystems: fileSystems, systemCalls: SystemCallFilter.summary)
    }

    /// What was found: the layout where a trial group could be made and removed, and why no
    /// tmpfs could be mounted on the host, if none could.
    struct Probe: Sendable {
        var controlGroups: Result<ControlGroupLayout, ControlGroupError>
        var sizedFoldersProblem: String?
    }

    static let probed: Probe = {
        let name = "airlock-probe-\(getpid())"
        let controlGroups = ControlGroupLayout.current.flatMap { layout -> Result<ControlGroupLayout, ControlGroupError> in
            do {
                let group = try SandboxControlGroup.create(name: name, limits: SandboxLimits(), layout: layout, device: nil)
                if let problem = group.remove() { return .failure(ControlGroupError(message: problem)) }
                return .success(layout)
            } catch let error as ControlGroupError {
                return .failure(error)
            } catch {
                return .failure(ControlGroupError(message: "\(error)"))
            }
        }
        let folder = NSTemporaryDirectory() + name
        var sizedFoldersProblem: String?
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            try Sandbox.mountSizedFolder(folder, bytes: 1 << 20, owner: 0)
            umount2(folder, Int32(MNT_DETACH))
        } catch {
            sizedFoldersProblem = "\(error)"
        }
        try? FileManager.default.removeItem(atPath: folder)
        return Probe(controlGroups: controlGroups, sizedFoldersProblem: sizedFoldersProblem)
    }()
}
