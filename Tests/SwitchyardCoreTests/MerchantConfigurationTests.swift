import SwitchyardCore
import Testing

@Suite struct MerchantConfigurationTests {
    static let gateways = """
        gateways:
          - {id: razorpay, methods: [card, upi], currencies: [INR]}
          - {id: payu, methods: [card], currencies: [INR]}

        """

    @Test func readsMerchantRulesAndSegments() throws {
        let configuration = try Configuration.parse(
            yaml: Self.gateways + """
                routing:
                  exploration_floor_percent: 1
                  exploration_ceiling_percent: 5
                  latency_target_ms: 1500
                  segments:
                    card_network: true
                    currency: true
                    amount_bands: [10_000, 1000000]
                merchants:
                  - id: m_1
                    allowed_methods: [card]
                    gateways:
                      deny: [payu]
                      priority: [razorpay]
                      weights: {razorpay: 1.5}
                  - id: m_2
                """, file: "m.yaml")
        #expect(configuration.routing.explorationFloorPercent == 1)
        #expect(configuration.routing.latencyTargetMilliseconds == 1_500)
        #expect(configuration.routing.segments.amountBands == [10_000, 1_000_000])
        #expect(configuration.routing.segments.cardNetwork && configuration.routing.segments.currency)
        let merchant = configuration.merchants[0]
        #expect(merchant.allowedMethods == ["card"] && merchant.deniedGateways == ["payu"])
        #expect(merchant.priority == ["razorpay"] && merchant.weights == ["razorpay": 1.5])
        #expect(configuration.merchants[1].allowedGateways == nil && configuration.merchants[1].allowedMethods == nil)
    }

    @Test func everyMerchantMistakeIsNamedWithItsPlace() {
        let found = configurationProblems(
            Self.gateways + """
                routing:
                  exploration_floor_percent: 20
                  exploration_ceiling_percent: 10
                  segments:
                    amount_bands: [500, 100]
                merchants:
                  - id: m_1
                    allowed_methods: [crypto]
                    gateways:
                      allow: [stripe]
                      weights: {payu: -2, ccavenue: 1}
                  - id: m_1
                  - id: "has space"
                """, file: "m.yaml")
        let described = found.map(\.description)
        #expect(
            described.contains { $0.hasPrefix("m.yaml:6:32: routing.exploration_ceiling_percent: must be at least") })
        #expect(
            described.contains { $0.hasPrefix("m.yaml:8:19: routing.segments.amount_bands: bounds must be strictly") })
        #expect(
            described.contains {
                $0.hasPrefix("m.yaml:11:23: merchants[0].allowed_methods[0]: 'crypto' is not a method")
            })
        #expect(
            described.contains {
                $0.hasPrefix("m.yaml:13:15: merchants[0].gateways.allow[0]: unknown gateway 'stripe'")
            })
        #expect(
            described.contains { $0.hasPrefix("m.yaml:14:23: merchants[0].gateways.weights.payu: -2 is out of range") })
        #expect(
            described.contains { $0.hasPrefix("m.yaml:14:37: merchants[0].gateways.weights.ccavenue: unknown gateway") }
        )
        #expect(described.contains { $0.hasPrefix("m.yaml:15:9: merchants[1].id: duplicate merchant id 'm_1'") })
        #expect(described.contains { $0.hasPrefix("m.yaml:16:9: merchants[2].id: 'has space' is not a merchant id") })
    }
}
