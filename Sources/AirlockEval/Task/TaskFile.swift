import AirlockCore
import Foundation
import Yams

/// A task read from its YAML file, with the paths it names resolved.
public struct TaskFile: Sendable {
    public var definition: TaskDefinition
    /// The task file, as given.
    public var path: String
    /// The dataset file, resolved against the task file's folder.
    public var datasetPath: String

    /// Reads and checks a task file. Every problem names the file, line and field.
    /// A dataset path that starts with this is under the data folder (`AIRLOCK_DATA`, default
    /// `.airlock/data`), where `airlock data import` writes.
    public static let dataFolderPrefix = "data:"

    public static func load(path: String) throws -> TaskFile {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw EvalError(.invalidTask, "cannot read the task file", file: path)
        }
        let definition = try decode(text, file: path)
        try validate(definition, text: text, file: path)
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent()
        let datasetPath: String
        if definition.dataset.path.hasPrefix(dataFolderPrefix) {
            // Imported data lives in the data folder, not beside the task (docs/battery.md).
            let root = ProcessInfo.processInfo.environment["AIRLOCK_DATA"] ?? ".airlock/data"
            datasetPath = root + "/" + definition.dataset.path.dropFirst(dataFolderPrefix.count)
        } else {
            datasetPath = definition.dataset.path.hasPrefix("/") ? definition.dataset.path : folder.appendingPathComponent(definition.dataset.path).path
        }
        return TaskFile(definition: definition, path: path, datasetPath: datasetPath)
    }

    static func decode(_ text: String, file: String) throws -> TaskDefinition {
        try YAMLLocation.decode(TaskDefinition.self, from: text, file: file, code: .invalidTask)
    }

    static func validate(_ task: TaskDefinition, text: String, file: String) throws {
        func fail(_ path: [String], _ message: String) -> EvalError {
            EvalError(.invalidTask, message, file: file, line: YAMLLocation.line(of: path, in: text), field: YAMLLocation.dotted(path))
        }
        if task.name.trimmingCharacters(in: .whitespaces).isEmpty { throw fail(["name"], "must not be empty") }
        if task.scorers.isEmpty { throw fail(["scorers"], "a task needs at least one scorer") }
        if task.epochs.count < 1 { throw fail(["epochs", "count"], "must be at least 1") }
        if task.epochs.count < task.epochs.reducer.minimumEpochs {
            throw fail(["epochs", "reducer"], "\(task.epochs.reducer) needs at least \(task.epochs.reducer.minimumEpochs) epochs, the task has \(task.epochs.count)")
        }
        if let limit = task.dataset.limit, limit < 1 { throw fail(["dataset", "limit"], "must be at least 1") }
        for (index, scorer) in task.scorers.enumerated() {
            if case .pattern(let options) = scorer {
                do { _ = try NSRegularExpression(pattern: options.regex) } catch {
                    throw fail(["scorers", "\(index)", "pattern", "regex"], "not a valid regular expression: \(options.regex)")
                }
            }
            if case .modelGraded(let options) = scorer, let pattern = options.gradePattern {
                do { _ = try NSRegularExpression(pattern: pattern) } catch {
                    throw fail(["scorers", "\(index)", "model_graded", "grade_pattern"], "not a valid regular expression: \(pattern)")
                }
            }
        }
        if let sandbox = task.sandbox {
            let timeouts = SandboxDefinition.commandTimeoutRange, memory = SandboxDefinition.memoryMBRange, processes = SandboxDefinition.processesRange
            if let seconds = sandbox.commandTimeout, !timeouts.contains(seconds) {
                throw fail(["sandbox", "command_timeout"], "must be between \(Int(timeouts.lowerBound)) and \(Int(timeouts.upperBound)) seconds, got \(seconds)")
            }
            if let megabytes = sandbox.memoryMB, !memory.contains(megabytes) {
                throw fail(["sandbox", "memory_mb"], "must be between \(memory.lowerBound) and \(memory.upperBound) MiB, got \(megabytes)")
            }
            if let count = sandbox.processes, !processes.contains(count) {
                throw fail(["sandbox", "processes"], "must be between \(processes.lowerBound) and \(processes.upperBound), got \(count)")
            }
            if let cpus = sandbox.cpus, !SandboxDefinition.cpusRange.contains(cpus) {
                throw fail(["sandbox", "cpus"], "must be between \(SandboxDefinition.cpusRange.lowerBound) and \(Int(SandboxDefinition.cpusRange.upperBound)), got \(cpus)")
            }
            if let megabytes = sandbox.diskMB, !SandboxDefinition.diskMBRange.contains(megabytes) {
                throw fail(["sandbox", "disk_mb"], "must be between \(SandboxDefinition.diskMBRange.lowerBound) and \(SandboxDefinition.diskMBRange.upperBound) MiB, got \(megabytes)")
            }
        }
        for (name, model) in task.modelRoles where !model.contains("/") && model != "local" {
            throw fail(["model_roles", name], "a model is named provider/name, got '\(model)'")
        }
    }

    /// The roles a task's solvers and scorers call, so that missing bindings fail before any model call.
    public var requiredRoles: [String] {
        var roles: [String] = []
        for solver in definition.solvers {
            if case .selfCritique(let options) = solver, let role = options.role { roles.append(role) }
        }
        for scorer in definition.scorers {
            if case .modelGraded(let options) = scorer { roles.append(options.role) }
        }
        return Array(Set(roles)).sorted()
    }

    fileprivate static func describe(_ error: DecodingError) -> ([String], String) {
        switch error {
        case .keyNotFound(let key, let context):
            return (context.codingPath.map(\.yamlName) + [key.stringValue], "missing required field '\(key.stringValue)'")
        case .typeMismatch(let type, let context):
            return (context.codingPath.map(\.yamlName), "expected \(typeName(type))")
        case .valueNotFound(let type, let context):
            return (context.codingPath.map(\.yamlName), "expected \(typeName(type)), found nothing")
        case .dataCorrupted(let context):
            return (context.codingPath.map(\.yamlName), context.debugDescription)
        @unknown default:
            return ([], "\(error)")
        }
    }

    private static func typeName(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: return "text"
        case is Int.Type, is UInt64.Type: return "a whole number"
        case is Double.Type: return "a number"
        case is Bool.Type: return "true or false"
        default:
            let name = "\(type)"
            if name.hasPrefix("Array") { return "a list" }
            if name.hasPrefix("Dictionary") { return "a map" }
            return "a \(name)"
        }
    }

    fileprivate static func describe(_ error: YamlError) -> String {
        switch error {
        case .scanner(_, let problem, _, _), .parser(_, let problem, _, _), .composer(_, let problem, _, _):
            return problem
        default:
            return "\(error)"
        }
    }

    fileprivate static func line(of error: YamlError) -> Int? {
        switch error {
        case .scanner(_, _, let mark, _), .parser(_, _, let mark, _), .composer(_, _, let mark, _):
            return mark.line
        default:
            return nil
        }
    }
}

