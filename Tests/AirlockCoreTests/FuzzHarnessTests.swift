import AirlockTestSupport
import Foundation
import PropertyBased
import Synchronization
import Testing

/// The fuzz harness itself: a failed property is reported with its input, minimised, and how to
/// replay it; a case is made from its seed alone; a crash names its case before the process dies.
@Suite struct FuzzHarnessTests {
    /// Fails for any input holding `!`.
    static let noBang = FuzzTarget(
        "harness-demo", seeds: ["hello"], tokens: ["!"], generator: Gen<Character>.letterOrNumber.string(of: 1...20)
    ) { bytes throws(FuzzFailure) in
        try fuzzRequire(!bytes.contains(UInt8(ascii: "!")), "an exclamation mark")
    }

    @Test func failureIsReportedMinimisedWithItsSeed() {
        let messages = Mutex<[String]>([])
        withKnownIssue {
            Self.noBang.run()
        } matching: { issue in
            messages.withLock { $0.append(issue.comments.map(\.rawValue).joined()) }
            return true
        }
        let message = messages.withLock { $0.joined() }
        #expect(message.contains("fuzz target 'harness-demo', case "))
        #expect(message.contains("an exclamation mark"))
        #expect(message.contains(#""!" (1 bytes)"#))
        #expect(message.contains("replay: AIRLOCK_FUZZ_SEED='"))
        #expect(message.contains(".build/fuzz-findings/harness-demo/failure-"))
    }

    @Test func minimisingKeepsWhatFails() {
        #expect(Self.noBang.minimised(Array("abc!def!".utf8)) == Array("!".utf8))
        #expect(Self.noBang.minimised(Array("abc".utf8)) == Array("abc".utf8))
    }

    @Test func describesInputsEscapedAndCut() {
        #expect(FuzzBudget.describe([0x41, 0x00, 0x22, 0x5C, 0xFF, 0x0A]) == #""A\x00\"\\\xff\n" (6 bytes)"#)
        #expect(FuzzBudget.describe(Array(repeating: 0x61, count: 400)).hasSuffix("… (400 bytes)"))
    }

    /// A trap inside a check (here an overflow) ends the process, after the handler printed the
    /// case and saved its input.
    @Test func crashNamesItsCase() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            let overflow = FuzzTarget("harness-crash", seeds: ["9223372036854775807"], generator: Gen<Character>.number.string(of: 1...3)) { bytes in
                if let number = Int64(String(decoding: bytes, as: UTF8.self)) { _ = number + 1 }
            }
            overflow.run()
        }
        let stderr = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(stderr.contains("fuzz target 'harness-crash' crashed on seed 0"))
        #expect(stderr.contains(#"input: "9223372036854775807" (19 bytes)"#))
        #expect(stderr.contains(".build/fuzz-findings/harness-crash/crash"))
    }
}
