import SwitchyardCore
import Testing

/// The routing policy against simulated gateways, in simulated time, with
/// fixed seeds: the production state and decision code, replayed exactly.
@Suite struct RoutingSimulationTests {
    static func configuration(rates: [Double]) -> Configuration {
        var configuration = Configuration()
        configuration.gateways = rates.indices.map {
            GatewayConfiguration(id: "g\($0)", methods: ["card"], currencies: ["INR"])
        }
        configuration.merchants = [MerchantConfiguration(id: "m_1")]
        return configuration
    }

    static let query = RouteQuery(
        merchant: 0, method: 0, currency: 0, amount: 10_000, segment: Segment(method: 0), tried: 0)

    @Test(arguments: [1, 2, 3] as [UInt64])
    func stationaryGatewaysConvergeOnTheBest(seed: UInt64) {
        let rates = [0.94, 0.93, 0.70]
        var simulation = RoutingSimulation(configuration: Self.configuration(rates: rates), seed: seed)
        let warmup = simulation.run(payments: 5_000, perSecond: 100, query: Self.query) { gateway, _ in rates[gateway] }
        let rest = simulation.run(payments: 95_000, perSecond: 100, query: Self.query) { gateway, _ in rates[gateway] }
        let realised = Double(warmup.successes + rest.successes) / 100_000
        #expect(
            realised >= 0.94 - 0.010, "realised success rate \(realised) is within 1 pp of always choosing the best")
        let worstShare = Double(rest.chosen[2]) / Double(rest.payments)
        #expect(worstShare < 0.02, "the 0.70 gateway got \(worstShare * 100) % of traffic after the first 5000")
        #expect(warmup.refused + rest.refused == 0)
    }
}
