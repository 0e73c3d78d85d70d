/// A program rule refused a change: an invalid transition, a grant outside its window, a missing consent.
///
/// Codes wrap a private enum so that new ones can be added without breaking callers.
public struct ProgramRuleError: Error, Hashable, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case invalidTransition, invalidWindow, invalidGrantState, invalidField, conflict
        }

        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// A model version cannot move from its state to the one asked for.
        public static let invalidTransition = Code(.invalidTransition)
        /// Dates do not fit the review window or the notice.
        public static let invalidWindow = Code(.invalidWindow)
        /// A grant cannot be approved, consented, revoked or used in its current state.
        public static let invalidGrantState = Code(.invalidGrantState)
        /// A field's value is not allowed.
        public static let invalidField = Code(.invalidField)
        /// The change clashes with an existing record.
        public static let conflict = Code(.conflict)

        public var description: String { base.rawValue }
    }

    public var code: Code
    /// Why the change was refused, for people.
    public var reason: String
    /// The request field the reason is about, when there is one.
    public var field: String?

    public init(_ code: Code, _ reason: String, field: String? = nil) {
        self.code = code
        self.reason = reason
        self.field = field
    }

    public var description: String { field.map { "\($0): \(reason)" } ?? reason }
}
