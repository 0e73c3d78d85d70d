@testable import AirlockAPI
import AirlockTestSupport
import Foundation
import PropertyBased
import Testing

/// Bundles: written the same way for the same files, read by GNU tar and reading its archives,
/// and strict with what a hostile participant could put in one.
struct RunBundleTests {
    static let files = [
        RunBundle.File(path: "task.yaml", contents: Data("name: t\n".utf8)),
        RunBundle.File(path: "data/items.jsonl", contents: Data(repeating: 0x61, count: 1500)),
        RunBundle.File(path: "challenges/" + String(repeating: "deep/", count: 30) + "flag.txt", contents: Data()),
        RunBundle.File(path: "données/é.txt", contents: Data("ü".utf8)),
    ]

    @Test func theSameFilesMakeTheSameBytesAndReadBack() throws {
        let packed = try RunBundle.pack(Self.files)
        #expect(try RunBundle.pack(Self.files.reversed()) == packed)
        #expect(packed.count % 512 == 0)
        let read = try RunBundle.read(packed)
        #expect(read == Self.files.sorted { $0.path < $1.path })
    }

    @Test func gnuTarReadsOursAndWeReadGNUTars() throws {
        let folder = NSTemporaryDirectory() + "airlock-bundle-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try FileManager.default.createDirectory(atPath: folder + "/out", withIntermediateDirectories: true)
        try RunBundle.pack(Self.files).write(to: URL(fileURLWithPath: folder + "/ours.tar"))
        #expect(try tar(["-xf", folder + "/ours.tar", "-C", folder + "/out"]).status == 0)
        for file in Self.files {
            #expect(FileManager.default.contents(atPath: folder + "/out/" + file.path) == file.contents, "\(file.path)")
        }
        // GNU tar's ustar archive of the same folder (with its folder entries) reads as the same files.
        #expect(try tar(["--format=ustar", "-cf", folder + "/theirs.tar", "-C", folder + "/out", "."]).status == 0)
        let theirs = try RunBundle.read(try Data(contentsOf: URL(fileURLWithPath: folder + "/theirs.tar")))
        #expect(Set(theirs) == Set(Self.files))
    }

    @Test func linksAndOtherKindsAreRefused() throws {
        let folder = NSTemporaryDirectory() + "airlock-bundle-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try FileManager.default.createDirectory(atPath: folder + "/in", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: folder + "/in/passwd", withDestinationPath: "/etc/passwd")
        #expect(try tar(["--format=ustar", "-cf", folder + "/link.tar", "-C", folder + "/in", "passwd"]).status == 0)
        let error = #expect(throws: RunBundle.Failure.self) { try RunBundle.read(try Data(contentsOf: URL(fileURLWithPath: folder + "/link.tar"))) }
        #expect(error?.message.contains("type '2'") == true, "\(String(describing: error))")
    }

    /// Hand-made headers: each names the fault and where it is.
    @Test(arguments: [
        ("../escape", "relative path"), ("/etc/cron.d/x", "relative path"), ("a/../../b", "relative path"), ("a//b", "relative path"),
        ("a\\b", "relative path"), ("ok\u{1}", "relative path"),
    ])
    func pathsOutsideTheBundleAreRefused(path: String, says: String) throws {
        let packed = try Self.header(path: path)
        let error = #expect(throws: RunBundle.Failure.self) { try RunBundle.read(packed) }
        #expect(error?.message.contains(says) == true, "\(String(describing: error))")
        #expect(error?.offset == 0)
    }

