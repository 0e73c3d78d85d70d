import AirlockCore
import Testing

@Suite struct SeededGeneratorTests {
    /// SplitMix64's published first outputs (computed independently of this code).
    @Test func matchesReferenceSplitMix64() {
        var zero = SeededGenerator(seed: 0)
        #expect(zero.next() == 0xE220_A839_7B1D_CDAF)
        #expect(zero.next() == 0x6E78_9E6A_A1B9_65F4)
        #expect(zero.next() == 0x06C4_5D18_8009_454F)
        var fortyTwo = SeededGenerator(seed: 42)
        #expect(fortyTwo.next() == 0xBDD7_3226_2FEB_6E95)
        #expect(fortyTwo.next() == 0x28EF_E333_B266_F103)
    }

    /// seed ^ FNV-1a("dataset"), one output dropped (reference values from a Python transcription).
    @Test func namedStreamMatchesReference() {
        var stream = SeededGenerator(seed: 0, stream: "dataset")
        #expect(stream.next() == 0x2042_20A2_8E0B_A5E9)
        #expect(stream.next() == 0x96DB_14CE_5E68_576B)
    }

    @Test func sameSeedSameSequence() {
        var a = SeededGenerator(seed: 12345)
        var b = SeededGenerator(seed: 12345)
        let first = (0..<100).map { _ in a.next() }
        let second = (0..<100).map { _ in b.next() }
        #expect(first == second)
        #expect(Set(first).count == 100)
    }

    @Test func differentSeedsDiffer() {
        var a = SeededGenerator(seed: 1)
        var b = SeededGenerator(seed: 2)
        let first = (0..<10).map { _ in a.next() }
        let second = (0..<10).map { _ in b.next() }
        #expect(first != second)
        #expect(Set(first).isDisjoint(with: second))
    }

    @Test func streamsAreReproducibleAndIndependent() {
        var a1 = SeededGenerator(seed: 7, stream: "q1")
        var a2 = SeededGenerator(seed: 7, stream: "q1")
        var b = SeededGenerator(seed: 7, stream: "q2")
        var plain = SeededGenerator(seed: 7)
        var otherSeed = SeededGenerator(seed: 8, stream: "q1")
        let a1Values = (0..<8).map { _ in a1.next() }
        #expect(a1Values == (0..<8).map { _ in a2.next() })
        #expect(a1Values != (0..<8).map { _ in b.next() })
        #expect(a1Values != (0..<8).map { _ in plain.next() })
        #expect(a1Values != (0..<8).map { _ in otherSeed.next() })
    }

    @Test func nextIndexStaysInRangeAndCoversIt() {
        var generator = SeededGenerator(seed: 99)
        var counts = [Int](repeating: 0, count: 7)
        for _ in 0..<7000 {
            let index = generator.nextIndex(below: 7)
            #expect((0..<7).contains(index))
            counts[index] += 1
        }
        // Expected 1000 each; a fair generator stays well inside ±200 for this fixed seed.
        for count in counts { #expect((800...1200).contains(count)) }
        var one = SeededGenerator(seed: 5)
        for _ in 0..<20 { #expect(one.nextIndex(below: 1) == 0) }
    }

    @Test func shuffleIsAPermutation() {
        var generator = SeededGenerator(seed: 2024)
        let original = Array(0..<50)
        var shuffled = original
        generator.shuffle(&shuffled)
        #expect(shuffled.sorted() == original)
        #expect(shuffled != original)
    }

    @Test func shuffleIsDeterministic() {
        var a = SeededGenerator(seed: 3, stream: "choices")
        var b = SeededGenerator(seed: 3, stream: "choices")
        var x = Array("abcdefghij")
        var y = Array("abcdefghij")
        a.shuffle(&x)
        b.shuffle(&y)
        #expect(x == y)
        var c = SeededGenerator(seed: 4, stream: "choices")
        var z = Array("abcdefghij")
        c.shuffle(&z)
        #expect(z != x)
    }

    @Test func shuffleOfTinyArraysIsHarmless() {
        var generator = SeededGenerator(seed: 1)
        var empty: [Int] = []
        generator.shuffle(&empty)
        #expect(empty.isEmpty)
        var single = ["only"]
        generator.shuffle(&single)
        #expect(single == ["only"])
    }

    @Test func shuffleReachesEveryPermutationEvenly() {
        var generator = SeededGenerator(seed: 11)
        var counts: [[Int]: Int] = [:]
        for _ in 0..<6000 {
            var items = [0, 1, 2]
            generator.shuffle(&items)
            counts[items, default: 0] += 1
        }
        #expect(counts.count == 6)
        for (_, count) in counts { #expect((800...1200).contains(count)) }
    }
}
