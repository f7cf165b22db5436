import SwitchyardCore
import SwitchyardRedis
import Synchronization

/// The sync thread's half of fleet-scoped limits: it decides which limits
/// need tokens, reserves them from Redis (one script call per limit, all in
/// one pipeline), installs the leases for the event loops to spend, pays for
/// spent credit, and gives back what an expired lease did not use.
///
/// It never runs on an event loop, and it looks only at the limits a loop
/// marked short (nothing to spend, a lease down to a quarter, the credit
/// down to half): thousands of limits used far below their rate cost it
/// nothing.
struct LeaseKeeper {
    /// One limit's call to the lease script.
    struct Reservation {
        let leased: AuthorizationTable.LeasedLimit
        /// Tokens for a new lease.
        let wanted: Int
        /// Spent credit to pay for.
        let debt: Int
        /// Unused tokens of this instance's last lease, given back when no
        /// other reservation followed it.
        let returned: Int
        let mark: Int64
    }

    /// What this instance remembers of one limit, by its Redis key: it
    /// survives reloads that keep the limit.
    private struct Held {
        /// The GCRA time the last reservation left in Redis.
        var mark: Int64 = -1
        /// The pools' expiry of the lease that reservation granted (0: none).
        var markExpiry: UInt64 = 0
        /// Tokens the next lease asks for: grows while loops run short,
        /// shrinks to what was spent when a lease expires unused.
        var size: Int
        /// The last lease Redis granted, when, and the time between the two
        /// last grants (at most a lease lifetime): what `reuse_last_lease`
        /// keeps granting.
        var lastGranted = 0
        var lastGrantAt: UInt64 = 0
        var pace: UInt64 = 0
    }

    /// Per entry of the table's `leased` list.
    private var held: [Held] = []
    /// The table `held` is laid out for (kept alive, so that a new table
    /// can never be mistaken for it), the Redis keys of its limits, where
    /// each pools index sits in its `leased` list (-1: not fleet-scoped), and
    /// the positions of its `reuse_last_lease` limits (while Redis is away,
    /// only those need a look every tick).
    private var table: AuthorizationTable?
    private var keys: [String] = []
    private var positions: [Int] = []
    private var reusing: [Int] = []
    let counters: LeaseCounters

    /// How many limits one pipeline reserves for at most: after an outage
    /// every limit in use owes, and paying them all at once would hold the
    /// sync thread (and Redis) for tens of milliseconds on end.
    static let largestBatch = 250

    init(counters: LeaseCounters) { self.counters = counters }

    /// Whether the table last seen has `reuse_last_lease` limits (which
    /// want a look every tick while Redis is away).
    var reuses: Bool { !reusing.isEmpty }

    /// The reservations due now: limits the loops marked short (nothing to
    /// spend, credit spent, a lease at its low-water mark). Only those: a
    /// limit nobody asks for costs nothing, and an expired lease's unused
    /// tokens go back when the limit is next used (or at exit), which is as
    /// good while Redis's time for it is still ahead, and moot after.
    /// `closing` (the last call before exit) looks at every limit, asks for
    /// nothing new, pays every debt and gives back every lease.
    mutating func plan(_ table: AuthorizationTable, now: UInt64, closing: Bool = false) -> [Reservation] {
        guard let pools = table.leases, !table.leased.isEmpty else { return [] }
        adopt(table)
        let short = pools.takeShortages()
        let candidates = closing ? Array(table.leased.indices) : short.map { positions[$0] }.filter { $0 >= 0 }
        let flagged = Set(short)
        var reservations: [Reservation] = []
        for position in candidates {
            let leased = table.leased[position]
            let i = leased.index
            guard reservations.count < LeaseKeeper.largestBatch else {
                // Next tick: the bit goes back up.
                if flagged.contains(i) { pools.noteShortage(i) }
                continue
            }
            var state = held[position]
            var returned = 0
            for lease in pools.reclaimExpired(i, now: closing ? .max : now) {
                if lease.expiry == state.markExpiry {
                    returned += lease.tokens
                    // It outlived its use: the next one is twice what was spent of it.
                    state.size = min(leased.limit.maxLease, max(1, 2 * (state.lastGranted - lease.tokens)))
                } else {
                    counters.expired.add(Int64(lease.tokens), ordering: .relaxed)
                }
            }
            let debt = max(0, leased.limit.credit - pools.credit(i))
            let live = pools.leases(i, now: now)
            var wanted = 0
            if !closing, flagged.contains(i), live.count < 2 {
                // Spent in under half its life: the next one is twice as large.
                if live.count == 0, now < state.lastGrantAt + leased.limit.leaseNanoseconds / 2 {
                    state.size = min(leased.limit.maxLease, state.size * 2)
                }
                wanted = state.size
            }
            held[position] = state
            guard wanted + debt + returned > 0 else { continue }
            reservations.append(
                Reservation(leased: leased, wanted: wanted, debt: debt, returned: returned, mark: state.mark))
        }
        return reservations
    }

