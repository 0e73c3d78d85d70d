import CompressNIO
import Foundation
import NIOCore

/// Writes a ZIP archive into a file as its entries come, each deflated (or stored when that is
/// smaller), with ZIP64 records wherever a size, an offset or the count of entries needs them:
/// what Inspect's `.eval` reader and its viewer accept, at any size. Only the central directory
/// (about 100 bytes an entry) is held until ``finish()``.
final class ZipArchive {
    enum Method: UInt16 {
        case stored = 0
        case deflated = 8
    }

    private let file: FileHandle
    private let path: String
    private var pending = Data()
    private var written: UInt64 = 0
    private var central = Data()
    private(set) var count: UInt64 = 0
    private let timestamp: (time: UInt16, date: UInt16)

    /// A new archive at `path` (made, or emptied).
    init(path: String, date: Date = Date()) throws {
        guard FileManager.default.createFile(atPath: path, contents: nil), let file = FileHandle(forWritingAtPath: path) else {
            throw EvalError(.io, "cannot create the archive", file: path)
        }
        self.file = file
        self.path = path
        self.timestamp = Self.dosTimestamp(date)
    }

    deinit { try? file.close() }

    func add(_ name: String, _ contents: Data, method preferred: Method = .deflated) throws {
        let nameBytes = Array(name.utf8)
        guard !nameBytes.isEmpty, nameBytes.count <= Int(UInt16.max) - 1 else {
            throw EvalError(.io, "an entry's name is 1 to 65534 bytes: \(name.prefix(80).debugDescription)", file: path)
        }
        let crc = CRC32.checksum(contents)
        var method = Method.stored
        var stored = contents
        if preferred == .deflated, contents.count > 64 {
            let deflated = try Self.deflate(contents)
            if deflated.count < contents.count { (method, stored) = (.deflated, deflated) }
        }
        let size = UInt64(contents.count)
        let compressed = UInt64(stored.count)
        let offset = written
        let flags: UInt16 = nameBytes.allSatisfy { $0 < 0x80 } ? 0 : 0x0800
        // The local header's sizes go to its ZIP64 field when either is past 32 bits.
        let localZIP64 = size >= 0xFFFF_FFFF || compressed >= 0xFFFF_FFFF
        var local = Data()
        local.append(le32: 0x0403_4B50)
        local.append(le16: localZIP64 ? 45 : 20)
        local.append(le16: flags)
        local.append(le16: method.rawValue)
        local.append(le16: timestamp.time)
        local.append(le16: timestamp.date)
        local.append(le32: crc)
        local.append(le32: localZIP64 ? 0xFFFF_FFFF : UInt32(compressed))
        local.append(le32: localZIP64 ? 0xFFFF_FFFF : UInt32(size))
        local.append(le16: UInt16(nameBytes.count))
        local.append(le16: localZIP64 ? 20 : 0)
        local.append(contentsOf: nameBytes)
        if localZIP64 {
            local.append(le16: 0x0001)
            local.append(le16: 16)
            local.append(le64: size)
            local.append(le64: compressed)
        }
        try write(local)
        try write(stored)

        // Its central directory entry: each field past 32 bits goes to the ZIP64 field, in order.
        var extra = Data()
        if size >= 0xFFFF_FFFF { extra.append(le64: size) }
        if compressed >= 0xFFFF_FFFF { extra.append(le64: compressed) }
        if offset >= 0xFFFF_FFFF { extra.append(le64: offset) }
        let needsZIP64 = !extra.isEmpty
        central.append(le32: 0x0201_4B50)
        // Made on Unix (3), so unzip takes the UTF-8 flag at its word for names.
        central.append(le16: 3 << 8 | (needsZIP64 ? 45 : 20))
        central.append(le16: needsZIP64 ? 45 : 20)
        central.append(le16: flags)
        central.append(le16: method.rawValue)
        central.append(le16: timestamp.time)
        central.append(le16: timestamp.date)
        central.append(le32: crc)
        central.append(le32: compressed >= 0xFFFF_FFFF ? 0xFFFF_FFFF : UInt32(compressed))
        central.append(le32: size >= 0xFFFF_FFFF ? 0xFFFF_FFFF : UInt32(size))
        central.append(le16: UInt16(nameBytes.count))
        central.append(le16: needsZIP64 ? UInt16(4 + extra.count) : 0)
        central.append(le16: 0)
        central.append(le16: 0)
        central.append(le16: 0)
        central.append(le32: 0o100644 << 16)
        central.append(le32: offset >= 0xFFFF_FFFF ? 0xFFFF_FFFF : UInt32(offset))
        central.append(contentsOf: nameBytes)
        if needsZIP64 {
            central.append(le16: 0x0001)
            central.append(le16: UInt16(extra.count))
            central.append(extra)
        }
        count += 1
    }

