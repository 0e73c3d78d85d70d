import AirlockAPI
import AirlockCore
import AirlockServer
import Foundation
import Testing

/// The OpenAPI document's schemas against the AirlockAPI types that travel as them: the same
/// properties (no more, no fewer), the same required ones, and values of the schema's JSON types.
///
/// For each pair, an object with every property the schema lists is made from the schema and
/// decoded into the type, and one with only the required properties too; the type's stored
/// properties must be the schema's properties; the value written back must carry no key the
/// schema lacks, every required key, and each value in the schema's JSON type.
@Suite struct OpenAPISchemaTests {
    struct Pair: Sendable, CustomStringConvertible {
        var schema: String
        /// Decodes JSON as the type and writes it back, with the type's property names as keys.
        var read: @Sendable (Data) throws -> (written: Data, properties: Set<String>)
        var description: String { schema }
    }

    static func pair<T: Codable & SendableMetatype>(_ schema: String, _ type: T.Type) -> Pair {
        Pair(schema: schema) { data in
            let value = try APIJSON.decoder.decode(T.self, from: data)
            let properties = Mirror(reflecting: value).children.compactMap(\.label).map(snakeCase)
            return (try APIJSON.encoder.encode(value), Set(properties))
        }
    }

    static let pairs: [Pair] = [
        pair("Problem", Problem.self),
        pair("Organisation", Organisation.self), pair("User", User.self), pair("Commitment", Commitment.self),
        pair("CoveredModel", CoveredModel.self), pair("ModelVersion", ModelVersion.self), pair("Grant", GrantView.self),
        pair("Run", StoredRun.self), pair("APIKey", APIKeyView.self), pair("IssuedKey", IssuedKey.self),
        pair("Session", SessionView.self), pair("Me", Me.self), pair("AuditEntry", AuditEntry.self),
        pair("AuditPage", AuditPage.self),
        pair("OrganisationList", ListPage<Organisation>.self), pair("UserList", ListPage<User>.self),
        pair("CommitmentList", ListPage<Commitment>.self), pair("CoveredModelList", ListPage<CoveredModel>.self),
        pair("ModelVersionList", ListPage<ModelVersion>.self), pair("RunList", ListPage<StoredRun>.self),
        pair("GrantList", ListPage<GrantView>.self), pair("APIKeyList", ListPage<APIKeyView>.self),
        pair("SignIn", SignIn.self), pair("NewKey", NewKey.self), pair("NewOrganisation", NewOrganisation.self),
        pair("NewUser", NewUser.self), pair("NewCommitment", NewCommitment.self), pair("NewModel", NewModel.self),
        pair("NewVersion", NewVersion.self), pair("EndpointChange", EndpointChange.self),
        pair("TransitionRequest", TransitionRequest.self), pair("NewGrant", NewGrant.self),
        pair("GrantDecision", GrantDecision.self), pair("NewRun", NewRun.self), pair("GatewaySetting", GatewaySetting.self),
        pair("CVSS31", CVSS31View.self), pair("CVSS40", CVSS40View.self), pair("Finding", FindingView.self),
        pair("FindingList", ListPage<FindingView>.self), pair("NewFinding", NewFinding.self),
        pair("FindingMerge", FindingMerge.self), pair("NewCaseParticipant", CaseParticipant.self),
        pair("TLPStepRequest", TLPStepRequest.self), pair("TLPStep", TLPStepView.self),
        pair("VendorStatus", VendorStatusView.self), pair("Case", CaseView.self), pair("CaseSummary", CaseSummary.self),
        pair("CaseList", ListPage<CaseSummary>.self), pair("NewCase", NewCase.self), pair("NewCaseFinding", NewCaseFinding.self),
        pair("VendorStatusChange", VendorStatusChange.self), pair("CaseTriage", CaseTriage.self),
        pair("CasePublication", CasePublication.self), pair("VEXDocument", VEXDocumentView.self),
        pair("VEXDocumentList", ListPage<VEXDocumentView>.self),
        pair("BundleReceipt", BundleReceipt.self), pair("RunAssignment", RunAssignmentView.self), pair("Attempt", AttemptView.self),
        pair("AttemptList", ListPage<AttemptView>.self), pair("NewRunExecution", NewRunExecution.self), pair("NewAttempt", NewAttempt.self),
        pair("CommittedAttempt", CommittedAttempt.self), pair("PlannedAttempt", PlannedAttempt.self),
        pair("RoleEndpoint", RoleEndpoint.self), pair("NewRunSuite", NewRunSuite.self), pair("RunExecution", RunExecution.self),
        pair("RunRole", RunRole.self),
        // Domain types that views carry as they are.
        pair("AffectedProduct", AffectedProduct.self), pair("FindingEvidence", FindingEvidence.self),
        pair("CWEReference", CWEReference.self), pair("CaseParticipant", CaseParticipant.self),
        pair("AdvisoryRevision", AdvisoryRevision.self),
    ]

    // Read once and never written after: safe to share, though `Any` is not `Sendable`.
    nonisolated(unsafe) static let schemas: [String: [String: Any]] = {
        let document = (try? JSONSerialization.jsonObject(with: OpenAPIDocument.data)) as? [String: Any]
        let components = document?["components"] as? [String: Any]
        return components?["schemas"] as? [String: [String: Any]] ?? [:]
    }()

