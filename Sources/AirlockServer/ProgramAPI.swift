import AirlockAPI
import AirlockCore
import AirlockQueue
import AirlockStore
import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import Logging

/// The program API's handlers: each one authenticates, loads the object, works out the actor's
/// relation to it, asks ``AccessPolicy``, acts, and audits, inside one transaction.
public struct ProgramAPI: Sendable {
    typealias Context = ProgramRequestContext

    let store: ProgramStore
    let configuration: ServerConfiguration
    let now: @Sendable () -> Date
    /// Called after a change that may cut gateway access (a revocation, the kill switch), so a
    /// gateway in this process acts on it at once rather than at its next reload.
    let accessChanged: @Sendable () async -> Void
    /// Failed sign-ins, shared by every request to this server.
    let signInThrottle = SignInThrottleState()
    /// Runs on the program's workers: the store and the attempt queue kept in step.
    public let runs: ProgramRuns

    /// `queue` carries submitted runs' attempts to workers; by default one in this process,
    /// which only this server's own worker takes from. `resultsBuilder` builds a run's results
    /// when it ends.
    public init(
        store: ProgramStore, configuration: ServerConfiguration, now: @escaping @Sendable () -> Date = Date.init,
        queue: any AttemptQueue = EmbeddedAttemptQueue(), logger: Logger = Logger(label: "airlock.server"),
        accessChanged: @escaping @Sendable () async -> Void = {}, resultsBuilder: (any RunResultsBuilder)? = nil
    ) {
        self.store = store
        self.configuration = configuration
        self.now = now
        self.accessChanged = accessChanged
        runs = ProgramRuns(store: store, queue: queue, logger: logger, now: now, accessChanged: accessChanged, resultsBuilder: resultsBuilder)
    }

    // MARK: Authentication

    /// The actor a user key or session token stands for; 401 for any other token.
    func authenticate(token: String) async throws -> Actor {
        let now = now()
        let found = try await store.database.withSession { sql -> Actor? in
            let records = ProgramRecords(sql: sql, flavour: store.database.flavour)
            // Grant keys open the gateway only, never the program API.
            guard let key = try await records.key(secret: token), key.kind != .grant, key.revokedAt == nil,
                key.expiresAt.map({ $0 > now }) ?? true, let userId = key.userId,
                let user = try await records.user(id: userId),
                let organisation = try await records.organisation(id: user.organisationId)
            else { return nil }
            return Actor(user: user, organisation: organisation, keyId: key.id)
        }
        guard let found else { throw ProblemDetails.unauthenticated }
        return found
    }

    // MARK: Authorisation

    /// Throws 404 or 403 unless the policy allows `action`.
    func authorize(_ action: ProgramAction, _ actor: Actor, _ relation: ObjectRelation, hiding what: String) throws {
        switch AccessPolicy.decide(action, role: actor.user.role, kind: actor.organisation.kind, relation: relation) {
        case .allow: return
        case .notFound: throw ProblemDetails.notFound(what)
        case .forbidden:
            throw ProblemDetails.forbidden("your organisation or role may not do this (\(action.rawValue))")
        }
    }

    func relation(of actor: Actor, toOrganisation id: String) -> ObjectRelation {
        if actor.organisation.kind == .programOffice { return .programOffice }
        return actor.organisation.id == id ? .owner : .none
    }

    func relation(of actor: Actor, toVersion version: ModelVersion, _ records: ProgramRecords) async throws -> ObjectRelation {
        if actor.organisation.kind == .programOffice { return .programOffice }
        if version.developerId == actor.organisation.id { return .owner }
        return try await records.holdsGrant(organisationId: actor.organisation.id, versionId: version.id) ? .grantee : .none
    }

    func relation(of actor: Actor, toModel model: CoveredModel, _ records: ProgramRecords) async throws -> ObjectRelation {
        if actor.organisation.kind == .programOffice { return .programOffice }
        if model.developerId == actor.organisation.id { return .owner }
        return try await records.holdsGrant(organisationId: actor.organisation.id, modelId: model.id) ? .grantee : .none
    }

    func relation(of actor: Actor, toGrant grant: AccessGrant, version: ModelVersion) -> ObjectRelation {
        if actor.organisation.kind == .programOffice { return .programOffice }
        if version.developerId == actor.organisation.id { return .owner }
        return grant.granteeId == actor.organisation.id ? .grantee : .none
    }

