import AirlockCore
import Foundation
import Yams

/// A capture-the-flag challenge: a folder in `battery/ctf/` with `challenge.yaml`, the files the
/// agent starts with (`work/`), the victims' files it must not read directly (`srv/`), and a
/// reference solver (`solution/solve.sh`, with any files it needs beside it). A fresh flag is
/// made for every attempt, except in public challenges imported with their flag fixed.
public struct Challenge: Sendable, Hashable {
    public struct Manifest: Sendable, Hashable, Codable {
        public struct Prompts: Sendable, Hashable, Codable {
            /// What the agent is told with no help.
            public var minimal: String
            /// The same, with a hint toward the weakness.
            public var guided: String
        }

        public var name: String
        /// web, pwn, crypto, reversing, forensics or misc.
        public var category: String
        /// 1 (easy) to 3 (hard).
        public var tier: Int
        public var attack: [String]
        public var cwe: [String]
        public var prompt: Prompts
        /// Run once in the sandbox with `/srv` mounted, before the services start (for example a compile).
        public var build: String?
        /// Long-lived victims, started in the sandbox's network with `/srv` mounted.
        public var services: [[String]]?
        /// A TCP port on 127.0.0.1 that must accept connections before the agent starts.
        public var readyPort: Int?
        /// Host names that resolve to 127.0.0.1 inside (for example `victim`).
        public var hosts: [String]?
        public var limits: SampleLimits?
        public var licence: String
        /// A fixed flag, for public challenges whose flag is written into their files; without
        /// one, every attempt gets a fresh flag at `/srv/flag.txt`.
        public var flag: String?
        /// Published before: likely seen in training, so reported apart from original work.
        public var isPublic: Bool?
        /// Where a public challenge comes from (package, version, path).
        public var source: String?

        enum CodingKeys: String, CodingKey {
            case name, category, tier, attack, cwe, prompt, build, services
            case readyPort = "ready_port"
            case hosts, limits, licence, flag
            case isPublic = "public"
            case source
        }
    }

    public static let categories = ["web", "pwn", "crypto", "reversing", "forensics", "misc"]

    public var folder: String
    public var manifest: Manifest

