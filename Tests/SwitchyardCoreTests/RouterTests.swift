import Foundation
import Testing

@testable import SwitchyardCore

/// The decision function and the state it reads, on a manual clock.
@Suite struct RouterTests {
    static let second: UInt64 = 1_000_000_000

    static func configuration(_ change: (inout Configuration) -> Void = { _ in }) -> Configuration {
        var configuration = Configuration()
        configuration.gateways = ["g0", "g1", "g2", "g3"].map {
            GatewayConfiguration(id: $0, methods: ["card"], currencies: ["INR"])
        }
        configuration.gateways[3].maxAmount = 1_000
        configuration.merchants = [MerchantConfiguration(id: "m")]
        configuration.routing.breaker.openJitterPercent = 0
        // Three probes keep the sequences short.
        configuration.routing.breaker.permittedNumberOfCallsInHalfOpenState = 3
        change(&configuration)
        return configuration
    }

    static func query(amount: UInt64 = 500, tried: UInt64 = 0) -> RouteQuery {
        RouteQuery(merchant: 0, method: 0, currency: 0, amount: amount, segment: Segment(method: 0), tried: tried)
    }

    static func report(_ gateway: Int, _ outcome: PaymentOutcome, version: UInt32? = nil) -> OutcomeReport {
        OutcomeReport(
            gateway: gateway, merchant: 0, segment: Segment(method: 0), outcome: outcome, latencyMilliseconds: 100,
            decisionVersion: version)
    }

    struct World {
        var state: RoutingState
        var random = SplitMix64(seed: 42)
        var decision = RouteDecision()
        var now: UInt64 = 1

        init(_ configuration: Configuration) { state = RoutingState(table: RoutingTable(configuration)) }

        mutating func record(_ gateway: Int, _ outcome: PaymentOutcome, times: Int = 1, version: UInt32? = nil) {
            for _ in 0..<times { state.record(report(gateway, outcome, version: version), at: now, random: &random) }
        }

        mutating func decide(_ query: RouteQuery = RouterTests.query()) -> (RouteFailure?, [(Int, RouteReason)]) {
            state.advance(to: now, random: &random)
            let snapshot = state.snapshot(at: now)
            let failure = Router.decide(query, snapshot: snapshot, into: &decision, random: &random)
            if let probe = decision.probe {
                state.probeGranted(breaker: probe.breaker, generation: probe.generation, at: now, random: &random)
            }
            return (failure, decision.entries.map { ($0.gateway, $0.reason) })
        }

        func breaker(_ gateway: Int) -> CircuitBreaker.State { state.breakers[gateway].state }
    }

    @Test func tiersAreHealthyThenHalfOpenThenOpenLast() {
        var world = World(
            Self.configuration {
                $0.routing.explorationCeilingPercent = 0; $0.routing.explorationFloorPercent = 0
            })
        world.record(2, .success, times: 50)
        world.record(0, .gatewayError, times: 10)  // consecutive failures: open
        world.record(1, .timeout, times: 10)
        #expect(world.breaker(0) == .open && world.breaker(1) == .open)
        world.now += 6 * Self.second  // past g1's and g0's open period: both half-open
        var (failure, entries) = world.decide()
        #expect(failure == nil)
        #expect(entries.first?.1 == .probe)
        // Three probes per half-open breaker (the budget), one per decision, then no more.
        var probes = 1
        for _ in 0..<8 {
            (_, entries) = world.decide()
            if entries.first?.1 == .probe { probes += 1 }
        }
        #expect(probes == 6)
        #expect(entries.map(\.1) == [.bestScore, .failover, .halfOpen, .halfOpen])
        #expect(entries.first?.0 == 2, "g2 has the best evidence")

        // An open gateway is listed last under least_bad.
        world.record(2, .gatewayError, times: 10)
        world.record(3, .gatewayError, times: 10)
        (failure, entries) = world.decide()
        #expect(entries.map(\.1) == [.halfOpen, .halfOpen, .leastBad, .leastBad])
    }

    @Test func allUnhealthyPolicies() {
        for policy in RoutingConfiguration.AllUnhealthyPolicy.allCases {
            var world = World(Self.configuration { $0.routing.onAllUnhealthy = policy })
            for gateway in 0..<4 { world.record(gateway, .gatewayError, times: 10) }
            let (failure, entries) = world.decide()
            if policy == .leastBad {
                #expect(failure == nil && entries.count == 4 && entries.allSatisfy { $0.1 == .leastBad })
            } else {
                #expect(failure == .allUnhealthy && entries.isEmpty)
            }
        }
    }

    @Test func forcedOpenIsNeverListedAndForcedClosedAlwaysIs() {
        var world = World(Self.configuration())
        world.state.force(.forcedOpen, breaker: 0, at: world.now)
        world.record(1, .gatewayError, times: 10)
        world.state.force(.forcedClosed, breaker: 1, at: world.now)
        world.record(1, .gatewayError, times: 50)
        let (_, entries) = world.decide()
        #expect(!entries.map(\.0).contains(0))
        #expect(entries.contains { $0.0 == 1 && $0.1 != .leastBad }, "forced closed counts as healthy")
        for gateway in 1..<4 { world.state.force(.forcedOpen, breaker: gateway, at: world.now) }
        #expect(world.decide().0 == .allUnhealthy)
    }

