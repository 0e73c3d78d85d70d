import AirlockCore

/// What the reader made of one object of a POSTed envelope.
public enum TAXIIEnvelopeItem: Sendable, Hashable {
    /// The object passed the checks; the store adds it (or finds it a duplicate).
    case accepted(TAXIIObjectDraft)
    /// The object failed a check: a failure for the status resource, with the reason.
    case rejected(TAXIIStatusDetail)

    /// The draft, for an accepted object.
    public var draft: TAXIIObjectDraft? {
        if case .accepted(let draft) = self { draft } else { nil }
    }

    /// The failure, for a rejected object.
    public var rejection: TAXIIStatusDetail? {
        if case .rejected(let detail) = self { detail } else { nil }
    }
}

/// Reads the body of `POST …/collections/{id}/objects/`: a TAXII envelope `{"objects":[…]}`.
///
/// The caller checks the `Content-Type` (``TAXIIMediaType/checkContentType(_:)``, 415) and the
/// length against `max_content_length` (``TAXIIAPIRoot/checkContentLength(_:)``, 413) first.
/// A body that is not JSON is a 400; JSON that is not an envelope (not an object, no `objects`
/// array, an element that is not an object or has no string `id`, which a status could not name)
/// is a 422; other members of the envelope (`more`, `next`) are ignored. Every other problem
/// concerns one object and becomes a failure in the status, while the rest are accepted.
///
/// Each object's checks: `type` a STIX type name; `id` that type, `--`, and a UUID;
/// `spec_version` `"2.1"` (an object without `created` and `modified`, a cyber-observable, may
/// leave it out); `created` and `modified` STIX timestamps when present, `modified` not before
/// `created`; none of these members, nor `object_marking_refs`, given twice. An accepted object keeps the client's bytes, member order and number spelling
/// included, with only the whitespace between tokens removed.
public struct TAXIIEnvelopeReader: Sendable {
    /// When the POST arrived: the version reported for a failed object that has no `modified` or
    /// `created` of its own (as medallion reports it).
    public var receivedAt: TAXIITimestamp

    public init(receivedAt: TAXIITimestamp) {
        self.receivedAt = receivedAt
    }

    /// The objects of the envelope, in order.
    public func read(_ body: some Collection<UInt8>) throws(TAXIIError) -> [TAXIIEnvelopeItem] {
        let result: Result<[TAXIIEnvelopeItem], TAXIIError>? = body.withContiguousStorageIfAvailable { read($0) }
        return try (result ?? Array(body).withUnsafeBufferPointer { read($0) }).get()
    }

    private func read(_ buffer: UnsafeBufferPointer<UInt8>) -> Result<[TAXIIEnvelopeItem], TAXIIError> {
        var scanner = JSONScanner(buffer)
        let elements: [TAXIIEnvelopeElement]
        do {
            elements = try TAXIIEnvelopeElement.scanEnvelope(&scanner)
        } catch let failure as TAXIIEnvelopeElement.EnvelopeProblem {
            return .failure(TAXIIError(.unprocessableContent, failure.message))
        } catch let failure as JSONScanner.Failure {
            return .failure(TAXIIError(.malformedContent, "The request body is not valid JSON: \(failure.message) at byte \(failure.offset)."))
        } catch {
            return .failure(TAXIIError(.malformedContent, "The request body is not valid JSON."))
        }
        var items: [TAXIIEnvelopeItem] = []
        items.reserveCapacity(elements.count)
        for (position, element) in elements.enumerated() {
            guard element.isObject else {
                return .failure(TAXIIError(.unprocessableContent, "objects[\(position)] is not a JSON object."))
            }
            guard case .string(let idToken)? = element.fields["id"] else {
                return .failure(TAXIIError(
                    .unprocessableContent, "objects[\(position)] has no string id, so no status could name it."))
            }
            items.append(item(element, id: scanner.text(idToken), scanner: scanner))
        }
        return .success(items)
    }

    private func item(_ element: TAXIIEnvelopeElement, id: String, scanner: JSONScanner) -> TAXIIEnvelopeItem {
        func text(_ name: String) -> String? {
            if case .string(let token)? = element.fields[name] { return scanner.text(token) }
            return nil
        }
        let createdText = text("created")
        let modifiedText = text("modified")
        let reportedVersion = modifiedText ?? createdText ?? receivedAt.description
        func reject(_ message: String) -> TAXIIEnvelopeItem {
            .rejected(TAXIIStatusDetail(id: id, version: reportedVersion, message: message))
        }

        if let duplicate = element.duplicateField {
            return reject("The object has more than one '\(duplicate)' member.")
        }
        guard let type = text("type"), TAXIISTIXIdentifier.isValidType(type) else {
            return reject("type must be a STIX type name: a–z, 0–9 and '-', 3 to 250 characters.")
        }
        guard let idType = TAXIISTIXIdentifier.type(ofID: id), idType == type else {
            return reject("id must be '\(type)--' followed by a UUID.")
        }
        let hasTimestamps = element.fields["created"] != nil || element.fields["modified"] != nil
        let specVersion: String
        switch element.fields["spec_version"] {
        case nil:
            guard !hasTimestamps else {
                return reject("spec_version is missing; this collection takes STIX 2.1 objects, which carry spec_version \"2.1\".")
            }
            specVersion = "2.1"
        case .string(let token)?:
            specVersion = scanner.text(token)
            guard specVersion == "2.1" else {
                return reject("spec_version '\(specVersion)' is not taken here; this collection takes STIX 2.1.")
            }
        case .other?:
            return reject("spec_version must be the string \"2.1\".")
        }
        var created: TAXIITimestamp?
        var modified: TAXIITimestamp?
        for (name, value) in [("created", createdText), ("modified", modifiedText)] where element.fields[name] != nil {
            guard let value, let timestamp = TAXIITimestamp(value) else {
                return reject("\(name) must be a STIX timestamp such as 2016-04-06T20:03:48.000Z.")
            }
            if name == "created" { created = timestamp } else { modified = timestamp }
        }
        if let created, let modified, modified < created {
            return reject("modified is earlier than created.")
        }
        return .accepted(TAXIIObjectDraft(
            id: id, type: type, specVersion: specVersion, version: modified ?? created,
            versionText: modified != nil ? modifiedText : createdText, json: scanner.compacted(element.range)))
    }
}

