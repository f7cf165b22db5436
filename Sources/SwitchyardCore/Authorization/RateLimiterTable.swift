/// The stored times of every rate limit, one 64-bit atomic each, shared by
/// all event loops without a lock: a request reads a TAT, decides with
/// ``GCRA``, and publishes the new TAT with one compare-and-swap (retrying
/// only when another loop got there first), so every loop enforces the same
/// limit exactly.
public struct RateLimiterTable: Sendable {
    private let slots: AtomicSlots

    public init(limits: Int) { slots = AtomicSlots(count: limits) }

    /// Spends `cost` on limit `slot`, or says why not (and spends nothing).
    public func spend(_ slot: Int, limit: RateLimit, now: UInt64, cost: Int) -> GCRA.Verdict {
        while true {
            let stored = slots.load(slot)
            let verdict = GCRA.check(limit, tat: stored, now: now, cost: cost)
            guard verdict.allowed else { return verdict }
            if slots.compareExchange(slot, expected: stored, desired: verdict.tat) { return verdict }
        }
    }

    /// Gives back what an allowed `spend` took, when a later limit of the
    /// same request denied it: a denied request consumes nothing. Between the
    /// spend and the refund another request may be denied for it (never
    /// admitted beyond the bound).
    public func refund(_ slot: Int, limit: RateLimit, cost: Int) {
        let amount = limit.emissionInterval &* UInt64(cost)
        while true {
            let stored = slots.load(slot)
            let restored = stored >= amount ? stored - amount : 0
            if slots.compareExchange(slot, expected: stored, desired: restored) { return }
        }
    }

    /// The stored TAT of a limit (tests, reload carry-over).
    public func tat(_ slot: Int) -> UInt64 { slots.load(slot) }

    public func setTAT(_ slot: Int, _ value: UInt64) { slots.store(slot, value) }
}
