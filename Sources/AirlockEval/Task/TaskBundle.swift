import AirlockCore
import Foundation

/// The files a task needs to run elsewhere (on the program's workers): the task file, its
/// dataset (a file, or a folder of challenges with everything in it) and any challenge folder
/// a sample names, by their paths under the task's folder. Datasets from the data folder
/// (`data:`) are not carried: each worker has the same pinned packages (`make data`).
public enum TaskBundle {
    /// The task's files by path under its folder, and the task file's own path there.
    public static func files(taskPath: String) throws -> (files: [String: Data], taskPath: String) {
        let task = try TaskFile.load(path: taskPath)
        let root = URL(fileURLWithPath: taskPath).deletingLastPathComponent().standardizedFileURL.path
        var files: [String: Data] = [:]
        func add(_ path: String, field: String) throws {
            let absolute = URL(fileURLWithPath: path).standardizedFileURL.path
            guard absolute.hasPrefix(root + "/") else {
                throw EvalError(.invalidTask, "\(path) is outside the task's folder; a run's bundle holds that folder only", file: taskPath, field: field)
            }
            var isFolder: ObjCBool = false
            guard FileManager.default.fileExists(atPath: absolute, isDirectory: &isFolder) else {
                throw EvalError(.invalidTask, "no such file or folder: \(path)", file: taskPath, field: field)
            }
            let relative = String(absolute.dropFirst(root.count + 1))
            if !isFolder.boolValue {
                files[relative] = try Data(contentsOf: URL(fileURLWithPath: absolute))
                return
            }
            guard let walker = FileManager.default.enumerator(atPath: absolute) else { return }
            for case let child as String in walker {
                let full = absolute + "/" + child
                let attributes = try FileManager.default.attributesOfItem(atPath: full)
                switch attributes[.type] as? FileAttributeType {
                case .typeRegular?: files[relative + "/" + child] = try Data(contentsOf: URL(fileURLWithPath: full))
                case .typeDirectory?: continue
                default: throw EvalError(.invalidTask, "\(full) is neither a file nor a folder (a bundle carries no links)", file: taskPath, field: field)
                }
            }
        }
        try add(taskPath, field: "")
        if !task.definition.dataset.path.hasPrefix(TaskFile.dataFolderPrefix) {
            try add(task.datasetPath, field: "dataset.path")
            if task.definition.dataset.format != .challenges {
                for sample in try DatasetReader.read(path: task.datasetPath, definition: task.definition.dataset) {
                    if let folder = sample.metadata["challenge"]?.stringValue {
                        let path = folder.hasPrefix("/") ? folder : URL(fileURLWithPath: task.datasetPath).deletingLastPathComponent().appendingPathComponent(folder).path
                        try add(path, field: "dataset: sample \(sample.id), metadata.challenge")
                    }
                }
            }
        }
        return (files, String(URL(fileURLWithPath: taskPath).standardizedFileURL.path.dropFirst(root.count + 1)))
    }

    /// Several tasks' files under one folder (an assessment policy's), with `extra` files (the
    /// policy) there too, by path under it; and each task file's path there.
    public static func files(taskPaths: [String], under root: String, extra: [String] = []) throws -> (files: [String: Data], taskPaths: [String: String]) {
        let root = URL(fileURLWithPath: root).standardizedFileURL.path
        func relative(_ path: String) throws -> String {
            let absolute = URL(fileURLWithPath: path).standardizedFileURL.path
            guard absolute.hasPrefix(root + "/") else {
                throw EvalError(.invalidTask, "\(path) is outside \(root); a bundle holds that folder only", file: path)
            }
            return String(absolute.dropFirst(root.count + 1))
        }
        var files: [String: Data] = [:]
        for path in extra { files[try relative(path)] = try Data(contentsOf: URL(fileURLWithPath: path)) }
        var placed: [String: String] = [:]
        for taskPath in taskPaths {
            let (taskFiles, inTaskFolder) = try Self.files(taskPath: taskPath)
            let folder = URL(fileURLWithPath: taskPath).deletingLastPathComponent().standardizedFileURL.path
            let prefix = folder == root ? "" : try relative(folder) + "/"
            for (path, contents) in taskFiles { files[prefix + path] = contents }
            placed[taskPath] = prefix + inTaskFolder
        }
        return (files, placed)
    }

    /// Writes a bundle's files under `folder` (a fresh one), making the folders on the way.
    /// The paths were checked when the bundle was read; they are checked again here, since a
    /// path that leaves the folder would write where it must not.
    public static func write(_ files: [String: Data], into folder: String) throws {
        for (path, contents) in files {
            let parts = path.split(separator: "/", omittingEmptySubsequences: false)
            guard !path.hasPrefix("/"), !parts.contains(where: { $0.isEmpty || $0 == "." || $0 == ".." }) else {
                throw EvalError(.invalidTask, "a bundle path outside its folder: \(path.prefix(120).debugDescription)", file: folder)
            }
            let target = URL(fileURLWithPath: folder).appendingPathComponent(path)
            try FileManager.default.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
            // A new file only: nothing already there (a link, above all) is written through.
            let descriptor = open(target.path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o644)
            guard descriptor >= 0 else {
                throw EvalError(.invalidTask, "cannot write \(path): \(String(cString: strerror(errno)))", file: folder)
            }
            try FileHandle(fileDescriptor: descriptor, closeOnDealloc: true).write(contentsOf: contents)
        }
    }
}
