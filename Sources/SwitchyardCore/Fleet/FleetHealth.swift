/// The bookkeeping behind shared gateway health: what this instance has seen
/// and not yet sent, what it has sent to each time bucket, and how much of
/// the other instances' counts it has already folded into its scores. Pure:
/// the sync thread does the Redis calls, the merger folds the results in.
///
/// The fleet's counts live in one Redis hash per time bucket, a counter per
/// gateway, segment and outcome kind, only ever incremented (HINCRBY). A
/// bucket's total minus this instance's own increments is what the others
/// saw; the part of it not yet applied is applied once, so every outcome
/// counts once on every instance, however often the buckets are read.
public struct FleetHealth: Sendable {
    public struct Counts: Equatable, Sendable {
        public var successes: Int64 = 0
        public var failures: Int64 = 0

        public init(successes: Int64 = 0, failures: Int64 = 0) {
            self.successes = successes
            self.failures = failures
        }

        public var isEmpty: Bool { successes == 0 && failures == 0 }
    }

    /// Outcomes seen here and not yet in Redis, by counter name.
    public private(set) var pending: [String: Counts] = [:]
    /// Outcomes lost because `pending` was full when Redis was away.
    public private(set) var dropped: Int64 = 0
    public let maxPendingCounters: Int
    /// Per bucket: what this instance added, and what of the others' it applied.
    private var own: [Int64: [String: Counts]] = [:]
    private var applied: [Int64: [String: Counts]] = [:]

    public init(maxPendingCounters: Int) {
        self.maxPendingCounters = maxPendingCounters
    }

    /// One attributable outcome seen by this instance.
    public mutating func record(_ counter: String, success: Bool) {
        guard pending[counter] != nil || pending.count < maxPendingCounters else {
            dropped += 1
            return
        }
        if success {
            pending[counter, default: Counts()].successes += 1
        } else {
            pending[counter, default: Counts()].failures += 1
        }
    }

    /// Takes what is pending, for a flush (which the sync thread resends
    /// until Redis takes it).
    public mutating func takePending() -> [String: Counts] {
        defer { pending = [:] }
        return pending
    }

    /// A flush that reached Redis: the counts are this instance's part of `bucket`.
    public mutating func flushed(_ counts: [String: Counts], into bucket: Int64) {
        for (counter, value) in counts {
            own[bucket, default: [:]][counter, default: Counts()].successes += value.successes
            own[bucket, default: [:]][counter, default: Counts()].failures += value.failures
        }
    }

    /// The fleet's totals of `bucket` as read from Redis; returns the other
    /// instances' outcomes not applied before (and marks them applied).
    /// Totals below what is known (Redis lost the bucket) apply nothing.
    public mutating func absorb(bucket: Int64, totals: [String: Counts]) -> [String: Counts] {
        var fresh: [String: Counts] = [:]
        for (counter, total) in totals {
            let mine = own[bucket]?[counter] ?? Counts()
            let done = applied[bucket]?[counter] ?? Counts()
            let new = Counts(
                successes: max(0, total.successes - mine.successes - done.successes),
                failures: max(0, total.failures - mine.failures - done.failures))
            guard !new.isEmpty else { continue }
            fresh[counter] = new
            applied[bucket, default: [:]][counter] = Counts(
                successes: done.successes + new.successes, failures: done.failures + new.failures)
        }
        return fresh
    }

    /// What this instance added to `bucket` beyond `recorded` (what Redis
    /// still holds of it, after a restart).
    public func missing(bucket: Int64, recorded: [String: Counts]) -> [String: Counts] {
        var missing: [String: Counts] = [:]
        for (counter, mine) in own[bucket] ?? [:] {
            let kept = recorded[counter] ?? Counts()
            let lost = Counts(
                successes: max(0, mine.successes - kept.successes), failures: max(0, mine.failures - kept.failures))
            if !lost.isEmpty { missing[counter] = lost }
        }
        return missing
    }

    /// Drops the bookkeeping of buckets before `bucket` (out of the window).
    public mutating func forget(before bucket: Int64) {
        own = own.filter { $0.key >= bucket }
        applied = applied.filter { $0.key >= bucket }
    }
}
