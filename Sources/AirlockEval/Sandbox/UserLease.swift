import Foundation
import Synchronization

/// One sandbox user held by one live sandbox on this machine, across Airlock processes: an
/// exclusive `flock` on `/run/airlock/uids/UID`, held for the sandbox's life. The kernel drops
/// the lock when its holder dies, so a lease that can be taken belongs to no live sandbox.
/// While a sandbox lives its lease file records it (name and folder): the registry from which
/// a sweep removes what a dead or failed owner left. Files are never deleted, so two processes
/// can never lock two different files for one uid.
final class UserLease: Sendable {
    struct Record: Hashable, Sendable {
        var name: String
        var root: String
        /// The sandbox's control group folders, once made.
        var controlGroups: [String] = []
    }

    static let folder = "/run/airlock/uids"
    let uid: UInt32
    /// The locked file; -1 once released.
    private let descriptor: Mutex<Int32>

    private init(uid: UInt32, descriptor: Int32) {
        self.uid = uid
        self.descriptor = Mutex(descriptor)
    }

    /// The lease on `uid`, or nil when another sandbox holds it.
    static func acquire(_ uid: UInt32) throws -> UserLease? {
        try folderReady.get()
        let file = open("\(folder)/\(uid)", O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard file >= 0 else {
            throw SandboxError(code: .start, message: "cannot open \(folder)/\(uid): \(String(cString: strerror(errno)))")
        }
        guard flock(file, LOCK_EX | LOCK_NB) == 0 else {
            close(file)
            return nil
        }
        return UserLease(uid: uid, descriptor: file)
    }

    private static let folderReady: Result<Void, SandboxError> = {
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            return .success(())
        } catch {
            return .failure(SandboxError(code: .start, message: "cannot make \(folder): \(error)"))
        }
    }()

    /// The sandbox the file records, if any.
    var record: Record? {
        descriptor.withLock { file -> Record? in
            var buffer = [UInt8](repeating: 0, count: 4096)
            let count = pread(file, &buffer, buffer.count, 0)
            guard count > 0 else { return nil }
            let lines = String(decoding: buffer[0..<count], as: UTF8.self).split(separator: "\n").map(String.init)
            guard lines.count >= 2 else { return nil }
            return Record(name: lines[0], root: lines[1], controlGroups: Array(lines.dropFirst(2)))
        }
    }

    func record(_ record: Record) throws {
        let text = Array(([record.name, record.root] + record.controlGroups).map { $0 + "\n" }.joined().utf8)
        let written = descriptor.withLock { file in
            ftruncate(file, 0) == 0 ? pwrite(file, text, text.count, 0) : -1
        }
        guard written == text.count else { throw SandboxError(code: .start, message: "cannot write the lease \(Self.folder)/\(uid)") }
    }

    /// Nothing is left of the sandbox.
    func clearRecord() {
        descriptor.withLock { _ = ftruncate($0, 0) }
    }

    /// Ends the lease (closing the file drops the lock); the record stays as it is.
    func release() {
        descriptor.withLock { file in
            if file >= 0 { close(file) }
            file = -1
        }
    }

    deinit { release() }
}
