public import SwitchyardCore

/// Counters whose labels come from the configuration: decisions by first
/// gateway and method, authorizations by merchant tier and reason. They
/// belong to one table generation (a reload can add, remove or reorder
/// gateways and tiers), so each generation gets its own, labelled by name;
/// at a reload the merger folds the old totals into name-keyed totals. Each
/// loop writes its own stripe (a load and a store, no lock, no allocation).
public final class TableCounters: @unchecked Sendable {
    // Unchecked: `tiers` is written in init only.
    /// Label values per slot: (gateway, method) for decisions, then (tier, reason) for authorizations.
    let decisionLabels: [[String]]
    let authorizationLabels: [[String]]
    /// Per merchant (in table order): its tier's slot; unknown merchants use
    /// `unknownTier`. Raw memory: an array read on the request path would be
    /// checked and retained.
    private let tiers: UnsafeMutablePointer<Int32>
    let unknownTier: Int
    let methodCount: Int
    /// `AuthorizationReason.allCases.count`, kept here: `allCases` builds an array at each use.
    private let reasonCount = AuthorizationReason.allCases.count
    private let stride: Int
    private let slots: AtomicSlots

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
        stride = decisionLabels.count + authorizationLabels.count
        slots = AtomicSlots(count: max(1, loops) * stride)
    }

    deinit { tiers.deallocate() }

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

    /// Totals across loops, by label values: decisions and authorizations.
    func totals() -> (decisions: [[String]: UInt64], authorizations: [[String]: UInt64]) {
        let loops = slots.count / max(stride, 1)
        func total(_ slot: Int) -> UInt64 { (0..<loops).reduce(0) { $0 &+ slots.value($1 * stride + slot) } }
        var decisions: [[String]: UInt64] = [:]
        for (slot, labels) in decisionLabels.enumerated() { decisions[labels, default: 0] &+= total(slot) }
        var authorizations: [[String]: UInt64] = [:]
        for (slot, labels) in authorizationLabels.enumerated() {
            authorizations[labels, default: 0] &+= total(decisionLabels.count + slot)
        }
        return (decisions, authorizations)
    }
}
