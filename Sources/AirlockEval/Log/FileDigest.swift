import AirlockCore
import Crypto
import Foundation

enum FileDigest {
    /// The SHA-256 of a file, read in pieces so that a model file does not have to fit in memory;
    /// of a folder, over its files' relative paths and contents in sorted order.
    static func sha256(ofFile path: String) throws -> String {
        var hasher = SHA256()
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else { throw EvalError(.io, "cannot read", file: path) }
        if isFolder.boolValue {
            let names = (FileManager.default.enumerator(atPath: path)?.allObjects as? [String] ?? []).sorted()
            for name in names {
                var isChildFolder: ObjCBool = false
                _ = FileManager.default.fileExists(atPath: path + "/" + name, isDirectory: &isChildFolder)
                if isChildFolder.boolValue { continue }
                hasher.update(data: Data((name + "\0").utf8))
                try update(&hasher, path + "/" + name)
            }
        } else {
            try update(&hasher, path)
        }
        return Hex.string(hasher.finalize())
    }

    private static func update(_ hasher: inout SHA256, _ path: String) throws {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw EvalError(.io, "cannot read", file: path) }
        defer { try? handle.close() }
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty { hasher.update(data: chunk) }
    }
}
