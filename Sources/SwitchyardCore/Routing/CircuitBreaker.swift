/// The circuit breaker of one gateway (and payment method): a state machine
/// with resilience4j's names, driven only by the calls made on it. Time and
/// randomness come in as parameters, so every sequence can be replayed.
///
/// - `closed`: traffic flows; outcomes go into a sliding window. It trips to
///   `open` when the failure rate reaches the threshold over enough calls, or
///   on a run of consecutive failures.
/// - `open`: no traffic until the open period (backing off with jitter) ends;
///   then `halfOpen`.
/// - `halfOpen`: a bounded number of probes; once the failed ones (a probe
///   not reported in time has failed) reach the failure-rate threshold of
///   those permitted: `open` again, for longer; once they no longer can:
///   `closed`.
/// - `forcedOpen`, `forcedClosed`, `disabled`: set by SREs, left only by
///   another order or a reset.
///
/// Every transition bumps `generation`. A permit carries the generation it was
/// granted in, and an outcome reported against an older generation changes
/// nothing: a late report cannot flip a newer state.
public struct CircuitBreaker: Equatable, Sendable {
    public enum State: String, Equatable, Sendable, CaseIterable {
        case closed, open, halfOpen = "half_open", forcedOpen = "forced_open"
        case forcedClosed = "forced_closed", disabled
    }

    /// An attributable outcome: customer and issuer declines never reach a breaker.
    public enum Outcome: Equatable, Sendable { case success, failure }

    public struct Permit: Equatable, Sendable {
        public let generation: UInt64
        /// True for a half-open probe: its result decides whether the breaker closes.
        public let isProbe: Bool
    }

    public struct Transition: Equatable, Sendable {
        public enum Reason: String, Equatable, Sendable {
            case failureRate = "failure_rate", consecutiveFailures = "consecutive_failures"
            case openPeriodOver = "open_period_over", probesSucceeded = "probes_succeeded"
            case probeFailed = "probe_failed", probeTimedOut = "probe_timed_out"
            case forced, reset
            /// Another instance of the fleet made this transition (through Redis).
            case fleet
        }

        public let from: State
        public let to: State
        public let reason: Reason
        /// The generation the breaker has after the transition.
        public let generation: UInt64
    }

    public enum RecordResult: Equatable, Sendable {
        /// Counted; the transition it caused, if any.
        case recorded(Transition?)
        /// From an older generation (or a state that takes no outcomes): ignored.
        case ignored
    }

    public let configuration: BreakerConfiguration
    public private(set) var state = State.closed
    public private(set) var generation: UInt64 = 1
    /// While open: when the open period ends.
    public private(set) var openUntil: UInt64 = 0
    /// The most recent transition, also when a call caused it indirectly (a
    /// probe timing out inside ``record(_:generation:at:random:)``): watch
    /// ``generation`` to notice one and log it.
    public private(set) var lastTransition: Transition?

    private var window: SlidingWindow
    /// When the calls behind the current run of failures were made. Reports
    /// arrive out of order (a success from before an outage can be reported
    /// after the outage's first failures), so a run is counted in the order
    /// the calls were made: the failures of calls made after the newest
    /// successful call reported so far.
    private var failedCalls: [UInt64] = []
    private var newestSuccessfulCall: UInt64 = 0
    /// Trips in a row, minus decay: the exponent of the open period.
    private var backoffLevel = 0
    private var closedSince: UInt64 = 0
    private var probesGranted = 0
    private var probeSuccesses = 0
    private var probeFailures = 0
    /// Issue times of the probes not yet reported, oldest first.
    private var outstandingProbes: [UInt64] = []

    /// Half-open probes sent and not yet reported.
    public var probesInFlight: Int { outstandingProbes.count }

    public init(configuration: BreakerConfiguration = BreakerConfiguration()) {
        self.configuration = configuration
        window = SlidingWindow(seconds: configuration.slidingWindowSeconds)
        outstandingProbes.reserveCapacity(BreakerConfiguration.maxProbes)
        failedCalls.reserveCapacity(configuration.consecutiveFailureThreshold)
    }

