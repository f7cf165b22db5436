import Foundation
import SwitchyardCore
import Testing

@testable import SwitchyardSimulation

/// The committed scenario files, where the tests find them.
enum Scenarios {
    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("perf/scenarios").path

    static func load(_ name: String) throws -> Scenario { try Scenario.load(path: "\(directory)/\(name).yaml") }
}

@Suite struct ScenarioTests {
    @Test func everyCommittedScenarioLoads() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Scenarios.directory).filter {
            $0.hasSuffix(".yaml")
        }
        #expect(files.count >= 7)
        for file in files { _ = try Scenario.load(path: "\(Scenarios.directory)/\(file)") }
    }

    @Test func trueRatesFollowOutagesChangesAndDrift() throws {
        let outage = try Scenarios.load("s1-outage")
        #expect(outage.successRate(gateway: 0, segment: 0, at: 1_199.9) == 0.94)
        #expect(outage.successRate(gateway: 0, segment: 0, at: 1_200) == 0.10)
        #expect(outage.successRate(gateway: 0, segment: 0, at: 1_800) == 0.94)
        #expect(outage.successRate(gateway: 1, segment: 0, at: 1_500) == 0.93)
        #expect(outage.staticOrder == [0, 1, 2])

        let degradation = try Scenarios.load("s2-degradation")
        #expect(degradation.successRate(gateway: 0, segment: 0, at: 1_199) == 0.94)
        #expect(degradation.successRate(gateway: 0, segment: 0, at: 3_000) == 0.75)

        let drift = try Scenarios.load("s3-drift")
        #expect(abs(drift.successRate(gateway: 0, segment: 0, at: 2_700) - 0.95) < 1e-9, "a quarter period: the peak")
        #expect(abs(drift.successRate(gateway: 1, segment: 0, at: 0) - 0.95) < 1e-9, "90 degrees ahead")

        let segments = try Scenarios.load("s4-segments")
        #expect(segments.segments.map(\.name) == ["visa", "mastercard", "upi"])
        #expect(segments.successRate(gateway: 2, segment: 2, at: 0) == 0.95)
        #expect(segments.routing.segments.cardNetwork)
        #expect(abs(segments.segments.map(\.share).reduce(0, +) - 1) < 1e-12)
    }

    @Test(arguments: [
        ("duration_s: -1\ngateways: [{id: a}, {id: b}]", "4.yaml:1:13: duration_s: -1 is out of range"),
        ("gateways: [{id: a}]", "gateways: expected 2 to 64 gateways, got 1"),
        ("gateways: [{id: a, sucess: 0.9}, {id: b}]", "gateways[0].sucess: unknown field"),
        ("gateways: [{id: a, success: 1.5}, {id: b}]", "gateways[0].success: 1.5 is out of range"),
        ("gateways: [{id: a}, {id: a}]", "gateways: gateway ids must be unique"),
        ("gateways: [{id: a}, {id: b}]\noutage: {gateway: c}", "outage.gateway: no gateway c in this scenario"),
        (
            "gateways: [{id: a}, {id: b}]\noutage: {gateway: a, from_s: 10, to_s: 5}",
            "outage.to_s: must be after from_s"
        ),
        ("gateways: [{id: a}, {id: b}]\nstatic_order: [z]", "static_order: no gateway z in this scenario"),
        (
            "gateways: [{id: a, changes: [{at_s: 10, success: 0.5}, {at_s: 5, success: 0.6}]}, {id: b}]",
            "gateways[0].changes: changes must be in time order"
        ),
        (
            "segments: [{name: upi, method: upi}]\ngateways: [{id: a, segments: [card]}, {id: b, segments: [card]}]",
            "no gateway serves upi"
        ),
        (
            "gateways: [{id: a}, {id: b}]\nfeedback: {median_delay_s: 5, p99_delay_s: 1}",
            "feedback.p99_delay_s: must be at least median_delay_s"
        ),
        ("gateways: [{id: a}, {id: b}]\nrouting: {half_life_s: 0}", "routing.half_life_s: 0 is out of range"),
        ("gateways: [{id: a}, {id: b}]\nrate: fast", "rate: expected a number"),
    ])
    func badScenariosAreRefusedWithTheirPlace(yaml: String, expected: String) {
        do {
            _ = try Scenario.parse(yaml: yaml, file: "4.yaml")
            Issue.record("accepted: \(yaml)")
        } catch {
            #expect("\(error)".contains(expected), "\(error)")
            #expect("\(error)".hasPrefix("4.yaml"), "\(error)")
        }
    }

    @Test func aMissingFileIsAnError() {
        #expect(throws: ConfigurationError.self) { try Scenario.load(path: "/nonexistent/s9.yaml") }
    }
}

@Suite struct ScenarioRuleTests {
    @Test func aScenariosRoutingRulesApplyToSwitchyard() throws {
        let scenario = try Scenario.parse(
            yaml: """
                duration_s: 60
                gateways: [{id: alpha, success: 0.95}, {id: beta, success: 0.90}]
                routing:
                  rules:
                    - {name: split, then: {split: {alpha: 20, beta: 80}}, mode: split_then_score}
                """, file: "r.yaml")
        #expect(scenario.routing.rules.map(\.name) == ["split"])
        let simulator = Simulator(scenario: scenario, seed: 2)
        let result = simulator.run(.switchyard)
        let betaShare = Double(result.chosen[1]) / Double(result.payments)
        #expect(abs(betaShare - 0.8) < 0.03, "the split decides, not the scores: \(betaShare)")
    }

    @Test func aBadRuleInAScenarioIsReportedWithItsPlace() {
        #expect {
            _ = try Scenario.parse(
                yaml: """
                    gateways: [{id: alpha}, {id: beta}]
                    routing:
                      rules: [{name: x, then: {priority: [gamma]}}]
                    """, file: "r.yaml")
        } throws: { "\($0)".contains("r.yaml:3:") && "\($0)".contains("no gateway 'gamma'") }
    }
}
