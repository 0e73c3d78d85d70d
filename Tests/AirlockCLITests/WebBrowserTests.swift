import AirlockCore
import AirlockTestSupport
import Foundation
import Testing

/// The web UI in Debian's Chromium, driven by Playwright (scripts/browser_check.py) against a
/// real `airlock serve`, on a run whose model answered with everything a page must not run.
@Suite struct WebBrowserTests {
    static let hostile = [
        "<script>alert('script')</script>", #"<img src=x onerror="alert('img')">"#, #"<a href="javascript:alert('link')">click me</a>"#,
        #"<div hx-get="/sign-out/everywhere" hx-trigger="load">htmx</div>"#, #"<iframe src="https://evil.example/"></iframe>"#,
        #"<form action="https://evil.example/steal"><button>go</button></form>"#, "{{frame.formToken}}",
    ].joined(separator: "\n")

    @Test(.enabled(if: TestEnvironment.runsPython, "needs Playwright and Chromium (make test installs them)"))
    func aRunSeenInChromiumRunsNothingTheModelWroteAndHasNoSeriousAccessibilityFault() async throws {
        let python = try #require(TestEnvironment.python)
        try await ScriptedModelServer.withServer({ _ in .ok(ModelReplies.chat(Self.hostile + "\n" + String(repeating: "more text ", count: 600))) }) { upstream in
            try await ProgramServerProcess.with(arguments: ["--slots", "2"]) { server in
                let world = try await server.grantedEvaluator(upstream: upstream.baseURL)
                let folder = try Airlock.temporaryFolder()
                let task = try Airlock.wordsTask(3, in: folder)
                let submitted = try await server.run(["runs", "submit", task, "--version", world.version, "--grant", world.grant, "--watch"], key: world.evaluatorKey)
                #expect(submitted.output.contains("3/3 attempts"), "\(submitted.output)\n\(submitted.error)")
                let runID = try #require(submitted.output.split(separator: " ").dropFirst().first.map { String($0.dropLast()) })

                // Screenshots are kept as the test's artefacts.
                let screens = Airlock.packageRoot + "/.airlock/artifacts/web-ui"
                try FileManager.default.createDirectory(atPath: screens, withIntermediateDirectories: true)
                let report = try Self.script(
                    python, "browser_check.py",
                    [server.url, "admin@institute.example", "correct horse battery admin@institute.example", runID, "s1", "1", screens])


                // Nothing the model wrote ran, reached another host or broke the page.
                #expect((report["dialogs"] as? [String]) == [], "\(report)")
                #expect((report["foreign_requests"] as? [String]) == [], "\(report)")
                #expect((report["page_errors"] as? [String]) == [], "\(report)")
                #expect((report["console_errors"] as? [String]) == [], "\(report)")
                #expect(report["scripts_on_transcript"] as? [String] == ["/static/app.js"])
                let text = try #require(report["transcript_text"] as? String)
                #expect(text.contains("<script>alert('script')</script>") && text.contains("{{frame.formToken}}"))
                // Every page passes axe-core without a serious or critical violation.
                let pages = try #require(report["pages"] as? [String: [String: Any]])
                #expect(
                    Set(pages.keys) == [
                        "sign-in", "home", "models", "version", "grants", "runs", "run", "samples", "samples-search", "transcript", "account", "account-setup",
                    ])
                #expect(report["search_rows"] as? Int == 3, "\(report)")
                for (name, page) in pages {
                    #expect((page["serious_violations"] as? [String]) == [], "\(name): \(page)")
                    #expect(FileManager.default.fileExists(atPath: screens + "/\(name).png"), "\(name)")
                }
                // An anonymous reader is sent to sign in and comes back; the keyboard reaches the skip link first.
                #expect(report["redirected_to_sign_in"] as? Bool == true)
                #expect(report["first_focus"] as? String == "Skip to the content")
                #expect(report["signed_out"] as? Bool == true)
                print("web UI screenshots: \(screens)")
                #expect(try await server.stop() == 0)
            }
        }
    }
    /// Runs one of the project's browser scripts; the JSON object it prints.
    static func script(_ python: String, _ name: String, _ arguments: [String]) throws -> [String: Any] {
        let check = Process()
        check.executableURL = URL(fileURLWithPath: python)
        check.arguments = [Airlock.packageRoot + "/scripts/" + name] + arguments
        let output = Pipe()
        let errors = Pipe()
        check.standardOutput = output
        check.standardError = errors
        try check.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        let errorText = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        check.waitUntilExit()
        #expect(check.terminationStatus == 0, "\(name): \(errorText)")
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any], "\(name): \(errorText)")
    }

    /// A review cycle clicked through by four organisations, each in its own browser
    /// (scripts/review_cycle.py): the office approves a grant and the lab consents; the
    /// evaluator's run goes through the program's workers; the evaluator files a finding from a
    /// transcript it searched for, scored with the CVSS calculator and naming the bank as the
    /// vendor; the office opens a case and triages it; the bank states its fix; the office
    /// publishes the case after its preview and verifies the audit log.
    @Test(.enabled(if: TestEnvironment.runsPython, "needs Playwright and Chromium (make test installs them)"))
    func fourOrganisationsWorkAReviewCycleInTheirBrowsers() async throws {
        let python = try #require(TestEnvironment.python)
        try await ScriptedModelServer.withServer({ _ in .ok(ModelReplies.chat("The ledger's transfer endpoint accepts unsigned transfers.")) }) { upstream in
            try await ProgramServerProcess.with(arguments: ["--slots", "2"]) { server in
                let organisations = try await server.json(["org", "list"], key: server.officeKey)
                let items = organisations.objectValue?["items"]?.arrayValue ?? organisations.arrayValue ?? []
                let office = try #require(items.first { $0.objectValue?["kind"]?.stringValue == "program_office" }?.objectValue?["id"]?.stringValue)
                func organisation(_ name: String, _ kind: String, _ extra: [String] = []) async throws -> String {
                    try #require(try await server.json(["org", "create", name, "--kind", kind] + extra, key: server.officeKey).objectValue?["id"]?.stringValue)
                }
                let lab = try await organisation("Lab", "model_developer")
                let institute = try await organisation("Institute", "evaluator")
                let bank = try await organisation("Bank", "infrastructure_operator", ["--sector", "banking"])
                var accounts: [String: [String]] = [:]
                var keys: [String: String] = [:]
                for (name, org, email) in [("office", office, "lead@program.example"), ("lab", lab, "admin@lab.example"),
                    ("evaluator", institute, "admin@institute.example"), ("bank", bank, "admin@bank.example")] {
                    keys[name] = try await server.signedInUser(organisation: org, email: email)
                    accounts[name] = [email, "correct horse battery \(email)"]
                }
                let terms = try Airlock.temporaryFolder() + "/terms.txt"
                try "We share.".write(toFile: terms, atomically: true, encoding: .utf8)
                _ = try await server.json(["commitment", "create", "--terms-file", terms, "--from", ProgramCLI.date(days: -1)], key: keys["lab"]!)
                let model = try #require(try await server.json(["model", "create", "frontier"], key: keys["lab"]!).objectValue?["id"]?.stringValue)
                let version = try #require(try await server.json(
                    ["model", "notice", model, "--version", "2", "--release", ProgramCLI.date(days: 120), "--endpoint-url", upstream.baseURL,
                     "--endpoint-model", "frontier-internal", "--credentials-env", "LAB_KEY"],
                    key: keys["lab"]!, environment: ["LAB_KEY": "sk-lab-secret"]).objectValue?["id"]?.stringValue)
                _ = try await server.json(["model", "move", version, "--to", "in_review"], key: server.officeKey)
                let start = Date().addingTimeInterval(2).formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
                let grant = try #require(try await server.json(
                    ["grant", "create", "--version", version, "--grantee", institute, "--purpose", "capability_evaluation", "--from", start,
                     "--until", ProgramCLI.date(days: 60), "--tokens", "1000000", "--rpm", "6000"],
                    key: server.officeKey).objectValue?["id"]?.stringValue)
                let screens = Airlock.packageRoot + "/.airlock/artifacts/web-ui"
                try FileManager.default.createDirectory(atPath: screens, withIntermediateDirectories: true)
                func setup(_ extra: [String: String]) throws -> String {
                    var object: [String: Any] = accounts
                    object["grant"] = grant
                    for (key, value) in extra { object[key] = value }
                    return String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self)
                }

                let grants = try Self.script(python, "review_cycle.py", ["grants", server.url, screens, try setup([:])])
                #expect(grants["office_home_waits"] as? Bool == true && grants["lab_home_waits"] as? Bool == true, "\(grants)")
                #expect((grants["grant_status"] as? String).map { ["active", "approved"].contains($0) } == true, "\(grants)")
                try await Task.sleep(for: .seconds(2))

                let folder = try Airlock.temporaryFolder()
                let task = try Airlock.wordsTask(2, in: folder)
                let submitted = try await server.run(["runs", "submit", task, "--version", version, "--grant", grant, "--watch"], key: keys["evaluator"]!)
                #expect(submitted.output.contains("2/2 attempts"), "\(submitted.output)\n\(submitted.error)")
                let runID = try #require(submitted.output.split(separator: " ").dropFirst().first.map { String($0.dropLast()) })

                let review = try Self.script(python, "review_cycle.py", ["review", server.url, screens, try setup(["run": runID, "sample": "s1"])])
                #expect((review["steps"] as? [String])?.count == 4, "\(review)")
                #expect(review["score"] as? String == "9.1 critical: CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:N", "\(review)")
                let triage = try #require(review["triage_preview"] as? String)
                #expect(triage.contains("TLP:AMBER") && triage.contains("Bank") && triage.contains("Institute"), "\(triage)")
                #expect((review["bank_home"] as? String)?.contains("state your status") == true, "\(review)")
                #expect((review["bank_statement"] as? String)?.contains("Fixed in 4.3") == true, "\(review)")
                #expect((review["publication_preview"] as? String)?.contains("anyone, without signing in") == true, "\(review)")
                #expect(review["published_state"] as? String == "published", "\(review)")
                #expect((review["audit_verdict"] as? String)?.hasPrefix("The chain is intact") == true, "\(review)")
                for report in [grants, review] {
                    for key in ["dialogs", "foreign_requests", "page_errors", "console_errors"] {
                        #expect((report[key] as? [String]) == [], "\(key): \(report)")
                    }
                    for (name, page) in try #require(report["pages"] as? [String: [String: Any]]) {
                        #expect((page["serious_violations"] as? [String]) == [], "\(name): \(page)")
                    }
                }
                #expect(try await server.stop() == 0)
            }
        }
    }
}
