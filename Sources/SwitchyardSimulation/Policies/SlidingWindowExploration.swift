import SwitchyardCore

/// The approach of the open-source juspay decision-engine (docs: success
/// rate based routing): per segment and gateway, the success rate over its
/// last 125 outcomes (the window starts full of successes); with
/// probability 5 % a uniformly random gateway, else the best rate.
struct SlidingWindowExploration: RoutingPolicy {
    static let window = 125
    static let explorationProbability = 0.05

    private let eligible: Eligibility
    private let gateways: Int
    /// Per (segment, gateway): the last `window` outcomes as a ring, and its successes.
    private var rings: [[Bool]]
    private var positions: [Int]
    private var successes: [Int]
    private var random: SplitMix64

    init(_ scenario: Scenario, seed: UInt64) {
        eligible = Eligibility(scenario)
        gateways = scenario.gateways.count
        let slots = scenario.segments.count * gateways
        rings = Array(repeating: Array(repeating: true, count: Self.window), count: slots)
        positions = Array(repeating: 0, count: slots)
        successes = Array(repeating: Self.window, count: slots)
        random = SplitMix64(seed: seed)
    }

    mutating func choose(_ payment: SimulatedPayment, at now: UInt64) -> (gateway: Int, token: UInt32) {
        let candidates = eligible.bySegment[payment.segment]
        if random.nextUnit() < Self.explorationProbability {
            return (candidates[random.below(candidates.count)], 0)
        }
        let base = payment.segment * gateways
        let successes = self.successes
        return (argmax(candidates, random: &random) { Double(successes[base + $0]) }, 0)
    }

    mutating func learn(_ outcome: SimulatedOutcome, at now: UInt64) {
        let slot = outcome.payment.segment * gateways + outcome.gateway
        let position = positions[slot]
        if rings[slot][position] { successes[slot] -= 1 }
        rings[slot][position] = outcome.success
        if outcome.success { successes[slot] += 1 }
        positions[slot] = (position + 1) % Self.window
    }
}
