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
    /// For routing rules: the attempt number, the card network's index among
    /// those the rules name (-1: none; 64 and above: one no rule names), the
    /// labels the rules name, and the payment id's split hash
    /// (``RoutingRule/splitHash(paymentID:)``).
    public var attempt = 1
    public var ruleNetwork = -1
    public var ruleLabels = RuleLabels()
    public var paymentHash: UInt64 = 0

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
/// Beta posteriors. Unlike drawing Thompson samples, this costs one exponential per
/// gateway and gives the exact probability of the choice made, which ROUTE
/// returns so policies can be evaluated offline (IPS).
public enum Router {
    public static func decide(
        _ query: RouteQuery, snapshot: RoutingSnapshot, into decision: inout RouteDecision,
        random: inout SplitMix64
    ) -> RouteFailure? {
        rank(query, rule: snapshot.table.rules.match(query), snapshot: snapshot, into: &decision.ranking)
        return pick(&decision, query: query, snapshot: snapshot, random: &random)
    }

    /// Steps 1, 2, 4 and 5: everything that depends only on the snapshot, the
    /// query and the routing rule it matched (an index into the table's rules).
    static func rank(_ query: RouteQuery, rule: Int?, snapshot: RoutingSnapshot, into ranking: inout RouteRanking) {
        let table = snapshot.table
        let settings = table.settings
        let rules = table.merchantRules[query.merchant]
        ranking.reset(gateways: table.gatewayCount)
        ranking.rule = rule ?? -1
        guard rules.methodMask & (1 << UInt64(query.method)) != 0 else {
            ranking.failure = .methodNotAllowed
            return
        }
        guard let currency = query.currency else {
            ranking.failure = .noGatewayForPayment
            return
        }
        let taking = table.gatewaysTaking(method: query.method, currency: currency, amount: query.amount)
        guard taking != 0 else {
            ranking.failure = .noGatewayForPayment
            return
        }
        var allowed = taking & rules.gatewayMask
        for gateway in 0..<table.gatewayCount where rules.weights[gateway] <= 0 { allowed &= ~(1 << UInt64(gateway)) }
        if let rule { allowed &= table.rules.rules[rule].gateways }
        guard allowed != 0 else {
            ranking.failure = .excludedByRules
            return
        }
        let eligible = allowed & ~query.tried
        guard eligible != 0 else {
            ranking.failure = .allTried
            return
        }

        let fleetRow = snapshot.fleetRow(query.segment)
        let merchantRow = snapshot.merchantRow(query.merchant, query.segment)
        for gateway in 0..<table.gatewayCount where eligible & (1 << UInt64(gateway)) != 0 {
            let slot = table.breakerIndex(gateway: gateway, method: query.method)
            let tier: RouteRanking.Tier
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
            ranking.candidates[gateway] = .init(
                tier: tier, mean: mean, variance: factor * factor * posterior.variance,
                score: factor * mean, latency: latency)
        }

        ranking.sortByScore()
        // Pinned gateways lead, in the merchant's order.
        // (Index loops: the request path avoids generic iteration, which
        // allocates in unoptimised builds and would blind the allocation tests.)
        for i in 0..<rules.priority.count where ranking.candidates[Int(rules.priority[i])].tier == .healthy {
            ranking.append(Int(rules.priority[i]), .pinned)
        }
        ranking.pinned = !ranking.template.isEmpty
        if !ranking.pinned, let rule {
            apply(table.rules.rules[rule], to: &ranking, settings: settings)
        } else if !ranking.pinned, let best = prepareExploration(&ranking, settings: settings) {
            ranking.append(best, .bestScore)
        }
        ranking.appendTier(.healthy, .failover)
        ranking.appendTier(.halfOpen, .halfOpen)
        // Open gateways are a last resort: listed at the end under least_bad
        // (first when nothing else is left), never under fail_closed.
        if settings.leastBad { ranking.appendTier(.open, .leastBad) }
        for i in 0..<ranking.order.count where ranking.candidates[ranking.order[i]].tier == .halfOpen {
            ranking.halfOpen.append(ranking.order[i])
        }
        if ranking.template.isEmpty && ranking.halfOpen.isEmpty { ranking.failure = .allUnhealthy }
    }

    /// A matched rule's order: `strict`, its list as given (healthy gateways;
    /// nothing explored); `score_within` with tiers, the best score of the
    /// first tier with a healthy gateway first (exploring within that tier
    /// only), then each tier by score; otherwise (allow, deny, a split to be
    /// drawn in ``pick``) scoring as without a rule.
    private static func apply(
        _ rule: RuleTable.Rule, to ranking: inout RouteRanking, settings: RoutingTable.DecisionSettings
    ) {
        switch rule.mode {
        case .strict:
            for i in 0..<rule.order.count where ranking.candidates[rule.order[i]].tier == .healthy {
                ranking.append(rule.order[i], .rule)
            }
            ranking.pinned = true
        case .scoreWithin where !rule.tiers.isEmpty:
            for t in 0..<rule.tiers.count {
                if ranking.template.isEmpty,
                    let best = prepareExploration(&ranking, settings: settings, within: rule.tiers[t])
                {
                    ranking.append(best, .rule)
                }
                for i in 0..<ranking.order.count
                where ranking.candidates[ranking.order[i]].tier == .healthy
                    && rule.tiers[t] & (1 << UInt64(ranking.order[i])) != 0
                {
                    ranking.append(ranking.order[i], .failover)
                }
            }
        case .scoreWithin, .splitThenScore:
            if let best = prepareExploration(&ranking, settings: settings) { ranking.append(best, .bestScore) }
        }
    }

