/// Why a gateway was left out of a failover list, for explaining a decision.
public enum RouteExclusion: String, Sendable, CaseIterable {
    case disabled = "disabled or drained"
    case method = "does not take the method"
    case currency = "does not take the currency"
    case amount = "amount outside its min_amount..max_amount"
    case merchantRules = "the merchant's allow or deny list"
    case zeroWeight = "weight 0"
    case tried = "already tried for this payment"
    case breaker = "breaker forced open (or open under on_all_unhealthy: fail_closed)"
}

extension RoutingTable {
    /// The gateways a decision for these inputs left out, each with the
    /// first reason that applies, in the order ``Router`` applies them.
    /// `listed` are the gateways the decision listed; a gateway that passes
    /// every rule and is not listed was left out for its breaker (the only
    /// other reason the router drops one). Valid for the table the decision
    /// was made on.
    public func exclusions(
        merchant: Int, method: Int, currency: Int?, amount: UInt64, tried: UInt64, listed: UInt64
    ) -> [(gateway: Int, reason: RouteExclusion)] {
        let rules = merchantRules[merchant]
        var result: [(gateway: Int, reason: RouteExclusion)] = []
        for gateway in 0..<gatewayCount where listed & 1 << UInt64(gateway) == 0 {
            let bit: UInt64 = 1 << UInt64(gateway)
            let reason: RouteExclusion
            if enabledMask & bit == 0 {
                reason = .disabled
            } else if methodGateways[method] & bit == 0 {
                reason = .method
            } else if currency.map({ currencyMasks[$0] & bit == 0 }) ?? true {
                reason = .currency
            } else if amount < minAmounts[gateway] || amount > maxAmounts[gateway] {
                reason = .amount
            } else if rules.gatewayMask & bit == 0 {
                reason = .merchantRules
            } else if rules.weights[gateway] <= 0 {
                reason = .zeroWeight
            } else if tried & bit != 0 {
                reason = .tried
            } else {
                reason = .breaker
            }
            result.append((gateway, reason))
        }
        return result
    }
}
