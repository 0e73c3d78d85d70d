import AirlockCore
@testable import AirlockEval
import Foundation
import Testing

/// Writes `text` as `name` in a fresh folder and reads it with `definition` (its path is replaced).
private func readDataset(_ text: String, name: String = "data.jsonl", _ definition: DatasetDefinition = DatasetDefinition(path: "")) throws -> [Sample] {
    let folder = try UnitTestFolder()
    defer { folder.remove() }
    let path = try folder.write(name, text)
    return try DatasetReader.read(path: path, definition: definition)
}

/// The error reading `text` throws.
private func datasetError(_ text: String, name: String = "data.jsonl", _ definition: DatasetDefinition = DatasetDefinition(path: ""), sourceLocation: SourceLocation = #_sourceLocation) throws -> EvalError {
    let error = try #require(throws: EvalError.self, sourceLocation: sourceLocation) {
        try readDataset(text, name: name, definition)
    }
    #expect(error.code == .invalidDataset, sourceLocation: sourceLocation)
    #expect(error.file?.hasSuffix("/" + name) == true, sourceLocation: sourceLocation)
    return error
}

@Suite struct DatasetReaderJSONLTests {
    @Test func goodRecords() throws {
        let samples = try readDataset("""
            {"id": "q1", "input": "What is 2+2?", "target": "4"}
            {"id": 7, "input": [{"role": "system", "content": "Be terse"}, {"role": "user", "content": "Capital of France?"}], "target": ["Paris", "paris"]}

            {"input": "Pick one", "choices": ["red", "green", "blue"], "target": "b", "metadata": {"subject": "colour", "level": 2, "tags": ["x"]}}
            {"id": 2.5, "input": "Numbers", "target": 42}
            {"id": "q5", "input": "No target"}
            """)
        #expect(samples.count == 5)
        #expect(samples[0] == Sample(id: "q1", input: .text("What is 2+2?"), target: ["4"]))
        #expect(samples[1].id == "7")
        #expect(samples[1].input == .messages([.system("Be terse"), .user("Capital of France?")]))
        #expect(samples[1].target == ["Paris", "paris"])
        // No id: the record's position among samples (not the line) is the id.
        #expect(samples[2].id == "3")
        #expect(samples[2].choices == ["red", "green", "blue"])
        #expect(samples[2].target == ["b"])
        #expect(samples[2].metadata == ["subject": .string("colour"), "level": .number(2), "tags": .array([.string("x")])])
        #expect(samples[3].id == "2.5")
        #expect(samples[3].target == ["42"])
        #expect(samples[4].target == [])
        #expect(samples[4].choices == nil)
        #expect(samples[4].metadata.isEmpty)
    }

