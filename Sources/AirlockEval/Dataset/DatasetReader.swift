import AirlockCore
import Foundation

/// Reads a task's samples from JSONL or CSV. Every bad record is reported with file, line and field
/// before any model is called.
public enum DatasetReader {
    public static func read(path: String, definition: DatasetDefinition) throws -> [Sample] {
        if definition.format == .challenges {
            let samples = try Challenge.loadAll(root: path).map { $0.sample(hints: definition.hints ?? "minimal") }
            guard !samples.isEmpty else { throw EvalError(.invalidDataset, "no challenges (folders with challenge.yaml)", file: path) }
            return samples
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw EvalError(.invalidDataset, "cannot read the dataset file", file: path)
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw EvalError(.invalidDataset, "the dataset is not UTF-8 text", file: path)
        }
        let format = definition.format ?? (path.lowercased().hasSuffix(".csv") ? .csv : .jsonl)
        var samples: [Sample]
        switch format {
        case .jsonl: samples = try readJSONL(data, file: path, fields: definition.fields)
        case .csv: samples = try readCSV(text, file: path, fields: definition.fields)
        case .challenges: samples = []
        }
        if samples.isEmpty {
            throw EvalError(.invalidDataset, "the dataset has no samples", file: path)
        }
        var seen: [String: Int] = [:]
        for (index, sample) in samples.enumerated() {
            if let first = seen[sample.id] {
                throw EvalError(.invalidDataset, "duplicate sample id '\(sample.id)' (first at record \(first + 1)); ids must be unique so runs can resume", file: path, field: definition.fields.id)
            }
            seen[sample.id] = index
        }
        if definition.shuffle {
            var generator = SeededGenerator(seed: definition.seed ?? 0, stream: "dataset")
            generator.shuffle(&samples)
        }
        if let limit = definition.limit { samples = Array(samples.prefix(limit)) }
        return samples
    }

    static func readJSONL(_ data: Data, file: String, fields: DatasetDefinition.FieldNames) throws -> [Sample] {
        // Lines are found in the bytes, not in Characters: a dataset can be large, and grapheme
        // breaking costs more than the JSON itself. A "\r" before "\n" is dropped with it.
        var lines: [(number: Int, text: Data)] = []
        var lineNumber = 0
        var start = data.starts(with: [0xEF, 0xBB, 0xBF]) ? data.startIndex + 3 : data.startIndex
        while start < data.endIndex {
            lineNumber += 1
            let end = data[start...].firstIndex(of: UInt8(ascii: "\n")) ?? data.endIndex
            var line = data[start..<end]
            if line.last == UInt8(ascii: "\r") { line = line.dropLast() }
            if line.contains(where: { !($0 == 0x20 || $0 == 0x09) }) { lines.append((lineNumber, line)) }
            start = end < data.endIndex ? data.index(after: end) : end
        }
        let decoder = JSONDecoder()
        // One decode of all records as an array costs far less than one per line; only when it
        // fails are the lines decoded one by one, to name the bad one.
        var batch = Data("[".utf8)
        for (index, line) in lines.enumerated() {
            if index > 0 { batch.append(UInt8(ascii: ",")) }
            batch.append(line.text)
        }
        batch.append(UInt8(ascii: "]"))
        let records: [[String: JSONValue]]
        if let all = try? decoder.decode([[String: JSONValue]].self, from: batch), all.count == lines.count {
            records = all
        } else {
            records = try lines.map { line in
                do {
                    return try decoder.decode([String: JSONValue].self, from: Data(line.text))
                } catch {
                    throw EvalError(.invalidDataset, "not a JSON object", file: file, line: line.number)
                }
            }
        }
        return try zip(lines, records).enumerated().map { index, pair in
            try sample(from: pair.1, index: index, fields: fields, file: file, line: pair.0.number)
        }
    }

    static func sample(from record: [String: JSONValue], index: Int, fields: DatasetDefinition.FieldNames, file: String, line: Int) throws -> Sample {
        func fail(_ field: String, _ message: String) -> EvalError {
            EvalError(.invalidDataset, message, file: file, line: line, field: field)
        }
        let id: String
        switch record[fields.id] {
        case .string(let value) where !value.isEmpty: id = value
        case .number(let value): id = JSONValue.number(value).text
        case nil, .null: id = String(index + 1)
        default: throw fail(fields.id, "an id is text or a number")
        }
        let input: SampleInput
        switch record[fields.input] {
        case .string(let text): input = .text(text)
        case .array(let items):
            var messages: [ChatMessage] = []
            for (position, item) in items.enumerated() {
                guard case .object(let message) = item,
                      let roleText = message["role"]?.stringValue,
                      let role = ChatMessage.Role(rawValue: roleText),
                      let content = message["content"]?.stringValue
                else {
                    throw fail("\(fields.input)[\(position)]", "a message is {\"role\": system|user|assistant|tool, \"content\": text}")
                }
                messages.append(ChatMessage(role: role, content: content))
            }
            guard !messages.isEmpty else { throw fail(fields.input, "the conversation is empty") }
            input = .messages(messages)
        case nil, .null: throw fail(fields.input, "missing required field")
        default: throw fail(fields.input, "the input is text or a list of messages")
        }
        let target: [String]
        switch record[fields.target] {
        case nil, .null: target = []
        case .string(let value): target = [value]
        case .number, .bool: target = [record[fields.target]!.text]
        case .array(let values):
            target = try values.map {
                guard case .string(let value) = $0 else { throw fail(fields.target, "targets are text") }
                return value
            }
        case .object: throw fail(fields.target, "a target is text or a list of texts")
        }
        var choices: [String]?
        switch record[fields.choices] {
        case nil, .null: choices = nil
        case .array(let values):
            choices = try values.map {
                guard case .string(let value) = $0 else { throw fail(fields.choices, "choices are text") }
                return value
            }
        default: throw fail(fields.choices, "choices are a list of texts")
        }
        if let choices {
            if choices.count < 2 || choices.count > 26 { throw fail(fields.choices, "a multiple-choice item has 2 to 26 choices") }
            for letter in target where letterIndex(letter) == nil || letterIndex(letter)! >= choices.count {
                throw fail(fields.target, "the target of a multiple-choice item is a letter from A to \(letters(choices.count).last!), got '\(letter)'")
            }
        }
        var metadata: [String: JSONValue] = [:]
        switch record[fields.metadata] {
        case nil, .null: break
        case .object(let values): metadata = values
        default: throw fail(fields.metadata, "metadata is a map")
        }
        return Sample(id: id, input: input, target: target, choices: choices, metadata: metadata)
    }

