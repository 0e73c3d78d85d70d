import AirlockCore
import AirlockTestSupport
import Foundation
import Testing

/// Random vectors scored by Airlock and by the reference implementation, the PyPI package `cvss`
/// (Red Hat's, whose CVSS 4.0 code is FIRST's calculator): every score, severity, canonical
/// vector and macrovector must agree, and both must refuse the same malformed vectors.
@Suite struct CVSSInteropTests {
    static let needsPython = TestEnvironment.runsPython

    @Test(.enabled(if: needsPython, "needs the cvss package (make test installs it)"))
    func randomValidVectorsScoreAsTheReferenceDoes() throws {
        let python = try #require(ProcessInfo.processInfo.environment["AIRLOCK_TEST_PYTHON"])
        var generator = SeededGenerator(seed: 2024, stream: "cvss-interop-valid")
        let v3 = (0..<4000).map { _ in Self.randomVector(Self.metrics3, prefix: generator.nextIndex(below: 5) == 0 ? "CVSS:3.0/" : "CVSS:3.1/",
                                                            anyOrder: true, using: &generator) }
        let v4 = (0..<4000).map { _ in Self.randomVector(Self.metrics4, prefix: "CVSS:4.0/", anyOrder: false, using: &generator) }
        let replies = try Self.askPython(python, v3.map { "3 " + $0 } + v4.map { "4 " + $0 })
        try #require(replies.count == v3.count + v4.count)

        var mismatches: [String] = []
        for (vector, reply) in zip(v3, replies.prefix(v3.count)) {
            do {
                let cvss = try CVSS31(vector)
                let ours = [cvss.baseScore, cvss.temporalScore, cvss.environmentalScore]
                let severities = [cvss.baseSeverity, cvss.temporalSeverity, cvss.environmentalSeverity].map(\.rawValue)
                if reply.scores != ours || reply.severities != severities || reply.clean != cvss.vector {
                    mismatches.append("\(vector): Airlock \(ours) \(severities) \(cvss.vector), cvss \(reply)")
                }
            } catch {
                mismatches.append("\(vector): Airlock refused it (\(error)), cvss \(reply)")
            }
        }
        for (vector, reply) in zip(v4, replies.dropFirst(v3.count)) {
            do {
                let cvss = try CVSS40(vector)
                if reply.scores != [cvss.score] || reply.severities != [cvss.severity.rawValue] || reply.clean != cvss.vector
                    || reply.macroVector != cvss.macroVector {
                    mismatches.append("\(vector): Airlock \(cvss.score) \(cvss.severity) \(cvss.macroVector) \(cvss.vector), cvss \(reply)")
                }
            } catch {
                mismatches.append("\(vector): Airlock refused it (\(error)), cvss \(reply)")
            }
        }
        #expect(mismatches.isEmpty, "\(mismatches.count) of \(replies.count) differ; first: \(mismatches.prefix(5).joined(separator: "\n"))")
    }

    @Test(.enabled(if: needsPython, "needs the cvss package (make test installs it)"))
    func malformedVectorsAreRefusedByBoth() throws {
        let python = try #require(ProcessInfo.processInfo.environment["AIRLOCK_TEST_PYTHON"])
        var generator = SeededGenerator(seed: 2024, stream: "cvss-interop-malformed")
        var cases: [(version: String, vector: String, code: CVSSError.Code)] = []
        for index in 0..<600 {
            let isV4 = index % 2 == 1
            let valid = isV4
                ? Self.randomVector(Self.metrics4, prefix: "CVSS:4.0/", anyOrder: false, using: &generator)
                : Self.randomVector(Self.metrics3, prefix: "CVSS:3.1/", anyOrder: true, using: &generator)
            let (vector, code) = Self.malform(valid, version: isV4 ? "4" : "3", using: &generator)
            cases.append((isV4 ? "4" : "3", vector, code))
        }
        let replies = try Self.askPython(python, cases.map { "\($0.version) \($0.vector)" })
        try #require(replies.count == cases.count)

        var problems: [String] = []
        for (item, reply) in zip(cases, replies) {
            do {
                if item.version == "4" { _ = try CVSS40(item.vector) } else { _ = try CVSS31(item.vector) }
                problems.append("Airlock accepted \(item.vector)")
            } catch {
                if error.code != item.code { problems.append("\(item.vector): \(error.code), expected \(item.code)") }
            }
            if reply.accepted { problems.append("cvss accepted \(item.vector)") }
        }
        #expect(problems.isEmpty, "\(problems.count) problems; first: \(problems.prefix(5).joined(separator: "\n"))")

        // Out-of-order 4.0 vectors: the specification forbids them and Airlock refuses them, but the
        // cvss package accepts any order, so they are not sent to it.
        for _ in 0..<100 {
            var fields = Self.randomVector(Self.metrics4, prefix: "", anyOrder: false, using: &generator).split(separator: "/").map(String.init)
            let first = generator.nextIndex(below: fields.count - 1)
            fields.swapAt(first, first + 1 + generator.nextIndex(below: fields.count - first - 1))
            #expect(throws: CVSSError.self) { _ = try CVSS40("CVSS:4.0/" + fields.joined(separator: "/")) }
        }
    }

