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
                let check = Process()
                check.executableURL = URL(fileURLWithPath: python)
                check.arguments = [
                    Airlock.packageRoot + "/scripts/browser_check.py", server.url, "admin@institute.example", "correct horse battery admin@institute.example",
                    runID, "s1", "1", screens,
                ]
                let output = Pipe()
                let errors = Pipe()
                check.standardOutput = output
                check.standardError = errors
                try check.run()
                let data = output.fileHandleForReading.readDataToEndOfFile()
                let errorText = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
                check.waitUntilExit()
                #expect(check.terminationStatus == 0, "\(errorText)")
                let report = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any], "\(errorText)")

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
}