extension CodingKey {
    /// The key as written in YAML: list positions as numbers.
    var yamlName: String { intValue.map(String.init) ?? stringValue }
}

/// Finds where a field is written in a YAML text, so that errors point at a line.
public enum YAMLLocation {
    /// Decodes a YAML document; a syntax or decoding error becomes an `EvalError` with `code`
    /// that names the file, the line and the field.
    public static func decode<T: Decodable>(_ type: T.Type, from text: String, file: String, code: EvalError.Code) throws -> T {
        do {
            return try YAMLDecoder().decode(T.self, from: text)
        } catch DecodingError.dataCorrupted(let context) where context.underlyingError is YamlError {
            let error = context.underlyingError as! YamlError
            throw EvalError(code, "not valid YAML: \(TaskFile.describe(error))", file: file, line: TaskFile.line(of: error))
        } catch let error as DecodingError {
            let (path, message) = TaskFile.describe(error)
            throw EvalError(code, message, file: file, line: line(of: path, in: text), field: dotted(path))
        } catch let error as YamlError {
            throw EvalError(code, "not valid YAML: \(TaskFile.describe(error))", file: file, line: TaskFile.line(of: error))
        } catch {
            throw EvalError(code, "\(error)", file: file)
        }
    }

    /// An error about the field at `path` of a YAML document, pointing at its line.
    public static func error(_ code: EvalError.Code, _ message: String, file: String, text: String, path: [String]) -> EvalError {
        EvalError(code, message, file: file, line: line(of: path, in: text), field: dotted(path))
    }

    /// The line of the deepest node on `path` that exists (1-based).
    public static func line(of path: [String], in text: String) -> Int? {
        guard let root = try? Yams.compose(yaml: text) else { return nil }
        var node = root
        var line = root.mark?.line
        for (position, component) in path.enumerated() {
            if let index = Int(component), let sequence = node.sequence {
                guard index < sequence.count else { break }
                node = sequence[index]
            } else if let mapping = node.mapping {
                guard let pair = mapping.first(where: { $0.key.string == component }) else { break }
                // Point at the key for a scalar value, the value's own line for nested ones.
                line = pair.key.mark?.line
                node = pair.value
                if node.scalar != nil || position == path.count - 1 { continue }
            } else {
                break
            }
            line = node.mark?.line ?? line
        }
        return line
    }

    /// `solvers[1].multiple_choice.shuffle` from a coding path.
    public static func dotted(_ path: [String]) -> String {
        var result = ""
        for component in path {
            if Int(component) != nil {
                result += "[\(component)]"
            } else {
                result += result.isEmpty ? component : ".\(component)"
            }
        }
        return result
    }
}
