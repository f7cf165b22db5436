import Testing

@testable import SwitchyardCore

/// Rules in shadow: which ones a payment reaches, and their verdicts next
/// to the decision it got.
@Suite struct ShadowRuleTests {
    typealias World = RuleDecisionTests.World

    static let rules = """
        - name: everything
          when: {method: {in: [card]}}
          then: {allow: [stripe, razorpay, payu]}
          shadow: true
        - name: stripe-first
          when: {method: {in: [card]}}
          then: {priority: [stripe, razorpay]}
          mode: strict
          shadow: true
        - name: amex-large
          when: {card_network: {in: [amex]}, amount: {min: 100000}}
          then: {priority: [razorpay]}
          mode: strict
        - name: amex-watch
          when: {card_network: {in: [amex]}}
          then: {allow: [payu]}
          shadow: true
        """

    /// Decides `query` as the daemon does, then collects each shadow verdict.
    static func verdicts(_ world: inout World, _ query: RouteQuery) -> (first: String?, [String: ShadowVerdict]) {
        let snapshot = world.state.snapshot(at: world.now)
        let luck = world.random
        let failure = Router.decide(query, snapshot: snapshot, into: &world.decision, random: &world.random)
        var scratch = RouteDecision()
        var verdicts: [String: ShadowVerdict] = [:]
        let first = failure == nil ? world.decision.entries[0].gateway : nil
        Router.shadow(
            query, followed: world.decision.rule >= 0 ? world.decision.rule : nil, first: first, snapshot: snapshot,
            luck: luck, scratch: &scratch
        ) { rule, verdict in verdicts[world.table.rules.name(of: rule)] = verdict }
        return (first.map { world.table.gateways[$0].id }, verdicts)
    }

    @Test func aShadowRuleThatChangesNothingAgreesExplorationAndAll() throws {
        var world = World(try RuleDecisionTests.configuration(rules: Self.rules))
        // Close scores: exploration puts another gateway first now and then.
        world.record(1, .success, times: 30)
        world.record(2, .success, times: 28)
        world.record(2, .gatewayError, times: 2)
        var firsts = Set<String>()
        for i in 0..<2_000 {
            let (first, verdicts) = Self.verdicts(&world, world.query(merchant: 1, payment: "p\(i)"))
            firsts.insert(first ?? "-")
            #expect(verdicts["everything"] == .agrees, "same gateways, same luck: \(first ?? "-")")
        }
        #expect(firsts.count >= 2, "the decisions explored: \(firsts)")
    }

    @Test func verdictsDifferRefuseAndStopAtTheRuleFollowed() throws {
        var world = World(try RuleDecisionTests.configuration(rules: Self.rules))
        world.record(2, .success, times: 200)  // payu leads by score

        let (first, verdicts) = Self.verdicts(&world, world.query(merchant: 1, network: "visa"))
        #expect(first == "payu")
        #expect(verdicts == ["everything": .agrees, "stripe-first": .differs])

        // Stripe and razorpay tried: stripe-first has nothing left.
        var query = world.query(merchant: 1, network: "visa")
        query.tried = 0b11
        let (_, refused) = Self.verdicts(&world, query)
        #expect(refused["stripe-first"] == .refuses)

        // A large amex payment follows amex-large: amex-watch comes after it and is not reached.
        let (_, large) = Self.verdicts(&world, world.query(merchant: 1, amount: 150_000, network: "amex"))
        #expect(Set(large.keys) == ["everything", "stripe-first"])
        // A small one reaches it: it agrees unless the decision explored.
        let (smallFirst, small) = Self.verdicts(&world, world.query(merchant: 1, amount: 5_000, network: "amex"))
        #expect(small["amex-watch"] == (smallFirst == "payu" ? .agrees : .differs))
    }

    @Test func explainNamesAMatchedShadowRuleAsShadow() throws {
        let world = World(try RuleDecisionTests.configuration(rules: Self.rules))
        let query = world.query(merchant: 1, amount: 150_000, network: "amex")
        let matched = world.table.rules.match(query)
        #expect(matched.map(world.table.rules.name) == "amex-large")
        let passed = world.table.rules.passedOver(query, matched: matched)
        #expect(passed.map(\.name) == ["everything", "stripe-first"])
        #expect(passed.map(\.reason) == ["shadow", "shadow"])
        let upi = world.query(merchant: 1, method: "upi")
        #expect(
            world.table.rules.passedOver(upi, matched: nil).map(\.reason) == [
                "method", "method", "card_network", "card_network",
            ])
    }
}
