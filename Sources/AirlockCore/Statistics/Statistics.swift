import Foundation

/// A metric over the samples of a run, with its uncertainty.
public struct MetricSummary: Sendable, Hashable, Codable {
    public enum Method: String, Sendable, Hashable, Codable {
        /// Wilson score interval for a proportion.
        case wilson
        /// Student-t interval for a mean.
        case t
        /// Percentile bootstrap over clusters, with a cluster-robust standard error.
        case clusterBootstrap = "cluster_bootstrap"
    }

    /// `accuracy` when every value is 0 or 1, else `mean`.
    public var name: String
    public var value: Double
    public var standardError: Double
    public var lower: Double
    public var upper: Double
    public var count: Int
    public var method: Method

    enum CodingKeys: String, CodingKey {
        case name, value
        case standardError = "stderr"
        case lower, upper, count, method
    }

    public init(name: String, value: Double, standardError: Double, lower: Double, upper: Double, count: Int, method: Method) {
        self.name = name
        self.value = value
        self.standardError = standardError
        self.lower = lower
        self.upper = upper
        self.count = count
        self.method = method
    }

    // A summary of no values has none (NaN), which JSON cannot hold: it is written as null.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        func number(_ key: CodingKeys) throws -> Double { try container.decodeIfPresent(Double.self, forKey: key) ?? .nan }
        self.init(
            name: try container.decode(String.self, forKey: .name), value: try number(.value), standardError: try number(.standardError),
            lower: try number(.lower), upper: try number(.upper), count: try container.decode(Int.self, forKey: .count),
            method: try container.decode(Method.self, forKey: .method))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        func number(_ value: Double, _ key: CodingKeys) throws {
            if value.isFinite { try container.encode(value, forKey: key) } else { try container.encodeNil(forKey: key) }
        }
        try container.encode(name, forKey: .name)
        try number(value, .value)
        try number(standardError, .standardError)
        try number(lower, .lower)
        try number(upper, .upper)
        try container.encode(count, forKey: .count)
        try container.encode(method, forKey: .method)
    }
}

/// Means, standard errors and intervals, as evaluation results need them.
public enum Statistics {
    public static func mean(_ values: [Double]) -> Double {
        values.isEmpty ? .nan : values.reduce(0, +) / Double(values.count)
    }

    /// Sample standard deviation (n - 1 in the denominator).
    public static func standardDeviation(_ values: [Double]) -> Double {
        guard values.count > 1 else { return 0 }
        let m = mean(values)
        let squares = values.reduce(0) { $0 + ($1 - m) * ($1 - m) }
        return (squares / Double(values.count - 1)).squareRoot()
    }

    public static func standardError(_ values: [Double]) -> Double {
        guard values.count > 1 else { return 0 }
        return standardDeviation(values) / Double(values.count).squareRoot()
    }

    /// The Wilson score interval for `successes` out of `n`.
    public static func wilsonInterval(successes: Int, n: Int, confidence: Double = 0.95) -> (lower: Double, upper: Double) {
        guard n > 0 else { return (0, 1) }
        let z = normalQuantile(0.5 + confidence / 2)
        let nn = Double(n)
        let p = Double(successes) / nn
        let z2 = z * z
        let denominator = 1 + z2 / nn
        let centre = (p + z2 / (2 * nn)) / denominator
        let half = z * (p * (1 - p) / nn + z2 / (4 * nn * nn)).squareRoot() / denominator
        // At the edges the interval touches 0 or 1 exactly; rounding must not push it inside.
        let lower = successes == 0 ? 0 : max(0, centre - half)
        let upper = successes == n ? 1 : min(1, centre + half)
        return (lower, upper)
    }

    /// A Student-t interval for the mean.
    public static func tInterval(_ values: [Double], confidence: Double = 0.95) -> (lower: Double, upper: Double) {
        let m = mean(values)
        guard values.count > 1 else { return (m, m) }
        let half = tQuantile(0.5 + confidence / 2, degreesOfFreedom: Double(values.count - 1)) * standardError(values)
        return (m - half, m + half)
    }