    @Test func customFieldNames() throws {
        var definition = DatasetDefinition(path: "")
        definition.fields = .init(id: "uid", input: "question", target: "answer", choices: "options", metadata: "info")
        let samples = try readDataset(#"{"uid": "a", "question": "Q?", "answer": "A", "options": ["x", "y"], "info": {"k": true}, "input": "ignored"}"#, definition)
        #expect(samples == [Sample(id: "a", input: .text("Q?"), target: ["A"], choices: ["x", "y"], metadata: ["k": .bool(true)])])
    }

    /// Files written on Windows end lines with CRLF.
    @Test func crlfLineEndings() throws {
        let text = "{\"id\": \"a\", \"input\": \"one\"}\r\n{\"id\": \"b\", \"input\": \"two\"}\r\n"
        let samples = try readDataset(text)
        #expect(samples.map(\.id) == ["a", "b"])
        #expect(samples.map(\.input) == [.text("one"), .text("two")])
        // A bad record in a CRLF file must still be reported on its own line.
        let error = try datasetError("{\"input\": \"ok\"}\r\n{\"input\": \"ok\"}\r\n{broken\r\n")
        #expect(error.line == 3)
    }

    @Test func badJSONReportsItsLine() throws {
        let error = try datasetError("""
            {"id": "1", "input": "fine"}

            {"id": "2", "input": "also fine"}
            {"id": "3", "input": "broken",
            {"id": "4", "input": "never read"}
            """)
        #expect(error.line == 4)
    }

    @Test func jsonThatIsNotAnObject() throws {
        let error = try datasetError("{\"input\": \"ok\"}\n[1, 2]\n")
        #expect(error.line == 2)
    }

    @Test func missingInput() throws {
        let error = try datasetError("""
            {"id": "1", "input": "fine"}
            {"id": "2", "question": "wrong field"}
            """)
        #expect(error.line == 2)
        #expect(error.field == "input")
        #expect(error.message.contains("missing"))
    }

    @Test func badMessageInConversation() throws {
        let error = try datasetError(#"{"input": [{"role": "user", "content": "hi"}, {"role": "wizard", "content": "?"}]}"#)
        #expect(error.line == 1)
        #expect(error.field == "input[1]")
    }

    @Test func emptyConversation() throws {
        let error = try datasetError(#"{"input": []}"#)
        #expect(error.field == "input")
    }

    @Test func inputOfWrongType() throws {
        let error = try datasetError("{\"input\": \"a\"}\n{\"input\": 5}\n")
        #expect(error.line == 2)
        #expect(error.field == "input")
    }

    @Test func badIDTargetChoicesAndMetadata() throws {
        #expect(try datasetError(#"{"id": true, "input": "x"}"#).field == "id")
        #expect(try datasetError(#"{"input": "x", "target": {"a": 1}}"#).field == "target")
        #expect(try datasetError(#"{"input": "x", "target": ["a", 1]}"#).field == "target")
        #expect(try datasetError(#"{"input": "x", "choices": "a|b"}"#).field == "choices")
        #expect(try datasetError(#"{"input": "x", "choices": ["a", 2]}"#).field == "choices")
        #expect(try datasetError(#"{"input": "x", "choices": ["only one"], "target": "A"}"#).field == "choices")
        #expect(try datasetError(#"{"input": "x", "metadata": ["not", "a", "map"]}"#).field == "metadata")
    }

    @Test func duplicateIDs() throws {
        let error = try datasetError("""
            {"id": "a", "input": "1"}
            {"id": "b", "input": "2"}
            {"id": "a", "input": "3"}
            """)
        #expect(error.message.contains("duplicate sample id 'a'"))
        #expect(error.message.contains("record 1"))
        #expect(error.field == "id")
    }

    @Test func numericAndTextIDsCollide() throws {
        let error = try datasetError("{\"id\": 1, \"input\": \"x\"}\n{\"id\": \"1\", \"input\": \"y\"}\n")
        #expect(error.message.contains("duplicate sample id '1'"))
    }

    @Test func choiceTargetOutOfRange() throws {
        let error = try datasetError("""
            {"input": "ok", "choices": ["a", "b", "c", "d"], "target": "D"}
            {"input": "bad", "choices": ["a", "b", "c"], "target": "D"}
            """)
        #expect(error.line == 2)
        #expect(error.field == "target")
        #expect(error.message.contains("A to C"))
        #expect(error.message.contains("'D'"))
    }

    @Test func choiceTargetThatIsNotALetter() throws {
        let error = try datasetError(#"{"input": "x", "choices": ["yes", "no"], "target": "yes"}"#)
        #expect(error.field == "target")
        #expect(error.line == 1)
    }

    @Test func choiceTargetListIsCheckedEntirely() throws {
        #expect(try readDataset(#"{"input": "x", "choices": ["a", "b", "c"], "target": ["A", "c"]}"#)[0].target == ["A", "c"])
        let error = try datasetError(#"{"input": "x", "choices": ["a", "b", "c"], "target": ["A", "Z"]}"#)
        #expect(error.message.contains("'Z'"))
    }

    @Test func emptyDataset() throws {
        let error = try datasetError("\n\n")
        #expect(error.message.contains("no samples"))
    }

    @Test func missingFile() throws {
        let error = try #require(throws: EvalError.self) {
            try DatasetReader.read(path: "/nonexistent/airlock/data.jsonl", definition: DatasetDefinition(path: ""))
        }
        #expect(error.code == .invalidDataset)
    }

    @Test func notUTF8() throws {
        let folder = try UnitTestFolder()
        defer { folder.remove() }
        let path = folder.path + "/data.jsonl"
        try Data([0x7B, 0xFF, 0xFE, 0x7D, 0x0A]).write(to: URL(fileURLWithPath: path))
        let error = try #require(throws: EvalError.self) {
            try DatasetReader.read(path: path, definition: DatasetDefinition(path: ""))
        }
        #expect(error.code == .invalidDataset)
        #expect(error.message.contains("UTF-8"))
    }
}

@Suite struct DatasetReaderCSVTests {
    @Test func quotedFieldsWithCommasNewlinesAndQuotes() throws {
        let csv = #"""
            id,input,target
            q1,"Hello, world",greeting
            q2,"Line one
            line two",multi
            q3,"She said ""hi""",quote
            q4,plain,"a,b"
            """#
        let samples = try readDataset(csv, name: "data.csv")
        #expect(samples.map(\.id) == ["q1", "q2", "q3", "q4"])
        #expect(samples[0].input == .text("Hello, world"))
        #expect(samples[1].input == .text("Line one\nline two"))
        #expect(samples[2].input == .text(#"She said "hi""#))
        #expect(samples[3].target == ["a,b"])
    }

    @Test func choicesAndTargetsSplitOnTheSeparator() throws {
        let csv = """
            id,input,target,choices
            m1,Which is a fruit?,B,carrot|apple|leek
            m2,Which are primes?,A|C,2|4|5|9
            open,Name a colour,red|blue,
            """
        let samples = try readDataset(csv, name: "data.csv")
        #expect(samples[0].choices == ["carrot", "apple", "leek"])
        #expect(samples[0].target == ["B"])
        #expect(samples[1].target == ["A", "C"])
        #expect(samples[1].choices == ["2", "4", "5", "9"])
        #expect(samples[2].choices == nil)
        #expect(samples[2].target == ["red", "blue"])
    }

    @Test func customSeparatorAndColumns() throws {
        var definition = DatasetDefinition(path: "")
        definition.fields = .init(id: "n", input: "question", target: "answer", choices: "options", metadataColumns: ["subject", "difficulty"], listSeparator: ";")
        let csv = """
            n,question,answer,options,subject,difficulty,unused
            1,"2+2?",B,3;4;5,maths,easy,zzz
            2,"Capital of Peru?",A,Lima;Quito,"geography, South America",,zzz
            """
        let samples = try readDataset(csv, name: "items.csv", definition)
        #expect(samples.count == 2)
        #expect(samples[0] == Sample(id: "1", input: .text("2+2?"), target: ["B"], choices: ["3", "4", "5"], metadata: ["subject": .string("maths"), "difficulty": .string("easy")]))
        #expect(samples[1].metadata == ["subject": .string("geography, South America"), "difficulty": .string("")])
    }

    @Test func missingMetadataColumn() throws {
        var definition = DatasetDefinition(path: "")
        definition.fields = .init(metadataColumns: ["subject"])
        let error = try datasetError("id,input\n1,x\n", name: "data.csv", definition)
        #expect(error.line == 1)
        #expect(error.field == "subject")
    }

    @Test func missingInputColumn() throws {
        let error = try datasetError("id,question,target\n1,x,y\n", name: "data.csv")
        #expect(error.line == 1)
        #expect(error.field == "input")
    }

    @Test func wrongFieldCountReportsTheRowsLine() throws {
        let csv = """
            id,input,target
            1,"spans
            two lines",a
            2,fine,b
            3,too,many,fields
            """
        let error = try datasetError(csv, name: "data.csv")
        #expect(error.line == 5)
        #expect(error.message.contains("expected 3 fields, found 4"))
    }

    @Test func tooFewFields() throws {
        let error = try datasetError("id,input,target\n1,a,b\n2,c\n", name: "data.csv")
        #expect(error.line == 3)
        #expect(error.message.contains("found 2"))
    }

    @Test func unclosedQuote() throws {
        let error = try datasetError("id,input\n1,ok\n2,\"never closed\n3,x\n", name: "data.csv")
        #expect(error.line == 3)
        #expect(error.message.contains("not closed"))
    }

    @Test func crlfAndBlankLines() throws {
        let samples = try readDataset("id,input,target\r\n1,one,a\r\n\r\n2,two,b\r\n", name: "data.csv")
        #expect(samples.map(\.id) == ["1", "2"])
        #expect(samples.map(\.target) == [["a"], ["b"]])
        #expect(samples[1].input == .text("two"))
    }

    @Test func lastRowWithoutNewline() throws {
        let samples = try readDataset("input,target\nfirst,1\nsecond,2", name: "data.csv")
        #expect(samples.map(\.input) == [.text("first"), .text("second")])
        // No id column: ids count the samples.
        #expect(samples.map(\.id) == ["1", "2"])
    }

    @Test func emptyQuotedFieldAndQuoteInsideUnquotedField() throws {
        let samples = try readDataset("id,input,target\n1,\"\",x\n2,a 5\" screen,y\n", name: "data.csv")
        #expect(samples[0].input == .text(""))
        #expect(samples[1].input == .text("a 5\" screen"))
    }

    @Test func choiceTargetOutOfRangeReportsTheLine() throws {
        let error = try datasetError("id,input,target,choices\n1,q,A,x|y\n2,q,C,x|y\n", name: "data.csv")
        #expect(error.line == 3)
        #expect(error.field == "target")
    }

    @Test func formatComesFromTheExtensionOrTheDefinition() throws {
        let upper = try readDataset("input\nhello\n", name: "DATA.CSV")
        #expect(upper.map(\.input) == [.text("hello")])
        var definition = DatasetDefinition(path: "")
        definition.format = .csv
        let forced = try readDataset("input\nhello\n", name: "data.txt", definition)
        #expect(forced.map(\.input) == [.text("hello")])
        // A .txt file without a format is read as JSONL.
        let error = try datasetError("input\nhello\n", name: "data.txt")
        #expect(error.line == 1)
    }

    @Test func csvParserRows() throws {
        let rows = try CSVParser.parse("a,b\n\"x\ny\",z\n\"q\"\"\",\n", file: "f.csv")
        #expect(rows.map(\.fields) == [["a", "b"], ["x\ny", "z"], ["q\"", ""]])
        #expect(rows.map(\.line) == [1, 2, 4])
    }
}

@Suite struct DatasetReaderOrderTests {
    static let twenty = (1...20).map { #"{"id": "s\#($0)", "input": "question \#($0)"}"# }.joined(separator: "\n")

    @Test func unshuffledKeepsFileOrder() throws {
        #expect(try readDataset(Self.twenty).map(\.id) == (1...20).map { "s\($0)" })
    }

    @Test func shuffleIsAPermutationAndDeterministic() throws {
        var definition = DatasetDefinition(path: "")
        definition.shuffle = true
        definition.seed = 42
        let first = try readDataset(Self.twenty, definition).map(\.id)
        let second = try readDataset(Self.twenty, definition).map(\.id)
        #expect(first == second)
        #expect(first.sorted() == (1...20).map { "s\($0)" }.sorted())
        #expect(first != (1...20).map { "s\($0)" })
        definition.seed = 43
        #expect(try readDataset(Self.twenty, definition).map(\.id) != first)
    }

    @Test func shuffleUsesTheDatasetStreamOfTheSeed() throws {
        var definition = DatasetDefinition(path: "")
        definition.shuffle = true
        definition.seed = 9
        var expected = (1...20).map { "s\($0)" }
        var generator = SeededGenerator(seed: 9, stream: "dataset")
        generator.shuffle(&expected)
        #expect(try readDataset(Self.twenty, definition).map(\.id) == expected)
        // No seed means seed 0.
        definition.seed = nil
        var unseeded = (1...20).map { "s\($0)" }
        var zero = SeededGenerator(seed: 0, stream: "dataset")
        zero.shuffle(&unseeded)
        #expect(try readDataset(Self.twenty, definition).map(\.id) == unseeded)
    }

    @Test func limitTakesTheFirstSamples() throws {
        var definition = DatasetDefinition(path: "")
        definition.limit = 3
        #expect(try readDataset(Self.twenty, definition).map(\.id) == ["s1", "s2", "s3"])
        definition.limit = 100
        #expect(try readDataset(Self.twenty, definition).count == 20)
    }

    @Test func limitAppliesAfterShuffle() throws {
        var definition = DatasetDefinition(path: "")
        definition.shuffle = true
        definition.seed = 5
        let all = try readDataset(Self.twenty, definition).map(\.id)
        definition.limit = 4
        #expect(try readDataset(Self.twenty, definition).map(\.id) == Array(all.prefix(4)))
    }

    @Test func letterHelpers() {
        #expect(DatasetReader.letterIndex("A") == 0)
        #expect(DatasetReader.letterIndex(" c ") == 2)
        #expect(DatasetReader.letterIndex("z") == 25)
        #expect(DatasetReader.letterIndex("AB") == nil)
        #expect(DatasetReader.letterIndex("1") == nil)
        #expect(DatasetReader.letterIndex("É") == nil)
        #expect(DatasetReader.letterIndex("") == nil)
        #expect(DatasetReader.letters(4) == ["A", "B", "C", "D"])
        #expect(DatasetReader.letters(0) == [])
        #expect(DatasetReader.letters(26).last == "Z")
    }
}

@Suite struct DatasetReaderEncodingTests {
    /// Spreadsheet exports start with a UTF-8 byte order mark; it must not become part of the first column's name.
    @Test func byteOrderMarkIsIgnored() throws {
        let csv = try readDataset("\u{FEFF}input,target\nhello,x\n", name: "data.csv")
        #expect(csv == [Sample(id: "1", input: .text("hello"), target: ["x"])])
        let jsonl = try readDataset("\u{FEFF}{\"input\": \"hi\"}\n")
        #expect(jsonl == [Sample(id: "1", input: .text("hi"), target: [])])
    }
}
