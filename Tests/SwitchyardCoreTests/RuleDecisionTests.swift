import Testing

@testable import SwitchyardCore

/// Routing rules applied in decisions: matching, the three combination
/// modes, splits, breakers over rules, and the cache giving the same answers.
@Suite struct RuleDecisionTests {
    /// Gateways 0 stripe, 1 razorpay, 2 payu, 3 ccavenue; methods card (0), upi (1), netbanking (2).
    static func configuration(rules: String) throws -> Configuration {
        try Configuration.parse(
            yaml: """
                gateways:
                  - {id: stripe, methods: [card], currencies: [INR, USD]}
                  - {id: razorpay, methods: [card, upi], currencies: [INR]}
                  - {id: payu, methods: [card, upi], currencies: [INR]}
                  - {id: ccavenue, methods: [netbanking], currencies: [INR]}
                merchants:
                  - {id: m_1, tier: gold}
                  - {id: m_2}
                routing:
                  breaker: {open_jitter_percent: 0}
                  rules:
                """ + "\n" + rules.split(separator: "\n").map { "    " + $0 }.joined(separator: "\n"),
            file: "rules.yaml")
    }

    struct World {
        var state: RoutingState
        var random = SplitMix64(seed: 7)
        var decision = RouteDecision()
        var now: UInt64 = 1

        init(_ configuration: Configuration) { state = RoutingState(table: RoutingTable(configuration)) }

        var table: RoutingTable { state.table }

        func query(
            merchant: Int = 0, method: String = "card", currency: String = "INR", amount: UInt64 = 10_000,
            network: String = "", attempt: Int = 1, payment: String = "pay_1", labels: [String: String] = [:]
        ) -> RouteQuery {
            let m = table.methods.index(of: method)!
            var query = RouteQuery(
                merchant: merchant, method: m, currency: table.currencies.index(of: currency), amount: amount,
                segment: Segment(method: UInt8(m)), tried: 0)
            query.attempt = attempt
            if !network.isEmpty { query.ruleNetwork = table.ruleNetworks.index(of: network) ?? RuleTable.unnamed }
            query.paymentHash = Array(payment.utf8).withUnsafeBytes { RoutingRule.splitHash(paymentID: $0) }
            for (key, value) in labels {
                Array(key.utf8).withUnsafeBytes { key in
                    Array(value.utf8).withUnsafeBytes {
                        table.rules.pack(label: key, value: $0, into: &query.ruleLabels)
                    }
                }
            }
            return query
        }

        mutating func record(_ gateway: Int, _ outcome: PaymentOutcome, times: Int = 1, method: UInt8 = 0) {
            for _ in 0..<times {
                state.record(
                    OutcomeReport(
                        gateway: gateway, merchant: 0, segment: Segment(method: method), outcome: outcome,
                        latencyMilliseconds: 0, decisionVersion: nil), at: now, random: &random)
            }
        }

        mutating func decide(_ query: RouteQuery) -> (RouteFailure?, [(String, RouteReason)]) {
            let snapshot = state.snapshot(at: now)
            let failure = Router.decide(query, snapshot: snapshot, into: &decision, random: &random)
            return (failure, decision.entries.map { (table.gateways[$0.gateway].id, $0.reason) })
        }
    }

    static let rules = """
        - name: amex-large
          when: {method: {in: [card]}, card_network: {in: [amex]}, amount: {min: 100000}}
          then: {priority: [stripe, razorpay]}
          mode: strict
        - name: upi-split
          when: {method: {in: [upi]}}
          then: {split: {razorpay: 70, payu: 30}}
          mode: split_then_score
        - name: retries
          when: {method: {in: [card]}, attempt: {min: 2}}
          then: {tiers: [[razorpay, payu], [stripe]]}
        - name: gold-no-payu
          when: {tier: {in: [gold]}, currency: {in: [INR]}, card_network: {not_in: [rupay]}}
          then: {deny: [payu]}
        - name: app-only
          when: {labels: {channel: {in: [app]}}}
          then: {allow: [stripe]}
        """

