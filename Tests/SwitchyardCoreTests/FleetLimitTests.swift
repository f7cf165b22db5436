import SwitchyardCore
import Testing

/// Fleet-scoped limits: the lease arithmetic, the pools the loops spend
/// from, and what AUTHORIZE answers in each state of Redis (on a manual
/// clock, with the sync thread's part played by hand).
@Suite struct FleetLimitTests {
    static let second: UInt64 = 1_000_000_000
    static let millisecond: UInt64 = 1_000_000
    /// 1,000 per second (T = 1 ms), burst 199: τ = 200 ms.
    static let limit = RateLimit(rate: 1_000, periodNanoseconds: second, burst: 199)

    @Test func leaseArithmeticKeepsRoomForEveryInstance() throws {
        let fleet = try #require(FleetLimit(Self.limit, sharing: LimitSharing(), fleetSize: 3))
        #expect(fleet.leaseNanoseconds == 50 * Self.millisecond, "a quarter of τ")
        #expect(fleet.credit == 8, "(burst + 1) / (8 · fleet_size)")
        // τ' = 200 − 50 − 3 · 8 = 126 ms, so a lease is at most 126 / (2 · 3) = 21 tokens.
        #expect(fleet.redisTolerance == 126_000 && fleet.redisInterval == 1_000)
        #expect(fleet.maxLease == 21)
        #expect(fleet.fallback == RateLimit(rate: 1_000, periodNanoseconds: 3 * Self.second, burst: 65))
        var instance = LimitSharing()
        instance.scope = .instance
        #expect(FleetLimit(Self.limit, sharing: instance, fleetSize: 3) == nil)
        #expect(FleetLimit.problem(Self.limit, sharing: instance, fleetSize: 3) == nil)
    }

    @Test func aBurstTooSmallToShareIsRefusedWithTheSmallestThatFits() throws {
        let tight = RateLimit(rate: 100, periodNanoseconds: Self.second, burst: 5)
        let problem = try #require(FleetLimit.problem(tight, sharing: LimitSharing(), fleetSize: 3))
        #expect(problem.contains("redis.fleet_size = 3") && problem.contains("scope: instance"))
        let suggested = try #require(problem.split(separator: " ").firstIndex(of: "use")).advanced(by: 2)
        let burst = try #require(Int(problem.split(separator: " ")[suggested]))
        let fits = RateLimit(rate: 100, periodNanoseconds: Self.second, burst: burst)
        let short = RateLimit(rate: 100, periodNanoseconds: Self.second, burst: burst - 1)
        #expect(FleetLimit(fits, sharing: LimitSharing(), fleetSize: 3) != nil)
        #expect(FleetLimit(short, sharing: LimitSharing(), fleetSize: 3) == nil)
        var long = LimitSharing()
        long.leaseMilliseconds = 250
        #expect(FleetLimit.problem(Self.limit, sharing: long, fleetSize: 3) != nil, "a lease longer than τ")
    }

    @Test func poolsSpendTheEarliestLeaseThenTheCreditAndNeverAnExpiredOne() {
        let pools = LeasePools(credits: [2])
        let now = 10 * Self.second
        #expect(pools.install(0, tokens: 3, expiresAt: now + 100 * Self.millisecond, now: now))
        #expect(pools.install(0, tokens: 5, expiresAt: now + 50 * Self.millisecond, now: now))
        #expect(!pools.install(0, tokens: 1, expiresAt: now + 80 * Self.millisecond, now: now), "both slots live")
        #expect(pools.leases(0, now: now) == (2, 8) && pools.credit(0) == 2)
        pools.setLowWater(0, 1)
        #expect(pools.take(0, cost: 4, now: now) == 1, "what is left of that lease")
        #expect(pools.leases(0, now: now) == (2, 4), "the lease ending first paid")
        #expect(pools.takeShortages() == [0], "and is down to its low-water mark")
        // Past the first lease's end only the other and the credit are left.
        let later = now + 60 * Self.millisecond
        #expect(pools.leases(0, now: later) == (1, 3))
        #expect(pools.take(0, cost: 4, now: later) == -1, "no single lease or credit holds 4")
        #expect(pools.reclaimExpired(0, now: later).map(\.tokens) == [1])
        #expect(pools.take(0, cost: 3, now: later) == 0)
        #expect(pools.takeShortages() == [0], "a lease down to its low-water mark asks for the next")
        #expect(pools.takeShortages().isEmpty)
        #expect(pools.take(0, cost: 1, now: later) == 1 && pools.credit(0) == 1)
        #expect(pools.takeShortages() == [0], "spent credit asks to be paid")
        pools.giveBack(0, cost: 5, creditCapacity: 2)
        #expect(pools.credit(0) == 2, "given back as credit, never beyond it")
        #expect(pools.reclaimExpired(0, now: now + Self.second).isEmpty)
    }

