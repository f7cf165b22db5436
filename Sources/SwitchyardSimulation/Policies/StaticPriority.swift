/// The rule most platforms start with: the configured order, always; the
/// first gateway that serves the payment's segment takes it.
struct StaticPriority: RoutingPolicy {
    /// Per segment: the first gateway of the order that serves it.
    private let first: [Int]

    init(_ scenario: Scenario) {
        first = scenario.segments.indices.map { s in
            scenario.staticOrder.first { scenario.gateways[$0].serves[s] } ?? 0
        }
    }

    func choose(_ payment: SimulatedPayment, at now: UInt64) -> (gateway: Int, token: UInt32) {
        (first[payment.segment], 0)
    }

    func learn(_ outcome: SimulatedOutcome, at now: UInt64) {}
}
