import Foundation

/// What a test suite needs from the machine beyond Swift.
public enum TestRequirement: String, Sendable, CaseIterable {
    /// Root, bubblewrap and iproute2, for sandboxes.
    case sandboxes
    /// A PostgreSQL server named by `AIRLOCK_TEST_POSTGRES_URL`.
    case postgres
    /// `AIRLOCK_TEST_PYTHON`: a Python with the peers from PyPI (inspect-ai, openai, …).
    case python
    /// The local model and its llama.cpp server (`make local-model`).
    case localModel = "local-model"
    /// The pinned data packages (`make data`).
    case data
    /// The NATS server from PyPI (`make python-tools`), for the work queue's tests.
    case nats
}

/// Which environment-gated suites must run.
///
/// `make test` sets `AIRLOCK_REQUIRE` to every requirement it provides (comma-separated, or
/// `all`): a required suite runs whether or not its need seems met, so a missing need fails the
/// run (and `RequiredEnvironmentTests` names it) instead of skipping in silence. A plain
/// `swift test` requires nothing and skips what the machine lacks.
public enum TestEnvironment {
    public static var required: Set<TestRequirement> {
        let words = (ProcessInfo.processInfo.environment["AIRLOCK_REQUIRE"] ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        if words.contains("all") { return Set(TestRequirement.allCases) }
        return Set(words.compactMap(TestRequirement.init(rawValue:)))
    }

    public static func isRequired(_ requirement: TestRequirement) -> Bool {
        required.contains(requirement)
    }

    /// Whether a suite needing `requirement` runs: when required, or when the need is met here.
    public static func runs(_ requirement: TestRequirement, ifAvailable available: @autoclosure () -> Bool) -> Bool {
        isRequired(requirement) || available()
    }

    /// `AIRLOCK_TEST_PYTHON`, the Python that has the peers.
    public static var python: String? {
        ProcessInfo.processInfo.environment["AIRLOCK_TEST_PYTHON"].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// Whether suites that drive the Python peers run.
    public static var runsPython: Bool { runs(.python, ifAvailable: python != nil) }
}

/// Reads `handle` to its end on a thread of its own. A blocking read on one of Swift
/// concurrency's few threads (two on a 2-core machine) stalls every other test until the child
/// it reads from exits; two such reads of a slow child once stopped the whole suite.
public func readToEnd(_ handle: FileHandle) async -> Data {
    await withCheckedContinuation { continuation in
        Thread { continuation.resume(returning: handle.readDataToEndOfFile()) }.start()
    }
}
