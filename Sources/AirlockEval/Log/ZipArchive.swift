import Foundation

/// Writes a ZIP archive of stored (uncompressed) entries: what Inspect's `.eval` reader and its
/// viewer accept, with sizes and CRCs in both the local headers and the central directory.
struct ZipArchive {
    private var data = Data()
    private var central = Data()
    private var count = 0

    mutating func add(_ name: String, _ contents: Data) throws {
        let nameBytes = Array(name.utf8)
        guard data.count < UInt32.max - UInt32(contents.count) - 1024, contents.count < UInt32.max, count < UInt16.max else {
            throw EvalError(.io, "the archive would need ZIP64, which this writer does not make")
        }
        let crc = CRC32.checksum(contents)
        let offset = UInt32(data.count)
        let flags: UInt16 = nameBytes.allSatisfy { $0 < 0x80 } ? 0 : 0x0800
        let (time, date) = Self.dosTimestamp(Date())
        // Local file header.
        data.append(le32: 0x0403_4B50)
        data.append(le16: 20)
        data.append(le16: flags)
        data.append(le16: 0)
        data.append(le16: time)
        data.append(le16: date)
        data.append(le32: crc)
        data.append(le32: UInt32(contents.count))
        data.append(le32: UInt32(contents.count))
        data.append(le16: UInt16(nameBytes.count))
        data.append(le16: 0)
        data.append(contentsOf: nameBytes)
        data.append(contents)
        // Its central directory entry.
        central.append(le32: 0x0201_4B50)
        // Made on Unix (3), so unzip takes the UTF-8 flag at its word for names.
        central.append(le16: 3 << 8 | 20)
        central.append(le16: 20)
        central.append(le16: flags)
        central.append(le16: 0)
        central.append(le16: time)
        central.append(le16: date)
        central.append(le32: crc)
        central.append(le32: UInt32(contents.count))
        central.append(le32: UInt32(contents.count))
        central.append(le16: UInt16(nameBytes.count))
        central.append(le16: 0)
        central.append(le16: 0)
        central.append(le16: 0)
        central.append(le16: 0)
        central.append(le32: 0o100644 << 16)
        central.append(le32: offset)
        central.append(contentsOf: nameBytes)
        count += 1
    }

    func finished() -> Data {
        var result = data
        let centralOffset = UInt32(result.count)
        result.append(central)
        result.append(le32: 0x0605_4B50)
        result.append(le16: 0)
        result.append(le16: 0)
        result.append(le16: UInt16(count))
        result.append(le16: UInt16(count))
        result.append(le32: UInt32(central.count))
        result.append(le32: centralOffset)
        result.append(le16: 0)
        return result
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
}
