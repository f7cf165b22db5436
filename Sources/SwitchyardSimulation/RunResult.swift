/// What happened to the payments of one run: totals, the payments routed
/// to each gateway per 10 ms, and each payment the outage's gateway took.
public struct RunResult: Sendable {
    public let policy: PolicyKind
    public let gateways: Int
    public private(set) var payments = 0
    public private(set) var successes = 0
    /// Payments the policy routed nowhere (they count as failed).
    public private(set) var refused = 0
    /// Σ (best true rate − chosen gateway's true rate): the payments lost, in
    /// expectation, to not knowing what the oracle knows.
    public private(set) var regret = 0.0
    public private(set) var chosen: [Int]
    /// Per bucket × gateway.
    private var routed: [Int32]
    public internal(set) var breakerOpenings: [BreakerOpening] = []
    /// The payments the outage's gateway took during the outage: when, and whether they failed.
    public private(set) var duringOutage: [(seconds: Double, failed: Bool)] = []
    private let outage: Scenario.Outage?

    /// The resolution traffic is recorded at: detection is timed to it.
    public static let bucketSeconds = 0.01

    init(policy: PolicyKind, gateways: Int, durationSeconds: Double, outage: Scenario.Outage?) {
        self.policy = policy
        self.outage = outage
        self.gateways = gateways
        chosen = Array(repeating: 0, count: gateways)
        let buckets = Int((durationSeconds / RunResult.bucketSeconds).rounded(.up))
        routed = Array(repeating: 0, count: buckets * gateways)
    }

    public var buckets: Int { routed.count / gateways }

    mutating func count(gateway: Int, success: Bool, regret: Double, at seconds: Double) {
        payments += 1
        chosen[gateway] += 1
        self.regret += regret
        let slot = min(Int(seconds / RunResult.bucketSeconds), buckets - 1) * gateways + gateway
        routed[slot] += 1
        if success { successes += 1 }
        if let outage, gateway == outage.gateway, seconds >= outage.fromSeconds, seconds < outage.toSeconds {
            duringOutage.append((seconds, !success))
        }
    }

    mutating func refuse(regret: Double) {
        payments += 1
        refused += 1
        self.regret += regret
    }

    public var successRate: Double { payments > 0 ? Double(successes) / Double(payments) : 0 }

    /// The bucket a moment falls in.
    public static func bucket(_ seconds: Double) -> Int { Int((seconds / bucketSeconds).rounded()) }

    /// Running totals of one gateway's traffic, to read any window's share at once.
    public func traffic(of gateway: Int) -> Traffic { Traffic(self, gateway: gateway) }

    public struct Traffic: Sendable {
        /// Before bucket b: payments of every gateway, and of this one.
        private var all: [Int]
        private var mine: [Int]

        init(_ result: RunResult, gateway: Int) {
            let buckets = result.buckets
            all = Array(repeating: 0, count: buckets + 1)
            mine = all
            for b in 0..<buckets {
                var total = 0
                for g in 0..<result.gateways { total += Int(result.routed[b * result.gateways + g]) }
                all[b + 1] = all[b] + total
                mine[b + 1] = mine[b] + Int(result.routed[b * result.gateways + gateway])
            }
        }

        public var buckets: Int { all.count - 1 }

        /// The gateway's share of the payments in buckets `range`; nil without payments.
        public func share(_ range: Range<Int>) -> Double? {
            let range = range.clamped(to: 0..<buckets)
            let total = all[range.upperBound] - all[range.lowerBound]
            return total > 0 ? Double(mine[range.upperBound] - mine[range.lowerBound]) / Double(total) : nil
        }
    }
}
