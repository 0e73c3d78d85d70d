import AirlockCore
import AirlockExchange
import AirlockStore
import Foundation
import HTTPTypes
import Hummingbird

/// The TAXII 2.1 server under `/taxii2/`: discovery, one API root (`/taxii2/airlock/`), its
/// collections, objects, manifest, versions and status (OASIS TAXII 2.1 §4, §5).
///
/// Reads are served from ``TAXIIObjectCache``: per request, authentication, the collection's
/// stamp, and a page cut from memory. Writes (POST, DELETE) go to the store in one transaction
/// with their audit entry. Reads are not audited page by page (pollers would flood the log);
/// refusals are.
struct TAXIIRoutes: Sendable {
    typealias Context = ProgramRequestContext

    /// The API root's name in its URL.
    static let apiRootName = "airlock"
    /// The API root's path, as discovery lists it.
    static let apiRootPath = "/taxii2/\(apiRootName)/"

    let api: ProgramAPI
    let catalog: TAXIICatalog
    let cache: TAXIIObjectCache
    let limits: TAXIIPageLimits
    let apiRoot: TAXIIAPIRoot

    /// - Parameters:
    ///   - limits: page sizes: 100 by default, at most 1,000.
    ///   - maxContentLength: the largest POST body, in bytes (10 MiB).
    init(api: ProgramAPI, limits: TAXIIPageLimits = TAXIIPageLimits(defaultLimit: 100, maximumLimit: 1000), maxContentLength: Int = 10 << 20) {
        self.api = api
        catalog = TAXIICatalog(namespace: api.configuration.sharingNamespace)
        cache = TAXIIObjectCache()
        self.limits = limits
        apiRoot = TAXIIAPIRoot(
            title: "Airlock",
            description: "Findings and indicators of Airlock's pre-release security reviews: one collection per disclosure case, "
                + "the program community, each infrastructure sector, and the public.",
            maxContentLength: maxContentLength)
    }

    /// Mounts the routes, and answers unmatched paths under `/taxii2` with TAXII errors.
    /// Each path also matches with a trailing slash (the router ignores empty path components).
    func add(to router: Router<Context>) {
        let taxii = router.group("taxii2").add(middleware: TAXIIRequestMiddleware(api: api))
        taxii.get("", use: discovery)
        let root = taxii.group("airlock")
        root.get("", use: readAPIRoot)
        root.get("collections", use: listCollections)
        root.get("collections/{collection_id}", use: readCollection)
        root.get("collections/{collection_id}/objects") { try await page($0, $1) { _ in .objects } }
        root.post("collections/{collection_id}/objects", use: addObjects)
        root.get("collections/{collection_id}/objects/{object_id}") { try await page($0, $1) { .object(id: $0) } }
        root.delete("collections/{collection_id}/objects/{object_id}", use: deleteObject)
        root.get("collections/{collection_id}/objects/{object_id}/versions") { try await page($0, $1) { .objectVersions(id: $0) } }
        root.get("collections/{collection_id}/manifest") { try await page($0, $1) { _ in .manifest } }
        root.get("status/{status_id}", use: readStatus)
        router.add(middleware: TAXIIUnmatchedMiddleware<Context>())
    }

    // MARK: - Discovery and API root

    @Sendable func discovery(_ request: Request, _ context: Context) async throws -> Response {
        let resource = TAXIIDiscovery(
            title: "Airlock TAXII 2.1 server",
            description: "STIX 2.1 objects of Airlock's pre-release security reviews. Credentials: HTTP Basic, any user name, "
                + "an Airlock API key as the password; without them, the public collection only.",
            defaultAPIRoot: Self.apiRootPath, apiRoots: [Self.apiRootPath])
        return TAXIIResponse.json(resource.jsonBytes)
    }

    @Sendable func readAPIRoot(_ request: Request, _ context: Context) async throws -> Response {
        TAXIIResponse.json(apiRoot.jsonBytes)
    }

    // MARK: - Collections

    @Sendable func listCollections(_ request: Request, _ context: Context) async throws -> Response {
        let reader = TAXIIReader(actor: context.actor)
        let resources = try await withRecords { records in
            var resources: [TAXIICollection] = []
            for access in try await catalog.collections(for: reader, records: records) {
                resources.append(try await catalog.resource(access, records: records))
            }
            return resources
        }
        return TAXIIResponse.json(TAXIICollection.collectionsJSON(resources))
    }

    @Sendable func readCollection(_ request: Request, _ context: Context) async throws -> Response {
        let id = try context.parameters.require("collection_id")
        let reader = TAXIIReader(actor: context.actor)
        let resource = try await withRecords { records in
            try await catalog.resource(try await catalog.access(to: id, reader: reader, records: records), records: records)
        }
        return TAXIIResponse.json(resource.jsonBytes)
    }

