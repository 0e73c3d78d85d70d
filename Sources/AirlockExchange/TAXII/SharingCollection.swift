import AirlockCore

/// The TAXII collections Airlock serves, and who reads and writes each.
///
/// - one per disclosure case: its participants read (objects at the TLP levels
///   ``SharingAccess`` allows them) and write; everyone else gets 404;
/// - `community`: objects shared with every organisation in the program (TLP:GREEN and CLEAR);
/// - one per infrastructure sector (`sector-financial-services`, …): GREEN and CLEAR objects for
///   that sector's organisations;
/// - `public`: TLP:CLEAR objects, readable without credentials.
///
/// A collection's id is derived from what it stands for, so every server of a deployment names
/// it alike without storing it.
public enum SharingCollection: Sendable, Hashable {
    case disclosureCase(String)
    case community
    case sector(InfrastructureSector)
    case `public`

    /// The collection's TAXII id: a UUID derived from the deployment's namespace and the
    /// collection's alias.
    public func id(namespace: String) -> String {
        String(STIXIdentifier.derived("collection", key: alias, namespace: namespace).dropFirst("collection--".count))
    }

    /// A readable name, unique in the deployment (`case-<case id>`, `community`, `sector-<sector>`, `public`).
    public var alias: String {
        switch self {
        case .disclosureCase(let caseId): "case-\(caseId)"
        case .community: "community"
        case .sector(let sector): "sector-\(sector.rawValue)"
        case .public: "public"
        }
    }

    /// The strictest marking an object in the collection may carry: what is shared beyond a
    /// case is at most GREEN.
    public var strictestMarking: TrafficLightProtocol {
        switch self {
        case .disclosureCase: .red
        case .community, .sector: .green
        case .public: .clear
        }
    }
}