    static func readCSV(_ text: String, file: String, fields: DatasetDefinition.FieldNames) throws -> [Sample] {
        let rows = try CSVParser.parse(text, file: file)
        guard let header = rows.first else { return [] }
        let columns = header.fields
        guard columns.contains(fields.input) else {
            throw EvalError(.invalidDataset, "no '\(fields.input)' column (columns: \(columns.joined(separator: ", ")))", file: file, line: 1, field: fields.input)
        }
        for column in fields.metadataColumns where !columns.contains(column) {
            throw EvalError(.invalidDataset, "no '\(column)' column for metadata", file: file, line: 1, field: column)
        }
        var samples: [Sample] = []
        for row in rows.dropFirst() {
            if row.fields.count == 1 && row.fields[0].isEmpty { continue }
            guard row.fields.count == columns.count else {
                throw EvalError(.invalidDataset, "expected \(columns.count) fields, found \(row.fields.count)", file: file, line: row.line)
            }
            var cells: [String: String] = [:]
            for (name, value) in zip(columns, row.fields) { cells[name] = value }
            var record: [String: JSONValue] = [:]
            record[fields.id] = cells[fields.id].flatMap { $0.isEmpty ? nil : .string($0) }
            record[fields.input] = cells[fields.input].map { .string($0) }
            if let target = cells[fields.target], !target.isEmpty {
                record[fields.target] = .array(target.components(separatedBy: fields.listSeparator).map { .string($0) })
            }
            if let choices = cells[fields.choices], !choices.isEmpty {
                record[fields.choices] = .array(choices.components(separatedBy: fields.listSeparator).map { .string($0) })
            }
            var metadata: [String: JSONValue] = [:]
            for column in fields.metadataColumns { metadata[column] = .string(cells[column] ?? "") }
            if !metadata.isEmpty { record[fields.metadata] = .object(metadata) }
            samples.append(try sample(from: record, index: samples.count, fields: fields, file: file, line: row.line))
        }
        return samples
    }

    /// The 0-based index of a choice letter (`A` is 0).
    public static func letterIndex(_ letter: String) -> Int? {
        let trimmed = letter.trimmingCharacters(in: .whitespaces).uppercased()
        guard trimmed.count == 1, let scalar = trimmed.unicodeScalars.first, scalar.value >= 65, scalar.value < 91 else { return nil }
        return Int(scalar.value - 65)
    }

    /// The first `count` letters.
    public static func letters(_ count: Int) -> [String] {
        (0..<count).map { String(UnicodeScalar(UInt8(65 + $0))) }
    }
}

/// RFC 4180 CSV: quoted fields may hold commas, quotes (doubled) and line breaks.
enum CSVParser {
    struct Row {
        var fields: [String]
        /// The line the row starts on (1-based).
        var line: Int
    }

    static func parse(_ text: String, file: String) throws -> [Row] {
        var rows: [Row] = []
        var fields: [String] = []
        var field = ""
        var inQuotes = false
        var line = 1
        var rowStart = 1
        var iterator = text.unicodeScalars.makeIterator()
        var pending: Unicode.Scalar? = nil
        func next() -> Unicode.Scalar? {
            if let value = pending { pending = nil; return value }
            return iterator.next()
        }
        while let scalar = next() {
            if inQuotes {
                if scalar == "\"" {
                    if let following = next() {
                        if following == "\"" { field.unicodeScalars.append("\"") } else { inQuotes = false; pending = following }
                    } else {
                        inQuotes = false
                    }
                } else {
                    if scalar == "\n" { line += 1 }
                    field.unicodeScalars.append(scalar)
                }
                continue
            }
            switch scalar {
            case "\"" where field.isEmpty:
                inQuotes = true
            case ",":
                fields.append(field)
                field = ""
            case "\r":
                continue
            case "\n":
                fields.append(field)
                rows.append(Row(fields: fields, line: rowStart))
                fields = []
                field = ""
                line += 1
                rowStart = line
            default:
                field.unicodeScalars.append(scalar)
            }
        }
        if inQuotes {
            throw EvalError(.invalidDataset, "a quoted field is not closed", file: file, line: rowStart)
        }
        if !field.isEmpty || !fields.isEmpty {
            fields.append(field)
            rows.append(Row(fields: fields, line: rowStart))
        }
        return rows
    }
}
