/// An error from the program store, with a code to act on and a message for people.
///
/// Codes wrap a private enum so that new ones can be added without breaking callers.
public struct StoreError: Error, Hashable, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case invalidConfiguration, notFound, conflict, migrationFailed, corruptRecord, sealing
        }

        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// A database URL, path or key is unusable.
        public static let invalidConfiguration = Code(.invalidConfiguration)
        /// No record with that id.
        public static let notFound = Code(.notFound)
        /// A unique name or key is already taken.
        public static let conflict = Code(.conflict)
        /// A migration could not be applied, or the database is newer than this program.
        public static let migrationFailed = Code(.migrationFailed)
        /// A stored value does not parse.
        public static let corruptRecord = Code(.corruptRecord)
        /// Sealed credentials cannot be opened with the configured key.
        public static let sealing = Code(.sealing)

        public var description: String { base.rawValue }
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
