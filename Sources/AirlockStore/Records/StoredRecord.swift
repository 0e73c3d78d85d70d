import CompressNIO
import Foundation
import NIOCore

/// How a result's record is kept. Agentic transcripts run to megabytes of JSON, which gzip
/// shrinks about tenfold, so a record past ``compressionThreshold`` bytes is kept compressed, as
/// `BYTES:BASE64` (its length, then the gzip stream in base64: the same text column on SQLite
/// and PostgreSQL); a smaller one as it came. The length bounds what reading may expand to and
/// tells a stream cut short, which the decompressor would return without an error.
enum StoredRecord {
    enum Encoding: String {
        case json
        case gzipBase64 = "gzip+base64"
    }

    static let compressionThreshold = 16 * 1024
    /// The most a kept record may expand to: past the API's 32 MiB limit on a result, so a
    /// record that claims more is corrupt (or a bomb), not a transcript.
    static let maximumExpandedBytes = 64 * 1024 * 1024

    static func encode(_ record: String) throws -> (text: String, encoding: Encoding) {
        let bytes = record.utf8.count
        guard bytes >= compressionThreshold else { return (record, .json) }
        var input = ByteBuffer(string: record)
        let compressed = try input.compress(with: .gzip())
        return ("\(bytes):" + Data(compressed.readableBytesView).base64EncodedString(), .gzipBase64)
    }

    /// The record as it came; `what` names it in errors.
    static func decode(_ text: String, encoding: String, what: @autoclosure () -> String) throws -> String {
        switch Encoding(rawValue: encoding) {
        case .json:
            return text
        case .gzipBase64:
            let parts = text.split(separator: ":", maxSplits: 1)
            guard parts.count == 2, let bytes = Int(parts[0]), (0...maximumExpandedBytes).contains(bytes) else {
                throw StoreError(.corruptRecord, "\(what()): the compressed record does not start with its length (at most \(maximumExpandedBytes))")
            }
            guard let data = Data(base64Encoded: String(parts[1])) else {
                throw StoreError(.corruptRecord, "\(what()): the compressed record is not base64")
            }
            var input = ByteBuffer(bytes: data)
            let expanded: ByteBuffer
            do {
                expanded = try input.decompress(with: .gzip(), maxSize: bytes + 1)
            } catch {
                throw StoreError(.corruptRecord, "\(what()): the compressed record does not expand to its \(bytes) bytes (\(error))")
            }
            guard expanded.readableBytes == bytes else {
                throw StoreError(.corruptRecord, "\(what()): the compressed record expands to \(expanded.readableBytes) bytes, not \(bytes)")
            }
            return String(buffer: expanded)
        case nil:
            throw StoreError(.corruptRecord, "\(what()): unknown record encoding '\(encoding)'")
        }
    }
}
