import SwitchyardCore
import Synchronization
import Testing

/// GCRA against an exact oracle: every admitted schedule is checked against
/// the promise over every interval it contains.
@Suite struct RateLimiterTests {
    static let second: UInt64 = 1_000_000_000

    /// In any interval [a, b] the admitted units are at most floor((b - a) / T) + burst + 1.
    static func violations(_ admitted: [(time: UInt64, cost: Int)], _ limit: RateLimit) -> [String] {
        var found: [String] = []
        for i in admitted.indices {
            var units = 0
            for j in i..<admitted.count {
                units += admitted[j].cost
                let bound = Int((admitted[j].time - admitted[i].time) / limit.emissionInterval) + limit.burst + 1
                if units > bound {
                    found.append("\(units) units in [\(admitted[i].time), \(admitted[j].time)] > \(bound)")
                }
            }
        }
        return found
    }

    @Test(arguments: [1, 2, 3, 4, 5] as [UInt64])
    func randomAndAdversarialSchedulesKeepThePromise(seed: UInt64) {
        var random = SplitMix64(seed: seed)
        let limit = RateLimit(
            rate: 1 + Int(random.next() % 50), periodNanoseconds: Self.second, burst: Int(random.next() % 10))
        let table = RateLimiterTable(limits: 1)
        var now: UInt64 = 5 * Self.second
        var admitted: [(time: UInt64, cost: Int)] = []
        for _ in 0..<3_000 {
            // Gaps of 0 (bursts), exactly one emission interval (window edges),
            // just under it, or random; costs 1 to 3.
            switch random.next() % 4 {
            case 0: break
            case 1: now += limit.emissionInterval
            case 2: now += limit.emissionInterval - 1
            default: now += random.next() % (3 * limit.emissionInterval)
            }
            let cost = 1 + Int(random.next() % UInt64(min(3, limit.burst + 1)))  // above burst + 1 is bad input
            let before = table.tat(0)
            let verdict = table.spend(0, limit: limit, now: now, cost: cost)
            if verdict.allowed {
                admitted.append((now, cost))
            } else {
                #expect(table.tat(0) == before, "a denied request consumed something")
                #expect(verdict.retryAfter > 0)
                // Retrying when told to succeeds.
                #expect(GCRA.check(limit, tat: before, now: now + verdict.retryAfter, cost: cost).allowed)
            }
        }
        #expect(admitted.count > 100)
        #expect(Self.violations(admitted, limit).isEmpty)
    }

    @Test func aFreshLimitAdmitsExactlyBurstPlusOneAtOnce() {
        let limit = RateLimit(rate: 10, periodNanoseconds: Self.second, burst: 4)
        let table = RateLimiterTable(limits: 1)
        let verdicts = (0..<8).map { _ in table.spend(0, limit: limit, now: Self.second, cost: 1) }
        #expect(verdicts.map(\.allowed) == [true, true, true, true, true, false, false, false])
        #expect(verdicts.map(\.remaining).prefix(5) == [4, 3, 2, 1, 0])
        #expect(verdicts[5].retryAfter == limit.emissionInterval)
        #expect(verdicts[4].resetAfter == 5 * limit.emissionInterval)
        // A cost above burst + 1 can never be admitted: callers refuse it as bad input.
        #expect(!GCRA.check(limit, tat: 0, now: 100 * Self.second, cost: 6).allowed)
    }

    @Test func everyThreadEnforcesTheSameLimit() async {
        let limit = RateLimit(rate: 1_000, periodNanoseconds: Self.second, burst: 99)
        let table = RateLimiterTable(limits: 1)
        // Eight tasks hammer one limit at the same instants: exactly
        // burst + 1 at the first, then one per emission interval.
        let admitted = await withTaskGroup(of: Int.self) { group in
            for _ in 0..<8 {
                group.addTask {
                    var count = 0
                    for step in 0..<50 {
                        let now = Self.second + UInt64(step) * limit.emissionInterval
                        for _ in 0..<20 where table.spend(0, limit: limit, now: now, cost: 1).allowed { count += 1 }
                    }
                    return count
                }
            }
            return await group.reduce(0, +)
        }
        // Tasks interleave over the 50 instants, so each instant admits what
        // the promise allows since the previous one: 100 + 49 at most.
        #expect(admitted <= 100 + 49)
        #expect(admitted >= 100)
    }
}