    static func configuration(
        _ sharing: LimitSharing = LimitSharing(), redis: Bool = true, limits: [RateLimit] = [limit]
    ) -> Configuration {
        var configuration = AuthorizerTests.configuration {
            $0.limits = limits.map { MerchantLimit($0, sharing: sharing) }
        }
        if redis { configuration.redis.address = "127.0.0.1:6379" }
        return configuration
    }

    static func admitted(_ table: AuthorizationTable, _ count: Int, at now: UInt64) -> Int {
        (0..<count).filter { _ in AuthorizerTests.ask(table, now: now).allowed }.count
    }

    @Test func withRedisReachableOnlyLeasedTokensAndTheCreditAdmit() throws {
        let table = AuthorizationTable(Self.configuration(), hasher: AuthorizerTests.hasher)
        let pools = try #require(table.leases)
        #expect(table.leased.map(\.key) == ["m_1:0:1000/1000/199"])
        let now = 5 * Self.second
        #expect(Self.admitted(table, 20, at: now) == 8, "the credit, before any lease")
        let refused = AuthorizerTests.ask(table, now: now)
        #expect(refused.reason == .rateLimited && refused.retryAfter == Self.millisecond)
        #expect(pools.install(0, tokens: 21, expiresAt: now + 40 * Self.millisecond, now: now))
        let allowed = AuthorizerTests.ask(table, now: now)
        #expect(allowed.allowed && allowed.limit == 1_000 && allowed.remaining == 20)
        #expect(Self.admitted(table, 40, at: now) == 20)
        #expect(Self.admitted(table, 1, at: now + 40 * Self.millisecond) == 0, "the lease has ended")
        // Without Redis nothing is leased: the instance's own GCRA decides.
        let alone = AuthorizationTable(Self.configuration(redis: false), hasher: AuthorizerTests.hasher)
        #expect(alone.leases == nil && Self.admitted(alone, 400, at: now) == 200)
    }

    @Test func eachModeDecidesOnceRedisIsAway() throws {
        func table(_ mode: LimitSharing.WhenRedisDown) throws -> AuthorizationTable {
            var sharing = LimitSharing()
            sharing.whenRedisDown = mode
            let table = AuthorizationTable(Self.configuration(sharing), hasher: AuthorizerTests.hasher)
            try #require(table.leases).setDegraded(since: Self.second)
            return table
        }
        let now = 2 * Self.second
        // The credit is spent first in every mode: it is part of the bound.
        #expect(Self.admitted(try table(.failOpen), 500, at: now) == 500)
        #expect(Self.admitted(try table(.failClosed), 500, at: now) == 8)
        // A third of the burst: (199 + 1) / 3 = 66 at once, plus the credit.
        #expect(Self.admitted(try table(.localFallback), 500, at: now) == 8 + 66)
        let reuse = try table(.reuseLastLease(maxAgeNanoseconds: 5 * Self.second))
        #expect(Self.admitted(reuse, 500, at: now) == 8, "within the age only leases admit")
        #expect(Self.admitted(reuse, 500, at: 7 * Self.second) == 66, "past it, the local share")
    }

    @Test func severalLimitsAreAllOrNothingWhateverTheySpend() throws {
        let perSecond = RateLimit(rate: 10, periodNanoseconds: Self.second, burst: 9)
        let perMinute = RateLimit(rate: 12, periodNanoseconds: 60 * Self.second, burst: 2)
        let alone = AuthorizationTable(
            Self.configuration(redis: false, limits: [perSecond, perMinute]), hasher: AuthorizerTests.hasher)
        #expect(Self.admitted(alone, 10, at: Self.second) == 3, "the per-minute limit (burst 2) decides")
        #expect(Self.admitted(alone, 7, at: Self.second + Self.second / 2) == 0)
        #expect(Self.admitted(alone, 10, at: 70 * Self.second) == 3, "the per-second one got its units back")

        // Shared by the fleet, a refused request gives its leased tokens back as credit.
        var mixed = LimitSharing()
        mixed.scope = .instance
        var configuration = Self.configuration(limits: [Self.limit, perMinute])
        configuration.merchants[0].limits[1].sharing = mixed
        let table = AuthorizationTable(configuration, hasher: AuthorizerTests.hasher)
        let pools = try #require(table.leases)
        #expect(Self.admitted(table, 10, at: Self.second) == 3)
        #expect(pools.credit(0) == 8 - 3, "the refused ones took nothing")
    }

