import Prometheus
import SwitchyardCore
import Synchronization

/// `GET /metrics`: the daemon's counters in the Prometheus text format,
/// written by swift-prometheus (the request-duration histograms, kept as
/// bucket counts by the loops, are written here in the same format).
/// Collected when scraped, from counters the loops keep without locks
/// (``LoopMetrics``, ``TableCounters``) and the merger's tallies. Runs on
/// loop 0's thread only.
final class MetricsExporter {
    private let registry = PrometheusCollectorRegistry()
    private let connections: Gauge
    private let loops: Gauge
    private let allocated: Gauge
    private let reports: [Counter]
    private let unknownDecisions: Counter
    private let breakerTransitions: Counter
    private let fleet: FleetMetrics?
    /// What each counter showed at the last scrape, by name and labels:
    /// Prometheus counters only go up by increments, the daemon's tallies are totals.
    private var last: [String: Int64] = [:]

    /// Only with Redis configured.
    private struct FleetMetrics {
        let connected: Gauge
        let syncAge: Gauge
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
        allocated = Self.gauge(
            registry, "memory_allocated_bytes", "Bytes in live allocations, process-wide (jemalloc's stats.allocated).")
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
                syncAge: Self.gauge(
                    registry, "fleet_sync_age_seconds",
                    "Seconds since the last completed sync with Redis: how stale the fleet's state here is."),
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
        /// Nil without jemalloc (sanitizer builds).
        var allocatedBytes: UInt64?
        var routing = RoutingCounters()
        var redisConnected = false
        /// Seconds since the fleet sync last completed a cycle; nil before the first (or standalone).
        var syncAge: Double?
        var dropped: Int64 = 0
        var limitsDegraded = false
        var leases: LeaseCounters?
        var loopMetrics: [LoopMetrics] = []
        var totals = LabelledTotals()
        /// Per (gateway, method): reports by outcome, transitions, breaker state, success estimate.
        var gateways: [GatewaySample] = []
        /// The audit log's tallies; nil without one.
        var audit: (written: Int, dropped: Int, rotations: Int)?
    }

    struct GatewaySample {
        let gateway: String
        let method: String
        let counts: RoutingState.SlotCounts
        let state: CircuitBreaker.State
        let successRate: Double
    }

    /// The breaker state as a number, for alert expressions.
    static func code(_ state: CircuitBreaker.State) -> Int64 {
        switch state {
        case .closed: 0
        case .halfOpen: 1
        case .open: 2
        case .forcedOpen: 3
        case .forcedClosed: 4
        case .disabled: 5
        }
    }

