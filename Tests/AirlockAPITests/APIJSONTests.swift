import AirlockAPI
import AirlockCore
import Foundation
import Testing

/// The API's JSON coding: the keys a client writes are the keys the server reads, both ways.
@Suite struct APIJSONTests {
    @Test(arguments: [
        ("cvss_v3_1", "cvssV3_1"), ("cvss_v4_0", "cvssV4_0"), ("model_version_id", "modelVersionId"), ("to", "to"),
        ("_private", "_private"), ("trailing_", "trailing_"), ("a__b", "aB"), ("_", "_"), ("", ""),
    ])
    func keysReadAsPropertyNames(_ key: String, _ property: String) {
        #expect(APIJSON.camelCase(key) == property)
    }

    @Test func aFindingRoundTripsWithItsCVSSKeys() throws {
        let finding = NewFinding(
            modelVersionId: "ver_1", kind: .thirdPartyVulnerability, title: "t", description: "d",
            affectedProducts: [AffectedProduct(vendor: "v", name: "n", versions: ["1"], fixedVersion: "2")],
            cvssV3_1: "CVSS:3.1/AV:N", cvssV4_0: "CVSS:4.0/AV:N", evidence: [FindingEvidence(text: "e", runId: "run_1")])
        let data = try APIJSON.encoder.encode(finding)
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(Set(object.keys) == ["model_version_id", "kind", "title", "description", "affected_products", "cvss_v3_1", "cvss_v4_0", "evidence"])
        let read = try APIJSON.decoder.decode(NewFinding.self, from: data)
        #expect(read.cvssV3_1 == "CVSS:3.1/AV:N")
        #expect(read.cvssV4_0 == "CVSS:4.0/AV:N")
        #expect(read.affectedProducts.first?.fixedVersion == "2")
        #expect(read.evidence.first?.runId == "run_1")
    }

    @Test func timesAreRFC3339WithMilliseconds() throws {
        let grant = NewGrant(
            versionId: "ver_1", granteeId: "org_1", purpose: .redTeaming, startsAt: Date(timeIntervalSince1970: 1_803_859_200.25),
            endsAt: Date(timeIntervalSince1970: 1_803_945_600), tokenQuota: 1000, requestsPerMinute: 10)
        let text = String(decoding: try APIJSON.encoder.encode(grant), as: UTF8.self)
        #expect(text.contains(#""starts_at":"2027-03-01T00:00:00.250Z""#), "\(text)")
        #expect(try APIJSON.decoder.decode(NewGrant.self, from: Data(text.utf8)).startsAt == grant.startsAt)
        let bad = text.replacingOccurrences(of: "2027-03-01T00:00:00.250Z", with: "٢٠٢٧-03-01T00:00:00Z")
        #expect(throws: DecodingError.self) { try APIJSON.decoder.decode(NewGrant.self, from: Data(bad.utf8)) }
    }

    @Test func problemsCarryTheirCode() throws {
        let problem = Problem(code: "not-found", title: "Not Found", status: 404, detail: "no model with that id")
        #expect(problem.type == "urn:airlock:problem:not-found")
        #expect(problem.code == "not-found")
        #expect(problem.description == "404 Not Found: no model with that id")
        let read = try APIJSON.decoder.decode(Problem.self, from: APIJSON.encoder.encode(problem))
        #expect(read == problem)
        #expect(Problem(type: "about:blank", title: "Bad Gateway", status: 502, detail: "").code == nil)
    }

    @Test func pagesOmitTheCursorOnTheLastPage() throws {
        let last = ListPage(items: [CaseTriage(note: "n")])
        #expect(String(decoding: try APIJSON.encoder.encode(last), as: UTF8.self) == #"{"items":[{"note":"n"}]}"#)
        let next = try APIJSON.decoder.decode(ListPage<CaseTriage>.self, from: Data(#"{"items":[],"next_cursor":"abc"}"#.utf8))
        #expect(next.nextCursor == "abc")
    }
}