    /// Lays `held` out for a new table (a reload), keeping what it knew of
    /// limits that stayed (by their Redis key).
    private mutating func adopt(_ table: AuthorizationTable) {
        guard table !== self.table, let pools = table.leases else { return }
        let previous = Dictionary(zip(keys, held), uniquingKeysWith: { first, _ in first })
        self.table = table
        keys = table.leased.map(\.key)
        held = table.leased.map {
            previous[$0.key] ?? Held(size: min($0.limit.maxLease, max(1, $0.limit.credit)))
        }
        positions = [Int](repeating: -1, count: pools.count)
        for (position, leased) in table.leased.enumerated() { positions[leased.index] = position }
        reusing = table.leased.indices.filter {
            if case .reuseLastLease = table.leased[$0].limit.whenRedisDown { true } else { false }
        }
    }

    /// Gives back, at the next call, what `reservations` were to take:
    /// their shortage flags (the loops are still short), while their debt
    /// simply stays owed. Tokens they were returning stay out of the fleet's
    /// budget until Redis's time for them passes: counted as expired.
    func failed(_ reservations: [Reservation], _ table: AuthorizationTable) {
        for reservation in reservations {
            if reservation.wanted > 0 || reservation.debt > 0 { table.leases?.noteShortage(reservation.leased.index) }
            counters.expired.add(Int64(reservation.returned), ordering: .relaxed)
        }
    }

    /// The lease script's command for each reservation, by the script's
    /// SHA-1 (`SCRIPT LOAD` gave it): the script's text is not sent and
    /// hashed again on every call.
    static func commands(_ reservations: [Reservation], script sha: String, key: (String) -> String) -> [[String]] {
        reservations.map {
            [
                "EVALSHA", sha, "1", key($0.leased.key), String($0.leased.limit.redisInterval),
                String($0.leased.limit.redisTolerance), String($0.leased.limit.redisHorizon),
                String($0.wanted + $0.debt),
                String($0.returned), String($0.mark),
            ]
        }
    }

    /// Applies the script's replies: pays debts first, installs the rest as
    /// a lease that ends `lease_ms` after `sentAt` less an eighth (the loops
    /// read a clock cached per batch), and remembers the new GCRA time.
    /// Returns the limits whose reply was not the script's (garbage that the
    /// script could not read is reported in the reply and replaced), and
    /// whether Redis no longer knows the script (it restarted or flushed
    /// its scripts): it is loaded again before the next call.
    mutating func absorb(
        _ replies: ArraySlice<RedisReply>, _ reservations: [Reservation], _ table: AuthorizationTable, sentAt: UInt64
    ) -> (failed: [String], garbage: [String], unknownScript: Bool) {
        guard let pools = table.leases else { return ([], [], false) }
        var failed: [String] = []
        var garbage: [String] = []
        var unknownScript = false
        adopt(table)
        counters.reservations.add(Int64(reservations.count), ordering: .relaxed)
        for (reservation, reply) in zip(reservations, replies) {
            let leased = reservation.leased
            let position = positions[leased.index]
            guard case .array(let fields) = reply, fields.count == 4, let granted = fields[0].integerValue,
                let mark = fields[1].integerValue, let back = fields[2].integerValue, let reset = fields[3].integerValue
            else {
                if case .error(let message) = reply, message.hasPrefix("NOSCRIPT") {
                    unknownScript = true
                } else {
                    failed.append(leased.key)
                }
                if reservation.wanted > 0 || reservation.debt > 0 { pools.noteShortage(leased.index) }
                continue
            }
            if reset == 1 { garbage.append(leased.key) }
            var state = held[position]
            counters.returned.add(back, ordering: .relaxed)
            counters.expired.add(Int64(reservation.returned) - back, ordering: .relaxed)
            counters.granted.add(granted, ordering: .relaxed)
            let paid = min(Int(granted), reservation.debt)
            if paid > 0 { pools.restoreCredit(leased.index, paid) }
            let tokens = Int(granted) - paid
            if reservation.wanted > 0, tokens == 0 { counters.refused.add(1, ordering: .relaxed) }
            // Redis's time moved only if something was granted or given
            // back; then it is the time this instance's reservation left.
            guard granted > 0 || back > 0 else { continue }
            state.mark = mark
            state.markExpiry = 0
            let lifetime = leased.limit.leaseNanoseconds
            let expiresAt = sentAt + lifetime - lifetime / 8
            if tokens > 0 {
                if pools.install(leased.index, tokens: tokens, expiresAt: expiresAt, now: sentAt) {
                    state.markExpiry = LeasePools.units(expiresAt)
                    // A lease outlived by the next one's request was spent no
                    // faster than its lifetime: the pace is at most that.
                    if state.lastGrantAt > 0 { state.pace = min(sentAt - state.lastGrantAt, lifetime) }
                    (state.lastGranted, state.lastGrantAt) = (tokens, sentAt)
                    pools.setLowWater(leased.index, tokens / 4)
                } else {
                    counters.expired.add(Int64(tokens), ordering: .relaxed)
                }
            }
            held[position] = state
        }
        return (failed, garbage, unknownScript)
    }

