import AirlockCore
import AirlockExchange
import Foundation
import Testing

/// STIX objects: the TLP 2.0 markings, ids, timestamps, canonical JSON, the objects of a case and
/// their versions.
@Suite struct STIXDocumentTests {
    static let reported = SharingSamples.reported
    static let day = SharingSamples.day

    static func export(_ disclosure: DisclosureCase) -> STIXCaseExport {
        STIXCaseExport(disclosureCase: disclosure, organisations: SharingSamples.organisations, publisher: SharingSamples.publisher)
    }

    // MARK: Markings

    /// The five definitions as the reference sheet gives them (OASIS TLP 2.0 extension).
    static let expectedMarkings: [(TrafficLightProtocol, String, String, String)] = [
        (.clear, "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487", "TLP:CLEAR", "clear"),
        (.green, "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb", "TLP:GREEN", "green"),
        (.amber, "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421", "TLP:AMBER", "amber"),
        (.amberStrict, "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003", "TLP:AMBER+STRICT", "amber+strict"),
        (.red, "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1", "TLP:RED", "red"),
    ]

    @Test func theFiveTLP2MarkingDefinitions() {
        #expect(STIXMarking.all.count == 5)
        for (level, id, name, value) in Self.expectedMarkings {
            let marking = STIXMarking.definition(of: level)
            let expected: JSONValue = .object([
                "type": .string("marking-definition"), "spec_version": .string("2.1"), "id": .string(id),
                "created": .string("2022-10-01T00:00:00.000Z"), "name": .string(name),
                "extensions": .object([
                    "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d": .object([
                        "extension_type": .string("property-extension"), "tlp_2_0": .string(value),
                    ])
                ]),
            ])
            #expect(marking.json == expected, "\(name)")
            #expect(STIXMarking.level(ofMarking: id) == level)
            #expect(marking.properties["definition_type"] == nil, "no TLP 1.0 form")
        }
        #expect(STIXMarking.level(ofMarking: "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9") == nil, "TLP 1.0 WHITE is not TLP 2.0")
    }

    // MARK: Timestamps

    @Test(arguments: [
        (1_767_603_600.0, "2026-01-05T09:00:00.000Z"),
        (1_767_603_600.123, "2026-01-05T09:00:00.123Z"),
        (1_767_603_600.1239, "2026-01-05T09:00:00.123Z"),
        (0.0, "1970-01-01T00:00:00.000Z"),
        (951_782_400.5, "2000-02-29T00:00:00.500Z"),
        (-1.0, "1969-12-31T23:59:59.000Z"),
        (4_107_542_399.999, "2100-02-28T23:59:59.999Z"),
    ])
    func timestampsHaveExactlyMilliseconds(seconds: Double, text: String) {
        let timestamp = STIXTimestamp(Date(timeIntervalSince1970: seconds))
        #expect(timestamp.description == text)
        #expect(STIXTimestamp(text) == timestamp)
    }

    @Test func timestampsParseOtherPrecisionsAndRefuseOffsets() {
        #expect(STIXTimestamp("2026-01-05T09:00:00Z")?.description == "2026-01-05T09:00:00.000Z")
        #expect(STIXTimestamp("2026-01-05T09:00:00.5Z")?.description == "2026-01-05T09:00:00.500Z")
        #expect(STIXTimestamp("2026-01-05T09:00:00.123456Z")?.description == "2026-01-05T09:00:00.123Z")
        #expect(STIXTimestamp("2026-01-05T09:00:00+00:00") == nil)
        #expect(STIXTimestamp("2026-13-05T09:00:00Z") == nil)
        #expect(STIXTimestamp("2026-01-05 09:00:00Z") == nil)
        #expect(STIXTimestamp("2026-01-05T09:00:00.Z") == nil)
        #expect(STIXTimestamp(milliseconds: 5).adding(milliseconds: 1) == STIXTimestamp(milliseconds: 6))
    }

    // MARK: Ids

