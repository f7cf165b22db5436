import SwitchyardCore
import Testing

@Suite struct CircuitBreakerTests {
    typealias State = CircuitBreaker.State
    static let second: UInt64 = 1_000_000_000

    /// A breaker with no jitter, so open periods are exact.
    static func configuration(_ change: (inout BreakerConfiguration) -> Void = { _ in }) -> BreakerConfiguration {
        var configuration = BreakerConfiguration()
        configuration.openJitterPercent = 0
        // Small windows keep the sequences short; the mechanism is the same at the default.
        configuration.minimumNumberOfCalls = 20
        change(&configuration)
        return configuration
    }

    var random = SplitMix64(seed: 42)

    mutating func fail(_ breaker: inout CircuitBreaker, times: Int, at now: UInt64) {
        for _ in 0..<times {
            let permit = breaker.acquirePermit(at: now, random: &random)
            _ = breaker.record(.failure, generation: permit?.generation ?? breaker.generation, at: now, random: &random)
        }
    }

    mutating func succeed(_ breaker: inout CircuitBreaker, times: Int, at now: UInt64) {
        for _ in 0..<times {
            let permit = breaker.acquirePermit(at: now, random: &random)
            _ = breaker.record(.success, generation: permit?.generation ?? breaker.generation, at: now, random: &random)
        }
    }

    /// A breaker brought into `state` at time 10 s.
    mutating func breaker(in state: State, probes: Int = 5) -> CircuitBreaker {
        var breaker = CircuitBreaker(
            configuration: Self.configuration { $0.permittedNumberOfCallsInHalfOpenState = probes })
        let now = 10 * Self.second
        switch state {
        case .closed: break
        case .open: fail(&breaker, times: 10, at: now)
        case .halfOpen:
            fail(&breaker, times: 10, at: now)
            breaker.advance(to: breaker.openUntil, random: &random)
        case .forcedOpen, .forcedClosed, .disabled: breaker.force(state, at: now)
        }
        #expect(breaker.state == state)
        return breaker
    }

    // MARK: - Closed

    @Test mutating func consecutiveFailuresTrip() {
        var breaker = CircuitBreaker(configuration: Self.configuration())
        fail(&breaker, times: 9, at: Self.second)
        #expect(breaker.state == .closed, "below both thresholds")
        fail(&breaker, times: 1, at: Self.second)
        #expect(breaker.state == .open)
        #expect(breaker.lastTransition?.reason == .consecutiveFailures)
        #expect(breaker.openUntil == Self.second + 5 * Self.second)
    }

    @Test mutating func aRunOfFailuresIsCountedInTheOrderTheCallsWereMade() {
        var breaker = CircuitBreaker(configuration: Self.configuration())
        let now = 100 * Self.second
        func report(_ outcome: CircuitBreaker.Outcome, calledAt second: UInt64) {
            _ = breaker.record(
                outcome, generation: breaker.generation, at: now, calledAt: second * Self.second, random: &random)
        }
        report(.success, calledAt: 50)
        for second: UInt64 in 60..<69 { report(.failure, calledAt: second) }
        // Successes of calls made before the run began, reported late, do not end it.
        report(.success, calledAt: 55)
        report(.success, calledAt: 59)
        #expect(breaker.state == .closed)
        report(.failure, calledAt: 69)
        #expect(breaker.state == .open, "ten failures in call order")
        #expect(breaker.lastTransition?.reason == .consecutiveFailures)

        var other = CircuitBreaker(configuration: Self.configuration())
        for second: UInt64 in 60..<69 {
            _ = other.record(
                .failure, generation: other.generation, at: now, calledAt: second * Self.second, random: &random)
        }
        // A success of a call made amid the failures ends the run of those before it.
        _ = other.record(.success, generation: other.generation, at: now, calledAt: 65 * Self.second, random: &random)
        _ = other.record(.failure, generation: other.generation, at: now, calledAt: 70 * Self.second, random: &random)
        #expect(other.state == .closed, "66, 67, 68 and 70: four in a row")
    }

    @Test mutating func aForcedClosedBreakerCountsFailuresWithoutEverTripping() {
        var breaker = CircuitBreaker(configuration: Self.configuration())
        breaker.force(.forcedClosed, at: Self.second)
        fail(&breaker, times: 10_000, at: 2 * Self.second)
        #expect(breaker.state == .forcedClosed)
        breaker.reset(at: 3 * Self.second)
        fail(&breaker, times: 9, at: 4 * Self.second)
        #expect(breaker.state == .closed, "a reset starts a new run")
    }

