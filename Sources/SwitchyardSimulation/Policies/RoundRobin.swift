/// Each segment's gateways in turn, learning nothing.
struct RoundRobin: RoutingPolicy {
    private let eligible: Eligibility
    private var next: [Int]

    init(_ scenario: Scenario) {
        eligible = Eligibility(scenario)
        next = Array(repeating: 0, count: scenario.segments.count)
    }

    mutating func choose(_ payment: SimulatedPayment, at now: UInt64) -> (gateway: Int, token: UInt32) {
        let candidates = eligible.bySegment[payment.segment]
        defer { next[payment.segment] = (next[payment.segment] + 1) % candidates.count }
        return (candidates[next[payment.segment]], 0)
    }

    func learn(_ outcome: SimulatedOutcome, at now: UInt64) {}
}
