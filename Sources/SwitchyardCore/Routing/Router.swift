import Foundation

/// A payment to route, resolved to table indices.
public struct RouteQuery: Sendable {
    public var merchant: Int
    public var method: Int
    /// Nil for a currency no gateway takes.
    public var currency: Int?
    public var amount: UInt64
    public var segment: Segment
    /// Gateways already tried for this payment.
    public var tried: UInt64
    /// Whether the decision may spend a half-open probe.
    public var probes: Bool

    public init(
        merchant: Int, method: Int, currency: Int?, amount: UInt64, segment: Segment, tried: UInt64,
        probes: Bool = true
    ) {
        self.merchant = merchant
        self.method = method
        self.currency = currency
        self.amount = amount
        self.segment = segment
        self.tried = tried
        self.probes = probes
    }
}

/// The routing decision: a pure function of a snapshot, a query and a
/// random source (docs/routing.md explains it for SREs).
///
/// 1. Eligible: enabled, takes the method, currency and amount, allowed by
///    the merchant's rules with a weight above 0, not tried yet.
/// 2. Tiers by breaker: healthy (closed, forced closed, disabled), half-open,
///    open; forced-open gateways are never listed.
/// 3. A half-open gateway with a probe left goes first, as the probe.
/// 4. Otherwise the merchant's pinned gateways lead, in its order; otherwise
///    the first choice is the best score, or, with a probability bounded by
///    the exploration floor and ceiling, another healthy gateway.
/// 5. Then the healthy by score, then the half-open, then, under
///    `least_bad` only, the open ones (a last resort, and the whole answer
///    when nothing else is left).
///
/// Exploration is probability matching in closed form: a gateway is explored
/// about as often as the evidence says it might be better than the leader,
/// P(score_i > score_best), taken from a normal approximation of the two
/// Beta posteriors. Unlike drawing Thompson samples, this costs one erfc per
/// gateway and gives the exact probability of the choice made, which ROUTE
/// returns so policies can be evaluated offline (IPS).
public enum Router {
    public static func decide(
        _ query: RouteQuery, snapshot: RoutingSnapshot, into decision: inout RouteDecision,
        random: inout SplitMix64
    ) -> RouteFailure? {
        let table = snapshot.table
        let settings = table.settings
        let rules = table.merchantRules[query.merchant]
        decision.reset(gateways: table.gatewayCount)
        guard rules.methodMask & (1 << UInt64(query.method)) != 0 else { return .methodNotAllowed }
        guard let currency = query.currency else { return .noGatewayForPayment }
        let taking = table.gatewaysTaking(method: query.method, currency: currency, amount: query.amount)
        guard taking != 0 else { return .noGatewayForPayment }
        var allowed = taking & rules.gatewayMask
        for gateway in 0..<table.gatewayCount where rules.weights[gateway] <= 0 { allowed &= ~(1 << UInt64(gateway)) }
        guard allowed != 0 else { return .excludedByRules }
        let eligible = allowed & ~query.tried
        guard eligible != 0 else { return .allTried }

        let fleetRow = snapshot.fleetRow(query.segment)
        let merchantRow = snapshot.merchantRow(query.merchant, query.segment)
        var halfOpenProbe: Int?
        for gateway in 0..<table.gatewayCount where eligible & (1 << UInt64(gateway)) != 0 {
            let slot = table.breakerIndex(gateway: gateway, method: query.method)
            let tier: RouteDecision.Tier
            switch snapshot.breakerStates[slot] {
            case .closed, .forcedClosed, .disabled: tier = .healthy
            case .halfOpen: tier = .halfOpen
            case .open: tier = .open
            case .forcedOpen: continue
            }
            let posterior = snapshot.posterior(gateway: gateway, merchantRow: merchantRow, fleetRow: fleetRow)
            let mean = posterior.mean
            let latency = snapshot.latencies[slot]
            var factor = rules.weights[gateway]
            if settings.latencyTargetMilliseconds > 0, latency > settings.latencyTargetMilliseconds {
                let excess = (latency - settings.latencyTargetMilliseconds) / 1_000
                factor *= max(0, 1 - settings.latencyPenaltyPerSecond * excess)
            }
            decision.candidates[gateway] = .init(
                tier: tier, mean: mean, variance: factor * factor * posterior.variance,
                score: factor * mean, latency: latency)
            if tier == .halfOpen, query.probes, halfOpenProbe == nil,
                snapshot.tickets.claim(slot, generation: snapshot.breakerGenerations[slot])
            {
                halfOpenProbe = gateway
                decision.probe = (slot, snapshot.breakerGenerations[slot])
            }
        }

        decision.sortByScore()
        if let halfOpenProbe { decision.append(halfOpenProbe, .probe) }
        // Pinned gateways lead, in the merchant's order.
        // (Index loops: the request path avoids generic iteration, which
        // allocates in unoptimised builds and would blind the allocation tests.)
        for i in 0..<rules.priority.count where decision.candidates[Int(rules.priority[i])].tier == .healthy {
            decision.append(Int(rules.priority[i]), .pinned)
        }
        if decision.entries.isEmpty, let first = explore(&decision, settings: settings, random: &random) {
            decision.append(first.gateway, first.reason)
        }
        decision.appendTier(.healthy, .failover)
        decision.appendTier(.halfOpen, .halfOpen)
        // Open gateways are a last resort: listed at the end under least_bad
        // (first when nothing else is left), never under fail_closed.
        if settings.leastBad { decision.appendTier(.open, .leastBad) }
        return decision.entries.isEmpty ? .allUnhealthy : nil
    }