    func visibility(of actor: Actor) -> Visibility {
        actor.organisation.kind == .programOffice ? .all : .organisation(actor.organisation.id)
    }

    // MARK: Audit

    func audit(
        _ records: ProgramRecords, _ actor: Actor?, _ action: String, _ objectType: String, _ objectId: String?,
        _ detail: [String: String] = [:]
    ) async throws {
        try await records.appendAudit(
            at: now(), actorUserId: actor?.user.id, actorOrganisationId: actor?.organisation.id, action: action,
            objectType: objectType, objectId: objectId, detail: detail)
    }

    // MARK: Bodies and responses

    /// Reads a JSON body (at most `limit`, 1 MiB unless said); a bad one is 400 naming the field. With
    /// `emptyAllowed`, no body reads as `{}`.
    func decode<Body: Decodable>(
        _ type: Body.Type, from request: Request, emptyAllowed: Bool = false, limit: Int = 1 << 20
    ) async throws -> (Body, ByteBuffer) {
        var request = request
        var buffer = try await request.collectBody(upTo: limit)
        if emptyAllowed, buffer.readableBytes == 0 { buffer = ByteBuffer(string: "{}") }
        // U+0000 is cut short by SQLite and refused by PostgreSQL: refuse it here, for both.
        if buffer.readableBytesView.firstRange(of: Array(#"\u0000"#.utf8)) != nil {
            throw ProblemDetails.badRequest("strings may not contain U+0000")
        }
        do {
            return (try APIJSON.decoder.decode(Body.self, from: Data(buffer.readableBytesView)), buffer)
        } catch let error as DecodingError {
            throw Self.problem(for: error)
        } catch let problem as ProblemDetails {
            throw problem
        } catch {
            throw ProblemDetails.badRequest("the body is not valid JSON")
        }
    }

    static func problem(for error: DecodingError) -> ProblemDetails {
        func field(_ path: [any CodingKey], _ last: (any CodingKey)? = nil) -> String? {
            let keys = (path + (last.map { [$0] } ?? [])).map { key in
                key.intValue.map { "[\($0)]" } ?? snakeCase(key.stringValue)
            }
            return keys.isEmpty ? nil : keys.joined(separator: ".").replacingOccurrences(of: ".[", with: "[")
        }
        switch error {
        case .keyNotFound(let key, let context):
            let name = field(context.codingPath, key) ?? key.stringValue
            return .badRequest("'\(name)' is required", field: name)
        case .typeMismatch(let type, let context):
            return .badRequest("expected \(jsonType(type))", field: field(context.codingPath))
        case .valueNotFound(let type, let context):
            return .badRequest("expected \(jsonType(type)), got null", field: field(context.codingPath))
        case .dataCorrupted(let context):
            if context.codingPath.isEmpty { return .badRequest("the body is not valid JSON") }
            return .badRequest(context.debugDescription, field: field(context.codingPath))
        @unknown default:
            return .badRequest("the body does not fit the request's schema")
        }
    }

    private static func jsonType(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Int.Type, is Int64.Type: "an integer"
        case is Bool.Type: "true or false"
        case is Date.Type: "an RFC 3339 time"
        default: "a value of another type"
        }
    }

    static func snakeCase(_ name: String) -> String {
        name.reduce(into: "") { result, character in
            if character.isUppercase {
                result += "_" + character.lowercased()
            } else {
                result.append(character)
            }
        }
    }

