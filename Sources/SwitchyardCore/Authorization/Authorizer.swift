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
public final class AuthorizationTable: Sendable {
    public let merchants: NameTable
    let entries: [Entry]
    let limiter: RateLimiterTable
    let merchantFailures: RateLimiterTable
    let addressFailures: RateLimiterTable
    let settings: AuthorizationConfiguration
    let hasher: KeyHasher?
    /// Compared against when the merchant is unknown, so that an unknown
    /// merchant and a bad key cost the same time.
    let decoy: [KeyDigest]

    /// A class, not a struct: reading a struct of arrays out of `entries`
    /// would retain and release each array on every request.
    final class Entry: Sendable {
        let status: MerchantConfiguration.Status
        let keys: [KeyDigest]
        let expiries: [Int64]
        let limits: [RateLimit]
        let firstLimit: Int
        let allowlist: [CIDR]
        /// The largest cost every limit can ever admit.
        let maxCost: Int

        init(
            status: MerchantConfiguration.Status, keys: [KeyDigest], expiries: [Int64], limits: [RateLimit],
            firstLimit: Int, allowlist: [CIDR], maxCost: Int
        ) {
            self.status = status
            self.keys = keys
            self.expiries = expiries
            self.limits = limits
            self.firstLimit = firstLimit
            self.allowlist = allowlist
            self.maxCost = maxCost
        }
    }

    /// `hasher` is nil when no secret is configured: then no key matches.
    public init(_ configuration: Configuration, hasher: KeyHasher?, carryingOver old: AuthorizationTable? = nil) {
        merchants = NameTable(configuration.merchants.map(\.id))
        var entries: [Entry] = []
        var next = 0
        for merchant in configuration.merchants {
            entries.append(
                Entry(
                    status: merchant.status, keys: merchant.keys.map(\.digest),
                    expiries: merchant.keys.map { $0.expiresAt ?? .max }, limits: merchant.limits, firstLimit: next,
                    allowlist: merchant.clientAllowlist,
                    maxCost: merchant.limits.map { $0.burst + 1 }.min() ?? Int(UInt32.max)))
            next += merchant.limits.count
        }
        self.entries = entries
        settings = configuration.authorization
        limiter = RateLimiterTable(limits: next)
        merchantFailures = RateLimiterTable(limits: entries.count)
        addressFailures = RateLimiterTable(limits: settings.addressSlots)
        self.hasher = hasher
        let widest = entries.map(\.keys.count).max() ?? 1
        decoy = Array(repeating: hasher?.digest(of: "switchyard-decoy") ?? KeyDigest(zero: ()), count: max(widest, 1))
        if let old { carry(from: old, configuration: configuration) }
    }

    /// Keeps limiter and failure state for merchants (by id) and limits (by
    /// position, when the limit is unchanged) that still exist.
    private func carry(from old: AuthorizationTable, configuration: Configuration) {
        for (index, merchant) in configuration.merchants.enumerated() {
            guard let before = old.merchants.index(of: merchant.id) else { continue }
            merchantFailures.setTAT(index, old.merchantFailures.tat(before))
            let then = old.entries[before]
            for (position, limit) in entries[index].limits.enumerated()
            where position < then.limits.count && then.limits[position] == limit {
                limiter.setTAT(entries[index].firstLimit + position, old.limiter.tat(then.firstLimit + position))
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
        let digest = hasher?.digest(of: query.key)
        var matched = -1
        let candidates = merchant.map { entries[$0].keys } ?? decoy
        for i in 0..<candidates.count where digest.map({ candidates[i].matches($0) }) == true && matched < 0 {
            matched = i
        }
        if merchant == nil { matched = -1 }

        // Brute-force protection first: once limited, even a correct key is refused.
        if let addressSlot,
            let limited = attemptsLimited(addressFailures, addressSlot, settings.failuresPerAddress, query.now)
        {
            return limited
        }
        if let merchant,
            let limited = attemptsLimited(merchantFailures, merchant, settings.failuresPerMerchant, query.now)
        {
            return limited
        }
        guard let merchant, matched >= 0 else {
            if let addressSlot {
                _ = addressFailures.spend(addressSlot, limit: settings.failuresPerAddress, now: query.now, cost: 1)
            }
            if let merchant {
                _ = merchantFailures.spend(merchant, limit: settings.failuresPerMerchant, now: query.now, cost: 1)
            }
            return AuthorizationVerdict(reason: merchant == nil ? .unknownMerchant : .badKey)
        }
        let entry = entries[merchant]
        guard query.wallSeconds < entry.expiries[matched] else {
            return AuthorizationVerdict(reason: .expiredKey)
        }
        switch entry.status {
        case .active: break
        case .suspended: return AuthorizationVerdict(reason: .merchantSuspended)
        case .disabled: return AuthorizationVerdict(reason: .merchantDisabled)
        }
        if !entry.allowlist.isEmpty {
            var inside = false
            for i in 0..<entry.allowlist.count where entry.allowlist[i].contains(query.address) { inside = true }
            guard inside else { return AuthorizationVerdict(reason: .addressNotAllowed) }
        }
        let (index, verdict) = limiter.spendAll(
            from: entry.firstLimit, limits: entry.limits, now: query.now, cost: query.cost)
        guard index >= 0 else { return AuthorizationVerdict(reason: .allowed) }
        return AuthorizationVerdict(
            reason: verdict.allowed ? .allowed : .rateLimited, limit: entry.limits[index].rate,
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

    private func addressSlot(_ address: UnsafeRawBufferPointer) -> Int {
        Int(truncatingIfNeeded: Hashing.fnv1a(address) % UInt64(settings.addressSlots))
    }
}

extension KeyDigest {
    init(zero: Void) { words = (0, 0, 0, 0) }
}