    @Test func eligibilityFailuresNameTheirReason() {
        var world = World(
            Self.configuration {
                var narrow = MerchantConfiguration(id: "narrow")
                narrow.allowedGateways = ["g3"]
                narrow.allowedMethods = ["card"]
                $0.merchants.append(narrow)
                $0.gateways.append(GatewayConfiguration(id: "u", methods: ["upi"], currencies: ["INR"]))
            })
        #expect(world.decide(Self.query(amount: 2_000_000_000_000)).0 == .noGatewayForPayment)
        #expect(world.decide(Self.query(tried: 0b1111)).0 == .allTried)
        var narrow = Self.query(amount: 5_000)
        narrow.merchant = 1
        #expect(world.decide(narrow).0 == .excludedByRules, "g3 takes at most 1000")
        narrow.method = 1
        #expect(world.decide(narrow).0 == .methodNotAllowed)
        let (failure, entries) = world.decide(Self.query(amount: 5_000, tried: 0b0001))
        #expect(failure == nil && Set(entries.map(\.0)) == [1, 2], "g0 tried, g3 too small")
    }

    @Test func pinnedGatewaysLeadWithCertainty() {
        var world = World(
            Self.configuration {
                $0.merchants[0].priority = ["g2", "g1"]
                $0.merchants[0].weights = ["g0": 0]
            })
        world.record(3, .success, times: 100)
        let (_, entries) = world.decide()
        #expect(entries.map(\.0) == [2, 1, 3], "pinned first, then by score; weight 0 drops g0")
        #expect(entries.prefix(2).allSatisfy { $0.1 == .pinned })
        #expect(world.decision.firstProbability == 1)
    }

    @Test func explorationStaysWithinItsBoundsAndReportsItsProbability() {
        var world = World(
            Self.configuration {
                $0.routing.explorationFloorPercent = 2
                $0.routing.explorationCeilingPercent = 6
            })
        for gateway in 0..<3 {
            for i in 0..<400 { world.record(gateway, i % 100 < [95, 94, 60][gateway] ? .success : .gatewayError) }
        }
        var firsts = [0, 0, 0, 0]
        var probabilities: [Int: Double] = [:]
        let decisions = 20_000
        let snapshot = world.state.snapshot(at: world.now)
        for _ in 0..<decisions {
            _ = Router.decide(Self.query(), snapshot: snapshot, into: &world.decision, random: &world.random)
            firsts[world.decision.entries[0].gateway] += 1
            probabilities[world.decision.entries[0].gateway] = world.decision.firstProbability
        }
        let best = probabilities[0] ?? 0
        #expect(best >= 0.94 - 1e-9 && best <= 0.98 + 1e-9, "explores between 2 % and 6 %: best chosen with \(best)")
        for (gateway, probability) in probabilities {
            let observed = Double(firsts[gateway]) / Double(decisions)
            #expect(abs(observed - probability) < 0.01, "g\(gateway): said \(probability), happened \(observed)")
        }
        #expect(probabilities.values.reduce(0, +) <= 1 + 1e-9)
    }

    @Test func aThinSegmentStartsAtItsParentNotAtAnExtreme() {
        var world = World(Self.configuration { $0.routing.segments.cardNetwork = true })
        for i in 0..<200 { world.record(0, i % 10 == 0 ? .gatewayError : .success) }  // 90 % at method level
        let snapshot = world.state.snapshot(at: world.now)
        let visa = Segment(method: 0, network: 1)
        #expect(abs(snapshot.estimate(merchant: 0, segment: visa, gateway: 0) - 0.9) < 0.02, "visa borrows from card")
        // A gateway with no evidence starts at its peers' smoothed average, not at 100 % or 0 %.
        let newcomer = snapshot.estimate(merchant: 0, segment: Segment(method: 0), gateway: 1)
        #expect(newcomer > 0.85 && newcomer < 0.92)
    }

    @Test func aLateReportCannotMoveANewerBreakerState() {
        var world = World(Self.configuration())
        let old = world.state.snapshot(at: world.now).version
        world.record(0, .gatewayError, times: 10)
        #expect(world.breaker(0) == .open)
        world.now += 6 * Self.second
        _ = world.decide()  // half-open now, a probe is out
        #expect(world.breaker(0) == .halfOpen)
        world.record(0, .gatewayError, version: old)
        #expect(world.breaker(0) == .halfOpen, "a failure decided before the trip does not fail the probe")
        #expect(world.state.counters.staleForBreaker == 1)
        world.record(0, .success, version: world.state.version)
        #expect(world.state.breakers[0].state == .halfOpen, "one of three probes")
    }

