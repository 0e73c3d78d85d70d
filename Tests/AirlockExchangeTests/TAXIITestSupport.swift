import AirlockExchange
import Foundation
import Testing

/// A decoded JSON value, to compare what the TAXII writers produce with what they should.
indirect enum TAXIITestJSON: Equatable, Decodable, CustomStringConvertible {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([TAXIITestJSON])
    case object([String: TAXIITestJSON])

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([TAXIITestJSON].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: TAXIITestJSON].self))
        }
    }

    /// Decodes bytes; fails the test (and returns `.null`) when they are not JSON.
    static func decode(_ bytes: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) -> TAXIITestJSON {
        do {
            return try JSONDecoder().decode(TAXIITestJSON.self, from: Data(bytes))
        } catch {
            Issue.record("not JSON: \(String(decoding: bytes, as: UTF8.self)) (\(error))", sourceLocation: sourceLocation)
            return .null
        }
    }

    static func decode(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) -> TAXIITestJSON {
        decode(Array(text.utf8), sourceLocation: sourceLocation)
    }

    subscript(key: String) -> TAXIITestJSON? {
        if case .object(let members) = self { return members[key] }
        return nil
    }

    var arrayValue: [TAXIITestJSON] {
        if case .array(let elements) = self { return elements }
        return []
    }

    var description: String {
        switch self {
        case .null: "null"
        case .bool(let value): String(value)
        case .number(let value): String(value)
        case .string(let value): "\"\(value)\""
        case .array(let elements): "[" + elements.map(\.description).joined(separator: ",") + "]"
        case .object(let members):
            "{" + members.sorted { $0.key < $1.key }.map { "\"\($0.key)\":\($0.value)" }.joined(separator: ",") + "}"
        }
    }
}

/// Fixtures for the TAXII tests.
enum TAXIIFixture {
    /// `type--` and a UUID whose last group is `n`.
    static func id(_ type: String, _ n: Int) -> String {
        let suffix = String(n)
        return type + "--8e2e2d2b-17d4-4cbf-938f-" + String(repeating: "0", count: 12 - suffix.count) + suffix
    }

    /// A timestamp `seconds` after 2020-01-01T00:00:00Z.
    static func time(_ seconds: Int64, micros: Int64 = 0) -> TAXIITimestamp {
        TAXIITimestamp(microsecondsSince1970: 1_577_836_800_000_000 + seconds * 1_000_000 + micros)
    }

    /// A record whose version is `version` seconds and which was added at `added` seconds.
    static func record(
        _ id: String, version: Int64, added: Int64, sequence: Int64, spec: String = "2.1"
    ) -> TAXIIObjectRecord {
        let versionTime = time(version)
        let type = String(id.split(separator: "-").first ?? "")
        let json = #"{"type":"\#(type)","spec_version":"\#(spec)","id":"\#(id)","created":"\#(time(0))","modified":"\#(versionTime)"}"#
        return TAXIIObjectRecord(
            id: id, type: type, specVersion: spec, version: versionTime, versionText: versionTime.description,
            dateAdded: time(added), sequence: sequence, json: Array(json.utf8))
    }

    static func query(
        _ items: [(name: String, value: String)], endpoint: TAXIIObjectEndpoint = .objects, scope: String = "root/c1",
        limits: TAXIIPageLimits = TAXIIPageLimits()
    ) throws(TAXIIError) -> TAXIIObjectQuery {
        try TAXIIObjectQuery(parsing: items, endpoint: endpoint, scope: scope, limits: limits)
    }

    /// Follows `next` from the first page to the last; returns every page.
    static func allPages(
        _ index: TAXIIObjectIndex, _ items: [(name: String, value: String)], endpoint: TAXIIObjectEndpoint = .objects,
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws -> [TAXIIObjectPage] {
        var pages = [try index.page(query(items, endpoint: endpoint))]
        while let next = pages.last?.next {
            pages.append(try index.page(query(items + [(name: "next", value: next)], endpoint: endpoint)))
            if pages.count > 10_000 {
                Issue.record("paging does not end", sourceLocation: sourceLocation)
                break
            }
        }
        return pages
    }
}

extension TAXIIError {
    /// Whether the error has this code and names this parameter.
    func matches(_ code: Code, parameter: String? = nil) -> Bool {
        self.code == code && (parameter == nil || self.parameter == parameter)
    }
}
