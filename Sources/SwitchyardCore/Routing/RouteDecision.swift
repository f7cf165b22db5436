/// Why a gateway holds its place in a failover list (the wire's `reason`).
public enum RouteReason: UInt16, Sendable, CaseIterable {
    /// The best score among the healthy gateways.
    case bestScore = 1
    /// Chosen first to explore: its score is close enough to the best that
    /// the evidence does not rule it out (or the exploration floor).
    case exploration = 2
    /// The merchant's pinned priority order.
    case pinned = 3
    /// A half-open breaker's probe: this payment tests whether the gateway recovered.
    case probe = 4
    /// A healthy gateway, ranked by score.
    case failover = 5
    /// A half-open gateway whose probes are all out: after the healthy ones.
    case halfOpen = 6
    /// Its breaker is open; `least_bad` lists open gateways last, by score.
    case leastBad = 7
}

/// Why ROUTE found no gateway at all.
public enum RouteFailure: Error, Equatable, Sendable {
    /// The merchant's `allowed_methods` excludes the method.
    case methodNotAllowed
    /// No enabled gateway takes this method, currency and amount.
    case noGatewayForPayment
    /// The merchant's rules (or zero weights) exclude every gateway that would.
    case excludedByRules
    /// Every gateway that would take it was already tried for this payment.
    case allTried
    /// Every remaining gateway is forced open, or open under `fail_closed`.
    case allUnhealthy
}

/// One place in a failover list.
public struct RouteEntry: Equatable, Sendable {
    public var gateway: Int
    public var reason: RouteReason
    /// The estimated success rate (posterior mean).
    public var successRate: Double
    /// Average gateway latency in milliseconds (0: none reported yet).
    public var latencyMilliseconds: Double
    /// What the gateways are ranked by: success rate × weight × latency factor.
    public var score: Double
}

/// A decision, built in place: a loop keeps one and reuses it, so deciding
/// allocates nothing.
public struct RouteDecision: Sendable {
    public internal(set) var entries: [RouteEntry] = []
    /// The probability with which the first entry was chosen.
    public internal(set) var firstProbability = 1.0
    /// The half-open probe this decision spent, if any: the merger must start its timer.
    public internal(set) var probe: (breaker: Int, generation: UInt64)?

    /// Per gateway working space, indexed by gateway.
    var candidates: [Candidate] = []
    var order: [Int] = []
    /// Gateways already in `entries`, as a mask.
    var listed: UInt64 = 0

    struct Candidate {
        var tier = Tier.excluded
        var mean = 0.0
        /// Variance of the score (not of the success rate).
        var variance = 0.0
        var score = 0.0
        var latency = 0.0
        /// While exploring: the chance it beats the best.
        var chance = 0.0
    }

    enum Tier: Equatable { case excluded, healthy, halfOpen, open }

    public init() {
        entries.reserveCapacity(Configuration.maxGateways)
        candidates.reserveCapacity(Configuration.maxGateways)
        order.reserveCapacity(Configuration.maxGateways)
    }

    mutating func reset(gateways: Int) {
        entries.removeAll(keepingCapacity: true)
        if candidates.count == gateways {
            for i in 0..<gateways { candidates[i] = Candidate() }
        } else {
            candidates.removeAll(keepingCapacity: true)
            for _ in 0..<gateways { candidates.append(Candidate()) }
        }
        firstProbability = 1
        probe = nil
        listed = 0
    }
}
