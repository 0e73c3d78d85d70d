import AirlockCore
import AirlockEval
import AirlockTestSupport
import Foundation
import Testing

/// `airlock serve` as a child process on loopback, over a fresh SQLite file whose program office
/// was bootstrapped with `airlock db bootstrap`; every other step goes through the CLI.
struct ProgramServerProcess {
    let folder: String
    let database: String
    let url: String
    /// The program office admin's API key, as the bootstrap printed it.
    let officeKey: String
    let process: Process

    /// Starts a server, runs `body`, and kills the server if `body` left it running.
    static func with<Result>(arguments: [String] = [], _ body: (ProgramServerProcess) async throws -> Result) async throws -> Result {
        let server = try await start(arguments: arguments)
        defer {
            if server.process.isRunning { kill(server.process.processIdentifier, SIGKILL) }
        }
        return try await body(server)
    }

    /// Starts a server on `database` (a SQLite path or postgres URL; default a new SQLite file),
    /// bootstrapping it first unless `officeKey` says it already was.
    static func start(database: String? = nil, officeKey: String? = nil, arguments: [String] = []) async throws -> ProgramServerProcess {
        let folder = try Airlock.temporaryFolder()
        let database = database ?? folder + "/airlock.db"
        var officeKey = officeKey ?? ""
        if officeKey.isEmpty {
            let bootstrap = try await ProgramCLI.run([
                "db", "bootstrap", "--database", database, "--organisation", "Program Office", "--email", "office@program.example",
                "--name", "Office Admin",
            ])
            try #require(bootstrap.status == 0, "\(bootstrap.error)")
            let keyLine = try #require(bootstrap.output.split(separator: "\n").first { $0.hasPrefix("API key (shown once): ") })
            officeKey = String(keyLine.dropFirst("API key (shown once): ".count))
        }

        // Files, not pipes: nobody has to drain the server's log for it to keep running.
        let stdout = folder + "/serve.out"
        let stderr = folder + "/serve.err"
        FileManager.default.createFile(atPath: stdout, contents: nil)
        FileManager.default.createFile(atPath: stderr, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Airlock.binary)
        process.arguments = ["serve", "--database", database, "--port", "0"] + arguments
        process.currentDirectoryURL = URL(fileURLWithPath: folder)
        var environment = ProgramCLI.cleanEnvironment
        // A credentials key, so that notices may carry endpoint credentials.
        environment["AIRLOCK_CREDENTIALS_KEY"] = Data((0..<32).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
        process.environment = environment
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: stdout))
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: stderr))
        process.standardInput = FileHandle.nullDevice
        try process.run()
        for _ in 0..<600 {
            let text = (try? String(contentsOfFile: stdout, encoding: .utf8)) ?? ""
            if let line = text.split(separator: "\n").first(where: { $0.hasPrefix("airlock: serving on ") }) {
                let url = String(line.dropFirst("airlock: serving on ".count))
                return ProgramServerProcess(folder: folder, database: database, url: url, officeKey: officeKey, process: process)
            }
            guard process.isRunning else { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        let log = (try? String(contentsOfFile: stderr, encoding: .utf8)) ?? ""
        throw ProgramCLIError(message: "the server did not start: \(log.suffix(2000))")
    }

    /// Runs `airlock ARGUMENTS --server URL`, with `key` as AIRLOCK_API_KEY.
    func run(
        _ arguments: [String], key: String? = nil, input: String? = nil, environment: [String: String] = [:]
    ) async throws -> Airlock.Result {
        var environment = environment
        environment["AIRLOCK_SERVER"] = url
        if let key { environment["AIRLOCK_API_KEY"] = key }
        return try await ProgramCLI.run(arguments, input: input, environment: environment)
    }

    /// Runs a command that must succeed and print one JSON document.
    func json(
        _ arguments: [String], key: String? = nil, input: String? = nil, environment: [String: String] = [:],
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> JSONValue {
        let result = try await run(arguments, key: key, input: input, environment: environment)
        try #require(result.status == 0, "\(arguments.prefix(2)): \(result.error)", sourceLocation: sourceLocation)
        return try JSONDecoder().decode(JSONValue.self, from: Data(result.output.utf8))
    }

    /// A user added by the program office with a password, signed in with `airlock login`: their session token.
    func signedInUser(organisation: String, email: String, role: String = "admin") async throws -> String {
        let password = "correct horse battery \(email)"
        _ = try await json(
            ["org", "add-user", organisation, "--email", email, "--name", "User \(email)", "--role", role, "--password-stdin"],
            key: officeKey, input: password + "\n")
        let login = try await run(["login", "--email", email], environment: ["AIRLOCK_PASSWORD": password])
        try #require(login.status == 0, "\(login.error)")
        let line = try #require(login.output.split(separator: "\n").first { $0.hasPrefix("export AIRLOCK_API_KEY=") })
        return String(line.dropFirst("export AIRLOCK_API_KEY=".count))
    }

    /// What a grant needs, made through the CLI: a developer with a commitment and a model whose
    /// version (`frontier-2`, at `upstream`) is in review, and an evaluator's institute whose
    /// grant on it is approved, consented and active.
    struct GrantedEvaluator {
        var version: String
        var grant: String
        var institute: String
        var developerKey: String
        var evaluatorKey: String
    }

    func grantedEvaluator(upstream: String) async throws -> GrantedEvaluator {
        let lab = try #require(try await json(["org", "create", "Lab", "--kind", "model_developer"], key: officeKey).id)
        let institute = try #require(try await json(["org", "create", "Institute", "--kind", "evaluator"], key: officeKey).id)
        let developer = try await signedInUser(organisation: lab, email: "admin@lab.example")
        let evaluator = try await signedInUser(organisation: institute, email: "admin@institute.example")
        let terms = try Airlock.temporaryFolder() + "/terms.txt"
        try "We share.".write(toFile: terms, atomically: true, encoding: .utf8)
        _ = try await json(["commitment", "create", "--terms-file", terms, "--from", ProgramCLI.date(days: -1)], key: developer)
        let model = try #require(try await json(["model", "create", "frontier"], key: developer).id)
        let version = try #require(try await json(
            ["model", "notice", model, "--version", "2", "--release", ProgramCLI.date(days: 120), "--endpoint-url", upstream,
             "--endpoint-model", "frontier-internal", "--credentials-env", "LAB_KEY"],
            key: developer, environment: ["LAB_KEY": "sk-lab-secret"]).id)
        _ = try await json(["model", "move", version, "--to", "in_review"], key: officeKey)
        let start = Date().addingTimeInterval(2).formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
        let grant = try #require(try await json(
            ["grant", "create", "--version", version, "--grantee", institute, "--purpose", "capability_evaluation", "--from", start,
             "--until", ProgramCLI.date(days: 60), "--tokens", "1000000", "--rpm", "6000"],
            key: officeKey).id)
        _ = try await json(["grant", "approve", grant], key: officeKey)
        _ = try await json(["grant", "consent", grant], key: developer)
        // The grant starts two seconds after it was made.
        try await Task.sleep(for: .seconds(2))
        return GrantedEvaluator(version: version, grant: grant, institute: institute, developerKey: developer, evaluatorKey: evaluator)
    }

    /// Sends SIGTERM and waits for the server to exit; its exit status.
    func stop() async throws -> Int32 {
        kill(process.processIdentifier, SIGTERM)
        for _ in 0..<300 where process.isRunning { try await Task.sleep(for: .milliseconds(50)) }
        try #require(!process.isRunning, "the server did not stop within 15 s of SIGTERM")
        #expect(process.terminationReason == .exit)
        return process.terminationStatus
    }
}

