import AirlockCore
import Foundation

/// STIX versioning (§3.6): a version is an object's `id` and `modified`.
///
/// Rules carried out here: the first version has `created == modified`; a new version keeps `id`,
/// `type`, `created` and `created_by_ref` and has a strictly later `modified`; content that did not
/// change gets no new version; a revoked object gets none ever; marking definitions are never versioned.
public enum STIXVersioning {
    /// Properties that belong to the version rather than to the content.
    static let versionProperties: Set<String> = ["created", "modified"]

    /// The version of `proposed` to publish at `date`, given the latest published `previous`.
    ///
    /// - No previous version: `proposed` with `created` and `modified` both at `date`.
    /// - Same content (timestamps aside): `previous`, unchanged.
    /// - Changed content: `proposed` with `previous.created` and `modified` at `date`, or one
    ///   millisecond after `previous.modified` when `date` is not later (clocks differ; §3.6 needs it later).
    public static func version(_ proposed: STIXObject, previous: STIXObject?, at date: Date) throws(SharingDocumentError) -> STIXObject {
        let now = STIXTimestamp(date)
        guard let previous else {
            var first = proposed
            if first.type == "marking-definition" { return first }
            first["created"] = .string(now.description)
            first["modified"] = .string(now.description)
            return first
        }
        guard previous.id == proposed.id, previous.type == proposed.type else {
            throw SharingDocumentError(.mismatch, "\(proposed.id) cannot be a new version of \(previous.id)")
        }
        let unchanged = content(of: previous) == content(of: proposed)
        if previous.type == "marking-definition" {
            if unchanged { return previous }
            throw SharingDocumentError(
                .notVersionable, "marking definitions cannot be versioned; create a new one and re-mark (\(previous.id))")
        }
        guard !previous.isRevoked else {
            throw SharingDocumentError(.revoked, "\(previous.id) was revoked and gets no new versions")
        }
        if unchanged { return previous }
        guard previous.createdByRef == proposed.createdByRef else {
            throw SharingDocumentError(
                .notTheCreator,
                "only \(previous.createdByRef ?? "the creator") may version \(previous.id); "
                    + "others mint a new id and link it with derived-from")
        }
        guard let created = previous.created, let lastModified = previous.modified else {
            throw SharingDocumentError(.invalidInput, "\(previous.id) has no valid created or modified timestamp")
        }
        var next = proposed
        next["created"] = .string(created.description)
        next["modified"] = .string(max(now, lastModified.adding(milliseconds: 1)).description)
        return next
    }

    /// The revoked version of `object` at `date`: `revoked: true`, final.
    public static func revoke(_ object: STIXObject, at date: Date) throws(SharingDocumentError) -> STIXObject {
        guard object.type != "marking-definition" else {
            throw SharingDocumentError(.notVersionable, "marking definitions cannot be revoked (\(object.id))")
        }
        guard !object.isRevoked else { throw SharingDocumentError(.revoked, "\(object.id) is already revoked") }
        var revoked = object
        revoked["revoked"] = .bool(true)
        return try version(revoked, previous: object, at: date)
    }

    /// An object's content: everything but its version timestamps.
    static func content(of object: STIXObject) -> [String: JSONValue] {
        object.properties.filter { !versionProperties.contains($0.key) }
    }
}
