import PropertyBased

/// Makes a case's input from the case's seed alone (so that `AIRLOCK_FUZZ_SEED` replays it): a
/// generated input, or one from the corpus, seeds or generator put through a few mutations.
struct FuzzMutator: Sendable {
    let target: FuzzTarget
    /// The corpus and the seeds.
    let pool: [[UInt8]]

    /// What parsers get wrong: other scripts' digits, numbers past 64 bits and a `Double`,
    /// negative zero, escapes of NUL and of a lone surrogate, invalid UTF-8, deep nesting.
    static let sharedTokens: [[UInt8]] = [
        "٢", "１", "۳", "߂", "9223372036854775807", "9223372036854775808", "-9223372036854775808",
        "18446744073709551616", "1e999", "-1e999", "1e-999", "-0", "0.0", "1E+2", "00", "+1",
        "\\u0000", "\\ud800", "\\udfff", "\\ud83d\\ude42", "\\u0041", "\\\"", "\\\\", "\u{0}", "\u{FFFD}", "e\u{301}",
        "🙂", "\u{2028}", "null", "true", "false", "\"\"", "{}", "[]", "\"", ",", ":", "{", "}", "[", "]", " ", "\r\n", "\t",
        String(repeating: "[", count: 201), String(repeating: "{\"a\":", count: 201), String(repeating: "]", count: 201),
    ].map { Array($0.utf8) } + [[0xFF], [0xC0, 0x80], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xE2, 0x82]]

    func input(_ seed: Xoshiro) -> [UInt8] {
        var random = seed
        var bytes: [UInt8]
        switch Int.random(in: 0..<4, using: &random) {
        case 0: return target.generate(&random)
        case 1: bytes = target.generate(&random)
        default: bytes = pool.randomElement(using: &random) ?? target.generate(&random)
        }
        for _ in 0..<Int.random(in: 1...4, using: &random) {
            mutate(&bytes, using: &random)
        }
        return bytes
    }

    func mutate(_ bytes: inout [UInt8], using random: inout Xoshiro) {
        let position = Int.random(in: 0...bytes.count, using: &random)
        let tokens = target.tokens + Self.sharedTokens
        let token = tokens.randomElement(using: &random) ?? []
        switch Int.random(in: 0..<10, using: &random) {
        case 0 where position < bytes.count:
            bytes[position] ^= 1 << UInt8.random(in: 0..<8, using: &random)
        case 1 where position < bytes.count:
            bytes[position] = UInt8.random(in: 0...255, using: &random)
        case 2:
            bytes.insert(contentsOf: token, at: position)
        case 3:
            // A whole number, word or key replaced: `"max_tokens":100` becomes `"max_tokens":1e999`.
            bytes.replaceSubrange(Self.word(around: position, in: bytes), with: token)
        case 4:
            bytes.removeSubrange(position..<min(position + Int.random(in: 1...16, using: &random), bytes.count))
        case 5:
            // A span repeated elsewhere: repeated keys and members.
            let span = position..<min(position + Int.random(in: 1...64, using: &random), bytes.count)
            let copy = Array(bytes[span])
            bytes.insert(contentsOf: copy, at: Int.random(in: 0...bytes.count, using: &random))
        case 6:
            bytes.removeSubrange(position...)
        case 7:
            // A letter spelled as an escape: `"model"` becomes `"mod\u0065l"`.
            guard let letter = bytes.indices.filter({ (0x61...0x7A).contains(bytes[$0]) }).randomElement(using: &random) else { return }
            let hex = String(bytes[letter], radix: 16)
            bytes.replaceSubrange(letter...letter, with: Array("\\u00\(hex)".utf8))
        case 8:
            // A splice: this input's head on another's tail.
            guard let other = pool.randomElement(using: &random), !other.isEmpty else { return }
            bytes = Array(bytes[..<position]) + other[Int.random(in: 0..<other.count, using: &random)...]
        default:
            // Deep nesting around the whole input.
            let depth = Int.random(in: 150...260, using: &random)
            bytes = Array(repeating: UInt8(ascii: "["), count: depth) + bytes + Array(repeating: UInt8(ascii: "]"), count: depth)
        }
    }

    /// The run of letters, digits and number signs around `position`; empty between two others.
    static func word(around position: Int, in bytes: [UInt8]) -> Range<Int> {
        func inWord(_ byte: UInt8) -> Bool {
            (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte) || byte == 0x2D || byte == 0x2E
                || byte == 0x2B || byte == 0x5F
        }
        var start = position
        var end = position
        while start > 0, inWord(bytes[start - 1]) { start -= 1 }
        while end < bytes.count, inWord(bytes[end]) { end += 1 }
        return start..<end
    }
}