    @Test func strictPriorityIsTheRulesOrderAndOnlyItsGateways() throws {
        var world = World(try Self.configuration(rules: Self.rules))
        world.record(2, .success, times: 100)  // payu has the best evidence: scoring would put it first
        let (failure, entries) = world.decide(world.query(amount: 150_000, network: "amex"))
        #expect(failure == nil)
        #expect(entries.map(\.0) == ["stripe", "razorpay"])
        #expect(entries.map(\.1) == [.rule, .rule])
        // Below the amount, or another network: no such rule (the gold rule takes visa).
        let (_, small) = world.decide(world.query(merchant: 1, amount: 99_999, network: "amex"))
        #expect(small.first?.0 == "payu", "scored: \(small)")
    }

    /// `strict` with `allow`: the allowed gateways by score, the best always first.
    @Test func strictAllowRanksByScoreWithoutExploring() throws {
        var world = World(
            try Self.configuration(
                rules: "- {name: upi-two, when: {method: {in: [upi]}}, then: {allow: [razorpay, payu]}, mode: strict}"))
        world.record(1, .success, times: 30, method: 1)
        world.record(2, .success, times: 29, method: 1)
        world.record(2, .gatewayError, times: 1, method: 1)
        for i in 0..<500 {
            let (_, entries) = world.decide(world.query(method: "upi", payment: "p\(i)"))
            #expect(entries.map(\.0) == ["razorpay", "payu"])
            #expect(world.decision.firstProbability == 1)
        }
    }

