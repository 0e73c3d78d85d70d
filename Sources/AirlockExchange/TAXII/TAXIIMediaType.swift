/// The TAXII 2.1 and STIX media types, and the `Accept` and `Content-Type` checks.
///
/// Every TAXII response, errors included, is served as ``taxii``: taxii2-client 2.3.0 refuses a
/// response whose `Content-Type` does not start with `application/taxii+json` and carry
/// `version=2.1`.
public enum TAXIIMediaType {
    /// `application/taxii+json;version=2.1`: every TAXII resource, and the body of a POST.
    public static let taxii = "application/taxii+json;version=2.1"
    /// `application/stix+json;version=2.1`: STIX 2.1 content (collection `media_types`, manifest
    /// `media_type`).
    public static let stix = "application/stix+json;version=2.1"

    /// The STIX media type for a spec version (`"2.1"` gives ``stix``).
    public static func stix(specVersion: String) -> String {
        specVersion == "2.1" ? stix : "application/stix+json;version=" + specVersion
    }

    /// Which `Accept` headers pass beside an explicit TAXII 2.1 media range.
    public enum AcceptPolicy: Sendable, Hashable {
        /// HTTP's reading (RFC 9110 §12.5.1): no `Accept` header, `*/*` and `application/*` accept
        /// anything, so TAXII too. The default: curl and browsers work, and a client that asks for
        /// TAXII 2.0 or plain JSON still gets 406.
        case lenient
        /// medallion 3.0.0's: only `application/taxii+json`, bare or with `version=2.1`.
        case strict
    }

    /// Whether a response in ``taxii`` satisfies the request's `Accept` header (`nil` when the
    /// request has none).
    ///
    /// Each media range is read with its parameters: `application/taxii+json` matches with no
    /// `version` (which means the newest, 2.1) or with `version=2.1`; other parameters (`charset`)
    /// are ignored; `q=0` excludes a range; type names and parameter names are compared without
    /// case; spaces around `;`, `,` and `=` are allowed.
    public static func acceptable(accept: String?, policy: AcceptPolicy = .lenient) -> Bool {
        guard let accept, !accept.allSatisfy(\.isWhitespace) else { return policy == .lenient }
        for range in TAXIIMediaRange.list(accept) {
            if let quality = range.parameters["q"], let value = Double(quality), value <= 0 { continue }
            switch (range.type, range.subtype) {
            case ("application", "taxii+json"):
                if let version = range.parameters["version"], version != "2.1" { continue }
                return true
            case ("*", "*"), ("application", "*"):
                if policy == .lenient { return true }
            default:
                continue
            }
        }
        return false
    }

    /// Throws 406 unless ``acceptable(accept:policy:)``.
    public static func checkAccept(_ accept: String?, policy: AcceptPolicy = .lenient) throws(TAXIIError) {
        guard !acceptable(accept: accept, policy: policy) else { return }
        throw TAXIIError(
            .notAcceptable, "This server answers only in \(taxii); the Accept header names no TAXII 2.1 media type.",
            parameter: "Accept", value: accept)
    }

    /// Whether a POST body's `Content-Type` is the TAXII 2.1 envelope type:
    /// `application/taxii+json` bare or with `version=2.1`, optionally with `charset=utf-8`;
    /// nothing else (no other parameter, no wildcard).
    public static func acceptableContentType(_ contentType: String?) -> Bool {
        guard let contentType, let range = TAXIIMediaRange(contentType),
              range.type == "application", range.subtype == "taxii+json"
        else { return false }
        for (name, value) in range.parameters {
            switch name {
            case "version" where value == "2.1": continue
            case "charset" where value.lowercased() == "utf-8": continue
            default: return false
            }
        }
        return true
    }

    /// Throws 415 unless ``acceptableContentType(_:)``.
    public static func checkContentType(_ contentType: String?) throws(TAXIIError) {
        guard !acceptableContentType(contentType) else { return }
        throw TAXIIError(
            .unsupportedMediaType,
            contentType == nil
                ? "A POST body must be sent with Content-Type \(taxii)."
                : "A POST body must be sent with Content-Type \(taxii), not the type given.",
            parameter: "Content-Type", value: contentType)
    }
}

/// One media range of an `Accept` list, or a `Content-Type` value: lower-cased type and subtype,
/// parameters by lower-cased name with quotes removed.
struct TAXIIMediaRange {
    var type: String
    var subtype: String
    var parameters: [String: String]

    /// Reads `type/subtype *(; name=value)`; `nil` when it is not of that form.
    init?(_ text: some StringProtocol) {
        let parts = Self.split(String(text), on: ";")
        guard let first = parts.first else { return nil }
        let names = first.split(separator: "/", omittingEmptySubsequences: false)
        guard names.count == 2 else { return nil }
        let type = names[0].taxiiTrimmed.lowercased()
        let subtype = names[1].taxiiTrimmed.lowercased()
        guard !type.isEmpty, !subtype.isEmpty else { return nil }
        var parameters: [String: String] = [:]
        for part in parts.dropFirst() {
            let trimmed = part.taxiiTrimmed
            if trimmed.isEmpty { continue }
            guard let equals = trimmed.firstIndex(of: "=") else { return nil }
            let name = trimmed[..<equals].taxiiTrimmed.lowercased()
            var value = trimmed[trimmed.index(after: equals)...].taxiiTrimmed
            if value.count >= 2, value.hasPrefix("\""), value.hasSuffix("\"") {
                value = String(value.dropFirst().dropLast()).taxiiUnescaped
            }
            guard !name.isEmpty else { return nil }
            parameters[name] = value
        }
        self.type = type
        self.subtype = subtype
        self.parameters = parameters
    }

    /// The ranges of an `Accept` header; ranges that do not read are skipped.
    static func list(_ header: String) -> [TAXIIMediaRange] {
        split(header, on: ",").compactMap { TAXIIMediaRange($0) }
    }

    /// Splits on a separator outside double-quoted strings.
    private static func split(_ text: String, on separator: Character) -> [String] {
        var parts: [String] = []
        var current = ""
        var quoted = false
        var escaped = false
        for character in text {
            if escaped {
                escaped = false
            } else if quoted && character == "\\" {
                escaped = true
            } else if character == "\"" {
                quoted.toggle()
            } else if character == separator && !quoted {
                parts.append(current)
                current = ""
                continue
            }
            current.append(character)
        }
        parts.append(current)
        return parts
    }
}

extension StringProtocol {
    fileprivate var taxiiTrimmed: String {
        String(self).trimmingTAXIIWhitespace
    }
}

extension String {
    /// The string without leading and trailing spaces and tabs.
    var trimmingTAXIIWhitespace: String {
        var slice = Substring(self)
        while let first = slice.first, first == " " || first == "\t" { slice = slice.dropFirst() }
        while let last = slice.last, last == " " || last == "\t" { slice = slice.dropLast() }
        return String(slice)
    }

    fileprivate var taxiiUnescaped: String {
        var result = ""
        var escaped = false
        for character in self {
            if !escaped && character == "\\" {
                escaped = true
                continue
            }
            escaped = false
            result.append(character)
        }
        return result
    }
}
