import AirlockExchange
import Testing

@Suite struct TAXIIMediaTypeTests {
    @Test func namesTheTypes() {
        #expect(TAXIIMediaType.taxii == "application/taxii+json;version=2.1")
        #expect(TAXIIMediaType.stix == "application/stix+json;version=2.1")
        #expect(TAXIIMediaType.stix(specVersion: "2.1") == TAXIIMediaType.stix)
        #expect(TAXIIMediaType.stix(specVersion: "2.0") == "application/stix+json;version=2.0")
    }

    @Test(arguments: [
        "application/taxii+json",
        "application/taxii+json;version=2.1",
        "application/taxii+json; version=2.1",
        "application/taxii+json ; version = 2.1",
        "Application/TAXII+JSON;Version=2.1",
        "application/taxii+json;version=\"2.1\"",
        "application/taxii+json;version=2.1;charset=utf-8",
        "application/taxii+json;version=2.1;q=0.5",
        "application/json, application/taxii+json;version=2.1",
        "application/taxii+json;version=2.0, application/taxii+json;version=2.1",
    ])
    func acceptsTAXII21MediaRanges(accept: String) {
        #expect(TAXIIMediaType.acceptable(accept: accept))
        #expect(TAXIIMediaType.acceptable(accept: accept, policy: .strict))
    }

    @Test(arguments: [
        "application/taxii+json;version=2.0",
        "application/vnd.oasis.taxii+json; version=2.0",
        "application/json",
        "application/stix+json;version=2.1",
        "text/html",
        "application/taxii+json;version=2.1;q=0",
        "application/taxii+json;q=0.0",
        "taxii+json",
    ])
    func refusesOtherMediaRanges(accept: String) {
        #expect(!TAXIIMediaType.acceptable(accept: accept))
        #expect(!TAXIIMediaType.acceptable(accept: accept, policy: .strict))
    }

    @Test func wildcardsAndAbsenceDependOnThePolicy() {
        for accept: String? in [nil, "", "  ", "*/*", "application/*", "text/html, */*;q=0.1"] {
            #expect(TAXIIMediaType.acceptable(accept: accept), "\(accept ?? "nil")")
            #expect(!TAXIIMediaType.acceptable(accept: accept, policy: .strict), "\(accept ?? "nil")")
        }
        #expect(!TAXIIMediaType.acceptable(accept: "*/*;q=0"))
        #expect(!TAXIIMediaType.acceptable(accept: "text/*"))
    }

    @Test func checkAcceptThrows406NamingTheHeader() throws {
        try TAXIIMediaType.checkAccept("application/taxii+json;version=2.1")
        let error = #expect(throws: TAXIIError.self) {
            try TAXIIMediaType.checkAccept("application/taxii+json;version=2.0")
        }
        #expect(error?.code == .notAcceptable)
        #expect(error?.httpStatus == 406)
        #expect(error?.parameter == "Accept")
        #expect(error?.value == "application/taxii+json;version=2.0")
        #expect(throws: TAXIIError.self) { try TAXIIMediaType.checkAccept(nil, policy: .strict) }
    }

    @Test(arguments: [
        "application/taxii+json",
        "application/taxii+json;version=2.1",
        "application/taxii+json; version=2.1",
        "application/taxii+json; version=2.1; charset=UTF-8",
        "application/taxii+json;charset=utf-8",
        "APPLICATION/taxii+json;version=2.1",
    ])
    func acceptsTAXIIBodies(contentType: String) throws {
        #expect(TAXIIMediaType.acceptableContentType(contentType))
        try TAXIIMediaType.checkContentType(contentType)
    }

    @Test(arguments: [
        "application/taxii+json;version=2.0",
        "application/json",
        "application/stix+json;version=2.1",
        "application/taxii+json;charset=latin1",
        "application/taxii+json;profile=x",
        "*/*",
        "application/*",
        "",
        "application/taxii+json, application/json",
    ])
    func refusesOtherBodies(contentType: String) {
        #expect(!TAXIIMediaType.acceptableContentType(contentType))
        let error = #expect(throws: TAXIIError.self) { try TAXIIMediaType.checkContentType(contentType) }
        #expect(error?.code == .unsupportedMediaType)
        #expect(error?.httpStatus == 415)
        #expect(error?.parameter == "Content-Type")
    }

    @Test func aMissingContentTypeIs415() {
        #expect(!TAXIIMediaType.acceptableContentType(nil))
        let error = #expect(throws: TAXIIError.self) { try TAXIIMediaType.checkContentType(nil) }
        #expect(error?.httpStatus == 415)
    }
}