    @Test mutating func failureRateTripsOnlyWithEnoughCalls() {
        var breaker = CircuitBreaker(configuration: Self.configuration { $0.consecutiveFailureThreshold = 1_000 })
        for _ in 0..<9 {
            fail(&breaker, times: 1, at: Self.second)
            succeed(&breaker, times: 1, at: Self.second)
        }
        fail(&breaker, times: 1, at: Self.second)
        #expect(breaker.state == .closed, "19 calls: under minimumNumberOfCalls (20)")
        succeed(&breaker, times: 1, at: Self.second)
        #expect(breaker.state == .open, "20 calls, 50% failed")
        #expect(breaker.lastTransition?.reason == .failureRate)
    }

    @Test mutating func oldFailuresLeaveTheWindow() {
        var breaker = CircuitBreaker(configuration: Self.configuration { $0.consecutiveFailureThreshold = 1_000 })
        fail(&breaker, times: 15, at: Self.second)
        // Ten seconds later those failures have left the 10-second window.
        succeed(&breaker, times: 15, at: 11 * Self.second)
        fail(&breaker, times: 6, at: 11 * Self.second)
        #expect(breaker.state == .closed, "6 of 21 calls in the window failed")
    }

    @Test mutating func successesEndARunOfFailures() {
        var breaker = CircuitBreaker(configuration: Self.configuration())
        for _ in 0..<5 {
            fail(&breaker, times: 9, at: Self.second)
            succeed(&breaker, times: 30, at: Self.second)
        }
        #expect(breaker.state == .closed)
    }

    /// The target: a gateway that fails every call, at 50 calls per
    /// second after a long healthy run, is caught within 30 failures or 5 s.
    @Test mutating func anOutageIsDetectedWithinThirtyFailures() {
        var breaker = CircuitBreaker()
        var now: UInt64 = 0
        for _ in 0..<3_000 {
            now += Self.second / 50
            succeed(&breaker, times: 1, at: now)
        }
        var failures = 0
        while breaker.state == .closed && failures < 1_000 {
            now += Self.second / 50
            fail(&breaker, times: 1, at: now)
            failures += 1
        }
        #expect(failures <= 30)
        #expect(UInt64(failures) * Self.second / 50 <= 5 * Self.second)
    }

    // MARK: - Open and half-open

    @Test mutating func openGrantsNothingUntilItsPeriodEnds() {
        var breaker = breaker(in: .open)
        #expect(breaker.acquirePermit(at: breaker.openUntil - 1, random: &random) == nil)
        let permit = breaker.acquirePermit(at: breaker.openUntil, random: &random)
        #expect(breaker.state == .halfOpen)
        #expect(permit?.isProbe == true)
        #expect(breaker.lastTransition?.reason == .openPeriodOver)
    }

    @Test mutating func halfOpenGrantsABoundedNumberOfProbes() {
        var breaker = breaker(in: .halfOpen)
        let now = breaker.openUntil
        let permits = (0..<7).map { _ in breaker.acquirePermit(at: now, random: &random) }
        #expect(permits.compactMap { $0 }.count == 5)
        #expect(permits[5] == nil && permits[6] == nil)
    }

    @Test mutating func probesCloseOnceTheFailedOnesCanNoLongerReachTheThreshold() {
        var breaker = breaker(in: .halfOpen)
        let now = breaker.openUntil
        let permits = (0..<5).compactMap { _ in breaker.acquirePermit(at: now, random: &random) }
        let outcomes: [CircuitBreaker.Outcome] = [.success, .failure, .success, .success]
        for (i, outcome) in outcomes.enumerated() {
            _ = breaker.record(outcome, generation: permits[i].generation, at: now, random: &random)
            #expect(breaker.state == (i < 3 ? .halfOpen : .closed), "three successes of five close, one failure or not")
        }
        #expect(breaker.lastTransition?.reason == .probesSucceeded)
    }

    @Test mutating func probesFailingAtTheThresholdReopenForLonger() {
        var breaker = breaker(in: .halfOpen)
        let now = breaker.openUntil
        let permits = (0..<5).compactMap { _ in breaker.acquirePermit(at: now, random: &random) }
        let outcomes: [CircuitBreaker.Outcome] = [.failure, .success, .failure, .failure]
        for (i, outcome) in outcomes.enumerated() {
            _ = breaker.record(outcome, generation: permits[i].generation, at: now, random: &random)
            #expect(breaker.state == (i < 3 ? .halfOpen : .open), "three failures of five (50 %) reopen")
        }
        #expect(breaker.lastTransition?.reason == .probeFailed)
        #expect(breaker.openUntil == now + 10 * Self.second, "the second open period in a row is doubled")
    }

