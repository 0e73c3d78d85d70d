import AirlockCore
import AirlockServer
import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

/// Times in request bodies: a malformed one is a 400 naming the field, never a crash. The old
/// parser matched `\d` (any script's digits) and then force-unwrapped `Int(...)` on them.
@Suite struct APITimestampTests {
    @Test(arguments: [
        "٢٠٢٧-01-01T00:00:00Z", "2027-٠١-01T00:00:00Z", "2027-01-01T00:00:٠٠Z", "2027-01-01T00:00:00.٥Z",
        "2027-01-01T00:00:00+٠١:00", "2027-02-30T00:00:00Z", "0000-01-01T00:00:00Z", "2027-01-01T00:00:00.1234567890Z",
        "2027-01-01T00:00:00+24:00",
    ])
    func aMalformedTimeIsABadRequest(_ time: String) async throws {
        try await withProgramAPI { world, client in
            let (status, body, _) = try await client.call(
                .post, "/api/v1/commitments", as: world.member(.developer, .admin),
                json: #"{"terms":"We share.","effective_from":"\#(time)"}"#)
            #expect(status == .badRequest, "\(body)")
            #expect(body.contains(#""field":"effective_from""#), "\(body)")
        }
    }

    @Test func aTimeWithAnOffsetIsRead() async throws {
        try await withProgramAPI { world, client in
            let (status, body, _) = try await client.call(
                .post, "/api/v1/commitments", as: world.member(.developer, .admin),
                json: #"{"terms":"We share.","effective_from":"2027-01-01T01:30:00.5+01:30"}"#)
            #expect(status == .created, "\(body)")
            #expect(body.contains(#""effective_from":"2027-01-01T00:00:00.500Z""#), "\(body)")
        }
    }
}
