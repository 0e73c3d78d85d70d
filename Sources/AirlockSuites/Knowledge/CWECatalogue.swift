import AirlockEval
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif

/// MITRE's CWE catalogue as the `cwec_vX.Y.xml` file cwe2 ships, read with a streaming
/// `XMLParser` (events, no tree): the weaknesses, with what the knowledge and triage suites use.
/// Categories and views are not read; the hierarchy is the Research Concepts view (1000).
public struct CWECatalogue: Sendable {
    /// The view whose `ChildOf` links form the hierarchy (Research Concepts, every weakness in it).
    public static let researchView = 1000

    /// The catalogue's version (`4.14`), from the root element.
    public var version: String
    /// In file order, deprecated ones included (see `CWEWeakness.status`).
    public var weaknesses: [CWEWeakness]

    private var index: [Int: Int] = [:]
    private var childrenByID: [Int: [Int]] = [:]

    public init(version: String, weaknesses: [CWEWeakness]) {
        self.version = version
        self.weaknesses = weaknesses
        for (position, weakness) in weaknesses.enumerated() {
            index[weakness.id] = position
        }
        for weakness in weaknesses {
            for parent in weakness.parents where index[parent] != nil {
                childrenByID[parent, default: []].append(weakness.id)
            }
        }
    }

    /// The weakness with this number (79 for CWE-79).
    public func weakness(_ id: Int) -> CWEWeakness? {
        index[id].map { weaknesses[$0] }
    }

    /// Direct parents in view 1000.
    public func parents(of id: Int) -> [Int] {
        (weakness(id)?.parents ?? []).filter { index[$0] != nil }
    }

    /// Direct children in view 1000 (the `ParentOf` side of `ChildOf`).
    public func children(of id: Int) -> [Int] {
        childrenByID[id] ?? []
    }

    /// Every weakness above `id` in view 1000.
    public func ancestors(of id: Int) -> Set<Int> {
        closure(from: id, step: parents(of:))
    }

    /// Every weakness below `id` in view 1000.
    public func descendants(of id: Int) -> Set<Int> {
        closure(from: id, step: children(of:))
    }

    /// Other children of the weakness's parents.
    public func siblings(of id: Int) -> Set<Int> {
        var result = Set(parents(of: id).flatMap(children(of:)))
        result.remove(id)
        return result
    }

    /// The pillar at the top of the weakness's primary `ChildOf` line (CWE-707 for CWE-79), or the
    /// weakness itself when it is one.
    public func pillar(of id: Int) -> CWEWeakness? {
        var current = weakness(id)
        var seen: Set<Int> = []
        while let weakness = current, seen.insert(weakness.id).inserted {
            let primary = weakness.related.first { $0.nature == "ChildOf" && $0.viewID == Self.researchView && $0.ordinal == "Primary" }
            guard let next = primary.flatMap({ self.weakness($0.cweID) }) else { return weakness }
            current = next
        }
        return current
    }

    private func closure(from id: Int, step: (Int) -> [Int]) -> Set<Int> {
        var result: Set<Int> = []
        var frontier = step(id)
        while let next = frontier.popLast() {
            if next != id, result.insert(next).inserted { frontier.append(contentsOf: step(next)) }
        }
        return result
    }

    /// Reads a catalogue file as a stream; errors name the file and line.
    public static func read(path: String) throws -> CWECatalogue {
        guard FileManager.default.isReadableFile(atPath: path), let stream = InputStream(fileAtPath: path) else {
            throw EvalError(.invalidDataset, "cannot read the CWE catalogue", file: path)
        }
        return try parse(XMLParser(stream: stream), file: path)
    }

    /// Parses catalogue XML; `file` names it in errors.
    public static func parse(_ data: Data, file: String) throws -> CWECatalogue {
        // A stream even here: on Linux, FoundationXML gives a `Data` to libxml2 as one chunk, and
        // the 14.7 MB catalogue then fails at its end with an internal error; streams go in pieces.
        try parse(XMLParser(stream: InputStream(data: data)), file: file)
    }

