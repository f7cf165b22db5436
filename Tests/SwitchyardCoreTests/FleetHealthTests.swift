import SwitchyardCore
import Testing

@Suite struct FleetHealthTests {
    typealias Counts = FleetHealth.Counts

    @Test func othersOutcomesAreAppliedOnceAndOwnNever() {
        var health = FleetHealth(maxPendingCounters: 10)
        health.record("razorpay|card|-|-|0", success: true)
        health.record("razorpay|card|-|-|0", success: false)
        let flush = health.takePending()
        #expect(flush == ["razorpay|card|-|-|0": Counts(successes: 1, failures: 1)])
        #expect(health.pending.isEmpty)
        health.flushed(flush, into: 7)

        // Redis has this instance's 1 + 1 and another instance's 4 + 2.
        let totals = ["razorpay|card|-|-|0": Counts(successes: 5, failures: 3)]
        #expect(health.absorb(bucket: 7, totals: totals) == ["razorpay|card|-|-|0": Counts(successes: 4, failures: 2)])
        #expect(health.absorb(bucket: 7, totals: totals).isEmpty, "read again: nothing new")
        let grown = ["razorpay|card|-|-|0": Counts(successes: 6, failures: 3)]
        #expect(health.absorb(bucket: 7, totals: grown) == ["razorpay|card|-|-|0": Counts(successes: 1)])
    }

    @Test func aBucketRedisLostAppliesNothingAndForgottenBucketsStartOver() {
        var health = FleetHealth(maxPendingCounters: 10)
        health.flushed(["payu|card|-|-|0": Counts(successes: 3)], into: 1)
        #expect(health.absorb(bucket: 1, totals: ["payu|card|-|-|0": Counts(successes: 5)]).count == 1)
        // Restarted empty: totals below what is known.
        #expect(health.absorb(bucket: 1, totals: ["payu|card|-|-|0": Counts(successes: 1)]).isEmpty)
        health.forget(before: 2)
        #expect(health.absorb(bucket: 1, totals: ["payu|card|-|-|0": Counts(successes: 1)]).count == 1)
    }

