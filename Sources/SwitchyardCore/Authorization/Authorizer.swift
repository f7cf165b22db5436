/// Why AUTHORIZE allowed or refused a request (the wire's `reason`).
public enum AuthorizationReason: UInt16, Sendable, CaseIterable {
    case allowed = 0
    case unknownMerchant = 1
    case badKey = 2
    case expiredKey = 3
    case merchantSuspended = 4
    case merchantDisabled = 5
    case addressNotAllowed = 6
    case rateLimited = 7
    /// Too many failed authentications from this merchant or address: even a
    /// correct key is refused until the budget refills.
    case authAttemptsLimited = 8
}

/// One authorization request, as views of the request's bytes.
public struct AuthorizationQuery {
    public var merchantID: UnsafeRawBufferPointer
    public var key: UnsafeRawBufferPointer
    /// 0 bytes (none), 4 (IPv4) or 16 (IPv6), network order.
    public var address: UnsafeRawBufferPointer
    public var cost: Int
    /// The monotonic clock, for limits.
    public var now: UInt64
    /// Unix seconds, for key expiry.
    public var wallSeconds: Int64

    public init(
        merchantID: UnsafeRawBufferPointer, key: UnsafeRawBufferPointer, address: UnsafeRawBufferPointer, cost: Int,
        now: UInt64, wallSeconds: Int64
    ) {
        self.merchantID = merchantID
        self.key = key
        self.address = address
        self.cost = cost
        self.now = now
        self.wallSeconds = wallSeconds
    }
}

public struct AuthorizationVerdict: Equatable, Sendable {
    public var reason: AuthorizationReason
    /// The deciding limit's requests per period (0: no limit applied).
    public var limit = 0
    public var remaining = 0
    public var retryAfter: UInt64 = 0
    public var resetAfter: UInt64 = 0

    public var allowed: Bool { reason == .allowed }
}

/// The merchants' credentials, standing and limits, compiled, with the
/// limiter state every loop shares (atomics: no lock). Immutable apart from
/// those atomics; a reload builds a new table that carries the limiter state
/// of merchants and limits that still exist.
///
/// Every merchant's keys, expiries, limits and allowlist blocks sit in flat
/// arrays, and an ``Entry`` holds only positions in them: reading a plain
/// struct out of an array costs no reference counting, where an entry
/// holding arrays of its own would retain and release each on every request.
public final class AuthorizationTable: Sendable {
    public let merchants: NameTable
    let entries: [Entry]
    /// Every merchant's key digests, then the decoy's (``decoy``).
    let keys: [KeyDigest]
    /// The Unix second each key stops working (`Int64.max`: never).
    let expiries: [Int64]
    /// Limit `i` is guarded by slot `i` of `limiter`.
    let limits: [RateLimit]
    let allowlists: [CIDR]
    let limiter: RateLimiterTable
    let merchantFailures: RateLimiterTable
    let addressFailures: RateLimiterTable
    let settings: AuthorizationConfiguration
    let hasher: KeyHasher?
    /// The keys compared against when the merchant is unknown, as many as
    /// the merchant with the most keys has, so that an unknown merchant and
    /// a bad key cost the same time.
    let decoy: Range<Int>

    struct Entry: Sendable {
        let status: MerchantConfiguration.Status
        let keys: Range<Int>
        let limits: Range<Int>
        let allowlist: Range<Int>
        /// The largest cost every limit can ever admit.
        let maxCost: Int
    }

    /// `hasher` is nil when no secret is configured: then no key matches.
    public init(_ configuration: Configuration, hasher: KeyHasher?, carryingOver old: AuthorizationTable? = nil) {
        merchants = NameTable(configuration.merchants.map(\.id))
        var entries: [Entry] = []
        var keys: [KeyDigest] = []
        var expiries: [Int64] = []
        var limits: [RateLimit] = []
        var allowlists: [CIDR] = []
        for merchant in configuration.merchants {
            entries.append(
                Entry(
                    status: merchant.status, keys: keys.count..<keys.count + merchant.keys.count,
                    limits: limits.count..<limits.count + merchant.limits.count,
                    allowlist: allowlists.count..<allowlists.count + merchant.clientAllowlist.count,
                    maxCost: merchant.limits.map { $0.burst + 1 }.min() ?? Int(UInt32.max)))
            keys += merchant.keys.map(\.digest)
            expiries += merchant.keys.map { $0.expiresAt ?? .max }
            limits += merchant.limits
            allowlists += merchant.clientAllowlist
        }
        let widest = max(configuration.merchants.map(\.keys.count).max() ?? 1, 1)
        decoy = keys.count..<keys.count + widest
        keys += repeatElement(hasher?.digest(of: "switchyard-decoy") ?? KeyDigest(zero: ()), count: widest)
        expiries += repeatElement(Int64.max, count: widest)
        self.entries = entries
        self.keys = keys
        self.expiries = expiries
        self.limits = limits
        self.allowlists = allowlists
        settings = configuration.authorization
        limiter = RateLimiterTable(limits: limits.count)
        merchantFailures = RateLimiterTable(limits: entries.count + 1)
        addressFailures = RateLimiterTable(limits: settings.addressSlots)
        self.hasher = hasher
        if let old { carry(from: old, configuration: configuration) }
    }

