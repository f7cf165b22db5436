import SwitchyardCore
import Testing

@Suite struct GatewayConfigurationTests {
    func problems(_ yaml: String) -> [ConfigurationError.Problem] {
        configurationProblems(yaml, file: "gw.yaml")
    }

    @Test func readsGatewaysAndRouting() throws {
        let configuration = try Configuration.parse(
            yaml: """
                routing:
                  half_life_s: 120
                  prior_weight: 12.5
                  on_all_unhealthy: fail_closed
                  breaker:
                    consecutive_failure_threshold: 7
                    wait_duration_in_open_state_ms: 2500
                gateways:
                  - id: razorpay
                    methods: [card, upi]
                    currencies: [INR]
                    min_amount: 100
                    max_amount: 50000000
                    weight: 1.5
                    cost_bps: 180
                  - id: payu
                    enabled: false
                    methods: [netbanking]
                    currencies: [INR, USD]
                """, file: "gw.yaml")
        #expect(configuration.routing.halfLifeSeconds == 120)
        #expect(configuration.routing.priorWeight == 12.5)
        #expect(configuration.routing.onAllUnhealthy == .failClosed)
        #expect(configuration.routing.breaker.consecutiveFailureThreshold == 7)
        #expect(configuration.routing.breaker.waitDurationInOpenState == 2_500_000_000)
        #expect(configuration.gateways.map(\.id) == ["razorpay", "payu"])
        let razorpay = configuration.gateways[0]
        #expect(razorpay.methods == ["card", "upi"] && razorpay.weight == 1.5 && razorpay.costBasisPoints == 180)
        #expect(razorpay.minAmount == 100 && razorpay.maxAmount == 50_000_000)
        #expect(configuration.gateways[1].enabled == false && configuration.gateways[1].costBasisPoints == nil)
    }

    @Test func everyGatewayMistakeIsNamedWithItsPlace() {
        let found = problems(
            """
            gateways:
              - id: Razor Pay
                methods: []
                currencies: [inr]
              - id: payu
                methods: [card]
                currencies: [INR]
                weight: -1
                min_amount: 500
                max_amount: 100
              - id: payu
                methods: [card]
                currencies: [INR]
                colour: blue
            """)
        let described = found.map(\.description)
        #expect(described.contains { $0.hasPrefix("gw.yaml:2:9: gateways[0].id: 'Razor Pay' is not an identifier") })
        #expect(described.contains { $0.hasPrefix("gw.yaml:3:14: gateways[0].methods: list at least one") })
        #expect(
            described.contains {
                $0.hasPrefix("gw.yaml:4:18: gateways[0].currencies[0]: 'inr' is not an ISO 4217 code")
            })
        #expect(described.contains { $0.hasPrefix("gw.yaml:8:13: gateways[1].weight: -1 is out of range") })
        #expect(
            described.contains {
                $0.hasPrefix("gw.yaml:10:17: gateways[1].max_amount: must be at least min_amount (500)")
            })
        #expect(described.contains { $0.hasPrefix("gw.yaml:14:13: gateways[2].colour: unknown field") })
        #expect(
            described.contains {
                $0.hasPrefix("gw.yaml:11:9: gateways[2].id: duplicate gateway id 'payu' (first in gateways[1])")
            })
    }

    @Test func wrongShapesInTheGatewayList() {
        #expect(problems("gateways: razorpay\n").first?.message == "expected a list, got 'razorpay'")
        #expect(problems("gateways:\n  - razorpay\n").first?.field == "gateways[0]")
        #expect(
            problems("gateways:\n  - methods: [card]\n    currencies: [INR]\n").first?.message
                == "every gateway needs an id")
        #expect(
            problems("gateways:\n  - id: a\n    methods: card\n    currencies: [INR]\n").contains {
                $0.field == "gateways[0].methods"
            })
        #expect(
            problems("gateways:\n  - id: a\n    methods: [card]\n    currencies: [INR]\n    enabled: yes\n").first?
                .message
                == "expected true or false, got 'yes'")
    }

    @Test func breakerSettingsAreCheckedAgainstEachOther() {
        let found = problems(
            """
            routing:
              on_all_unhealthy: panic
              breaker:
                wait_duration_in_open_state_ms: 10000
                max_wait_duration_in_open_state_ms: 5000
                permitted_number_of_calls_in_half_open_state: 99
            """)
        #expect(
            found.map(\.field).sorted() == [
                "routing.breaker.max_wait_duration_in_open_state_ms",
                "routing.breaker.permitted_number_of_calls_in_half_open_state",
                "routing.on_all_unhealthy",
            ])
    }
}
