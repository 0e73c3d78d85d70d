/// An error response as RFC 9457 problem details (`application/problem+json`), as it travels.
public struct Problem: Codable, Sendable, Hashable, CustomStringConvertible {
    /// `urn:airlock:problem:CODE`.
    public var type: String
    /// The HTTP status's reason phrase.
    public var title: String
    public var status: Int
    /// What the client did wrong, for people; never internals.
    public var detail: String
    /// The request field the problem is about, when there is one.
    public var field: String?

    public init(type: String, title: String, status: Int, detail: String, field: String? = nil) {
        self.type = type
        self.title = title
        self.status = status
        self.detail = detail
        self.field = field
    }

    /// Problem details with the type `urn:airlock:problem:CODE`.
    public init(code: String, title: String, status: Int, detail: String, field: String? = nil) {
        self.init(type: Self.typePrefix + code, title: title, status: status, detail: detail, field: field)
    }

    /// The short code of an Airlock problem type; nil for another type.
    public var code: String? {
        type.hasPrefix(Self.typePrefix) ? String(type.dropFirst(Self.typePrefix.count)) : nil
    }

    /// `STATUS TITLE: DETAIL (field FIELD)`, as a client tells a person.
    public var description: String {
        "\(status) \(title)" + (detail.isEmpty ? "" : ": \(detail)") + (field.map { " (field \($0))" } ?? "")
    }

    static let typePrefix = "urn:airlock:problem:"
}
