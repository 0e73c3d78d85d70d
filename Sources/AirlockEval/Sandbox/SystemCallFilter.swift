import Foundation

/// The seccomp program every sandboxed command and service runs under (classic BPF, as
/// bubblewrap's `--seccomp` reads it). Nothing in a sandbox has a capability, so most of these
/// calls would fail anyway; the filter takes away the kernel surface that exploits go through
/// and the state that would outlive a sandbox. Refused with EPERM:
/// - new user namespaces (`unshare` or `clone` with `CLONE_NEWUSER`): inside one a process has
///   every capability, and with them the kernel's namespace-only code paths;
/// - io_uring, eBPF, perf events and userfaultfd: the usual ways in of kernel exploits;
/// - the kernel keyrings: a key outlives the command and would pass between sandboxes of a user;
/// - mounting, changing namespaces, handles to host files, modules, kexec, reboot, swap,
///   accounting, quotas and the kernel log;
/// - any call through another ABI (32-bit, x32), where calls have other numbers.
/// `clone3` gets ENOSYS: its flags sit in memory the filter cannot read, and the C library
/// falls back to `clone` on ENOSYS. ptrace stays, for debuggers in challenges.
enum SystemCallFilter {
    /// Refused calls: name, x86-64 number, arm64 number.
    static let refused: [(name: String, x86_64: UInt32, arm64: UInt32)] = [
        ("add_key", 248, 217), ("request_key", 249, 218), ("keyctl", 250, 219),
        ("io_uring_setup", 425, 425), ("io_uring_enter", 426, 426), ("io_uring_register", 427, 427),
        ("bpf", 321, 280), ("perf_event_open", 298, 241), ("userfaultfd", 323, 282),
        ("setns", 308, 268), ("mount", 165, 40), ("umount2", 166, 39), ("pivot_root", 155, 41),
        ("open_tree", 428, 428), ("move_mount", 429, 429), ("fsopen", 430, 430), ("fsconfig", 431, 431),
        ("fsmount", 432, 432), ("fspick", 433, 433), ("mount_setattr", 442, 442),
        ("open_by_handle_at", 304, 265), ("name_to_handle_at", 303, 264),
        ("init_module", 175, 105), ("finit_module", 313, 273), ("delete_module", 176, 106),
        ("kexec_load", 246, 104), ("kexec_file_load", 320, 294), ("reboot", 169, 142),
        ("swapon", 167, 224), ("swapoff", 168, 225), ("acct", 163, 89), ("syslog", 103, 116),
        ("quotactl", 179, 60), ("quotactl_fd", 443, 443), ("lookup_dcookie", 212, 18),
    ]

    /// Refused only with `CLONE_NEWUSER` in their first argument.
    static let namespaceCalls: [(name: String, x86_64: UInt32, arm64: UInt32)] = [("clone", 56, 220), ("unshare", 272, 97)]
    static let clone3: (x86_64: UInt32, arm64: UInt32) = (435, 435)
    static let cloneNewUser: UInt32 = 0x1000_0000

    /// One line for the run header and the docs.
    static var summary: String {
        "seccomp refuses new user namespaces, " + refused.map(\.name).joined(separator: ", ") + ", and other ABIs; clone3 gets ENOSYS"
    }

    static let program: Data = {
        #if arch(x86_64)
        let architecture: UInt32 = 0xC000_003E
        let number = { (call: (name: String, x86_64: UInt32, arm64: UInt32)) in call.x86_64 }
        let clone3Number = clone3.x86_64
        #elseif arch(arm64)
        let architecture: UInt32 = 0xC000_00B7
        let number = { (call: (name: String, x86_64: UInt32, arm64: UInt32)) in call.arm64 }
        let clone3Number = clone3.arm64
        #endif
        enum Label { case next, refuse, noSystemCall, allow, checkFlags }
        enum Operation { case load(UInt32), jumpIfEqual(UInt32, Label), jumpIfSet(UInt32, Label), ret(UInt32), label(Label) }
        let allow: UInt32 = 0x7FFF_0000, refuse = 0x0005_0000 | UInt32(EPERM), noSystemCall = 0x0005_0000 | UInt32(ENOSYS)
        // seccomp_data holds the call's number at 0, the ABI at 4, the first argument at 16 (its
        // low half, on these little-endian machines).
        var operations: [Operation] = [.load(4), .jumpIfEqual(architecture, .next), .ret(refuse), .label(.next), .load(0), .jumpIfSet(0x4000_0000, .refuse)]
        operations += refused.map { .jumpIfEqual(number($0), .refuse) }
        operations.append(.jumpIfEqual(clone3Number, .noSystemCall))
        operations += namespaceCalls.map { .jumpIfEqual(number($0), .checkFlags) }
        operations += [
            .ret(allow),
            .label(.checkFlags), .load(16), .jumpIfSet(cloneNewUser, .refuse), .ret(allow),
            .label(.refuse), .ret(refuse), .label(.noSystemCall), .ret(noSystemCall),
        ]
        // Labels take no place; a jump says how many instructions to skip when it is taken.
        var addresses: [Label: Int] = [:]
        var address = 0
        for operation in operations {
            if case .label(let label) = operation { addresses[label] = address } else { address += 1 }
        }
        var data = Data()
        func emit(_ code: UInt16, _ ifTrue: Int, _ constant: UInt32) {
            precondition((0...255).contains(ifTrue), "a seccomp jump of \(ifTrue)")
            withUnsafeBytes(of: code.littleEndian) { data.append(contentsOf: $0) }
            data.append(contentsOf: [UInt8(ifTrue), 0])
            withUnsafeBytes(of: constant.littleEndian) { data.append(contentsOf: $0) }
        }
        address = 0
        for operation in operations {
            switch operation {
            case .label: continue
            case .load(let offset): emit(0x20, 0, offset)
            case .jumpIfEqual(let value, let label): emit(0x15, addresses[label]! - address - 1, value)
            case .jumpIfSet(let bits, let label): emit(0x45, addresses[label]! - address - 1, bits)
            case .ret(let action): emit(0x06, 0, action)
            }
            address += 1
        }
        return data
    }()
}
