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
    /// The key is good, but its scopes do not include the request's operation
    /// (or the request names none).
    case scopeDenied = 9
    /// Bearer tokens (``TokenVerifier/Failure``, in the same order).
    case tokenMalformed = 10
    case tokenAlgorithmRejected = 11
    case tokenKeyUnknown = 12
    case tokenSignatureInvalid = 13
    case tokenExpired = 14
    case tokenNotYetValid = 15
    case tokenClaimsRejected = 16

    init(_ failure: TokenVerifier.Failure) {
        switch failure {
        case .malformed: self = .tokenMalformed
        case .algorithmRejected: self = .tokenAlgorithmRejected
        case .keyUnknown: self = .tokenKeyUnknown
        case .signatureInvalid: self = .tokenSignatureInvalid
        case .expired: self = .tokenExpired
        case .notYetValid: self = .tokenNotYetValid
        case .claimsRejected: self = .tokenClaimsRejected
        }
    }

    /// The reason in snake case, as metrics label it.
    public var name: String { snakeCase.description }

    /// The same, for writers that must not allocate (the audit log).
    public var snakeCase: StaticString {
        switch self {
        case .allowed: "allowed"
        case .unknownMerchant: "unknown_merchant"
        case .badKey: "bad_key"
        case .expiredKey: "expired_key"
        case .merchantSuspended: "merchant_suspended"
        case .merchantDisabled: "merchant_disabled"
        case .addressNotAllowed: "address_not_allowed"
        case .rateLimited: "rate_limited"
        case .authAttemptsLimited: "auth_attempts_limited"
        case .scopeDenied: "scope_denied"
        case .tokenMalformed: "token_malformed"
        case .tokenAlgorithmRejected: "token_algorithm_rejected"
        case .tokenKeyUnknown: "token_key_unknown"
        case .tokenSignatureInvalid: "token_signature_invalid"
        case .tokenExpired: "token_expired"
        case .tokenNotYetValid: "token_not_yet_valid"
        case .tokenClaimsRejected: "token_claims_rejected"
        }
    }
}

/// One authorization request, as views of the request's bytes.
public struct AuthorizationQuery {
    public var merchantID: UnsafeRawBufferPointer
    /// An API key, or a bearer token when `isToken`.
    public var key: UnsafeRawBufferPointer
    public var isToken = false
    /// 0 bytes (none), 4 (IPv4) or 16 (IPv6), network order.
    public var address: UnsafeRawBufferPointer
    public var cost: Int
    /// The monotonic clock, for limits.
    public var now: UInt64
    /// Unix seconds, for key expiry.
    public var wallSeconds: Int64
    /// The operation the request is for, checked against the key's scopes (empty: none named).
    public var operation: UnsafeRawBufferPointer
    /// The calling loop's verified tokens (nil: every token is verified).
    /// Unowned: the loop holds it for longer than any query, and a strong
    /// reference would be retained and released with every copy of the query.
    public unowned(unsafe) var tokenCache: TokenCache?

