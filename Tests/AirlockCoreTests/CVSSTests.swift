import AirlockCore
import Foundation
import Testing

@Suite struct CVSS31Tests {
    /// Base scores of the CVSS v3.1 Examples document (FIRST), one per worked CVE.
    @Test(arguments: [
        ("AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N", 6.1),  // CVE-2013-1937 phpMyAdmin XSS
        ("AV:N/AC:L/PR:L/UI:N/S:C/C:L/I:L/A:N", 6.4),  // CVE-2013-0375 MySQL
        ("AV:N/AC:H/PR:N/UI:R/S:U/C:L/I:N/A:N", 3.1),  // CVE-2014-3566 POODLE
        ("AV:N/AC:L/PR:L/UI:N/S:C/C:H/I:H/A:H", 9.9),  // CVE-2012-1516 VMware
        ("AV:L/AC:L/PR:H/UI:N/S:U/C:L/I:L/A:L", 4.2),  // CVE-2009-0783 Tomcat
        ("AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H", 8.8),  // CVE-2012-0384 Cisco IOS
        ("AV:L/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H", 7.8),  // CVE-2015-1098 Apple iWork
        ("AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N", 7.5),  // CVE-2014-0160 Heartbleed
        ("AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8),  // CVE-2014-6271 Shellshock
        ("AV:N/AC:H/PR:N/UI:N/S:C/C:N/I:H/A:N", 6.8),  // CVE-2008-1447 DNS cache poisoning
        ("AV:P/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 6.8),  // CVE-2014-2005 Sophos
        ("AV:N/AC:L/PR:N/UI:N/S:C/C:L/I:N/A:N", 5.8),  // CVE-2010-0467 Joomla
        ("AV:N/AC:L/PR:N/UI:N/S:C/C:N/I:L/A:N", 5.8),  // CVE-2012-1342 Cisco ASA
        ("AV:A/AC:L/PR:N/UI:N/S:C/C:H/I:N/A:H", 9.3),  // CVE-2013-6014 Juniper
        ("AV:N/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H", 8.8),  // CVE-2015-0970 SearchBlox
    ])
    func specificationExamples(metrics: String, base: Double) throws {
        let cvss = try CVSS31("CVSS:3.1/" + metrics)
        #expect(cvss.baseScore == base)
        // With no temporal metric the temporal score is the base score.
        #expect(cvss.temporalScore == base)
        #expect(cvss.version == .v3_1)
        #expect(!cvss.hasTemporalMetrics && !cvss.hasEnvironmentalMetrics)
    }

    /// Temporal and environmental scores (checked against the `cvss` package, FIRST's equations).
    @Test func temporalAndEnvironmentalScores() throws {
        let temporal = try CVSS31("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/E:P/RL:O/RC:C")
        #expect(temporal.baseScore == 9.8)
        #expect(temporal.temporalScore == 8.8)  // Roundup(9.8 × 0.94 × 0.95) = Roundup(8.7514)
        #expect(temporal.environmentalScore == 8.8)
        #expect(temporal.hasTemporalMetrics && !temporal.hasEnvironmentalMetrics)

        let everything = try CVSS31(
            "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/E:U/RL:T/RC:R/CR:L/IR:H/AR:M/MAV:A/MAC:H/MPR:L/MUI:R/MS:C/MC:H/MI:L/MA:N")
        #expect(everything.baseScore == 9.8)
        #expect(everything.temporalScore == 8.3)
        #expect(everything.environmentalScore == 4.2)
        #expect(everything.environmentalSeverity == .medium)

        // A modified scope of C raises the modified privileges weight even when MPR is not defined.
        let changedScope = try CVSS31("CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:N/A:N/MS:C")
        #expect(changedScope.baseScore == 5.5)
        #expect(changedScope.environmentalScore == 6.5)
    }

    /// 3.1 changed the modified-impact formula but not the base one, so a scope-changed vector's
    /// environmental score can differ from its base score with no environmental metric at all.
    @Test func version31EnvironmentalScoreCanDifferFromBase() throws {
        let metrics = "AV:N/AC:L/PR:L/UI:N/S:C/C:H/I:H/A:H"
        let v31 = try CVSS31("CVSS:3.1/" + metrics)
        #expect(v31.baseScore == 9.9 && v31.environmentalScore == 10.0)
        let v30 = try CVSS31("CVSS:3.0/" + metrics)
        #expect(v30.baseScore == 9.9 && v30.environmentalScore == 9.9)
    }

    /// CVSS 3.0 vectors keep their version and its modified-impact formula for a changed scope.
    @Test func version30UsesItsOwnEnvironmentalFormula() throws {
        let metrics = "AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/CR:M/IR:L/AR:H/MS:C/MC:H/MI:H/MA:N"
        let v30 = try CVSS31("CVSS:3.0/" + metrics)
        let v31 = try CVSS31("CVSS:3.1/" + metrics)
        #expect(v30.version == .v3_0)
        #expect(v30.vector.hasPrefix("CVSS:3.0/"))
        #expect(v30.environmentalScore == 9.6)
        #expect(v31.environmentalScore == 9.5)
        #expect(v30.baseScore == v31.baseScore)
        #expect(v30 != v31)
    }

    @Test func noImpactScoresZero() throws {
        let cvss = try CVSS31("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N")
        #expect(cvss.baseScore == 0)
        #expect(cvss.baseSeverity == .none)
    }

    @Test func canonicalFormReordersAndDropsUndefined() throws {
        let shuffled = try CVSS31("CVSS:3.1/A:H/MAV:X/E:F/S:U/AV:N/I:L/AC:L/CR:H/C:N/PR:L/UI:R/RL:X")
        #expect(shuffled.vector == "CVSS:3.1/AV:N/AC:L/PR:L/UI:R/S:U/C:N/I:L/A:H/E:F/CR:H")
        let again = try CVSS31(shuffled.vector)
        #expect(again.vector == shuffled.vector)
        #expect(again == shuffled)
        #expect(again.baseScore == shuffled.baseScore && again.environmentalScore == shuffled.environmentalScore)
        #expect(shuffled.value(of: "E") == "F")
        #expect(shuffled.value(of: "RL") == "X")
        #expect(shuffled.value(of: "ZZ") == nil)
    }

    @Test func codableAsTheVectorString() throws {
        let cvss = try CVSS31("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N/E:X")
        let data = try JSONEncoder().encode([cvss])
        #expect(String(decoding: data, as: UTF8.self) == #"["CVSS:3.1\/AV:N\/AC:L\/PR:N\/UI:N\/S:U\/C:H\/I:N\/A:N"]"#)
        #expect(try JSONDecoder().decode([CVSS31].self, from: data) == [cvss])
        #expect(throws: DecodingError.self) { try JSONDecoder().decode([CVSS31].self, from: Data(#"["CVSS:3.1/AV:N"]"#.utf8)) }
    }

    @Test func csafPropertiesUseTheSchemaNames() throws {
        let cvss = try CVSS31("CVSS:3.1/AV:A/AC:H/PR:L/UI:R/S:C/C:H/I:L/A:N/E:P/MAV:N/MS:U")
        let properties = Dictionary(uniqueKeysWithValues: cvss.csafProperties().map { ($0.name, $0.value) })
        #expect(properties == [
            "attackVector": "ADJACENT_NETWORK", "attackComplexity": "HIGH", "privilegesRequired": "LOW",
            "userInteraction": "REQUIRED", "scope": "CHANGED", "confidentialityImpact": "HIGH",
            "integrityImpact": "LOW", "availabilityImpact": "NONE", "exploitCodeMaturity": "PROOF_OF_CONCEPT",
            "modifiedAttackVector": "NETWORK", "modifiedScope": "UNCHANGED",
        ])
        #expect(cvss.csafProperties().first?.name == "attackVector")
    }

