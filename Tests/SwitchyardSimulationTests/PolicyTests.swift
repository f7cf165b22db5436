import SwitchyardCore
import Testing

@testable import SwitchyardSimulation

/// The baselines do what their published descriptions say.
@Suite struct PolicyTests {
    static let scenario = try! Scenario.parse(
        yaml: "gateways: [{id: a, success: 0.9}, {id: b, success: 0.95}, {id: c, success: 0.5}]", file: "p.yaml")
    static let payment = SimulatedPayment(segment: 0, merchant: 0)

    static func outcome(_ gateway: Int, _ success: Bool) -> SimulatedOutcome {
        SimulatedOutcome(payment: payment, gateway: gateway, success: success, token: 0)
    }

    @Test func staticPriorityTakesTheBestAtTheStartAlways() {
        let policy = StaticPriority(Self.scenario)
        #expect(Self.scenario.staticOrder == [1, 0, 2])
        #expect(policy.choose(Self.payment, at: 0).gateway == 1)
    }

    @Test func roundRobinTakesEachInTurn() {
        var policy = RoundRobin(Self.scenario)
        #expect((0..<6).map { _ in policy.choose(Self.payment, at: 0).gateway } == [0, 1, 2, 0, 1, 2])
    }

    @Test func theSlidingWindowForgetsAfter125OutcomesAndExploresAFewPercent() {
        var policy = SlidingWindowExploration(Self.scenario, seed: 1)
        // Every window starts full of successes; b's failures push it down.
        for _ in 0..<10 { policy.learn(Self.outcome(1, false), at: 0) }
        for _ in 0..<10 { policy.learn(Self.outcome(2, false), at: 0) }
        var chosen = [0, 0, 0]
        for _ in 0..<10_000 { chosen[policy.choose(Self.payment, at: 0).gateway] += 1 }
        #expect(chosen[0] > 9_500, "a keeps its full window: \(chosen)")
        #expect((100...250).contains(chosen[1]), "b only by exploration (5 % / 3): \(chosen)")
        // 125 successes later, b's failures have left its window: it ties with a.
        for _ in 0..<125 { policy.learn(Self.outcome(1, true), at: 0) }
        chosen = [0, 0, 0]
        for _ in 0..<10_000 { chosen[policy.choose(Self.payment, at: 0).gateway] += 1 }
        #expect(chosen[1] > 4_000, "\(chosen)")
    }

    @Test func slidingWindowUCBPlaysAGatewayThatLeftItsWindow() {
        var policy = SlidingWindowUCB(Self.scenario, seed: 1)
        #expect(Set((0..<3).map { _ in policy.choose(Self.payment, at: 0).gateway }).count >= 1)
        for gateway in 0..<3 { policy.learn(Self.outcome(gateway, true), at: 0) }
        // 200 outcomes of a push b and c out of the window: they go next.
        for _ in 0..<200 { policy.learn(Self.outcome(0, true), at: 0) }
        #expect(policy.choose(Self.payment, at: 0).gateway != 0)
    }

    @Test func discountedUCBForgetsAtItsDiscount() {
        var policy = DiscountedUCB(Self.scenario, seed: 1)
        for gateway in 0..<3 { policy.learn(Self.outcome(gateway, gateway != 2), at: 0) }
        // γ = 0.6: c's failure weighs 0.6² after two more outcomes; with so
        // little memory every gateway keeps being tried.
        var chosen = Set<Int>()
        for _ in 0..<30 {
            let gateway = policy.choose(Self.payment, at: 0).gateway
            chosen.insert(gateway)
            policy.learn(Self.outcome(gateway, gateway != 2), at: 0)
        }
        #expect(chosen == [0, 1, 2])
    }

    @Test func theOracleTakesTheTrueBestAtEveryMoment() throws {
        var policy = Oracle(try Scenarios.load("s1-outage"), seed: 1)
        #expect(policy.choose(Self.payment, at: 0).gateway == 0)
        #expect(policy.choose(Self.payment, at: 1_300_000_000_000).gateway == 1)
    }
}