    /// Step 3 and the draw, on the ranking in `decision.ranking`: spends a
    /// probe if one is left, else picks the first choice, and writes the
    /// answer. (The ranking is read in place: passing a copy would retain
    /// and release each of its arrays.)
    static func pick(
        _ decision: inout RouteDecision, query: RouteQuery, snapshot: RoutingSnapshot, random: inout SplitMix64
    ) -> RouteFailure? {
        decision.reset()
        decision.rule = decision.ranking.rule
        if let failure = decision.ranking.failure { return failure }
        if query.probes {
            for i in 0..<decision.ranking.halfOpen.count {
                let gateway = decision.ranking.halfOpen[i]
                let slot = snapshot.table.breakerIndex(gateway: gateway, method: query.method)
                let generation = snapshot.breakerGenerations[slot]
                guard snapshot.tickets.claim(slot, generation: generation) else { continue }
                decision.probe = (slot, generation)
                decision.lead(with: gateway, .probe)
                return nil
            }
        }
        guard !decision.ranking.template.isEmpty else { return .allUnhealthy }
        if decision.ranking.rule >= 0 {
            let rule = snapshot.table.rules.rules[decision.ranking.rule]
            let percents = rule.percents
            if !percents.isEmpty {
                let arm = RoutingRule.splitArm(hash: query.paymentHash, percents: percents)
                let gateway = rule.order[arm]
                // A split's arm goes first only while its breaker lets it.
                if decision.ranking.candidates[gateway].tier == .healthy {
                    decision.firstProbability = Double(percents[arm]) / 100
                    decision.lead(with: gateway, .split)
                    return nil
                }
            }
        }
        guard !decision.ranking.pinned, !decision.ranking.alternatives.isEmpty else {
            decision.lead(with: nil, .bestScore)
            return nil
        }
        var draw = random.nextUnit()
        let best = decision.ranking.bestProbability
        if draw < best {
            decision.firstProbability = best
            decision.lead(with: nil, .bestScore)
            return nil
        }
        draw -= best
        let count = decision.ranking.alternatives.count
        var chosen = count - 1
        for i in 0..<count {
            if draw < decision.ranking.alternativeProbabilities[i] {
                chosen = i
                break
            }
            draw -= decision.ranking.alternativeProbabilities[i]
        }
        decision.firstProbability = decision.ranking.alternativeProbabilities[chosen]
        decision.lead(with: decision.ranking.alternatives[chosen], .exploration)
        return nil
    }

    /// Finds the best healthy gateway and the probability of each other
    /// healthy gateway being chosen first instead; returns the best.
    private static func prepareExploration(
        _ ranking: inout RouteRanking, settings: RoutingTable.DecisionSettings, within tier: UInt64 = .max
    ) -> Int? {
        // `order` is by score, so the first healthy gateway is the best.
        var best = -1
        var matching = 0.0
        for i in 0..<ranking.order.count {
            let gateway = ranking.order[i]
            guard ranking.candidates[gateway].tier == .healthy, tier & (1 << UInt64(gateway)) != 0 else { continue }
            if best < 0 {
                best = gateway
                continue
            }
            let chance = chanceBetter(ranking.candidates[gateway], than: ranking.candidates[best])
            ranking.candidates[gateway].chance = chance
            matching += chance
            ranking.alternatives.append(gateway)
        }
        guard best >= 0 else { return nil }
        let others = ranking.alternatives.count
        guard others > 0 else { return best }
        let floor = settings.explorationFloor
        let exploring = min(max(matching, floor), settings.explorationCeiling)
        ranking.bestProbability = 1 - exploring
        for i in 0..<others {
            // The floor is spread evenly, the rest by each gateway's chance of being better.
            let chance = ranking.candidates[ranking.alternatives[i]].chance
            let extra = matching > 0 ? (exploring - floor) * chance / matching : (exploring - floor) / Double(others)
            ranking.alternativeProbabilities.append(floor / Double(others) + extra)
        }
        return best
    }

    /// P(score_a > score_b) under a normal approximation of both posteriors.
    static func chanceBetter(_ a: RouteRanking.Candidate, than b: RouteRanking.Candidate) -> Double {
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
    /// The answer: `first` (when given) with `reason`, then the ranking's
    /// template without it; with no `first`, the template as it is.
    mutating func lead(with first: Int?, _ reason: RouteReason) {
        let count = ranking.template.count
        if let first {
            for i in 0..<count where ranking.template[i].gateway == first {
                var entry = ranking.template[i]
                entry.reason = reason
                entries.append(entry)
            }
        }
        for i in 0..<count where ranking.template[i].gateway != first { entries.append(ranking.template[i]) }
    }
}