    /// Writes the central directory and its end (with the ZIP64 end records where the count,
    /// the directory's size or its offset needs them), and closes the file.
    func finish() throws {
        let centralOffset = written
        let centralSize = UInt64(central.count)
        try write(central)
        central = Data()
        var end = Data()
        if count >= 0xFFFF || centralSize >= 0xFFFF_FFFF || centralOffset >= 0xFFFF_FFFF {
            let recordOffset = centralOffset + centralSize
            end.append(le32: 0x0606_4B50)
            end.append(le64: 44)
            end.append(le16: 3 << 8 | 45)
            end.append(le16: 45)
            end.append(le32: 0)
            end.append(le32: 0)
            end.append(le64: count)
            end.append(le64: count)
            end.append(le64: centralSize)
            end.append(le64: centralOffset)
            // Its locator.
            end.append(le32: 0x0706_4B50)
            end.append(le32: 0)
            end.append(le64: recordOffset)
            end.append(le32: 1)
        }
        end.append(le32: 0x0605_4B50)
        end.append(le16: 0)
        end.append(le16: 0)
        end.append(le16: UInt16(min(count, 0xFFFF)))
        end.append(le16: UInt16(min(count, 0xFFFF)))
        end.append(le32: UInt32(min(centralSize, 0xFFFF_FFFF)))
        end.append(le32: UInt32(min(centralOffset, 0xFFFF_FFFF)))
        end.append(le16: 0)
        try write(end)
        try flush()
        try file.synchronize()
        try file.close()
    }

    private func write(_ bytes: Data) throws {
        pending.append(bytes)
        written += UInt64(bytes.count)
        if pending.count >= 1 << 20 { try flush() }
    }

    private func flush() throws {
        guard !pending.isEmpty else { return }
        do {
            try file.write(contentsOf: pending)
        } catch {
            throw EvalError(.io, "cannot write the archive: \(error)", file: path)
        }
        pending.removeAll(keepingCapacity: true)
    }

    /// Raw DEFLATE (no zlib or gzip header), as a ZIP entry of method 8 holds.
    static func deflate(_ data: Data) throws -> Data {
        var input = ByteBuffer(bytes: data)
        let output = try input.compress(with: .deflate())
        return Data(output.readableBytesView)
    }

    static func dosTimestamp(_ date: Date) -> (time: UInt16, date: UInt16) {
        let parts = Calendar(identifier: .gregorian).dateComponents(in: TimeZone(identifier: "UTC")!, from: date)
        let time = UInt16((parts.hour ?? 0) << 11 | (parts.minute ?? 0) << 5 | (parts.second ?? 0) / 2)
        let day = UInt16(max(0, (parts.year ?? 1980) - 1980) << 9 | (parts.month ?? 1) << 5 | (parts.day ?? 1))
        return (time, day)
    }
}

/// CRC-32 (IEEE 802.3), as ZIP uses.
enum CRC32 {
    private static let table: [UInt32] = (0..<256).map { index in
        var value = UInt32(index)
        for _ in 0..<8 { value = value & 1 == 1 ? 0xEDB8_8320 ^ (value >> 1) : value >> 1 }
        return value
    }

    static func checksum(_ data: Data) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        data.withUnsafeBytes { buffer in
            for byte in buffer { crc = table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
        }
        return crc ^ 0xFFFF_FFFF
    }
}

extension Data {
    mutating func append(le16 value: UInt16) {
        Swift.withUnsafeBytes(of: value.littleEndian) { append(contentsOf: $0) }
    }

    mutating func append(le32 value: UInt32) {
        Swift.withUnsafeBytes(of: value.littleEndian) { append(contentsOf: $0) }
    }

    mutating func append(le64 value: UInt64) {
        Swift.withUnsafeBytes(of: value.littleEndian) { append(contentsOf: $0) }
    }
}
