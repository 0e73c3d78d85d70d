import AirlockCore

/// A TAXII request that cannot be answered as asked: the HTTP status to send, and a message that
/// names the parameter and the value at fault.
///
/// It renders as the TAXII 2.1 error message resource (``jsonBytes``), served with
/// ``TAXIIMediaType/taxii`` as its content type. Codes wrap a private enum so that new ones can be
/// added without breaking callers. Messages describe the request, never the server's internals.
public struct TAXIIError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What kind of error, and so its HTTP status and title.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case invalidParameter = "invalid_parameter"
            case unsupportedParameter = "unsupported_parameter"
            case invalidNextToken = "invalid_next"
            case filtersChanged = "filters_changed"
            case malformedContent = "malformed_content"
            case unprocessableContent = "unprocessable_content"
            case contentTooLarge = "content_too_large"
            case notAcceptable = "not_acceptable"
            case unsupportedMediaType = "unsupported_media_type"
            case unauthorized
            case forbidden
            case notFound = "not_found"
        }

        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// A query parameter has a value it does not allow (400).
        public static let invalidParameter = Code(.invalidParameter)
        /// A query parameter is unknown, not supported by this endpoint, or given twice (400).
        public static let unsupportedParameter = Code(.unsupportedParameter)
        /// `next` is not a token this server issued, or it was damaged (400).
        public static let invalidNextToken = Code(.invalidNextToken)
        /// `next` was issued for other filters, another endpoint or another collection (400).
        public static let filtersChanged = Code(.filtersChanged)
        /// The request body is not JSON (400).
        public static let malformedContent = Code(.malformedContent)
        /// The request body is JSON but not a TAXII envelope that can be processed (422).
        public static let unprocessableContent = Code(.unprocessableContent)
        /// The request body is larger than the API root's `max_content_length` (413).
        public static let contentTooLarge = Code(.contentTooLarge)
        /// `Accept` names no TAXII 2.1 media type (406).
        public static let notAcceptable = Code(.notAcceptable)
        /// `Content-Type` of a POST is not the TAXII 2.1 media type (415).
        public static let unsupportedMediaType = Code(.unsupportedMediaType)
        /// No credentials, or credentials that are not valid (401).
        public static let unauthorized = Code(.unauthorized)
        /// Authenticated, but the collection may not be read or written by this caller (403).
        public static let forbidden = Code(.forbidden)
        /// No such API root, collection, object or status (404).
        public static let notFound = Code(.notFound)

        /// The HTTP status that goes with the code.
        public var httpStatus: Int {
            switch base {
            case .invalidParameter, .unsupportedParameter, .invalidNextToken, .filtersChanged, .malformedContent: 400
            case .unauthorized: 401
            case .forbidden: 403
            case .notFound: 404
            case .notAcceptable: 406
            case .contentTooLarge: 413
            case .unsupportedMediaType: 415
            case .unprocessableContent: 422
            }
        }

        /// The error resource's `title`.
        public var title: String {
            switch base {
            case .invalidParameter: "Invalid query parameter"
            case .unsupportedParameter: "Unsupported query parameter"
            case .invalidNextToken: "Invalid next token"
            case .filtersChanged: "Filters changed between pages"
            case .malformedContent: "Malformed request body"
            case .unprocessableContent: "Unprocessable request body"
            case .contentTooLarge: "Request body too large"
            case .notAcceptable: "Not acceptable"
            case .unsupportedMediaType: "Unsupported media type"
            case .unauthorized: "Unauthorized"
            case .forbidden: "Forbidden"
            case .notFound: "Not found"
            }
        }

        /// The error resource's `error_code` (`"invalid_parameter"`).
        public var description: String { base.rawValue }
    }

    public var code: Code
    /// What is wrong, for people: the error resource's `description`.
    public var message: String
    /// The query parameter or header at fault (`"limit"`, `"Accept"`), when there is one.
    public var parameter: String?
    /// The value at fault as the client sent it, cut to ``valueLimit`` characters.
    public var value: String?

    /// The longest value an error repeats back.
    public static let valueLimit = 200

    public init(_ code: Code, _ message: String, parameter: String? = nil, value: String? = nil) {
        self.code = code
        self.message = message
        self.parameter = parameter
        self.value = value.map { $0.count > Self.valueLimit ? String($0.prefix(Self.valueLimit)) + "…" : $0 }
    }

    /// The HTTP status to answer with.
    public var httpStatus: Int { code.httpStatus }

    public var description: String { message }

    /// No API root, collection, object or status of that name (`what`: `"collection 'x'"`).
    public static func notFound(_ what: String) -> TAXIIError {
        TAXIIError(.notFound, "No \(what) is here.")
    }

    /// The body is longer than the API root allows.
    public static func contentTooLarge(length: Int, maximum: Int) -> TAXIIError {
        TAXIIError(
            .contentTooLarge, "The request body has \(length) bytes; this API root accepts at most \(maximum).",
            parameter: "Content-Length", value: String(length))
    }
}

extension TAXIIError {
    /// The TAXII 2.1 error message resource: `title`, `description`, `error_code`, `http_status`
    /// (a string, as medallion sends it) and, when a parameter is at fault, `details`.
    public var jsonBytes: [UInt8] {
        var writer = JSONWriter(capacity: 128 + message.utf8.count)
        writer.beginObject()
        writer.field("title", code.title)
        writer.field("description", message)
        writer.field("error_code", code.description)
        writer.field("http_status", String(httpStatus))
        if parameter != nil || value != nil {
            writer.key("details")
            writer.beginObject()
            writer.field("parameter", ifPresent: parameter)
            writer.field("value", ifPresent: value)
            writer.endObject()
        }
        writer.endObject()
        return writer.bytes
    }
}
