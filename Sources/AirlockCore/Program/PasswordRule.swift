/// What a sign-in password must be: the one rule the server, `airlock db bootstrap` and the CLI
/// all check, so that none of them accepts a password another refuses.
public enum PasswordRule {
    /// The fewest characters (grapheme clusters) a password has.
    public static let minimumLength = 12
    /// The most UTF-8 bytes a password may have: bcrypt reads 72, more is only load.
    public static let maximumBytes = 1_024

    /// The rule in words, for help texts and errors.
    public static let summary = "a password has at least \(minimumLength) characters"

    /// Throws ``ProgramRuleError/Code/invalidField`` on the `password` field unless `password` keeps the rule.
    public static func check(_ password: String) throws(ProgramRuleError) {
        guard password.count >= minimumLength else {
            throw ProgramRuleError(.invalidField, summary, field: "password")
        }
        guard password.utf8.count <= maximumBytes else {
            throw ProgramRuleError(.invalidField, "must be at most \(maximumBytes) bytes", field: "password")
        }
    }
}
