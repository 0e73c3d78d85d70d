import AirlockCore
import AirlockEval
import AirlockSuites
import AirlockTestSupport
import Foundation
import Testing

@Suite struct AssessCommandTests {
    /// A policy over a words task, and the same task as a suite that needs a grader (none is
    /// bound, so it is reported as not run).
    static func policy(in folder: String, count: Int) throws -> String {
        _ = try Airlock.wordsTask(count, in: folder)
        try """
            name: words-policy
            version: "7"
            suites:
              - {id: words, title: Words, task: task.yaml, domain: d, higher_means: capability}
              - {id: graded, title: Graded words, task: task.yaml, domain: d, higher_means: capability, needs: [grader]}
            domains:
              - id: d
                title: Words
                levels:
                  - name: none
                  - name: some
                    any: [{suite: words, at_least: 0.5}]
                  - name: all
                    any: [{suite: words, at_least: 0.99}]
            """.write(toFile: folder + "/policy.yaml", atomically: true, encoding: .utf8)
        return folder + "/policy.yaml"
    }

    @Test func assessRunsThePolicyDecidesLevelsAndComparesWithABaseline() async throws {
        let folder = try Airlock.temporaryFolder()
        let policy = try Self.policy(in: folder, count: 30)
        let logs = folder + "/logs"
        // The baseline model gets a third of the words right; the model under test all of them.
        try await ScriptedModelServer.withServer({ request in
            let wanted = word(request)
            let number = Int(wanted.split(separator: "-").last ?? "") ?? 0
            return .ok(ModelReplies.chat(number % 3 == 0 ? wanted : "no"))
        }) { server in
            let baseline = try await Airlock.run(["assess", "--policy", policy, "--model", "openai/released", "--model-base-url", server.baseURL, "--log-dir", logs, "--no-progress"], environment: ["OPENAI_API_KEY": "k"])
            #expect(baseline.status == 0, "\(baseline.error)")
        }
        let baselineID = try #require(try FileManager.default.contentsOfDirectory(atPath: logs + "/assessments").first)
        try await ScriptedModelServer.withServer({ .ok(ModelReplies.chat(word($0))) }) { server in
            let result = try await Airlock.run(["assess", "--policy", policy, "--model", "openai/candidate", "--model-base-url", server.baseURL, "--log-dir", logs, "--baseline", baselineID, "--no-progress"], environment: ["OPENAI_API_KEY": "k"])
            #expect(result.status == 0, "\(result.error)")
            #expect(result.output.contains("not run: graded: model-graded"))
            // 30/30: the Wilson lower bound (0.886) is under 0.99, so "all" stays open and "some" is established.
            #expect(result.output.contains("Words: some (open)"))
            let reportLine = try #require(result.output.split(separator: "\n").first { $0.hasPrefix("report: ") })
            let html = String(reportLine.dropFirst("report: ".count))
            let folder = AssessmentFolder(path: URL(fileURLWithPath: html).deletingLastPathComponent().path)
            let assessment = try folder.read()
            #expect(assessment.policy.version == "7")
            #expect(assessment.suites.map(\.status) == [.complete, .notRun])
            let words = try #require(assessment.suites[0].measurement)
            #expect(words.value == 1 && words.count == 30)
            #expect(abs(words.lower - 0.8865) < 1e-3)
            #expect(assessment.suites[0].evidence.count == 25)  // capped per suite
            #expect(FileManager.default.fileExists(atPath: folder.path + "/" + assessment.suites[0].evidence[0].transcript))
            let comparison = try #require(assessment.baseline)
            let row = try #require(comparison.rows.first)
            #expect(abs(row.baseline.value - 10.0 / 30.0) < 1e-9)
            #expect(row.difference.method == "newcombe")
            #expect(row.difference.lower > 0.4)
            for file in ["report.html", "report.json", "report.md"] { #expect(FileManager.default.fileExists(atPath: folder.path + "/" + file)) }
        }
    }

    @Test func aMalformedPolicyIsRefusedWithItsFieldBeforeAnyCall() async throws {
        let folder = try Airlock.temporaryFolder()
        let policy = try Self.policy(in: folder, count: 2)
        try String(contentsOfFile: policy, encoding: .utf8).replacingOccurrences(of: "at_least: 0.5", with: "at_least: 50")
            .write(toFile: policy, atomically: true, encoding: .utf8)
        let result = try await Airlock.run(["assess", "--policy", policy, "--model", "openai/x", "--model-base-url", "http://127.0.0.1:9", "--log-dir", folder + "/logs"], environment: ["OPENAI_API_KEY": "k"])
        #expect(result.status == 2)
        #expect(result.error.contains("policy.yaml:12: domains[0].levels[1].any[0].at_least"))
        #expect(!FileManager.default.fileExists(atPath: folder + "/logs/assessments"))
    }

    @Test func anInterruptedAssessmentResumesWithoutRedoingAttempts() async throws {
        let folder = try Airlock.temporaryFolder()
        let policy = try Self.policy(in: folder, count: 40)
        let logs = folder + "/logs"
        // The first server answers 5 requests and then never again: the assessment is killed
        // with those 5 on disk and the rest in flight.
        let id = try await ScriptedModelServer.withServer({ $0.index < 5 ? .ok(ModelReplies.chat(word($0))) : .stall }) { server in
            let (process, _, _) = try Airlock.start(["assess", "--policy", policy, "--model", "openai/m", "--model-base-url", server.baseURL, "--log-dir", logs, "--max-connections", "2", "--no-progress"], environment: ["OPENAI_API_KEY": "k"])
            for _ in 0..<600 where RunDirectory.list(in: logs).first.map({ (try? $0.readRecords().count) ?? 0 < 5 }) ?? true {
                try await Task.sleep(for: .milliseconds(50))
            }
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            return try #require(try FileManager.default.contentsOfDirectory(atPath: logs + "/assessments").first)
        }
        let interrupted = try AssessmentFolder.find(id, in: logs).read()
        #expect(interrupted.finished == nil)
        let done = try RunDirectory(path: try #require(interrupted.suites[0].run)).readRecords()
        #expect(done.count == 5)
        try await ScriptedModelServer.withServer({ .ok(ModelReplies.chat(word($0))) }) { server in
            let resumed = try await Airlock.run(["assess", "--resume", id, "--model-base-url", server.baseURL, "--log-dir", logs, "--no-progress"], environment: ["OPENAI_API_KEY": "k"])
            #expect(resumed.status == 0, "\(resumed.error)")
            // Only the 35 attempts not yet scored are asked again.
            #expect(server.requests.count == 35)
        }
        let finished = try AssessmentFolder.find(id, in: logs).read()
        #expect(finished.suites[0].measurement?.count == 40)
        #expect(finished.suites[0].run == interrupted.suites[0].run)
        #expect(finished.finished != nil)
    }
}

/// The whole main job on the real local model: every report file, and an HTML page that headless
/// Chromium renders.
@Suite(.enabled(if: TestEnvironment.runs(.localModel, ifAvailable: LocalModel.isInstalled(LocalModel.Configuration(environment: ProcessInfo.processInfo.environment))), "needs the local model (make test installs it)"))
struct AssessOnTheLocalModelTests {
    @Test func quickAssessWritesThreeReportsAndTheHTMLRendersInChromium() async throws {
        let folder = try Airlock.temporaryFolder()
        let result = try await Airlock.run(["assess", "--model", "local", "--model-role", "grader=local", "--quick", "--log-dir", folder + "/logs", "--no-progress"])
        #expect(result.status == 0, "\(result.error)")
        let html = try #require(result.output.split(separator: "\n").first { $0.hasPrefix("report: ") }.map { String($0.dropFirst("report: ".count)) })
        let assessmentFolder = AssessmentFolder(path: URL(fileURLWithPath: html).deletingLastPathComponent().path)
        let assessment = try assessmentFolder.read()
        #expect(assessment.quick)
        #expect(assessment.domains.map(\.domain) == ["cyber-offense", "safeguards"])
        for suite in assessment.suites {
            // Every suite either ran to a measurement or says why not.
            #expect(suite.status == .notRun ? suite.reason != nil : suite.measurement != nil, "\(suite.id): \(suite.reason ?? "")")
        }
        #expect(assessment.suites.filter { $0.status == .complete }.count >= 5)
        for file in ["report.html", "report.json", "report.md"] {
            #expect(FileManager.default.fileExists(atPath: assessmentFolder.path + "/" + file))
        }
        // Hazardous text stays out of the console: no item input of any run is printed.
        for suite in assessment.suites {
            guard let run = suite.run else { continue }
            for record in try RunDirectory(path: run).readRecords().prefix(5) {
                if case .text(let input) = record.input, input.count > 40 { #expect(!result.output.contains(input)) }
            }
        }
        try Chromium.render(html, screenshot: assessmentFolder.path + "/report.png")
        print("assess --quick report screenshot: \(assessmentFolder.path)/report.png")
    }
}

/// Headless Chromium (Debian's `chromium`): a page must load without console errors, keep its
/// charts in the DOM, and produce a screenshot.
enum Chromium {
    static let binary = "/usr/bin/chromium"

    static func render(_ page: String, screenshot: String) throws {
        let common = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--enable-logging=stderr", "--v=0"]
        let dom = try run(common + ["--dump-dom", "file://" + page])
        #expect(dom.status == 0, "\(dom.error)")
        #expect(dom.output.contains("<svg"))
        #expect(dom.output.contains("</html>"))
        #expect(!dom.error.contains("CONSOLE"), "console messages: \(dom.error)")
        let shot = try run(common + ["--window-size=1200,2400", "--screenshot=" + screenshot, "file://" + page])
        #expect(shot.status == 0, "\(shot.error)")
        let size = (try FileManager.default.attributesOfItem(atPath: screenshot)[.size] as? Int) ?? 0
        #expect(size > 20_000, "the screenshot is \(size) bytes")
    }

    static func run(_ arguments: [String]) throws -> Airlock.Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments
        let output = Pipe()
        let error = Pipe()
        process.standardOutput = output
        process.standardError = error
        try process.run()
        let outData = output.fileHandleForReading.readDataToEndOfFile()
        let errData = error.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Airlock.Result(status: process.terminationStatus, output: String(decoding: outData, as: UTF8.self), error: String(decoding: errData, as: UTF8.self))
    }
}
