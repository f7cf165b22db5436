/// How gateways are scored and how their breakers behave.
public struct RoutingConfiguration: Equatable, Sendable {
    public enum AllUnhealthyPolicy: String, Equatable, Sendable, CaseIterable {
        /// Answer with the open gateways, best first: a payment may still succeed.
        case leastBad = "least_bad"
        /// Answer with an error: the platform decides.
        case failClosed = "fail_closed"
    }

    /// Evidence an outcome this old weighs half as much as a fresh one.
    public var halfLifeSeconds = 300
    /// Pseudo-observations a segment borrows from its parent.
    public var priorWeight = 20.0
    /// The success rate a gateway is assumed to have for a method before any
    /// gateway has evidence for it; once some do, a newcomer starts at their
    /// evidence-weighted average instead.
    public var priorSuccessRate = 0.85
    public var onAllUnhealthy = AllUnhealthyPolicy.leastBad
    /// Bounds, in percent of decisions, on how often the first choice is not
    /// the best-scoring gateway. Inside them, exploration follows the
    /// uncertainty of the scores (probability matching); the floor keeps a
    /// recovering gateway visible, the ceiling caps what exploring may cost.
    public var explorationFloorPercent = 0.5
    public var explorationCeilingPercent = 10.0
    /// Gateways slower than this (average latency, ms) lose score; 0: latency is not scored.
    public var latencyTargetMilliseconds = 0
    /// Score lost per second of average latency above the target (a factor: 0.05 is 5 %).
    public var latencyPenaltyPerSecond = 0.05
    /// The highest attempt number ROUTE and REPORT accept.
    public var maxAttempts = 8
    /// How often outcomes are folded into the scores decisions read: the
    /// most a decision can lag behind the reports received.
    public var snapshotIntervalMilliseconds = 10
    /// How long a reported (payment, attempt) is remembered to refuse a
    /// second report of it, and how many are remembered at most.
    public var reportDedupWindowSeconds = 900
    public var reportDedupCapacity = 1 << 22
    public var segments = SegmentConfiguration()
    public var breaker = BreakerConfiguration()
    /// Rules for every merchant, first match applies (docs/routing.md, "Rules").
    public var rules: [RoutingRule] = []

    public init() {}

    static let fields = [
        "half_life_s", "prior_weight", "prior_success_rate", "on_all_unhealthy", "exploration_floor_percent",
        "exploration_ceiling_percent", "latency_target_ms", "latency_penalty_per_s", "max_attempts",
        "snapshot_interval_ms", "report_dedup_window_s", "report_dedup_capacity", "segments", "breaker", "rules",
    ]
    static let breakerFields = [
        "failure_rate_threshold", "minimum_number_of_calls", "sliding_window_s", "consecutive_failure_threshold",
        "wait_duration_in_open_state_ms", "max_wait_duration_in_open_state_ms", "open_jitter_percent",
        "backoff_decay_ms", "permitted_number_of_calls_in_half_open_state", "probe_timeout_ms",
    ]

    /// Reads the section; the rules are checked against `gateways`.
    package init(reading reader: ConfigReader, gateways: [GatewayConfiguration]) {
        halfLifeSeconds = reader.integer("half_life_s", default: halfLifeSeconds, in: 1...86_400, unit: "seconds")
        priorWeight = reader.decimal("prior_weight", default: priorWeight, in: 0.1...10_000)
        let policy = reader.choice(
            "on_all_unhealthy", default: onAllUnhealthy.rawValue, from: AllUnhealthyPolicy.allCases.map(\.rawValue))
        onAllUnhealthy = AllUnhealthyPolicy(rawValue: policy) ?? .leastBad
        priorSuccessRate = reader.decimal("prior_success_rate", default: priorSuccessRate, in: 0.01...0.99)
        explorationFloorPercent = reader.decimal(
            "exploration_floor_percent", default: explorationFloorPercent, in: 0...100)
        explorationCeilingPercent = reader.decimal(
            "exploration_ceiling_percent", default: explorationCeilingPercent, in: 0...100)
        if explorationCeilingPercent < explorationFloorPercent {
            reader.report(field: "exploration_ceiling_percent", "must be at least exploration_floor_percent")
        }
        latencyTargetMilliseconds = reader.integer(
            "latency_target_ms", default: latencyTargetMilliseconds, in: 0...600_000, unit: "milliseconds")
        latencyPenaltyPerSecond = reader.decimal("latency_penalty_per_s", default: latencyPenaltyPerSecond, in: 0...1)
        maxAttempts = reader.integer("max_attempts", default: maxAttempts, in: 1...255)
        snapshotIntervalMilliseconds = reader.integer(
            "snapshot_interval_ms", default: snapshotIntervalMilliseconds, in: 1...1_000, unit: "milliseconds")
        reportDedupWindowSeconds = reader.integer(
            "report_dedup_window_s", default: reportDedupWindowSeconds, in: 1...604_800, unit: "seconds")
        reportDedupCapacity = reader.integer(
            "report_dedup_capacity", default: reportDedupCapacity, in: 1_024...(1 << 30))
        segments = SegmentConfiguration(reading: reader.section("segments"))
        breaker = RoutingConfiguration.readBreaker(reader.section("breaker"))
        rules = RoutingRuleReader.read(reader, key: "rules", gateways: gateways)
        reader.rejectUnknownKeys(known: RoutingConfiguration.fields)
    }

    private static func readBreaker(_ reader: ConfigReader) -> BreakerConfiguration {
        var b = BreakerConfiguration()
        func milliseconds(_ key: String, _ current: UInt64, _ range: ClosedRange<Int>) -> UInt64 {
            UInt64(reader.integer(key, default: Int(current / 1_000_000), in: range, unit: "milliseconds")) * 1_000_000
        }
        b.failureRateThreshold = reader.integer(
            "failure_rate_threshold", default: b.failureRateThreshold, in: 1...100, unit: "percent")
        b.minimumNumberOfCalls = reader.integer(
            "minimum_number_of_calls", default: b.minimumNumberOfCalls, in: 1...100_000)
        b.slidingWindowSeconds = reader.integer(
            "sliding_window_s", default: b.slidingWindowSeconds, in: 1...3_600, unit: "seconds")
        b.consecutiveFailureThreshold = reader.integer(
            "consecutive_failure_threshold", default: b.consecutiveFailureThreshold, in: 1...100_000)
        b.waitDurationInOpenState = milliseconds(
            "wait_duration_in_open_state_ms", b.waitDurationInOpenState, 1...3_600_000)
        b.maxWaitDurationInOpenState = milliseconds(
            "max_wait_duration_in_open_state_ms", b.maxWaitDurationInOpenState, 1...86_400_000)
        b.openJitterPercent = reader.integer(
            "open_jitter_percent", default: b.openJitterPercent, in: 0...100, unit: "percent")
        b.backoffDecay = milliseconds("backoff_decay_ms", b.backoffDecay, 0...86_400_000)
        b.permittedNumberOfCallsInHalfOpenState = reader.integer(
            "permitted_number_of_calls_in_half_open_state", default: b.permittedNumberOfCallsInHalfOpenState,
            in: 1...BreakerConfiguration.maxProbes)
        b.probeTimeout = milliseconds("probe_timeout_ms", b.probeTimeout, 1...3_600_000)
        if b.maxWaitDurationInOpenState < b.waitDurationInOpenState {
            reader.report(
                field: "max_wait_duration_in_open_state_ms", "must be at least wait_duration_in_open_state_ms")
        }
        reader.rejectUnknownKeys(known: breakerFields)
        return b
    }
}