    @Test(arguments: [
        ("AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:Q", CVSSError.Code.badValue, "A"),
        ("AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/E:X/E:F", .duplicateMetric, "E"),
        ("AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/ZZ:N", .unknownMetric, "ZZ"),
        ("AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H", .missingMetric, "A"),
        ("AV:N/AC:L/UI:N/C:H/I:H/A:H", .missingMetric, "PR"),
        ("AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/", .malformed, nil),
        ("AV:N//AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", .malformed, nil),
        ("AV:N/ACL/PR:N/UI:N/S:U/C:H/I:H/A:H", .malformed, nil),
        ("AV:N:L/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", .malformed, nil),
        ("AV:n/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", .badValue, "AV"),
        ("AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/MS:Q", .badValue, "MS"),
    ] as [(String, CVSSError.Code, String?)])
    func rejectsBadVectors(metrics: String, code: CVSSError.Code, metric: String?) {
        let vector = "CVSS:3.1/" + metrics
        #expect {
            _ = try CVSS31(vector)
        } throws: { error in
            guard let error = error as? CVSSError else { return false }
            return error.code == code && error.metric == metric && error.vector == vector
        }
    }

    @Test(arguments: ["", "AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "CVSS:3.2/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "CVSS:3.1", "cvss:3.1/AV:N"])
    func rejectsMissingOrUnknownPrefix(vector: String) {
        #expect {
            _ = try CVSS31(vector)
        } throws: { error in
            (error as? CVSSError)?.code == (vector.isEmpty ? .malformed : .missingPrefix)
        }
    }

    @Test func errorDescriptionNamesTheMetricAndItsValues() {
        let vector = "CVSS:3.1/AV:Q/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"
        do {
            _ = try CVSS31(vector)
            Issue.record("accepted \(vector)")
        } catch {
            #expect(error.description == #"CVSS 3.1 vector "\#(vector)": AV has no value "Q" (expected N, A, L or P)"#)
            #expect(error.metric == "AV")
        }
        do {
            _ = try CVSS31("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/RC:Z")
        } catch {
            #expect(error.description.hasSuffix(#"RC has no value "Z" (expected X, C, R or U)"#))
        }
    }
}

