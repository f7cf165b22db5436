import Foundation
import SwitchyardCore

/// Runs one policy through one scenario on a virtual clock. The world (when
/// each payment arrives, its segment and merchant, the chance deciding its
/// outcome, its feedback delay) comes from the seed alone and draws the same
/// numbers whatever the policy chooses, so every policy meets exactly the
/// same payments and luck: a payment succeeds when its draw falls under the
/// chosen gateway's true rate. The same scenario, seed and policy give the
/// same result, bit for bit.
public struct Simulator: Sendable {
    public let scenario: Scenario
    public let seed: UInt64
    public let rate: Double
    public let durationSeconds: Double

    public init(scenario: Scenario, seed: UInt64, rate: Double? = nil, durationSeconds: Double? = nil) {
        self.scenario = scenario
        self.seed = seed
        self.rate = rate ?? scenario.rate
        self.durationSeconds = durationSeconds ?? scenario.durationSeconds
    }

    public func run(_ kind: PolicyKind) -> RunResult {
        // Each policy's own randomness, apart from the world's.
        let policySeed = seed &* 0x9E37_79B9_7F4A_7C15 ^ UInt64(PolicyKind.allCases.firstIndex(of: kind)! + 1)
        switch kind {
        case .switchyard:
            var policy = SwitchyardPolicy(scenario, seed: policySeed)
            return run(&policy, kind)
        case .staticPriority:
            var policy = StaticPriority(scenario)
            return run(&policy, kind)
        case .roundRobin:
            var policy = RoundRobin(scenario)
            return run(&policy, kind)
        case .slidingWindow:
            var policy = SlidingWindowExploration(scenario, seed: policySeed)
            return run(&policy, kind)
        case .slidingWindowUCB:
            var policy = SlidingWindowUCB(scenario, seed: policySeed)
            return run(&policy, kind)
        case .discountedUCB:
            var policy = DiscountedUCB(scenario, seed: policySeed)
            return run(&policy, kind)
        case .oracle:
            var policy = Oracle(scenario, seed: policySeed)
            return run(&policy, kind)
        }
    }

    func run<Policy: RoutingPolicy>(_ policy: inout Policy, _ kind: PolicyKind) -> RunResult {
        var result = RunResult(
            policy: kind, gateways: scenario.gateways.count, durationSeconds: durationSeconds, outage: scenario.outage)
        var world = SplitMix64(seed: seed)
        var pending = FeedbackQueue()
        let cumulativeShares = scenario.segments.reduce(into: [Double]()) { $0.append(($0.last ?? 0) + $1.share) }
        let eligible = Eligibility(scenario).bySegment
        // Log-normal delay: median e^μ, p99 e^(μ + 2.326 σ).
        let feedback = scenario.feedback
        let delayed = feedback.medianDelaySeconds > 0
        let mu = delayed ? log(feedback.medianDelaySeconds) : 0
        let sigma = delayed ? log(feedback.p99DelaySeconds / feedback.medianDelaySeconds) / 2.326_347_874 : 0
        var rates = Array(repeating: 0.0, count: scenario.gateways.count)

        var seconds = 0.0
        while true {
            // Every payment draws the same five numbers, whatever happens to it.
            seconds += -log(1 - world.nextUnit()) / rate
            let segmentDraw = world.nextUnit()
            let merchant = world.below(scenario.merchants)
            let chance = world.nextUnit()
            let delayDraw = (world.nextUnit(), world.nextUnit())
            guard seconds < durationSeconds else { break }
            let now = UInt64(seconds * 1e9)
            while let due = pending.first, due.at <= now {
                pending.removeFirst()
                policy.learn(due.outcome, at: due.at)
            }

            var segment = 0
            while segment < cumulativeShares.count - 1, segmentDraw >= cumulativeShares[segment] { segment += 1 }
            let payment = SimulatedPayment(segment: segment, merchant: merchant)
            var best = 0.0
            for g in eligible[segment] {
                rates[g] = scenario.successRate(gateway: g, segment: segment, at: seconds)
                best = max(best, rates[g])
            }
            let (gateway, token) = policy.choose(payment, at: now)
            guard gateway != RoutingPolicyRefusal.gateway else {
                result.refuse(regret: best)
                continue
            }
            let success = chance < rates[gateway]
            result.count(gateway: gateway, success: success, regret: best - rates[gateway], at: seconds)

            let outcome = SimulatedOutcome(payment: payment, gateway: gateway, success: success, token: token)
            guard delayed else {
                policy.learn(outcome, at: now)
                continue
            }
            // The first delay draw also decides loss: under the lost fraction
            // the outcome never comes; above it, rescaled, it is uniform again.
            if delayDraw.0 < feedback.lostFraction { continue }
            let u = (delayDraw.0 - feedback.lostFraction) / (1 - feedback.lostFraction)
            let normal = (-2 * log(1 - u)).squareRoot() * cos(2 * .pi * delayDraw.1)
            let delay = exp(mu + sigma * normal)
            pending.insert(at: now &+ UInt64(delay * 1e9), outcome)
        }
        result.breakerOpenings = policy.breakerOpenings
        return result
    }
}

/// Outcomes on their way back, soonest first (a binary heap; ties in insertion order).
struct FeedbackQueue {
    private var heap: [(at: UInt64, order: UInt64, outcome: SimulatedOutcome)] = []
    private var inserted: UInt64 = 0

    var first: (at: UInt64, outcome: SimulatedOutcome)? { heap.first.map { ($0.at, $0.outcome) } }

    private static func before(
        _ a: (at: UInt64, order: UInt64, outcome: SimulatedOutcome),
        _ b: (at: UInt64, order: UInt64, outcome: SimulatedOutcome)
    ) -> Bool {
        a.at != b.at ? a.at < b.at : a.order < b.order
    }

    mutating func insert(at: UInt64, _ outcome: SimulatedOutcome) {
        inserted += 1
        heap.append((at, inserted, outcome))
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard Self.before(heap[child], heap[parent]) else { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    mutating func removeFirst() {
        heap.swapAt(0, heap.count - 1)
        heap.removeLast()
        var parent = 0
        while true {
            let left = 2 * parent + 1
            let right = left + 1
            var smallest = parent
            if left < heap.count, Self.before(heap[left], heap[smallest]) { smallest = left }
            if right < heap.count, Self.before(heap[right], heap[smallest]) { smallest = right }
            guard smallest != parent else { return }
            heap.swapAt(parent, smallest)
            parent = smallest
        }
    }
}