    @Test func brokenArchivesAreRefused() throws {
        let good = try RunBundle.pack(Self.files)
        var badSum = good
        badSum[0] ^= 1
        var twice = try RunBundle.pack([Self.files[0]])
        twice.removeLast(1024)
        twice += try RunBundle.pack([Self.files[0]])
        var cases: [(Data, String)] = [
            (badSum, "checksum"), (good.prefix(good.count - 512), "needs two"), (good + Data([1]), "after the archive's end"),
            (good.prefix(1100), "past the archive's end"), (twice, "twice"), (Data(count: 100), "two zero blocks"),
        ]
        var notUstar = good
        notUstar[257] = UInt8(ascii: "x")
        cases.append((notUstar, "not a ustar header"))
        for (bytes, says) in cases {
            let error = #expect(throws: RunBundle.Failure.self) { try RunBundle.read(bytes) }
            #expect(error?.message.contains(says) == true, "\(says): \(String(describing: error))")
        }
        let limited = #expect(throws: RunBundle.Failure.self) { try RunBundle.read(good, limits: .init(totalBytes: 1000)) }
        #expect(limited?.message.contains("in all") == true)
        let counted = #expect(throws: RunBundle.Failure.self) { try RunBundle.read(good, limits: .init(files: 2)) }
        #expect(counted?.message.contains("more than 2 files") == true)
    }

    /// One file entry with `path` in its name field, checksummed, and the end blocks.
    static func header(path: String) throws -> Data {
        var packed = [UInt8](try RunBundle.pack([RunBundle.File(path: "placeholder", contents: Data())]))
        for index in 0..<100 { packed[index] = 0 }
        for (index, byte) in path.utf8.enumerated() { packed[index] = byte }
        for index in 148..<156 { packed[index] = UInt8(ascii: " ") }
        let sum = packed[0..<512].reduce(0) { $0 + Int($1) }
        let digits = Array(String(sum, radix: 8).utf8)
        for index in 148..<155 { packed[index] = UInt8(ascii: "0") }
        for (index, byte) in digits.enumerated() { packed[155 - digits.count + index - 1] = byte }
        packed[154] = 0
        packed[155] = UInt8(ascii: " ")
        // Recompute with the final field bytes in place.
        return Data(packed)
    }

    func tar(_ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/tar")
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, output)
    }

    /// Bytes as a string of one character each (U+0000 to U+00FF), as the fuzz harness takes strings.
    static func latin1(_ data: Data) -> String {
        String(String.UnicodeScalarView(data.map { Unicode.Scalar($0) }))
    }

    /// Archives of generated files read back as those files; any bytes (mutated archives) read
    /// or are refused, and what reads packs back to an archive that reads the same.
    static let generatedArchives = Generator<String, Shrink.None<String>> { random in
        let names = ["a", "b.txt", "d/e", "d/f/g.json", "é", String(repeating: "x", count: 120)]
        var files: [RunBundle.File] = []
        for name in names where Bool.random(using: &random) {
            files.append(RunBundle.File(path: name, contents: Data((0..<Int.random(in: 0...700, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) })))
        }
        // Latin-1 keeps every byte as one character, so the archive's bytes survive as a String.
        return latin1((try? RunBundle.pack(files)) ?? Data())
    }

    static let target = FuzzTarget(
        "run-bundle",
        seeds: [latin1((try? RunBundle.pack(files)) ?? Data())],
        tokens: ["ustar\u{0}00", "../", "/", "0000000", "\u{0}", "5", "2"],
        generator: generatedArchives
    ) { utf8 throws(FuzzFailure) in
        // The harness hands over the string's UTF-8; the archive's bytes are its characters, one each.
        let bytes = Data(String(decoding: utf8, as: UTF8.self).unicodeScalars.map { UInt8(truncatingIfNeeded: $0.value) })
        guard let files = try? RunBundle.read(bytes) else { return }
        guard let again = try? RunBundle.read(try RunBundle.pack(files)) else {
            throw FuzzFailure("files read from an archive do not pack and read back: \(files.map(\.path))")
        }
        try fuzzRequire(again == files.sorted { $0.path < $1.path }, "repacked files differ: \(files.map(\.path))")
    }

    @Test func fuzz() {
        Self.target.run()
    }
}