    // MARK: - Objects

    /// Get Objects, Get an Object, Get Object Versions and Get Object Manifests: a page of what the
    /// caller may read, with the date headers.
    func page(
        _ request: Request, _ context: Context, endpoint: (String) -> TAXIIObjectEndpoint
    ) async throws -> Response {
        let id = try context.parameters.require("collection_id")
        let endpoint = endpoint(context.parameters.get("object_id") ?? "")
        let reader = TAXIIReader(actor: context.actor)
        let index = try await withRecords { records in
            let access = try await catalog.access(to: id, reader: reader, records: records)
            return try await cache.index(for: access, records: records)
        }
        let query = try TAXIIObjectQuery(
            parsing: try TAXIIQueryItems.parse(request.uri.query), endpoint: endpoint, scope: scope(id), limits: limits)
        let page = try index.page(query)
        return TAXIIResponse.json(page.jsonBytes, headers: page.headers)
    }

    /// Add Objects: 202 with the status resource, which is complete at once. Versions of others'
    /// objects and versions dated in the future are failures in it (``TAXIIAuthorship``).
    @Sendable func addObjects(_ request: Request, _ context: Context) async throws -> Response {
        let id = try context.parameters.require("collection_id")
        let reader = TAXIIReader(actor: context.actor)
        let access = try await withRecords { records in try await catalog.access(to: id, reader: reader, records: records) }
        guard let actor = reader.actor else {
            throw TAXIIError(.unauthorized, "Adding objects needs credentials: HTTP Basic with an Airlock API key as the password.")
        }
        try access.checkCanWrite()
        try TAXIIMediaType.checkContentType(request.headers[.contentType])
        if let length = request.headers[.contentLength].flatMap({ Int($0) }) { try apiRoot.checkContentLength(length) }
        var request = request
        let body = try await request.collectBody(upTo: apiRoot.maxContentLength)

        let receivedAt = TAXIITimestamp(api.now())
        var rejected: [TAXIIStatusDetail] = []
        var accepted: [(draft: TAXIIObjectDraft, tlp: TrafficLightProtocol)] = []
        for item in try TAXIIEnvelopeReader(receivedAt: receivedAt).read(body.readableBytesView) {
            switch item {
            case .rejected(let detail):
                rejected.append(detail)
            case .accepted(let draft):
                let tlp = TAXIIObjectMarking.level(ofObject: draft.json) ?? access.defaultMarking
                guard tlp <= access.collection.strictestMarking else {
                    rejected.append(TAXIIStatusDetail(
                        id: draft.id, version: draft.versionText ?? receivedAt.description,
                        message: "The object is marked \(tlp.label); this collection holds at most \(access.collection.strictestMarking.label)."))
                    continue
                }
                if let refused = TAXIIAuthorship.refusedVersion(draft, receivedAt: receivedAt) {
                    rejected.append(refused)
                    continue
                }
                accepted.append((draft, tlp))
            }
        }

        let statusId = UUID().uuidString.lowercased()
        let (rejections, drafts) = (rejected, accepted)
        let status = try await api.store.transaction { records in
            try await records.lockTAXIICollection(collectionId: access.id)
            let previous = try await records.taxiiLastDateAdded(collectionId: access.id).map(TAXIITimestamp.init(microsecondsSince1970:))
            let dateAdded = TAXIITimestamp.dateAdded(now: receivedAt, previous: previous)
            var held = try await records.taxiiHeldObjects(collectionId: access.id, objectIds: drafts.map(\.draft.id))
            var rejections = rejections
            // Each draft's outcome, in order; the added ones wait for their sequence numbers.
            var outcomes: [TAXIIAddOutcome?] = []
            var rows: [TAXIIStoredObject] = []
            var rowDrafts: [(draft: TAXIIObjectDraft, outcome: Int)] = []
            for (draft, tlp) in drafts {
                let version = draft.version ?? dateAdded
                // An object without created and modified cannot change: any copy is a duplicate.
                if let object = held[draft.id], draft.version == nil || object.versions.contains(version.microsecondsSince1970) {
                    outcomes.append(.duplicate(draft, dateAdded: dateAdded))
                    continue
                }
                if let object = held[draft.id], !TAXIIAuthorship.mayChange(object, reader: reader) {
                    rejections.append(TAXIIAuthorship.notTheAuthor(draft, receivedAt: receivedAt))
                    continue
                }
                held[draft.id, default: TAXIIHeldObject(versions: [], authorId: actor.organisation.id)].versions.append(
                    version.microsecondsSince1970)
                rowDrafts.append((draft, outcomes.count))
                outcomes.append(nil)
                rows.append(TAXIIStoredObject(
                    collectionId: access.id, objectId: draft.id, type: draft.type, version: draft.versionText ?? dateAdded.description,
                    versionMicros: version.microsecondsSince1970, specVersion: draft.specVersion, dateAddedMicros: dateAdded.microsecondsSince1970,
                    mediaType: TAXIIMediaType.stix(specVersion: draft.specVersion), tlp: tlp.rawValue, caseId: access.caseId,
                    body: String(decoding: draft.json, as: UTF8.self), organisationId: actor.organisation.id))
            }
            let stored = try await records.insert(rows)
            for (row, origin) in zip(stored, rowDrafts) {
                outcomes[origin.outcome] = .added(origin.draft.record(dateAdded: dateAdded, sequence: row.sequence))
            }
            let status = TAXIIStatus(id: statusId, requestTimestamp: receivedAt, rejected: rejections, outcomes: outcomes.compactMap { $0 })
            try await records.insertTAXIIStatus(
                id: statusId, collectionId: access.id, organisationId: actor.organisation.id,
                document: String(decoding: status.jsonBytes, as: UTF8.self), at: api.now())
            try await api.audit(
                records, actor, "taxii.add", "taxii_collection", access.id,
                [
                    "collection": access.collection.alias, "status_id": statusId, "total": "\(status.totalCount)",
                    "added": "\(status.successes.count)", "failed": "\(status.failures.count)",
                ])
            return status
        }
        return TAXIIResponse.json(status.jsonBytes, status: .accepted)
    }

