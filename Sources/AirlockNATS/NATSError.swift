/// Why a NATS operation failed.
public struct NATSError: Error, Hashable, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case protocolViolation, serverError, authorization, disconnected, closed, timeout, noResponders, badSubject, badHeader, tooLarge, jetStream
        }
        private let base: Base
        private init(_ base: Base) { self.base = base }
        /// The server sent bytes that are not the protocol (or past its limits).
        public static let protocolViolation = Code(.protocolViolation)
        /// The server answered `-ERR`.
        public static let serverError = Code(.serverError)
        /// The server refused the credentials.
        public static let authorization = Code(.authorization)
        /// The connection dropped while the operation waited; it may be retried.
        public static let disconnected = Code(.disconnected)
        /// The connection was closed by its owner.
        public static let closed = Code(.closed)
        public static let timeout = Code(.timeout)
        /// A request found no subscriber (status 503).
        public static let noResponders = Code(.noResponders)
        /// A subject or queue name with spaces, control bytes or empty tokens.
        public static let badSubject = Code(.badSubject)
        /// A header name or value that would break the header block (CR, LF, or a colon in a name).
        public static let badHeader = Code(.badHeader)
        /// A message over the server's `max_payload`.
        public static let tooLarge = Code(.tooLarge)
        /// A JetStream API call answered with an error.
        public static let jetStream = Code(.jetStream)
        public var description: String { base.rawValue }
    }

    public var code: Code
    public var message: String
    /// JetStream's own error code (`err_code`), when the server gave one.
    public var jetStreamCode: Int?

    public init(_ code: Code, _ message: String, jetStreamCode: Int? = nil) {
        self.code = code
        self.message = message
        self.jetStreamCode = jetStreamCode
    }

    public var description: String { "nats \(code): \(message)" }
}
