import AirlockCore
import AirlockStore
import Foundation
import Synchronization

/// The gateway's write-ahead record of the calls it admitted, so that a crash loses no charge.
///
/// Each admitted call is appended as one JSON line, with one `write(2)`, before it is forwarded:
/// once written it survives the process's death. The gateway's flush `fsync`s the file once for
/// all the lines since the last (never once a call), writes the finished calls to the store, and
/// then rewrites the journal, atomically (a new file renamed over the old), with only the calls
/// whose records are not in the store yet.
///
/// On start the lines left behind are read back: a call whose record reached the store before
/// the crash is dropped; any other is recorded as a call charged its whole reservation, with the
/// error `lost_in_crash`. The first line says from which audit sequence on to look for records,
/// so that the look-up reads only what was written since the last rewrite.
final class CallJournal: Sendable {
    let path: String
    private let state: Mutex<State>

    private struct State {
        var descriptor: Int32
        /// The line of each call whose record is not in the store yet, by call id.
        var open: [String: [UInt8]]
        /// Audit entries at or below this sequence hold none of the open calls' records.
        var auditAfter: Int64
        /// Calls read back on start, not yet checked against the store.
        var leftBehind: [GatewayCallRecord]
    }

    /// Opens (or creates) the journal at `path`, reading back the calls a previous run left in it.
    init(path: String) throws {
        self.path = path
        var open: [String: [UInt8]] = [:]
        var auditAfter: Int64 = 0
        var leftBehind: [GatewayCallRecord] = []
        if let data = FileManager.default.contents(atPath: path) {
            for line in data.split(separator: UInt8(ascii: "\n")) {
                // A line cut short by the crash is no call: it was never forwarded.
                guard let object = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any] else { continue }
                if let after = (object["audit_after"] as? NSNumber)?.int64Value { auditAfter = after }
                if let call = Self.call(from: object) {
                    leftBehind.append(call)
                    open[call.callId] = Array(line) + [UInt8(ascii: "\n")]
                }
            }
        }
        let descriptor = Foundation.open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw CallJournalError(path: path, operation: "open", errno: errno) }
        // One gateway a journal: a second process would rewrite the first one's calls away.
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            let error = CallJournalError(path: path, operation: "lock (is another gateway using it?)", errno: errno)
            close(descriptor)
            throw error
        }
        state = Mutex(State(descriptor: descriptor, open: open, auditAfter: auditAfter, leftBehind: leftBehind))
    }

    deinit {
        state.withLock { _ = close($0.descriptor) }
    }

    /// Appends an admitted call, before it is forwarded.
    func append(_ call: GatewayCallRecord) {
        var line = Self.line(call)
        line.append(UInt8(ascii: "\n"))
        state.withLock { state in
            state.open[call.callId] = line
            _ = line.withUnsafeBytes { write(state.descriptor, $0.baseAddress, $0.count) }
        }
    }

    /// Makes every line appended so far durable, with one `fsync` for all of them.
    func sync() {
        let descriptor = state.withLock { dup($0.descriptor) }
        guard descriptor >= 0 else { return }
        fsync(descriptor)
        close(descriptor)
    }

    /// The calls a previous run left behind, once: the caller records those the store lacks.
    func takeLeftBehind() -> [GatewayCallRecord] {
        state.withLock { state in
            defer { state.leftBehind = [] }
            return state.leftBehind
        }
    }

    /// Puts back calls taken with ``takeLeftBehind()`` that could not be checked.
    func putBack(_ calls: [GatewayCallRecord]) {
        state.withLock { $0.leftBehind += calls }
    }

    /// The calls with these ids have their records in the store (audit entries up to
    /// `auditAfter` hold no other open call's): rewrites the journal without them.
    func committed(_ callIds: some Sequence<String>, auditAfter: Int64?) throws {
        let temporary = path + ".new"
        let synced: Int32 = try state.withLock { (state: inout State) throws -> Int32 in
            for id in callIds { state.open[id] = nil }
            if let auditAfter { state.auditAfter = max(state.auditAfter, auditAfter) }
            var bytes: [UInt8] = []
            var header = JSONWriter(capacity: 32)
            header.object { $0.field("audit_after", Int(state.auditAfter)) }
            bytes += header.bytes
            bytes.append(UInt8(ascii: "\n"))
            for line in state.open.values { bytes += line }
            let descriptor = Foundation.open(temporary, O_WRONLY | O_APPEND | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
            guard descriptor >= 0 else { throw CallJournalError(path: temporary, operation: "open", errno: errno) }
            // The lock goes with the new file: it is the one a second gateway would open.
            _ = flock(descriptor, LOCK_EX | LOCK_NB)
            let written = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
            guard written == bytes.count, rename(temporary, path) == 0 else {
                let error = CallJournalError(path: temporary, operation: "write", errno: errno)
                close(descriptor)
                throw error
            }
            close(state.descriptor)
            state.descriptor = descriptor
            return dup(descriptor)
        }
        // Outside the lock: calls keep being appended while the new file reaches the disk.
        if synced >= 0 {
            fsync(synced)
            close(synced)
        }
    }

    /// Audit entries at or below this sequence hold none of the open calls' records.
    var auditAfter: Int64 { state.withLock { $0.auditAfter } }

    /// How many calls wait for their records to reach the store (for tests and the log).
    var openCount: Int { state.withLock { $0.open.count } }

    // MARK: Lines

    private static func line(_ call: GatewayCallRecord) -> [UInt8] {
        var writer = JSONWriter(capacity: 320)
        writer.object { line in
            line.field("call", call.callId)
            line.field("at_ms", Int(call.at.timeIntervalSince1970 * 1000))
            line.field("key", call.keyId)
            line.field("user", ifPresent: call.userId)
            line.field("organisation", call.organisationId)
            line.field("grant", call.grantId)
            line.field("version", call.versionId)
            line.field("route", call.route)
            line.field("streamed", call.streamed)
            line.field("reserved", Int(call.chargedTokens))
        }
        return writer.bytes
    }

    /// A line read back: the call charged its reservation, as lost in a crash.
    private static func call(from object: [String: Any]) -> GatewayCallRecord? {
        guard let callId = object["call"] as? String, let at = (object["at_ms"] as? NSNumber)?.int64Value, let keyId = object["key"] as? String,
            let organisationId = object["organisation"] as? String, let grantId = object["grant"] as? String,
            let versionId = object["version"] as? String, let route = object["route"] as? String,
            let reserved = (object["reserved"] as? NSNumber)?.int64Value
        else { return nil }
        return GatewayCallRecord(
            callId: callId, at: Date(timeIntervalSince1970: Double(at) / 1000), keyId: keyId, userId: object["user"] as? String,
            organisationId: organisationId, grantId: grantId, versionId: versionId, route: route, status: 500, promptTokens: 0,
            completionTokens: 0, chargedTokens: max(0, reserved), latencyMilliseconds: 0, streamed: object["streamed"] as? Bool ?? false,
            error: "lost_in_crash")
    }
}

/// The journal could not be opened or written; the gateway does not start without it.
struct CallJournalError: Error, CustomStringConvertible {
    var path: String
    var operation: String
    var errno: Int32

    var description: String { "gateway journal \(path): \(operation) failed: \(String(cString: strerror(errno)))" }
}
