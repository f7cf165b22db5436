import Testing

@testable import SwitchyardCore

/// Routing rules as configured (issue 10): reading, validation, matching
/// semantics and splits. Applying them in decisions is the next step.
@Suite struct RoutingRuleTests {
    static let gateways: [GatewayConfiguration] = [
        GatewayConfiguration(id: "stripe", methods: ["card"], currencies: ["INR", "USD"]),
        GatewayConfiguration(id: "razorpay", methods: ["card", "upi"], currencies: ["INR"]),
        GatewayConfiguration(id: "payu", methods: ["card", "upi"], currencies: ["INR"]),
        GatewayConfiguration(id: "ccavenue", methods: ["netbanking"], currencies: ["INR"]),
    ]

    static func read(_ yaml: String) throws -> ([RoutingRule], [ConfigurationError.Problem]) {
        let reader = try Configuration.reader(yaml: yaml, file: "rules.yaml")
        let rules = RoutingRuleReader.read(reader, key: "rules", gateways: gateways)
        return (rules, reader.collected)
    }

    @Test func aFullRuleListReads() throws {
        let (rules, problems) = try Self.read(
            """
            rules:
              - name: amex-large
                when:
                  method: {in: [card]}
                  card_network: {in: [amex]}
                  amount: {min: 100000}
                then: {priority: [stripe, razorpay]}
                mode: strict
              - name: upi-split
                when: {method: {in: [upi]}, labels: {channel: {not_in: [pos]}}}
                then: {split: {razorpay: 70, payu: 30}}
                mode: split_then_score
                shadow: true
              - name: netbanking-only-ccavenue
                when: {method: {in: [netbanking]}, tier: {in: [gold]}, attempt: {max: 2}}
                then: {allow: [ccavenue]}
              - name: cards
                when: {method: {in: [card]}}
                then: {tiers: [[stripe, razorpay], [payu]]}
            """)
        #expect(problems.isEmpty, "\(problems)")
        #expect(rules.map(\.name) == ["amex-large", "upi-split", "netbanking-only-ccavenue", "cards"])
        #expect(rules[0].mode == .strict && rules[0].output == .priority([["stripe"], ["razorpay"]]))
        #expect(rules[0].conditions.amount == 100_000...RoutingRuleReader.maxAmount)
        #expect(rules[0].line == 2)
        #expect(rules[1].shadow && rules[1].mode == .splitThenScore)
        #expect(
            rules[1].output == .split([.init(gateway: "razorpay", percent: 70), .init(gateway: "payu", percent: 30)]))
        #expect(rules[1].conditions.labels["channel"] == .noneOf(["pos"]))
        #expect(rules[2].mode == .scoreWithin && rules[2].conditions.attempt == 1...2)
        #expect(rules[3].output == .priority([["stripe", "razorpay"], ["payu"]]))
    }

    @Test(arguments: [
        ("- {name: a, then: {priority: [adyen]}}", "rules[0].then: rule 'a': no gateway 'adyen' is configured"),
        (
            "- {name: a, when: {method: {in: [upi]}}, then: {priority: [stripe]}}",
            "rule 'a': gateway 'stripe' takes none of upi"
        ),
        ("- {name: a, then: {split: {stripe: 60, payu: 30}}, mode: strict}", "the shares sum to 90, not 100"),
        ("- {name: a, then: {split: {stripe: 50, payu: 50}}}", "a split goes with strict or split_then_score"),
        ("- {name: a, then: {priority: [payu]}, mode: split_then_score}", "split_then_score needs a split"),
        ("- {name: a, when: {amount: {min: 500, max: 100}}, then: {priority: [payu]}}", "amount.max: below min"),
        ("- {name: a, when: {attempt: {min: 3, max: 2}}, then: {priority: [payu]}}", "attempt.max: below min"),
        (
            "- {name: a, when: {method: {in: [card], not_in: [upi]}}, then: {priority: [payu]}}",
            "give in or not_in, not both"
        ),
        ("- {name: a, when: {currency: {in: []}}, then: {priority: [payu]}}", "an empty list never matches"),
        ("- {name: a, when: {country: {in: [IN]}}, then: {priority: [payu]}}", "when.country: unknown field"),
        ("- {name: a, then: {priority: [payu], allow: [payu]}}", "expected exactly one of"),
        ("- {name: a, then: {}}", "expected exactly one of"),
        (
            "- {name: a, then: {priority: [payu]}}\n- {name: a, when: {method: {in: [upi]}}, then: {priority: [payu]}}",
            "a second rule named 'a'"
        ),
        (
            "- {name: a, when: {method: {in: [card, upi]}}, then: {priority: [payu]}}\n"
                + "- {name: b, when: {method: {in: [upi]}, amount: {min: 10}}, then: {priority: [payu]}}",
            "rules[1].when: rule 'b' never applies: every payment it matches is taken first by rule 'a' (line 2)"
        ),
        ("- {name: a, when: {method: {in: [wallet]}}, then: {priority: [payu]}}", "no gateway takes method wallet"),
        ("- {name: a, when: {currency: {in: [EUR]}}, then: {priority: [payu]}}", "no gateway takes currency EUR"),
        ("- {then: {priority: [payu]}}", "every rule needs a name"),
    ])
    func badRulesAreReportedWithTheirPlace(rules yaml: String, expected: String) throws {
        let (_, problems) = try Self.read(
            "rules:\n" + yaml.split(separator: "\n").map { "  " + $0 }.joined(separator: "\n"))
        let text = problems.map(\.description).joined(separator: "\n")
        #expect(text.contains(expected), "\(text)")
        #expect(problems.allSatisfy { $0.line > 0 }, "\(text)")
    }

    @Test func aShadowRuleNeitherShadowsNorIsShadowed() throws {
        let (_, problems) = try Self.read(
            """
            rules:
              - {name: trial, when: {method: {in: [card]}}, then: {priority: [payu]}, shadow: true}
              - {name: cards, when: {method: {in: [card]}}, then: {priority: [stripe]}}
            """)
        #expect(problems.isEmpty, "\(problems)")
    }

    @Test func conditionsOnAMissingFieldDoNotMatch() {
        #expect(RoutingRule.ValueSet.any.admits(nil))
        #expect(!RoutingRule.ValueSet.oneOf(["amex"]).admits(nil))
        #expect(!RoutingRule.ValueSet.noneOf(["amex"]).admits(nil), "a condition on a missing field does not match")
        #expect(RoutingRule.ValueSet.noneOf(["amex"]).admits("visa"))
        #expect(!RoutingRule.ValueSet.oneOf(["amex"]).admits("visa"))
    }

    @Test func coverageFollowsSetsRangesAndLabels() {
        var broad = RoutingRule.Conditions()
        broad.method = .oneOf(["card", "upi"])
        var narrow = broad
        narrow.method = .oneOf(["card"])
        narrow.amount = 100...200
        #expect(narrow.isCovered(by: broad))
        #expect(!broad.isCovered(by: narrow))
        var labelled = broad
        labelled.labels["channel"] = .oneOf(["app"])
        #expect(!broad.isCovered(by: labelled), "the label narrows it")
        #expect(labelled.isCovered(by: broad))
        var excluding = broad
        excluding.method = .noneOf(["netbanking"])
        #expect(narrow.isCovered(by: excluding))
        #expect(!excluding.isCovered(by: narrow))
    }

    @Test func splitsAreStickyPerPaymentAndWithinAPointOverTenThousand() {
        let percents = [70, 20, 10]
        var counts = [0, 0, 0]
        for i in 0..<10_000 {
            let id = Array("pay_\(i)".utf8)
            let arm = id.withUnsafeBytes { RoutingRule.splitArm(paymentID: $0, percents: percents) }
            let again = id.withUnsafeBytes { RoutingRule.splitArm(paymentID: $0, percents: percents) }
            #expect(arm == again)
            counts[arm] += 1
        }
        for (count, percent) in zip(counts, percents) {
            #expect(abs(Double(count) / 100 - Double(percent)) <= 1, "\(counts)")
        }
        #expect(Array("x".utf8).withUnsafeBytes { RoutingRule.splitArm(paymentID: $0, percents: [0, 100]) } == 1)
    }
}
