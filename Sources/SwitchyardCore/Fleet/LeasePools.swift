import Synchronization

/// The tokens this instance holds for each fleet-scoped limit, shared by the
/// event loops (which spend them) and the sync thread (which leases them
/// from Redis): no lock on the request path, and a system call only to wake
/// the sync thread when a limit runs short while it sleeps.
///
/// Per limit there are two lease slots, so the next lease can arrive while
/// the last one is still being spent, each a token count and an expiry
/// packed in one 64-bit atomic (a spend is one compare-and-swap and can
/// never take a token from a lease that has expired), a credit (tokens that
/// may be spent before Redis has granted them, paid for afterwards), and
/// two low-water marks. A loop that finds nothing to spend, or leaves a
/// lease or the credit at its mark, sets the limit's bit in a shortage
/// bitmap (and rings the ``Doorbell`` if the sync thread sleeps), so that
/// the sync thread reads a few words to know which of thousands of limits
/// need it, instead of looking at all of them.
///
/// The credit is paid for lazily (when half of it is spent): how late does
/// not matter to the fleet's bound, which only needs the unpaid part to stay
/// within the credit. So a limit used far below its rate costs no Redis call
/// at all for a long time.
public final class LeasePools: Sendable {
    /// Wakes the thread that leases tokens. Rung from an event loop, only
    /// when a limit newly runs short while that thread sleeps: at most once
    /// per sleep, never per request.
    public protocol Doorbell: Sendable {
        func ring()
    }

    private let slots: AtomicSlots
    private let doorbell: (any Doorbell)?
    /// Whether the leasing thread sleeps until rung.
    private let sleeping = Atomic<Bool>(false)
    /// One bit per limit.
    private let shortages: AtomicSlots
    /// When Redis was last found unreachable (monotonic ns; 0: reachable).
    private let health = AtomicSlots(count: 1)
    public let count: Int

    private static let stride = 4
    private static let credit = 2
    /// The lease low-water mark in the low 32 bits, the credit's in the high.
    private static let lowWater = 3
    private static let tokenBits: UInt64 = 24
    private static let tokenMask: UInt64 = (1 << tokenBits) - 1
    /// Expiries are kept in units of 2^20 ns (about a millisecond), 40 bits
    /// of them: 36 years of monotonic clock.
    private static let unitShift: UInt64 = 20

    /// `credits[i]`: the tokens limit `i` may spend before it is paid for.
    public init(credits: [Int], doorbell: (any Doorbell)? = nil) {
        self.doorbell = doorbell
        count = credits.count
        slots = AtomicSlots(count: credits.count * LeasePools.stride)
        shortages = AtomicSlots(count: (credits.count + 63) / 64)
        for (limit, credit) in credits.enumerated() {
            slots.store(limit * LeasePools.stride + LeasePools.credit, UInt64(credit))
            slots.store(limit * LeasePools.stride + LeasePools.lowWater, UInt64(credit / 2) << 32)
        }
    }

    // MARK: The request path

    /// Takes `cost` tokens of `limit` from an unexpired lease (the one that
    /// ends first), or else from the credit. Returns the tokens left where
    /// they were taken (what a client is told remains), -1 when neither had
    /// enough.
    public func take(_ limit: Int, cost: Int, now: UInt64) -> Int {
        let base = limit * LeasePools.stride
        let units = now >> LeasePools.unitShift
        let amount = UInt64(cost)
        while true {
            var best = -1
            var bestWord: UInt64 = 0
            for slot in 0..<2 {
                let word = slots.load(base + slot)
                let expiry = word >> LeasePools.tokenBits
                guard expiry > units, word & LeasePools.tokenMask >= amount else { continue }
                if best < 0 || expiry < bestWord >> LeasePools.tokenBits { (best, bestWord) = (slot, word) }
            }
            if best >= 0 {
                if slots.compareExchange(base + best, expected: bestWord, desired: bestWord - amount) {
                    let left = (bestWord & LeasePools.tokenMask) - amount
                    if left <= slots.load(base + LeasePools.lowWater) & 0xFFFF_FFFF { noteShortage(limit) }
                    return Int(left)
                }
                continue
            }
            let credit = slots.load(base + LeasePools.credit)
            guard credit >= amount else { return -1 }
            if slots.compareExchange(base + LeasePools.credit, expected: credit, desired: credit - amount) {
                if credit - amount <= slots.load(base + LeasePools.lowWater) >> 32 { noteShortage(limit) }
                return Int(credit - amount)
            }
        }
    }

    /// Returns what `take` took when a later limit of the same request
    /// refused it, as credit (up to `creditCapacity`; beyond it the tokens
    /// are let go). Never into a lease: a token given back to a later lease
    /// than its own would outlive the lease it was granted in. A token
    /// granted by Redis and moved to the credit is still counted once, so the
    /// fleet's bound holds.
    public func giveBack(_ limit: Int, cost: Int, creditCapacity: Int) {
        let index = limit * LeasePools.stride + LeasePools.credit
        while true {
            let credit = slots.load(index)
            let restored = min(credit + UInt64(cost), UInt64(max(creditCapacity, 0)))
            guard restored > credit else { return }
            if slots.compareExchange(index, expected: credit, desired: restored) { return }
        }
    }

    /// Tells the sync thread that `limit` needs tokens. A load first: the
    /// bit is written once per shortage, not once per request.
    public func noteShortage(_ limit: Int) {
        let word = limit >> 6
        let bit: UInt64 = 1 << UInt64(limit & 63)
        while true {
            let bits = shortages.load(word)
            guard bits & bit == 0 else { return }
            if shortages.compareExchange(word, expected: bits, desired: bits | bit) { break }
        }
        // Paired with the fence in `sleep(_:)`: either that thread sees the
        // bit before it sleeps, or this one sees it asleep and rings.
        atomicMemoryFence(ordering: .sequentiallyConsistent)
        if sleeping.load(ordering: .sequentiallyConsistent),
            sleeping.compareExchange(expected: true, desired: false, ordering: .sequentiallyConsistent).exchanged
        {
            doorbell?.ring()
        }
    }

