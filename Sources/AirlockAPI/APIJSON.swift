import AirlockCore
import Foundation

/// The program API's JSON, for the server and its clients alike: snake_case keys, sorted, and
/// RFC 3339 times written with milliseconds and read strictly (``RFC3339/Syntax/api``).
public enum APIJSON {
    /// Writes request bodies (clients) and responses (the server).
    public static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(RFC3339.format(date))
        }
        return encoder
    }()

    /// Reads request bodies (the server) and responses (clients).
    public static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .custom { path in
            APIKey(stringValue: camelCase(path.last?.stringValue ?? ""))
        }
        decoder.dateDecodingStrategy = .custom { decoder in
            let container = try decoder.singleValueContainer()
            let text = try container.decode(String.self)
            guard let date = RFC3339.parse(text) else {
                throw DecodingError.dataCorruptedError(
                    in: container, debugDescription: "'\(text)' is not an RFC 3339 time such as 2027-03-01T00:00:00Z")
            }
            return date
        }
        return decoder
    }()

    /// A JSON key as a property name: the inverse of the encoder's `convertToSnakeCase`.
    ///
    /// As Foundation's `convertFromSnakeCase`, except that an underscore before a digit stays, so
    /// that `cvss_v3_1` names `cvssV3_1` both ways (Foundation would read it as `cvssV31`).
    public static func camelCase(_ key: String) -> String {
        guard key.contains("_") else { return key }
        let leading = key.prefix { $0 == "_" }
        let trailing = String(key.reversed().prefix { $0 == "_" })
        guard leading.count < key.count else { return key }
        let middle = key.dropFirst(leading.count).dropLast(trailing.count)
        let words = middle.split(separator: "_")
        var result = String(leading) + (words.first.map { $0.lowercased() } ?? "")
        for word in words.dropFirst() {
            guard let first = word.first else { continue }
            result += first.isASCII && first.isNumber ? "_" + word : first.uppercased() + word.dropFirst().lowercased()
        }
        return result + trailing
    }

    private struct APIKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }
}