    func scrape(_ sample: Sample) -> [UInt8] {
        connections.set(Int64(sample.connections))
        loops.set(Int64(sample.loops))
        if let bytes = sample.allocatedBytes { allocated.set(Int64(bytes)) }
        for (counter, outcome) in zip(reports, PaymentOutcome.allCases) {
            advance(counter, to: sample.routing.reports[Int(outcome.rawValue)])
        }
        advance(unknownDecisions, to: sample.routing.unknownDecisions)
        advance(breakerTransitions, to: sample.routing.breakerTransitions)
        if let fleet {
            advance(fleet.outcomes, to: sample.routing.fleetOutcomes)
            fleet.connected.set(Int64(sample.redisConnected ? 1 : 0))
            fleet.syncAge.set(sample.syncAge ?? -1)
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
        scrapeRequests(sample.loopMetrics)
        for (labels, total) in sample.totals.decisions where total > 0 {
            advance(
                "decisions", "Decisions by the gateway ranked first and the payment method.",
                [("gateway", labels[0]), ("method", labels[1])], to: total)
        }
        for (labels, total) in sample.totals.authorizations where total > 0 {
            advance(
                "authorizations", "AUTHORIZE and DECIDE verdicts by merchant tier and reason.",
                [("tier", labels[0]), ("reason", labels[1])], to: total)
        }
        for (labels, total) in sample.totals.rules where total > 0 {
            advance(
                "rule_\(labels[2])", MetricsExporter.ruleHelp[labels[2]] ?? "",
                [("rule", labels[0]), ("scope", labels[1])], to: total)
        }
        for gateway in sample.gateways {
            let labels = [("gateway", gateway.gateway), ("method", gateway.method)]
            for outcome in PaymentOutcome.allCases where gateway.counts.reports[Int(outcome.rawValue)] > 0 {
                advance(
                    "gateway_reports", "REPORTs by gateway, method and outcome.",
                    labels + [("outcome", outcome.name)], to: gateway.counts.reports[Int(outcome.rawValue)])
            }
            advance(
                "gateway_breaker_transitions", "Circuit-breaker state changes by gateway and method.", labels,
                to: gateway.counts.transitions)
            gaugeFor(
                "gateway_breaker_state",
                "Breaker state: 0 closed, 1 half_open, 2 open, 3 forced_open, 4 forced_closed, 5 disabled.", labels
            ).set(Self.code(gateway.state))
            gaugeFor(
                "gateway_success_rate", "The fleet-level success-rate estimate (posterior mean) for the method.",
                labels
            ).set(gateway.successRate)
        }
        if let audit = sample.audit {
            advance("audit_records_written", "Audit records appended to the audit log.", [], to: UInt64(audit.written))
            advance(
                "audit_records_dropped",
                "Audit records dropped: no room in a loop's buffer (the writer fell behind) or refused by the file.",
                [], to: UInt64(audit.dropped))
            advance("audit_rotations", "Times the audit log was rotated.", [], to: UInt64(audit.rotations))
        }
        return registry.emitToBuffer() + Array(histograms(sample.loopMetrics).utf8)
    }

    static let ruleHelp = [
        "decisions": "Decisions that followed the routing rule, by rule and scope (global or merchant:ID).",
        "shadow_matches": "Payments a rule in shadow would have decided (it matched before the rule followed).",
        "shadow_differs": "Of the shadow matches: the rule would have put another gateway first.",
        "shadow_refusals": "Of the shadow matches: the rule would have left no gateway (the payment refused).",
    ]

    /// Requests by operation and status, summed over the loops.
    private func scrapeRequests(_ loops: [LoopMetrics]) {
        let statuses = LoopMetrics.statuses
        for (operation, name) in LoopMetrics.operations.enumerated() {
            for (slot, status) in statuses.enumerated() {
                let index = operation * statuses.count + slot
                let total = loops.reduce(UInt64(0)) { $0 &+ $1.requests.value(index) }
                guard total > 0 else { continue }
                advance(
                    "requests", "Requests answered, by operation and reply status.",
                    [("operation", name), ("status", status)], to: total)
            }
        }
    }

    /// `switchyard_request_duration_seconds`: how long requests stayed in
    /// the loop, from the wake-up that brought them to the write that
    /// answered them, by operation (operations never seen are left out).
    private func histograms(_ loops: [LoopMetrics]) -> String {
        let name = "switchyard_request_duration_seconds"
        var text = "# HELP \(name) Time from the event loop's wake-up to the reply's write, by operation.\n"
        text += "# TYPE \(name) histogram\n"
        let buckets = LoopMetrics.buckets
        for (operation, label) in LoopMetrics.operations.enumerated() {
            let counts = (0..<buckets).map { bucket in
                loops.reduce(UInt64(0)) { $0 &+ $1.latency.value(operation * buckets + bucket) }
            }
            let count = counts.reduce(0, &+)
            guard count > 0 else { continue }
            var cumulative: UInt64 = 0
            for (bucket, value) in counts.enumerated() {
                cumulative &+= value
                let bound =
                    bucket < LoopMetrics.bucketBounds.count
                    ? "\(Double(LoopMetrics.bucketBounds[bucket]) / 1e9)" : "+Inf"
                text += "\(name)_bucket{operation=\"\(label)\",le=\"\(bound)\"} \(cumulative)\n"
            }
            let sum = loops.reduce(0.0) { $0 + Double($1.latencySum.value(operation)) * $1.nanosecondsPerTick }
            text += "\(name)_sum{operation=\"\(label)\"} \(sum / 1e9)\n"
            text += "\(name)_count{operation=\"\(label)\"} \(count)\n"
        }
        return text
    }

    /// Advances the labelled counter `name` to `total`, creating it at first sight.
    private func advance(_ name: String, _ help: String, _ labels: [(String, String)], to total: UInt64) {
        advance(Self.counter(registry, name, help, labels: labels), to: total, key: Self.key(name, labels))
    }

    private func gaugeFor(_ name: String, _ help: String, _ labels: [(String, String)]) -> Gauge {
        registry.makeGauge(
            descriptor: MetricNameDescriptor(namespace: "switchyard", metricName: name, unitName: "", helpText: help),
            labels: labels)
    }

    private static func key(_ name: String, _ labels: [(String, String)]) -> String {
        ([name] + labels.map { "\($0.0)=\($0.1)" }).joined(separator: "|")
    }

    private func advance(_ counter: Counter, to total: some BinaryInteger, key: String? = nil) {
        let key = key ?? "\(ObjectIdentifier(counter))"
        let value = Int64(clamping: total)
        let delta = value - (last[key] ?? 0)
        if delta > 0 { counter.increment(by: delta) }
        last[key] = max(value, last[key] ?? 0)
    }
}