    private static func parse(_ parser: XMLParser, file: String) throws -> CWECatalogue {
        let reader = CatalogueReader()
        parser.delegate = reader
        parser.shouldProcessNamespaces = false
        let parsed = parser.parse()
        if let problem = reader.problem {
            throw EvalError(.invalidDataset, problem.message, file: file, line: problem.line, field: problem.field)
        }
        // On Linux a malformed stream can still return true with `parserError` set, and warnings
        // set it too: the catalogue is whole when its root element closed.
        guard parsed, reader.closed else {
            let reason = parser.parserError.map { "\($0.localizedDescription)" } ?? "the file ends before </Weakness_Catalog>"
            throw EvalError(.invalidDataset, "not valid CWE XML: \(reason)", file: file, line: parser.lineNumber)
        }
        guard let version = reader.version else {
            throw EvalError(.invalidDataset, "the Weakness_Catalog element has no Version", file: file, field: "Weakness_Catalog.Version")
        }
        return CWECatalogue(version: version, weaknesses: reader.weaknesses)
    }
}

/// One CWE weakness entry.
public struct CWEWeakness: Sendable, Hashable {
    public var id: Int
    public var name: String
    /// `Pillar`, `Class`, `Base`, `Variant` or `Compound`.
    public var abstraction: String
    /// `Stable`, `Draft`, `Incomplete`, `Deprecated`, ...
    public var status: String
    public var description: String
    /// `Mapping_Notes/Usage`: `Allowed`, `Allowed-with-Review`, `Discouraged` or `Prohibited`.
    public var mappingUsage: String?
    public var related: [CWERelation]
    public var observedExamples: [CWEObservedExample]
    public var exampleCode: [CWEExampleCode]

    public init(id: Int, name: String, abstraction: String = "", status: String = "", description: String = "", mappingUsage: String? = nil,
                related: [CWERelation] = [], observedExamples: [CWEObservedExample] = [], exampleCode: [CWEExampleCode] = []) {
        self.id = id
        self.name = name
        self.abstraction = abstraction
        self.status = status
        self.description = description
        self.mappingUsage = mappingUsage
        self.related = related
        self.observedExamples = observedExamples
        self.exampleCode = exampleCode
    }

    /// `CWE-79`.
    public var identifier: String { "CWE-\(id)" }

    /// Whether MITRE allows mapping a vulnerability to it (usage `Allowed` or `Allowed-with-Review`,
    /// and not deprecated): only these are answers or options.
    public var isMappable: Bool {
        status != "Deprecated" && (mappingUsage == "Allowed" || mappingUsage == "Allowed-with-Review")
    }

    /// Direct parents in the Research Concepts view.
    public var parents: [Int] {
        related.filter { $0.nature == "ChildOf" && $0.viewID == CWECatalogue.researchView }.map(\.cweID)
    }

    /// The short name in the name's quoted parentheses: `Cross-site Scripting` in
    /// "Improper Neutralization of Input During Web Page Generation ('Cross-site Scripting')".
    public var alias: String? {
        guard let open = name.range(of: "('"), let close = name.range(of: "')", range: open.upperBound..<name.endIndex) else { return nil }
        return String(name[open.upperBound..<close.lowerBound])
    }
}

/// A `Related_Weakness`: `ChildOf`, `PeerOf`, `CanPrecede`, `CanAlsoBe`, ... in a view.
/// (`ParentOf` is not written in the file; `CWECatalogue.children(of:)` inverts `ChildOf`.)
public struct CWERelation: Sendable, Hashable {
    public var nature: String
    public var cweID: Int
    public var viewID: Int?
    public var ordinal: String?

    public init(nature: String, cweID: Int, viewID: Int? = nil, ordinal: String? = nil) {
        self.nature = nature
        self.cweID = cweID
        self.viewID = viewID
        self.ordinal = ordinal
    }
}

/// A real vulnerability the entry cites (`CVE-2021-25926` and a one-line description).
public struct CWEObservedExample: Sendable, Hashable {
    public var reference: String
    public var description: String

    public init(reference: String, description: String) {
        self.reference = reference
        self.description = description
    }
}