    @Test func breakersOverruleARule() throws {
        var world = World(try Self.configuration(rules: Self.rules))
        world.record(0, .gatewayError, times: 10)  // stripe's card breaker opens
        #expect(world.state.breakers[world.table.breakerIndex(gateway: 0, method: 0)].state == .open)
        let (_, entries) = world.decide(world.query(amount: 150_000, network: "amex"))
        #expect(
            entries.map(\.0) == ["razorpay", "stripe"], "an open gateway is never first while a healthy one is eligible"
        )
        #expect(entries.map(\.1) == [.rule, .leastBad])
    }

    @Test func scoreWithinExploresOnlyTheFirstTier() throws {
        var world = World(try Self.configuration(rules: Self.rules))
        world.record(0, .success, times: 500)  // stripe scores best, but sits in the second tier
        var firsts: [String: Int] = [:]
        for i in 0..<2_000 {
            let (_, entries) = world.decide(world.query(merchant: 1, attempt: 2, payment: "p\(i)"))
            firsts[entries[0].0, default: 0] += 1
            #expect(entries.last?.0 == "stripe")
        }
        #expect(firsts["stripe"] == nil, "\(firsts)")
        #expect(firsts.count == 2, "razorpay and payu are both explored: \(firsts)")
    }

    @Test func splitsFollowTheirSharesPerPaymentAndYieldToBreakers() throws {
        var world = World(try Self.configuration(rules: Self.rules))
        var razorpay = 0
        for i in 0..<10_000 {
            let query = world.query(method: "upi", payment: "pay_\(i)")
            let (_, entries) = world.decide(query)
            let (_, again) = world.decide(query)
            #expect(entries[0].0 == again[0].0, "a retried payment keeps its arm")
            #expect(entries[0].1 == .split)
            if entries[0].0 == "razorpay" { razorpay += 1 }
        }
        #expect(abs(Double(razorpay) / 100 - 70) <= 1, "\(razorpay) of 10000")
        #expect(world.decision.firstProbability == 0.7 || world.decision.firstProbability == 0.3)

        world.record(1, .gatewayError, times: 10, method: 1)  // razorpay's upi breaker opens
        for i in 0..<200 {
            let (_, entries) = world.decide(world.query(method: "upi", payment: "pay_\(i)"))
            #expect(entries[0].0 == "payu", "the open arm's payments go to the healthy one")
        }
    }

    @Test func allowDenyTierAndMissingFields() throws {
        var world = World(try Self.configuration(rules: Self.rules))
        // Gold merchant, INR, no network given: not_in on a missing field does not match.
        let (_, plain) = world.decide(world.query())
        #expect(plain.map(\.0).contains("payu"))
        // With a visa card the gold rule denies payu.
        let (_, gold) = world.decide(world.query(network: "visa"))
        #expect(!gold.map(\.0).contains("payu") && gold.count == 2, "\(gold)")
        // The other merchant is not gold.
        let (_, standard) = world.decide(world.query(merchant: 1, network: "visa"))
        #expect(standard.map(\.0).contains("payu"))
        // A rupay card is excluded from the gold rule; a network no rule names is not.
        let (_, rupay) = world.decide(world.query(network: "rupay"))
        #expect(rupay.map(\.0).contains("payu"))
        let (_, diners) = world.decide(world.query(network: "diners"))
        #expect(!diners.map(\.0).contains("payu"))
    }

    @Test func aRuleThatExcludesEveryEligibleGatewayIsAnError() throws {
        var world = World(
            try Self.configuration(
                rules: "- {name: only-ccavenue, when: {currency: {in: [USD]}}, then: {allow: [razorpay]}}"))
        let (failure, _) = world.decide(world.query(currency: "USD"))
        #expect(failure == .excludedByRules, "razorpay takes no USD: the rule leaves nothing")
    }

    @Test func theCacheGivesWhatAFreshDecisionGives() throws {
        var world = World(try Self.configuration(rules: Self.rules))
        world.record(2, .success, times: 50)
        let snapshot = world.state.snapshot(at: world.now)
        var cache = DecisionCache(size: 64)
        var cached = RouteDecision()
        var fresh = RouteDecision()
        var cachedRandom = SplitMix64(seed: 3)
        var freshRandom = SplitMix64(seed: 3)
        for i in 0..<400 {
            var query = world.query(
                method: i % 3 == 0 ? "upi" : "card", amount: i % 2 == 0 ? 150_000 : 5_000,
                network: i % 5 == 0 ? "amex" : "visa", attempt: 1 + i % 2, payment: "p\(i)")
            query.probes = false
            let a = cache.decide(query, snapshot: snapshot, into: &cached, random: &cachedRandom)
            let b = Router.decide(query, snapshot: snapshot, into: &fresh, random: &freshRandom)
            #expect(a == b)
            #expect(cached.entries == fresh.entries, "query \(i)")
        }
        #expect(cache.hits > 300)
    }

    /// Currency conditions index the currencies rules name, not the table's:
    /// a gateway taking 100 currencies does not blind rules to the last ones.
    @Test func aRuleSeesEveryCurrency() throws {
        let letters = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
        let currencies = (0..<100).map { "X\(letters[$0 / 26])\(letters[$0 % 26])" }
        let (last, seventieth) = (currencies[99], currencies[70])
        let configuration = try Configuration.parse(
            yaml: """
                gateways:
                  - {id: stripe, methods: [card], currencies: [\(currencies.joined(separator: ", "))]}
                  - {id: payu, methods: [card], currencies: [\(last)]}
                merchants: [{id: m_1}]
                routing:
                  rules:
                    - {name: last, when: {currency: {in: [\(last)]}}, then: {allow: [payu]}}
                    - {name: not-last, when: {currency: {not_in: [\(last)]}}, then: {allow: [stripe]}}
                """, file: "currencies.yaml")
        var world = World(configuration)
        let (_, lastOnes) = world.decide(world.query(currency: last))
        #expect(lastOnes.map(\.0) == ["payu"])
        let (_, other) = world.decide(world.query(currency: seventieth))
        #expect(other.map(\.0) == ["stripe"])
    }

    @Test func aBadRuleIsAConfigurationErrorWithItsPlace() {
        #expect {
            _ = try Self.configuration(rules: "- {name: x, then: {priority: [adyen]}, mode: strict}")
        } throws: { error in
            "\(error)".contains("rules.yaml:12:23:")
                && "\(error)".contains("routing.rules[0].then: rule 'x': no gateway 'adyen'")
        }
    }
}