    // MARK: - Generators

    typealias MetricValues = (name: String, values: [String], mandatory: Bool)

    /// CVSS 3.x metrics in the specification's order (written out here, apart from the implementation).
    static let metrics3: [MetricValues] = [
        ("AV", ["N", "A", "L", "P"], true), ("AC", ["L", "H"], true), ("PR", ["N", "L", "H"], true), ("UI", ["N", "R"], true),
        ("S", ["U", "C"], true), ("C", ["H", "L", "N"], true), ("I", ["H", "L", "N"], true), ("A", ["H", "L", "N"], true),
        ("E", ["X", "H", "F", "P", "U"], false), ("RL", ["X", "U", "W", "T", "O"], false), ("RC", ["X", "C", "R", "U"], false),
        ("CR", ["X", "H", "M", "L"], false), ("IR", ["X", "H", "M", "L"], false), ("AR", ["X", "H", "M", "L"], false),
        ("MAV", ["X", "N", "A", "L", "P"], false), ("MAC", ["X", "L", "H"], false), ("MPR", ["X", "N", "L", "H"], false),
        ("MUI", ["X", "N", "R"], false), ("MS", ["X", "U", "C"], false), ("MC", ["X", "H", "L", "N"], false),
        ("MI", ["X", "H", "L", "N"], false), ("MA", ["X", "H", "L", "N"], false),
    ]

    /// CVSS 4.0 metrics in the specification's order.
    static let metrics4: [MetricValues] = {
        let impact = ["H", "L", "N"]
        let base: [MetricValues] = [
            ("AV", ["N", "A", "L", "P"], true), ("AC", ["L", "H"], true), ("AT", ["N", "P"], true), ("PR", ["N", "L", "H"], true),
            ("UI", ["N", "P", "A"], true), ("VC", impact, true), ("VI", impact, true), ("VA", impact, true),
            ("SC", impact, true), ("SI", impact, true), ("SA", impact, true),
        ]
        let rest: [MetricValues] = [
            ("E", ["X", "A", "P", "U"], false),
            ("CR", ["X", "H", "M", "L"], false), ("IR", ["X", "H", "M", "L"], false), ("AR", ["X", "H", "M", "L"], false),
            ("MAV", ["X", "N", "A", "L", "P"], false), ("MAC", ["X", "L", "H"], false), ("MAT", ["X", "N", "P"], false),
            ("MPR", ["X", "N", "L", "H"], false), ("MUI", ["X", "N", "P", "A"], false),
            ("MVC", ["X"] + impact, false), ("MVI", ["X"] + impact, false), ("MVA", ["X"] + impact, false),
            ("MSC", ["X"] + impact, false), ("MSI", ["X", "S"] + impact, false), ("MSA", ["X", "S"] + impact, false),
            ("S", ["X", "N", "P"], false), ("AU", ["X", "N", "Y"], false), ("R", ["X", "A", "U", "I"], false),
            ("V", ["X", "D", "C"], false), ("RE", ["X", "L", "M", "H"], false), ("U", ["X", "Clear", "Green", "Amber", "Red"], false),
        ]
        return base + rest
    }()

    /// Every mandatory metric, and each optional one with probability one half (X among its values);
    /// shuffled a third of the time where the version allows any order.
    static func randomVector(_ metrics: [MetricValues], prefix: String, anyOrder: Bool, using generator: inout SeededGenerator) -> String {
        // Some vectors define every optional metric, so that all the modified metrics meet.
        let everything = generator.nextIndex(below: 8) == 0
        var fields: [String] = []
        for metric in metrics where metric.mandatory || everything || generator.nextIndex(below: 2) == 0 {
            fields.append(metric.name + ":" + metric.values[generator.nextIndex(below: metric.values.count)])
        }
        if anyOrder && generator.nextIndex(below: 3) == 0 { generator.shuffle(&fields) }
        return prefix + fields.joined(separator: "/")
    }

