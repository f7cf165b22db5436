import Foundation
import SwitchyardCore

/// The measures of one run (docs/simulator.md defines each), as the
/// simulator prints them and `perf/routing` tabulates them.
public struct RunSummary: Codable, Equatable, Sendable {
    public var scenario: String
    public var policy: PolicyKind
    public var seed: UInt64
    public var rate: Double
    public var payments: Int
    /// Payments the policy routed nowhere (Switchyard under `on_all_unhealthy: fail_closed`).
    public var refused: Int
    public var successRate: Double
    /// Expected payments lost against the oracle.
    public var regret: Double
    /// Each gateway's share of all payments.
    public var shares: [Double]
    public var outage: OutageMeasures?
    /// Breaker trips from closed to open.
    public var breakerOpenings: [Opening]
    /// Trips of a gateway whose true failure rate was below the trip threshold at the time, per gateway and day.
    public var falseOpeningsPerGatewayDay: Double

    /// How a policy met the scenario's outage.
    public struct OutageMeasures: Codable, Equatable, Sendable {
        /// The failing gateway's share over the five minutes before the outage.
        public var shareBefore: Double
        /// From the outage's start until the gateway's traffic fell to at most
        /// a tenth of its rate before (90 % of it gone): its last payment
        /// before the fall (the maximum-likelihood change point of its
        /// payments in the outage); nil: never.
        public var detectionSeconds: Double?
        /// Failed payments the gateway took from the outage's start until then,
        /// that payment included (all it took in the outage, when never detected).
        public var failedBeforeDetection: Int
        /// From the healing until the start of ten seconds in which it took
        /// at least 90 % of `shareBefore` again; nil: never left, or not back
        /// before the run ended.
        public var recoverySeconds: Double?
    }

    public struct Opening: Codable, Equatable, Sendable {
        public var seconds: Double
        public var gateway: String
        public var method: String
        /// The gateway's true failure rate for the method was below the breaker's threshold.
        public var falseAlarm: Bool
    }

    /// Windows the measures look through, in seconds.
    static let referenceSeconds = 300.0
    static let recoveryWindowSeconds = 10.0

    public init(_ result: RunResult, simulator: Simulator) {
        let scenario = simulator.scenario
        self.scenario = scenario.name
        policy = result.policy
        seed = simulator.seed
        rate = simulator.rate
        payments = result.payments
        refused = result.refused
        successRate = result.successRate
        regret = result.regret
        shares = result.chosen.map { result.payments > 0 ? Double($0) / Double(result.payments) : 0 }
        outage = scenario.outage.flatMap { RunSummary.measure($0, in: result, rate: simulator.rate) }
        let threshold = Double(scenario.routing.breaker.failureRateThreshold) / 100
        breakerOpenings = result.breakerOpenings.map { opening in
            // The gateway's true failure rate for the breaker's method at the time.
            var weighted = 0.0
            var shares = 0.0
            for s in scenario.segments.indices
            where scenario.segments[s].method == opening.method && scenario.gateways[opening.gateway].serves[s] {
                let rate = scenario.successRate(gateway: opening.gateway, segment: s, at: opening.seconds)
                weighted += scenario.segments[s].share * rate
                shares += scenario.segments[s].share
            }
            return Opening(
                seconds: opening.seconds, gateway: scenario.gateways[opening.gateway].id, method: opening.method,
                falseAlarm: shares > 0 && 1 - weighted / shares < threshold)
        }
        let gatewayDays = Double(scenario.gateways.count) * simulator.durationSeconds / 86_400
        falseOpeningsPerGatewayDay = Double(breakerOpenings.filter(\.falseAlarm).count) / gatewayDays
    }

    static func measure(_ outage: Scenario.Outage, in result: RunResult, rate: Double) -> OutageMeasures? {
        let traffic = result.traffic(of: outage.gateway)
        let start = RunResult.bucket(outage.fromSeconds)
        let end = min(RunResult.bucket(outage.toSeconds), traffic.buckets)
        guard let before = traffic.share(max(0, start - RunResult.bucket(referenceSeconds))..<start) else {
            return nil
        }
        // When the gateway's traffic fell: the split of its payments in the
        // outage into a busy part and a quiet part that fits them best, as
        // two Poisson processes (the maximum-likelihood change point). It
        // counts as traffic leaving when the quiet part's rate is at most a
        // tenth of the gateway's rate before the outage, over a stretch long
        // enough to expect 100 of its payments at that rate.
        let taken = result.duringOutage
        let length = outage.toSeconds - outage.fromSeconds
        let shortestQuiet = 100 / (before * rate)
        func fit(_ count: Int, _ seconds: Double) -> Double {
            count == 0 ? 0 : Double(count) * log(Double(count) / max(seconds, 1e-9)) - Double(count)
        }
        var best = (likelihood: fit(taken.count, length), split: -1)
        for k in taken.indices {
            let busy = taken[k].seconds - outage.fromSeconds
            guard length - busy >= shortestQuiet else { break }
            let likelihood = fit(k + 1, busy) + fit(taken.count - k - 1, length - busy)
            if likelihood > best.likelihood { best = (likelihood, k) }
        }
        let changeAt = best.split < 0 ? outage.fromSeconds : taken[best.split].seconds
        let quietRate = Double(taken.count - best.split - 1) / (outage.toSeconds - changeAt)
        let detectedAt: Double? = quietRate <= before * rate / 10 ? changeAt : nil
        let counted = detectedAt == nil ? taken.count : best.split + 1
        let recoveryWindow = RunResult.bucket(recoveryWindowSeconds)
        let recovered =
            detectedAt == nil
            ? nil
            : (end..<max(end, traffic.buckets - recoveryWindow + 1)).first { b in
                traffic.share(b..<b + recoveryWindow).map { $0 >= 0.9 * before } ?? false
            }
        return OutageMeasures(
            shareBefore: before,
            detectionSeconds: detectedAt.map { $0 - outage.fromSeconds },
            failedBeforeDetection: taken.prefix(counted).filter(\.failed).count,
            recoverySeconds: recovered.map { Double($0 - end) * RunResult.bucketSeconds })
    }
}
