import AirlockCore
import AirlockExchange
import AirlockTestSupport
import Foundation
import Testing

/// The documents Airlock emits, checked by the real validators: stix2-validator 3.2.0 (OASIS) for
/// every STIX object, in normal and strict mode with references enforced, and `csaf` (Stefan
/// Hagen's validator) for the CSAF 2.0 schema and every mandatory test (§6.1), and the
/// recommended ones (§6.2) as well.
@Suite struct SharingValidatorTests {
    static let python = ProcessInfo.processInfo.environment["AIRLOCK_TEST_PYTHON"]

    /// Every STIX bundle the samples give: each case before triage, under embargo and (for the
    /// banking case) published, plus a later version of the published objects and a revocation.
    static func stixBundles() throws -> [(name: String, bundle: STIXBundle)] {
        let banking = try SharingSamples.banking()
        let injection = try SharingSamples.promptInjection()
        let triaged = try SharingSamples.promptInjectionTriaged()
        let day = SharingSamples.day
        let reported = SharingSamples.reported

        func export(_ disclosure: DisclosureCase) throws -> STIXCaseExport {
            let advisory = disclosure.state == .published
                ? try CSAFCaseExport(disclosureCase: disclosure, organisations: SharingSamples.organisations, publisher: SharingSamples.publisher)
                    .securityAdvisory(at: reported.addingTimeInterval(50 * day))
                : nil
            return STIXCaseExport(
                disclosureCase: disclosure, organisations: SharingSamples.organisations, publisher: SharingSamples.publisher, advisory: advisory)
        }
        var bundles: [(String, STIXBundle)] = [
            ("banking-published", try export(banking).bundle(at: reported.addingTimeInterval(50 * day))),
            ("injection-red", try export(injection).bundle(at: reported.addingTimeInterval(day))),
            ("injection-amber-strict", try export(triaged).bundle(at: reported.addingTimeInterval(3 * day))),
        ]
        // A later version: Fabrikam states it is fixed; the objects that change get new versions.
        var updated = banking
        try updated.record(VendorStatement(
            vendorId: SharingSamples.fabrikam.id, status: .fixed, notes: "Teller Desk 3.1 validates the filter.",
            updatedAt: reported.addingTimeInterval(60 * day)))
        let first = try export(banking).objects(at: reported.addingTimeInterval(50 * day))
        let second = try export(updated).objects(at: reported.addingTimeInterval(60 * day), previous: first)
        bundles.append(("banking-updated", STIXBundle(id: try export(updated).id("bundle", key: "updated"), objects: second)))
        // A revoked note, alone with what it refers to.
        let note = try #require(first.first { $0.type == "note" })
        let revoked = try STIXVersioning.revoke(note, at: reported.addingTimeInterval(61 * day))
        bundles.append(("note-revoked", STIXBundle(id: try export(updated).id("bundle", key: "revoked"), objects: [revoked] + STIXMarking.all)))
        bundles.append(("tlp-markings", STIXBundle(id: try export(updated).id("bundle", key: "markings"), objects: STIXMarking.all)))
        return bundles
    }

    static func csafDocuments() throws -> [CSAFDocument] {
        let reported = SharingSamples.reported
        let day = SharingSamples.day
        var documents: [CSAFDocument] = []
        for (disclosure, date) in [
            (try SharingSamples.banking(), reported.addingTimeInterval(50 * day)),
            (try SharingSamples.promptInjection(), reported.addingTimeInterval(day)),
            (try SharingSamples.promptInjectionTriaged(), reported.addingTimeInterval(3 * day)),
        ] {
            let export = CSAFCaseExport(disclosureCase: disclosure, organisations: SharingSamples.organisations, publisher: SharingSamples.publisher)
            documents.append(try export.securityAdvisory(at: date))
            documents.append(contentsOf: try export.vexDocuments(at: date))
        }
        // The banking advisory's second revision, once every vendor has spoken: status final.
        var revised = try SharingSamples.banking()
        try revised.record(VendorStatement(
            vendorId: SharingSamples.fabrikam.id, status: .fixed, notes: "Teller Desk 3.1 validates the filter.",
            updatedAt: reported.addingTimeInterval(60 * day)))
        try revised.recordAdvisoryRevision(at: reported.addingTimeInterval(60 * day), summary: "Fabrikam released a fix.")
        let export = CSAFCaseExport(disclosureCase: revised, organisations: SharingSamples.organisations, publisher: SharingSamples.publisher)
        documents.append(try export.securityAdvisory(at: reported.addingTimeInterval(60 * day)))
        return documents
    }

    @Test(.enabled(if: TestEnvironment.runsPython, "needs stix2-validator and csaf (make test installs them)"))
    func everySTIXObjectPassesTheValidator() throws {
        let python = try #require(Self.python)
        let folder = try Self.temporaryFolder("stix")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let bundles = try Self.stixBundles()
        for (name, bundle) in bundles {
            try Data(bundle.jsonBytes(pretty: true)).write(to: URL(fileURLWithPath: "\(folder)/\(name).json"))
        }
        let (status, output) = try Self.run(python, ["-c", Self.stixScript] + bundles.map { "\(folder)/\($0.name).json" })
        // A control: a vulnerability whose created has no milliseconds is refused, so the run really checked.
        var control = try #require(bundles[0].bundle.objects.first { $0.type == "vulnerability" })
        control["created"] = .string("2026-02-24T09:00:00Z")
        let controlPath = "\(folder)/control.json"
        try Data(STIXBundle(id: bundles[0].bundle.id, objects: [control] + STIXMarking.all).jsonBytes()).write(to: URL(fileURLWithPath: controlPath))
        let (controlStatus, controlOutput) = try Self.run(python, ["-c", Self.stixScript, controlPath])
        #expect(controlStatus == 1, "\(controlOutput)")
        #expect(controlOutput.contains("\"valid\": false"), "\(controlOutput)")
        #expect(status == 0, "\(output)")
        let reports = output.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        #expect(reports.count == bundles.count * 2, "\(output)")
        for report in reports {
            #expect(report["valid"] as? Bool == true, "\(report)")
            #expect((report["messages"] as? [String])?.isEmpty == true, "\(report)")
        }
    }

