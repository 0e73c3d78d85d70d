/// Where a run on the program's workers stands. It is queued when submitted, running once a
/// worker took an attempt, and ends finished (every attempt has a result), failed (an attempt
/// failed for good) or cancelled; a failed or cancelled run can be resumed, which queues what
/// has no result yet.
public enum RunState: String, Sendable, Hashable, Codable, CaseIterable {
    case queued, running, finished, failed, cancelled

    /// Whether a run in this state may move to `next`.
    public func canMove(to next: RunState) -> Bool {
        switch (self, next) {
        case (.queued, .running), (.queued, .cancelled), (.queued, .finished), (.queued, .failed): true
        case (.running, .finished), (.running, .failed), (.running, .cancelled): true
        case (.failed, .queued), (.cancelled, .queued): true
        default: false
        }
    }

    /// Whether workers still take its attempts.
    public var isActive: Bool { self == .queued || self == .running }
}

extension StoredRun {
    /// The round its attempts are taken in; nil when workers take none (it ended, or was imported).
    public var activeRound: Int? {
        guard state?.isActive == true else { return nil }
        return execution?.round
    }
}