    @Test mutating func withOneProbeItDecidesAlone() {
        var failing = breaker(in: .halfOpen, probes: 1)
        let permit = failing.acquirePermit(at: failing.openUntil, random: &random)!
        _ = failing.record(.failure, generation: permit.generation, at: failing.openUntil, random: &random)
        #expect(failing.state == .open)
        var succeeding = breaker(in: .halfOpen, probes: 1)
        let probe = succeeding.acquirePermit(at: succeeding.openUntil, random: &random)!
        _ = succeeding.record(.success, generation: probe.generation, at: succeeding.openUntil, random: &random)
        #expect(succeeding.state == .closed)
    }

    @Test mutating func unreportedProbesCountAsFailuresAfterTheirTimeout() {
        var breaker = breaker(in: .halfOpen)
        let issued = breaker.openUntil
        let permit = (0..<3).compactMap { _ in breaker.acquirePermit(at: issued, random: &random) }[0]
        #expect(breaker.advance(to: issued + 15 * Self.second - 1, random: &random) == nil)
        let transition = breaker.advance(to: issued + 15 * Self.second, random: &random)
        #expect(transition?.reason == .probeTimedOut)
        #expect(breaker.state == .open)
        // Its report arriving after all changes nothing.
        let late = breaker.record(
            .success, generation: permit.generation, at: issued + 16 * Self.second, random: &random)
        #expect(late == .ignored)
        #expect(breaker.state == .open)
    }