    /// Breaks a valid vector in one of several ways, returning it and the code Airlock should give.
    static func malform(_ vector: String, version: String, using generator: inout SeededGenerator) -> (String, CVSSError.Code) {
        let prefixLength = "CVSS:x.y/".count
        let prefix = String(vector.prefix(prefixLength))
        var fields = vector.dropFirst(prefixLength).split(separator: "/").map(String.init)
        let metrics = version == "4" ? metrics4 : metrics3
        let mandatory = Set(metrics.filter(\.mandatory).map(\.name))
        let pick = generator.nextIndex(below: fields.count)
        switch generator.nextIndex(below: 8) {
        case 0:
            let removed = mandatory.sorted()[generator.nextIndex(below: mandatory.count)]
            fields.removeAll { $0.hasPrefix(removed + ":") }
            return (prefix + fields.joined(separator: "/"), .missingMetric)
        case 1:
            fields.append(fields[pick])
            return (prefix + fields.joined(separator: "/"), .duplicateMetric)
        case 2:
            let name = fields[pick].split(separator: ":")[0]
            fields[pick] = name + ":" + ["Q", "", "x", "n", "NN"][generator.nextIndex(below: 5)]
            return (prefix + fields.joined(separator: "/"), .badValue)
        case 3:
            fields.append(["ZZ:N", version == "4" ? "RL:O" : "AT:N", "av:N"][generator.nextIndex(below: 3)])
            return (prefix + fields.joined(separator: "/"), .unknownMetric)
        case 4:
            return (vector + "/", .malformed)
        case 5:
            fields.insert("", at: pick)
            return (prefix + fields.joined(separator: "/"), .malformed)
        case 6:
            fields[pick] = fields[pick].replacingOccurrences(of: ":", with: generator.nextIndex(below: 2) == 0 ? "" : "::")
            return (prefix + fields.joined(separator: "/"), .malformed)
        default:
            let otherPrefix = ["CVSS:3.2/", "CVSS:4.1/", "cvss:\(version == "4" ? "4.0" : "3.1")/", "", "CVSS:31/"][generator.nextIndex(below: 5)]
            return (otherPrefix + fields.joined(separator: "/"), .missingPrefix)
        }
    }

    // MARK: - The reference

    struct Reply: Decodable, CustomStringConvertible {
        var accepted: Bool
        var scores: [Double]?
        var severities: [String]?
        var clean: String?
        var macroVector: String?

        var description: String {
            accepted ? "\(scores ?? []) \(severities ?? []) \(macroVector ?? "") \(clean ?? "")" : "refused it"
        }
    }

    /// One line per vector in ("3 CVSS:3.1/…" or "4 CVSS:4.0/…"), one JSON object per vector out.
    static let script = """
        import json, sys
        from cvss import CVSS3, CVSS4
        for line in open(sys.argv[1], encoding="utf-8").read().split("\\n"):
            if not line:
                continue
            version, vector = line[0], line[2:]
            try:
                cvss = CVSS3(vector) if version == "3" else CVSS4(vector)
            except Exception:
                print(json.dumps({"accepted": False}))
                continue
            reply = {"accepted": True, "scores": list(cvss.scores()), "clean": cvss.clean_vector(),
                     "severities": [s.lower() for s in cvss.severities()]}
            if version == "4":
                reply["macroVector"] = cvss.macroVector()
            print(json.dumps(reply))
        """

    static func askPython(_ python: String, _ lines: [String]) throws -> [Reply] {
        let input = FileManager.default.temporaryDirectory.appendingPathComponent("cvss-interop-\(UUID().uuidString).txt")
        try (lines.joined(separator: "\n") + "\n").write(to: input, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: input) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = ["-c", script, input.path]
        let output = Pipe()
        process.standardOutput = output
        // stderr is not read while stdout drains, so it goes to a file rather than a pipe that could fill.
        let errorFile = FileManager.default.temporaryDirectory.appendingPathComponent("cvss-interop-\(UUID().uuidString).err")
        try Data().write(to: errorFile)
        defer { try? FileManager.default.removeItem(at: errorFile) }
        process.standardError = try FileHandle(forWritingTo: errorFile)
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let errors = (try? String(contentsOf: errorFile, encoding: .utf8)) ?? ""
        try #require(process.terminationStatus == 0, "python failed: \(errors)")
        let decoder = JSONDecoder()
        return try data.split(separator: UInt8(ascii: "\n")).map { try decoder.decode(Reply.self, from: Data($0)) }
    }
}