    /// The cluster-robust (CR1) standard error of a mean: samples in one cluster are correlated, so
    /// their deviations are summed before squaring.
    public static func clusteredStandardError(_ values: [Double], clusters: [String]) -> Double {
        precondition(values.count == clusters.count)
        let m = mean(values)
        var sums: [String: Double] = [:]
        for (value, cluster) in zip(values, clusters) { sums[cluster, default: 0] += value - m }
        let g = Double(sums.count)
        guard g > 1 else { return 0 }
        let total = sums.values.reduce(0) { $0 + $1 * $1 }
        return (g / (g - 1) * total).squareRoot() / Double(values.count)
    }

    /// A percentile bootstrap interval for the mean, resampling whole clusters with replacement.
    public static func clusterBootstrapInterval(_ values: [Double], clusters: [String], resamples: Int = 2000, confidence: Double = 0.95, seed: UInt64 = 0) -> (lower: Double, upper: Double) {
        var byCluster: [String: (sum: Double, count: Double)] = [:]
        for (value, cluster) in zip(values, clusters) {
            byCluster[cluster, default: (0, 0)].sum += value
            byCluster[cluster, default: (0, 0)].count += 1
        }
        let groups = byCluster.keys.sorted().map { byCluster[$0]! }
        guard groups.count > 1, resamples > 0 else { let m = mean(values); return (m, m) }
        var generator = SeededGenerator(seed: seed, stream: "cluster-bootstrap")
        var means: [Double] = []
        means.reserveCapacity(resamples)
        for _ in 0..<resamples {
            var sum = 0.0
            var count = 0.0
            for _ in 0..<groups.count {
                let group = groups[generator.nextIndex(below: groups.count)]
                sum += group.sum
                count += group.count
            }
            means.append(sum / count)
        }
        means.sort()
        let alpha = (1 - confidence) / 2
        return (percentile(means, alpha), percentile(means, 1 - alpha))
    }

    /// Linear interpolation between closest ranks of sorted values.
    static func percentile(_ sorted: [Double], _ p: Double) -> Double {
        let position = p * Double(sorted.count - 1)
        let low = Int(position.rounded(.down))
        let high = min(low + 1, sorted.count - 1)
        let fraction = position - Double(low)
        return sorted[low] + (sorted[high] - sorted[low]) * fraction
    }

    /// Summarises per-sample values: a proportion with a Wilson interval when all are 0 or 1,
    /// a mean with a t interval otherwise, and a cluster bootstrap when clusters are given.
    ///
    /// A cluster bootstrap is never allowed to be narrower than the independent interval: with
    /// few clusters, or every value alike (4 of 4 solved), it collapses to a point and would claim
    /// a certainty the data cannot give. Clustering can only widen an interval.
    public static func summarize(_ values: [Double], clusters: [String]? = nil, confidence: Double = 0.95, resamples: Int = 2000, seed: UInt64 = 0) -> MetricSummary {
        let binary = values.allSatisfy { $0 == 0 || $0 == 1 }
        let name = binary ? "accuracy" : "mean"
        let m = mean(values)
        let independent: (lower: Double, upper: Double)
        if binary {
            independent = wilsonInterval(successes: values.filter { $0 == 1 }.count, n: values.count, confidence: confidence)
        } else if values.allSatisfy({ (0...1).contains($0) }) {
            // Scores with partial credit live in [0, 1]; a t interval must not leave it.
            let t = tInterval(values, confidence: confidence)
            independent = (max(0, t.lower), min(1, t.upper))
        } else {
            independent = tInterval(values, confidence: confidence)
        }
        if let clusters, Set(clusters).count > 1 {
            let interval = clusterBootstrapInterval(values, clusters: clusters, resamples: resamples, confidence: confidence, seed: seed)
            return MetricSummary(name: name, value: m, standardError: clusteredStandardError(values, clusters: clusters), lower: min(interval.lower, independent.lower), upper: max(interval.upper, independent.upper), count: values.count, method: .clusterBootstrap)
        }
        return MetricSummary(name: name, value: m, standardError: standardError(values), lower: independent.lower, upper: independent.upper, count: values.count, method: binary ? .wilson : .t)
    }

