import AirlockTestSupport
import Foundation
import Testing

/// What an operator deploys (`deploy/kubernetes/`), checked against the Kubernetes API's own
/// schemas by `kubernetes-validate` from PyPI, strictly (no field the API does not know).
@Suite struct DeploymentManifestTests {
    static var validator: String? { TestEnvironment.python.map { URL(fileURLWithPath: $0).deletingLastPathComponent().path + "/kubernetes-validate" } }

    static var manifests: [String] {
        let folder = Airlock.packageRoot + "/deploy/kubernetes"
        return ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).filter { $0.hasSuffix(".yaml") }.sorted().map { folder + "/" + $0 }
    }

    @Test(.enabled(if: TestEnvironment.runsPython, "needs kubernetes-validate (make test installs it)"))
    func theKubernetesManifestsAreValid() async throws {
        let validator = try #require(Self.validator)
        let manifests = Self.manifests
        #expect(manifests.count >= 5, "\(manifests)")
        let result = try await ProgramCLI.runProgram(validator, ["--strict", "--quiet"] + manifests)
        #expect(result.status == 0, "\(result.output)\n\(result.error)")

        // The validator refuses what the API would: a field a Deployment does not have.
        let broken = try Airlock.temporaryFolder() + "/broken.yaml"
        let worker = try String(contentsOfFile: Airlock.packageRoot + "/deploy/kubernetes/worker.yaml", encoding: .utf8)
        try worker.replacingOccurrences(of: "  replicas: 4", with: "  replicas: 4\n  replica: 4").write(toFile: broken, atomically: true, encoding: .utf8)
        let refused = try await ProgramCLI.runProgram(validator, ["--strict", "--quiet", broken])
        #expect(refused.status != 0)
    }
}