    @Test mutating func lateReportsFromAnOlderGenerationChangeNothing() {
        var breaker = CircuitBreaker(configuration: Self.configuration())
        let old = breaker.acquirePermit(at: Self.second, random: &random)!
        fail(&breaker, times: 10, at: Self.second)
        breaker.advance(to: breaker.openUntil, random: &random)
        let probe = breaker.acquirePermit(at: breaker.openUntil, random: &random)!
        #expect(probe.generation > old.generation)
        #expect(
            breaker.record(.failure, generation: old.generation, at: breaker.openUntil, random: &random) == .ignored)
        #expect(breaker.state == .halfOpen, "a stale failure did not reopen the breaker")
    }

    @Test mutating func openPeriodsBackOffToTheMaximumAndDecayWhenHealthy() {
        var breaker = CircuitBreaker(configuration: Self.configuration())
        var now = Self.second
        var periods: [UInt64] = []
        for _ in 0..<6 {
            fail(&breaker, times: 10, at: now)
            periods.append((breaker.openUntil - now) / Self.second)
            now = breaker.openUntil
            for _ in 0..<3 {
                let probe = breaker.acquirePermit(at: now, random: &random)!
                _ = breaker.record(.failure, generation: probe.generation, at: now, random: &random)
            }
            periods.append((breaker.openUntil - now) / Self.second)
            now = breaker.openUntil
            for _ in 0..<3 {
                let next = breaker.acquirePermit(at: now, random: &random)!
                _ = breaker.record(.success, generation: next.generation, at: now, random: &random)
            }
            #expect(breaker.state == .closed)
        }
        #expect(Array(periods.prefix(6)) == [5, 10, 20, 40, 60, 60], "doubling, capped at 60 s")
        // Three decay periods (60 s each) spent closed take three doublings off.
        now += 180 * Self.second
        fail(&breaker, times: 10, at: now)
        #expect((breaker.openUntil - now) / Self.second == 60, "level 12 - 3 still hits the cap")
        var fresh = CircuitBreaker(configuration: Self.configuration())
        fail(&fresh, times: 10, at: Self.second)
        let probe = fresh.acquirePermit(at: fresh.openUntil, random: &random)!
        now = fresh.openUntil
        for _ in 0..<3 {
            _ = fresh.record(.success, generation: probe.generation, at: now, random: &random)
            _ = fresh.acquirePermit(at: now, random: &random)
        }
        #expect(fresh.state == .closed)
        now += 60 * Self.second
        fail(&fresh, times: 10, at: now)
        #expect((fresh.openUntil - now) / Self.second == 5, "one healthy decay period undid the one trip")
    }

    @Test func jitterKeepsOpenPeriodsWithinTheirBoundsAndReplaysExactly() {
        func openPeriods(seed: UInt64) -> [UInt64] {
            var random = SplitMix64(seed: seed)
            return (0..<200).map { i in
                var breaker = CircuitBreaker()
                let now = UInt64(i) * Self.second
                for _ in 0..<10 {
                    _ = breaker.record(.failure, generation: breaker.generation, at: now, random: &random)
                }
                return breaker.openUntil - now
            }
        }
        let periods = openPeriods(seed: 7)
        #expect(periods.allSatisfy { $0 >= 4 * Self.second && $0 <= 6 * Self.second }, "5 s ± 20%")
        #expect(Set(periods).count > 100, "jitter spreads them")
        #expect(periods == openPeriods(seed: 7), "the same seed replays the same periods")
    }

    // MARK: - The whole state table

    enum Event: String, CaseIterable {
        case success, failure, timePasses, forceOpen, forceClosed, disable, reset
    }

    /// Every state crossed with every event, and where it leads.
    static let table: [(State, Event, State)] = [
        (.closed, .success, .closed), (.closed, .failure, .closed), (.closed, .timePasses, .closed),
        (.closed, .forceOpen, .forcedOpen), (.closed, .forceClosed, .forcedClosed), (.closed, .disable, .disabled),
        (.closed, .reset, .closed),
        (.open, .success, .open), (.open, .failure, .open), (.open, .timePasses, .halfOpen),
        (.open, .forceOpen, .forcedOpen), (.open, .forceClosed, .forcedClosed), (.open, .disable, .disabled),
        (.open, .reset, .closed),
        (.halfOpen, .success, .closed), (.halfOpen, .failure, .open), (.halfOpen, .timePasses, .open),
        (.halfOpen, .forceOpen, .forcedOpen), (.halfOpen, .forceClosed, .forcedClosed),
        (.halfOpen, .disable, .disabled), (.halfOpen, .reset, .closed),
        (.forcedOpen, .success, .forcedOpen), (.forcedOpen, .failure, .forcedOpen),
        (.forcedOpen, .timePasses, .forcedOpen), (.forcedOpen, .forceOpen, .forcedOpen),
        (.forcedOpen, .forceClosed, .forcedClosed), (.forcedOpen, .disable, .disabled), (.forcedOpen, .reset, .closed),
        (.forcedClosed, .success, .forcedClosed), (.forcedClosed, .failure, .forcedClosed),
        (.forcedClosed, .timePasses, .forcedClosed), (.forcedClosed, .forceOpen, .forcedOpen),
        (.forcedClosed, .forceClosed, .forcedClosed), (.forcedClosed, .disable, .disabled),
        (.forcedClosed, .reset, .closed),
        (.disabled, .success, .disabled), (.disabled, .failure, .disabled), (.disabled, .timePasses, .disabled),
        (.disabled, .forceOpen, .forcedOpen), (.disabled, .forceClosed, .forcedClosed),
        (.disabled, .disable, .disabled),
        (.disabled, .reset, .closed),
    ]

    @Test func theTableCoversEveryStateAndEvent() {
        #expect(Self.table.count == State.allCases.count * Event.allCases.count)
        for state in State.allCases {
            for event in Event.allCases {
                #expect(Self.table.contains { $0.0 == state && $0.1 == event }, "\(state) x \(event)")
            }
        }
    }

    @Test(arguments: 0..<42)
    mutating func stateTable(row: Int) {
        let (from, event, expected) = Self.table[row]
        // One probe: each outcome of it decides.
        var breaker = breaker(in: from, probes: 1)
        let now = from == .halfOpen ? breaker.openUntil : 10 * Self.second
        // A half-open breaker has a probe out, so an outcome is that probe's
        // (and a minute later it has timed out).
        let permit = breaker.acquirePermit(at: now, random: &random)
        let generation = permit?.generation ?? breaker.generation
        let before = breaker.generation
        switch event {
        case .success: _ = breaker.record(.success, generation: generation, at: now, random: &random)
        case .failure: _ = breaker.record(.failure, generation: generation, at: now, random: &random)
        case .timePasses: breaker.advance(to: now + 61 * Self.second, random: &random)
        case .forceOpen: breaker.force(.forcedOpen, at: now)
        case .forceClosed: breaker.force(.forcedClosed, at: now)
        case .disable: breaker.force(.disabled, at: now)
        case .reset: breaker.reset(at: now)
        }
        #expect(breaker.state == expected, "\(from) x \(event)")
        #expect(
            (breaker.generation != before) == (breaker.state != from || event == .reset),
            "the generation moves exactly on transitions")
    }

    @Test mutating func forcedAndDisabledStatesGrantAsTheirNamesSay() {
        var forcedOpen = breaker(in: .forcedOpen)
        #expect(forcedOpen.acquirePermit(at: 1_000 * Self.second, random: &random) == nil)
        var forcedClosed = breaker(in: .forcedClosed)
        fail(&forcedClosed, times: 100, at: 11 * Self.second)
        #expect(forcedClosed.state == .forcedClosed, "never trips")
        #expect(forcedClosed.acquirePermit(at: 11 * Self.second, random: &random)?.isProbe == false)
        var disabled = breaker(in: .disabled)
        #expect(disabled.acquirePermit(at: 11 * Self.second, random: &random) != nil)
    }
}
