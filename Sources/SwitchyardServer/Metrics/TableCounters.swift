public import SwitchyardCore

/// Counters whose labels come from the configuration: decisions by first
/// gateway and method, authorizations by merchant tier and reason, and what
/// each routing rule decided (or, in shadow, would have). They belong to
/// one table generation (a reload can add, remove or reorder gateways,
/// tiers and rules), so each generation gets its own, labelled by name; at
/// a reload the merger folds the old totals into name-keyed totals. Each
/// loop writes its own stripe (a load and a store, no lock, no allocation).
public final class TableCounters: @unchecked Sendable {
    // Unchecked: `tiers` is written in init only.
    /// Label values per slot: (gateway, method) for decisions, then (tier,
    /// reason) for authorizations, then (rule, scope) for rules.
    let decisionLabels: [[String]]
    let authorizationLabels: [[String]]
    let ruleLabels: [[String]]
    /// Per merchant (in table order): its tier's slot; unknown merchants use
    /// `unknownTier`. Raw memory: an array read on the request path would be
    /// checked and retained.
    private let tiers: UnsafeMutablePointer<Int32>
    let unknownTier: Int
    let methodCount: Int
    /// `AuthorizationReason.allCases.count`, kept here: `allCases` builds an array at each use.
    private let reasonCount = AuthorizationReason.allCases.count
    private let rulesStart: Int
    private let stride: Int
    private let slots: AtomicSlots

    /// What a rule's slots count, in order.
    public enum RuleCount: Int, CaseIterable, Sendable {
        /// Decisions that followed the rule (acting rules).
        case decisions
        /// Payments the rule in shadow matched first, and how its decision compared.
        /// Of those: another gateway first (or an answer where the decision
        /// refused), and no gateway at all.
        case shadowMatches, shadowDiffers, shadowRefusals
    }

    public init(configuration: Configuration, table: RoutingTable, loops: Int) {
        methodCount = table.methodCount
        decisionLabels = table.gateways.flatMap { gateway in table.methods.names.map { [gateway.id, $0] } }
        var names: [String] = []
        let tierOfMerchant = configuration.merchants.map { merchant in
            if let known = names.firstIndex(of: merchant.tier) { return Int32(known) }
            names.append(merchant.tier)
            return Int32(names.count - 1)
        }
        tiers = .allocate(capacity: max(1, tierOfMerchant.count))
        tiers.initialize(from: tierOfMerchant, count: tierOfMerchant.count)
        unknownTier = names.count
        names.append("unknown_merchant")
        authorizationLabels = names.flatMap { tier in
            AuthorizationReason.allCases.map { [tier, $0.name] }
        }
        let rules = table.rules
        ruleLabels = (0..<rules.count).map { rule in
            [rules.name(of: rule), TableCounters.scope(of: rule, in: table)]
        }
        rulesStart = decisionLabels.count + authorizationLabels.count
        stride = rulesStart + ruleLabels.count * RuleCount.allCases.count
        slots = AtomicSlots(count: max(1, loops) * stride)
    }

    deinit { tiers.deallocate() }

    /// `global`, or `merchant:` and the merchant's id for its own rules.
    static func scope(of rule: Int, in table: RoutingTable) -> String {
        table.rules.merchant(of: rule).map { "merchant:\(table.merchants.names[$0])" } ?? "global"
    }

    @inline(__always)
    public func countDecision(loop: Int, gateway: Int, method: Int) {
        slots.add(loop * stride + gateway * methodCount + method)
    }

    @inline(__always)
    public func countAuthorization(loop: Int, merchant: Int?, reason: AuthorizationReason) {
        let tier = merchant.map { Int(tiers[$0]) } ?? unknownTier
        slots.add(
            loop * stride + decisionLabels.count + tier * reasonCount + Int(reason.rawValue))
    }

    @inline(__always)
    public func countRule(loop: Int, rule: Int, _ count: RuleCount) {
        slots.add(loop * stride + rulesStart + rule * RuleCount.allCases.count + count.rawValue)
    }

    /// Totals across loops, by label values.
    func totals() -> LabelledTotals {
        let loops = slots.count / max(stride, 1)
        func total(_ slot: Int) -> UInt64 { (0..<loops).reduce(0) { $0 &+ slots.value($1 * stride + slot) } }
        var totals = LabelledTotals()
        for (slot, labels) in decisionLabels.enumerated() { totals.decisions[labels, default: 0] &+= total(slot) }
        for (slot, labels) in authorizationLabels.enumerated() {
            totals.authorizations[labels, default: 0] &+= total(decisionLabels.count + slot)
        }
        for (rule, labels) in ruleLabels.enumerated() {
            for count in RuleCount.allCases {
                totals.rules[labels + [count.name], default: 0] &+=
                    total(rulesStart + rule * RuleCount.allCases.count + count.rawValue)
            }
        }
        return totals
    }
}

extension TableCounters.RuleCount {
    /// The metric's name after `switchyard_rule_`.
    var name: String {
        switch self {
        case .decisions: "decisions"
        case .shadowMatches: "shadow_matches"
        case .shadowDiffers: "shadow_differs"
        case .shadowRefusals: "shadow_refusals"
        }
    }
}

/// Counter totals by label values: decisions by (gateway, method),
/// authorizations by (tier, reason), rules by (rule, scope, count name).
struct LabelledTotals {
    var decisions: [[String]: UInt64] = [:]
    var authorizations: [[String]: UInt64] = [:]
    var rules: [[String]: UInt64] = [:]

    mutating func add(_ other: LabelledTotals) {
        decisions.merge(other.decisions, uniquingKeysWith: &+)
        authorizations.merge(other.authorizations, uniquingKeysWith: &+)
        rules.merge(other.rules, uniquingKeysWith: &+)
    }
}