    /// While Redis is away: `reuse_last_lease` limits that are in use get
    /// a lease of the last size once per the last pace (a lease lifetime if
    /// only one was ever granted), until their maximum age.
    mutating func reuse(_ table: AuthorizationTable, now: UInt64) {
        guard let pools = table.leases else { return }
        let since = pools.degradedSince
        guard since != 0 else { return }
        adopt(table)
        for position in reusing {
            let leased = table.leased[position]
            var state = held[position]
            // `since` may be a moment after `now`, read before it was set.
            guard case .reuseLastLease(let maxAge) = leased.limit.whenRedisDown, now < since || now - since < maxAge,
                state.lastGranted > 0
            else { continue }
            let pace = state.pace > 0 ? state.pace : leased.limit.leaseNanoseconds
            guard now >= state.lastGrantAt + pace, pools.leases(leased.index, now: now).count == 0 else { continue }
            for lease in pools.reclaimExpired(leased.index, now: now) {
                counters.expired.add(Int64(lease.tokens), ordering: .relaxed)
            }
            let lifetime = leased.limit.leaseNanoseconds
            if pools.install(
                leased.index, tokens: state.lastGranted, expiresAt: now + lifetime - lifetime / 8, now: now)
            {
                state.lastGrantAt = now
                counters.reused.add(Int64(state.lastGranted), ordering: .relaxed)
            }
            held[position] = state
        }
    }

    /// Reserves up to ARGV[4] tokens of one limit on Redis's clock, in
    /// microseconds: GCRA with the tolerance reduced for leases (ARGV[2]),
    /// granting what fits when not all does. First gives back ARGV[5]
    /// unused tokens of this instance's last lease, only when the stored time
    /// is still the one that lease left (ARGV[6]): otherwise another
    /// reservation stacked on it, and lowering the time would hand out its
    /// share again. A stored value that is not a time (or lies beyond the
    /// limit's whole horizon, ARGV[3]) counts as a spent budget and is
    /// replaced. KEYS: the limit's time; ARGV: interval, tolerance, horizon,
    /// wanted, returned, mark. Replies granted, the new time, the tokens
    /// given back, and 1 when garbage was replaced.
    static let script = """
        local interval = tonumber(ARGV[1])
        local tolerance = tonumber(ARGV[2])
        local horizon = tonumber(ARGV[3])
        local wanted = tonumber(ARGV[4])
        local returned = tonumber(ARGV[5])
        local mark = tonumber(ARGV[6])
        local clock = redis.call('TIME')
        local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
        local stored = redis.pcall('GET', KEYS[1])
        local tat = now
        local garbage = 0
        if type(stored) == 'table' then
          garbage = 1
        elseif stored then
          tat = tonumber(stored)
          if not tat or tat ~= tat then garbage = 1 end
        end
        if garbage == 1 or tat > now + horizon then tat = now + tolerance end
        local back = 0
        if returned > 0 and tat == mark then
          back = math.floor((tat - math.max(tat - returned * interval, now)) / interval)
          tat = tat - back * interval
        end
        local base = math.max(tat, now)
        local room = math.floor((now + tolerance - base) / interval)
        local granted = math.max(0, math.min(wanted, room))
        tat = base + granted * interval
        if granted > 0 or back > 0 or garbage == 1 then
          redis.call('SET', KEYS[1], string.format('%.0f', tat), 'PX', math.floor((tat - now) / 1000) + 1)
        end
        return {granted, tat, back, garbage}
        """
}

/// What the fleet's limits did, for logs and metrics.
final class LeaseCounters: Sendable {
    /// Tokens Redis granted (leases and paid credit).
    let granted = Atomic<Int64>(0)
    /// Unused tokens given back to the fleet's budget.
    let returned = Atomic<Int64>(0)
    /// Unused tokens of expired leases that were not given back (another
    /// reservation had stacked on them, or Redis's time for them had already
    /// passed, which gives them back by itself). Under-admission is at most
    /// the tokens outstanding in live leases at any moment.
    let expired = Atomic<Int64>(0)
    /// Leases asked for that Redis had no room for (the fleet's budget was spent).
    let refused = Atomic<Int64>(0)
    /// Tokens granted locally by `reuse_last_lease` while Redis was away.
    let reused = Atomic<Int64>(0)
    /// Calls to the lease script (one per limit per pipeline).
    let reservations = Atomic<Int64>(0)
}
