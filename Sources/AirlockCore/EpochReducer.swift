/// How the scores of one sample's epochs reduce to one score.
public enum EpochReducer: Sendable, Hashable, Codable, CustomStringConvertible {
    case mean
    case max
    /// 1 when at least `k` epochs scored 1 (or more), else 0.
    case atLeast(Int)
    /// The unbiased estimate of the chance that at least one of `k` attempts drawn from the
    /// epochs is correct (Chen et al., 2021): 1 - C(n-c, k) / C(n, k).
    case passAt(Int)

    public var description: String {
        switch self {
        case .mean: return "mean"
        case .max: return "max"
        case .atLeast(let k): return "at_least_\(k)"
        case .passAt(let k): return "pass_at_\(k)"
        }
    }

    /// Parses `mean`, `max`, `at_least_K` or `pass_at_K`.
    public init?(name: String) {
        switch name {
        case "mean": self = .mean
        case "max": self = .max
        default:
            if name.hasPrefix("at_least_"), let k = Int(name.dropFirst("at_least_".count)), k > 0 {
                self = .atLeast(k)
            } else if name.hasPrefix("pass_at_"), let k = Int(name.dropFirst("pass_at_".count)), k > 0 {
                self = .passAt(k)
            } else {
                return nil
            }
        }
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let name = try container.decode(String.self)
        guard let reducer = EpochReducer(name: name) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "unknown reducer '\(name)'; use mean, max, at_least_K or pass_at_K")
        }
        self = reducer
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }

    /// The smallest number of epochs this reducer needs.
    public var minimumEpochs: Int {
        switch self {
        case .mean, .max: return 1
        case .atLeast(let k), .passAt(let k): return k
        }
    }

    /// Reduces the values of the epochs that were scored (failed epochs are not passed in).
    public func reduce(_ values: [Double]) -> Double? {
        guard !values.isEmpty else { return nil }
        switch self {
        case .mean:
            return values.reduce(0, +) / Double(values.count)
        case .max:
            return values.max()
        case .atLeast(let k):
            return values.filter { $0 >= 1 }.count >= k ? 1 : 0
        case .passAt(let k):
            let n = values.count
            let correct = values.filter { $0 >= 1 }.count
            guard n >= k else { return correct > 0 ? 1 : 0 }
            if correct == 0 { return 0 }
            if n - correct < k { return 1 }
            // 1 - prod_{i=n-c+1}^{n} (1 - k/i), the numerically stable form of the ratio of binomials.
            var failAll = 1.0
            for i in (n - correct + 1)...n { failAll *= 1 - Double(k) / Double(i) }
            return 1 - failAll
        }
    }
}
