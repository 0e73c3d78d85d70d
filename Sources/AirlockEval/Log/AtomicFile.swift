import Foundation

/// Whole-file writes that are all or nothing: write a temporary file beside the target, then rename.
public enum AtomicFile {
    public static func write(_ data: Data, to path: String) throws {
        let temporary = "\(path).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        guard FileManager.default.createFile(atPath: temporary, contents: data) else {
            throw EvalError(.io, "cannot write", file: temporary)
        }
        guard rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw EvalError(.io, "cannot replace the file: \(reason)", file: path)
        }
    }
}
