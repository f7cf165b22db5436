import Testing

@testable import SwitchyardCore

/// A merchant's own routing rules: tried before the global ones, checked like them.
@Suite struct MerchantRuleTests {
    @Test func aMerchantsOwnRulesComeBeforeTheGlobalOnes() throws {
        let configuration = try Configuration.parse(
            yaml: """
                gateways:
                  - {id: stripe, methods: [card], currencies: [INR, USD]}
                  - {id: razorpay, methods: [card, upi], currencies: [INR]}
                  - {id: payu, methods: [card, upi], currencies: [INR]}
                merchants:
                  - id: m_1
                    rules:
                      - {name: m1-upi, when: {method: {in: [upi]}}, then: {priority: [payu]}, mode: strict}
                  - {id: m_2}
                routing:
                  rules:
                    - {name: upi-razorpay, when: {method: {in: [upi]}}, then: {priority: [razorpay]}, mode: strict}
                """, file: "m.yaml")
        var world = RuleDecisionTests.World(configuration)
        #expect(world.decide(world.query(merchant: 0, method: "upi")).1.map(\.0) == ["payu"])
        #expect(world.decide(world.query(merchant: 1, method: "upi")).1.map(\.0) == ["razorpay"])
        // A merchant rule that does not match falls through to the global ones (none for cards).
        #expect(world.decide(world.query(merchant: 0, method: "card")).1.count == 3)
    }

    @Test func aBadMerchantRuleNamesTheMerchantsPlace() {
        #expect {
            _ = try Configuration.parse(
                yaml: """
                    gateways: [{id: stripe, methods: [card], currencies: [INR]}]
                    merchants:
                      - id: m_1
                        rules: [{name: r, then: {split: {stripe: 50}}, mode: strict}]
                    """, file: "m.yaml")
        } throws: {
            "\($0)".contains("m.yaml:4:") && "\($0)".contains("merchants[0].rules[0].then.split: the shares sum to 50")
        }
    }
}
