import AirlockCore
import Foundation

/// What results need of one attempt; kept in memory while a run goes on, so finishing a run never
/// re-reads its log.
public struct AttemptSummary: Sendable, Hashable {
    public var status: SampleRecord.Status
    public var scores: [String: Double]
    public var usage: TokenUsage
    public var limitReached: Bool
    public var failureCause: SampleFailure.Cause?

    public init(_ record: SampleRecord) {
        status = record.status
        scores = record.scores.mapValues(\.value)
        usage = record.usage
        limitReached = record.limitReached != nil
        failureCause = record.failure?.cause
    }
}

/// Turns a run's attempts into its results: reduce epochs per sample, then summarise per scorer,
/// per epoch and per group, with intervals that respect clusters.
public enum RunResultsCalculator {
    /// `metadata` gives each sample's metadata, for `group_by` and `cluster_by`.
    public static func compute(header: RunHeader, attempts records: [SampleKey: AttemptSummary], metadata: [String: [String: JSONValue]]) -> RunResults {
        let definition = header.task.definition
        let reducer = definition.epochs.reducer
        let names = Scorers.names(definition.scorers)
        let planned = header.plannedKeys
        var scored = 0
        var failuresByCause: [String: Int] = [:]
        var usage = TokenUsage()
        var limits = 0
        for key in planned {
            guard let record = records[key] else { continue }
            usage += record.usage
            if record.limitReached { limits += 1 }
            if record.status == .scored {
                scored += 1
            } else {
                failuresByCause[record.failureCause?.rawValue ?? "unknown", default: 0] += 1
            }
        }
        let resamples = definition.metrics.bootstrapResamples ?? 2000
        var results: [RunResults.ScorerResults] = []
        for name in names {
            var reduced: [(id: String, value: Double)] = []
            for id in header.sampleIDs {
                let values = (1...header.epochs).compactMap { epoch -> Double? in
                    guard let record = records[SampleKey(sampleID: id, epoch: epoch)], record.status == .scored else { return nil }
                    return record.scores[name]
                }
                if let value = reducer.reduce(values) { reduced.append((id, value)) }
            }
            func clusters(_ ids: [String]) -> [String]? {
                guard let field = definition.metrics.clusterBy else { return nil }
                return ids.map { metadata[$0]?[field]?.text ?? "" }
            }
            let overall = Statistics.summarize(reduced.map(\.value), clusters: clusters(reduced.map(\.id)), resamples: resamples, seed: header.seed)
            let epochs = (1...header.epochs).map { epoch -> MetricSummary in
                let values = header.sampleIDs.compactMap { id -> (String, Double)? in
                    guard let record = records[SampleKey(sampleID: id, epoch: epoch)], record.status == .scored, let value = record.scores[name] else { return nil }
                    return (id, value)
                }
                return Statistics.summarize(values.map(\.1), clusters: clusters(values.map(\.0)), resamples: resamples, seed: header.seed)
            }
            var groups: [String: MetricSummary]?
            let fields = definition.metrics.groupFields
            if !fields.isEmpty {
                // One field: rows keyed by its values; several: by `field=value`.
                var byGroup: [String: [(id: String, value: Double)]] = [:]
                for entry in reduced {
                    for field in fields {
                        let value = metadata[entry.id]?[field]?.text ?? ""
                        byGroup[fields.count == 1 ? value : "\(field)=\(value)", default: []].append(entry)
                    }
                }
                groups = byGroup.mapValues { Statistics.summarize($0.map(\.value), clusters: clusters($0.map(\.id)), resamples: resamples, seed: header.seed) }
            }
            results.append(.init(name: name, overall: overall, epochs: epochs, groups: groups))
        }
        return RunResults(
            completed: Date().timeIntervalSince1970,
            samples: header.sampleIDs.count,
            attempts: planned.count,
            scored: scored,
            failed: planned.count - scored,
            failuresByCause: failuresByCause,
            reducer: reducer.description,
            scorers: results,
            usage: usage,
            limitsReached: limits
        )
    }
}
