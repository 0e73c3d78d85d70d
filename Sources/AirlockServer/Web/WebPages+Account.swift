import AirlockCore
import AirlockStore
import Foundation
import HTTPTypes
import Hummingbird

/// The reader's account: a second factor (one-time codes from an authenticator app) set up,
/// confirmed with a code, and turned off with a code. The secret is shown once, on the
/// response that made it, and kept sealed with the credentials key.
extension WebPages {
    struct AccountPage {
        var frame: Frame
        var name: String
        var email: String
        var role: String
        var enabled: Bool
        var setup: Setup?
        var message: String?

        struct Setup {
            var key: String
            var url: String
        }
    }

    func accountPage(_ request: Request, _ context: ProgramRequestContext) async throws -> Response {
        try await account(context, message: nil)
    }

    private func account(
        _ context: ProgramRequestContext, setup: AccountPage.Setup? = nil, message: String?, status: HTTPResponse.Status = .ok
    ) async throws -> Response {
        let actor = try context.requireActor()
        let factor = try await api.store.transaction { records in try await records.secondFactor(userId: actor.user.id) }
        var response = page(
            "account",
            AccountPage(
                frame: frame("Your account", context), name: actor.user.name, email: actor.user.email, role: actor.user.role.rawValue,
                enabled: factor?.confirmedAt != nil, setup: setup, message: message),
            status: status)
        // A page with a secret on it is not kept by the browser.
        response.headers[.cacheControl] = "no-store"
        return response
    }

    func startSecondFactor(_ request: Request, _ context: ProgramRequestContext) async throws -> Response {
        let (actor, _) = try Self.checkFormToken(try await Self.form(request), context)
        guard let sealer = api.store.sealer else {
            return try await account(context, message: "This server has no credentials key to seal a second factor with: ask its operator.", status: .conflict)
        }
        let codes = OneTimeCodes(secret: OneTimeCodes.newSecret())
        let sealed = try sealer.seal(codes.secret, context: "second-factor:" + actor.user.id)
        let started = try await api.store.transaction { records in
            try await records.startSecondFactor(userId: actor.user.id, sealedSecret: sealed, at: api.now())
        }
        guard started else { return try await account(context, message: "The second factor is on already.", status: .conflict) }
        return try await account(context, setup: AccountPage.Setup(key: codes.typedKey, url: codes.authenticatorURL(account: actor.user.email)), message: nil)
    }

    func confirmSecondFactor(_ request: Request, _ context: ProgramRequestContext) async throws -> Response {
        let form = try await Self.form(request)
        let (actor, _) = try Self.checkFormToken(form, context)
        let now = api.now()
        let confirmed = try await api.store.transaction { records in
            guard let factor = try await records.secondFactor(userId: actor.user.id), factor.confirmedAt == nil,
                let step = OneTimeCodes(secret: try api.openSecondFactor(factor.sealedSecret, userId: actor.user.id))
                    .step(matching: form["code"] ?? "", at: now, after: factor.lastStep),
                try await records.takeSecondFactorStep(userId: actor.user.id, step: step, confirmingAt: now)
            else { return false }
            try await api.audit(records, actor, "user.second_factor.enable", "user", actor.user.id, ["via": "browser"])
            return true
        }
        guard confirmed else {
            return try await account(context, message: "That code is not the app's code now: set the second factor up again.", status: .unprocessableContent)
        }
        return Self.redirect("/account")
    }

    func removeSecondFactor(_ request: Request, _ context: ProgramRequestContext) async throws -> Response {
        let form = try await Self.form(request)
        let (actor, _) = try Self.checkFormToken(form, context)
        do {
            try await api.takeCode(form["code"] ?? "", user: actor.user, address: context.remoteAddress?.ipAddress ?? "unknown")
        } catch let problem as ProblemDetails where [.unauthorized, .tooManyRequests, .badRequest].contains(problem.status) {
            return try await account(context, message: problem.detail, status: problem.status == .unauthorized ? .unprocessableContent : problem.status)
        }
        try await api.store.transaction { records in
            try await records.removeSecondFactor(userId: actor.user.id)
            try await api.audit(records, actor, "user.second_factor.disable", "user", actor.user.id, ["via": "browser"])
        }
        return Self.redirect("/account")
    }
}
