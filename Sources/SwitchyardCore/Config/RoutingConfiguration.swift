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
    public var onAllUnhealthy = AllUnhealthyPolicy.leastBad
    public var breaker = BreakerConfiguration()

    public init() {}

    static let fields = ["half_life_s", "prior_weight", "on_all_unhealthy", "breaker"]
    static let breakerFields = [
        "failure_rate_threshold", "minimum_number_of_calls", "sliding_window_s", "consecutive_failure_threshold",
        "wait_duration_in_open_state_ms", "max_wait_duration_in_open_state_ms", "open_jitter_percent",
        "backoff_decay_ms", "permitted_number_of_calls_in_half_open_state", "probe_timeout_ms",
    ]

    init(reading reader: ConfigReader) {
        halfLifeSeconds = reader.integer("half_life_s", default: halfLifeSeconds, in: 1...86_400, unit: "seconds")
        priorWeight = reader.decimal("prior_weight", default: priorWeight, in: 0.1...10_000)
        let policy = reader.choice(
            "on_all_unhealthy", default: onAllUnhealthy.rawValue, from: AllUnhealthyPolicy.allCases.map(\.rawValue))
        onAllUnhealthy = AllUnhealthyPolicy(rawValue: policy) ?? .leastBad
        breaker = RoutingConfiguration.readBreaker(reader.section("breaker"))
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