/// One `Example_Code` block of a demonstrative example.
public struct CWEExampleCode: Sendable, Hashable {
    /// The 1-based position of its `Demonstrative_Example` in the entry: blocks of one example
    /// belong together (a `Bad` block and its `Good` fix).
    public var example: Int
    /// The 1-based position of the block within its example.
    public var position: Int
    /// `Bad`, `Good`, `Attack`, `Result` or `Informative`.
    public var nature: String
    public var language: String?
    /// The code as text: `<br/>` and blocks become lines, nested blocks are indented.
    public var code: String

    public init(example: Int, position: Int, nature: String, language: String?, code: String) {
        self.example = example
        self.position = position
        self.nature = nature
        self.language = language
        self.code = code
    }
}

// MARK: - Reading

/// The parser's delegate: a class because `XMLParserDelegate` requires one. It lives for one
/// `parse()` call on one thread.
private final class CatalogueReader: NSObject, XMLParserDelegate {
    struct Problem {
        var message: String
        var line: Int
        var field: String
    }

    var version: String?
    var weaknesses: [CWEWeakness] = []
    var problem: Problem?
    /// Whether `</Weakness_Catalog>` was read.
    var closed = false

    private var path: [String] = []
    private var weakness: CWEWeakness?
    private var exampleCount = 0
    private var codeCount = 0
    private var observed: (reference: String, description: String)?
    /// Text being collected for a leaf element of interest, with where to put it.
    private var text: String?
    private var code: CodeText?
    private var codeAttributes: (nature: String, language: String?)?

    func parser(_ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String] = [:]) {
        let name = Self.localName(elementName)
        defer { path.append(name) }
        if code != nil {
            code!.start(name, attributes: attributes)
            return
        }
        switch name {
        case "Weakness_Catalog":
            version = attributes["Version"]
        case "Weakness" where path.last == "Weaknesses":
            guard let idText = attributes["ID"], let id = Int(idText), let title = attributes["Name"] else {
                fail(parser, "a Weakness without a numeric ID and a Name", field: "Weakness")
                return
            }
            weakness = CWEWeakness(id: id, name: title, abstraction: attributes["Abstraction"] ?? "", status: attributes["Status"] ?? "")
            exampleCount = 0
        case "Related_Weakness" where weakness != nil:
            guard let target = attributes["CWE_ID"].flatMap(Int.init), let nature = attributes["Nature"] else {
                fail(parser, "a Related_Weakness without Nature and a numeric CWE_ID", field: "Related_Weakness")
                return
            }
            weakness!.related.append(CWERelation(nature: nature, cweID: target, viewID: attributes["View_ID"].flatMap(Int.init), ordinal: attributes["Ordinal"]))
        case "Observed_Example" where weakness != nil:
            observed = ("", "")
        case "Demonstrative_Example" where weakness != nil:
            exampleCount += 1
            codeCount = 0
        case "Example_Code" where weakness != nil:
            codeCount += 1
            code = CodeText()
            codeAttributes = (attributes["Nature"] ?? "", attributes["Language"])
        case "Description" where weakness != nil && (path.last == "Weakness" || path.last == "Observed_Example"),
             "Usage" where weakness != nil && path.last == "Mapping_Notes",
             "Reference" where observed != nil:
            text = ""
        default:
            break
        }
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        if code != nil {
            code!.text(string)
        } else if text != nil {
            text! += string
        }
    }

    func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName: String?) {
        let name = Self.localName(elementName)
        path.removeLast()
        if name == "Example_Code", var finished = code, let attributes = codeAttributes {
            weakness?.exampleCode.append(CWEExampleCode(example: exampleCount, position: codeCount, nature: attributes.nature, language: attributes.language, code: finished.finish()))
            code = nil
            codeAttributes = nil
            return
        }
        if code != nil {
            code!.end(name)
            return
        }
        switch name {
        case "Weakness_Catalog":
            closed = true
        case "Weakness":
            if let finished = weakness { weaknesses.append(finished) }
            weakness = nil
        case "Observed_Example":
            if let example = observed, weakness != nil {
                weakness!.observedExamples.append(CWEObservedExample(reference: example.reference, description: example.description))
            }
            observed = nil
        case "Description" where text != nil:
            let value = Self.folded(text!)
            if observed != nil { observed!.description = value } else { weakness?.description = value }
            text = nil
        case "Usage" where text != nil:
            weakness?.mappingUsage = Self.folded(text!)
            text = nil
        case "Reference" where text != nil:
            observed?.reference = Self.folded(text!)
            text = nil
        default:
            break
        }
    }

    private func fail(_ parser: XMLParser, _ message: String, field: String) {
        if problem == nil { problem = Problem(message: message, line: parser.lineNumber, field: field) }
        parser.abortParsing()
    }

    /// `xhtml:div` → `div`: namespaces are not processed, and only two are in the file.
    private static func localName(_ name: String) -> String {
        guard let colon = name.lastIndex(of: ":") else { return name }
        return String(name[name.index(after: colon)...])
    }

    private static func folded(_ text: String) -> String {
        text.split(whereSeparator: \.isWhitespace).joined(separator: " ")
    }
}