    /// Delete an Object: the versions `match[version]` selects (default the last) of an object the
    /// caller reads, in a collection they write, if they are its author or the program office
    /// (``TAXIIAuthorship``); 403 otherwise, and 404 for an object they cannot read.
    @Sendable func deleteObject(_ request: Request, _ context: Context) async throws -> Response {
        let id = try context.parameters.require("collection_id")
        let objectId = try context.parameters.require("object_id")
        let reader = TAXIIReader(actor: context.actor)
        let (access, index) = try await withRecords { records in
            let access = try await catalog.access(to: id, reader: reader, records: records)
            return (access, try await cache.index(for: access, records: records))
        }
        guard let actor = reader.actor else {
            throw TAXIIError(.unauthorized, "Deleting objects needs credentials: HTTP Basic with an Airlock API key as the password.")
        }
        try access.checkCanWrite()
        let query = try TAXIIObjectQuery(
            parsing: try TAXIIQueryItems.parse(request.uri.query), endpoint: .deleteObject(id: objectId), scope: scope(id), limits: limits)
        var selection = index
        let removed = try selection.delete(query)
        try await api.store.transaction { records in
            let held = try await records.taxiiHeldObjects(collectionId: access.id, objectIds: [objectId])[objectId]
            if let held, !TAXIIAuthorship.mayChange(held, reader: reader) { throw TAXIIAuthorship.deleteRefused }
            try await records.deleteTAXIIObjects(collectionId: access.id, sequences: removed.map(\.sequence))
            try await api.audit(
                records, actor, "taxii.delete", "taxii_collection", access.id,
                ["collection": access.collection.alias, "object_id": objectId, "versions": removed.map(\.versionText).joined(separator: ",")])
        }
        return TAXIIResponse.json([])
    }

    // MARK: - Status

    /// Get Status: only for the organisation that posted; 404 for anyone else.
    @Sendable func readStatus(_ request: Request, _ context: Context) async throws -> Response {
        let statusId = try context.parameters.require("status_id")
        guard let actor = context.actor else {
            throw TAXIIError(.unauthorized, "Status resources need credentials: HTTP Basic with an Airlock API key as the password.")
        }
        let found = try await withRecords { records in try await records.taxiiStatus(id: statusId) }
        guard let found, found.organisationId == actor.organisation.id else { throw TAXIIError.notFound("status '\(statusId)'") }
        return TAXIIResponse.json(Array(found.document.utf8))
    }

    // MARK: - Helpers

    /// What `next` tokens are bound to beside the endpoint and filters.
    private func scope(_ collectionId: String) -> String { "\(Self.apiRootName)/collections/\(collectionId)" }

    /// Runs `body` on one connection, outside a transaction: a request's reads share it.
    private func withRecords<Result: Sendable>(_ body: (ProgramRecords) async throws -> Result) async throws -> Result {
        try await api.store.database.withSession { sql in
            try await body(ProgramRecords(sql: sql, flavour: api.store.database.flavour))
        }
    }
}