    @Test func whatRedisLostOfOwnCountsIsWhatItNoLongerRecords() {
        var health = FleetHealth(maxPendingCounters: 10)
        health.flushed(
            ["a|card|-|-|0": Counts(successes: 5, failures: 2), "b|card|-|-|0": Counts(successes: 1)], into: 3)
        #expect(health.missing(bucket: 3, recorded: [:]).count == 2, "restarted empty: everything")
        #expect(
            health.missing(bucket: 3, recorded: ["a|card|-|-|0": Counts(successes: 5, failures: 1)])
                == ["a|card|-|-|0": Counts(failures: 1), "b|card|-|-|0": Counts(successes: 1)])
        #expect(
            health.missing(
                bucket: 3,
                recorded: ["a|card|-|-|0": Counts(successes: 5, failures: 2), "b|card|-|-|0": Counts(successes: 1)]
            ).isEmpty, "kept by persistence: nothing")
        #expect(health.missing(bucket: 4, recorded: [:]).isEmpty)
    }

    @Test func outcomesBeyondTheBoundAreDroppedAndCounted() {
        var health = FleetHealth(maxPendingCounters: 2)
        health.record("a|card|-|-|0", success: true)
        health.record("b|card|-|-|0", success: true)
        health.record("c|card|-|-|0", success: true)
        health.record("a|card|-|-|0", success: false)
        #expect(health.pending.count == 2)
        #expect(health.dropped == 1)
        #expect(health.pending["a|card|-|-|0"] == Counts(successes: 1, failures: 1))
    }

    @Test func counterNamesSurviveAnotherOrderOfGatewaysAndRefuseWhatIsUnknown() {
        var configuration = Configuration()
        configuration.routing.segments.cardNetwork = true
        configuration.routing.segments.cardNetworks = ["visa", "mastercard"]
        configuration.routing.segments.currency = true
        configuration.gateways = [
            GatewayConfiguration(id: "razorpay", methods: ["card", "upi"], currencies: ["INR"]),
            GatewayConfiguration(id: "payu", methods: ["card"], currencies: ["INR", "USD"]),
        ]
        let table = RoutingTable(configuration)
        configuration.gateways.reverse()
        let reordered = RoutingTable(configuration)

        let segment = Segment(method: 0, network: 2, currency: 2, band: 1)
        let name = FleetCounter.name(gateway: 1, segment: segment, in: table)
        #expect(name == "payu|card|mastercard|USD|1")
        let parsed = FleetCounter.parse(name, in: reordered)
        #expect(parsed?.gateway == 0)
        #expect(parsed.map { FleetCounter.name(gateway: $0.gateway, segment: $0.segment, in: reordered) } == name)
        #expect(FleetCounter.name(gateway: 0, segment: Segment(method: 1), in: table) == "razorpay|upi|-|-|0")
        for unknown in ["stripe|card|-|-|0", "payu|wallet|-|-|0", "payu|card|-|-", "payu|card|amex|-|0", "garbage"] {
            #expect(FleetCounter.parse(unknown, in: table) == nil, "\(unknown)")
        }
    }

    @Test func theRedisSectionIsReadAndCheckedWithoutItNothingChanges() throws {
        #expect(!Configuration().redis.isEnabled)
        let configuration = try Configuration.parse(
            yaml: """
                redis:
                  address: 127.0.0.1:6380
                  sync_interval_ms: 150
                  timeout_ms: 40
                  fleet: payments-eu
                  bucket_seconds: 5
                  window_seconds: 60
                """, file: "fleet.yaml")
        #expect(configuration.redis.isEnabled)
        #expect(configuration.redis.address == "127.0.0.1:6380")
        #expect(configuration.redis.syncIntervalMilliseconds == 150 && configuration.redis.timeoutMilliseconds == 40)
        #expect(configuration.redis.fleet == "payments-eu")
        #expect(configuration.redis.bucketSeconds == 5 && configuration.redis.windowSeconds == 60)

        let problems = configurationProblems(
            """
            redis:
              address: redis.internal:6379
              sync_interval_ms: 5
              fleet: "{bad}"
              bucket_seconds: 30
              window_seconds: 10
              password: x
            """, file: "fleet.yaml")
        let fields = problems.map(\.field)
        for field in [
            "redis.address", "redis.sync_interval_ms", "redis.fleet", "redis.window_seconds", "redis.password",
        ] {
            #expect(fields.contains(field), "\(field) in \(problems)")
        }
        #expect(problems.allSatisfy { $0.file == "fleet.yaml" && $0.line > 0 })
    }

    @Test func overridesAreReadAppliedOnTopOfTheFileAndBadFieldsNamed() {
        let (overrides, problems) = FleetOverrides.parse([
            ("weight:razorpay", "0.5"), ("gateway:payu", "disabled"), ("breaker:cashfree", "forced_open"),
            ("breaker:razorpay:upi", "forced_closed"), ("merchant:m_1", "suspended"),
            ("weight:payu", "-1"), ("gateway:x", "off"), ("breaker:payu", "open"), ("merchant:m_2", "gone"),
            ("colour:payu", "red"), ("weight", "1"),
        ])
        #expect(overrides.weights == ["razorpay": 0.5])
        #expect(overrides.enabled == ["payu": false])
        #expect(overrides.breakers == ["cashfree": .forcedOpen, "razorpay:upi": .forcedClosed])
        #expect(overrides.merchantStatus == ["m_1": .suspended])
        #expect(problems.count == 6, "\(problems)")
        #expect(problems.contains { $0.hasPrefix("weight:payu: '-1'") })

        var configuration = Configuration()
        configuration.gateways = ["razorpay", "payu", "cashfree"].map {
            GatewayConfiguration(id: $0, methods: ["card"], currencies: ["INR"])
        }
        configuration.merchants = [MerchantConfiguration(id: "m_1"), MerchantConfiguration(id: "m_3")]
        let applied = overrides.applied(to: configuration)
        #expect(applied.gateways.map(\.weight) == [0.5, 1, 1])
        #expect(applied.gateways.map(\.enabled) == [true, false, true])
        #expect(applied.merchants.map(\.status) == [.suspended, .active])

        var later = overrides
        later.breakers = ["cashfree": .forcedClosed]
        let changes = later.breakerChanges(since: overrides)
        #expect(changes.count == 2)
        #expect(changes.contains { $0.gateway == "razorpay" && $0.method == "upi" && $0.state == .closed })
        #expect(changes.contains { $0.gateway == "cashfree" && $0.method == nil && $0.state == .forcedClosed })
        #expect(later.breakerChanges(since: later).isEmpty)
    }

    @Test func breakerProposalsFollowTheLatestGenerationAndNewerRecordsAreAdoptedOnce() {
        var breakers = FleetBreakers()
        breakers.propose("razorpay|card", .open, openUntilMilliseconds: 5_000)
        breakers.propose("razorpay|card", .open, openUntilMilliseconds: 6_000)
        #expect(breakers.proposals.count == 1, "only the latest per breaker")
        #expect(breakers.takeProposals().first?.after == 0)
        breakers.accepted("razorpay|card", generation: 1)

        let records = [
            "razorpay|card": FleetBreakers.Record(generation: 1, state: .open, openUntilMilliseconds: 6_000),
            "payu|card": FleetBreakers.Record(generation: 3, state: .closed, openUntilMilliseconds: 0),
        ]
        let adopt = breakers.newer(records)
        #expect(adopt.map(\.breaker) == ["payu|card"], "its own record is not adopted again")
        #expect(breakers.newer(records).isEmpty)
        breakers.propose("payu|card", .open, openUntilMilliseconds: 9_000)
        #expect(breakers.takeProposals().first?.after == 3)

        #expect(FleetBreakers.Record(text: "4|open|1795000000000")?.generation == 4)
        for garbage in ["", "x|open|1", "0|open|1", "2|half_open|1", "2|open", "2|closed|soon"] {
            #expect(FleetBreakers.Record(text: garbage) == nil, "\(garbage)")
        }
    }

    @Test func aBreakerAdoptsTheFleetsTripAndRecoveryButNotOverAnOrder() {
        var breaker = CircuitBreaker()
        let trip = breaker.adopt(.open, openUntil: 2_000, at: 1_000)
        #expect(trip?.to == .open && trip?.reason == .fleet)
        #expect(breaker.openUntil == 2_000)
        #expect(breaker.adopt(.open, openUntil: 2_000, at: 1_100) == nil, "already there")
        #expect(breaker.adopt(.closed, openUntil: 0, at: 1_200)?.to == .closed)
        breaker.force(.forcedOpen, at: 1_300)
        #expect(breaker.adopt(.closed, openUntil: 0, at: 1_400) == nil, "an SRE order stands")
    }
}
