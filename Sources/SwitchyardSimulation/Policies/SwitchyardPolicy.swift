import SwitchyardCore

/// Switchyard's own routing, exactly as the daemon runs it: the merger's
/// ``RoutingState`` takes outcomes and breaker moves and publishes a
/// ``RoutingSnapshot`` every `snapshot_interval_ms`; each payment is decided
/// by ``Router/decide(_:snapshot:into:random:)`` on the latest snapshot, and
/// a half-open probe it spends is granted as a loop would report it.
struct SwitchyardPolicy: RoutingPolicy {
    private var state: RoutingState
    private var snapshot: RoutingSnapshot
    private var decision = RouteDecision()
    private var random: SplitMix64
    private let interval: UInt64
    /// Per scenario segment: the query a payment of it makes (merchant set per payment).
    private var queries: [RouteQuery]
    private let latencies: [UInt32]
    private(set) var breakerOpenings: [BreakerOpening] = []
    private var paymentCount: UInt64 = 0

    init(_ scenario: Scenario, seed: UInt64) {
        let table = RoutingTable(scenario.configuration)
        state = RoutingState(table: table)
        snapshot = state.snapshot(at: 0)
        random = SplitMix64(seed: seed)
        latencies = scenario.gateways.map(\.latencyMilliseconds)
        interval = UInt64(scenario.routing.snapshotIntervalMilliseconds) * 1_000_000
        queries = scenario.segments.map { segment in
            let method = table.methods.index(of: segment.method) ?? 0
            let resolved = Array(segment.network.utf8).withUnsafeBytes {
                table.segment(method: method, network: $0, currency: 0, amount: 10_000)
            }
            var query = RouteQuery(
                merchant: 0, method: method, currency: 0, amount: 10_000, segment: resolved, tried: 0)
            if !segment.network.isEmpty {
                query.ruleNetwork = table.ruleNetworks.index(of: segment.network) ?? RuleTable.unnamed
            }
            return query
        }
    }

    mutating func choose(_ payment: SimulatedPayment, at now: UInt64) -> (gateway: Int, token: UInt32) {
        if now >= snapshot.builtAt &+ interval {
            state.advance(to: now, random: &random)
            noteOpenings(at: now)
            snapshot = state.snapshot(at: now)
        }
        var query = queries[payment.segment]
        query.merchant = payment.merchant
        // Each payment its own id, for rules that split volume.
        paymentCount += 1
        query.paymentHash = withUnsafeBytes(of: paymentCount) { RoutingRule.splitHash(paymentID: $0) }
        // Under `on_all_unhealthy: fail_closed` a decision may refuse the payment.
        guard Router.decide(query, snapshot: snapshot, into: &decision, random: &random) == nil else {
            return (RoutingPolicyRefusal.gateway, snapshot.version)
        }
        if let probe = decision.probe {
            state.probeGranted(breaker: probe.breaker, generation: probe.generation, at: now, random: &random)
            noteOpenings(at: now)
        }
        return (decision.entries[0].gateway, snapshot.version)
    }

    mutating func learn(_ outcome: SimulatedOutcome, at now: UInt64) {
        let report = OutcomeReport(
            gateway: outcome.gateway, merchant: outcome.payment.merchant,
            segment: queries[outcome.payment.segment].segment, outcome: outcome.success ? .success : .gatewayError,
            latencyMilliseconds: latencies[outcome.gateway], decisionVersion: outcome.token)
        state.record(report, at: now, random: &random)
        noteOpenings(at: now)
    }

    private mutating func noteOpenings(at now: UInt64) {
        for (slot, transition) in state.takeTransitions() where transition.from == .closed && transition.to == .open {
            let methods = state.table.methodCount
            breakerOpenings.append(
                BreakerOpening(
                    seconds: Double(now) / 1e9, gateway: slot / methods,
                    method: state.table.methods.names[slot % methods]))
        }
    }
}
