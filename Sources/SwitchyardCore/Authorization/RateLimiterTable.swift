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

    /// Spends `cost` on limits `first..<first + count` (limit `i` is
    /// `limits[i]`), all or nothing. Returns the deciding limit's position
    /// from `first` and its verdict: the denying one, or when all allow, the
    /// one with the least remaining (what a client should be told);
    /// position -1 when there are no limits.
    public func spendAll(from first: Int, count: Int, limits: [RateLimit], now: UInt64, cost: Int) -> (
        limit: Int, verdict: GCRA.Verdict
    ) {
        var tightest = (
            limit: -1,
            verdict: GCRA.Verdict(allowed: true, tat: 0, slack: .max, interval: 1, retryAfter: 0, resetAfter: 0)
        )
        for i in 0..<count {
            let verdict = spend(first + i, limit: limits[first + i], now: now, cost: cost)
            guard verdict.allowed else {
                for j in 0..<i { refund(first + j, limit: limits[first + j], cost: cost) }
                return (i, verdict)
            }
            if tightest.limit < 0 || verdict.remaining < tightest.verdict.remaining { tightest = (i, verdict) }
        }
        return tightest
    }

    /// The stored TAT of a limit (tests, reload carry-over).
    public func tat(_ slot: Int) -> UInt64 { slots.load(slot) }

    public func setTAT(_ slot: Int, _ value: UInt64) { slots.store(slot, value) }
}
