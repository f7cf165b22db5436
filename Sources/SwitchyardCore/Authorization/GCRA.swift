/// The generic cell rate algorithm over one stored time, the theoretical
/// arrival time (TAT): the moment the limit would be fully replenished.
/// A request of cost n at `now` would move it to max(TAT, now) + n·T; it is
/// admitted when that lies no further than τ + T ahead of now. A denied
/// request leaves the TAT as it was: it consumes nothing.
///
/// Pure arithmetic on integer nanoseconds; ``RateLimiterTable`` applies it
/// to shared atomics with one compare-and-swap.
public enum GCRA {
    /// What a limit says about one request.
    public struct Verdict: Equatable, Sendable {
        public var allowed: Bool
        /// The TAT to store when allowed (the stored one when denied).
        public var tat: UInt64
        /// Nanoseconds of the limit's horizon still unused right now.
        public var slack: UInt64
        /// The limit's emission interval, T.
        public var interval: UInt64
        /// When a denied request could succeed, 0 when allowed.
        public var retryAfter: UInt64
        /// When the limit is fully replenished.
        public var resetAfter: UInt64

        /// Units a request could still spend right now. Computed when asked:
        /// the division is the dearest step of a check, and the brute-force
        /// budgets never ask.
        public var remaining: Int { Int(slack / max(interval, 1)) }
    }

    public static func check(_ limit: RateLimit, tat stored: UInt64, now: UInt64, cost: Int) -> Verdict {
        let interval = limit.emissionInterval
        let horizon = limit.horizon
        let base = max(stored, now)
        let candidate = base &+ interval &* UInt64(cost)
        let ahead = candidate - now
        if ahead <= horizon {
            return Verdict(
                allowed: true, tat: candidate, slack: horizon - ahead, interval: interval, retryAfter: 0,
                resetAfter: ahead)
        }
        let current = base - now
        return Verdict(
            allowed: false, tat: stored, slack: horizon - min(current, horizon), interval: interval,
            retryAfter: ahead - horizon, resetAfter: current)
    }
}
