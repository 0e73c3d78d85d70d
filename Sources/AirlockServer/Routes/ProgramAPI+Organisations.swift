import AirlockAPI
import AirlockCore
import AirlockStore
import Foundation
import HummingbirdBcrypt
import Hummingbird
import NIOPosix

extension ProgramAPI {
    func listOrganisations(_ request: Request, _ context: Context) async throws -> Response {
        let actor = try context.requireActor()
        let query = try ListQuery(request)
        try authorize(.organisationList, actor, relation(of: actor, toOrganisation: actor.organisation.id), hiding: "organisation")
        let page = try await store.transaction { try await $0.organisations(after: query.cursor, limit: query.limit) }
        return try json(ListPage(page))
    }

    func createOrganisation(_ request: Request, _ context: Context) async throws -> Response {
        try await create(request, context, NewOrganisation.self) { records, actor, body in
            try authorize(.organisationCreate, actor, relation(of: actor, toOrganisation: ""), hiding: "organisation")
            let name = try Validate.name(body.name, field: "name")
            // The program office holds oversight of everything; only `airlock db bootstrap` makes it.
            guard body.kind != .programOffice else {
                throw ProgramRuleError(.invalidField, "the program has one program office, made by `airlock db bootstrap`", field: "kind")
            }
            if body.kind == .infrastructureOperator, body.sector == nil {
                throw ProgramRuleError(.invalidField, "an infrastructure operator needs a sector", field: "sector")
            }
            let organisation = Organisation(
                id: Identifier.make("org"), name: name, kind: body.kind,
                sector: body.kind == .infrastructureOperator ? body.sector : nil, createdAt: now())
            try await records.insert(organisation)
            try await audit(records, actor, "organisation.create", "organisation", organisation.id, ["name": name, "kind": body.kind.rawValue])
            return (organisation, "/api/v1/organisations/\(organisation.id)")
        }
    }

    func readOrganisation(_ request: Request, _ context: Context) async throws -> Response {
        let actor = try context.requireActor()
        let id = try context.parameters.require("organisation_id")
        try authorize(.organisationRead, actor, relation(of: actor, toOrganisation: id), hiding: "organisation")
        guard let organisation = try await store.transaction({ try await $0.organisation(id: id) }) else {
            throw ProblemDetails.notFound("organisation")
        }
        return try json(organisation)
    }

    func listUsers(_ request: Request, _ context: Context) async throws -> Response {
        let actor = try context.requireActor()
        let id = try context.parameters.require("organisation_id")
        let query = try ListQuery(request)
        let page = try await store.transaction { records in
            guard try await records.organisation(id: id) != nil else { throw ProblemDetails.notFound("organisation") }
            try authorize(.userList, actor, relation(of: actor, toOrganisation: id), hiding: "organisation")
            let page = try await records.users(organisationId: id, after: query.cursor, limit: query.limit)
            try await audit(records, actor, "user.list", "organisation", id, ["count": "\(page.items.count)"])
            return page
        }
        return try json(ListPage(page))
    }

    func createUser(_ request: Request, _ context: Context) async throws -> Response {
        let id = try context.parameters.require("organisation_id")
        return try await create(request, context, NewUser.self) { records, actor, body in
            guard try await records.organisation(id: id) != nil else { throw ProblemDetails.notFound("organisation") }
            try authorize(.userCreate, actor, relation(of: actor, toOrganisation: id), hiding: "organisation")
            let email = try Validate.email(body.email)
            if body.role == .worker, try await records.organisation(id: id)?.kind != .programOffice {
                throw ProgramRuleError(.invalidField, "the worker role is for the program office's machines", field: "role")
            }
            var passwordHash: String?
            if let password = body.password {
                try PasswordRule.check(password)
                passwordHash = try await Passwords.hash(password)
            }
            let user = User(
                id: Identifier.make("usr"), organisationId: id, email: email, name: try Validate.name(body.name, field: "name"),
                role: body.role, createdAt: now())
            try await records.insert(user, passwordHash: passwordHash)
            try await audit(records, actor, "user.create", "user", user.id, ["organisation": id, "role": body.role.rawValue])
            return (user, "/api/v1/organisations/\(id)/users")
        }
    }
}

/// Checks on free-text fields, naming the field.
enum Validate {
    /// The longest e-mail address (RFC 5321's path limit, less the angle brackets).
    static let maximumEmailBytes = 254

    static func name(_ value: String, field: String, max: Int = 200) throws(ProgramRuleError) -> String {
        let trimmed = value.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { throw ProgramRuleError(.invalidField, "must not be empty", field: field) }
        guard trimmed.count <= max else { throw ProgramRuleError(.invalidField, "must be at most \(max) characters", field: field) }
        return trimmed
    }

    static func email(_ value: String) throws(ProgramRuleError) -> String {
        let trimmed = value.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
        guard trimmed.utf8.count <= maximumEmailBytes, trimmed.range(of: "^[^@\\s]+@[^@\\s]+$", options: .regularExpression) != nil else {
            throw ProgramRuleError(.invalidField, "is not an email address", field: "email")
        }
        return trimmed
    }

    /// A number of the request within its documented range, else 400 naming the field.
    static func range<Number: BinaryInteger>(_ value: Number, _ range: ClosedRange<Number>, field: String) throws(ProblemDetails) {
        guard range.contains(value) else {
            throw ProblemDetails.badRequest("must be an integer from \(range.lowerBound) to \(range.upperBound)", field: field)
        }
    }

    /// A change's optional `reason`, as the audit log keeps it: at most 2,000 characters.
    static func reason(_ value: String?) throws(ProgramRuleError) -> String {
        try text(value ?? "", field: "reason", max: 2_000)
    }

    static func text(_ value: String, field: String, max: Int) throws(ProgramRuleError) -> String {
        guard value.count <= max else { throw ProgramRuleError(.invalidField, "must be at most \(max) characters", field: field) }
        return value
    }
}

/// Password hashing with bcrypt, off the event loops.
enum Passwords {
    static func hash(_ password: String) async throws -> String {
        try await NIOThreadPool.singleton.runIfActive { Bcrypt.hash(password, cost: 11) }
    }

    static func verify(_ password: String, hash: String) async throws -> Bool {
        try await NIOThreadPool.singleton.runIfActive { Bcrypt.verify(password, hash: hash) }
    }
}
