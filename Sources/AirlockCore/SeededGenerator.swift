/// A random number generator that gives the same sequence for the same seed on every platform
/// (SplitMix64), so that shuffles and bootstrap resamples are reproducible.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) {
        state = seed
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A generator for one named stream under a seed (for example one sample's choice order),
    /// independent of the order in which streams are drawn.
    public init(seed: UInt64, stream: String) {
        // FNV-1a over the stream name, mixed into the seed.
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in stream.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01B3
        }
        self.init(seed: seed ^ hash)
        _ = next()
    }

    /// A uniform integer in `0..<upperBound` without modulo bias.
    public mutating func nextIndex(below upperBound: Int) -> Int {
        precondition(upperBound > 0)
        return Int(next(upperBound: UInt64(upperBound)))
    }

    /// Fisher–Yates with this generator: identical on every platform, unlike `shuffle(using:)`'s
    /// unspecified algorithm.
    public mutating func shuffle<T>(_ array: inout [T]) {
        guard array.count > 1 else { return }
        for i in stride(from: array.count - 1, to: 0, by: -1) {
            let j = nextIndex(below: i + 1)
            array.swapAt(i, j)
        }
    }
}
