/// What a rule in shadow would have done to one payment, next to what the
/// decision did.
public enum ShadowVerdict: Sendable {
    /// The same gateway first.
    case agrees
    /// Another gateway first.
    case differs
    /// No gateway at all (the rule's gateways are excluded, tried or open).
    case refuses
}

extension Router {
    /// Evaluates the rules in shadow that `query` matches and that are
    /// tried before the rule the decision followed (`followed`; nil: none),
    /// each as if it alone were turned on: on the same snapshot and with the
    /// same random draw as the decision (`luck`, the random source before
    /// it), so that a rule that changes nothing agrees, exploration and all.
    /// A shadow decision spends no probe. `first` is the decision's first
    /// gateway (nil: it refused the payment). `scratch` is working space.
    public static func shadow(
        _ query: RouteQuery, followed: Int?, first: Int?, snapshot: RoutingSnapshot, luck: SplitMix64,
        scratch: inout RouteDecision, _ verdict: (_ rule: Int, _ verdict: ShadowVerdict) -> Void
    ) {
        var watched = query
        watched.probes = false
        snapshot.table.rules.forEachShadow(query, before: followed) { rule in
            var random = luck
            rank(watched, rule: rule, snapshot: snapshot, into: &scratch.ranking)
            if pick(&scratch, query: watched, snapshot: snapshot, random: &random) != nil {
                verdict(rule, .refuses)
            } else {
                verdict(rule, scratch.entries[0].gateway == first ? .agrees : .differs)
            }
        }
    }
}