    /// Lets the leasing thread sleep in `wait` (until rung, or its own
    /// timeout) unless a limit is already short. A loop that marks a
    /// shortage meanwhile rings the doorbell, so none waits for the timeout.
    public func sleep(_ wait: () -> Void) {
        sleeping.store(true, ordering: .sequentiallyConsistent)
        atomicMemoryFence(ordering: .sequentiallyConsistent)
        var short = false
        for word in 0..<shortages.count where shortages.load(word) != 0 { short = true }
        if !short { wait() }
        sleeping.store(false, ordering: .sequentiallyConsistent)
    }

    /// When Redis was found unreachable (monotonic ns), 0 while it is reachable.
    public var degradedSince: UInt64 { health.load(0) }

    // MARK: The sync thread

    public func setDegraded(since: UInt64) { health.store(0, since) }

    /// A live lease left with this many tokens or fewer asks for the next one.
    public func setLowWater(_ limit: Int, _ tokens: Int) {
        let index = limit * LeasePools.stride + LeasePools.lowWater
        let credit = slots.load(index) & ~0xFFFF_FFFF
        slots.store(index, credit | UInt64(min(max(tokens, 0), FleetLimit.largestLease)))
    }

    /// Installs a lease in a slot that is empty or expired, after
    /// ``reclaimExpired(_:now:)`` took its leftovers; false when both slots
    /// hold live leases.
    public func install(_ limit: Int, tokens: Int, expiresAt: UInt64, now: UInt64) -> Bool {
        let base = limit * LeasePools.stride
        let units = now >> LeasePools.unitShift
        let expiry = expiresAt >> LeasePools.unitShift
        guard tokens > 0, expiry > units else { return tokens == 0 }
        let word = expiry << LeasePools.tokenBits | UInt64(min(tokens, FleetLimit.largestLease))
        for slot in 0..<2 {
            let old = slots.load(base + slot)
            let free = old & LeasePools.tokenMask == 0 || old >> LeasePools.tokenBits <= units
            if free, slots.compareExchange(base + slot, expected: old, desired: word) { return true }
        }
        return false
    }

    /// A lease taken out of its slot, with the tokens it still held.
    public struct Reclaimed: Equatable, Sendable {
        /// Its expiry in the pools' units (``units(_:)``): which lease it was.
        public let expiry: UInt64
        public let tokens: Int
    }

    /// The pools' unit of time for an instant in monotonic nanoseconds.
    public static func units(_ nanoseconds: UInt64) -> UInt64 { nanoseconds >> unitShift }

    /// Empties the leases of `limit` that have expired by `now` (all of
    /// them, for `now` = `.max`) and returns those that still held tokens:
    /// tokens never to be spent now.
    public func reclaimExpired(_ limit: Int, now: UInt64) -> [Reclaimed] {
        let base = limit * LeasePools.stride
        let units = LeasePools.units(now)
        var reclaimed: [Reclaimed] = []
        for slot in 0..<2 {
            while true {
                let word = slots.load(base + slot)
                guard word != 0, word >> LeasePools.tokenBits <= units else { break }
                if slots.compareExchange(base + slot, expected: word, desired: 0) {
                    let tokens = Int(word & LeasePools.tokenMask)
                    if tokens > 0 { reclaimed.append(Reclaimed(expiry: word >> LeasePools.tokenBits, tokens: tokens)) }
                    break
                }
            }
        }
        return reclaimed
    }

    /// Live leases of `limit`: how many, and the tokens left in them.
    public func leases(_ limit: Int, now: UInt64) -> (count: Int, tokens: Int) {
        let base = limit * LeasePools.stride
        var result = (count: 0, tokens: 0)
        for slot in 0..<2 {
            let word = slots.load(base + slot)
            guard word & LeasePools.tokenMask > 0, word >> LeasePools.tokenBits > now >> LeasePools.unitShift else {
                continue
            }
            result.count += 1
            result.tokens += Int(word & LeasePools.tokenMask)
        }
        return result
    }

    public func credit(_ limit: Int) -> Int { Int(slots.load(limit * LeasePools.stride + LeasePools.credit)) }

    /// Adds paid-for tokens back to the credit.
    public func restoreCredit(_ limit: Int, _ tokens: Int) {
        let index = limit * LeasePools.stride + LeasePools.credit
        while true {
            let credit = slots.load(index)
            if slots.compareExchange(index, expected: credit, desired: credit + UInt64(tokens)) { return }
        }
    }

    /// The limits that ran short since the last call, clearing their bits.
    public func takeShortages() -> [Int] {
        var limits: [Int] = []
        for word in 0..<shortages.count {
            var bits = shortages.load(word)
            while bits != 0 {
                if shortages.compareExchange(word, expected: bits, desired: 0) { break }
                bits = shortages.load(word)
            }
            while bits != 0 {
                limits.append(word * 64 + bits.trailingZeroBitCount)
                bits &= bits - 1
            }
        }
        return limits
    }

    /// Copies another table's pools for limit `from` into limit `to` (a reload).
    public func carry(_ to: Int, from other: LeasePools, _ from: Int) {
        for offset in 0...LeasePools.lowWater {
            slots.store(to * LeasePools.stride + offset, other.slots.load(from * LeasePools.stride + offset))
        }
    }
}
