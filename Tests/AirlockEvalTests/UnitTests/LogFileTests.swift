import AirlockCore
@testable import AirlockEval
import Foundation
import Testing

/// Runs a program and returns its standard output and exit status.
private func run(_ executable: String, _ arguments: [String]) throws -> (output: Data, status: Int32) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = FileHandle.nullDevice
    try process.run()
    let output = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (output, process.terminationStatus)
}

private func littleEndian32(_ data: Data, at offset: Int) -> UInt32 {
    let bytes = [UInt8](data[data.startIndex + offset ..< data.startIndex + offset + 4])
    return UInt32(bytes[0]) | UInt32(bytes[1]) << 8 | UInt32(bytes[2]) << 16 | UInt32(bytes[3]) << 24
}

private func littleEndian16(_ data: Data, at offset: Int) -> UInt16 {
    let bytes = [UInt8](data[data.startIndex + offset ..< data.startIndex + offset + 2])
    return UInt16(bytes[0]) | UInt16(bytes[1]) << 8
}

@Suite struct CRC32Tests {
    @Test func checkValues() {
        // The standard check value of CRC-32/ISO-HDLC.
        #expect(CRC32.checksum(Data("123456789".utf8)) == 0xCBF4_3926)
        #expect(CRC32.checksum(Data()) == 0)
        #expect(CRC32.checksum(Data("The quick brown fox jumps over the lazy dog".utf8)) == 0x414F_A339)
        #expect(CRC32.checksum(Data("a".utf8)) == 0xE8B7_BE43)
        #expect(CRC32.checksum(Data([0x00])) == 0xD202_EF8D)
    }
}

