import AirlockCore
import AirlockEval
import AirlockTestSupport
import Foundation
import Logging
import Testing
@testable import AirlockSuites

/// A data folder of its own in a temporary folder, removed afterwards. With `installed`, its
/// `packages` is a link to the installed data packages, so an import reads the real inspect-evals.
private func withDataFolder<T>(installed: Bool, _ body: (DataFolder) async throws -> T) async throws -> T {
    let root = NSTemporaryDirectory() + "airlock-cybench-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: root) }
    let folder = DataFolder(root: root)
    if installed {
        let packages = URL(fileURLWithPath: InstalledData.folder.packages).standardizedFileURL.path
        try FileManager.default.createSymbolicLink(atPath: folder.packages, withDestinationPath: packages)
    }
    return try await body(folder)
}

/// A stand-in inspect-evals with the given challenges (name → files, relative to the challenge).
private func writeFakePackage(_ challenges: [String: [String: String]], in folder: DataFolder) throws {
    let files = FileManager.default
    try files.createDirectory(atPath: folder.packages + "/inspect_evals-0.26.0.dist-info", withIntermediateDirectories: true)
    for (name, contents) in challenges {
        for (path, text) in contents {
            let full = "\(folder.packages)/\(CybenchImporter.challengesPath)/\(name)/\(path)"
            try files.createDirectory(atPath: URL(fileURLWithPath: full).deletingLastPathComponent().path, withIntermediateDirectories: true)
            try text.write(toFile: full, atomically: true, encoding: .utf8)
        }
    }
}

private let fakeDynastic: [String: String] = [
    "eval.yaml": """
        name: dynastic
        flag: HTB{fake}
        files:
          /root/output.txt: resources/output.txt
        variants:
          easy: {prompt: "Easy prompt."}
          hard: {prompt: "Hard prompt."}
          solution:
            prompt: Run it
            files:
              /root/solution.sh: solution/solution.sh
        metadata: {first_solve_time: 9, category: cryptography, competition: HackTheBox}
        """,
    "resources/output.txt": "ciphertext\n",
    "solution/solution.sh": "#!/bin/sh\necho 'HTB{fake}'\n",
]

@Suite struct CybenchImporterTests {
    static let runnable = CybenchImporter.recipes.keys.sorted()

    @Test func theImporterIsRegistered() {
        #expect(SuiteImporters.all.contains { $0.name == "cybench" && $0.packages == ["inspect-evals"] })
    }

    @Test func tiersFollowTheFirstSolveTime() {
        #expect([2, 15, 16, 60, 61, 1494].map(CybenchImporter.tier(firstSolveMinutes:)) == [1, 1, 2, 2, 3, 3])
    }

    @Test func theTaskRunsTheImportedFolderApartFromTheOriginalSuite() throws {
        let battery = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path + "/battery"
        let task = try TaskFile.load(path: battery + "/public-ctf.yaml")
        #expect(task.definition.name == "ctf-public")
        #expect(task.definition.dataset.format == .challenges)
        #expect(task.definition.sandbox != nil)
        let root = ProcessInfo.processInfo.environment["AIRLOCK_DATA"] ?? ".airlock/data"
        #expect(task.datasetPath == root + "/ctf-public")
    }

    @Test(.enabled(if: InstalledData.isAvailable, "needs the data packages (make data)"))
    func theRunnableChallengesAreImportedMarkedPublic() async throws {
        try await withDataFolder(installed: true) { folder in
            let summary = try CybenchImporter().run(in: folder, logger: Logger(label: "test"))
            #expect(summary.outputs == Self.runnable.map { "ctf-public/cybench-\($0)" })
            #expect(summary.count == Self.runnable.count)
            let challenges = try Challenge.loadAll(root: folder.publicChallenges)
            #expect(challenges.map(\.manifest.name) == Self.runnable.map { "cybench-\($0)" })
            for challenge in challenges {
                let manifest = challenge.manifest
                let name = String(manifest.name.dropFirst("cybench-".count))
                #expect(manifest.isPublic == true, "\(name)")
                #expect(manifest.source == "inspect-evals 0.26.0 inspect_evals/cybench/challenges/\(name)")
                #expect(manifest.flag.map { $0.hasSuffix("}") && $0.count > 8 } == true, "\(name)")
                #expect(manifest.licence.contains("original CTF organisers") && manifest.licence.contains("MIT"), "\(name)")
                #expect(!manifest.prompt.minimal.isEmpty && manifest.prompt.minimal != manifest.prompt.guided, "\(name)")
                // A victim is reached where upstream's prompts say (victim:PORT), when they say.
                if let port = manifest.readyPort {
                    #expect(manifest.hosts == ["victim"])
                    for prompt in [manifest.prompt.minimal, manifest.prompt.guided] where prompt.contains("victim:") {
                        #expect(prompt.contains("victim:\(port)"), "\(name)")
                    }
                }
                #expect(FileManager.default.fileExists(atPath: challenge.folder + "/solution/solution.sh"))
            }
            // Nothing half-written is left beside the output.
            #expect(try FileManager.default.contentsOfDirectory(atPath: folder.root).filter { $0.hasPrefix(".import-") }.isEmpty)
        }
    }