    @Test func anUnreportedProbeFailsAfterItsTimeout() {
        // One probe: its timeout alone reaches the failure threshold.
        var world = World(Self.configuration { $0.routing.breaker.permittedNumberOfCallsInHalfOpenState = 1 })
        world.record(0, .gatewayError, times: 10)
        world.now += 6 * Self.second
        #expect(world.decide().1.first?.1 == .probe)
        world.now += 16 * Self.second
        world.state.advance(to: world.now, random: &world.random)
        #expect(world.breaker(0) == .open)
        #expect(world.state.tickets.remaining(0, generation: world.state.breakers[0].generation) == 0)
    }

    @Test func theNormalTailMatchesErfc() {
        for step in -80...120 {
            let z = Double(step) / 10
            #expect(abs(Router.normalTail(z) - 0.5 * erfc(z / 2.0.squareRoot())) < 1e-7, "z = \(z)")
        }
    }

    @Test func aCachedRankingGivesExactlyTheDecisionAFreshOneWould() {
        var world = World(
            Self.configuration {
                $0.routing.explorationFloorPercent = 5
                $0.routing.explorationCeilingPercent = 20
            })
        world.record(0, .success, times: 30)
        world.record(1, .gatewayError, times: 10)  // open
        world.now += 6 * Self.second  // half-open: probes to spend
        world.state.advance(to: world.now, random: &world.random)
        let snapshot = world.state.snapshot(at: world.now)
        var cache = DecisionCache()
        var cachedRandom = SplitMix64(seed: 9)
        var freshRandom = SplitMix64(seed: 9)
        var cached = RouteDecision()
        var fresh = RouteDecision()
        // Two snapshots' worth: tickets are shared, so alternate who spends them.
        for i in 0..<200 {
            let query = Self.query(amount: i % 2 == 0 ? 500 : 5_000, tried: i % 3 == 0 ? 0b0100 : 0)
            var withoutProbes = query
            withoutProbes.probes = false
            let a = cache.decide(withoutProbes, snapshot: snapshot, into: &cached, random: &cachedRandom)
            let b = Router.decide(withoutProbes, snapshot: snapshot, into: &fresh, random: &freshRandom)
            #expect(a == b)
            #expect(cached.entries == fresh.entries)
            #expect(cached.firstProbability == fresh.firstProbability)
        }
        #expect(cache.misses == 4, "two amounts (g3 takes only the small one) times two tried sets")
        #expect(cache.hits == 196)
        // Probes still come from the shared budget, decision by decision.
        var probes = 0
        for _ in 0..<10
        where cache.decide(Self.query(), snapshot: snapshot, into: &cached, random: &cachedRandom) == nil {
            if cached.probe != nil { probes += 1 }
        }
        #expect(probes == 3)
        // A new snapshot is a new ranking.
        let next = world.state.snapshot(at: world.now)
        _ = cache.decide(Self.query(), snapshot: next, into: &cached, random: &cachedRandom)
        #expect(cache.misses == 5)
    }
}

/// What explains a decision's left-out gateways: each gets the first rule
/// the router applies to it, and a gateway every rule lets through but the
/// decision did not list was left out for its breaker.
@Suite struct RouteExclusionTests {
    @Test func eachGatewayGetsTheFirstRuleThatExcludedIt() {
        var configuration = Configuration()
        configuration.gateways = [
            GatewayConfiguration(id: "listed", methods: ["card"], currencies: ["INR"]),
            GatewayConfiguration(id: "off", methods: ["card"], currencies: ["INR"]),
            GatewayConfiguration(id: "upi_only", methods: ["upi"], currencies: ["INR"]),
            GatewayConfiguration(id: "usd_only", methods: ["card"], currencies: ["USD"]),
            GatewayConfiguration(id: "big_only", methods: ["card"], currencies: ["INR"]),
            GatewayConfiguration(id: "denied", methods: ["card"], currencies: ["INR"]),
            GatewayConfiguration(id: "zero", methods: ["card"], currencies: ["INR"]),
            GatewayConfiguration(id: "tried", methods: ["card"], currencies: ["INR"]),
            GatewayConfiguration(id: "forced_open", methods: ["card"], currencies: ["INR"]),
        ]
        configuration.gateways[1].enabled = false
        configuration.gateways[4].minAmount = 1_000_000
        var merchant = MerchantConfiguration(id: "m")
        merchant.deniedGateways = ["denied"]
        merchant.weights = ["zero": 0]
        configuration.merchants = [merchant]
        let table = RoutingTable(configuration)
        let excluded = table.exclusions(
            merchant: 0, method: table.methods.index(of: "card")!, currency: table.currencies.index(of: "INR"),
            amount: 49_900, tried: 1 << 7, listed: 1 << 0)
        #expect(excluded.map { table.gateways[$0.gateway].id } == configuration.gateways.dropFirst().map(\.id))
        #expect(
            excluded.map(\.reason) == [
                .disabled, .method, .currency, .amount, .merchantRules, .zeroWeight, .tried, .breaker,
            ])
    }
}
