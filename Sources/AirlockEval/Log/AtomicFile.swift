import Foundation

/// Whole-file writes that are all or nothing: write a temporary file beside the target, then rename.
public enum AtomicFile {
    public static func write(_ data: Data, to path: String) throws {
        try write(to: path) { temporary in
            guard FileManager.default.createFile(atPath: temporary, contents: data) else {
                throw EvalError(.io, "cannot write", file: temporary)
            }
        }
    }

    /// `body` writes the file at the temporary path it is given, which then replaces `path`; if
    /// it throws, `path` is left as it was and the temporary file removed.
    public static func write(to path: String, _ body: (String) throws -> Void) throws {
        let temporary = "\(path).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        do {
            try body(temporary)
        } catch {
            unlink(temporary)
            throw error
        }
        guard rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw EvalError(.io, "cannot replace the file: \(reason)", file: path)
        }
    }
}
