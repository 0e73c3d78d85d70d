@testable import AirlockCore
import AirlockTestSupport
import Foundation
import PropertyBased
import Testing

/// The CVSS 3.x and 4.0 readers under generated and mutated vectors: they never crash; an
/// accepted vector gives each metric the value it was written with, re-serialises to a vector
/// that reads back the same, and scores within 0 to 10 in tenths.
@Suite struct CVSSFuzzTests {
    /// Vectors from the metric tables: the mandatory metrics and some optional ones (`X` among
    /// their values), in the specification's order or shuffled, now and then one left out.
    static let vectors = Generator<String, Shrink.None<String>> { random in
        let version = ["CVSS:3.1/", "CVSS:3.0/", "CVSS:4.0/"].randomElement(using: &random)!
        let metrics = version == "CVSS:4.0/" ? CVSS40.metrics : CVSS31.metrics
        var fields = metrics.filter { $0.isMandatory || Bool.random(using: &random) }.map { metric in
            metric.abbreviation + ":" + metric.values.randomElement(using: &random)!
        }
        if Int.random(in: 0..<10, using: &random) == 0 { fields.shuffle(using: &random) }
        if Int.random(in: 0..<10, using: &random) == 0, !fields.isEmpty { fields.remove(at: Int.random(in: 0..<fields.count, using: &random)) }
        return version + fields.joined(separator: "/")
    }

    /// The metrics a vector's text names, as written; nil when it is not `PREFIX/M:V/…`.
    static func written(_ text: String) -> [String: String]? {
        var fields: [String: String] = [:]
        for field in text.split(separator: "/", omittingEmptySubsequences: false).dropFirst() {
            let parts = field.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count == 2 else { return nil }
            fields[String(parts[0])] = String(parts[1])
        }
        return fields
    }

    static func checkScore(_ score: Double, _ what: String, _ text: String) throws(FuzzFailure) {
        try fuzzRequire((0...10).contains(score), "\(what) \(score) of \(text) is outside 0…10")
        try fuzzRequire(abs(score * 10 - (score * 10).rounded()) < 1e-9, "\(what) \(score) of \(text) is not in tenths")
    }

    /// What both versions' readers must do with an accepted vector.
    static func checkAccepted(_ text: String, vector: String, value: (String) -> String?, metrics: [CVSSMetric]) throws(FuzzFailure) {
        try fuzzRequire(text.utf8.allSatisfy { $0 < 0x80 }, "accepted \(text), which is not ASCII")
        guard let fields = written(text) else { throw FuzzFailure("accepted \(text), which is not PREFIX/M:V/…") }
        for metric in metrics {
            let expected = fields[metric.abbreviation] ?? (metric.isMandatory ? nil : "X")
            try fuzzRequire(value(metric.abbreviation) == expected, "\(metric.abbreviation) of \(text) reads as \(value(metric.abbreviation) ?? "nil")")
        }
        try fuzzRequire(value("NOPE") == nil, "a metric that does not exist has a value")
        let canonicalFields = written(vector) ?? [:]
        try fuzzRequire(
            canonicalFields == fields.filter { $0.value != "X" }, "\(vector), the canonical form of \(text), names other metrics")
    }

    static let target = FuzzTarget(
        "cvss",
        seeds: ["CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "CVSS:3.0/AV:N/AC:L/PR:L/UI:N/S:C/C:L/I:L/A:N/E:F/RL:O/RC:C/MAV:A/MS:C",
                "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
                "CVSS:4.0/AV:L/AC:H/AT:P/PR:H/UI:A/VC:L/VI:N/VA:N/SC:H/SI:H/SA:H/E:U/CR:H/MSI:S/MSA:S/S:P/AU:Y/R:I/V:C/RE:H/U:Amber"],
        tokens: ["/", ":", "//", "CVSS:3.1/", "CVSS:4.0/", "X", "AV:N", "MSI:S", "U:Clear", "E:X", "AV:Ｎ"],
        generator: vectors
    ) { bytes throws(FuzzFailure) in
        let text = String(decoding: bytes, as: UTF8.self)
        if let cvss = try? CVSS31(text) {
            try checkAccepted(text, vector: cvss.vector, value: cvss.value(of:), metrics: CVSS31.metrics)
            for (score, name) in [(cvss.baseScore, "base score"), (cvss.temporalScore, "temporal score"), (cvss.environmentalScore, "environmental score")] {
                try checkScore(score, name, text)
            }
            guard let again = try? CVSS31(cvss.vector) else { throw FuzzFailure("\(cvss.vector), the canonical form of \(text), is refused") }
            try fuzzRequire(again.vector == cvss.vector && again.version == cvss.version, "\(cvss.vector) reads back as \(again.vector)")
            try fuzzRequire(
                (again.baseScore, again.temporalScore, again.environmentalScore) == (cvss.baseScore, cvss.temporalScore, cvss.environmentalScore),
                "\(cvss.vector) scores differently from \(text)")
        }
        if let cvss = try? CVSS40(text) {
            try checkAccepted(text, vector: cvss.vector, value: cvss.value(of:), metrics: CVSS40.metrics)
            try checkScore(cvss.score, "score", text)
            try fuzzRequire(cvss.macroVector.count == 6 && cvss.macroVector.allSatisfy(\.isASCII), "macrovector \(cvss.macroVector) of \(text)")
            guard let again = try? CVSS40(cvss.vector) else { throw FuzzFailure("\(cvss.vector), the canonical form of \(text), is refused") }
            try fuzzRequire(again.vector == cvss.vector && again.score == cvss.score, "\(cvss.vector) reads back as \(again.vector), \(again.score)")
        }
    }

    @Test func fuzz() {
        Self.target.run()
    }
}
