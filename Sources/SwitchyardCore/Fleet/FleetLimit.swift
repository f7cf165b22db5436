/// A merchant limit the fleet shares through token leases: the numbers every
/// instance derives from the limit, its sharing and the fleet's size.
///
/// Redis keeps one GCRA time per limit and hands out tokens in leases, with
/// its tolerance τ reduced by the lease lifetime and by every instance's
/// credit (tokens spent before they are paid for, so that a merchant's first
/// request needs no round trip). A token spent at time s was then reserved
/// within [s − lease, s], or is one of at most `credit` unpaid ones per
/// instance, so in any interval t the fleet admits at most
/// ⌊t/T⌋ + burst + 1: the bound a single instance keeps, kept fleet-wide.
public struct FleetLimit: Equatable, Sendable {
    public let whenRedisDown: LimitSharing.WhenRedisDown
    /// How long a lease may be spent, counted from when it was asked for.
    public let leaseNanoseconds: UInt64
    /// Tokens an instance may spend before Redis has granted them; each is
    /// paid for by the next reservation.
    public let credit: Int
    /// The most tokens one lease asks for: a share of the reduced tolerance
    /// small enough that every instance can hold one at once.
    public let maxLease: Int
    /// Each instance's part of the limit when Redis is away (`local_fallback`).
    public let fallback: RateLimit
    /// Redis's GCRA in microseconds (Lua numbers are doubles, exact to 2^53):
    /// the interval rounded up, the reduced tolerance rounded down, so that
    /// rounding only ever grants less.
    public let redisInterval: UInt64
    public let redisTolerance: UInt64
    /// The limit's whole τ, rounded up: no instance's reservation ever
    /// leaves Redis's time further ahead, so a stored time beyond it is garbage.
    public let redisHorizon: UInt64

    /// The largest token count a lease can carry (``LeasePools`` packs it in 24 bits).
    public static let largestLease = (1 << 24) - 1

    /// nil for an instance-scoped limit, or one too tight to share (see ``problem(_:sharing:fleetSize:)``).
    public init?(_ limit: RateLimit, sharing: LimitSharing, fleetSize: Int) {
        guard sharing.scope == .fleet, let shares = FleetLimit.shares(limit, sharing, fleetSize) else { return nil }
        whenRedisDown = sharing.whenRedisDown
        leaseNanoseconds = shares.lease
        credit = shares.credit
        maxLease = min(shares.maxLease, FleetLimit.largestLease)
        let size = max(fleetSize, 1)
        fallback = RateLimit(
            rate: limit.rate, periodNanoseconds: limit.periodNanoseconds &* UInt64(size),
            burst: max(0, (limit.burst + 1) / size - 1))
        redisInterval = (limit.emissionInterval + 999) / 1_000
        redisTolerance = shares.tolerance / 1_000
        redisHorizon = (limit.horizon + 999) / 1_000
    }

    /// Why a fleet-scoped limit cannot be shared by `fleetSize` instances
    /// (its burst leaves no room for their leases), with the smallest burst
    /// that would do; nil when it can.
    public static func problem(_ limit: RateLimit, sharing: LimitSharing, fleetSize: Int) -> String? {
        guard sharing.scope == .fleet, shares(limit, sharing, fleetSize) == nil else { return nil }
        var low = limit.burst
        var high = max(limit.burst, 1)
        while high < 1_000_000_000, !fits(limit, burst: high, sharing, fleetSize) { (low, high) = (high, high * 2) }
        while high - low > 1 {
            let middle = (low + high) / 2
            if fits(limit, burst: middle, sharing, fleetSize) { high = middle } else { low = middle }
        }
        let lease = sharing.leaseMilliseconds.map { "lease_ms \($0)" } ?? "the default lease"
        return
            "burst \(limit.burst) leaves no room to lease this limit to redis.fleet_size = \(fleetSize) instances with \(lease): use burst \(high) or more, or scope: instance"
    }

    private static func fits(_ limit: RateLimit, burst: Int, _ sharing: LimitSharing, _ fleetSize: Int) -> Bool {
        shares(
            RateLimit(rate: limit.rate, periodNanoseconds: limit.periodNanoseconds, burst: burst), sharing, fleetSize)
            != nil
    }

    private static func shares(_ limit: RateLimit, _ sharing: LimitSharing, _ fleetSize: Int) -> (
        lease: UInt64, credit: Int, tolerance: UInt64, maxLease: Int
    )? {
        let interval = limit.emissionInterval
        let tau = limit.horizon
        let size = UInt64(max(fleetSize, 1))
        let lease = sharing.leaseMilliseconds.map { UInt64($0) * 1_000_000 } ?? min(1_000_000_000, tau / 4)
        let credit = max(1, (limit.burst + 1) / (8 * Int(size)))
        let reserved = lease &+ size &* UInt64(credit) &* interval
        guard interval > 0, lease > 0, reserved < tau else { return nil }
        let tolerance = tau - reserved
        let maxLease = tolerance / (2 &* size &* interval)
        guard maxLease >= 1, tolerance / 1_000 >= (interval + 999) / 1_000 else { return nil }
        return (lease, credit, tolerance, Int(min(maxLease, UInt64(Int.max))))
    }
}
