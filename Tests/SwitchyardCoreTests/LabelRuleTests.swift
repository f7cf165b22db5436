import Testing

@testable import SwitchyardCore

/// Rules on the labels a request carries: values the rules name, values
/// and keys they do not, and labels the request leaves out.
@Suite struct LabelRuleTests {
    typealias World = RuleDecisionTests.World

    static let rules = """
        - name: app-stripe
          when: {labels: {channel: {in: [app]}, region: {not_in: [eu]}}}
          then: {allow: [stripe]}
        - name: not-pos
          when: {method: {in: [card]}, labels: {channel: {not_in: [pos, app]}}}
          then: {allow: [payu]}
        """

    static func firstRule(_ world: World, _ labels: [String: String]) -> String? {
        world.table.rules.match(world.query(merchant: 1, labels: labels)).map(world.table.rules.name)
    }

    @Test(
        arguments: [
            (["channel": "app", "region": "in"], "app-stripe"),
            (["channel": "app"], nil),  // no region: its not_in does not hold; not-pos excludes app
            (["channel": "app", "region": "eu"], nil),
            (["channel": "web"], "not-pos"),
            (["channel": "kiosk"], "not-pos"),  // a value no rule names passes not_in
            (["channel": "pos"], nil),
            ([:], nil),  // a missing label: neither in nor not_in holds
            (["device": "ios", "channel": "web"], "not-pos"),  // a key no rule names is ignored
        ] as [([String: String], String?)])
    func labelsMatch(labels: [String: String], expected: String?) throws {
        let world = World(try RuleDecisionTests.configuration(rules: Self.rules))
        #expect(Self.firstRule(world, labels) == expected, "\(labels)")
    }

    @Test func aLabelledRuleDecidesAndExplainsItsFailedLabel() throws {
        var world = World(try RuleDecisionTests.configuration(rules: Self.rules))
        let (_, entries) = world.decide(world.query(merchant: 1, labels: ["channel": "app", "region": "in"]))
        #expect(entries.map(\.0) == ["stripe"])
        let query = world.query(merchant: 1, labels: ["channel": "pos"])
        #expect(world.table.rules.passedOver(query, matched: nil).map(\.reason) == ["labels", "labels"])
    }

    @Test func tooManyLabelKeysOrValuesAreAConfigurationError() {
        let keys = (0..<9).map { "k\($0): {in: [x]}" }.joined(separator: ", ")
        #expect {
            _ = try RuleDecisionTests.configuration(
                rules: "- {name: many, when: {labels: {\(keys)}}, then: {deny: []}}")
        } throws: { error in
            "\(error)".contains(
                "routing.rules: the rules name 9 label keys (k0, k1, k2, k3, k4, k5, k6, k7, k8); at most 8")
        }
        let values = (0..<65).map { "v\($0)" }.joined(separator: ", ")
        #expect {
            _ = try RuleDecisionTests.configuration(
                rules: "- {name: wide, when: {labels: {shop: {in: [\(values)]}}}, then: {deny: []}}")
        } throws: { error in
            "\(error)".contains("the rules name 65 values of label 'shop'; at most 64")
        }
    }
}
