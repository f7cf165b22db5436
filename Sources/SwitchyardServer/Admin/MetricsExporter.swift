import Prometheus
import SwitchyardCore
import Synchronization

/// `GET /metrics`: the daemon's counters in the Prometheus text format,
/// written by swift-prometheus. Collected when scraped, from the counters
/// the daemon keeps anyway (atomics and the merger's tallies): nothing is
/// recorded on the request path for it. Runs on loop 0's thread only.
final class MetricsExporter {
    private let registry = PrometheusCollectorRegistry()
    private let connections: Gauge
    private let loops: Gauge
    private let reports: [Counter]
    private let unknownDecisions: Counter
    private let breakerTransitions: Counter
    private let fleet: FleetMetrics?
    /// What each counter showed at the last scrape: Prometheus counters only
    /// go up by increments, the daemon's tallies are totals.
    private var last: [ObjectIdentifier: Int64] = [:]

    /// Only with Redis configured.
    private struct FleetMetrics {
        let connected: Gauge
        let outcomes: Counter
        let dropped: Counter
        let limitsDegraded: Gauge
        let granted: Counter
        let returned: Counter
        let expired: Counter
        let refused: Counter
        let reused: Counter
        let reservations: Counter
    }

    init(fleet: Bool) {
        connections = Self.gauge(registry, "connections", "Open protocol connections.")
        loops = Self.gauge(registry, "loops", "Event loops serving the protocol.")
        reports = PaymentOutcome.allCases.map { [registry] outcome in
            Self.counter(
                registry, "reports", "REPORTs folded into the routing state, by outcome.",
                labels: [("outcome", outcome.name)])
        }
        unknownDecisions = Self.counter(
            registry, "reports_unknown_decision",
            "REPORTs of decisions this instance did not make (or no longer remembers).")
        breakerTransitions = Self.counter(
            registry, "breaker_transitions", "Circuit-breaker state changes, all gateways.")
        self.fleet =
            fleet
            ? FleetMetrics(
                connected: Self.gauge(registry, "redis_connected", "1 while the last exchange with Redis succeeded."),
                outcomes: Self.counter(
                    registry, "fleet_outcomes", "Outcomes other instances saw, folded in from Redis."),
                dropped: Self.counter(
                    registry, "fleet_outcomes_dropped",
                    "Outcome counts dropped while Redis was away (redis.max_pending_counters was reached)."),
                limitsDegraded: Self.gauge(
                    registry, "fleet_limits_degraded", "1 while fleet limits follow their when_redis_down modes."),
                granted: Self.counter(
                    registry, "fleet_limit_tokens_granted",
                    "Tokens Redis granted to this instance's fleet limits (leases and paid credit)."),
                returned: Self.counter(
                    registry, "fleet_limit_tokens_returned", "Unused lease tokens given back to the fleet's budget."),
                expired: Self.counter(
                    registry, "fleet_limit_tokens_expired",
                    "Unused tokens of expired leases not given back: the under-admission leasing cost."),
                refused: Self.counter(
                    registry, "fleet_limit_leases_refused", "Leases asked for that the fleet's budget had no room for."),
                reused: Self.counter(
                    registry, "fleet_limit_tokens_reused",
                    "Tokens granted locally by reuse_last_lease while Redis was away."),
                reservations: Self.counter(registry, "fleet_limit_reservations", "Calls to the lease script in Redis."))
            : nil
    }

    private static func counter(
        _ registry: PrometheusCollectorRegistry, _ name: String, _ help: String, labels: [(String, String)] = []
    ) -> Counter {
        registry.makeCounter(
            descriptor: MetricNameDescriptor(
                namespace: "switchyard", metricName: name, unitName: "total", helpText: help), labels: labels)
    }

    private static func gauge(_ registry: PrometheusCollectorRegistry, _ name: String, _ help: String) -> Gauge {
        registry.makeGauge(
            descriptor: MetricNameDescriptor(namespace: "switchyard", metricName: name, unitName: "", helpText: help))
    }

    /// What the exporter reads at each scrape.
    struct Sample {
        var connections = 0
        var loops = 0
        var routing = RoutingCounters()
        var redisConnected = false
        var dropped: Int64 = 0
        var limitsDegraded = false
        var leases: LeaseCounters?
    }

    func scrape(_ sample: Sample) -> [UInt8] {
        connections.set(Int64(sample.connections))
        loops.set(Int64(sample.loops))
        for (counter, outcome) in zip(reports, PaymentOutcome.allCases) {
            advance(counter, to: sample.routing.reports[Int(outcome.rawValue)])
        }
        advance(unknownDecisions, to: sample.routing.unknownDecisions)
        advance(breakerTransitions, to: sample.routing.breakerTransitions)
        if let fleet {
            advance(fleet.outcomes, to: sample.routing.fleetOutcomes)
            fleet.connected.set(Int64(sample.redisConnected ? 1 : 0))
            fleet.limitsDegraded.set(Int64(sample.limitsDegraded ? 1 : 0))
            advance(fleet.dropped, to: sample.dropped)
            if let leases = sample.leases {
                advance(fleet.granted, to: leases.granted.load(ordering: .relaxed))
                advance(fleet.returned, to: leases.returned.load(ordering: .relaxed))
                advance(fleet.expired, to: leases.expired.load(ordering: .relaxed))
                advance(fleet.refused, to: leases.refused.load(ordering: .relaxed))
                advance(fleet.reused, to: leases.reused.load(ordering: .relaxed))
                advance(fleet.reservations, to: leases.reservations.load(ordering: .relaxed))
            }
        }
        return registry.emitToBuffer()
    }

    private func advance(_ counter: Counter, to total: some BinaryInteger) {
        let key = ObjectIdentifier(counter)
        let value = Int64(clamping: total)
        let delta = value - (last[key] ?? 0)
        if delta > 0 { counter.increment(by: delta) }
        last[key] = max(value, last[key] ?? 0)
    }
}
