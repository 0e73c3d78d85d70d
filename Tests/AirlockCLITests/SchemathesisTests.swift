import AirlockCore
import AirlockTestSupport
import Foundation
import Testing

/// Schemathesis (PyPI) fuzzes a running server from its own OpenAPI document: no 5xx, and no
/// response that the document does not allow.
@Suite struct SchemathesisTests {
    @Test(.enabled(if: TestEnvironment.runsPython, "needs schemathesis (make test installs it)"))
    func fuzzingFindsNoServerErrorAndNoResponseOutsideTheDocument() async throws {
        let python = try #require(ProcessInfo.processInfo.environment["AIRLOCK_TEST_PYTHON"])
        let schemathesis = URL(fileURLWithPath: python).deletingLastPathComponent().appendingPathComponent("schemathesis").path
        try await ProgramServerProcess.with { server in
            // Some real records, so that lists and reads return data worth checking against the schemas.
            let office = server.officeKey
            let developer = try await server.json(["org", "create", "Frontier Lab", "--kind", "model_developer"], key: office)
            let bank = try await server.json(["org", "create", "Clearing Bank", "--kind", "infrastructure_operator", "--sector", "payments"], key: office)
            let developerKey = try await server.signedInUser(organisation: try #require(developer.id), email: "admin@lab.example")
            _ = try await server.json(
                ["commitment", "create", "--terms-file", try Self.file("We share models 90 days ahead."), "--from", ProgramCLI.date(days: -1)],
                key: developerKey)
            let model = try await server.json(["model", "create", "Frontier", "--description", "a model"], key: developerKey)
            let version = try await server.json(
                ["model", "notice", try #require(model.id), "--version", "1.0", "--release", ProgramCLI.date(days: 120),
                 "--capability", "code", "--endpoint-url", "https://models.example/v1", "--credentials-env", "MODEL_KEY"],
                key: developerKey, environment: ["MODEL_KEY": "sk-test"])
            let versionId = try #require(version.id)
            _ = try await server.json(["model", "move", versionId, "--to", "in_review"], key: office)
            let grant = try await server.json(
                ["grant", "create", "--version", versionId, "--grantee", try #require(bank.id), "--purpose", "infrastructure_defence",
                 "--from", ProgramCLI.date(days: 1), "--until", ProgramCLI.date(days: 60), "--tokens", "100000", "--rpm", "60"],
                key: office)
            _ = try await server.json(["grant", "approve", try #require(grant.id)], key: office)
            // A finding in a case, so that the sharing lists and reads have data to check.
            let finding = try await server.json(
                ["finding", "file", "--version", versionId, "--kind", "ai_system_weakness", "--title", "Prompt injection",
                 "--description", "The system prompt leaks.", "--product", "vendor=Frontier Lab;name=Frontier;versions=1.0",
                 "--cvss-v3-1", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N", "--evidence", "A transcript shows it."],
                key: office)
            _ = try await server.json(["case", "open", "--title", "Prompt injection", "--finding", try #require(finding.id)], key: office)

            let process = Process()
            process.executableURL = URL(fileURLWithPath: schemathesis)
            // One worker: hypothesis parses its filters' source with `ast` in each thread, which
            // CPython 3.11 does not do safely (a fresh-clone run died of "AST constructor recursion
            // depth mismatch" with two).
            process.arguments = [
                "run", server.url + "/api/v1/openapi.json", "--url", server.url,
                "--header", "Authorization: Bearer \(office)",
                "--checks", "not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance,negative_data_rejection",
                "--max-examples", "5", "--seed", "7021", "--workers", "1", "--max-time", "60", "--no-color",
                "--suppress-health-check", "all",
            ]
            process.environment = ProcessInfo.processInfo.environment.merging(["SCHEMATHESIS_TELEMETRY": "false"]) { $1 }
            // Schemathesis keeps a cache in its working folder: not in the repository.
            process.currentDirectoryURL = URL(fileURLWithPath: server.folder)
            let output = Pipe()
            process.standardOutput = output
            process.standardError = output
            try process.run()
            let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            #expect(process.terminationStatus == 0, "schemathesis found problems:\n\(text.suffix(6000))")
            #expect(text.contains("passed"), "\(text.suffix(2000))")
        }
    }

    static func file(_ text: String) throws -> String {
        let path = try Airlock.temporaryFolder() + "/terms.txt"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }
}
