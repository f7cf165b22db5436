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
    /// Placed by the routing rule the payment matched (its priority order, or its first tier's best score).
    case rule = 8
    /// First: the arm of the matched rule's volume split this payment falls in.
    case split = 9

    /// The reason in snake case, as explanations show it.
    public var name: String { snakeCase.description }

    /// The same, for writers that must not allocate (the audit log).
    public var snakeCase: StaticString {
        switch self {
        case .bestScore: "best_score"
        case .exploration: "exploration"
        case .pinned: "pinned"
        case .probe: "probe"
        case .failover: "failover"
        case .halfOpen: "half_open"
        case .leastBad: "least_bad"
        case .rule: "rule"
        case .split: "split"
        }
    }
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

    /// A number for each failure, as the audit log carries it from a loop to its writer.
    public var code: UInt16 {
        switch self {
        case .methodNotAllowed: 1
        case .noGatewayForPayment: 2
        case .excludedByRules: 3
        case .allTried: 4
        case .allUnhealthy: 5
        }
    }

    public init?(code: UInt16) {
        switch code {
        case 1: self = .methodNotAllowed
        case 2: self = .noGatewayForPayment
        case 3: self = .excludedByRules
        case 4: self = .allTried
        case 5: self = .allUnhealthy
        default: return nil
        }
    }

    /// The failure in snake case, as the audit log names it.
    public var snakeCase: StaticString {
        switch self {
        case .methodNotAllowed: "method_not_allowed"
        case .noGatewayForPayment: "no_gateway_for_payment"
        case .excludedByRules: "excluded_by_rules"
        case .allTried: "all_tried"
        case .allUnhealthy: "all_unhealthy"
        }
    }
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
    /// The routing rule the decision followed (an index into the table's rules), -1: none.
    public internal(set) var rule = -1
    /// The half-open probe this decision spent, if any: the merger must start its timer.
    public internal(set) var probe: (breaker: Int, generation: UInt64)?
    /// Working space for ``Router/decide(_:snapshot:into:random:)``.
    var ranking = RouteRanking()

    public init() {
        entries.reserveCapacity(Configuration.maxGateways)
    }

    mutating func reset() {
        entries.removeAll(keepingCapacity: true)
        firstProbability = 1
        probe = nil
        rule = -1
    }
}