/// Turns the XHTML of an `Example_Code` block into plain code. Line breaks are `<br/>` and block
/// elements, indentation is nested `<div style="margin-left:1em;">`; the file's own layout
/// (new lines and tabs between tags) is not code. A few blocks (Verilog mostly) hold raw new
/// lines in their text instead; those are kept, and the common indentation removed at the end.
private struct CodeText {
    private static let blocks: Set<String> = ["div", "p", "li", "tr", "table", "tbody", "ul", "ol", "pre"]

    private var lines: [String] = []
    private var current = ""
    private var currentDepth = 0
    private var depth = 0
    private var indents: [Bool] = []
    private var pending = ""
    /// Just after a break from markup: a raw new line here repeats it rather than adding a line.
    private var freshBreak = true

    mutating func text(_ string: String) {
        pending += string
    }

    mutating func start(_ name: String, attributes: [String: String]) {
        flushPending()
        if name == "br" {
            breakLine(keepEmpty: true)
        } else if Self.blocks.contains(name) {
            breakLine(keepEmpty: false)
            if name == "div" {
                let indented = attributes["style"]?.contains("margin-left") ?? false
                indents.append(indented)
                if indented { depth += 1 }
            }
        }
    }

    mutating func end(_ name: String) {
        flushPending()
        if Self.blocks.contains(name) {
            breakLine(keepEmpty: false)
            if name == "div", let indented = indents.popLast(), indented { depth -= 1 }
        } else if name == "td" || name == "th" {
            current += " "
        }
    }

    mutating func finish() -> String {
        flushPending()
        breakLine(keepEmpty: false)
        var result = lines.map { line -> String in
            var expanded = line.replacingOccurrences(of: "\t", with: "    ").replacingOccurrences(of: "\u{00A0}", with: " ")
            while expanded.last?.isWhitespace == true { expanded.removeLast() }
            return expanded
        }
        while result.first?.isEmpty == true { result.removeFirst() }
        while result.last?.isEmpty == true { result.removeLast() }
        let indent = result.filter { !$0.isEmpty }.map { $0.prefix { $0 == " " }.count }.min() ?? 0
        return result.map { $0.isEmpty ? $0 : String($0.dropFirst(indent)) }.joined(separator: "\n")
    }

    private mutating func flushPending() {
        defer { pending = "" }
        guard !pending.isEmpty else { return }
        // White space alone, with a new line, is the XML file's layout between tags.
        if pending.contains(where: \.isNewline) && pending.allSatisfy(\.isWhitespace) { return }
        let parts = pending.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline)
        for (number, part) in parts.enumerated() {
            if number > 0 {
                if freshBreak && current.allSatisfy(\.isWhitespace) {
                    current = ""
                    freshBreak = false
                } else {
                    breakLine(keepEmpty: true)
                    freshBreak = false
                }
            }
            append(String(part))
        }
    }

    private mutating func append(_ string: String) {
        guard !string.isEmpty else { return }
        if current.isEmpty { currentDepth = depth }
        current += string
        if !string.allSatisfy(\.isWhitespace) { freshBreak = false }
    }

    private mutating func breakLine(keepEmpty: Bool) {
        if current.allSatisfy(\.isWhitespace) {
            if keepEmpty { lines.append("") }
        } else {
            lines.append(String(repeating: "    ", count: currentDepth) + current)
        }
        current = ""
        freshBreak = true
    }
}
