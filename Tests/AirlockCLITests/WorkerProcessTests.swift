import AirlockCore
import AirlockEval
import AirlockNATS
import AirlockTestSupport
import Foundation
import Logging
import Testing

/// `airlock serve --queue nats://…` with `airlock worker` processes beside it, on a NATS server
/// from PyPI, all on loopback: the scale-out deployment, with its failures.
@Suite struct WorkerProcessTests {
    /// A worker process, its output in files (nobody has to drain a pipe for it to go on).
    struct WorkerProcess {
        let process: Process
        let output: String

        static func start(_ server: ProgramServerProcess, nats: String, key: String, name: String, pool: String = "default") throws -> WorkerProcess {
            let folder = try Airlock.temporaryFolder()
            let output = folder + "/worker.out"
            FileManager.default.createFile(atPath: output, contents: nil)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: Airlock.binary)
            process.arguments = [
                "worker", "--queue", nats, "--pool", pool, "--slots", "2", "--lease-seconds", "4", "--name", name, "--work-dir", folder + "/work",
                "--log-level", "info",
            ]
            var environment = ProgramCLI.cleanEnvironment
            environment["AIRLOCK_SERVER"] = server.url
            environment["AIRLOCK_API_KEY"] = key
            process.environment = environment
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: output))
            process.standardOutput = handle
            process.standardError = handle
            process.standardInput = FileHandle.nullDevice
            try process.run()
            return WorkerProcess(process: process, output: output)
        }

        var log: String { (try? String(contentsOfFile: output, encoding: .utf8)) ?? "" }

        func waitUntilTaking() async throws {
            for _ in 0..<400 where !log.contains("taking pool") {
                guard process.isRunning else { break }
                try await Task.sleep(for: .milliseconds(50))
            }
            try #require(log.contains("taking pool"), "the worker did not start: \(log)")
        }

        func kill9() {
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
        }
    }

    /// A slow model (a quarter second a reply), so that a run lasts long enough to kill a worker in it.
    static func slowAnswer(_ request: ScriptedModelServer.Request) -> ScriptedModelServer.Reply {
        .delayed(0.25, .ok(ModelReplies.chat(word(request))))
    }

    @Test(.enabled(if: TestEnvironment.runs(.nats, ifAvailable: NATSTestServer.isAvailable), "needs nats-server (make test installs it)"))
    func workersShareARunAndOneKilledMidRunLosesNothing() async throws {
        try await NATSTestServer.withServer { nats in
            try await ScriptedModelServer.withServer(Self.slowAnswer) { upstream in
                try await ProgramServerProcess.with(arguments: ["--queue", nats.url, "--slots", "0", "--lease-seconds", "4"]) { server in
                    let world = try await server.grantedEvaluator(upstream: upstream.baseURL)
                    let workerKey = try await Self.workerKey(server)

                    // Keys of the wrong role take nothing: the worker says why and stops.
                    let wrong = try WorkerProcess.start(server, nats: nats.url, key: world.evaluatorKey, name: "wrong-key")
                    wrong.process.waitUntilExit()
                    #expect(wrong.process.terminationStatus != 0 && wrong.log.contains("needs a key of a user with the role worker"), "\(wrong.log)")

                    let first = try WorkerProcess.start(server, nats: nats.url, key: workerKey, name: "first")
                    let second = try WorkerProcess.start(server, nats: nats.url, key: workerKey, name: "second")
                    let elsewhere = try WorkerProcess.start(server, nats: nats.url, key: workerKey, name: "elsewhere", pool: "gpu")
                    defer { for worker in [first, second, elsewhere] { worker.kill9() } }
                    for worker in [first, second, elsewhere] { try await worker.waitUntilTaking() }

                    let folder = try Airlock.temporaryFolder()
                    let task = try Airlock.wordsTask(16, in: folder)
                    let submitted = try await server.json(["runs", "submit", task, "--version", world.version, "--grant", world.grant], key: world.evaluatorKey)
                    let runID = try #require(submitted.id)
                    // The first worker dies with attempts in hand, once some results are in.
                    for _ in 0..<200 {
                        let page = try await server.json(["runs", "attempts", runID], key: world.evaluatorKey)
                        if (page["items"]?.count ?? 0) >= 3 { break }
                        try await Task.sleep(for: .milliseconds(50))
                    }
                    first.kill9()

                    let watched = try await server.run(["runs", "watch", runID], key: world.evaluatorKey)
                    #expect(watched.status == 0 && watched.output.contains("finished: 16/16 attempts"), "\(watched.output)\n\(watched.error)")
                    let items = try #require(try await server.json(["runs", "attempts", runID, "--limit", "200"], key: world.evaluatorKey)["items"]?.array)
                    // Every attempt once, each scored right, none by the worker of another pool.
                    #expect(Set(items.compactMap { $0["sample_id"]?.string }) == Set((1...16).map { "s\($0)" }))
                    #expect(items.count == 16)
                    let workers = Set(items.compactMap { $0["worker"]?.string?.split(separator: "/").last.map(String.init) })
                    #expect(workers.isSubset(of: ["first", "second"]) && workers.contains("second"), "\(workers)")
                    #expect(!elsewhere.log.contains("attempt"), "\(elsewhere.log)")
                }
            }
        }
    }

    /// A worker user's key, made by the program office.
    static func workerKey(_ server: ProgramServerProcess) async throws -> String {
        let office = try #require(try await server.json(["org", "list", "--limit", "200"], key: server.officeKey)["items"]?.array?
            .first { $0["kind"]?.string == "program_office" }?.id)
        return try await server.signedInUser(organisation: office, email: "worker@office.example", role: "worker")
    }

    /// Submits `count` attempts, runs `interrupt` once three have results, and expects the run to
    /// finish with each attempt once.
    static func runThrough(
        _ server: ProgramServerProcess, _ world: ProgramServerProcess.GrantedEvaluator, count: Int, interrupt: () async throws -> Void
    ) async throws {
        let folder = try Airlock.temporaryFolder()
        let task = try Airlock.wordsTask(count, in: folder)
        let runID = try #require(try await server.json(["runs", "submit", task, "--version", world.version, "--grant", world.grant], key: world.evaluatorKey).id)
        for _ in 0..<400 {
            if (try await server.json(["runs", "attempts", runID], key: world.evaluatorKey)["items"]?.count ?? 0) >= 3 { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        try await interrupt()
        let watched = try await server.run(["runs", "watch", runID], key: world.evaluatorKey)
        #expect(watched.status == 0 && watched.output.contains("finished: \(count)/\(count) attempts"), "\(watched.output)\n\(watched.error)")
        let items = try #require(try await server.json(["runs", "attempts", runID, "--limit", "200"], key: world.evaluatorKey)["items"]?.array)
        #expect(items.count == count && Set(items.compactMap { $0["sample_id"]?.string }).count == count)
    }

    /// The NATS server killed and started again on its storage mid-run: the server and the
    /// workers reconnect by themselves, and the run finishes with each attempt once.
    @Test(.enabled(if: TestEnvironment.runs(.nats, ifAvailable: NATSTestServer.isAvailable), "needs nats-server (make test installs it)"))
    func natsRestartedMidRunLosesNothing() async throws {
        try await NATSTestServer.withServer { nats in
            try await ScriptedModelServer.withServer(Self.slowAnswer) { upstream in
                try await ProgramServerProcess.with(arguments: ["--queue", nats.url, "--slots", "0", "--lease-seconds", "4"]) { server in
                    let world = try await server.grantedEvaluator(upstream: upstream.baseURL)
                    let key = try await Self.workerKey(server)
                    let workers = try ["first", "second"].map { try WorkerProcess.start(server, nats: nats.url, key: key, name: $0) }
                    defer { for worker in workers { worker.kill9() } }
                    for worker in workers { try await worker.waitUntilTaking() }
                    try await Self.runThrough(server, world, count: 16) { try await nats.restart() }
                }
            }
        }
    }

    /// A three-node JetStream cluster with the queue on all three: the stream's leader killed
    /// mid-run, the others elect a new one, and the run finishes with each attempt once.
    @Test(.enabled(if: TestEnvironment.runs(.nats, ifAvailable: NATSTestServer.isAvailable), "needs nats-server (make test installs it)"))
    func theClustersLeaderKilledMidRunLosesNothing() async throws {
        try await NATSTestCluster.withCluster { cluster in
            let queue = cluster.urls.joined(separator: ",")
            try await ScriptedModelServer.withServer(Self.slowAnswer) { upstream in
                try await ProgramServerProcess.with(arguments: ["--queue", queue, "--queue-replicas", "3", "--slots", "0", "--lease-seconds", "4"]) { server in
                    let world = try await server.grantedEvaluator(upstream: upstream.baseURL)
                    let key = try await Self.workerKey(server)
                    let workers = try ["first", "second"].map { try WorkerProcess.start(server, nats: queue, key: key, name: $0) }
                    defer { for worker in workers { worker.kill9() } }
                    for worker in workers { try await worker.waitUntilTaking() }
                    try await Self.runThrough(server, world, count: 16) {
                        let leader = try await NATSConnection.withConnection(NATSConfiguration(servers: cluster.urls), logger: Logger(label: "test.cluster")) { connection in
                            let info = try await connection.request("$JS.API.STREAM.INFO.AIRLOCK_ATTEMPTS", data: Data())
                            return (try JSONSerialization.jsonObject(with: info.data) as? [String: Any]).flatMap { ($0["cluster"] as? [String: Any])?["leader"] as? String }
                        }
                        let index = try #require(leader.flatMap { Int($0.dropFirst()) })
                        await cluster.servers[index].kill()
                    }
                }
            }
        }
    }
}