    // MARK: - Traffic

    /// Moves the breaker along with time: an open period that has ended makes
    /// it half-open; a probe overdue for its report counts as a failure.
    @discardableResult
    public mutating func advance(to now: UInt64, random: inout some RandomNumberGenerator) -> Transition? {
        switch state {
        case .open where now >= openUntil:
            return move(to: .halfOpen, .openPeriodOver, at: now)
        case .halfOpen:
            var overdue = false
            while let oldest = outstandingProbes.first, now >= oldest &+ configuration.probeTimeout {
                outstandingProbes.removeFirst()
                probeFailures += 1
                overdue = true
            }
            return overdue ? judgeProbes(failing: .probeTimedOut, at: now, random: &random) : nil
        default:
            return nil
        }
    }

    /// Asks to send one call to the gateway. Nil means "not now" (open, or
    /// every half-open probe is already out).
    public mutating func acquirePermit(at now: UInt64, random: inout some RandomNumberGenerator) -> Permit? {
        advance(to: now, random: &random)
        switch state {
        case .closed, .forcedClosed, .disabled:
            return Permit(generation: generation, isProbe: false)
        case .open, .forcedOpen:
            return nil
        case .halfOpen:
            guard probesGranted < permittedProbes else { return nil }
            probesGranted += 1
            outstandingProbes.append(now)
            return Permit(generation: generation, isProbe: true)
        }
    }

    /// Records the outcome of a call made under a permit of `generation`, at
    /// `calledAt` (now, when unknown).
    public mutating func record(
        _ outcome: Outcome, generation: UInt64, at now: UInt64, calledAt: UInt64? = nil,
        random: inout some RandomNumberGenerator
    ) -> RecordResult {
        // A probe overdue by now has already failed: its late report must not count.
        advance(to: now, random: &random)
        guard generation == self.generation else { return .ignored }
        switch state {
        case .open, .forcedOpen, .disabled:
            return .ignored
        case .forcedClosed:
            count(outcome, at: now, calledAt: calledAt ?? now)
            return .recorded(nil)
        case .closed:
            count(outcome, at: now, calledAt: calledAt ?? now)
            if failedCalls.count >= configuration.consecutiveFailureThreshold {
                return .recorded(trip(.consecutiveFailures, at: now, random: &random))
            }
            if let rate = window.failureRate(at: now, minimumCalls: configuration.minimumNumberOfCalls),
                rate >= configuration.failureRateThreshold
            {
                return .recorded(trip(.failureRate, at: now, random: &random))
            }
            return .recorded(nil)
        case .halfOpen:
            // An outcome with no probe out is a call that was already under
            // way when the breaker turned half-open: it proves nothing.
            guard !outstandingProbes.isEmpty else { return .ignored }
            outstandingProbes.removeFirst()
            if outcome == .failure { probeFailures += 1 } else { probeSuccesses += 1 }
            return .recorded(judgeProbes(failing: .probeFailed, at: now, random: &random))
        }
    }

    // MARK: - SRE orders

    /// Forces a state (`forcedOpen`, `forcedClosed` or `disabled`); the
    /// breaker stays there until another order or ``reset(at:)``.
    @discardableResult
    public mutating func force(_ target: State, at now: UInt64) -> Transition? {
        precondition([.forcedOpen, .forcedClosed, .disabled].contains(target), "only manual states can be forced")
        guard target != state else { return nil }
        return move(to: target, .forced, at: now)
    }

    /// Back to a fresh `closed` breaker: empty window, no backoff.
    @discardableResult
    public mutating func reset(at now: UInt64) -> Transition {
        backoffLevel = 0
        return move(to: .closed, .reset, at: now)
    }

    // MARK: - The fleet