/// One element of an envelope's `objects` array as scanned: its bytes, and the top-level members
/// the checks read.
struct TAXIIEnvelopeElement {
    enum Field {
        case string(JSONScanner.StringToken)
        /// Present, but not a string.
        case other
    }

    /// JSON that is valid but not an envelope.
    struct EnvelopeProblem: Error {
        var message: String
    }

    /// The members the checks read, and `object_marking_refs`: given twice, readers would differ
    /// on the marking (`JSONDecoder` keeps the first, `JSONSerialization` the last).
    static let fieldNames: Set<String> = ["type", "id", "spec_version", "created", "modified", "object_marking_refs"]

    var range: Range<Int>
    var isObject: Bool
    var fields: [String: Field] = [:]
    /// A field of ``fieldNames`` given twice.
    var duplicateField: String?

    /// Scans the whole body: `{ …, "objects": [ … ], … }` and nothing after it.
    static func scanEnvelope(_ scanner: inout JSONScanner) throws -> [TAXIIEnvelopeElement] {
        // A UTF-8 byte order mark is tolerated.
        if scanner.bytes.starts(with: [0xEF, 0xBB, 0xBF]) { scanner.index = 3 }
        scanner.skipWhitespace()
        guard !scanner.atEnd else { throw JSONScanner.Failure(.malformed, "the body is empty", offset: 0) }
        guard scanner.peek == UInt8(ascii: "{") else {
            try scanner.skipValue(depth: 0)
            try scanner.scanToEnd()
            throw EnvelopeProblem(message: "The body must be a TAXII envelope, a JSON object with an objects array.")
        }
        scanner.index += 1
        scanner.skipWhitespace()
        var elements: [TAXIIEnvelopeElement]?
        var problem: String?
        if scanner.peek == UInt8(ascii: "}") {
            scanner.index += 1
        } else {
            while true {
                let key = try scanner.scanMemberName()
                if scanner.text(key) == "objects" {
                    if elements != nil { problem = "The envelope has more than one objects member." }
                    if scanner.peek == UInt8(ascii: "[") {
                        elements = try scanElements(&scanner)
                    } else {
                        try scanner.skipValue(depth: 1)
                        elements = elements ?? []
                        problem = problem ?? "The envelope's objects member must be an array."
                    }
                } else {
                    try scanner.skipValue(depth: 1)
                }
                scanner.skipWhitespace()
                if try scanner.endOfList(closing: UInt8(ascii: "}"), what: "',' or '}' in an object") { break }
            }
        }
        try scanner.scanToEnd()
        if let problem { throw EnvelopeProblem(message: problem) }
        guard let elements else {
            throw EnvelopeProblem(message: "The envelope has no objects member; send {\"objects\": [ … ]}.")
        }
        return elements
    }

    private static func scanElements(_ scanner: inout JSONScanner) throws -> [TAXIIEnvelopeElement] {
        scanner.index += 1
        scanner.skipWhitespace()
        var elements: [TAXIIEnvelopeElement] = []
        if scanner.peek == UInt8(ascii: "]") {
            scanner.index += 1
            return elements
        }
        while true {
            elements.append(try scanElement(&scanner))
            scanner.skipWhitespace()
            if try scanner.endOfList(closing: UInt8(ascii: "]"), what: "',' or ']' in an array") { return elements }
        }
    }

    /// One element; for an object, its members are scanned here to pick out ``fieldNames``.
    private static func scanElement(_ scanner: inout JSONScanner) throws -> TAXIIEnvelopeElement {
        let start = scanner.index
        guard scanner.peek == UInt8(ascii: "{") else {
            try scanner.skipValue(depth: 2)
            return TAXIIEnvelopeElement(range: start..<scanner.index, isObject: false)
        }
        var element = TAXIIEnvelopeElement(range: start..<start, isObject: true)
        scanner.index += 1
        scanner.skipWhitespace()
        if scanner.peek == UInt8(ascii: "}") {
            scanner.index += 1
        } else {
            while true {
                let key = try scanner.scanMemberName()
                let name = fieldName(key, scanner: scanner)
                if let name {
                    if element.fields[name] != nil { element.duplicateField = element.duplicateField ?? name }
                    if scanner.peek == UInt8(ascii: "\"") {
                        element.fields[name] = .string(try scanner.scanString())
                    } else {
                        try scanner.skipValue(depth: 3)
                        element.fields[name] = .other
                    }
                } else {
                    try scanner.skipValue(depth: 3)
                }
                scanner.skipWhitespace()
                if try scanner.endOfList(closing: UInt8(ascii: "}"), what: "',' or '}' in an object") { break }
            }
        }
        element.range = start..<scanner.index
        return element
    }

    /// The member's name when it is one of ``fieldNames``; other names are not decoded.
    private static func fieldName(_ key: JSONScanner.StringToken, scanner: JSONScanner) -> String? {
        guard key.hasEscapes || (2...19).contains(key.range.count) else { return nil }
        let name = scanner.text(key)
        return fieldNames.contains(name) ? name : nil
    }
}
