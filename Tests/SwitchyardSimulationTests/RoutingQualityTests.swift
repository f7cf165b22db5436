import Foundation
import SwitchyardCore
import Testing

@testable import SwitchyardSimulation

/// Short versions of S0 and S1 with the targets as assertions
/// (docs/simulator.md; the full table is perf/ROUTING.md): Switchyard's
/// routing, run by the simulator exactly as the daemon runs it.
@Suite struct RoutingQualityTests {
    static let seeds: [UInt64] = [1, 2, 3]

    /// Mean success rate per policy over the seeds.
    static func successRates(_ scenario: Scenario, duration: Double) -> [PolicyKind: Double] {
        var rates: [PolicyKind: Double] = [:]
        for seed in seeds {
            let simulator = Simulator(scenario: scenario, seed: seed, durationSeconds: duration)
            for kind in PolicyKind.allCases {
                rates[kind, default: 0] += simulator.run(kind).successRate / Double(seeds.count)
            }
        }
        return rates
    }

    @Test func stationaryWorldSwitchyardIsWithinHalfAPointOfTheOracleAndBeatsEveryLearner() throws {
        let rates = Self.successRates(try Scenarios.load("s0-stationary"), duration: 1_200)
        let switchyard = rates[.switchyard]!
        #expect(rates[.oracle]! - switchyard < 0.005, "\(rates)")
        // Static priority is given the true ranking here, so in S0 it is the oracle.
        for kind in [PolicyKind.roundRobin, .slidingWindow, .slidingWindowUCB, .discountedUCB] {
            #expect(switchyard >= rates[kind]!, "\(kind): \(rates)")
        }
    }

    /// S1 in 20 minutes: the outage from 6:40 to 11:40.
    static func shortOutage() throws -> Scenario {
        var scenario = try Scenarios.load("s1-outage")
        scenario.outage?.fromSeconds = 400
        scenario.outage?.toSeconds = 700
        return scenario
    }

    @Test func outageSwitchyardBeatsEveryBaselineDetectsWithinThirtyFailuresAndRecoversWithinTwoMinutes() throws {
        let scenario = try Self.shortOutage()
        let rates = Self.successRates(scenario, duration: 1_200)
        for kind in PolicyKind.allCases where kind != .switchyard && kind != .oracle {
            #expect(rates[.switchyard]! >= rates[kind]!, "\(kind): \(rates)")
        }
        for seed in Self.seeds {
            let simulator = Simulator(scenario: scenario, seed: seed, durationSeconds: 1_200)
            let outage = try #require(RunSummary(simulator.run(.switchyard), simulator: simulator).outage)
            let detection = try #require(outage.detectionSeconds, "seed \(seed): never detected")
            #expect(outage.failedBeforeDetection < 30 || detection < 5, "seed \(seed): \(outage)")
            let recovery = try #require(outage.recoverySeconds, "seed \(seed): never recovered")
            #expect(recovery <= 120, "seed \(seed): \(outage)")
        }
    }

    @Test func healthyGatewaysWithBackgroundFailuresNeverTripABreaker() throws {
        let scenario = try Scenarios.load("f0-background-failures")
        for seed in Self.seeds.prefix(1) {
            let simulator = Simulator(scenario: scenario, seed: seed, durationSeconds: 3_600)
            let summary = RunSummary(simulator.run(.switchyard), simulator: simulator)
            #expect(summary.breakerOpenings.isEmpty, "\(summary.breakerOpenings)")
        }
    }

    @Test func theSameScenarioAndSeedGiveTheSameNumbersByteForByte() throws {
        var scenario = try Scenarios.load("s5-delayed-feedback")
        scenario.outage?.fromSeconds = 300
        scenario.outage?.toSeconds = 500
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        func encoded(seed: UInt64) throws -> Data {
            let simulator = Simulator(scenario: scenario, seed: seed, durationSeconds: 700)
            var data = Data()
            for kind in PolicyKind.allCases {
                data += try encoder.encode(RunSummary(simulator.run(kind), simulator: simulator))
            }
            return data
        }
        let first = try encoded(seed: 7)
        #expect(try encoded(seed: 7) == first)
        #expect(try encoded(seed: 8) != first)
    }

    @Test func everyPolicyMeetsTheSamePayments() throws {
        let simulator = Simulator(scenario: try Scenarios.load("s4-segments"), seed: 3, durationSeconds: 300)
        let payments = PolicyKind.allCases.map { simulator.run($0).payments }
        #expect(Set(payments).count == 1, "\(payments)")
    }
}

/// The outage measures on hand-made traffic.
@Suite struct OutageMeasureTests {
    static let scenario = try! Scenario.parse(
        yaml: """
            duration_s: 1000
            gateways: [{id: a, success: 0.9}, {id: b, success: 0.9}]
            outage: {gateway: a, from_s: 400, to_s: 700}
            """, file: "m.yaml")

    /// 100 payments a second: to `a` while `toA(second)` says so, else to `b`;
    /// a's payments fail during the outage.
    static func measure(_ toA: (Double) -> Bool) -> RunSummary.OutageMeasures? {
        var result = RunResult(policy: .switchyard, gateways: 2, durationSeconds: 1_000, outage: scenario.outage)
        for i in 0..<100_000 {
            let seconds = Double(i) / 100
            let gateway = toA(seconds) ? 0 : 1
            result.count(
                gateway: gateway, success: gateway == 1 || seconds < 400 || seconds >= 700, regret: 0, at: seconds)
        }
        return RunSummary.measure(scenario.outage!, in: result, rate: 100)
    }

    @Test func detectionIsTheLastPaymentBeforeTheTrafficLeftAndCountsItsFailures() throws {
        // a takes everything until 402.5 s, then nothing until 760 s, then everything.
        let outage = try #require(Self.measure { $0 < 402.5 || $0 >= 760 })
        #expect(outage.shareBefore == 1)
        #expect(abs(try #require(outage.detectionSeconds) - 2.49) < 1e-9)
        #expect(outage.failedBeforeDetection == 250)
        #expect(outage.recoverySeconds == 59, "the first 10 s with 90 % of its share: from 759 s")
    }

    @Test func aTrickleOfExplorationStillCountsAsTrafficGone() throws {
        // After 401 s, a takes one payment in twenty (5 %, under a tenth).
        let outage = try #require(Self.measure { $0 < 401 || Int($0 * 100) % 20 == 0 })
        #expect(abs(try #require(outage.detectionSeconds) - 1) < 1e-9, "its last busy payment: 401.00 s")
        #expect(outage.failedBeforeDetection == 101)
        #expect(outage.recoverySeconds == nil, "a never gets its share back")
    }

    @Test func aGatewayThatKeepsItsTrafficIsNeverDetected() throws {
        let outage = try #require(Self.measure { _ in true })
        #expect(outage.detectionSeconds == nil)
        #expect(outage.failedBeforeDetection == 30_000)
        #expect(outage.recoverySeconds == nil)
    }
}

@Suite struct RefusalTests {
    @Test func aPaymentSwitchyardRefusesCountsAsFailedAndTheRunGoesOn() throws {
        let scenario = try Scenario.parse(
            yaml: """
                duration_s: 120
                gateways: [{id: a, success: 0.0}, {id: b, success: 0.0}]
                routing: {on_all_unhealthy: fail_closed}
                """, file: "r.yaml")
        let simulator = Simulator(scenario: scenario, seed: 1)
        let result = simulator.run(.switchyard)
        #expect(result.refused > 1_000, "both breakers open: fail_closed refuses")
        #expect(result.successes == 0)
        #expect(RunSummary(result, simulator: simulator).refused == result.refused)
    }
}