    @Test(.enabled(if: InstalledData.isAvailable, "needs the data packages (make data)"))
    func everyOtherChallengeIsLeftOutWithItsReason() async throws {
        try await withDataFolder(installed: true) { folder in
            let summary = try CybenchImporter().run(in: folder, logger: Logger(label: "test"))
            let reasons = Dictionary(uniqueKeysWithValues: summary.skipped.map { entry -> (String, String) in
                let parts = entry.split(separator: ":", maxSplits: 1)
                return (String(parts[0]), parts.count == 2 ? parts[1].trimmingCharacters(in: .whitespaces) : "")
            })
            #expect(reasons.values.allSatisfy { $0.count > 20 })
            let all = try FileManager.default.contentsOfDirectory(atPath: try folder.package("inspect-evals").path(CybenchImporter.challengesPath))
                .filter { !$0.hasPrefix("_") && !$0.hasPrefix(".") }
            #expect(Set(reasons.keys).union(Self.runnable) == Set(all))
            #expect(Set(reasons.keys).isDisjoint(with: Self.runnable))
            #expect(reasons["crushing"]?.contains("downloads from GitHub") == true)
            #expect(reasons["diffecient"]?.contains("mmh3") == true)
            #expect(reasons["randsubware"]?.contains("CPU") == true)
            #expect(reasons["chunky"]?.contains("Go") == true)
        }
    }

    /// The `solution` mode for the public challenges: each reference solver, replayed in a sandbox
    /// as an agent would meet the challenge, prints the challenge's flag.
    @Test(.enabled(if: InstalledData.isAvailable && TestEnvironment.runs(.sandboxes, ifAvailable: Sandbox.isAvailable), "needs the data packages and sandboxes"), arguments: runnable)
    func theReferenceSolverFindsTheFlag(name: String) async throws {
        try await withDataFolder(installed: true) { folder in
            _ = try CybenchImporter().run(in: folder, logger: Logger(label: "test"))
            let challenge = try Challenge.load(folder: "\(folder.publicChallenges)/cybench-\(name)")
            try await Sandbox.withSandbox(logger: Logger(label: "test")) { sandbox in
                // noisier_crc's solver needs about 18 CPU-seconds; on two cores shared with the
                // whole suite, the sandbox's half share of CPU stretched that past 120 s.
                let (solved, output) = try await challenge.verify(in: sandbox, timeout: .seconds(600))
                #expect(solved, "\(name): status \(output.status): \(output.output.suffix(600)) \(output.errorOutput.suffix(600))")
            }
        }
    }

    @Test func aReimportReplacesWholeFoldersAndDropsStaleOnes() async throws {
        try await withDataFolder(installed: false) { folder in
            try writeFakePackage(["dynastic": fakeDynastic], in: folder)
            let files = FileManager.default
            let importer = CybenchImporter()
            _ = try importer.run(in: folder, logger: Logger(label: "test"))
            let dynastic = folder.publicChallenges + "/cybench-dynastic"
            try "left over".write(toFile: dynastic + "/work/stray.txt", atomically: true, encoding: .utf8)
            try files.createDirectory(atPath: folder.publicChallenges + "/cybench-gone", withIntermediateDirectories: true)
            try files.createDirectory(atPath: folder.publicChallenges + "/someone-elses", withIntermediateDirectories: true)

            let summary = try importer.run(in: folder, logger: Logger(label: "test"))
            #expect(summary.outputs == ["ctf-public/cybench-dynastic"])
            #expect(!files.fileExists(atPath: dynastic + "/work/stray.txt"))
            #expect(files.fileExists(atPath: dynastic + "/work/output.txt"))
            #expect(!files.fileExists(atPath: folder.publicChallenges + "/cybench-gone"))
            #expect(files.fileExists(atPath: folder.publicChallenges + "/someone-elses"))
            let manifest = try Challenge.load(folder: dynastic).manifest
            #expect(manifest.tier == 1 && manifest.category == "crypto")
            #expect(manifest.prompt.minimal == "Hard prompt." && manifest.prompt.guided == "Easy prompt.")
            #expect(manifest.flag == "HTB{fake}" && manifest.services == nil)
            let solver = try String(contentsOfFile: dynastic + "/solution/solve.sh", encoding: .utf8)
            #expect(solver.contains("exec ./solution.sh"))
            #expect(try files.contentsOfDirectory(atPath: folder.root).filter { $0.hasPrefix(".import-") }.isEmpty)
        }
    }

    @Test func unusableChallengesAreLeftOutAndBrokenOnesNamed() async throws {
        try await withDataFolder(installed: false) { folder in
            var missing = fakeDynastic
            missing["resources/output.txt"] = nil
            var unknown = fakeDynastic
            unknown["eval.yaml"] = fakeDynastic["eval.yaml"]!.replacingOccurrences(of: "name: dynastic", with: "name: webby")
            unknown["images/victim/Dockerfile"] = "FROM nginx:1\n"
            try writeFakePackage(["dynastic": missing, "webby": unknown], in: folder)
            let summary = try CybenchImporter().run(in: folder, logger: Logger(label: "test"))
            #expect(summary.count == 0)
            #expect(summary.skipped.contains { $0.hasPrefix("dynastic: ") && $0.contains("resources/output.txt") })
            #expect(summary.skipped.contains { $0.hasPrefix("webby: ") && $0.contains("FROM nginx:1") })

            try writeFakePackage(["dynastic": ["eval.yaml": fakeDynastic["eval.yaml"]!.replacingOccurrences(of: "flag: HTB{fake}\n", with: "")]], in: folder)
            let error = try #require(throws: EvalError.self) { try CybenchImporter().run(in: folder, logger: Logger(label: "test")) }
            #expect(error.field == "flag")
            #expect(error.file?.hasSuffix("challenges/dynastic/eval.yaml") == true)
        }
    }
}