    /// Reads and checks `challenge.yaml`, naming the field at fault.
    public static func load(folder: String) throws -> Challenge {
        let path = folder + "/challenge.yaml"
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw EvalError(.invalidDataset, "cannot read the challenge manifest", file: path)
        }
        let manifest: Manifest
        do {
            manifest = try YAMLDecoder().decode(Manifest.self, from: text)
        } catch let error as DecodingError {
            let field: String
            switch error {
            case .keyNotFound(let key, let context): field = (context.codingPath + [key]).map(\.yamlName).joined(separator: ".")
            case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context): field = context.codingPath.map(\.yamlName).joined(separator: ".")
            @unknown default: field = ""
            }
            throw EvalError(.invalidDataset, "bad challenge manifest: \(error)", file: path, line: YAMLLocation.line(of: field.split(separator: ".").map(String.init), in: text), field: field)
        }
        guard categories.contains(manifest.category) else {
            throw EvalError(.invalidDataset, "category is one of \(categories.joined(separator: ", "))", file: path, field: "category")
        }
        guard (1...3).contains(manifest.tier) else {
            throw EvalError(.invalidDataset, "tier is 1, 2 or 3", file: path, field: "tier")
        }
        guard FileManager.default.fileExists(atPath: folder + "/solution/solve.sh") else {
            throw EvalError(.invalidDataset, "every challenge has a reference solver at solution/solve.sh", file: folder)
        }
        return Challenge(folder: folder, manifest: manifest)
    }

    /// Every challenge under `root`, by name.
    public static func loadAll(root: String) throws -> [Challenge] {
        let names = try FileManager.default.contentsOfDirectory(atPath: root).sorted()
        return try names.filter { FileManager.default.fileExists(atPath: "\(root)/\($0)/challenge.yaml") }.map { try load(folder: "\(root)/\($0)") }
    }

    /// The challenge as a sample: the prompt at the hint level, and what the report groups by.
    public func sample(hints: String) -> Sample {
        var sample = Sample(
            id: manifest.name,
            input: .text(hints == "guided" ? manifest.prompt.guided : manifest.prompt.minimal),
            target: [],
            metadata: [
                "challenge": .string(folder),
                "category": .string(manifest.category),
                "tier": .number(Double(manifest.tier)),
                "attack": .array(manifest.attack.map { .string($0) }),
                "cwe": .array(manifest.cwe.map { .string($0) }),
                "licence": .string(manifest.licence),
                "public": .bool(manifest.isPublic ?? false),
            ]
        )
        if let source = manifest.source { sample.metadata["source"] = .string(source) }
        return sample
    }

    /// A flag no attempt has seen before.
    static func freshFlag() -> String {
        var generator = SystemRandomNumberGenerator()
        let hex = (0..<16).map { _ in String(generator.next(upperBound: UInt8(16)), radix: 16) }.joined()
        return "FLAG{\(hex)}"
    }

    /// Copies the challenge into the sandbox, plants a fresh flag at `/srv/flag.txt` (unless the
    /// flag is fixed), builds, starts the services and waits for them. Returns the flag the
    /// attempt must find.
    public func prepare(in sandbox: Sandbox) async throws -> String {
        let files = FileManager.default
        for (source, target, owner) in [("work", sandbox.workDirectory, sandbox.uid), ("srv", sandbox.serviceDirectory, sandbox.serviceUID)] where files.fileExists(atPath: "\(folder)/\(source)") {
            try Self.copyContents(of: "\(folder)/\(source)", to: target, owner: owner)
        }
        if let hosts = manifest.hosts { try sandbox.setHostNames(hosts) }
        let flag: String
        if let fixed = manifest.flag {
            flag = fixed
        } else {
            flag = Self.freshFlag()
            let flagPath = sandbox.serviceDirectory + "/flag.txt"
            guard files.createFile(atPath: flagPath, contents: Data((flag + "\n").utf8)) else {
                throw SandboxError(code: .start, message: "cannot plant the flag")
            }
            _ = chown(flagPath, sandbox.serviceUID, sandbox.serviceUID)
        }
        if let build = manifest.build {
            let result = try await sandbox.build("cd /srv && " + build, timeout: .seconds(120))
            guard result.status == 0 else {
                throw SampleFailure(cause: .infrastructure, message: "challenge \(manifest.name): build exited with status \(result.status): \(result.errorOutput.prefix(400))")
            }
        }
        for service in manifest.services ?? [] { try sandbox.startService(service) }
        if let port = manifest.readyPort {
            // Thirty seconds: a loaded machine with the sandbox at its CPU share starts a service slowly.
            let probe = "import socket,time\nend = time.monotonic() + 30\nwhile True:\n    try:\n        socket.create_connection(('127.0.0.1', \(port)), timeout=1).close(); break\n    except OSError:\n        if time.monotonic() > end: raise SystemExit(1)\n        time.sleep(0.05)"
            let ready = try await sandbox.exec(["/usr/bin/python3", "-c", probe], timeout: .seconds(40))
            guard ready.status == 0 else {
                throw SampleFailure(cause: .infrastructure, message: "challenge \(manifest.name): nothing listens on port \(port)")
            }
        }
        return flag
    }

    /// Runs the reference solver in a prepared sandbox, with the files beside it in `solution/`
    /// copied to `/home/agent`: it must print the flag. `timeout` is wall-clock time, which a
    /// loaded machine stretches; the sandbox's CPU limit holds whatever it is.
    public func verify(in sandbox: Sandbox, timeout: Duration = .seconds(120)) async throws -> (solved: Bool, output: ChildProcessResult) {
        let flag = try await prepare(in: sandbox)
        try Self.copyContents(of: folder + "/solution", to: sandbox.workDirectory, owner: sandbox.uid, replacing: true)
        let result = try await sandbox.exec(["/bin/sh", "/home/agent/solve.sh"], timeout: timeout)
        return (result.output.contains(flag), result)
    }

    static func copyContents(of source: String, to target: String, owner: UInt32, replacing: Bool = false) throws {
        let files = FileManager.default
        for name in try files.contentsOfDirectory(atPath: source) {
            let from = "\(source)/\(name)"
            let to = "\(target)/\(name)"
            if replacing, files.fileExists(atPath: to) { try files.removeItem(atPath: to) }
            try files.copyItem(atPath: from, toPath: to)
            _ = chown(to, owner, owner)
            if let children = files.enumerator(atPath: to) {
                for case let child as String in children { _ = chown("\(to)/\(child)", owner, owner) }
            }
        }
    }
}
