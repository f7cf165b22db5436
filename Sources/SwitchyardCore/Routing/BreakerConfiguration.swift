/// When a gateway's breaker opens, how long it stays open, and how it is
/// probed back. Names follow resilience4j where the concept is the same.
/// All durations are nanoseconds of the injected clock.
public struct BreakerConfiguration: Equatable, Sendable {
    /// Trip when, over the sliding window, at least this percentage of calls
    /// failed (gateway errors and timeouts only)...
    public var failureRateThreshold: Int = 50
    /// ...and the window holds at least this many calls (resilience4j's
    /// default: with 20, the routing simulator saw a gateway failing 30 % of
    /// its few exploration calls trip a hundred times a day at 1,000
    /// payments a second; hard outages trip on consecutive failures anyway).
    public var minimumNumberOfCalls: Int = 100
    /// The sliding window, in whole seconds (one bucket per second).
    public var slidingWindowSeconds: Int = 10
    /// Trip on this many attributable failures in a row, whatever the window
    /// says: a gateway that starts failing every call after a long healthy run
    /// would otherwise need as many failures as the window holds successes.
    public var consecutiveFailureThreshold: Int = 10
    /// First open period; each trip in a row doubles it, up to the maximum.
    public var waitDurationInOpenState: UInt64 = 5_000_000_000
    public var maxWaitDurationInOpenState: UInt64 = 60_000_000_000
    /// The open period is multiplied by a factor drawn from 1 ± jitter, so a
    /// fleet of instances does not probe a recovering gateway in lockstep.
    public var openJitterPercent: Int = 20
    /// Each period of this length spent closed takes one doubling off the next
    /// open period.
    public var backoffDecay: UInt64 = 60_000_000_000
    /// Probes a half-open breaker grants. It opens again once the failed
    /// ones reach `failureRateThreshold` percent of them, and closes once
    /// they no longer can (at 50 %: three failures of five reopen, three
    /// successes close).
    public var permittedNumberOfCallsInHalfOpenState: Int = 5
    /// A probe not reported within this time counts as a failure.
    public var probeTimeout: UInt64 = 15_000_000_000

    public init() {}

    /// The most probes any configuration may grant (bounds a fixed-size table).
    public static let maxProbes = 16
}
