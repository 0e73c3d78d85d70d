import AirlockExchange
import Testing

@Suite struct TAXIIObjectQueryTests {
    let indicator1 = TAXIIFixture.id("indicator", 1)
    let indicator2 = TAXIIFixture.id("indicator", 2)

    private func parseError(
        _ items: [(name: String, value: String)], endpoint: TAXIIObjectEndpoint = .objects,
        sourceLocation: SourceLocation = #_sourceLocation
    ) -> TAXIIError? {
        #expect(throws: TAXIIError.self, sourceLocation: sourceLocation) {
            try TAXIIFixture.query(items, endpoint: endpoint)
        }
    }

    @Test func appliesTheDefaults() throws {
        let query = try TAXIIFixture.query([])
        #expect(query.limit == 100)
        #expect(query.after == nil)
        #expect(query.filters == TAXIIObjectFilters())
        #expect(query.filters.versions == .last)
        #expect(query.filters.addedAfter == nil)
        #expect(query.filters.ids.isEmpty && query.filters.types.isEmpty && query.filters.specVersions.isEmpty)
    }

    @Test(arguments: [("1", 1), ("5", 5), (" 7 ", 7), ("1000", 1000), ("1001", 1000), ("99999999999999999999999", 1000)])
    func limitIsLoweredToTheMaximum(value: String, expected: Int) throws {
        #expect(try TAXIIFixture.query([("limit", value)]).limit == expected)
    }

    @Test func limitsAreConfigurable() throws {
        let limits = TAXIIPageLimits(defaultLimit: 10, maximumLimit: 20)
        #expect(try TAXIIFixture.query([], limits: limits).limit == 10)
        #expect(try TAXIIFixture.query([("limit", "50")], limits: limits).limit == 20)
    }

    @Test(arguments: ["0", "-1", "abc", "1.5", "", "+5", "1e3", "0x10"])
    func limitMustBeAPositiveWholeNumber(value: String) {
        let error = parseError([("limit", value)])
        #expect(error?.matches(.invalidParameter, parameter: "limit") == true)
        #expect(error?.httpStatus == 400)
        #expect(error?.value == value)
    }

    @Test func addedAfterTakesOneTimestampOfAnyPrecision() throws {
        let query = try TAXIIFixture.query([("added_after", "2016-02-01T00:00:01Z")])
        #expect(query.filters.addedAfter == TAXIITimestamp("2016-02-01T00:00:01.000000Z"))
        let fine = try TAXIIFixture.query([("added_after", "2016-02-01T00:00:01.123456789Z")])
        #expect(fine.filters.addedAfter?.microsecondsSince1970 == TAXIITimestamp("2016-02-01T00:00:01.123456Z")?.microsecondsSince1970)

        let bad = parseError([("added_after", "yesterday")])
        #expect(bad?.matches(.invalidParameter, parameter: "added_after") == true)
        #expect(bad?.value == "yesterday")
        #expect(bad?.message.contains("added_after") == true)
        // Two values (as a list or as two parameters) are refused.
        #expect(parseError([("added_after", "2016-02-01T00:00:01Z,2016-02-01T00:00:02Z")])?.matches(.invalidParameter) == true)
        let twice = parseError([("added_after", "2016-02-01T00:00:01Z"), ("added_after", "2016-02-01T00:00:01Z")])
        #expect(twice?.matches(.unsupportedParameter, parameter: "added_after") == true)
    }

    @Test func matchIDTakesACommaSeparatedListOfIdentifiers() throws {
        let query = try TAXIIFixture.query([("match[id]", "\(indicator2) , \(indicator1),\(indicator2)")])
        #expect(query.filters.ids == [indicator1, indicator2])
        // A repeated match parameter adds to the list.
        let repeated = try TAXIIFixture.query([("match[id]", indicator2), ("match[id]", indicator1)])
        #expect(repeated.filters.ids == [indicator1, indicator2])

        let error = parseError([("match[id]", "\(indicator1),not-an-id")])
        #expect(error?.matches(.invalidParameter, parameter: "match[id]") == true)
        #expect(error?.message.contains("not-an-id") == true)
        #expect(parseError([("match[id]", "\(indicator1),,\(indicator2)")])?.matches(.invalidParameter) == true)
        #expect(parseError([("match[id]", "\(indicator1),")])?.matches(.invalidParameter) == true)
        #expect(parseError([("match[id]", "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3")])?.matches(.invalidParameter) == true)
    }

    @Test func matchTypeTakesTypeNames() throws {
        let query = try TAXIIFixture.query([("match[type]", "malware,indicator,x-custom-thing")])
        #expect(query.filters.types == ["indicator", "malware", "x-custom-thing"])
        for bad in ["Indicator", "ip", "indicator!", "attack pattern"] {
            let error = parseError([("match[type]", bad)])
            #expect(error?.matches(.invalidParameter, parameter: "match[type]") == true, "\(bad)")
        }
    }

    @Test func matchVersionTakesKeywordsAndTimestamps() throws {
        #expect(try TAXIIFixture.query([("match[version]", "first")]).filters.versions == .first)
        #expect(try TAXIIFixture.query([("match[version]", "all")]).filters.versions.all)
        let mixed = try TAXIIFixture.query([("match[version]", "last, 2016-01-01T00:00:00.000Z,first,2015-01-01T00:00:00Z")])
        #expect(mixed.filters.versions == TAXIIVersionSelection(
            first: true, last: true,
            timestamps: [TAXIITimestamp("2015-01-01T00:00:00Z")!, TAXIITimestamp("2016-01-01T00:00:00Z")!]))
        #expect(mixed.filters.versions.canonicalText == "first,last,2015-01-01T00:00:00.000000Z,2016-01-01T00:00:00.000000Z")

        let error = parseError([("match[version]", "newest")])
        #expect(error?.matches(.invalidParameter, parameter: "match[version]") == true)
        #expect(error?.message.contains("newest") == true)
        #expect(parseError([("match[version]", "Last")])?.matches(.invalidParameter) == true)
    }

    @Test func matchSpecVersionTakesVersionNumbers() throws {
        #expect(try TAXIIFixture.query([("match[spec_version]", "2.1,2.0")]).filters.specVersions == ["2.0", "2.1"])
        for bad in ["2", "two", "2.1.1", "2.", ".1"] {
            let error = parseError([("match[spec_version]", bad)])
            #expect(error?.matches(.invalidParameter, parameter: "match[spec_version]") == true, "\(bad)")
        }
    }

    @Test func anUnknownMatchFieldIsRefusedAndOtherNamesIgnored() throws {
        let error = parseError([("match[name]", "x")])
        #expect(error?.matches(.unsupportedParameter, parameter: "match[name]") == true)
        #expect(error?.httpStatus == 400)
        #expect(try TAXIIFixture.query([("_", "1712345"), ("format", "json")]).filters == TAXIIObjectFilters())
    }

    @Test func emptyValuesAreRefused() {
        for name in ["added_after", "next", "match[id]", "match[type]", "match[version]", "match[spec_version]"] {
            #expect(parseError([(name, " ")])?.matches(.invalidParameter, parameter: name) == true, "\(name)")
        }
    }

    @Test func eachEndpointTakesItsOwnParameters() throws {
        let all = Set(TAXIIQueryParameter.allCases)
        #expect(TAXIIObjectEndpoint.objects.allowedParameters == all)
        #expect(TAXIIObjectEndpoint.manifest.allowedParameters == all)
        #expect(TAXIIObjectEndpoint.object(id: indicator1).allowedParameters
            == [.addedAfter, .limit, .next, .matchVersion, .matchSpecVersion])
        #expect(TAXIIObjectEndpoint.objectVersions(id: indicator1).allowedParameters
            == [.addedAfter, .limit, .next, .matchSpecVersion])
        #expect(TAXIIObjectEndpoint.deleteObject(id: indicator1).allowedParameters == [.matchVersion, .matchSpecVersion])

        let refusals: [(TAXIIObjectEndpoint, String, String)] = [
            (.object(id: indicator1), "match[type]", "indicator"),
            (.object(id: indicator1), "match[id]", indicator2),
            (.objectVersions(id: indicator1), "match[version]", "all"),
            (.objectVersions(id: indicator1), "match[type]", "indicator"),
            (.deleteObject(id: indicator1), "limit", "5"),
            (.deleteObject(id: indicator1), "added_after", "2016-01-01T00:00:00Z"),
            (.deleteObject(id: indicator1), "next", "abc"),
        ]
        for (endpoint, name, value) in refusals {
            let error = parseError([(name, value)], endpoint: endpoint)
            #expect(error?.matches(.unsupportedParameter, parameter: name) == true, "\(endpoint) \(name)")
            #expect(error?.message.contains(endpoint.name) == true)
        }
    }

    @Test func objectEndpointsFilterOnTheirPathID() throws {
        let object = try TAXIIFixture.query([("match[version]", "first")], endpoint: .object(id: indicator1))
        #expect(object.filters.ids == [indicator1])
        #expect(object.filters.versions == .first)
        let versions = try TAXIIFixture.query([], endpoint: .objectVersions(id: indicator1))
        #expect(versions.filters.ids == [indicator1])
        #expect(versions.filters.versions == .all)
        let delete = try TAXIIFixture.query([], endpoint: .deleteObject(id: indicator1))
        #expect(delete.filters.versions == .last)
    }

    @Test func equalFiltersNormaliseAlike() throws {
        let one = try TAXIIFixture.query([
            ("match[type]", "malware,indicator"), ("match[version]", "last,first"), ("added_after", "2016-01-01T00:00:00Z"),
        ])
        let other = try TAXIIFixture.query([
            ("added_after", "2016-01-01T00:00:00.000000Z"), ("match[version]", "first"), ("match[type]", "indicator"),
            ("match[type]", " malware"), ("match[version]", "last"), ("limit", "3"),
        ])
        #expect(one.filters == other.filters)
        #expect(one.filters.canonicalText == other.filters.canonicalText)
        let different = try TAXIIFixture.query([("match[type]", "malware")])
        #expect(different.filters.canonicalText != one.filters.canonicalText)
    }

    @Test func errorsRenderAsTAXIIErrorMessages() throws {
        let error = try #require(parseError([("limit", "-3")]))
        let json = TAXIITestJSON.decode(error.jsonBytes)
        #expect(json == .object([
            "title": .string("Invalid query parameter"),
            "description": .string("limit must be greater than zero."),
            "error_code": .string("invalid_parameter"),
            "http_status": .string("400"),
            "details": .object(["parameter": .string("limit"), "value": .string("-3")]),
        ]))
    }

    @Test func longValuesAreCutInErrors() {
        let value = String(repeating: "x", count: 5000)
        let error = parseError([("added_after", value)])
        #expect(error?.value?.count == TAXIIError.valueLimit + 1)
    }
}