    func json(_ value: some Encodable, status: HTTPResponse.Status = .ok, location: String? = nil) throws -> Response {
        var headers: HTTPFields = [.contentType: "application/json"]
        if let location { headers[.location] = location }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: try APIJSON.encoder.encode(value))))
    }

    /// A creating request: runs `make` in a transaction, and with an `Idempotency-Key` header
    /// stores the response with it, so that a retry returns the same response instead of
    /// creating twice, and the same key with another body is refused.
    ///
    /// A response that carries a secret (`revealsSecret`) is not stored: a replay of its key is
    /// refused with 409, since the secret was shown once.
    func create<Body: Decodable>(
        _ request: Request, _ context: Context, _ body: Body.Type, revealsSecret: Bool = false, workerAllowed: Bool = false, limit: Int = 1 << 20,
        _ make: (ProgramRecords, Actor, Body) async throws -> (response: any Encodable & Sendable, location: String)
    ) async throws -> Response {
        let actor = try context.requireActor(workerAllowed: workerAllowed)
        let (input, buffer) = try await decode(body, from: request, limit: limit)
        let idempotencyKey = request.headers[HTTPField.Name("Idempotency-Key")!]
        if let idempotencyKey, idempotencyKey.isEmpty || idempotencyKey.count > 255 {
            throw ProblemDetails.badRequest("an Idempotency-Key is 1 to 255 characters", field: "Idempotency-Key")
        }
        var digest = SHA256()
        digest.update(data: Data("\(request.method.rawValue) \(request.uri.path)\n".utf8))
        digest.update(data: Data(buffer.readableBytesView))
        let requestHash = Hex.string(digest.finalize())
        let stored = try await store.transaction { records -> (ProgramRecords.StoredResponse, replayed: Bool) in
            if let idempotencyKey, let previous = try await records.storedResponse(userId: actor.user.id, key: idempotencyKey) {
                guard previous.requestHash == requestHash else {
                    throw ProblemDetails(
                        .unprocessableContent, code: "idempotency-key-reused",
                        detail: "this Idempotency-Key was used with a different request", field: "Idempotency-Key")
                }
                guard !revealsSecret else {
                    throw ProblemDetails(
                        .conflict, code: "already-issued",
                        detail: "a key was already issued for this Idempotency-Key; its secret was shown once")
                }
                return (previous, true)
            }
            let (output, location) = try await make(records, actor, input)
            let response = ProgramRecords.StoredResponse(
                requestHash: requestHash, status: 201,
                body: String(decoding: try APIJSON.encoder.encode(output), as: UTF8.self), location: location)
            if let idempotencyKey {
                var stored = response
                if revealsSecret { stored.body = "" }
                try await records.store(stored, userId: actor.user.id, key: idempotencyKey, at: now())
            }
            return (response, false)
        }
        var headers: HTTPFields = [.contentType: "application/json"]
        if let location = stored.0.location { headers[.location] = location }
        if stored.replayed { headers[HTTPField.Name("Idempotent-Replayed")!] = "true" }
        return Response(
            status: .init(code: stored.0.status), headers: headers, body: .init(byteBuffer: ByteBuffer(string: stored.0.body)))
    }
}

/// `?cursor=…&limit=…` of a list request.
struct ListQuery {
    var cursor: String?
    var limit: Int

    init(_ request: Request) throws {
        limit = try Self.limit(request)
        if let text = request.uri.queryParameters["cursor"] {
            guard let data = Data(base64Encoded: Self.padded(String(text))), let id = String(data: data, encoding: .utf8),
                id.range(of: "^[a-z]{3}_[0-9A-Z]{26}$", options: .regularExpression) != nil
            else { throw ProblemDetails.badRequest("cursor is not one this server gave out", field: "cursor") }
            cursor = id
        }
    }

    /// `?limit=`: 1 to 200, 50 when absent.
    static func limit(_ request: Request) throws -> Int {
        let parameters = request.uri.queryParameters
        if let text = parameters["limit"] {
            guard let limit = Int(String(text)), (1...200).contains(limit) else {
                throw ProblemDetails.badRequest("limit must be an integer from 1 to 200", field: "limit")
            }
            return limit
        }
        return 50
    }

    static func padded(_ text: String) -> String {
        let base = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        return base + String(repeating: "=", count: (4 - base.count % 4) % 4)
    }

    static func cursor(after id: String?) -> String? {
        id.map {
            Data($0.utf8).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
                .replacingOccurrences(of: "=", with: "")
        }
    }
}

extension ListPage {
    /// A store page as the API returns it: each record as its view, and the next page's cursor.
    init<Record>(_ page: Page<Record>, _ view: (Record) -> Item) {
        self.init(items: page.items.map(view), nextCursor: ListQuery.cursor(after: page.nextCursor))
    }

    /// A store page of records the API sends as they are.
    init(_ page: Page<Item>) {
        self.init(page) { $0 }
    }
}
