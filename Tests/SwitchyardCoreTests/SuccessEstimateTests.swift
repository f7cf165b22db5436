import SwitchyardCore
import Testing

@Suite struct SuccessEstimateTests {
    static let second: UInt64 = 1_000_000_000
    static let halfLife = 60 * second

    /// The posterior a snapshot builds: the evidence decayed to `now` on a prior.
    func posterior(
        _ estimate: SuccessEstimate, at now: UInt64, halfLife: UInt64 = halfLife, priorMean: Double,
        priorWeight: Double
    ) -> SuccessEstimate.Posterior {
        let (s, f) = estimate.evidence(at: now, halfLife: halfLife)
        return SuccessEstimate.Posterior(priorMean: priorMean, priorWeight: priorWeight, successes: s, failures: f)
    }

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
        let posterior = posterior(SuccessEstimate(), at: 0, priorMean: 0.93, priorWeight: 20)
        #expect(abs(posterior.mean - 0.93) < 1e-9)
        #expect(abs(posterior.alpha + posterior.beta - 20) < 1e-9, "the prior counts as 20 observations")
    }

    @Test func aThinSegmentBorrowsFromItsParent() {
        var estimate = SuccessEstimate()
        estimate.record(success: false, at: 0, halfLife: Self.halfLife)
        estimate.record(success: false, at: 0, halfLife: Self.halfLife)
        let posterior = posterior(estimate, at: 0, priorMean: 0.9, priorWeight: 20)
        #expect(abs(posterior.mean - 18.0 / 22.0) < 1e-9, "two failures move it from 90% to 82%, not to 0%")
    }

    @Test func plentifulEvidenceOutweighsThePrior() {
        var estimate = SuccessEstimate()
        for i in 0..<1_000 { estimate.record(success: i % 10 != 0, at: 0, halfLife: Self.halfLife) }
        let posterior = posterior(estimate, at: 0, priorMean: 0.5, priorWeight: 20)
        #expect(abs(posterior.mean - 0.8922) < 0.001, "(900 + 10) / (1000 + 20)")
        #expect(posterior.variance.squareRoot() < 0.01)
    }

    @Test func aRecoveringGatewayIsForgivenAsItsFailuresAge() {
        var estimate = SuccessEstimate()
        for _ in 0..<200 { estimate.record(success: false, at: 0, halfLife: Self.halfLife) }
        for i in 0..<300 {
            estimate.record(success: true, at: 600 * Self.second + UInt64(i) * Self.second, halfLife: Self.halfLife)
        }
        let posterior = posterior(estimate, at: 900 * Self.second, priorMean: 0.9, priorWeight: 20)
        #expect(posterior.mean > 0.95, "failures 15 half-lives old weigh almost nothing")
    }
}