    @Test func derivedIdsAreStableV4ShapedAndDistinct() {
        let id = STIXIdentifier.derived("vulnerability", key: "fnd_1", namespace: "https://airlock.example.org")
        #expect(id == STIXIdentifier.derived("vulnerability", key: "fnd_1", namespace: "https://airlock.example.org"))
        #expect(id.hasPrefix("vulnerability--"))
        #expect(STIXIdentifier.isValid(id))
        #expect(STIXIdentifier.uuidVersion(of: id) == 4)
        let variant = id[id.index(id.startIndex, offsetBy: "vulnerability--".count + 19)]
        #expect("89ab".contains(variant), "RFC 4122 variant: \(id)")
        let others = [
            STIXIdentifier.derived("vulnerability", key: "fnd_2", namespace: "https://airlock.example.org"),
            STIXIdentifier.derived("note", key: "fnd_1", namespace: "https://airlock.example.org"),
            STIXIdentifier.derived("vulnerability", key: "fnd_1", namespace: "https://other.example.org"),
        ]
        let uuid = { (id: String) in id.components(separatedBy: "--")[1] }
        #expect(Set(others.map(uuid) + [uuid(id)]).count == 4, "no UUID shared across keys, types or deployments")
    }

    /// Expected ids computed independently with Python's `uuid.uuid5` over `json.dumps(sort_keys=True, separators=(',', ':'))`.
    @Test func softwareIdsAreUUIDv5OverCanonicalJSON() {
        #expect(STIXIdentifier.sco("software", contributing: [
            "name": .string("LedgerCore"), "vendor": .string("Northwind Banking Systems"), "version": .string("4.2.0"),
            "cpe": .string("cpe:2.3:a:northwind:ledgercore:4.2.0:*:*:*:*:*:*:*"),
        ]) == "software--8550e8d7-b8b7-5819-99f8-5fc4f62436d4")
        #expect(STIXIdentifier.sco("software", contributing: [
            "name": .string("Word"), "vendor": .string("Microsoft"), "version": .string("2002"),
        ]) == "software--c616478f-891e-5ddb-bb5c-f6d497d2a513")
    }

    @Test func canonicalJSONFollowsRFC8785() {
        // Members sort by UTF-16 code units: U+1F600 (D83D DE00) comes before U+FB33.
        let value: JSONValue = .object([
            "\u{FB33}": .number(1), "\u{1F600}": .number(2), "b": .array([.bool(true), .null, .number(9.8)]), "a": .string("x\n\u{1}\"\\/é"),
        ])
        #expect(SharingJSON.canonical(value) == "{\"a\":\"x\\n\\u0001\\\"\\\\/é\",\"b\":[true,null,9.8],\"\u{1F600}\":2,\"\u{FB33}\":1}")
        #expect(SharingJSON.canonical(.number(100)) == "100")
        #expect(SharingJSON.canonical(.number(-0.5)) == "-0.5")
        let pretty = String(decoding: SharingJSON.bytes(.object(["a": .array([.number(1)])]), pretty: true), as: UTF8.self)
        #expect(pretty == "{\n  \"a\": [\n    1\n  ]\n}\n")
    }

    // MARK: The objects of a case

    @Test func aPublishedCaseIsMarkedClearAndComplete() throws {
        let banking = try SharingSamples.banking()
        let objects = try Self.export(banking).objects(at: Self.reported.addingTimeInterval(50 * Self.day))
        let byType = Dictionary(grouping: objects, by: \.type)
        #expect(byType["report"]?.count == 1)
        #expect(byType["vulnerability"]?.count == 1, "the merged duplicate is not published")
        // Office, two evaluators, three vendors, the bank, the developer.
        #expect(byType["identity"]?.count == 8)
        // LedgerCore 4.2.0, 4.2.1, 4.1.9 (from the duplicate), Payments Gateway 7.1.0, Teller Desk 3.0.
        #expect(byType["software"]?.count == 5)
        #expect(byType["course-of-action"]?.count == 2)
        #expect(byType["note"]?.count == 2)

        let ids = Set(objects.map(\.id))
        #expect(ids.count == objects.count, "no duplicate ids in a bundle")
        let publisher = Self.export(banking).publisherIdentityId
        let definitions = Set(objects.filter { $0.type == "marking-definition" }.map(\.id))
        for object in objects where object.type != "marking-definition" {
            #expect(STIXIdentifier.isValid(object.id), "\(object.id)")
            #expect(!object.markingRefs.isEmpty, "\(object.id) is marked")
            #expect(Set(object.markingRefs).isSubset(of: definitions), "\(object.id)'s marking is in the bundle")
            if object.type == "software" {
                #expect(STIXIdentifier.uuidVersion(of: object.id) == 5)
                #expect(object.createdByRef == nil && object.created == nil)
            } else {
                #expect(STIXIdentifier.uuidVersion(of: object.id) == 4)
                #expect(object.created == object.modified, "a first version")
                #expect(object.properties["created"]?.stringValue?.hasSuffix(".000Z") == true)
                if object.id != publisher { #expect(object.createdByRef == publisher) }
            }
        }

        let vulnerability = try #require(byType["vulnerability"]?.first)
        #expect(vulnerability.tlp == .clear)
        let references = vulnerability["external_references"]?.elements ?? []
        #expect(references.contains(.object(["source_name": .string("cve"), "external_id": .string("CVE-2026-10001")])))
        #expect(references.contains { $0.at("source_name") == .string("cwe") && $0.at("external_id") == .string("CWE-89") })
        #expect(references.contains { $0.at("source_name") == .string("cvss-v3.1") && $0.at("external_id") == .string("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H") })
        #expect(references.contains { $0.at("source_name") == .string("cvss-v4.0") && $0.at("description")?.stringValue?.contains("9.3") == true })

        let report = try #require(byType["report"]?.first)
        #expect(report["report_types"] == .array([.string("vulnerability")]))
        #expect(report["published"] == .string("2026-02-24T09:00:00.000Z"))
        let refs = Set((report["object_refs"]?.elements ?? []).compactMap(\.stringValue))
        #expect(refs == ids.subtracting(definitions).subtracting([report.id]))

        let kinds = Dictionary(grouping: byType["relationship"] ?? [], by: { $0["relationship_type"]?.stringValue ?? "" }).mapValues(\.count)
        #expect(kinds == ["related-to": 5, "mitigates": 1, "remediates": 1])
        for relationship in byType["relationship"] ?? [] {
            #expect(ids.contains(relationship["source_ref"]?.stringValue ?? ""))
            #expect(ids.contains(relationship["target_ref"]?.stringValue ?? ""))
        }
        let identities = byType["identity"] ?? []
        #expect(identities.first { $0.id == publisher }?.tlp == .clear)
        #expect(identities.filter { $0.id != publisher }.allSatisfy { $0.tlp == .green })
        let bank = identities.first { $0["name"] == .string("First Harbour Bank") }
        #expect(bank?["sectors"] == .array([.string("financial-services")]))
        #expect(bank?["identity_class"] == .string("organization"))
    }

    @Test func notesCarryTheVendorsStatements() throws {
        let objects = try Self.export(try SharingSamples.banking()).objects(at: Self.reported.addingTimeInterval(50 * Self.day))
        let notes = objects.filter { $0.type == "note" }
        let contoso = try #require(notes.first { $0["authors"] == .array([.string("Contoso Payments")]) })
        #expect(contoso["content"]?.stringValue?.hasPrefix("Not affected (vulnerable code not present).") == true)
        let refs = (contoso["object_refs"]?.elements ?? []).compactMap(\.stringValue)
        #expect(refs.contains { $0.hasPrefix("vulnerability--") })
        #expect(refs.contains(Self.export(try SharingSamples.banking()).id("identity", key: SharingSamples.contoso.id)))
    }

    @Test func markingsFollowTheCaseOverTime() throws {
        let injection = try SharingSamples.promptInjection()
        let red = try Self.export(injection).objects(at: Self.reported.addingTimeInterval(Self.day))
        #expect(red.first { $0.type == "vulnerability" }?.tlp == .red)
        #expect(red.first { $0.type == "report" }?.tlp == .red)
        #expect(red.contains { $0.id == STIXMarking.id(of: .red) })
        #expect(red.filter { $0.type == "identity" && $0.tlp != .clear }.allSatisfy { $0.tlp == .green })

        let triaged = try SharingSamples.promptInjectionTriaged()
        let strict = try Self.export(triaged).objects(at: Self.reported.addingTimeInterval(3 * Self.day))
        #expect(strict.first { $0.type == "vulnerability" }?.tlp == .amberStrict)
        #expect(strict.filter { $0.type == "software" }.allSatisfy { $0.tlp == .amberStrict })
        #expect(strict.filter { $0.type == "note" }.allSatisfy { $0.tlp == .amberStrict })
        // The developer's "affected" statement without a fix: no remediates, no mitigation (none given).
        #expect(!strict.contains { $0["relationship_type"] == .string("remediates") })
    }

    @Test func aCaseWithoutFindingsOrWithAStrangerIsRefused() throws {
        let empty = DisclosureCase(id: "c", reference: "R-1", title: "T", summary: "", reportedAt: Self.reported)
        let nothing = #expect(throws: SharingDocumentError.self) { try Self.export(empty).objects(at: Self.reported) }
        #expect(nothing?.code == .nothingToPublish)
        var stranger = try SharingSamples.promptInjection()
        stranger.add(CaseParticipant(organisationId: "org_unknown", role: .affectedOperator))
        let unknown = #expect(throws: SharingDocumentError.self) { try Self.export(stranger).objects(at: Self.reported) }
        #expect(unknown?.code == .unknownOrganisation)
    }

    // MARK: Versions

    @Test func idsAreStableAndOnlyChangedObjectsGetNewVersions() throws {
        let banking = try SharingSamples.banking()
        let firstDate = Self.reported.addingTimeInterval(50 * Self.day)
        let first = try Self.export(banking).objects(at: firstDate)

        // The same content later: every object comes back as it was.
        let again = try Self.export(banking).objects(at: firstDate.addingTimeInterval(Self.day), previous: first)
        #expect(again == first)

        var updated = banking
        try updated.record(VendorStatement(
            vendorId: SharingSamples.fabrikam.id, status: .fixed, notes: "Teller Desk 3.1 validates the filter.",
            updatedAt: Self.reported.addingTimeInterval(60 * Self.day)))
        let secondDate = Self.reported.addingTimeInterval(60 * Self.day)
        let second = try Self.export(updated).objects(at: secondDate, previous: first)
        let before = Dictionary(uniqueKeysWithValues: first.map { ($0.id, $0) })
        #expect(Set(first.map(\.id)).isSubset(of: Set(second.map(\.id))), "ids are stable across versions")

        var changed: [String] = []
        for object in second {
            guard let old = before[object.id] else {
                // New objects (Fabrikam's note, its fix and the relationship) start their history now.
                #expect(object.created == STIXTimestamp(secondDate) && object.modified == object.created, "\(object.id)")
                continue
            }
            if object == old { continue }
            changed.append(object.type)
            #expect(object.created == old.created, "created is kept: \(object.id)")
            #expect((object.modified ?? STIXTimestamp(milliseconds: 0)) > (old.modified ?? STIXTimestamp(milliseconds: .max)))
        }
        #expect(changed.sorted() == ["report"], "only the report's list of objects changed: \(changed)")
        #expect(second.filter { before[$0.id] == nil }.map(\.type).sorted() == ["course-of-action", "note", "relationship"])
    }

    static func sample() -> STIXObject {
        STIXObject([
            "type": .string("vulnerability"), "spec_version": .string("2.1"),
            "id": .string("vulnerability--0b2f8d4c-3c52-4c4e-9a55-1f7f3a1c2b10"),
            "created": .string("2026-01-05T09:00:00.000Z"), "modified": .string("2026-01-06T09:00:00.000Z"),
            "created_by_ref": .string("identity--8f1f0b52-4b2a-4b7e-9d8e-0c3f3b0e5a11"), "name": .string("A flaw"),
        ])
    }

    @Test func aFirstVersionHasCreatedEqualToModified() throws {
        var fresh = Self.sample()
        fresh["created"] = nil
        fresh["modified"] = nil
        let at = Date(timeIntervalSince1970: 1_767_603_600.0127)
        let first = try STIXVersioning.version(fresh, previous: nil, at: at)
        #expect(first["created"] == .string("2026-01-05T09:00:00.012Z"))
        #expect(first["modified"] == first["created"])
    }

    @Test func unchangedContentKeepsItsVersion() throws {
        let previous = Self.sample()
        var proposed = previous
        proposed["modified"] = .string("2030-01-01T00:00:00.000Z")
        #expect(try STIXVersioning.version(proposed, previous: previous, at: Date(timeIntervalSince1970: 1_900_000_000)) == previous)
    }

    @Test func aChangeKeepsCreatedAndMovesModifiedStrictlyLater() throws {
        let previous = Self.sample()
        var proposed = previous
        proposed["name"] = .string("A worse flaw")
        let later = try STIXVersioning.version(proposed, previous: previous, at: Date(timeIntervalSince1970: 1_767_800_000))
        #expect(later["created"] == previous["created"])
        #expect(later["modified"] == .string(STIXTimestamp(Date(timeIntervalSince1970: 1_767_800_000)).description))
        // A clock behind the previous version still gives a later modified: one millisecond on.
        let behind = try STIXVersioning.version(proposed, previous: previous, at: Date(timeIntervalSince1970: 1_767_000_000))
        #expect(behind["modified"] == .string("2026-01-06T09:00:00.001Z"))
        #expect(behind["name"] == .string("A worse flaw"))
    }

    @Test func aMarkingChangeIsANewVersion() throws {
        var previous = Self.sample()
        previous["object_marking_refs"] = .array([.string(STIXMarking.id(of: .amber))])
        var proposed = previous
        proposed["object_marking_refs"] = .array([.string(STIXMarking.id(of: .clear))])
        let next = try STIXVersioning.version(proposed, previous: previous, at: Date(timeIntervalSince1970: 1_767_800_000))
        #expect(next.tlp == .clear)
        #expect(next.modified != previous.modified)
    }

    @Test func versioningRefusals() throws {
        let previous = Self.sample()
        var other = previous
        other["id"] = .string("vulnerability--1b2f8d4c-3c52-4c4e-9a55-1f7f3a1c2b10")
        #expect((#expect(throws: SharingDocumentError.self) { try STIXVersioning.version(other, previous: previous, at: Date()) })?.code == .mismatch)

        var foreign = previous
        foreign["created_by_ref"] = .string("identity--9f1f0b52-4b2a-4b7e-9d8e-0c3f3b0e5a11")
        foreign["name"] = .string("changed")
        #expect((#expect(throws: SharingDocumentError.self) { try STIXVersioning.version(foreign, previous: previous, at: Date()) })?.code == .notTheCreator)

        let revoked = try STIXVersioning.revoke(previous, at: Date(timeIntervalSince1970: 1_767_800_000))
        #expect(revoked.isRevoked)
        #expect(revoked.created == previous.created)
        #expect((revoked.modified ?? STIXTimestamp(milliseconds: 0)) > (previous.modified ?? STIXTimestamp(milliseconds: .max)))
        var revived = previous
        revived["name"] = .string("back again")
        #expect((#expect(throws: SharingDocumentError.self) {
            try STIXVersioning.version(revived, previous: revoked, at: Date(timeIntervalSince1970: 1_767_900_000))
        })?.code == .revoked)
        #expect((#expect(throws: SharingDocumentError.self) { try STIXVersioning.revoke(revoked, at: Date()) })?.code == .revoked)

        let marking = STIXMarking.definition(of: .amber)
        #expect(try STIXVersioning.version(marking, previous: marking, at: Date()) == marking)
        var renamed = marking
        renamed["name"] = .string("TLP:ORANGE")
        #expect((#expect(throws: SharingDocumentError.self) { try STIXVersioning.version(renamed, previous: marking, at: Date()) })?.code == .notVersionable)
        #expect((#expect(throws: SharingDocumentError.self) { try STIXVersioning.revoke(marking, at: Date()) })?.code == .notVersionable)
    }

    @Test func theBuilderRefusesToVersionARevokedObject() throws {
        let banking = try SharingSamples.banking()
        let date = Self.reported.addingTimeInterval(50 * Self.day)
        let first = try Self.export(banking).objects(at: date)
        let note = try #require(first.first { $0.type == "note" })
        let revoked = try STIXVersioning.revoke(note, at: date.addingTimeInterval(1))
        var updated = banking
        try updated.record(VendorStatement(
            vendorId: SharingSamples.northwind.id, status: .fixed, notes: "Also fixed in 4.1.10.", updatedAt: date.addingTimeInterval(Self.day)))
        let previous = first.map { $0.id == note.id ? revoked : $0 }
        let notesChanged = #expect(throws: SharingDocumentError.self) {
            try Self.export(updated).objects(at: date.addingTimeInterval(2 * Self.day), previous: previous)
        }
        #expect(notesChanged?.code == .revoked)
    }

    @Test func objectsRoundTripThroughJSON() throws {
        let objects = try Self.export(try SharingSamples.banking()).objects(at: Self.reported.addingTimeInterval(50 * Self.day))
        for object in objects {
            #expect(try STIXObject(json: object.jsonBytes) == object)
        }
        let bundle = try Self.export(try SharingSamples.banking()).bundle(at: Self.reported.addingTimeInterval(50 * Self.day))
        let parsed = try SharingJSON.parse(bundle.jsonBytes(pretty: true))
        #expect(parsed.at("type") == .string("bundle"))
        #expect(parsed.at("spec_version") == nil, "a 2.1 bundle has no spec_version")
        #expect(parsed.at("objects")?.elements.count == objects.count)
        #expect(STIXIdentifier.uuidVersion(of: bundle.id) == 4)
        #expect(throws: SharingDocumentError.self) { try STIXObject(json: Array("[1]".utf8)) }
    }
}
