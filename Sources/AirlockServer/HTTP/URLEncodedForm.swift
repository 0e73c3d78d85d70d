import Foundation

/// `application/x-www-form-urlencoded` text: a form's body, or a query string as a browser's
/// GET form (and most HTTP clients) writes it, with `+` for a space.
enum URLEncodedForm {
    /// The fields by name; a name given twice is refused (which of the two is meant?).
    static func fields(_ text: String) throws -> [String: String] {
        var fields: [String: String] = [:]
        for pair in text.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decoded(_ text: Substring) throws -> String {
                guard let value = text.replacingOccurrences(of: "+", with: " ").removingPercentEncoding else {
                    throw ProblemDetails.badRequest("a form field is not percent-encoded")
                }
                return value
            }
            let name = try decoded(parts[0])
            guard fields[name] == nil else { throw ProblemDetails.badRequest("the field \(name.prefix(40)) is given twice", field: String(name.prefix(40))) }
            fields[name] = parts.count > 1 ? try decoded(parts[1]) : ""
        }
        return fields
    }
}

extension Dictionary where Key == String, Value == String {
    /// A field's value, nil when it is missing or empty (a form's blank input).
    func filled(_ name: String) -> String? {
        guard let value = self[name], !value.isEmpty else { return nil }
        return value
    }
}
