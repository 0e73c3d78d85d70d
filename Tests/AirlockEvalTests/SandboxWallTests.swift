import AirlockCore
@testable import AirlockEval
import AirlockTestSupport
import Foundation
import Logging
import Testing

/// Walls that an attacking agent broke once (issue 15): each test replays the attack.
@Suite(.enabled(if: TestEnvironment.runs(.sandboxes, ifAvailable: Sandbox.isAvailable), "needs root and bubblewrap (make test installs it)"))
struct SandboxWallTests {
    /// A number outside its range once crashed Airlock (1e300), silently lifted a limit (-5, huge)
    /// or made every command fail and was scored as the model's wrong answer (0, -1).
    @Test(arguments: [
        ("command_timeout", "1e300"), ("command_timeout", "-1"), ("command_timeout", "0"), ("command_timeout", ".nan"), ("command_timeout", "3601"),
        ("memory_mb", "-5"), ("memory_mb", "0"), ("memory_mb", "100000000000000"), ("processes", "0"), ("processes", "100000"),
    ])
    func badSandboxNumbersAreRefusedWhenTheTaskIsLoaded(field: String, value: String) async throws {
        let fixture = try TaskFixture(yaml: AgentTests.task("agent: {max_turns: 2}", sandbox: "  files: {a.txt: x}\n  \(field): \(value)\n"), samples: [AgentTests.sample])
        try await ScriptedModelServer.withServer({ _ in .ok(toolCallReply("bash", ["command": "echo hi"])) }) { server in
            let error = await #expect(throws: EvalError.self) { try await fixture.run(fixture.options(server)) }
            #expect(error?.code == .invalidTask)
            #expect(error?.file == fixture.taskPath)
            #expect(error?.line == 8)
            #expect(error?.field == "sandbox.\(field)")
            #expect(error?.message.contains("between") == true, "\(String(describing: error))")
            #expect(server.requests.isEmpty)
        }
    }

    @Test func theEdgesOfEachRangeAreAccepted() throws {
        for sandbox in ["  command_timeout: 1\n  memory_mb: 64\n  processes: 8\n", "  command_timeout: 3600\n  memory_mb: 65536\n  processes: 4096\n"] {
            let fixture = try TaskFixture(yaml: AgentTests.task("agent", sandbox: sandbox), samples: [AgentTests.sample])
            #expect(throws: Never.self) { try TaskFile.load(path: fixture.taskPath) }
        }
    }
}
