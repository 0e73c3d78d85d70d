import AirlockCore
import Crypto
import Foundation

/// Seals model endpoint credentials at rest with AES-GCM under the configured key.
///
/// The key comes from configuration (a secret); sealed values carry a version prefix so the key
/// can be rotated later.
public struct CredentialSealer: Sendable {
    private let key: SymmetricKey

    /// `base64Key` is 32 random bytes in base64 (`openssl rand -base64 32`).
    public init(base64Key: String) throws(StoreError) {
        guard let data = Data(base64Encoded: base64Key.trimmingCharacters(in: .whitespacesAndNewlines)), data.count == 32
        else {
            throw StoreError(.invalidConfiguration, "the credentials key must be 32 bytes in base64")
        }
        key = SymmetricKey(data: data)
    }

    public init(key: SymmetricKey) { self.key = key }

    public func seal(_ plaintext: String, context: String) throws -> String {
        let box = try AES.GCM.seal(Data(plaintext.utf8), using: key, authenticating: Data(context.utf8))
        guard let combined = box.combined else { throw StoreError(.sealing, "cannot seal credentials") }
        return "v1:" + combined.base64EncodedString()
    }

    /// Opens a sealed value; `context` (the version id) must match the one it was sealed with,
    /// so a sealed value copied onto another record does not open.
    public func open(_ sealed: String, context: String) throws -> String {
        guard sealed.hasPrefix("v1:"), let data = Data(base64Encoded: String(sealed.dropFirst(3))) else {
            throw StoreError(.sealing, "sealed credentials are malformed")
        }
        do {
            let box = try AES.GCM.SealedBox(combined: data)
            return String(decoding: try AES.GCM.open(box, using: key, authenticating: Data(context.utf8)), as: UTF8.self)
        } catch {
            throw StoreError(.sealing, "sealed credentials do not open with the configured key")
        }
    }
}

/// How secrets (API keys, sessions) are stored: their SHA-256, so the table alone grants nothing.
public enum SecretDigest {
    public static func of(_ secret: String) -> String {
        Hex.string(SHA256.hash(data: Data(secret.utf8)))
    }
}