    @Test(.enabled(if: TestEnvironment.runsPython, "needs stix2-validator and csaf (make test installs them)"))
    func everyCSAFDocumentPassesTheMandatoryTests() throws {
        let python = try #require(Self.python)
        let folder = try Self.temporaryFolder("csaf")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let documents = try Self.csafDocuments()
        #expect(documents.contains { $0.json.at("document", "category") == .string("csaf_vex") })
        // The same case at two times gives the same file name: a prefix keeps both.
        let paths = documents.enumerated().map { "\(folder)/\($0.offset)-\($0.element.fileName)" }
        for (document, path) in zip(documents, paths) {
            try Data(document.jsonBytes()).write(to: URL(fileURLWithPath: path))
        }
        // The schema and every mandatory test (§6.1) of CSAF 2.0 ("basic"); no network (only optional tests use it).
        let (status, output) = try Self.run(
            python, ["-m", "csaf", "validate", "--spec-version", "v20", "--preset", "basic", "--no-network"] + paths)
        #expect(status == 0, "\(output)")
        #expect(output.components(separatedBy: "Overall: PASS").count - 1 == documents.count, "\(output)")
        #expect(!output.contains("[FAIL]"), "\(output)")
        // Each mandatory test ran on each document.
        #expect(output.components(separatedBy: "[PASS] 6.1.27 - Profile-Based Rules").count - 1 == documents.count, "\(output)")

        // The recommended tests (§6.2) pass too: every product has a CPE or purl, every score its properties.
        let (extendedStatus, extended) = try Self.run(
            python, ["-m", "csaf", "validate", "--spec-version", "v20", "--preset", "extended", "--no-network", "--quiet"] + paths)
        #expect(extendedStatus == 0, "\(extended)")
        #expect(!extended.contains("[WARN]") && !extended.contains("[FAIL]"), "\(extended)")

        // A control: the same advisory with a wrong base score fails 6.1.9, so the run above really checked.
        guard case .object(var advisory) = documents[0].json, case .array(var vulnerabilities)? = advisory["vulnerabilities"],
            case .object(var vulnerability) = vulnerabilities[0], case .array(var scores)? = vulnerability["scores"],
            case .object(var score) = scores[0], case .object(var cvss)? = score["cvss_v3"]
        else { Issue.record("the banking advisory has a CVSS v3 score"); return }
        cvss["baseScore"] = .number(5.0)
        score["cvss_v3"] = .object(cvss)
        scores[0] = .object(score)
        vulnerability["scores"] = .array(scores)
        vulnerabilities[0] = .object(vulnerability)
        advisory["vulnerabilities"] = .array(vulnerabilities)
        let tampered = "\(folder)/tampered.json"
        try Data(SharingJSON.bytes(.object(advisory))).write(to: URL(fileURLWithPath: tampered))
        let (tamperedStatus, tamperedOutput) = try Self.run(
            python, ["-m", "csaf", "validate", "--spec-version", "v20", "--no-network", "--quiet", tampered])
        #expect(tamperedStatus == 1, "\(tamperedOutput)")
        #expect(tamperedOutput.contains("[FAIL] 6.1.9"), "\(tamperedOutput)")
    }

    // MARK: Helpers

    /// Validates each file twice: as is, and in strict mode (every SHOULD as an error); references
    /// from relationships must resolve inside the bundle. One JSON line per file and mode.
    static let stixScript = """
        import json, sys
        from stix2validator import ValidationOptions, validate_file
        failed = False
        for path in sys.argv[1:]:
            for strict in (False, True):
                options = ValidationOptions(version="2.1", strict=strict, enforce_refs=True, silent=True)
                result = validate_file(path, options)
                messages = []
                for obj in result.object_results:
                    messages += [str(e) for e in (obj.errors or [])] + [str(w) for w in (obj.warnings or [])]
                messages += [str(e) for e in (result.fatal and [result.fatal] or [])]
                failed = failed or not result.is_valid
                print(json.dumps({"file": path, "strict": strict, "valid": result.is_valid, "messages": messages}))
        sys.exit(1 if failed else 0)
        """

    static func temporaryFolder(_ name: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("airlock-\(name)-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// Runs a program; its standard output and error, together, come back through a file so neither pipe can fill.
    static func run(_ executable: String, _ arguments: [String]) throws -> (Int32, String) {
        let outputFile = FileManager.default.temporaryDirectory.appendingPathComponent("airlock-validator-\(UUID().uuidString).out")
        try Data().write(to: outputFile)
        defer { try? FileManager.default.removeItem(at: outputFile) }
        let handle = try FileHandle(forWritingTo: outputFile)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        process.waitUntilExit()
        try handle.close()
        return (process.terminationStatus, (try? String(contentsOf: outputFile, encoding: .utf8)) ?? "")
    }
}

extension JSONValue {
    /// Follows object members: `json.at("document", "tracking", "version")`; nil where one is missing.
    func at(_ keys: String...) -> JSONValue? {
        var value: JSONValue? = self
        for key in keys {
            guard case .object(let members)? = value else { return nil }
            value = members[key]
        }
        return value
    }

    /// The elements of an array; empty for anything else.
    var elements: [JSONValue] {
        if case .array(let items) = self { return items }
        return []
    }
}
