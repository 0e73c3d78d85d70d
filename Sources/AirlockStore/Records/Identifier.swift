import Foundation

/// Record ids: a type prefix and 26 characters that sort by creation time, so that `ORDER BY id`
/// is creation order and cursors are plain ids.
public enum Identifier {
    private static let alphabet = Array("0123456789ABCDEFGHJKMNPQRSTVWXYZ".utf8)

    /// A new id such as `org_01JD5W…`.
    public static func make(_ prefix: String, at date: Date = Date()) -> String {
        var generator = SystemRandomNumberGenerator()
        var out = Array(prefix.utf8)
        out.reserveCapacity(out.count + 27)
        out.append(UInt8(ascii: "_"))
        let time = UInt64(max(0, date.storedMilliseconds))
        for shift in stride(from: 45, through: 0, by: -5) { out.append(alphabet[Int((time >> UInt64(shift)) & 31)]) }
        // Two draws give the 80 random bits: one system call each, not sixteen.
        for var bits in [generator.next() as UInt64, generator.next() as UInt64] {
            for _ in 0..<8 {
                out.append(alphabet[Int(bits & 31)])
                bits >>= 5
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// A secret token: `prefix_` and 40 random characters (200 bits).
    public static func secret(_ prefix: String) -> String {
        var generator = SystemRandomNumberGenerator()
        return prefix + "_" + String(decoding: (0..<40).map { _ in alphabet[Int(generator.next() & 31)] }, as: UTF8.self)
    }
}