@Suite struct ZipArchiveTests {
    static let members: [(String, Data)] = [
        ("header.json", Data(#"{"version": 2, "status": "success"}"#.utf8)),
        ("samples/q1_epoch_1.json", Data(String(repeating: "line of text\n", count: 500).utf8)),
        ("empty.txt", Data()),
        ("nested/deeper/unicode-content.json", Data("[\"🙂 ünïcode\"]".utf8)),
        ("binary.bin", Data((0..<256).map { UInt8($0) })),
    ]

    /// The archive's bytes, written into a file by `fill`.
    private func archive(_ fill: (ZipArchive) throws -> Void = { zip in for (name, contents) in ZipArchiveTests.members { try zip.add(name, contents) } })
        throws -> Data
    {
        let folder = try UnitTestFolder()
        defer { folder.remove() }
        let zip = try ZipArchive(path: folder.path + "/archive.zip")
        try fill(zip)
        try zip.finish()
        return try Data(contentsOf: URL(fileURLWithPath: folder.path + "/archive.zip"))
    }

    private func littleEndian64(_ data: Data, at offset: Int) -> UInt64 {
        UInt64(littleEndian32(data, at: offset)) | UInt64(littleEndian32(data, at: offset + 4)) << 32
    }

    @Test func structure() throws {
        let data = try archive()
        #expect(littleEndian32(data, at: 0) == 0x0403_4B50)
        // End of central directory: the last 22 bytes (no comment).
        let end = data.count - 22
        #expect(littleEndian32(data, at: end) == 0x0605_4B50)
        #expect(littleEndian16(data, at: end + 8) == UInt16(Self.members.count))
        #expect(littleEndian16(data, at: end + 10) == UInt16(Self.members.count))
        let centralSize = Int(littleEndian32(data, at: end + 12))
        let centralOffset = Int(littleEndian32(data, at: end + 16))
        #expect(centralOffset + centralSize == end)
        #expect(littleEndian32(data, at: centralOffset) == 0x0201_4B50)
        // The first local header: a small member is stored, with its sizes and CRC.
        let (name, contents) = Self.members[0]
        #expect(littleEndian16(data, at: 8) == 0) // method: stored
        #expect(littleEndian32(data, at: 14) == CRC32.checksum(contents))
        #expect(littleEndian32(data, at: 18) == UInt32(contents.count))
        #expect(littleEndian32(data, at: 22) == UInt32(contents.count))
        #expect(Int(littleEndian16(data, at: 26)) == name.utf8.count)
        #expect(data[30 ..< 30 + name.utf8.count] == Data(name.utf8))
        #expect(data[30 + name.utf8.count ..< 30 + name.utf8.count + contents.count] == contents)
        // The second, repetitive text, is deflated to a fraction of its size.
        let second = 30 + name.utf8.count + contents.count
        #expect(littleEndian16(data, at: second + 8) == 8)
        #expect(littleEndian32(data, at: second + 22) == UInt32(Self.members[1].1.count))
        #expect(littleEndian32(data, at: second + 18) < UInt32(Self.members[1].1.count / 20))
    }

    @Test func nonASCIINamesSetTheUTF8Flag() throws {
        #expect(littleEndian16(try archive { try $0.add("ascii.txt", Data("a".utf8)) }, at: 6) == 0)
        #expect(littleEndian16(try archive { try $0.add("ñ.txt", Data("a".utf8)) }, at: 6) == 0x0800)
    }

    @Test func emptyArchiveIsJustTheEndRecord() throws {
        let data = try archive { _ in }
        #expect(data.count == 22)
        #expect(littleEndian32(data, at: 0) == 0x0605_4B50)
    }

    /// Past 65,534 entries the count no longer fits its 16 bits: the ZIP64 end record and its
    /// locator carry it, and the classic end record says to look there.
    @Test func moreEntriesThanSixteenBitsTakeTheZIP64EndRecords() throws {
        let count = 70_000
        let data = try archive { zip in for index in 0..<count { try zip.add("samples/s\(index)_epoch_1.json", Data("{}".utf8)) } }
        let end = data.count - 22
        #expect(littleEndian32(data, at: end) == 0x0605_4B50)
        #expect(littleEndian16(data, at: end + 8) == 0xFFFF && littleEndian16(data, at: end + 10) == 0xFFFF)
        let locator = end - 20
        #expect(littleEndian32(data, at: locator) == 0x0706_4B50)
        let record = Int(littleEndian64(data, at: locator + 8))
        #expect(littleEndian32(data, at: record) == 0x0606_4B50)
        #expect(littleEndian64(data, at: record + 24) == UInt64(count) && littleEndian64(data, at: record + 32) == UInt64(count))
        let centralSize = Int(littleEndian64(data, at: record + 40))
        let centralOffset = Int(littleEndian64(data, at: record + 48))
        #expect(centralOffset + centralSize == record)
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/unzip")))
    func unzipReadsTheMembersBack() throws {
        let folder = try UnitTestFolder()
        defer { folder.remove() }
        let path = folder.path + "/archive.zip"
        try archive().write(to: URL(fileURLWithPath: path))
        let test = try run("/usr/bin/unzip", ["-tqq", path])
        #expect(test.status == 0)
        for (name, contents) in Self.members {
            let result = try run("/usr/bin/unzip", ["-p", path, name])
            #expect(result.status == 0, "unzip -p \(name)")
            #expect(result.output == contents, "contents of \(name)")
        }
        let listing = try run("/usr/bin/unzip", ["-Z1", path])
        let names = String(decoding: listing.output, as: UTF8.self).split(separator: "\n").map(String.init)
        #expect(names == Self.members.map(\.0))
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/unzip")))
    func unzipReadsAZIP64ArchiveOfManyEntries() throws {
        let folder = try UnitTestFolder()
        defer { folder.remove() }
        let path = folder.path + "/archive.zip"
        try archive { zip in for index in 0..<66_000 { try zip.add("e\(index)", Data("entry \(index) ".utf8)) } }.write(to: URL(fileURLWithPath: path))
        #expect(try run("/usr/bin/unzip", ["-tqq", path]).status == 0)
        let listing = String(decoding: try run("/usr/bin/unzip", ["-Z1", path]).output, as: UTF8.self).split(separator: "\n")
        #expect(listing.count == 66_000 && listing.last == "e65999")
        #expect(try run("/usr/bin/unzip", ["-p", path, "e65999"]).output == Data("entry 65999 ".utf8))
    }

    /// Non-ASCII member names carry the UTF-8 flag; Info-ZIP's unzip must read them back as written.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/unzip")))
    func unzipReadsNonASCIINames() throws {
        let folder = try UnitTestFolder()
        defer { folder.remove() }
        let path = folder.path + "/archive.zip"
        try archive { try $0.add("résumé/ünïcode.json", Data("[1]".utf8)) }.write(to: URL(fileURLWithPath: path))
        #expect(try run("/usr/bin/unzip", ["-tqq", path]).status == 0)
        let listing = try run("/usr/bin/unzip", ["-Z1", path])
        #expect(String(decoding: listing.output, as: UTF8.self) == "résumé/ünïcode.json\n")
        let result = try run("/usr/bin/unzip", ["-p", path, "résumé/ünïcode.json"])
        #expect(result.output == Data("[1]".utf8))
    }

    @Test func anEmptyOrOverlongNameIsRefused() throws {
        #expect(throws: EvalError.self) { _ = try archive { try $0.add("", Data()) } }
        #expect(throws: EvalError.self) { _ = try archive { try $0.add(String(repeating: "a", count: 70_000), Data()) } }
    }

    @Test func dosTimestamp() throws {
        // 2024-03-15 13:45:58 UTC.
        let date = try #require(ISO8601DateFormatter().date(from: "2024-03-15T13:45:58Z"))
        let (time, day) = ZipArchive.dosTimestamp(date)
        #expect(time == UInt16(13 << 11 | 45 << 5 | 29))
        #expect(day == UInt16((2024 - 1980) << 9 | 3 << 5 | 15))
    }
}

/// A JSON line of a sample record.
private func recordLine(_ id: String, epoch: Int = 1, status: String = "scored", value: Double = 1) -> String {
    let failure = status == "failed" ? #","failure":{"cause":"network","message":"reset"}"# : ""
    let scores = status == "scored" ? #"{"exact":{"value":\#(value)}}"# : "{}"
    return #"{"sample_id":"\#(id)","epoch":\#(epoch),"status":"\#(status)","input":"Q \#(id)","target":["A"],"messages":[{"role":"user","content":"Q \#(id)"}],"completion":"A","scores":\#(scores),"usage":{"input_tokens":3,"output_tokens":1},"calls":[],"metadata":{},"started":1700000000.5,"total_seconds":0.25,"model_seconds":0.2\#(failure)}"#
}

@Suite struct RunDirectoryRecordTests {
    private func runDirectory(samples: String) throws -> (UnitTestFolder, RunDirectory) {
        let folder = try UnitTestFolder()
        let run = RunDirectory(path: folder.path)
        try Data(samples.utf8).write(to: URL(fileURLWithPath: run.samplesPath))
        return (folder, run)
    }

    @Test func recordLineHelperDecodes() throws {
        let record = try JSONDecoder().decode(SampleRecord.self, from: Data(recordLine("q1", epoch: 2).utf8))
        #expect(record.key == SampleKey(sampleID: "q1", epoch: 2))
        #expect(record.status == .scored)
        #expect(record.scores["exact"]?.value == 1)
        let failed = try JSONDecoder().decode(SampleRecord.self, from: Data(recordLine("q1", status: "failed").utf8))
        #expect(failed.failure?.cause == .network)
    }

    /// Records are read a piece at a time: one longer than a piece is read whole, and each
    /// record's place in the file is its line's.
    @Test func recordsAreScannedWithTheirPlacesAcrossPieces() throws {
        let long = recordLine("long").replacingOccurrences(of: #""input":"Q long""#, with: #""input":"\#(String(repeating: "x", count: 3 << 20))""#)
        let lines = [recordLine("q1"), long, recordLine("q2")]
        let (folder, run) = try runDirectory(samples: lines.map { $0 + "\n" }.joined() + "{\"torn")
        defer { folder.remove() }
        let file = try Data(contentsOf: URL(fileURLWithPath: run.samplesPath))
        var seen: [(String, Data)] = []
        let end = try run.scanRecords { record, offset, length in seen.append((record.sampleID, file[offset..<offset + length])) }
        #expect(seen.map(\.0) == ["q1", "long", "q2"])
        #expect(seen.map(\.1) == lines.map { Data($0.utf8) })
        #expect(end == file.count - "{\"torn".utf8.count)
    }

    @Test func tornLastLineIsCutWhenRepairing() throws {
        let good = [recordLine("q1"), recordLine("q2"), recordLine("q3")].map { $0 + "\n" }.joined()
        let torn = String(recordLine("q4").prefix(57))
        let (folder, run) = try runDirectory(samples: good + torn)
        defer { folder.remove() }

        // Without repair the file is left alone.
        #expect(try run.readRecords().map(\.sampleID) == ["q1", "q2", "q3"])
        #expect(try Data(contentsOf: URL(fileURLWithPath: run.samplesPath)).count == good.utf8.count + torn.utf8.count)

        let records = try run.readRecords(repair: true)
        #expect(records.map(\.sampleID) == ["q1", "q2", "q3"])
        let after = try Data(contentsOf: URL(fileURLWithPath: run.samplesPath))
        #expect(after == Data(good.utf8))
        #expect(after.last == UInt8(ascii: "\n"))

        // Appending after the repair gives a clean file.
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: run.samplesPath))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data((recordLine("q4") + "\n").utf8))
        try handle.close()
        #expect(try run.readRecords().map(\.sampleID) == ["q1", "q2", "q3", "q4"])
    }

    @Test func completeRecordWithoutNewlineCountsAsTorn() throws {
        let (folder, run) = try runDirectory(samples: recordLine("q1") + "\n" + recordLine("q2"))
        defer { folder.remove() }
        #expect(try run.readRecords(repair: true).map(\.sampleID) == ["q1"])
        #expect(try Data(contentsOf: URL(fileURLWithPath: run.samplesPath)) == Data((recordLine("q1") + "\n").utf8))
    }

    @Test func cleanFileIsNotTouched() throws {
        let text = [recordLine("a"), recordLine("b")].map { $0 + "\n" }.joined()
        let (folder, run) = try runDirectory(samples: text)
        defer { folder.remove() }
        #expect(try run.readRecords(repair: true).count == 2)
        #expect(try Data(contentsOf: URL(fileURLWithPath: run.samplesPath)) == Data(text.utf8))
    }

    @Test func corruptMiddleLineThrowsWithItsLine() throws {
        let text = [recordLine("q1"), recordLine("q2"), #"{"sample_id": "q3", "epoch": oops}"#, recordLine("q4")].map { $0 + "\n" }.joined()
        let (folder, run) = try runDirectory(samples: text)
        defer { folder.remove() }
        let error = try #require(throws: EvalError.self) { try run.readRecords(repair: true) }
        #expect(error.code == .logCorrupt)
        #expect(error.line == 3)
        #expect(error.file == run.samplesPath)
        // A corrupt record is never cut away.
        #expect(try Data(contentsOf: URL(fileURLWithPath: run.samplesPath)) == Data(text.utf8))
    }

    @Test func validJSONThatIsNotARecordIsCorrupt() throws {
        let (folder, run) = try runDirectory(samples: recordLine("q1") + "\n{}\n")
        defer { folder.remove() }
        let error = try #require(throws: EvalError.self) { try run.readRecords() }
        #expect(error.code == .logCorrupt)
        #expect(error.line == 2)
    }

    @Test func missingFileHasNoRecords() throws {
        let folder = try UnitTestFolder()
        defer { folder.remove() }
        #expect(try RunDirectory(path: folder.path).readRecords(repair: true).isEmpty)
        #expect(!FileManager.default.fileExists(atPath: folder.path + "/samples.jsonl"))
    }

    @Test func effectiveRecordsPreferScored() throws {
        let lines = [
            recordLine("q1", status: "failed"),
            recordLine("q1", status: "scored", value: 0),
            recordLine("q1", status: "failed"),          // a later failure does not replace the score
            recordLine("q2", status: "failed"),
            recordLine("q2", status: "failed"),
            recordLine("q3", status: "scored", value: 0),
            recordLine("q3", status: "scored", value: 1), // the latest score wins
            recordLine("q1", epoch: 2, status: "failed"),
        ]
        let records = try lines.map { try JSONDecoder().decode(SampleRecord.self, from: Data($0.utf8)) }
        let effective = RunDirectory.effectiveRecords(records)
        #expect(effective.count == 4)
        #expect(effective[SampleKey(sampleID: "q1", epoch: 1)]?.status == .scored)
        #expect(effective[SampleKey(sampleID: "q1", epoch: 1)]?.scores["exact"]?.value == 0)
        #expect(effective[SampleKey(sampleID: "q2", epoch: 1)]?.status == .failed)
        #expect(effective[SampleKey(sampleID: "q3", epoch: 1)]?.scores["exact"]?.value == 1)
        #expect(effective[SampleKey(sampleID: "q1", epoch: 2)]?.status == .failed)
        #expect(RunDirectory.effectiveRecords([]).isEmpty)
    }

    @Test func paths() {
        let run = RunDirectory(path: "/logs/run-1")
        #expect(run.headerPath == "/logs/run-1/header.json")
        #expect(run.samplesPath == "/logs/run-1/samples.jsonl")
        #expect(run.resultsPath == "/logs/run-1/results.json")
        #expect(RunDirectory.timestamp(0) == "1970-01-01T00-00-00")
        #expect(RunDirectory.timestamp(1_700_000_000) == "2023-11-14T22-13-20")
    }

    @Test func notARunFolder() throws {
        let folder = try UnitTestFolder()
        defer { folder.remove() }
        let error = try #require(throws: EvalError.self) { try RunDirectory(path: folder.path).readHeader() }
        #expect(error.code == .runNotFound)
        try folder.write("header.json", "{ not json")
        let corrupt = try #require(throws: EvalError.self) { try RunDirectory(path: folder.path).readHeader() }
        #expect(corrupt.code == .logCorrupt)
        #expect(RunDirectory(path: folder.path).readResults() == nil)
    }
}
