import AirlockCore
import Crypto
import Foundation
import Logging

/// Model responses on disk, one file per request, keyed by the SHA-256 of the model, its base URL,
/// the messages, tools, settings and epoch. Writes are atomic, so a crash never leaves a torn entry.
public struct ResponseCache: Sendable {
    public let directory: String

    public init(directory: String) throws {
        self.directory = directory
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw EvalError(.io, "cannot create the cache folder: \(error.localizedDescription)", file: directory)
        }
    }

    private struct KeyMaterial: Encodable {
        var model: String
        var baseURL: String
        var request: ModelRequest
        var epoch: Int
    }

    public func key(model: String, baseURL: String, request: ModelRequest, epoch: Int) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let material = (try? encoder.encode(KeyMaterial(model: model, baseURL: baseURL, request: request, epoch: epoch))) ?? Data()
        return Hex.string(SHA256.hash(data: material))
    }

    private func path(_ key: String) -> String {
        "\(directory)/\(key.prefix(2))/\(key).json"
    }

    public func read(_ key: String) -> ModelOutput? {
        guard let data = FileManager.default.contents(atPath: path(key)) else { return nil }
        return try? JSONDecoder().decode(ModelOutput.self, from: data)
    }

    public func write(_ key: String, _ output: ModelOutput, logger: Logger) {
        do {
            let data = try JSONEncoder().encode(output)
            try FileManager.default.createDirectory(atPath: "\(directory)/\(key.prefix(2))", withIntermediateDirectories: true)
            try AtomicFile.write(data, to: path(key))
        } catch {
            // A cache that cannot be written only costs speed later.
            logger.warning("cannot write to the response cache", metadata: ["error": "\(error)"])
        }
    }
}
