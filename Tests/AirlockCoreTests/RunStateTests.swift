import AirlockCore
import Testing

/// A run on the program's workers moves only forward, except that a failed or cancelled run
/// can be queued again (resumed).
struct RunStateTests {
    @Test func theMovesAreExactlyThese() {
        let allowed: Set<String> = [
            "queued>running", "queued>cancelled", "queued>finished", "queued>failed",
            "running>finished", "running>failed", "running>cancelled",
            "failed>queued", "cancelled>queued",
        ]
        for from in RunState.allCases {
            for to in RunState.allCases {
                #expect(from.canMove(to: to) == allowed.contains("\(from.rawValue)>\(to.rawValue)"), "\(from) → \(to)")
            }
        }
        #expect(RunState.allCases.filter(\.isActive) == [.queued, .running])
    }
}
