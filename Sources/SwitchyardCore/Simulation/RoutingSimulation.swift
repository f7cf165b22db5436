/// Replays payments against the real routing state and decision function in
/// simulated time: the statistical tests and the simulator benchmark run
/// the production code, not a model of it. Deterministic for a seed.
public struct RoutingSimulation {
    public private(set) var state: RoutingState
    private var snapshot: RoutingSnapshot
    private var decision = RouteDecision()
    private var random: SplitMix64
    private var world: SplitMix64
    public private(set) var now: UInt64 = 0
    private let interval: UInt64

    /// What happened to the payments of one ``run``.
    public struct Tally: Equatable, Sendable {
        public var payments = 0
        public var successes = 0
        /// First choices per gateway.
        public var chosen: [Int]
        /// Payments that found no gateway.
        public var refused = 0
    }

    public init(configuration: Configuration, seed: UInt64) {
        state = RoutingState(table: RoutingTable(configuration))
        snapshot = state.snapshot(at: 0)
        random = SplitMix64(seed: seed)
        world = SplitMix64(seed: seed ^ 0x5DEE_CE66_D1CE_4E5B)
        interval = UInt64(configuration.routing.snapshotIntervalMilliseconds) * 1_000_000
    }

    /// Routes `payments` payments of merchant 0 and method 0, `perSecond`
    /// apart, each sent to the first gateway of its decision, which succeeds
    /// with probability `successRate(gateway, now)`; a gateway failure is a
    /// gateway error. Outcomes are reported at once.
    public mutating func run(
        payments: Int, perSecond: Int, query: RouteQuery, successRate: (Int, UInt64) -> Double
    ) -> Tally {
        var tally = Tally(chosen: Array(repeating: 0, count: state.table.gatewayCount))
        let step = 1_000_000_000 / UInt64(perSecond)
        for _ in 0..<payments {
            now += step
            if now >= snapshot.builtAt + interval {
                state.advance(to: now, random: &random)
                snapshot = state.snapshot(at: now)
            }
            tally.payments += 1
            guard Router.decide(query, snapshot: snapshot, into: &decision, random: &random) == nil else {
                tally.refused += 1
                continue
            }
            if let probe = decision.probe {
                state.probeGranted(breaker: probe.breaker, generation: probe.generation, at: now, random: &random)
            }
            let gateway = decision.entries[0].gateway
            tally.chosen[gateway] += 1
            let success = Double.random(in: 0..<1, using: &world) < successRate(gateway, now)
            if success { tally.successes += 1 }
            let report = OutcomeReport(
                gateway: gateway, merchant: query.merchant, segment: query.segment,
                outcome: success ? .success : .gatewayError, latencyMilliseconds: 0,
                decisionVersion: snapshot.version)
            state.record(report, at: now, random: &random)
        }
        return tally
    }
}
