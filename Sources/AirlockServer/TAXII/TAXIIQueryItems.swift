import AirlockExchange
import Foundation

/// The query string of a TAXII request as name and value pairs, both percent-decoded (clients
/// send `match%5Btype%5D=indicator`), `+` read as a space, in order, repeats kept.
enum TAXIIQueryItems {
    static func parse(_ query: String?) throws(TAXIIError) -> [(name: String, value: String)] {
        guard let query, !query.isEmpty else { return [] }
        var items: [(name: String, value: String)] = []
        for part in query.split(separator: "&", omittingEmptySubsequences: true) {
            let name: Substring
            let value: Substring
            if let equals = part.firstIndex(of: "=") {
                name = part[..<equals]
                value = part[part.index(after: equals)...]
            } else {
                name = part
                value = ""
            }
            guard let decodedName = decode(name), let decodedValue = decode(value) else {
                throw TAXIIError(
                    .invalidParameter, "The query string has a malformed percent-encoding.", parameter: String(name), value: String(value))
            }
            items.append((decodedName, decodedValue))
        }
        return items
    }

    private static func decode(_ text: Substring) -> String? {
        if !text.contains("%") && !text.contains("+") { return String(text) }
        return text.replacingOccurrences(of: "+", with: " ").removingPercentEncoding
    }
}