    /// Keeps limiter and failure state for merchants (by id) and limits (by
    /// position, when the limit is unchanged) that still exist.
    private func carry(from old: AuthorizationTable, configuration: Configuration) {
        for (index, merchant) in configuration.merchants.enumerated() {
            guard let before = old.merchants.index(of: merchant.id) else { continue }
            merchantFailures.setTAT(index, old.merchantFailures.tat(before))
            let now = entries[index].limits
            let then = old.entries[before].limits
            for position in 0..<min(now.count, then.count)
            where limits[now.lowerBound + position] == old.limits[then.lowerBound + position] {
                limiter.setTAT(now.lowerBound + position, old.limiter.tat(then.lowerBound + position))
            }
        }
        if old.settings.addressSlots == settings.addressSlots {
            for slot in 0..<settings.addressSlots { addressFailures.setTAT(slot, old.addressFailures.tat(slot)) }
        }
    }

    /// The largest cost a merchant's limits can ever admit: a request asking
    /// for more is bad input, not a denial.
    public func maxCost(merchant: Int) -> Int { entries[merchant].maxCost }

    public func authorize(_ query: AuthorizationQuery) -> AuthorizationVerdict {
        authorize(query, merchant: merchants.index(of: query.merchantID))
    }

    /// The same, for a caller that has already looked the merchant up in
    /// this table (nil: unknown).
    public func authorize(_ query: AuthorizationQuery, merchant: Int?) -> AuthorizationVerdict {
        let addressSlot = query.address.count == 0 ? nil : addressSlot(query.address)
        // Hash and compare before anything can return, the same way for an
        // unknown merchant: the time does not tell which it was.
        let candidates = merchant.map { entries[$0].keys } ?? decoy
        var matched = -1
        if let digest = hasher?.digest(of: query.key) {
            for i in candidates where keys[i].matches(digest) && matched < 0 { matched = i }
        }
        if merchant == nil { matched = -1 }

        // Brute-force protection first: once limited, even a correct key is
        // refused. An unknown merchant's failures go to a slot of their own
        // (past the merchants'), so that it costs the same atomic work as a
        // bad key; that slot never refuses anything.
        let failureSlot = merchant ?? entries.count
        let merchantLimited = attemptsLimited(
            merchantFailures, failureSlot, settings.failuresPerMerchant, query.now)
        if let addressSlot,
            let limited = attemptsLimited(addressFailures, addressSlot, settings.failuresPerAddress, query.now)
        {
            return limited
        }
        if merchant != nil, let merchantLimited { return merchantLimited }
        guard let merchant, matched >= 0 else {
            if let addressSlot {
                _ = addressFailures.spend(addressSlot, limit: settings.failuresPerAddress, now: query.now, cost: 1)
            }
            _ = merchantFailures.spend(failureSlot, limit: settings.failuresPerMerchant, now: query.now, cost: 1)
            return AuthorizationVerdict(reason: merchant == nil ? .unknownMerchant : .badKey)
        }
        let entry = entries[merchant]
        guard query.wallSeconds < expiries[matched] else {
            return AuthorizationVerdict(reason: .expiredKey)
        }
        switch entry.status {
        case .active: break
        case .suspended: return AuthorizationVerdict(reason: .merchantSuspended)
        case .disabled: return AuthorizationVerdict(reason: .merchantDisabled)
        }
        if !entry.allowlist.isEmpty {
            var inside = false
            for i in entry.allowlist where allowlists[i].contains(query.address) { inside = true }
            guard inside else { return AuthorizationVerdict(reason: .addressNotAllowed) }
        }
        let (position, verdict) = limiter.spendAll(
            from: entry.limits.lowerBound, count: entry.limits.count, limits: limits, now: query.now,
            cost: query.cost)
        guard position >= 0 else { return AuthorizationVerdict(reason: .allowed) }
        return AuthorizationVerdict(
            reason: verdict.allowed ? .allowed : .rateLimited, limit: limits[entry.limits.lowerBound + position].rate,
            remaining: verdict.remaining, retryAfter: verdict.retryAfter, resetAfter: verdict.resetAfter)
    }

    /// The refusal when a failure budget has nothing left; nil while it has.
    private func attemptsLimited(_ budgets: RateLimiterTable, _ slot: Int, _ limit: RateLimit, _ now: UInt64)
        -> AuthorizationVerdict?
    {
        let verdict = GCRA.check(limit, tat: budgets.tat(slot), now: now, cost: 1)
        guard !verdict.allowed else { return nil }
        return AuthorizationVerdict(
            reason: .authAttemptsLimited, limit: limit.rate, remaining: 0, retryAfter: verdict.retryAfter,
            resetAfter: verdict.resetAfter)
    }

    /// Spreads addresses over the slots by a multiply (Lemire's reduction),
    /// not a modulo: a 64-bit division would be one of the dearest steps here.
    private func addressSlot(_ address: UnsafeRawBufferPointer) -> Int {
        let hash = Hashing.bytes(address)
        return Int(truncatingIfNeeded: hash.multipliedFullWidth(by: UInt64(settings.addressSlots)).high)
    }
}

extension KeyDigest {
    init(zero: Void) { words = (0, 0, 0, 0) }
}