@Suite struct CVSS40Tests {
    /// Scores from FIRST's CVSS v4.0 specification and calculator (the `cvss` package agrees).
    @Test(arguments: [
        ("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", 9.3, "000200", CVSSSeverity.critical),
        ("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:H/SI:H/SA:H", 10.0, "000100", .critical),
        ("CVSS:4.0/AV:L/AC:L/AT:P/PR:L/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", 7.3, "110200", .high),
        ("CVSS:4.0/AV:P/AC:H/AT:N/PR:H/UI:P/VC:H/VI:H/VA:H/SC:H/SI:H/SA:H/E:A", 7.3, "210100", .high),
        ("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/E:U", 8.1, "000220", .high),
        ("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/CR:L/IR:L/AR:L/MSI:S", 9.8, "000001", .critical),
        ("CVSS:4.0/AV:A/AC:H/AT:P/PR:L/UI:A/VC:L/VI:N/VA:N/SC:L/SI:N/SA:N/E:P/CR:M/MAV:N/S:P/AU:Y/R:I/V:C/RE:H/U:Red",
         1.1, "112211", .low),
        ("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:N/VA:N/SC:N/SI:N/SA:N/MVC:L", 6.9, "002201", .medium),
        ("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:N/VA:N/SC:N/SI:N/SA:N", 0.0, "002201", .none),
    ])
    func knownScores(vector: String, score: Double, macroVector: String, severity: CVSSSeverity) throws {
        let cvss = try CVSS40(vector)
        #expect(cvss.score == score)
        #expect(cvss.macroVector == macroVector)
        #expect(cvss.severity == severity)
        #expect(cvss.vector == vector)
    }

    @Test func nomenclatureFollowsTheDefinedGroups() throws {
        let base = "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"
        #expect(try CVSS40(base).nomenclature == .base)
        #expect(try CVSS40(base + "/E:X/CR:X/U:Red").nomenclature == .base)  // X and supplemental metrics do not count
        #expect(try CVSS40(base + "/E:P").nomenclature == .baseThreat)
        #expect(try CVSS40(base + "/MSA:S").nomenclature == .baseEnvironmental)
        #expect(try CVSS40(base + "/E:A/AR:L").nomenclature == .baseThreatEnvironmental)
        #expect(CVSS40.Nomenclature.baseThreatEnvironmental.rawValue == "CVSS-BTE")
    }

    @Test func supplementalMetricsNeverChangeTheScore() throws {
        let base = "CVSS:4.0/AV:N/AC:H/AT:P/PR:L/UI:P/VC:H/VI:L/VA:N/SC:L/SI:L/SA:N"
        let plain = try CVSS40(base)
        let supplemented = try CVSS40(base + "/S:P/AU:Y/R:U/V:D/RE:M/U:Amber")
        #expect(plain.score == supplemented.score)
        #expect(supplemented.value(of: "U") == "Amber")
        #expect(plain.value(of: "U") == "X")
    }