    /// Takes a transition another instance made: open until `openUntil`
    /// (on this clock), or closed. A forced or disabled breaker keeps its
    /// order; a breaker already there changes nothing.
    @discardableResult
    public mutating func adopt(_ target: State, openUntil until: UInt64, at now: UInt64) -> Transition? {
        guard [.closed, .open, .halfOpen].contains(state) else { return nil }
        switch target {
        case .open where state != .open || openUntil != until:
            openUntil = until
            backoffLevel += state == .open ? 0 : 1
            return move(to: .open, .fleet, at: now)
        case .closed where state != .closed:
            return move(to: .closed, .fleet, at: now)
        default:
            return nil
        }
    }

    // MARK: - Internals

    private var permittedProbes: Int {
        min(max(1, configuration.permittedNumberOfCallsInHalfOpenState), BreakerConfiguration.maxProbes)
    }

    /// The half-open verdict, as soon as the probes settle it (resilience4j's
    /// rule, decided early): open again once the failed probes reach the
    /// failure-rate threshold of those permitted; closed once they no longer
    /// can. One failed probe in five is the noise of a healthy gateway, not
    /// a reason to keep it out for another, longer, open period.
    private mutating func judgeProbes(
        failing reason: Transition.Reason, at now: UInt64, random: inout some RandomNumberGenerator
    ) -> Transition? {
        let threshold = configuration.failureRateThreshold * permittedProbes
        if probeFailures * 100 >= threshold { return trip(reason, at: now, random: &random) }
        if (permittedProbes - probeSuccesses) * 100 < threshold { return move(to: .closed, .probesSucceeded, at: now) }
        return nil
    }

    private mutating func count(_ outcome: Outcome, at now: UInt64, calledAt: UInt64) {
        window.record(failure: outcome == .failure, at: now)
        // Calls made at the same moment are taken as failure first, success after.
        guard calledAt >= newestSuccessfulCall else { return }
        if outcome == .failure {
            // Only the newest `threshold` matter (a success removes older ones
            // first): a forced-closed breaker, which never trips, stays bounded.
            if failedCalls.count < configuration.consecutiveFailureThreshold {
                failedCalls.append(calledAt)
            } else if let oldest = failedCalls.indices.min(by: { failedCalls[$0] < failedCalls[$1] }),
                failedCalls[oldest] < calledAt
            {
                failedCalls[oldest] = calledAt
            }
        } else {
            newestSuccessfulCall = calledAt
            failedCalls.removeAll { $0 <= calledAt }
        }
    }

    /// Opens for `base × 2^level` (capped) times a jitter factor; the level
    /// first loses one step per `backoffDecay` spent closed since the last close.
    private mutating func trip(
        _ reason: Transition.Reason, at now: UInt64, random: inout some RandomNumberGenerator
    ) -> Transition {
        if state == .closed, configuration.backoffDecay > 0 {
            let healthyPeriods = Int(min((now &- closedSince) / configuration.backoffDecay, UInt64(Int.max)))
            backoffLevel = max(0, backoffLevel - healthyPeriods)
        }
        let doublings = min(backoffLevel, 32)
        let base = configuration.waitDurationInOpenState
        let period = min(
            base.multipliedReportingOverflow(by: UInt64(1) << doublings).partialValue,
            configuration.maxWaitDurationInOpenState)
        let jitter = Double(configuration.openJitterPercent) / 100
        let factor = 1 + jitter * (Double.random(in: 0..<1, using: &random) * 2 - 1)
        openUntil = now &+ UInt64(Double(period) * factor)
        backoffLevel += 1
        return move(to: .open, reason, at: now)
    }

    private mutating func move(to target: State, _ reason: Transition.Reason, at now: UInt64) -> Transition {
        let from = state
        state = target
        generation += 1
        probesGranted = 0
        probeSuccesses = 0
        probeFailures = 0
        outstandingProbes.removeAll(keepingCapacity: true)
        if target == .closed {
            closedSince = now
            window.clear()
            failedCalls.removeAll(keepingCapacity: true)
        }
        let transition = Transition(from: from, to: target, reason: reason, generation: generation)
        lastTransition = transition
        return transition
    }
}