    public init(
        merchantID: UnsafeRawBufferPointer, key: UnsafeRawBufferPointer, isToken: Bool = false,
        address: UnsafeRawBufferPointer, cost: Int, now: UInt64, wallSeconds: Int64,
        operation: UnsafeRawBufferPointer = UnsafeRawBufferPointer(start: nil, count: 0), tokenCache: TokenCache? = nil
    ) {
        self.merchantID = merchantID
        self.key = key
        self.isToken = isToken
        self.address = address
        self.cost = cost
        self.now = now
        self.wallSeconds = wallSeconds
        self.operation = operation
        self.tokenCache = tokenCache
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
/// The arrays are sized for a million merchants: an entry is 24 bytes, a
/// limit 4 (an index into the few distinct limits merchants have), and the
/// fleet's sharing of limits is kept only when a fleet shares them.
public final class AuthorizationTable: Sendable {
    public let merchants: NameTable
    let entries: [Entry]
    /// Every merchant's key digests, then the decoy's (``decoy``).
    let keys: [KeyDigest]
    /// The Unix second each key stops working (`Int64.max`: never).
    let expiries: [Int64]
    /// Each key's scopes as a mask over `scopeNames` (`UInt64.max`: any operation).
    let scopeMasks: [UInt64]
    /// Every scope some key names.
    let scopeNames: NameTable
    /// Bearer tokens' checks and the merchants' secrets; nil: tokens are not accepted.
    public let tokens: TokenVerifier?
    /// Limit `i` is `shapes[shapeOf[i]]`, guarded by slot `i` of `limiter`.
    let shapeOf: [UInt32]
    /// The distinct limits, each once.
    let shapes: [RateLimit]
    /// Limit `i`'s fleet sharing, when the fleet shares it (Redis configured,
    /// scope `fleet`); its tokens are then in slot `i` of `leases`, and slot
    /// `i` of `limiter` serves its `local_fallback`. Empty without Redis.
    let sharing: [FleetLimit?]
    /// The tokens leased for fleet-scoped limits; nil without Redis.
    public let leases: LeasePools?
    /// The fleet-scoped limits, for the sync thread that leases their tokens.
    public let leased: [LeasedLimit]
    /// Whether limit `i` is fleet-scoped: read per request instead of the
    /// whole ``FleetLimit``, which only a refusal needs. Empty without Redis.
    let isLeased: [Bool]
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

    /// A fleet-scoped limit as the sync thread sees it.
    public struct LeasedLimit: Sendable {
        /// Its position in ``leases``.
        public let index: Int
        /// Names its GCRA time in Redis: the merchant, the limit's position
        /// and its numbers, so that instances configured differently never
        /// share a budget by accident.
        public let key: String
        public let limit: FleetLimit
    }

    /// One merchant: positions of its keys, limits and allowlist blocks in
    /// the flat arrays (the configuration bounds the counts: 64 keys, 16
    /// limits, 1,024 blocks).
    struct Entry: Sendable {
        let keyStart: UInt32
        let limitStart: UInt32
        let allowlistStart: UInt32
        let allowlistCount: UInt16
        let keyCount: UInt8
        let limitCount: UInt8
        let status: MerchantConfiguration.Status
        /// The largest cost every limit can ever admit (the wire's cost is a u32).
        let maxCost: UInt32

        var keys: Range<Int> { Int(keyStart)..<Int(keyStart) + Int(keyCount) }
        var limits: Range<Int> { Int(limitStart)..<Int(limitStart) + Int(limitCount) }
        var allowlist: Range<Int> { Int(allowlistStart)..<Int(allowlistStart) + Int(allowlistCount) }
    }

    /// `hasher` is nil when no secret is configured: then no key matches.
    /// `doorbell` wakes the thread that leases fleet limits' tokens.
    public init(
        _ configuration: Configuration, hasher: KeyHasher?, carryingOver old: AuthorizationTable? = nil,
        doorbell: (any LeasePools.Doorbell)? = nil
    ) {
        merchants = NameTable(configuration.merchants.map(\.id))
        let redis = configuration.redis
        // A server's kept configuration has no keys or limits: they are taken
        // from the table this one replaces, merchant by merchant (by id). A
        // merchant that table does not know gets none: it authorizes nothing.
        let inherited = configuration.merchantCredentialsInTables ? old : nil
        let before: [Entry?] =
            inherited.map { old in
                configuration.merchants.map { merchant in old.merchants.index(of: merchant.id).map { old.entries[$0] } }
            } ?? []
        let keyCounts =
            inherited == nil ? configuration.merchants.map(\.keys.count) : before.map { $0?.keys.count ?? 0 }
        let widest = max(keyCounts.max() ?? 1, 1)
        let keyCount = keyCounts.reduce(0, +) + widest
        let limitCount =
            inherited == nil
            ? configuration.merchants.reduce(0) { $0 + $1.limits.count }
            : before.reduce(0) { $0 + ($1?.limits.count ?? 0) }
        var entries: [Entry] = []
        var keys: [KeyDigest] = []
        var expiries: [Int64] = []
        var scopeMasks: [UInt64] = []
        let scopeNames =
            inherited?.scopeNames
            ?? NameTable(Set(configuration.merchants.flatMap { $0.keys.flatMap { $0.scopes ?? [] } }).sorted())
        var shapeOf: [UInt32] = []
        var shapes: [RateLimit] = []
        var shapeIndex: [RateLimit: UInt32] = [:]
        var sharing: [FleetLimit?] = []
        var leased: [LeasedLimit] = []
        var allowlists: [CIDR] = []
        // Sized up front: grown by doubling, the arrays of a million
        // merchants would carry a third of their size in spare capacity.
        entries.reserveCapacity(configuration.merchants.count)
        keys.reserveCapacity(keyCount)
        expiries.reserveCapacity(keyCount)
        scopeMasks.reserveCapacity(keyCount)
        shapeOf.reserveCapacity(limitCount)
        if redis.isEnabled { sharing.reserveCapacity(limitCount) }
        func addLimit(_ limit: RateLimit, shared: FleetLimit?, position: Int, merchant: String) {
            if redis.isEnabled {
                if let shared {
                    let numbers = "\(limit.rate)/\(limit.periodNanoseconds / 1_000_000)/\(limit.burst)"
                    leased.append(
                        LeasedLimit(index: shapeOf.count, key: "\(merchant):\(position):\(numbers)", limit: shared))
                }
                sharing.append(shared)
            }
            let shape =
                shapeIndex[limit]
                ?? {
                    shapes.append(limit)
                    shapeIndex[limit] = UInt32(shapes.count - 1)
                    return UInt32(shapes.count - 1)
                }()
            shapeOf.append(shape)
        }
        for (index, merchant) in configuration.merchants.enumerated() {
            let keyStart = keys.count
            let limitStart = shapeOf.count
            var maxCost = Int(UInt32.max)
            if let inherited {
                if let entry = before[index] {
                    keys += inherited.keys[entry.keys]
                    expiries += inherited.expiries[entry.keys]
                    scopeMasks += inherited.scopeMasks[entry.keys]
                    for (position, limit) in entry.limits.enumerated() {
                        addLimit(
                            inherited.limit(limit), shared: inherited.fleetLimit(limit), position: position,
                            merchant: merchant.id)
                    }
                    maxCost = Int(entry.maxCost)
                }
            } else {
                for key in merchant.keys {
                    keys.append(key.digest)
                    expiries.append(key.expiresAt ?? .max)
                    scopeMasks.append(
                        key.scopes.map { scopes in
                            scopes.reduce(0) { mask, scope in
                                scopeNames.index(of: scope).map { mask | 1 << UInt64($0) } ?? mask
                            }
                        } ?? .max)
                }
                for (position, entry) in merchant.limits.enumerated() {
                    let shared =
                        redis.isEnabled
                        ? FleetLimit(entry.limit, sharing: entry.sharing, fleetSize: redis.fleetSize) : nil
                    addLimit(entry.limit, shared: shared, position: position, merchant: merchant.id)
                }
                maxCost = merchant.limits.map { $0.limit.burst + 1 }.min() ?? maxCost
            }
            entries.append(
                Entry(
                    keyStart: UInt32(keyStart), limitStart: UInt32(limitStart),
                    allowlistStart: UInt32(allowlists.count), allowlistCount: UInt16(merchant.clientAllowlist.count),
                    keyCount: UInt8(keys.count - keyStart), limitCount: UInt8(shapeOf.count - limitStart),
                    status: merchant.status, maxCost: UInt32(min(maxCost, Int(UInt32.max)))))
            allowlists += merchant.clientAllowlist
        }
        decoy = keys.count..<keys.count + widest
        keys += repeatElement(hasher?.digest(of: "switchyard-decoy") ?? KeyDigest(zero: ()), count: widest)
        expiries += repeatElement(Int64.max, count: widest)
        scopeMasks += repeatElement(UInt64.max, count: widest)
        self.entries = entries
        self.keys = keys
        self.expiries = expiries
        self.scopeMasks = scopeMasks
        self.scopeNames = scopeNames
        tokens = configuration.authorization.tokens.map { settings in
            TokenVerifier(
                settings: settings,
                secrets: configuration.merchants.map { merchant in
                    (settings.secrets[merchant.id] ?? []).compactMap {
                        try? TokenVerifier.Secret(kid: $0.kid, secret: $0.bytes)
                    }
                })
        }
        self.shapeOf = shapeOf
        self.shapes = shapes
        self.sharing = sharing
        self.leased = leased
        isLeased = sharing.map { $0 != nil }
        leases = redis.isEnabled ? LeasePools(credits: sharing.map { $0?.credit ?? 0 }, doorbell: doorbell) : nil
        self.allowlists = allowlists
        settings = configuration.authorization
        limiter = RateLimiterTable(limits: shapeOf.count)
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
            where limit(now.lowerBound + position) == old.limit(then.lowerBound + position) {
                let (to, from) = (now.lowerBound + position, then.lowerBound + position)
                limiter.setTAT(to, old.limiter.tat(from))
                if let leases, let previous = old.leases, let shared = fleetLimit(to), shared == old.fleetLimit(from) {
                    leases.carry(to, from: previous, from)
                }
            }
        }
        if let leases, let previous = old.leases { leases.setDegraded(since: previous.degradedSince) }
        if old.settings.addressSlots == settings.addressSlots {
            for slot in 0..<settings.addressSlots { addressFailures.setTAT(slot, old.addressFailures.tat(slot)) }
        }
    }

    /// The largest cost a merchant's limits can ever admit: a request asking
    /// for more is bad input, not a denial.
    public func maxCost(merchant: Int) -> Int { Int(entries[merchant].maxCost) }

    /// What the table holds for merchant `id`: how many keys, and each limit
    /// with its fleet sharing (nil: this instance enforces it alone); nil
    /// for a merchant it does not know. For `switchyardctl merchant`, which
    /// cannot read them from the kept configuration.
    public func credentials(of id: String) -> (keys: Int, limits: [(limit: RateLimit, fleet: FleetLimit?)])? {
        guard let index = merchants.index(of: id) else { return nil }
        let entry = entries[index]
        return (entry.keys.count, entry.limits.map { (limit($0), fleetLimit($0)) })
    }

    /// Limit `i`.
    @inline(__always)
    func limit(_ i: Int) -> RateLimit { shapes[Int(shapeOf[i])] }

    /// Limit `i`'s fleet sharing, nil when it is not shared (or no fleet is).
    func fleetLimit(_ i: Int) -> FleetLimit? { sharing.isEmpty ? nil : sharing[i] }

    public func authorize(_ query: AuthorizationQuery) -> AuthorizationVerdict {
        authorize(query, merchant: merchants.index(of: query.merchantID))
    }

    /// The same, for a caller that has already looked the merchant up in
    /// this table (nil: unknown).
    public func authorize(_ query: AuthorizationQuery, merchant: Int?) -> AuthorizationVerdict {
        let addressSlot = query.address.count == 0 ? nil : addressSlot(query.address)
        // The credential is checked before anything can return, the same
        // way for an unknown merchant: the time does not tell which it was.
        let presented = query.isToken ? checkToken(query, merchant) : checkKey(query, merchant)

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
        let scopes: UInt64
        switch presented {
        case .refused(let reason, let failedAuthentication):
            if failedAuthentication {
                if let addressSlot {
                    _ = addressFailures.spend(addressSlot, limit: settings.failuresPerAddress, now: query.now, cost: 1)
                }
                _ = merchantFailures.spend(failureSlot, limit: settings.failuresPerMerchant, now: query.now, cost: 1)
            }
            return AuthorizationVerdict(reason: reason)
        case .accepted(let mask):
            scopes = mask
        }
        guard let merchant else { return AuthorizationVerdict(reason: .unknownMerchant) }
        let entry = entries[merchant]
        if scopes != .max {
            guard query.operation.count > 0, let operation = scopeNames.index(of: query.operation),
                scopes & 1 << UInt64(operation) != 0
            else { return AuthorizationVerdict(reason: .scopeDenied) }
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
        let (position, verdict) = spendLimits(entry.limits, now: query.now, cost: query.cost)
        guard position >= 0 else { return AuthorizationVerdict(reason: .allowed) }
        return AuthorizationVerdict(
            reason: verdict.allowed ? .allowed : .rateLimited, limit: limit(entry.limits.lowerBound + position).rate,
            remaining: verdict.remaining, retryAfter: verdict.retryAfter, resetAfter: verdict.resetAfter)
    }

    /// Spends `cost` on every limit in `range`, all or nothing. Returns the
    /// deciding limit's position in the range and its verdict: the refusing
    /// one, or when all admit, the one with the least remaining (what a
    /// client should be told); position -1 when there are no limits.
    private func spendLimits(_ range: Range<Int>, now: UInt64, cost: Int) -> (position: Int, verdict: GCRA.Verdict) {
        var tightest = (
            position: -1,
            verdict: GCRA.Verdict(allowed: true, tat: 0, slack: .max, interval: 1, retryAfter: 0, resetAfter: 0)
        )
        // Where each admitting limit took its cost from, two bits per limit
        // (a merchant has at most ``MerchantConfiguration/maxLimits``).
        var sources: UInt64 = 0
        for i in range {
            let position = i - range.lowerBound
            let (verdict, source) = spend(i, now: now, cost: cost)
            guard verdict.allowed else {
                for j in range.lowerBound..<i {
                    let taken = Source(rawValue: sources >> UInt64(2 * (j - range.lowerBound)) & 3) ?? .nothing
                    refund(j, taken, cost: cost)
                }
                return (position, verdict)
            }
            sources |= source.rawValue << UInt64(2 * position)
            if tightest.position < 0 || verdict.remaining < tightest.verdict.remaining {
                tightest = (position, verdict)
            }
        }
        return tightest
    }

    /// Where one limit took a request's cost from.
    private enum Source: UInt64 {
        /// This instance's own GCRA time for the limit (standalone, or scope `instance`).
        case limiter = 0
        /// Tokens leased from the fleet's budget in Redis.
        case lease = 1
        /// Nothing: Redis is away and the limit fails open.
        case nothing = 2
        /// This instance's share of the limit while Redis is away (`local_fallback`).
        case fallback = 3
    }

    private func spend(_ i: Int, now: UInt64, cost: Int) -> (GCRA.Verdict, Source) {
        guard let leases, isLeased[i] else {
            return (limiter.spend(i, limit: limit(i), now: now, cost: cost), .limiter)
        }
        let limit = limit(i)
        let left = leases.take(i, cost: cost, now: now)
        if left >= 0 {
            let slack = limit.emissionInterval &* UInt64(left)
            let verdict = GCRA.Verdict(
                allowed: true, tat: 0, slack: slack, interval: limit.emissionInterval, retryAfter: 0,
                resetAfter: limit.horizon - min(slack, limit.horizon))
            return (verdict, .lease)
        }
        leases.noteShortage(i)
        let since = leases.degradedSince
        let refused = GCRA.Verdict(
            allowed: false, tat: 0, slack: 0, interval: limit.emissionInterval,
            retryAfter: limit.emissionInterval &* UInt64(cost), resetAfter: limit.horizon)
        // Redis reachable: the fleet's budget is spent (or this instance's
        // next lease is on its way).
        guard since != 0, let fleet = fleetLimit(i) else { return (refused, .lease) }
        switch fleet.whenRedisDown {
        case .failOpen:
            let verdict = GCRA.Verdict(
                allowed: true, tat: 0, slack: limit.horizon, interval: limit.emissionInterval, retryAfter: 0,
                resetAfter: 0)
            return (verdict, .nothing)
        case .failClosed:
            return (refused, .nothing)
        // A loop's clock is read once per batch: `since` may lie after it.
        case .reuseLastLease(let maxAge) where now < since || now - since < maxAge:
            // The sync thread keeps granting leases of the last size; between them, nothing.
            return (refused, .nothing)
        case .localFallback, .reuseLastLease:
            return (limiter.spend(i, limit: fleet.fallback, now: now, cost: cost), .fallback)
        }
    }

    private func refund(_ i: Int, _ source: Source, cost: Int) {
        switch source {
        case .limiter: limiter.refund(i, limit: limit(i), cost: cost)
        case .fallback: limiter.refund(i, limit: fleetLimit(i)?.fallback ?? limit(i), cost: cost)
        case .lease: leases?.giveBack(i, cost: cost, creditCapacity: fleetLimit(i)?.credit ?? 0)
        case .nothing: break
        }
    }

    /// What a credential check found: the credential's scopes, or a
    /// refusal (and whether it counts as a failed authentication).
    private enum Presented {
        case accepted(scopes: UInt64)
        case refused(AuthorizationReason, failedAuthentication: Bool)
    }

    /// Hashes the key and compares it with every key of the merchant (or as
    /// many decoys), then checks the matching key's expiry.
    private func checkKey(_ query: AuthorizationQuery, _ merchant: Int?) -> Presented {
        let candidates = merchant.map { entries[$0].keys } ?? decoy
        var matched = -1
        if let digest = hasher?.digest(of: query.key) {
            for i in candidates where keys[i].matches(digest) && matched < 0 { matched = i }
        }
        guard merchant != nil, matched >= 0 else {
            return .refused(merchant == nil ? .unknownMerchant : .badKey, failedAuthentication: true)
        }
        guard query.wallSeconds < expiries[matched] else { return .refused(.expiredKey, failedAuthentication: false) }
        return .accepted(scopes: scopeMasks[matched])
    }

    /// Verifies a bearer token for the merchant. A token that is out of its
    /// time is refused like an expired key; any other failure is a failed
    /// authentication.
    private func checkToken(_ query: AuthorizationQuery, _ merchant: Int?) -> Presented {
        guard let merchant else { return .refused(.unknownMerchant, failedAuthentication: true) }
        guard let tokens else { return .refused(.tokenKeyUnknown, failedAuthentication: true) }
        switch tokens.verify(
            query.key, merchant: merchant, merchantID: query.merchantID, operation: query.operation,
            now: query.wallSeconds, cache: query.tokenCache)
        {
        // The token's scopes are checked in the verifier: a mask of nothing
        // refuses every operation, of everything admits any.
        case .success(let verified): return .accepted(scopes: verified.permitsOperation ? .max : 0)
        case .failure(let failure):
            return .refused(
                AuthorizationReason(failure), failedAuthentication: failure != .expired && failure != .notYetValid)
        }
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
