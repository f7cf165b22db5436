import SwitchyardCore

/// A payment as a routing policy sees it.
public struct SimulatedPayment: Sendable {
    /// Index into the scenario's segments.
    public var segment: Int
    /// Index into the scenario's merchants.
    public var merchant: Int
}

/// The outcome of a routed payment, as it comes back to the policy that chose.
public struct SimulatedOutcome: Sendable {
    public var payment: SimulatedPayment
    public var gateway: Int
    public var success: Bool
    /// What the policy attached to its choice (Switchyard: the snapshot version).
    public var token: UInt32
}

/// A breaker trip from closed to open, as the simulator measures it.
public struct BreakerOpening: Sendable, Equatable {
    public var seconds: Double
    public var gateway: Int
    public var method: String
}

/// A way of choosing a gateway for each payment and learning from outcomes:
/// Switchyard itself, or one of the field's approaches it is compared with.
/// Time is the simulator's virtual clock, in nanoseconds.
public protocol RoutingPolicy {
    /// The first gateway for a payment (``RoutingPolicyRefusal/gateway`` to
    /// refuse it), and a token its outcome will carry.
    mutating func choose(_ payment: SimulatedPayment, at now: UInt64) -> (gateway: Int, token: UInt32)
    /// An outcome has arrived (late, or never, as the scenario says).
    mutating func learn(_ outcome: SimulatedOutcome, at now: UInt64)
    /// Its breakers' trips so far; none for policies without breakers.
    var breakerOpenings: [BreakerOpening] { get }
}

/// A policy's answer when it routes a payment nowhere: the payment fails.
public enum RoutingPolicyRefusal {
    public static let gateway = -1
}

extension RoutingPolicy {
    public var breakerOpenings: [BreakerOpening] { [] }
}

/// The policies the simulator runs, by the names its command line and tables use.
public enum PolicyKind: String, Sendable, CaseIterable, Codable {
    case switchyard
    /// Always the configured first gateway (the "tuned rule").
    case staticPriority = "static"
    case roundRobin = "round_robin"
    /// juspay decision-engine: the last 125 outcomes per gateway, 5 % uniform exploration.
    case slidingWindow = "sliding_window"
    /// Sliding-window UCB over the last 200 outcomes (Garivier and Moulines).
    case slidingWindowUCB = "sw_ucb"
    /// Discounted UCB, discount 0.6 (Garivier and Moulines; Dream11's setting).
    case discountedUCB = "d_ucb"
    /// Knows the true rates: the best any policy could do.
    case oracle

    public var title: String {
        switch self {
        case .switchyard: "Switchyard"
        case .staticPriority: "static priority"
        case .roundRobin: "round robin"
        case .slidingWindow: "sliding window 125 + 5 % (decision-engine)"
        case .slidingWindowUCB: "SW-UCB, window 200"
        case .discountedUCB: "D-UCB, discount 0.6"
        case .oracle: "oracle"
        }
    }
}

/// Which gateways serve each segment (indices, in scenario order).
struct Eligibility {
    let bySegment: [[Int]]

    init(_ scenario: Scenario) {
        bySegment = scenario.segments.indices.map { s in
            scenario.gateways.indices.filter { scenario.gateways[$0].serves[s] }
        }
    }
}

/// The candidate with the highest value, ties broken uniformly at random.
func argmax(_ candidates: [Int], random: inout SplitMix64, _ value: (Int) -> Double) -> Int {
    var best = candidates[0]
    var bestValue = -Double.infinity
    var ties = 0
    for candidate in candidates {
        let v = value(candidate)
        if v > bestValue {
            best = candidate
            bestValue = v
            ties = 1
        } else if v == bestValue {
            ties += 1
            if random.below(ties) == 0 { best = candidate }
        }
    }
    return best
}

/// A UCB index: the mean reward plus `scale` · √(ξ · `logTerm` / plays),
/// infinite for a gateway not played (so it goes first).
func upperConfidenceBound(wins: Double, plays: Double, logTerm: Double, scale: Double) -> Double {
    guard plays > 0 else { return .infinity }
    return wins / plays + scale * (upperConfidenceXi * logTerm / plays).squareRoot()
}

/// ξ of both UCB baselines: Garivier and Moulines require ξ > 1/2.
let upperConfidenceXi = 0.6

extension SplitMix64 {
    /// Uniform in 0..<n (the modulo bias is below 2^-50 for the n used here).
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
}
