/// What decisions read: the scores and breaker states as of one moment,
/// immutable, built off the request path by ``RoutingState/snapshot(at:)``.
/// Counts are already decayed to `builtAt`, so a decision does no
/// exponentials; the staleness is the snapshot interval.
public final class RoutingSnapshot: Sendable {
    public let table: RoutingTable
    public let version: UInt32
    public let builtAt: UInt64
    /// Score key → row. A fleet row holds the fleet posterior (α, β) of each
    /// gateway, its parent's prior included; a merchant row holds the
    /// merchant's own decayed evidence (successes, failures).
    let rows: [UInt64: Int]
    let first: [Double]
    let second: [Double]
    /// Per breaker slot (gateway × method).
    public let breakerStates: [CircuitBreaker.State]
    public let breakerGenerations: [UInt64]
    /// Average gateway latency in milliseconds, 0 when none reported yet.
    public let latencies: [Double]
    public let tickets: ProbeTickets

    init(
        table: RoutingTable, version: UInt32, builtAt: UInt64, rows: [UInt64: Int], first: [Double],
        second: [Double], breakerStates: [CircuitBreaker.State], breakerGenerations: [UInt64],
        latencies: [Double], tickets: ProbeTickets
    ) {
        self.table = table
        self.version = version
        self.builtAt = builtAt
        self.rows = rows
        self.first = first
        self.second = second
        self.breakerStates = breakerStates
        self.breakerGenerations = breakerGenerations
        self.latencies = latencies
        self.tickets = tickets
    }

    /// The posterior a decision for `merchant` in `segment` uses for `gateway`:
    /// the merchant's evidence on a prior centred on the fleet's estimate,
    /// which itself borrows from the method-wide estimate.
    @inline(__always)
    func posterior(gateway: Int, merchantRow: Int?, fleetRow: Int?) -> SuccessEstimate.Posterior {
        var fleetMean = table.settings.priorSuccessRate
        if let fleetRow {
            let i = fleetRow * table.gatewayCount + gateway
            fleetMean = first[i] / (first[i] + second[i])
        }
        var successes = 0.0
        var failures = 0.0
        if let merchantRow {
            let i = merchantRow * table.gatewayCount + gateway
            successes = first[i]
            failures = second[i]
        }
        return .init(
            priorMean: fleetMean, priorWeight: table.settings.priorWeight, successes: successes, failures: failures)
    }

    func fleetRow(_ segment: Segment) -> Int? {
        rows[ScoreKey.fleet(segment)] ?? rows[ScoreKey.fleet(segment.methodOnly)]
    }

    func merchantRow(_ merchant: Int, _ segment: Segment) -> Int? { rows[ScoreKey.merchant(merchant, segment)] }

    /// The fleet-level success-rate estimate for a gateway in a segment, before merchant evidence (for metrics).
    public func fleetEstimate(gateway: Int, segment: Segment) -> Double {
        posterior(gateway: gateway, merchantRow: nil, fleetRow: fleetRow(segment)).mean
    }

    /// The success-rate estimate for one gateway (for tests, admin and explain).
    public func estimate(merchant: Int, segment: Segment, gateway: Int) -> Double {
        posterior(gateway: gateway, merchantRow: merchantRow(merchant, segment), fleetRow: fleetRow(segment)).mean
    }
}