    /// Picks the first choice among the healthy gateways and sets
    /// `firstProbability`; nil when none is healthy.
    private static func explore(
        _ decision: inout RouteDecision, settings: RoutingTable.DecisionSettings, random: inout SplitMix64
    ) -> (gateway: Int, reason: RouteReason)? {
        // `order` is by score, so the first healthy gateway is the best.
        var best = -1
        var others = 0
        var matching = 0.0
        for i in 0..<decision.order.count {
            let gateway = decision.order[i]
            guard decision.candidates[gateway].tier == .healthy else { continue }
            if best < 0 {
                best = gateway
                continue
            }
            let chance = chanceBetter(decision.candidates[gateway], than: decision.candidates[best])
            decision.candidates[gateway].chance = chance
            matching += chance
            others += 1
        }
        guard best >= 0 else { return nil }
        guard others > 0 else { return (best, .bestScore) }
        let floor = settings.explorationFloor
        let exploring = min(max(matching, floor), settings.explorationCeiling)
        var draw = random.nextUnit()
        decision.firstProbability = 1 - exploring
        if draw < 1 - exploring { return (best, .bestScore) }
        draw -= 1 - exploring
        var last = best
        for i in 0..<decision.order.count {
            let gateway = decision.order[i]
            guard gateway != best, decision.candidates[gateway].tier == .healthy else { continue }
            // The floor is spread evenly, the rest by each gateway's chance of being better.
            let chance = decision.candidates[gateway].chance
            let extra = matching > 0 ? (exploring - floor) * chance / matching : (exploring - floor) / Double(others)
            let probability = floor / Double(others) + extra
            decision.firstProbability = probability
            last = gateway
            if draw < probability { break }
            draw -= probability
        }
        return (last, .exploration)
    }

    /// P(score_a > score_b) under a normal approximation of both posteriors.
    static func chanceBetter(_ a: RouteDecision.Candidate, than b: RouteDecision.Candidate) -> Double {
        let spread = (a.variance + b.variance).squareRoot()
        guard spread > 0 else { return a.score > b.score ? 1 : 0 }
        return normalTail((b.score - a.score) / spread)
    }

    /// P(Z > z) for a standard normal Z: Zelen and Severo's approximation
    /// (Abramowitz and Stegun 26.2.17), absolute error below 7.5e-8, one
    /// exponential instead of the libm erfc's several steps.
    static func normalTail(_ z: Double) -> Double {
        if z < 0 { return 1 - normalTail(-z) }
        // Beyond 8 standard deviations the tail is below 1e-15.
        guard z < 8 else { return 0 }
        let t = 1 / (1 + 0.231_641_9 * z)
        let poly =
            t * (0.319_381_530 + t * (-0.356_563_782 + t * (1.781_477_937 + t * (-1.821_255_978 + t * 1.330_274_429))))
        return 0.398_942_280_401_432_7 * Foundation.exp(-0.5 * z * z) * poly
    }
}

extension RouteDecision {
    mutating func append(_ gateway: Int, _ reason: RouteReason) {
        guard listed & (1 << UInt64(gateway)) == 0 else { return }
        listed |= 1 << UInt64(gateway)
        let candidate = candidates[gateway]
        entries.append(
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
    /// for every decision, and checked array writes were a tenth of its cost.
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
