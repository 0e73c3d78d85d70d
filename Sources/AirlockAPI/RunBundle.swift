import Foundation

/// What a submitted run carries: its task file and everything the task reads (datasets,
/// challenges, data) as one POSIX tar (ustar) archive, stored and fetched by the SHA-256 of its
/// bytes. Airlock writes it the same way for the same files (sorted, no times, no owners), so
/// equal content has one address; any ustar writer's archive of plain files and folders reads.
/// Reading is strict, since a bundle comes from a participant: regular files and folders only
/// (no links, devices or other kinds), relative paths without `..`, no name twice, checksums
/// right, and limits on sizes and counts.
public enum RunBundle {
    public struct File: Sendable, Hashable {
        /// A relative path with `/` between its parts.
        public var path: String
        public var contents: Data

        public init(path: String, contents: Data) {
            self.path = path
            self.contents = contents
        }
    }

    public struct Limits: Sendable, Hashable {
        public var totalBytes: Int
        public var fileBytes: Int
        public var files: Int
        public var depth: Int

        public init(totalBytes: Int = 256 << 20, fileBytes: Int = 128 << 20, files: Int = 20_000, depth: Int = 32) {
            self.totalBytes = totalBytes
            self.fileBytes = fileBytes
            self.files = files
            self.depth = depth
        }
    }

    public struct Failure: Error, Hashable, Sendable, CustomStringConvertible {
        /// The byte offset of the entry's header where the fault is.
        public var offset: Int
        public var message: String
        public var description: String { "bundle at byte \(offset): \(message)" }
    }

    static let block = 512

    /// The archive of `files`, the same bytes for the same files in any order.
    public static func pack(_ files: [File]) throws -> Data {
        var data = Data()
        var seen = Set<String>()
        for file in files.sorted(by: { $0.path < $1.path }) {
            try check(path: file.path, offset: data.count, limits: Limits(), seen: &seen)
            let (name, prefix) = try split(file.path, offset: data.count)
            var header = [UInt8](repeating: 0, count: block)
            put(name, at: 0, width: 100, in: &header)
            put(octal(0o644, width: 8), at: 100, width: 8, in: &header)
            put(octal(0, width: 8), at: 108, width: 8, in: &header)
            put(octal(0, width: 8), at: 116, width: 8, in: &header)
            put(octal(file.contents.count, width: 12), at: 124, width: 12, in: &header)
            put(octal(0, width: 12), at: 136, width: 12, in: &header)
            header[156] = UInt8(ascii: "0")
            put("ustar", at: 257, width: 6, in: &header)
            put("00", at: 263, width: 2, in: &header)
            put(prefix, at: 345, width: 155, in: &header)
            for index in 148..<156 { header[index] = UInt8(ascii: " ") }
            let sum = header.reduce(0) { $0 + Int($1) }
            put(octal(sum, width: 7), at: 148, width: 7, in: &header)
            header[155] = UInt8(ascii: " ")
            data.append(contentsOf: header)
            data.append(file.contents)
            data.append(contentsOf: [UInt8](repeating: 0, count: (block - file.contents.count % block) % block))
        }
        data.append(contentsOf: [UInt8](repeating: 0, count: 2 * block))
        return data
    }

