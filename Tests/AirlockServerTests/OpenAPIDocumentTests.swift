import AirlockServer
import AirlockStore
import AirlockTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import Prometheus
import Testing

/// The served OpenAPI document is true to the router: the same operations, no more, no fewer.
@Suite struct OpenAPIDocumentTests {
    static let httpMethods: Set<String> = ["get", "put", "post", "delete", "patch", "head", "options"]

    @Test func documentAndRouterHaveTheSameOperations() async throws {
        let routes = try await TestBackend.sqlite.withFreshStore { store in
            ProgramApplication.router(api: ProgramAPI(store: store, configuration: ServerConfiguration()), registry: .init()).routes
                .map { "\($0.method.rawValue) /\($0.path.description.drop { $0 == "/" })" }
                // TAXII 2.1 is specified by OASIS, not by this OpenAPI document; the web UI's pages are pages.
                .filter { !$0.contains(" /taxii2") && ($0.contains(" /api/") || $0.hasSuffix(" /healthz") || $0.hasSuffix(" /metrics")) }
        }
        let document = try #require(try JSONSerialization.jsonObject(with: OpenAPIDocument.data) as? [String: Any])
        #expect(document["openapi"] as? String == "3.1.0")
        let paths = try #require(document["paths"] as? [String: [String: Any]])
        var documented: Set<String> = []
        for (path, item) in paths {
            for method in item.keys where Self.httpMethods.contains(method) {
                documented.insert("\(method.uppercased()) \(path)")
            }
        }
        let routed = Set(routes)
        #expect(routed.subtracting(documented).isEmpty, "routes missing from the document: \(routed.subtracting(documented).sorted())")
        #expect(documented.subtracting(routed).isEmpty, "documented but not routed: \(documented.subtracting(routed).sorted())")
    }

    /// Every schema a document refers to is defined in it.
    @Test func everyReferenceResolves() throws {
        let text = String(decoding: OpenAPIDocument.data, as: UTF8.self)
        let document = try #require(try JSONSerialization.jsonObject(with: OpenAPIDocument.data) as? [String: Any])
        let components = try #require(document["components"] as? [String: [String: Any]])
        let regex = try NSRegularExpression(pattern: "\"\\$ref\"\\s*:\\s*\"#/components/([A-Za-z]+)/([A-Za-z0-9_.-]+)\"")
        let matches = regex.matches(in: text, range: NSRange(text.startIndex..., in: text))
        #expect(!matches.isEmpty)
        for match in matches {
            let kind = String(text[Range(match.range(at: 1), in: text)!])
            let name = String(text[Range(match.range(at: 2), in: text)!])
            #expect(components[kind]?[name] != nil, "#/components/\(kind)/\(name) is referred to but not defined")
        }
    }
}
