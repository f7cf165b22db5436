import SwitchyardCore
import Testing

@Suite struct SuccessEstimateTests {
    static let second: UInt64 = 1_000_000_000
    static let halfLife = 60 * second

    @Test func evidenceHalvesEveryHalfLife() {
        var estimate = SuccessEstimate()
        for _ in 0..<8 { estimate.record(success: true, at: 0, halfLife: Self.halfLife) }
        for _ in 0..<4 { estimate.record(success: false, at: 0, halfLife: Self.halfLife) }
        let later = estimate.evidence(at: Self.halfLife, halfLife: Self.halfLife)
        #expect(abs(later.successes - 4) < 1e-9 && abs(later.failures - 2) < 1e-9)
        let twoLater = estimate.evidence(at: 2 * Self.halfLife, halfLife: Self.halfLife)
        #expect(abs(twoLater.successes - 2) < 1e-9)
    }

    @Test func anEmptySegmentStartsAtItsParent() {
        let posterior = SuccessEstimate().posterior(at: 0, halfLife: Self.halfLife, priorMean: 0.93, priorWeight: 20)
        #expect(abs(posterior.mean - 0.93) < 1e-9)
        #expect(abs(posterior.strength - 20) < 1e-9)
    }

    @Test func aThinSegmentBorrowsFromItsParent() {
        var estimate = SuccessEstimate()
        estimate.record(success: false, at: 0, halfLife: Self.halfLife)
        estimate.record(success: false, at: 0, halfLife: Self.halfLife)
        let posterior = estimate.posterior(at: 0, halfLife: Self.halfLife, priorMean: 0.9, priorWeight: 20)
        #expect(abs(posterior.mean - 18.0 / 22.0) < 1e-9, "two failures move it from 90% to 82%, not to 0%")
    }

    @Test func plentifulEvidenceOutweighsThePrior() {
        var estimate = SuccessEstimate()
        for i in 0..<1_000 { estimate.record(success: i % 10 != 0, at: 0, halfLife: Self.halfLife) }
        let posterior = estimate.posterior(at: 0, halfLife: Self.halfLife, priorMean: 0.5, priorWeight: 20)
        #expect(abs(posterior.mean - 0.8922) < 0.001, "(900 + 10) / (1000 + 20)")
        #expect(posterior.standardDeviation < 0.01)
    }

    @Test func aRecoveringGatewayIsForgivenAsItsFailuresAge() {
        var estimate = SuccessEstimate()
        for _ in 0..<200 { estimate.record(success: false, at: 0, halfLife: Self.halfLife) }
        for i in 0..<300 {
            estimate.record(success: true, at: 600 * Self.second + UInt64(i) * Self.second, halfLife: Self.halfLife)
        }
        let posterior = estimate.posterior(
            at: 900 * Self.second, halfLife: Self.halfLife, priorMean: 0.9, priorWeight: 20)
        #expect(posterior.mean > 0.95, "failures 15 half-lives old weigh almost nothing")
    }

    @Test func mergingShardsEqualsRecordingInOnePlace() {
        var one = SuccessEstimate()
        var shard = SuccessEstimate()
        var merged = SuccessEstimate()
        for i in 0..<50 {
            one.record(success: i % 3 != 0, at: Self.second, halfLife: Self.halfLife)
            shard.record(success: i % 3 != 0, at: Self.second, halfLife: Self.halfLife)
        }
        let (s, f) = shard.evidence(at: 5 * Self.second, halfLife: Self.halfLife)
        merged.merge(successes: s, failures: f, at: 5 * Self.second, halfLife: Self.halfLife)
        let a = one.evidence(at: 5 * Self.second, halfLife: Self.halfLife)
        #expect(abs(a.successes - merged.successes) < 1e-9 && abs(a.failures - merged.failures) < 1e-9)
    }

    @Test(arguments: [(20.0, 2.0), (2.0, 5.0), (0.5, 0.5), (300.0, 30.0)])
    func betaSamplesHaveTheRightMeanAndSpread(alpha: Double, beta: Double) {
        var random = SplitMix64(seed: 2_026)
        let draws = (0..<40_000).map { _ in BetaSampler.sample(alpha: alpha, beta: beta, using: &random) }
        let mean = draws.reduce(0, +) / Double(draws.count)
        let variance = draws.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(draws.count)
        let n = alpha + beta
        #expect(draws.allSatisfy { $0 >= 0 && $0 <= 1 })
        #expect(abs(mean - alpha / n) < 0.01, "mean \(mean)")
        #expect(
            abs(variance - alpha * beta / (n * n * (n + 1))) < 0.01 * max(0.01, alpha * beta / (n * n)),
            "variance \(variance)")
    }

    @Test func thompsonSamplingFindsTheBetterGateway() {
        var random = SplitMix64(seed: 1)
        var arms = [SuccessEstimate(), SuccessEstimate()]
        let truth = [0.94, 0.70]
        var chosen = [0, 0]
        for i in 0..<5_000 {
            let now = UInt64(i) * Self.second / 100
            let draws = arms.map {
                $0.posterior(at: now, halfLife: 600 * Self.second, priorMean: 0.85, priorWeight: 20).sample(
                    using: &random)
            }
            let pick = draws[0] >= draws[1] ? 0 : 1
            if i >= 1_000 { chosen[pick] += 1 }
            let success = Double.random(in: 0..<1, using: &random) < truth[pick]
            arms[pick].record(success: success, at: now, halfLife: 600 * Self.second)
        }
        #expect(Double(chosen[1]) / 4_000 < 0.02, "the 70% gateway got \(chosen[1]) of 4000 after warm-up")
    }
}