    @Test func readsHowEachLimitIsSharedAndNamesMistakes() throws {
        let configuration = try Configuration.parse(
            yaml: """
                redis: {address: "127.0.0.1:6390", fleet_size: 4}
                merchants:
                  - id: m_1
                    limits:
                      - {rate: 1000, period_ms: 1000, burst: 199}
                      - {rate: 5, period_ms: 1000, scope: instance}
                      - {rate: 100, period_ms: 1000, burst: 99, when_redis_down: reuse_last_lease, max_lease_age_ms: 3000, lease_ms: 20}
                """, file: "a.yaml")
        #expect(configuration.redis.fleetSize == 4)
        let limits = configuration.merchants[0].limits
        #expect(limits[0].sharing == LimitSharing())
        #expect(limits[1].sharing.scope == .instance)
        #expect(limits[2].sharing.whenRedisDown == .reuseLastLease(maxAgeNanoseconds: 3 * Self.second))
        #expect(limits[2].sharing.leaseMilliseconds == 20)

        let found = configurationProblems(
            """
            redis: {address: "127.0.0.1:6390", fleet_size: 0}
            merchants:
              - id: m_1
                limits:
                  - {rate: 100, period_ms: 1000, burst: 5}
                  - {rate: 100, period_ms: 1000, burst: 99, when_redis_down: panic, scope: world}
                  - {rate: 100, period_ms: 1000, burst: 99, max_lease_age_ms: 10}
            """, file: "a.yaml")
        let described = found.map(\.description)
        let expected = [
            "a.yaml:1:48: redis.fleet_size: 0 is out of range",
            "a.yaml:5:45: merchants[0].limits[0].burst: burst 5 leaves no room to lease this limit to redis.fleet_size = 3",
            "a.yaml:6:80: merchants[0].limits[1].scope: expected one of fleet, instance",
            "a.yaml:6:66: merchants[0].limits[1].when_redis_down: expected one of fail_open, fail_closed, local_fallback, reuse_last_lease",
            "a.yaml:7:67: merchants[0].limits[2].max_lease_age_ms: only used with when_redis_down: reuse_last_lease",
        ]
        for prefix in expected {
            #expect(described.contains { $0.hasPrefix(prefix) }, "missing: \(prefix)\nin: \(described)")
        }
        // Without Redis the same tight limit is fine: an instance alone needs no leases.
        let alone = try Configuration.parse(
            yaml: "merchants: [{id: m_1, limits: [{rate: 100, period_ms: 1000, burst: 5}]}]", file: "a.yaml")
        #expect(alone.merchants[0].limits.count == 1)
    }
}

@Suite struct LeasePoolShortageTests {
    @Test func theBitmapNamesEveryShortLimitOnce() {
        let pools = LeasePools(credits: [Int](repeating: 0, count: 200))
        for limit in [3, 64, 65, 199, 3] { pools.noteShortage(limit) }
        #expect(pools.takeShortages() == [3, 64, 65, 199])
        #expect(pools.takeShortages().isEmpty)
    }

    final class CountingDoorbell: LeasePools.Doorbell, @unchecked Sendable {
        // Unchecked: rung and read on the test's own thread.
        var rings = 0
        func ring() { rings += 1 }
    }

    @Test func aLoopRingsOnlyWhileTheLeasingThreadSleeps() {
        let doorbell = CountingDoorbell()
        let pools = LeasePools(credits: [0, 0], doorbell: doorbell)
        pools.noteShortage(0)
        #expect(doorbell.rings == 0, "awake: it will see the bit")
        var slept = false
        pools.sleep { slept = true }
        #expect(!slept, "a limit is already short: no sleep")
        _ = pools.takeShortages()
        pools.sleep {
            slept = true
            pools.noteShortage(1)
            pools.noteShortage(1)
            pools.noteShortage(0)
        }
        #expect(slept && doorbell.rings == 1, "one ring per sleep, whatever runs short meanwhile")
        #expect(pools.takeShortages() == [0, 1])
    }
}