    @Test func canonicalFormDropsUndefinedAndRoundTrips() throws {
        let cvss = try CVSS40("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/E:X/CR:H/MAV:X/S:X/U:Clear")
        #expect(cvss.vector == "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/CR:H/U:Clear")
        let again = try CVSS40(cvss.vector)
        #expect(again == cvss && again.score == cvss.score && again.vector == cvss.vector)
        let data = try JSONEncoder().encode(cvss)
        #expect(try JSONDecoder().decode(CVSS40.self, from: data) == cvss)
        #expect(cvss.description == cvss.vector)
    }

    @Test func csafPropertiesUseTheSchemaNames() throws {
        let cvss = try CVSS40("CVSS:4.0/AV:A/AC:L/AT:P/PR:N/UI:A/VC:H/VI:N/VA:L/SC:N/SI:L/SA:H/E:P/MSC:N/MSI:S/R:I")
        let properties = cvss.csafProperties()
        #expect(properties.count == 15)
        #expect(properties.first?.name == "attackVector" && properties.first?.value == "ADJACENT")
        let byName = Dictionary(uniqueKeysWithValues: properties.map { ($0.name, $0.value) })
        #expect(byName["exploitMaturity"] == "PROOF_OF_CONCEPT")
        #expect(byName["modifiedSubConfidentialityImpact"] == "NEGLIGIBLE")
        #expect(byName["modifiedSubIntegrityImpact"] == "SAFETY")
        #expect(byName["Recovery"] == "IRRECOVERABLE")
    }

    @Test(arguments: [
        // Out of order: CR after MAV, then a base metric moved late.
        ("AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/MAV:N/CR:H", CVSSError.Code.outOfOrder, "CR"),
        ("AC:L/AV:N/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", .outOfOrder, "AV"),
        ("AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/U:Red/E:A", .outOfOrder, "E"),
        ("AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N", .missingMetric, "SA"),
        ("AV:N/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", .missingMetric, "AC"),
        ("AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:S/SA:N", .badValue, "SI"),  // S only in MSI/MSA
        ("AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/MSC:S", .badValue, "MSC"),
        ("AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/U:red", .badValue, "U"),
        ("AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/E:A/E:A", .duplicateMetric, "E"),
        ("AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/RL:O", .unknownMetric, "RL"),
        ("AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/", .malformed, nil),
        ("AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA", .malformed, nil),
    ] as [(String, CVSSError.Code, String?)])
    func rejectsBadVectors(metrics: String, code: CVSSError.Code, metric: String?) {
        let vector = "CVSS:4.0/" + metrics
        #expect {
            _ = try CVSS40(vector)
        } throws: { error in
            guard let error = error as? CVSSError else { return false }
            return error.code == code && error.metric == metric && error.vector == vector && error.version == "4.0"
        }
    }

    @Test func rejectsOtherVersions() {
        for vector in ["CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"] {
            #expect(throws: CVSSError.self) { _ = try CVSS40(vector) }
        }
        #expect { _ = try CVSS40("") } throws: { ($0 as? CVSSError)?.code == .malformed }
    }

    @Test func outOfOrderErrorSaysWhatComesFirst() {
        do {
            _ = try CVSS40("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/MAV:N/CR:H")
            Issue.record("accepted an out-of-order vector")
        } catch {
            #expect(error.description.hasSuffix("CR must come before MAV (the specification's order)"))
            #expect(error.description.hasPrefix("CVSS 4.0 vector "))
        }
    }
}

@Suite struct CVSSSeverityTests {
    @Test func scaleBoundaries() {
        let cases: [(Double, CVSSSeverity)] = [
            (0.0, .none), (0.1, .low), (3.9, .low), (4.0, .medium), (6.9, .medium),
            (7.0, .high), (8.9, .high), (9.0, .critical), (10.0, .critical),
        ]
        for (score, severity) in cases { #expect(CVSSSeverity(score: score) == severity, "\(score)") }
        #expect(CVSSSeverity.critical.schemaName == "CRITICAL")
    }
}