struct ProgramCLIError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}

/// Runs the built binary with standard input, in an environment without the caller's AIRLOCK_ settings.
enum ProgramCLI {
    static var cleanEnvironment: [String: String] {
        ProcessInfo.processInfo.environment.filter { !["AIRLOCK_SERVER", "AIRLOCK_API_KEY", "AIRLOCK_PASSWORD"].contains($0.key) }
    }

    static func run(_ arguments: [String], input: String? = nil, environment: [String: String] = [:]) async throws -> Airlock.Result {
        try await runProgram(Airlock.binary, arguments, input: input, environment: environment)
    }

    /// Runs any program the same way, collecting its output.
    static func runProgram(
        _ executable: String, _ arguments: [String], input: String? = nil, environment: [String: String] = [:]
    ) async throws -> Airlock.Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: Airlock.packageRoot)
        process.environment = cleanEnvironment.merging(environment) { $1 }
        let output = Pipe()
        let error = Pipe()
        let stdin = Pipe()
        process.standardOutput = output
        process.standardError = error
        process.standardInput = input == nil ? FileHandle.nullDevice : stdin
        try process.run()
        if let input {
            stdin.fileHandleForWriting.write(Data(input.utf8))
            try stdin.fileHandleForWriting.close()
        }
        async let out = readToEnd(output.fileHandleForReading)
        async let err = readToEnd(error.fileHandleForReading)
        let (outData, errData) = await (out, err)
        process.waitUntilExit()
        return Airlock.Result(
            status: process.terminationStatus, output: String(decoding: outData, as: UTF8.self),
            error: String(decoding: errData, as: UTF8.self))
    }

    /// A plain date `days` from now, as `--from`/`--until`/`--release` take it.
    static func date(days: Int) -> String {
        let date = Date().addingTimeInterval(Double(days) * 86_400)
        return String(date.formatted(.iso8601).prefix(10))
    }
}

