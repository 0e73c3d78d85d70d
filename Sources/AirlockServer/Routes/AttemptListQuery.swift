import AirlockCore
import AirlockStore
import Foundation
import Hummingbird

/// Which of a run's results a list shows, read from its URL: the API's `GET /runs/{id}/attempts`
/// and the web UI's samples page take the same parameters.
///
/// `status` (scored, failed), `cause` (a failure's cause), `epoch`, `scorer`, `score_min`,
/// `score_max`, `field` with `value` (a metadata field and its value), `q` (words of the
/// transcript), `sort` (sample, score, -score, kept, -kept) and `cursor` (from the last page).
struct AttemptListQuery: Sendable {
    var selection: AttemptSelection
    var cursor: AttemptCursor?

    static let maximumTextLength = 500

    init(_ parameters: [String: String]) throws {
        func text(_ name: String) throws -> String? {
            guard let value = parameters.filled(name) else { return nil }
            guard value.count <= Self.maximumTextLength else {
                throw ProblemDetails.badRequest("\(name) is at most \(Self.maximumTextLength) characters", field: name)
            }
            return value
        }
        func number(_ name: String) throws -> Double? {
            guard let value = try text(name) else { return nil }
            guard let number = Double(value), number.isFinite else { throw ProblemDetails.badRequest("\(name) must be a finite number", field: name) }
            return number
        }
        selection = AttemptSelection()
        if let status = try text("status") {
            guard ["scored", "failed"].contains(status) else { throw ProblemDetails.badRequest("status is scored or failed", field: "status") }
            selection.status = status
        }
        selection.failureCause = try text("cause")
        if let epoch = try text("epoch") {
            guard let value = Int(epoch), value >= 1 else { throw ProblemDetails.badRequest("epoch must be a whole number from 1", field: "epoch") }
            selection.epoch = value
        }
        selection.scorer = try text("scorer")
        selection.minimumScore = try number("score_min")
        selection.maximumScore = try number("score_max")
        selection.metadataKey = try text("field")
        selection.metadataValue = try text("value")
        if selection.metadataKey == nil, selection.metadataValue != nil {
            throw ProblemDetails.badRequest("value needs the metadata field it is of", field: "field")
        }
        if selection.metadataKey != nil, selection.metadataValue == nil { selection.metadataValue = "" }
        selection.text = try text("q")
        if let sort = try text("sort") {
            guard let order = AttemptSelection.Order(rawValue: sort) else {
                let orders = AttemptSelection.Order.allCases.map(\.rawValue).joined(separator: ", ")
                throw ProblemDetails.badRequest("sort is one of \(orders)", field: "sort")
            }
            selection.order = order
        }
        if let text = parameters["cursor"] {
            guard let data = Data(base64Encoded: ListQuery.padded(text)), let cursor = try? JSONDecoder().decode(AttemptCursor.self, from: data) else {
                throw ProblemDetails.badRequest("cursor is not one this server gave out", field: "cursor")
            }
            self.cursor = cursor
        }
    }

    init(_ request: Request) throws {
        try self.init(try URLEncodedForm.fields(request.uri.query ?? ""))
    }

    /// The selection, its scorer the run's first where none was asked for.
    func resolved(_ fields: AttemptFields) -> AttemptSelection {
        var selection = selection
        if selection.scorer == nil { selection.scorer = fields.scorers.first }
        return selection
    }

    /// The URL parameters of the selection (not of its cursor): a link that keeps the filters.
    var parameters: [String: String] {
        func number(_ value: Double?) -> String { value.map { JSONValue.number($0).text } ?? "" }
        return [
            "status": selection.status ?? "", "cause": selection.failureCause ?? "", "epoch": selection.epoch.map(String.init) ?? "",
            "scorer": selection.scorer ?? "", "score_min": number(selection.minimumScore), "score_max": number(selection.maximumScore),
            "field": selection.metadataKey ?? "", "value": selection.metadataKey == nil ? "" : selection.metadataValue ?? "",
            "q": selection.text ?? "", "sort": selection.order == .sample ? "" : selection.order.rawValue,
        ]
    }

    static func cursorText(_ cursor: AttemptCursor) throws -> String {
        ListQuery.cursor(after: String(decoding: try JSONEncoder().encode(cursor), as: UTF8.self)) ?? ""
    }
}
