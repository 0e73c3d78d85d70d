@testable import AirlockEval
import Foundation
import Testing

/// Where a sandbox's control group goes, read from the two files the kernel writes.
struct ControlGroupLayoutTests {
    /// This project's machines: v1 controllers with an empty v2 hierarchy beside them, Airlock
    /// in a memory group of its own.
    static let v1Mounts = """
        30 25 0:26 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:9 - tmpfs tmpfs ro,mode=755
        31 30 0:27 / /sys/fs/cgroup/unified rw,nosuid,nodev,noexec,relatime shared:10 - cgroup2 cgroup2 rw
        33 30 0:29 / /sys/fs/cgroup/cpu rw,relatime shared:12 - cgroup cgroup rw,cpu
        34 30 0:30 / /sys/fs/cgroup/memory rw,relatime shared:13 - cgroup cgroup rw,memory
        35 30 0:31 / /sys/fs/cgroup/blkio rw,relatime shared:14 - cgroup cgroup rw,blkio
        36 30 0:32 / /sys/fs/cgroup/pids rw,relatime shared:15 - cgroup cgroup rw,pids
        """
    static let v1Groups = "8:pids:/\n7:blkio:/\n4:memory:/process_api/14d3\n1:cpu:/\n0::/\n"

    @Test func v1IsChosenWhenTheUnifiedHierarchyHasNoControllers() throws {
        let layout = try ControlGroupLayout.parse(mountinfo: Self.v1Mounts, cgroup: Self.v1Groups) { _ in "" }.get()
        #expect(layout.version == .v1)
        #expect(layout.parents == ["memory": "/sys/fs/cgroup/memory/process_api/14d3", "pids": "/sys/fs/cgroup/pids", "cpu": "/sys/fs/cgroup/cpu", "blkio": "/sys/fs/cgroup/blkio"])
    }

    @Test func v2IsChosenWhenItHasMemoryAndPids() throws {
        let mounts = "29 24 0:25 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate\n"
        var asked: [String] = []
        let layout = try ControlGroupLayout.parse(mountinfo: mounts, cgroup: "0::/system.slice/airlock.service\n") {
            asked.append($0)
            return "cpuset cpu io memory pids\n"
        }.get()
        #expect(layout.version == .v2)
        #expect(layout.parents == ["": "/sys/fs/cgroup/system.slice/airlock.service"])
        #expect(asked == ["/sys/fs/cgroup/system.slice/airlock.service"])
    }

    /// Inside a cgroup namespace the mount's root is the start of the process's path.
    @Test func aMountRootBelowTheHierarchyIsNotCountedTwice() throws {
        let mounts = "34 30 0:30 /docker/abc /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory,pids,cpu,blkio\n"
        let layout = try ControlGroupLayout.parse(mountinfo: mounts, cgroup: "4:memory,pids,cpu,blkio:/docker/abc/inner\n") { _ in nil }.get()
        #expect(layout.parents["memory"] == "/sys/fs/cgroup/memory/inner")
    }

    @Test func escapedMountPointsAreRead() throws {
        let mounts = Self.v1Mounts.replacingOccurrences(of: "/sys/fs/cgroup/pids", with: "/sys/fs/cgroup/my\\040pids")
        let layout = try ControlGroupLayout.parse(mountinfo: mounts, cgroup: Self.v1Groups) { _ in "" }.get()
        #expect(layout.parents["pids"] == "/sys/fs/cgroup/my pids")
    }

    /// A machine without the controllers gets the per-process limits, and the reason names what is missing.
    @Test func aMissingControllerIsSaid() {
        let mounts = Self.v1Mounts.split(separator: "\n").filter { !$0.hasSuffix("rw,blkio") }.joined(separator: "\n")
        let result = ControlGroupLayout.parse(mountinfo: mounts, cgroup: Self.v1Groups) { _ in "" }
        guard case .failure(let error) = result else { Issue.record("expected a failure, got \(result)"); return }
        #expect(error.message.contains("blkio"))
    }
}
