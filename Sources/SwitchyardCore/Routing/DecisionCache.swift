/// Rankings an event loop has computed on its current snapshot, reused for
/// the next payments of the same merchant, segment and eligibility: within
/// one snapshot (10 ms by default) a busy merchant's decisions then cost a
/// table lookup and a random draw instead of scoring every gateway again.
/// The answer is exactly what ``Router/decide(_:snapshot:into:random:)``
/// would give; probes and the exploration draw stay per decision.
///
/// Direct-mapped and fixed in size: a miss overwrites its slot in place,
/// so the cache never allocates after creation. Owned by one loop.
public struct DecisionCache: Sendable {
    private var slots: [Slot]

    private struct Slot: Sendable {
        /// The snapshot it was ranked on: its identity and its version (an
        /// address can be reused once a snapshot is freed; the pair cannot).
        var snapshot: ObjectIdentifier?
        var version: UInt32 = 0
        var merchant = -1
        var method = -1
        var currency = -1
        var segment: UInt32 = 0
        var tried: UInt64 = 0
        /// The gateways whose amount range takes the payment: the only way the amount matters.
        var taking: UInt64 = 0
        /// The routing rule matched (-1: none): rules read fields the key does not hold.
        var rule = -1
        var ranking = RouteRanking()
    }

    public private(set) var hits: UInt64 = 0
    public private(set) var misses: UInt64 = 0

    /// `size` is rounded up to a power of two.
    public init(size: Int = 64) {
        var count = 1
        while count < size { count *= 2 }
        slots = (0..<count).map { _ in Slot() }
    }

    public mutating func decide(
        _ query: RouteQuery, snapshot: RoutingSnapshot, into decision: inout RouteDecision,
        random: inout SplitMix64
    ) -> RouteFailure? {
        guard let currency = query.currency else {
            return Router.decide(query, snapshot: snapshot, into: &decision, random: &random)
        }
        let taking = snapshot.table.gatewaysTaking(method: query.method, currency: currency, amount: query.amount)
        let rule = snapshot.table.rules.match(query)
        let fields = UInt64(truncatingIfNeeded: query.merchant) << 32 | UInt64(query.segment.key)
        let key = Hashing.finalize(
            (fields ^ query.tried &* 0x9E37_79B9_7F4A_7C15) ^ (taking &* 0xC2B2_AE3D_27D4_EB4F)
                ^ UInt64(bitPattern: Int64(rule ?? -1)))
        let index = Int(truncatingIfNeeded: key) & (slots.count - 1)
        let identity = ObjectIdentifier(snapshot)
        // Field by field: a copy of the slot would share its ranking's storage
        // and make the update below copy it.
        if slots[index].snapshot == identity, slots[index].version == snapshot.version,
            slots[index].merchant == query.merchant, slots[index].method == query.method,
            slots[index].currency == currency, slots[index].segment == query.segment.key,
            slots[index].tried == query.tried, slots[index].taking == taking, slots[index].rule == (rule ?? -1)
        {
            hits &+= 1
        } else {
            misses &+= 1
            slots[index].snapshot = identity
            slots[index].version = snapshot.version
            slots[index].merchant = query.merchant
            slots[index].method = query.method
            slots[index].currency = currency
            slots[index].segment = query.segment.key
            slots[index].tried = query.tried
            slots[index].taking = taking
            slots[index].rule = rule ?? -1
            Router.rank(query, rule: rule, snapshot: snapshot, into: &slots[index].ranking)
        }
        // Lent to the decision, not copied: a copy would retain every array of the ranking.
        swap(&slots[index].ranking, &decision.ranking)
        defer { swap(&slots[index].ranking, &decision.ranking) }
        return Router.pick(&decision, query: query, snapshot: snapshot, random: &random)
    }
}