    @Test(arguments: pairs)
    func typeAndSchemaAgree(_ pair: Pair) throws {
        let schema = try #require(Self.schemas[pair.schema], "no schema \(pair.schema)")
        let properties = Set((schema["properties"] as? [String: Any] ?? [:]).keys)
        let required = Set(schema["required"] as? [String] ?? [])

        let full = try JSONSerialization.data(withJSONObject: Self.sample(schema), options: [.sortedKeys])
        let (written, typeProperties) = try pair.read(full)
        #expect(typeProperties.subtracting(properties).isEmpty, "\(pair.schema): the type has \(typeProperties.subtracting(properties).sorted()), the document does not")
        #expect(properties.subtracting(typeProperties).isEmpty, "\(pair.schema): the document has \(properties.subtracting(typeProperties).sorted()), the type does not")

        // Read back with keys as written (the API's decoder would rename them).
        let object = try #require(try JSONDecoder().decode(JSONValue.self, from: written).objectValue)
        let keys = Set(object.keys)
        #expect(keys.subtracting(properties).isEmpty, "\(pair.schema): written with keys the document lacks: \(keys.subtracting(properties).sorted())")
        #expect(required.subtracting(keys).isEmpty, "\(pair.schema): written without required keys: \(required.subtracting(keys).sorted())")
        let propertySchemas = schema["properties"] as? [String: [String: Any]] ?? [:]
        for (key, value) in object {
            guard let property = propertySchemas[key] else { continue }
            #expect(Self.fits(value, property), "\(pair.schema).\(key): \(value) is not of the document's type")
        }

        // The type needs no key the document calls optional.
        let minimal = Dictionary(uniqueKeysWithValues: (Self.sample(schema) as? [String: Any] ?? [:]).filter { required.contains($0.key) }.map { ($0.key, $0.value) })
        #expect(throws: Never.self, "\(pair.schema): the type needs more than the document's required keys") {
            _ = try pair.read(try JSONSerialization.data(withJSONObject: minimal))
        }
    }

    /// Every object schema named for an AirlockAPI type is checked above; the rest are named here with why.
    @Test func everyObjectSchemaIsChecked() {
        let unchecked: Set<String> = [
            "Health",  // written by `/healthz` as a literal, not by the API's handlers
            "CSAFDocument", "CVERecord", "STIXBundle",  // documents of their own standards (AirlockExchange)
            "FindingHistoryEntry",  // a domain type with an event enum whose coding is its own
        ]
        let objects = Set(Self.schemas.filter { $0.value["type"] as? String == "object" }.keys)
        let checked = Set(Self.pairs.map(\.schema))
        #expect(objects.subtracting(checked).subtracting(unchecked).isEmpty, "unchecked schemas: \(objects.subtracting(checked).subtracting(unchecked).sorted())")
    }

    // MARK: Samples made from the schema

    static func resolve(_ schema: [String: Any]) -> [String: Any] {
        if let reference = schema["$ref"] as? String, let name = reference.split(separator: "/").last {
            return resolve(schemas[String(name)] ?? [:])
        }
        for key in ["anyOf", "oneOf", "allOf"] {
            if let options = schema[key] as? [[String: Any]] {
                return resolve(options.first { ($0["type"] as? String) != "null" } ?? [:])
            }
        }
        return schema
    }

    static func type(of schema: [String: Any]) -> String? {
        if let type = schema["type"] as? String { return type }
        return (schema["type"] as? [String])?.first { $0 != "null" }
    }

    /// A value with every property, of the first enum value, a valid time for `date-time`.
    static func sample(_ schema: [String: Any]) -> Any {
        let schema = resolve(schema)
        if let value = schema["const"] { return value }
        if let values = schema["enum"] as? [Any], let first = values.first { return first }
        switch type(of: schema) {
        case "string": return schema["format"] as? String == "date-time" ? "2027-03-01T00:00:00.000Z" : "text"
        case "integer": return 1
        case "number": return 1.5
        case "boolean": return true
        case "array": return (schema["items"] as? [String: Any]).map { [sample($0)] } ?? []
        default:
            let properties = schema["properties"] as? [String: [String: Any]] ?? [:]
            return properties.mapValues { sample($0) }
        }
    }

    /// Whether a written value has the schema's JSON type (and a date-time reads as RFC 3339).
    static func fits(_ value: JSONValue, _ property: [String: Any]) -> Bool {
        let schema = resolve(property)
        let allowed: Set<String> = (schema["type"] as? String).map { [$0] } ?? Set(schema["type"] as? [String] ?? [])
        if allowed.isEmpty { return true }
        switch value {
        case .string(let text):
            return allowed.contains("string") && (schema["format"] as? String != "date-time" || RFC3339.parse(text) != nil)
        case .number(let number): return allowed.contains("number") || (allowed.contains("integer") && number.rounded() == number)
        case .bool: return allowed.contains("boolean")
        case .array: return allowed.contains("array")
        case .object: return allowed.contains("object")
        case .null: return allowed.contains("null")
        }
    }
}

/// A property name as the API's encoder writes it (`convertToSnakeCase`).
func snakeCase(_ name: String) -> String {
    name.reduce(into: "") { result, character in
        if character.isUppercase, !result.isEmpty { result += "_" + character.lowercased() } else { result.append(character) }
    }
}

