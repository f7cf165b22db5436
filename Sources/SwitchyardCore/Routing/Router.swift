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
        random: inout some RandomNumberGenerator
    ) -> RouteFailure? {
        let table = snapshot.table
        let routing = table.routing
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
            if routing.latencyTargetMilliseconds > 0, latency > Double(routing.latencyTargetMilliseconds) {
                let excess = (latency - Double(routing.latencyTargetMilliseconds)) / 1_000
                factor *= max(0, 1 - routing.latencyPenaltyPerSecond * excess)
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

        if let halfOpenProbe { decision.append(halfOpenProbe, .probe) }
        // Pinned gateways lead, in the merchant's order.
        // (Index loops: the request path avoids generic iteration, which
        // allocates in unoptimised builds and would blind the allocation tests.)
        for i in 0..<rules.priority.count where decision.candidates[Int(rules.priority[i])].tier == .healthy {
            decision.append(Int(rules.priority[i]), .pinned)
        }
        decision.sortByScore(tier: .healthy)
        if decision.entries.isEmpty, !decision.order.isEmpty {
            let first = explore(&decision, routing: routing, random: &random)
            decision.append(first, first == decision.order[0] ? .bestScore : .exploration)
        }
        decision.appendOrder(.failover)
        decision.sortByScore(tier: .halfOpen)
        decision.appendOrder(.halfOpen)
        // Open gateways are a last resort: listed at the end under least_bad
        // (first when nothing else is left), never under fail_closed.
        if routing.onAllUnhealthy == .leastBad {
            decision.sortByScore(tier: .open)
            decision.appendOrder(.leastBad)
        }
        return decision.entries.isEmpty ? .allUnhealthy : nil
    }

    /// Picks the first healthy gateway from `decision.order` (best score
    /// first) and sets `firstProbability`.
    private static func explore(
        _ decision: inout RouteDecision, routing: RoutingConfiguration, random: inout some RandomNumberGenerator
    ) -> Int {
        let order = decision.order
        let others = order.count - 1
        guard others > 0 else { return order[0] }
        let best = decision.candidates[order[0]]
        var matching = 0.0
        for i in 1..<order.count {
            matching += chanceBetter(decision.candidates[order[i]], than: best)
        }
        let floor = routing.explorationFloorPercent / 100
        let exploring = min(max(matching, floor), routing.explorationCeilingPercent / 100)
        var draw = Double.random(in: 0..<1, using: &random)
        decision.firstProbability = 1 - exploring
        if draw < 1 - exploring { return order[0] }
        draw -= 1 - exploring
        for i in 1..<order.count {
            let gateway = order[i]
            // The floor is spread evenly, the rest by each gateway's chance of being better.
            let chance = chanceBetter(decision.candidates[gateway], than: best)
            let extra = matching > 0 ? (exploring - floor) * chance / matching : (exploring - floor) / Double(others)
            let probability = floor / Double(others) + extra
            decision.firstProbability = probability
            if draw < probability { return gateway }
            draw -= probability
        }
        return order[order.count - 1]
    }

    /// P(score_a > score_b) under a normal approximation of both posteriors.
    static func chanceBetter(_ a: RouteDecision.Candidate, than b: RouteDecision.Candidate) -> Double {
        let spread = (a.variance + b.variance).squareRoot()
        guard spread > 0 else { return a.score > b.score ? 1 : 0 }
        return 0.5 * Foundation.erfc((b.score - a.score) / (spread * 2.0.squareRoot()))
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

    /// Lists every gateway of `order` not yet listed.
    mutating func appendOrder(_ reason: RouteReason) {
        for i in 0..<order.count { append(order[i], reason) }
    }

    /// Fills `order` with the gateways of `tier` not yet listed, best score
    /// first (insertion sort: lists are short, and it needs no memory).
    mutating func sortByScore(tier: Tier) {
        order.removeAll(keepingCapacity: true)
        for gateway in 0..<candidates.count where candidates[gateway].tier == tier {
            guard listed & (1 << UInt64(gateway)) == 0 else { continue }
            var position = order.count
            order.append(gateway)
            while position > 0, candidates[order[position - 1]].score < candidates[gateway].score {
                order[position] = order[position - 1]
                position -= 1
            }
            order[position] = gateway
        }
    }
}