/// Reading the CLI's JSON output in tests.
extension JSONValue {
    subscript(_ key: String) -> JSONValue? {
        if case .object(let object) = self { return object[key] }
        return nil
    }

    subscript(_ index: Int) -> JSONValue? {
        if case .array(let array) = self, array.indices.contains(index) { return array[index] }
        return nil
    }

    var string: String? { stringValue }

    var number: Double? {
        if case .number(let value) = self { return value }
        return nil
    }

    var count: Int? {
        if case .array(let array) = self { return array.count }
        return nil
    }

    /// The `id` field of an object.
    var id: String? { self["id"]?.stringValue }

    var array: [JSONValue]? {
        if case .array(let array) = self { return array }
        return nil
    }
}

@Suite struct ProgramCLITests {
    /// One review cycle, every step through the CLI: organisations, users, sign-in, commitment,
    /// notice, review, grant, approval, consent, a gateway key; refusals on the way; then the
    /// audit chain verifies and the server stops gracefully.
    @Test func aReviewCycleRunsThroughTheCLI() async throws {
        let (database, officeKey, status) = try await ProgramServerProcess.with { server in
            let office = server.officeKey
            // The program office creates the two participants.
            let developerOrg = try await server.json(["org", "create", "Frontier Labs", "--kind", "model_developer"], key: office)
            let developer = try #require(developerOrg["id"]?.string)
            let operatorOrg = try await server.json(
                ["org", "create", "First Bank", "--kind", "infrastructure_operator", "--sector", "banking"], key: office)
            let bank = try #require(operatorOrg["id"]?.string)
            #expect(operatorOrg["sector"]?.string == "banking")
            let missingSector = try await server.run(["org", "create", "Second Bank", "--kind", "infrastructure_operator"], key: office)
            #expect(missingSector.status == 1)
            #expect(missingSector.error == "error: 422 Unprocessable Content: an infrastructure operator needs a sector (field sector)\n")

            // An admin in each, who signs in with a password; a wrong one is refused.
            let developerKey = try await server.signedInUser(organisation: developer, email: "admin@frontier.example")
            let bankKey = try await server.signedInUser(organisation: bank, email: "admin@bank.example")
            #expect(developerKey.hasPrefix("als_") && bankKey.hasPrefix("als_"))
            let login = try await server.run(["login", "--email", "admin@bank.example"], input: "correct horse battery admin@bank.example\n")
            #expect(login.status == 0, "\(login.error)")
            #expect(login.output.contains("the session expires at 20"))
            let wrong = try await server.run(["login", "--email", "admin@bank.example"], input: "not the password at all\n")
            #expect(wrong.status == 1)
            #expect(wrong.error.contains("401 Unauthorized: the email or password is wrong"))
            let users = try await server.json(["org", "users", developer], key: developerKey)
            #expect(users["items"]?[0]?["email"]?.string == "admin@frontier.example")

            // The developer commits, registers a model and files its notice, with credentials from the environment.
            let terms = server.folder + "/terms.txt"
            try "We give the program 90 days' notice before releasing a frontier model.\n".write(toFile: terms, atomically: true, encoding: .utf8)
            let commitment = try await server.json(["commitment", "create", "--terms-file", terms, "--from", "2025-01-01"], key: developerKey)
            #expect(commitment["effective_from"]?.string == "2025-01-01T00:00:00.000Z")
            let commitmentId = try #require(commitment["id"]?.string)
            #expect(try await server.json(["commitment", "show", commitmentId], key: office)["terms"]?.string?.hasPrefix("We give") == true)
            let model = try await server.json(["model", "create", "Frontier-1", "--description", "A frontier model"], key: developerKey)
            let modelId = try #require(model["id"]?.string)
            let notice = try await server.run(
                [
                    "model", "notice", modelId, "--version", "1.0", "--release", ProgramCLI.date(days: 120), "--capability", "cyber",
                    "--capability", "code", "--endpoint-url", "http://127.0.0.1:9/v1", "--endpoint-model", "frontier-1",
                    "--credentials-env", "FRONTIER_TOKEN",
                ], key: developerKey, environment: ["FRONTIER_TOKEN": "sk-frontier-secret"])
            #expect(notice.status == 0, "\(notice.error)")
            #expect(!notice.output.contains("sk-frontier-secret"))
            let version = try JSONDecoder().decode(JSONValue.self, from: Data(notice.output.utf8))
            let versionId = try #require(version["id"]?.string)
            #expect(version["state"]?.string == "notified")
            #expect(version["has_endpoint_credentials"] == .bool(true))
            #expect(version["capabilities"] == .array([.string("cyber"), .string("code")]))
            let unsetCredentials = try await server.run(
                ["model", "endpoint", versionId, "--url", "http://127.0.0.1:9/v1", "--credentials-env", "NO_SUCH_VARIABLE"],
                key: developerKey)
            #expect(unsetCredentials.status == 1)
            #expect(unsetCredentials.error.contains("NO_SUCH_VARIABLE"))

            // The office opens the review and grants the bank access; the bank cannot take a key yet.
            let review = try await server.json(["model", "move", versionId, "--to", "in_review", "--reason", "notice complete"], key: office)
            #expect(review["state"]?.string == "in_review")
            let grant = try await server.json(
                [
                    "grant", "create", "--version", versionId, "--grantee", bank, "--purpose", "infrastructure_defence", "--from",
                    ProgramCLI.date(days: 1), "--until", ProgramCLI.date(days: 30), "--tokens", "1000000", "--rpm", "60",
                ], key: office)
            let grantId = try #require(grant["id"]?.string)
            #expect(grant["status"]?.string == "pending")
            #expect(grant["token_quota"]?.number == 1_000_000)
            let early = try await server.run(["grant", "key", grantId, "--name", "scanner"], key: bankKey)
            #expect(early.status == 1)
            #expect(early.error.contains("error: 422 Unprocessable Content: the grant is pending"))

            // Approval by the office and consent by the developer make it active.
            let approved = try await server.json(["grant", "approve", grantId, "--reason", "fits the window"], key: office)
            #expect(approved["approved_at"] != nil)
            #expect(approved["status"]?.string == "pending")
            let consentByBank = try await server.run(["grant", "consent", grantId], key: bankKey)
            #expect(consentByBank.status == 1)
            #expect(consentByBank.error.hasPrefix("error: 403 Forbidden: "))
            let consented = try await server.json(["grant", "consent", grantId, "--reason", "agreed"], key: developerKey)
            #expect(consented["status"]?.string == "active")
            let listed = try await server.json(["grant", "list", "--version", versionId], key: bankKey)
            #expect(listed["items"]?.count == 1)

            // The bank's admin issues a gateway key: its secret appears once, and never in the list.
            let issued = try await server.json(["grant", "key", grantId, "--name", "scanner"], key: bankKey)
            let secret = try #require(issued["secret"]?.string)
            #expect(secret.hasPrefix("alg_"))
            let keys = try await server.run(["grant", "keys", grantId], key: bankKey)
            #expect(keys.status == 0, "\(keys.error)")
            #expect(keys.output.contains("scanner"))
            #expect(!keys.output.contains(secret))

            // The bank sees the version it holds a grant to; another model's version is hidden as missing.
            #expect(try await server.json(["model", "version", versionId], key: bankKey)["id"]?.string == versionId)
            let other = try await server.json(["model", "create", "Frontier-2"], key: developerKey)
            let otherVersion = try await server.json(
                ["model", "notice", try #require(other["id"]?.string), "--version", "2.0", "--release", ProgramCLI.date(days: 200)],
                key: developerKey)
            let otherVersionId = try #require(otherVersion["id"]?.string)
            let hidden = try await server.run(["model", "version", otherVersionId], key: bankKey)
            #expect(hidden.status == 1)
            #expect(hidden.error == "error: 404 Not Found: no model version with that id\n")
            #expect(hidden.output.isEmpty)

            // Refused transitions say why: a notified version cannot be assessed, a released one is final.
            let skipped = try await server.run(["model", "move", otherVersionId, "--to", "assessed"], key: office)
            #expect(skipped.status == 1)
            #expect(skipped.error.contains("error: 422 Unprocessable Content: cannot move from notified to assessed"))
            #expect(skipped.error.hasSuffix("(field to)\n"))
            let released = try await server.json(["model", "move", versionId, "--to", "released"], key: developerKey)
            #expect(released["state"]?.string == "released")
            let reopened = try await server.run(["model", "move", versionId, "--to", "in_review"], key: office)
            #expect(reopened.status == 1)
            #expect(reopened.error.contains("cannot move from released to in_review: released is final (field to)"))

            // The same Idempotency-Key twice creates once.
            let first = try await server.json(["model", "create", "Frontier-3", "--idempotency-key", "retry-1"], key: developerKey)
            let again = try await server.json(["model", "create", "Frontier-3", "--idempotency-key", "retry-1"], key: developerKey)
            #expect(first["id"] != nil && first["id"] == again["id"])
            let models = try await server.json(["model", "list"], key: developerKey)
            #expect(models["items"]?.count == 3)

            return (server.database, office, try await server.stop())
        }
        #expect(status == 0)
        let audit = try await ProgramCLI.run(["audit", "verify", "--database", database])
        #expect(audit.status == 0, "\(audit.error)")
        let entries = audit.output.firstMatch(of: /audit log intact: (\d+) entries/).flatMap { Int($0.1) }
        #expect((entries ?? 0) > 10, "\(audit.output)")
        #expect(!audit.output.contains(officeKey))
    }

    @Test func everyProgramCommandHasHelp() async throws {
        let commands = [
            ["login"], ["org", "list"], ["org", "create"], ["org", "show"], ["org", "users"], ["org", "add-user"],
            ["commitment", "list"], ["commitment", "create"], ["commitment", "show"], ["model", "list"], ["model", "create"],
            ["model", "show"], ["model", "notice"], ["model", "versions"], ["model", "version"], ["model", "move"],
            ["model", "endpoint"], ["grant", "list"], ["grant", "create"], ["grant", "show"], ["grant", "approve"],
            ["grant", "consent"], ["grant", "revoke"], ["grant", "key"], ["grant", "keys"], ["runs", "import"],
        ]
        for command in commands {
            let result = try await ProgramCLI.run(command + ["--help"])
            #expect(result.status == 0, "\(command)")
            #expect(result.output.contains("USAGE"), "\(command)")
            #expect(command == ["login"] || result.output.contains("--api-key"), "\(command)")
        }
    }

    @Test func failuresNameTheServerOrTheMissingKeyAndNeverPrintTheKey() async throws {
        let unreachable = try await ProgramCLI.run(["org", "list", "--server", "http://127.0.0.1:9", "--api-key", "alk_secret_key_value"])
        #expect(unreachable.status == 1)
        #expect(unreachable.error.hasPrefix("error: cannot reach the Airlock server at http://127.0.0.1:9"))
        #expect(!(unreachable.output + unreachable.error).contains("alk_secret_key_value"))
        let fromEnvironment = try await ProgramCLI.run(["model", "list"], environment: ["AIRLOCK_SERVER": "http://127.0.0.1:9", "AIRLOCK_API_KEY": "k"])
        #expect(fromEnvironment.error.contains("http://127.0.0.1:9"))
        let noKey = try await ProgramCLI.run(["grant", "list", "--server", "http://127.0.0.1:9"])
        #expect(noKey.status == 1)
        #expect(noKey.error.contains("no API key"))
        let badDate = try await ProgramCLI.run(["commitment", "create", "--terms-file", "x", "--from", "next tuesday"])
        #expect(badDate.status != 0)
        #expect(badDate.error.contains("--from"))
        try await ProgramServerProcess.with { server in
            let revoked = try await server.run(["org", "list"], key: "alk_NOT_A_KEY")
            #expect(revoked.status == 1)
            #expect(revoked.error.hasPrefix("error: 401 Unauthorized: "))
            #expect(!revoked.error.contains("alk_NOT_A_KEY"))
            _ = try await server.stop()
        }
    }

    /// A finished engine run and a finished assessment, attached to a version with their numbers.
    @Test func runsImportAttachesARunAndAnAssessmentToAVersion() async throws {
        let folder = try Airlock.temporaryFolder()
        let policy = try AssessCommandTests.policy(in: folder, count: 4)
        let logs = folder + "/logs"
        let run = try await ScriptedModelServer.withServer({ .ok(ModelReplies.chat(word($0))) }) { model in
            let eval = try await Airlock.run(
                ["eval", folder + "/task.yaml", "--model", "openai/scripted", "--model-base-url", model.baseURL, "--log-dir", logs, "--no-progress"],
                environment: ["OPENAI_API_KEY": "k"])
            try #require(eval.status == 0, "\(eval.error)")
            let run = try Airlock.onlyRun(in: logs)
            let assess = try await Airlock.run(
                ["assess", "--policy", policy, "--model", "openai/scripted", "--model-base-url", model.baseURL, "--log-dir", logs, "--no-progress"],
                environment: ["OPENAI_API_KEY": "k"])
            try #require(assess.status == 0, "\(assess.error)")
            return run
        }
        let runId = try run.readHeader().runID
        let assessmentId = try #require(try FileManager.default.contentsOfDirectory(atPath: logs + "/assessments").first)
        // An unfinished run is refused before anything is sent.
        let unfinished = folder + "/unfinished"
        try FileManager.default.copyItem(atPath: run.path, toPath: unfinished)
        try FileManager.default.removeItem(atPath: unfinished + "/results.json")

        try await ProgramServerProcess.with { server in
            let office = server.officeKey
            let developer = try #require(try await server.json(["org", "create", "Frontier Labs", "--kind", "model_developer"], key: office)["id"]?.string)
            let developerKey = try await server.signedInUser(organisation: developer, email: "admin@frontier.example")
            let terms = server.folder + "/terms.txt"
            try "terms".write(toFile: terms, atomically: true, encoding: .utf8)
            _ = try await server.json(["commitment", "create", "--terms-file", terms, "--from", "2025-01-01"], key: developerKey)
            let modelId = try #require(try await server.json(["model", "create", "Frontier-1"], key: developerKey)["id"]?.string)
            let version = try await server.json(["model", "notice", modelId, "--version", "1.0", "--release", ProgramCLI.date(days: 100)], key: developerKey)
            let versionId = try #require(version["id"]?.string)

            let imported = try await server.json(["runs", "import", run.path, "--version", versionId], key: office)
            #expect(imported["kind"]?.string == "eval")
            #expect(imported["name"]?.string == "words")
            #expect(imported["source_id"]?.string == runId)
            let summary = try #require(imported["summary"])
            #expect(summary["task"]?["name"]?.string == "words")
            #expect(summary["model"]?.string == "openai/scripted")
            #expect(summary["samples"]?.number == 4)
            #expect(summary["scored"]?.number == 4)
            #expect(summary["scores"]?[0]?["scorer"]?.string == "exact")
            #expect(summary["scores"]?[0]?["value"]?.number == 1)
            #expect(summary["scores"]?[0]?["method"]?.string == "wilson")
            #expect(summary["completed_at"]?.string?.hasPrefix("20") == true)
            // Numbers, not content: no prompt or answer of the run reaches the server.
            #expect(!(try await server.run(["runs", "import", run.path, "--version", versionId], key: office).output.contains("Say word-")))

            let assessment = try await server.json(
                ["runs", "import", assessmentId, "--log-dir", logs, "--version", versionId, "--name", "words policy"], key: office)
            #expect(assessment["kind"]?.string == "assessment")
            #expect(assessment["name"]?.string == "words policy")
            #expect(assessment["source_id"]?.string == assessmentId)
            #expect(assessment["levels"] == .object(["d": .string("some")]))
            #expect(assessment["summary"]?["policy"]?["version"]?.string == "7")
            #expect(assessment["summary"]?["domains"]?[0]?["level"]?.string == "some")
            #expect(assessment["summary"]?["suites"]?.count == 2)
            #expect(assessment["summary"]?["suites"]?[1]?["status"]?.string == "not_run")

            let refused = try await server.run(["runs", "import", unfinished, "--version", versionId], key: office)
            #expect(refused.status == 1)
            #expect(refused.error.contains("not finished"))
            let missing = try await server.run(["runs", "import", run.path, "--version", "ver_01AAAAAAAAAAAAAAAAAAAAAAAA"], key: office)
            #expect(missing.status == 1)
            #expect(missing.error.contains("404 Not Found"))
            _ = try await server.stop()
        }
    }
}