    // MARK: Distributions

    /// The standard normal quantile (Acklam's rational approximation, refined by one Halley step).
    public static func normalQuantile(_ p: Double) -> Double {
        precondition(p > 0 && p < 1)
        let a = [-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02, 1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00]
        let b = [-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02, 6.680131188771972e+01, -1.328068155288572e+01]
        let c = [-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00, -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00]
        let d = [7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00]
        let low = 0.02425
        var x: Double
        if p < low {
            let q = (-2 * log(p)).squareRoot()
            x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
        } else if p <= 1 - low {
            let q = p - 0.5
            let r = q * q
            x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1)
        } else {
            let q = (-2 * log(1 - p)).squareRoot()
            x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
        }
        for _ in 0..<2 {
            let e = 0.5 * erfc(-x / 2.0.squareRoot()) - p
            let u = e * (2 * Double.pi).squareRoot() * exp(x * x / 2)
            x -= u / (1 + x * u / 2)
        }
        return x
    }

    /// The Student-t quantile, by inverting the distribution function with bisection then Newton steps.
    public static func tQuantile(_ p: Double, degreesOfFreedom df: Double) -> Double {
        precondition(p > 0 && p < 1 && df > 0)
        if p == 0.5 { return 0 }
        if p < 0.5 { return -tQuantile(1 - p, degreesOfFreedom: df) }
        var low = 0.0
        var high = max(1.0, normalQuantile(p) * 4)
        while tCDF(high, df) < p { high *= 2 }
        for _ in 0..<200 {
            let mid = (low + high) / 2
            if tCDF(mid, df) < p { low = mid } else { high = mid }
            if high - low < 1e-15 * max(1, high) { break }
        }
        return (low + high) / 2
    }

    static func tCDF(_ t: Double, _ df: Double) -> Double {
        let x = df / (df + t * t)
        let tail = 0.5 * regularizedIncompleteBeta(x, a: df / 2, b: 0.5)
        return t >= 0 ? 1 - tail : tail
    }

    /// I_x(a, b) by Lentz's continued fraction (Numerical Recipes, betacf).
    static func regularizedIncompleteBeta(_ x: Double, a: Double, b: Double) -> Double {
        if x <= 0 { return 0 }
        if x >= 1 { return 1 }
        let logBeta: Double = lgamma(a + b) - lgamma(a) - lgamma(b)
        let logFront: Double = logBeta + a * log(x) + b * log(1 - x)
        if x > (a + 1) / (a + b + 2) {
            return 1 - regularizedIncompleteBeta(1 - x, a: b, b: a)
        }
        let tiny = 1e-300
        var c = 1.0
        var d = 1 - (a + b) * x / (a + 1)
        if abs(d) < tiny { d = tiny }
        d = 1 / d
        var h = d
        for m in 1...300 {
            let mm = Double(m)
            var numerator = mm * (b - mm) * x / ((a + 2 * mm - 1) * (a + 2 * mm))
            d = 1 + numerator * d
            if abs(d) < tiny { d = tiny }
            c = 1 + numerator / c
            if abs(c) < tiny { c = tiny }
            d = 1 / d
            h *= d * c
            numerator = -(a + mm) * (a + b + mm) * x / ((a + 2 * mm) * (a + 2 * mm + 1))
            d = 1 + numerator * d
            if abs(d) < tiny { d = tiny }
            c = 1 + numerator / c
            if abs(c) < tiny { c = tiny }
            d = 1 / d
            let delta = d * c
            h *= delta
            if abs(delta - 1) < 1e-16 { break }
        }
        return exp(logFront) * h / a
    }
}
