/// How a merchant limit is shared by a fleet of instances. Only meaningful
/// with Redis configured: an instance running alone enforces every limit
/// itself, exactly.
public struct LimitSharing: Equatable, Sendable {
    public enum Scope: String, Equatable, Sendable, CaseIterable {
        /// One budget for the whole fleet, leased from Redis (``FleetLimit``).
        case fleet
        /// Every instance enforces the whole limit on its own.
        case instance
    }

    /// What a fleet-scoped limit does once Redis is unreachable and this
    /// instance's leased tokens are spent.
    public enum WhenRedisDown: Equatable, Sendable {
        /// Admit everything: availability over the bound.
        case failOpen
        /// Refuse everything: the bound over availability.
        case failClosed
        /// Each instance enforces 1/`fleet_size` of the rate and of the burst.
        case localFallback
        /// Keep receiving leases of the last size at the last pace, for at
        /// most this long after Redis went away; then `localFallback`.
        case reuseLastLease(maxAgeNanoseconds: UInt64)

        public static let names = ["fail_open", "fail_closed", "local_fallback", "reuse_last_lease"]

        /// The mode as the configuration spells it.
        public var name: String {
            switch self {
            case .failOpen: "fail_open"
            case .failClosed: "fail_closed"
            case .localFallback: "local_fallback"
            case .reuseLastLease: "reuse_last_lease"
            }
        }
    }

    public var scope = Scope.fleet
    public var whenRedisDown = WhenRedisDown.localFallback
    /// How long a lease may be spent after it was asked for; nil: a quarter
    /// of the limit's tolerance, at most one second.
    public var leaseMilliseconds: Int?

    public init() {}

    static let fields = ["scope", "when_redis_down", "max_lease_age_ms", "lease_ms"]

    init(reading reader: ConfigReader) {
        let scopeText = reader.choice("scope", default: scope.rawValue, from: Scope.allCases.map(\.rawValue))
        scope = Scope(rawValue: scopeText) ?? .fleet
        let mode = reader.choice("when_redis_down", default: "local_fallback", from: WhenRedisDown.names)
        let maxAge = reader.integer("max_lease_age_ms", default: 10_000, in: 1...86_400_000, unit: "milliseconds")
        if reader.keys.contains("max_lease_age_ms"), mode != "reuse_last_lease" {
            reader.report(field: "max_lease_age_ms", "only used with when_redis_down: reuse_last_lease")
        }
        switch mode {
        case "fail_open": whenRedisDown = .failOpen
        case "fail_closed": whenRedisDown = .failClosed
        case "reuse_last_lease": whenRedisDown = .reuseLastLease(maxAgeNanoseconds: UInt64(maxAge) * 1_000_000)
        default: whenRedisDown = .localFallback
        }
        if reader.keys.contains("lease_ms") {
            leaseMilliseconds = reader.integer("lease_ms", default: 1_000, in: 1...3_600_000, unit: "milliseconds")
        }
    }
}

/// One of a merchant's limits and how a fleet shares it.
public struct MerchantLimit: Equatable, Sendable {
    public var limit: RateLimit
    public var sharing: LimitSharing

    public init(_ limit: RateLimit, sharing: LimitSharing = LimitSharing()) {
        self.limit = limit
        self.sharing = sharing
    }
}
