/// Everything about a decision that does not depend on chance or on the
/// probe budget: the failover list as it stands when the best score is
/// chosen, the exploration alternatives with their probabilities, and the
/// half-open gateways a probe could go to. It depends only on the snapshot
/// and the query, so a loop can reuse it for every payment of the same
/// merchant, segment and eligibility while the snapshot lasts
/// (``DecisionCache``).
public struct RouteRanking: Sendable {
    /// The answer when no probe is spent and the best score goes first.
    var template: [RouteEntry] = []
    /// Whether `template` starts with the merchant's pinned gateways (then nothing is explored).
    var pinned = false
    /// The chance the best score goes first; the rest is spread over `alternatives`.
    var bestProbability = 1.0
    var alternatives: [Int] = []
    var alternativeProbabilities: [Double] = []
    /// Half-open gateways, best score first, that a probe could go to.
    var halfOpen: [Int] = []
    var failure: RouteFailure?
    /// The routing rule the query matched (an index into the table's rules), -1: none.
    var rule = -1

    // Working space, by gateway.
    var candidates: [Candidate] = []
    var order: [Int] = []
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
        let capacity = Configuration.maxGateways
        template.reserveCapacity(capacity)
        alternatives.reserveCapacity(capacity)
        alternativeProbabilities.reserveCapacity(capacity)
        halfOpen.reserveCapacity(capacity)
        candidates.reserveCapacity(capacity)
        order.reserveCapacity(capacity)
    }

    mutating func reset(gateways: Int) {
        template.removeAll(keepingCapacity: true)
        alternatives.removeAll(keepingCapacity: true)
        alternativeProbabilities.removeAll(keepingCapacity: true)
        halfOpen.removeAll(keepingCapacity: true)
        if candidates.count == gateways {
            for i in 0..<gateways { candidates[i] = Candidate() }
        } else {
            candidates.removeAll(keepingCapacity: true)
            for _ in 0..<gateways { candidates.append(Candidate()) }
        }
        pinned = false
        bestProbability = 1
        failure = nil
        listed = 0
    }

    mutating func append(_ gateway: Int, _ reason: RouteReason) {
        guard listed & (1 << UInt64(gateway)) == 0 else { return }
        listed |= 1 << UInt64(gateway)
        let candidate = candidates[gateway]
        template.append(
            RouteEntry(
                gateway: gateway, reason: reason, successRate: candidate.mean,
                latencyMilliseconds: candidate.latency, score: candidate.score))
    }

    /// Lists the gateways of `tier` not yet listed, best score first.
    mutating func appendTier(_ tier: Tier, _ reason: RouteReason) {
        for i in 0..<order.count where candidates[order[i]].tier == tier { append(order[i], reason) }
    }

    /// Fills `order` with every candidate, best score first (insertion sort:
    /// lists are short, and it needs no memory). Unsafe buffers: this runs
    /// for every ranking, and checked array writes were a tenth of its cost.
    mutating func sortByScore() {
        let candidates = self.candidates
        order.removeAll(keepingCapacity: true)
        for gateway in 0..<candidates.count where candidates[gateway].tier != .excluded { order.append(gateway) }
        candidates.withUnsafeBufferPointer { candidate in
            order.withUnsafeMutableBufferPointer { order in
                guard order.count > 1 else { return }
                for i in 1..<order.count {
                    let gateway = order[i]
                    let score = candidate[gateway].score
                    var position = i
                    while position > 0, candidate[order[position - 1]].score < score {
                        order[position] = order[position - 1]
                        position -= 1
                    }
                    order[position] = gateway
                }
            }
        }
    }
}
