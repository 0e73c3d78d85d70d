import AirlockStore
import Foundation
import HTTPTypes

/// The secrets a call carries: the grant key in its headers, and its content sealed for the record.
extension AccessGateway {
    static let anthropicVersion = HTTPField.Name("anthropic-version")!
    /// The call's id in the gateway's record, on every answer: the evidence of a sample names
    /// the calls that produced it, and the server checks them against its record.
    public static let callIdField = HTTPField.Name("Airlock-Call-Id")!
    static let apiKey = HTTPField.Name("x-api-key")!

    /// The grant key: `Authorization: Bearer KEY` (OpenAI clients) or `x-api-key: KEY` (Anthropic's).
    static func secret(from headers: HTTPFields) -> String? {
        if let header = headers[.authorization], header.utf8.count > 7,
            header.utf8.prefix(7).lazy.map({ $0 | 0x20 }).elementsEqual("bearer ".utf8)
        {
            let token = header.utf8.dropFirst(7).drop { $0 == UInt8(ascii: " ") }
            return token.isEmpty ? nil : String(decoding: token, as: UTF8.self)
        }
        if let key = headers[apiKey], !key.isEmpty { return key }
        return nil
    }

    /// The request and response sealed under the store's credentials key, for grants that record content.
    func seal(request: Data, response: Data, callId: String) -> String? {
        let content: [String: String] = [
            "request": String(decoding: request, as: UTF8.self), "response": String(decoding: response, as: UTF8.self),
        ]
        guard let sealer = store.sealer, let data = try? JSONSerialization.data(withJSONObject: content, options: [.sortedKeys]) else {
            return nil
        }
        return try? sealer.seal(String(decoding: data, as: UTF8.self), context: callId)
    }
}
