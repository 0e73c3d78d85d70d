import Foundation
import HummingbirdOTP

/// A user's time-based one-time codes (RFC 6238, as authenticator apps make them: HMAC-SHA-1,
/// six digits, a new code every 30 seconds). A pure rule, tested without I/O.
struct OneTimeCodes: Sendable {
    static let stepSeconds: Int64 = 30
    /// Codes of the step before and after now are taken too: a phone's clock a little off, or a
    /// code typed as it changed.
    static let skewSteps: Int64 = 1

    /// The secret: its UTF-8 bytes are the HMAC key, and it goes to the app in base32.
    let secret: String

    /// 32 characters of the base32 alphabet: 160 bits, as RFC 4226 recommends.
    static func newSecret() -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
        var generator = SystemRandomNumberGenerator()
        return String((0..<32).map { _ in alphabet[Int(generator.next(upperBound: UInt32(alphabet.count)))] })
    }

    static func step(at date: Date) -> Int64 { Int64((date.timeIntervalSince1970 / Double(stepSeconds)).rounded(.down)) }

    func code(atStep step: Int64) -> String {
        let value = TOTP(secret: secret).compute(date: Date(timeIntervalSince1970: Double(step * Self.stepSeconds)))
        let digits = String(value)
        return String(repeating: "0", count: max(0, 6 - digits.count)) + digits
    }

    /// The step whose code this is, near `date` and after `lastStep` (a code is good once);
    /// nil when it matches none. Spaces in the code are ignored, as apps show `123 456`.
    func step(matching code: String, at date: Date, after lastStep: Int64) -> Int64? {
        let code = code.filter { $0 != " " }
        guard code.count == 6, code.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        let now = Self.step(at: date)
        for step in (now - Self.skewSteps)...(now + Self.skewSteps) where step > lastStep {
            if WebPages.sameSecret(self.code(atStep: step), code) { return step }
        }
        return nil
    }

    /// What an authenticator app reads (as text: typed in, or pasted).
    func authenticatorURL(account: String) -> String {
        TOTP(secret: secret).createAuthenticatorURL(label: "Airlock:" + account, issuer: "Airlock")
    }

    /// The secret as an app's "enter a key" field takes it: base32 of its bytes, in groups of four.
    var typedKey: String {
        let base32 = URL(string: authenticatorURL(account: "x"))
            .flatMap { URLComponents(url: $0, resolvingAgainstBaseURL: false)?.queryItems?.first { $0.name == "secret" }?.value } ?? ""
        return stride(from: 0, to: base32.count, by: 4).map { start in
            let from = base32.index(base32.startIndex, offsetBy: start)
            return String(base32[from..<(base32.index(from, offsetBy: 4, limitedBy: base32.endIndex) ?? base32.endIndex)])
        }.joined(separator: " ")
    }
}
