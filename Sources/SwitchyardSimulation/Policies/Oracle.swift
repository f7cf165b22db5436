import SwitchyardCore

/// Knows every gateway's true success rate at every moment and takes the
/// best: the bound regret is measured against.
struct Oracle: RoutingPolicy {
    private let scenario: Scenario
    private let eligible: Eligibility
    private var random: SplitMix64

    init(_ scenario: Scenario, seed: UInt64) {
        self.scenario = scenario
        eligible = Eligibility(scenario)
        random = SplitMix64(seed: seed)
    }

    mutating func choose(_ payment: SimulatedPayment, at now: UInt64) -> (gateway: Int, token: UInt32) {
        let seconds = Double(now) / 1e9
        let scenario = self.scenario
        let gateway = argmax(eligible.bySegment[payment.segment], random: &random) {
            scenario.successRate(gateway: $0, segment: payment.segment, at: seconds)
        }
        return (gateway, 0)
    }

    func learn(_ outcome: SimulatedOutcome, at now: UInt64) {}
}
