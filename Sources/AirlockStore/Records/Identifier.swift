import Foundation

/// Record ids: a type prefix and 26 characters that sort by creation time, so that `ORDER BY id`
/// is creation order and cursors are plain ids.
public enum Identifier {
    private static let alphabet = Array("0123456789ABCDEFGHJKMNPQRSTVWXYZ")

    /// A new id such as `org_01JD5W…`.
    public static func make(_ prefix: String, at date: Date = Date()) -> String {
        var generator = SystemRandomNumberGenerator()
        var value = UInt64(max(0, date.storedMilliseconds))
        var time: [Character] = []
        for _ in 0..<10 {
            time.append(alphabet[Int(value & 31)])
            value >>= 5
        }
        // Two draws give the 80 random bits: one system call each, not sixteen.
        var bits = (generator.next() as UInt64, generator.next() as UInt64)
        let random = (0..<16).map { index -> Character in
            defer { if index < 8 { bits.0 >>= 5 } else { bits.1 >>= 5 } }
            return alphabet[Int((index < 8 ? bits.0 : bits.1) & 31)]
        }
        return prefix + "_" + String(time.reversed()) + String(random)
    }

    /// A secret token: `prefix_` and 40 random characters (200 bits).
    public static func secret(_ prefix: String) -> String {
        var generator = SystemRandomNumberGenerator()
        return prefix + "_" + String((0..<40).map { _ in alphabet[Int(generator.next() & 31)] })
    }
}