    /// The files of an archive, in its order; folders are implied by the paths, and a leading
    /// `./` is dropped.
    public static func read(_ data: Data, limits: Limits = Limits()) throws(Failure) -> [File] {
        let bytes = [UInt8](data)
        var files: [File] = []
        var seen = Set<String>()
        var total = 0
        var offset = 0
        while true {
            guard offset + block <= bytes.count else {
                throw Failure(offset: offset, message: "the archive ends without its two zero blocks")
            }
            let header = bytes[offset..<(offset + block)]
            if header.allSatisfy({ $0 == 0 }) {
                guard offset + 2 * block <= bytes.count, bytes[(offset + block)..<(offset + 2 * block)].allSatisfy({ $0 == 0 }) else {
                    throw Failure(offset: offset, message: "one zero block where the archive's end needs two")
                }
                guard bytes[(offset + 2 * block)...].allSatisfy({ $0 == 0 }) else {
                    throw Failure(offset: offset + 2 * block, message: "bytes after the archive's end")
                }
                return files
            }
            let fields = Array(header)
            guard fields[257..<262].elementsEqual("ustar".utf8) else { throw Failure(offset: offset, message: "not a ustar header") }
            guard let recorded = number(fields[148..<156]) else { throw Failure(offset: offset, message: "a checksum that is not an octal number") }
            let sum = fields.enumerated().reduce(0) { $0 + (148..<156 ~= $1.offset ? Int(UInt8(ascii: " ")) : Int($1.element)) }
            guard sum == recorded else { throw Failure(offset: offset, message: "checksum \(recorded) where the header sums to \(sum)") }
            guard let name = text(fields[0..<100]), let prefix = text(fields[345..<500]) else {
                throw Failure(offset: offset, message: "a name that is not UTF-8")
            }
            var path = prefix.isEmpty ? name : prefix + "/" + name
            // `tar -C folder .` writes every path under `./`, and the folder itself as `./`.
            while path.hasPrefix("./") { path.removeFirst(2) }
            if path.isEmpty || path == ".", fields[156] == UInt8(ascii: "5") {
                offset += block
                continue
            }
            guard let size = number(fields[124..<136]), size <= limits.fileBytes else {
                throw Failure(offset: offset, message: "\(path.prefix(120)): a size that is not an octal number up to \(limits.fileBytes)")
            }
            let type = fields[156]
            switch type {
            case UInt8(ascii: "0"), 0:
                try check(path: path, offset: offset, limits: limits, seen: &seen)
                let start = offset + block
                guard start + size <= bytes.count else { throw Failure(offset: offset, message: "\(path.prefix(120)): its \(size) bytes run past the archive's end") }
                total += size
                guard total <= limits.totalBytes else { throw Failure(offset: offset, message: "more than \(limits.totalBytes) bytes in all") }
                guard files.count < limits.files else { throw Failure(offset: offset, message: "more than \(limits.files) files") }
                files.append(File(path: path, contents: Data(bytes[start..<(start + size)])))
                offset = start + (size + block - 1) / block * block
            case UInt8(ascii: "5"):
                let folder = path.hasSuffix("/") ? String(path.dropLast()) : path
                var folders = Set<String>()
                try check(path: folder, offset: offset, limits: limits, seen: &folders)
                guard size == 0 else { throw Failure(offset: offset, message: "\(path.prefix(120)): a folder with contents") }
                offset += block
            default:
                throw Failure(offset: offset, message: "\(path.prefix(120)): an entry of type '\(Character(UnicodeScalar(type)))'; only plain files and folders are taken")
            }
        }
    }

    /// A path a bundle may hold: relative, `/`-separated, no empty, `.` or `..` part, no
    /// control bytes or backslash, parts of at most 255 bytes, at most `depth` deep, new.
    static func check(path: String, offset: Int, limits: Limits, seen: inout Set<String>) throws(Failure) {
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        guard !path.isEmpty, !path.hasPrefix("/"), parts.count <= limits.depth,
              !parts.contains(where: { $0.isEmpty || $0 == "." || $0 == ".." || $0.utf8.count > 255 }),
              !path.utf8.contains(where: { $0 < 0x20 || $0 == 0x7F || $0 == UInt8(ascii: "\\") }) else {
            throw Failure(offset: offset, message: "not a relative path without '..': \(path.prefix(120).debugDescription)")
        }
        guard seen.insert(path).inserted else { throw Failure(offset: offset, message: "\(path.prefix(120)) twice") }
    }

    /// ustar keeps up to 100 bytes of name and 155 of prefix, split at a `/`.
    private static func split(_ path: String, offset: Int) throws -> (name: String, prefix: String) {
        if path.utf8.count <= 100 { return (path, "") }
        let bytes = Array(path.utf8)
        for index in stride(from: min(bytes.count - 1, 155), through: 1, by: -1) where bytes[index] == UInt8(ascii: "/") && bytes.count - index - 1 <= 100 {
            return (String(decoding: bytes[(index + 1)...], as: UTF8.self), String(decoding: bytes[..<index], as: UTF8.self))
        }
        throw Failure(offset: offset, message: "\(path.prefix(120)): too long for a ustar archive")
    }

    private static func put(_ text: String, at start: Int, width: Int, in header: inout [UInt8]) {
        for (index, byte) in text.utf8.prefix(width).enumerated() { header[start + index] = byte }
    }

    private static func octal(_ value: Int, width: Int) -> String {
        let digits = String(value, radix: 8)
        return String(repeating: "0", count: max(0, width - 1 - digits.count)) + digits
    }

    /// An octal field: digits, then NUL or space padding; nil for anything else.
    private static func number(_ field: ArraySlice<UInt8>) -> Int? {
        let trimmed = field.drop { $0 == UInt8(ascii: " ") }
        let digits = trimmed.prefix { (UInt8(ascii: "0")...UInt8(ascii: "7")).contains($0) }
        guard !digits.isEmpty, digits.count <= 11, trimmed.dropFirst(digits.count).allSatisfy({ $0 == 0 || $0 == UInt8(ascii: " ") }) else { return nil }
        return Int(String(decoding: digits, as: UTF8.self), radix: 8)
    }

    /// A NUL-ended text field; nil when it is not UTF-8.
    private static func text(_ field: ArraySlice<UInt8>) -> String? {
        String(validating: field.prefix { $0 != 0 }, as: UTF8.self)
    }
}
