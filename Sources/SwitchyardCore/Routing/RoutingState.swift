import Foundation

/// The authoritative routing state of one instance: decayed success counts
/// per gateway at fleet and merchant level, latency averages and breakers.
/// One thread owns it (the merger); it folds in outcomes and probe grants
/// from the event loops and publishes immutable ``RoutingSnapshot``s for
/// them to decide on. Pure: time and randomness come in as parameters.
public struct RoutingState: Sendable {
    public private(set) var table: RoutingTable
    /// Score key → row; a row is `gatewayCount` estimates in `estimates`.
    /// Flat, so counting an outcome updates an element in place.
    private var rows: [UInt64: Int] = [:]
    private var rowKeys: [UInt64] = []
    private var estimates: [SuccessEstimate] = []
    /// Per breaker slot: the average reported latency (ms), 0 before the first report.
    private var latencies: [Double]
    public private(set) var breakers: [CircuitBreaker]
    /// Per breaker slot: the first snapshot version that shows its current
    /// generation. A decision made on an older snapshot saw an older state,
    /// so its outcome must not move the breaker.
    private var visibleSince: [UInt32]
    public let tickets: ProbeTickets
    public private(set) var version: UInt32 = 0
    /// When recent snapshots were built, by version (a ring): the time a
    /// reported decision was made, for breakers that count failures in call order.
    private var builtAt = Array(
        repeating: (version: UInt32.max, time: UInt64(0)), count: RoutingState.versionsRemembered)
    /// Snapshots remembered: 164 s at the default 10 ms interval. A report
    /// of an older decision counts as a call made long ago.
    static let versionsRemembered = 16_384
    public private(set) var counters = RoutingCounters()
    /// Transitions since the last ``takeTransitions()``, for the log.
    private var transitions: [(breaker: Int, CircuitBreaker.Transition)] = []
    /// In a fleet, one instance probes a half-open gateway for all: a breaker
    /// that turns half-open gets its probe tickets only from ``grantProbes(breaker:generation:)``,
    /// once this instance has won the right to probe it; until then it waits
    /// in ``awaitingProbes`` (and the gateway ranks as half-open, unprobed).
    public var probesAwaitFleet = false
    public private(set) var awaitingProbes: [Int] = []
    /// Per fleet score key (method, and full segment): the outcomes reported
    /// per gateway over the last minute, for the health table's traffic share.
    var traffic: [UInt64: [SlidingWindow]] = [:]
    /// Per breaker slot (gateway × method), for metrics: reports by outcome
    /// (indexed by `PaymentOutcome.rawValue`) and breaker transitions.
    public private(set) var slotCounts: [SlotCounts]
    /// Per breaker slot that tripped: the gateway's scores for the method as
    /// they stood then (score key → estimate). An outage is not the
    /// gateway's normal: when it closes again, the scores resume from here,
    /// without what they learned while it was failing (the failures of
    /// payments still in flight at the trip, the failed probes).
    private var scoresAtTrip: [Int: [UInt64: SuccessEstimate]] = [:]

    public struct SlotCounts: Equatable, Sendable {
        public var reports: [UInt64] = [0, 0, 0, 0, 0]
        public var transitions: UInt64 = 0
    }

    /// The weight of the newest latency in the average.
    static let latencySmoothing = 0.05
    /// Scores whose evidence has decayed below this are forgotten.
    static let negligibleEvidence = 0.001

    public init(table: RoutingTable) {
        self.table = table
        let slots = table.gatewayCount * table.methodCount
        latencies = Array(repeating: 0, count: slots)
        breakers = Array(repeating: CircuitBreaker(configuration: table.routing.breaker), count: slots)
        visibleSince = Array(repeating: 0, count: slots)
        slotCounts = Array(repeating: SlotCounts(), count: slots)
        tickets = ProbeTickets(breakers: slots)
    }

    /// A state for a new table that keeps everything still meaningful under
    /// it: scores, latencies and breakers of the gateways, methods, merchants
    /// and segment values that still exist (matched by name).
    public init(table: RoutingTable, carryingOver old: RoutingState) {
        self.init(table: table)
        let oldTable = old.table
        let gatewayMap = oldTable.gateways.map { table.gatewayIDs.index(of: $0.id) }
        let methodMap = oldTable.methods.names.map { table.methods.index(of: $0) }
        let merchantMap = oldTable.merchants.names.map { table.merchants.index(of: $0) }
        let sameSegments =
            oldTable.routing.segments == table.routing.segments
            && oldTable.networks.names == table.networks.names
            && oldTable.currencies.names == table.currencies.names
        for (oldRow, key) in old.rowKeys.enumerated() {
            let segment = ScoreKey.segment(key)
            guard let method = methodMap[Int(segment.method)] else { continue }
            // Other segment dimensions are only kept when their meaning is unchanged.
            if !sameSegments && segment != segment.methodOnly { continue }
            let mapped =
                sameSegments
                ? Segment(
                    method: UInt8(method), network: segment.network, currency: segment.currency, band: segment.band)
                : Segment(method: UInt8(method))
            var newKey = ScoreKey.fleet(mapped)
            if let merchant = ScoreKey.merchantIndex(key) {
                guard let newMerchant = merchantMap[merchant] else { continue }
                newKey = ScoreKey.merchant(newMerchant, mapped)
            }
            let row = self.row(for: newKey)
            for (oldGateway, gateway) in gatewayMap.enumerated() {
                guard let gateway else { continue }
                estimates[row * table.gatewayCount + gateway] =
                    old.estimates[oldRow * oldTable.gatewayCount + oldGateway]
            }
        }
        for (oldGateway, gateway) in gatewayMap.enumerated() {
            guard let gateway else { continue }
            for (oldMethod, method) in methodMap.enumerated() {
                guard let method else { continue }
                let from = oldTable.breakerIndex(gateway: oldGateway, method: oldMethod)
                let to = table.breakerIndex(gateway: gateway, method: method)
                latencies[to] = old.latencies[from]
                slotCounts[to] = old.slotCounts[from]
                // A changed breaker configuration starts a fresh breaker.
                if old.breakers[from].configuration == table.routing.breaker { breakers[to] = old.breakers[from] }
                visibleSince[to] = old.visibleSince[from]
                if breakers[to].state == .halfOpen {
                    tickets.open(
                        to, generation: breakers[to].generation,
                        probes: max(0, old.tickets.remaining(from, generation: breakers[to].generation)))
                }
            }
        }
        version = old.version
        builtAt = old.builtAt
        counters = old.counters
        probesAwaitFleet = old.probesAwaitFleet
        for slot in breakers.indices
        where probesAwaitFleet && breakers[slot].state == .halfOpen
            && tickets.remaining(slot, generation: breakers[slot].generation) == 0
        {
            awaitingProbes.append(slot)
        }
    }

    private var halfLife: UInt64 { UInt64(table.routing.halfLifeSeconds) * 1_000_000_000 }

    // MARK: - Folding in what the loops saw

    /// Counts one reported outcome.
    public mutating func record(_ report: OutcomeReport, at now: UInt64, random: inout some RandomNumberGenerator) {
        counters.reports[Int(report.outcome.rawValue)] += 1
        if report.decisionVersion == nil { counters.unknownDecisions += 1 }
        let slot = table.breakerIndex(gateway: report.gateway, method: Int(report.segment.method))
        slotCounts[slot].reports[Int(report.outcome.rawValue)] += 1
        if report.latencyMilliseconds > 0 {
            let latency = Double(report.latencyMilliseconds)
            latencies[slot] =
                latencies[slot] == 0
                ? latency : latencies[slot] + RoutingState.latencySmoothing * (latency - latencies[slot])
        }
        countTraffic(report.gateway, key: ScoreKey.fleet(report.segment.methodOnly), at: now)
        if report.segment != report.segment.methodOnly {
            countTraffic(report.gateway, key: ScoreKey.fleet(report.segment), at: now)
        }
        guard let success = report.outcome.attributableSuccess else { return }
        count(success, gateway: report.gateway, key: ScoreKey.fleet(report.segment.methodOnly), at: now)
        count(success, gateway: report.gateway, key: ScoreKey.merchant(report.merchant, report.segment), at: now)
        if report.segment != report.segment.methodOnly {
            count(success, gateway: report.gateway, key: ScoreKey.fleet(report.segment), at: now)
        }

        // Scalars only: a copy of the breaker would share its window's
        // storage, and the update below would then copy it (an allocation).
        let generation = breakers[slot].generation
        let state = breakers[slot].state
        if let decided = report.decisionVersion {
            // Versions wrap; a decision is from the current generation when it
            // is no older than the first snapshot that showed it.
            guard Int32(bitPattern: decided &- visibleSince[slot]) >= 0 else {
                counters.staleForBreaker += 1
                return
            }
        } else {
            // Without the decision we cannot tell a probe from an older call:
            // such reports move a breaker only while it counts every call.
            guard state == .closed || state == .forcedClosed else { return }
        }
        let calledAt = report.decisionVersion.map { decided in
            let entry = builtAt[Int(decided) % RoutingState.versionsRemembered]
            return entry.version == decided ? entry.time : 0
        }
        _ = breakers[slot].record(
            success ? .success : .failure, generation: generation, at: now, calledAt: calledAt, random: &random)
        noteTransition(slot, from: generation)
    }

    private mutating func count(_ success: Bool, gateway: Int, key: UInt64, at now: UInt64) {
        count(
            FleetHealth.Counts(successes: success ? 1 : 0, failures: success ? 0 : 1), gateway: gateway, key: key,
            at: now)
    }

    private mutating func count(_ counts: FleetHealth.Counts, gateway: Int, key: UInt64, at now: UInt64) {
        let halfLife = self.halfLife
        estimates[row(for: key) * table.gatewayCount + gateway].add(
            successes: Double(counts.successes), failures: Double(counts.failures), at: now, halfLife: halfLife)
    }

    private mutating func countTraffic(_ gateway: Int, key: UInt64, at now: UInt64) {
        let gateways = table.gatewayCount
        traffic[key, default: Array(repeating: SlidingWindow(seconds: 60), count: gateways)][gateway].record(
            failure: false, at: now)
    }

    /// Folds in outcomes other instances of the fleet saw for a gateway and
    /// segment: into the fleet-level scores only (merchant scores and
    /// breakers stay this instance's own).
    public mutating func absorb(_ counts: FleetHealth.Counts, gateway: Int, segment: Segment, at now: UInt64) {
        guard gateway < table.gatewayCount, !counts.isEmpty else { return }
        counters.fleetOutcomes += UInt64(counts.successes + counts.failures)
        count(counts, gateway: gateway, key: ScoreKey.fleet(segment.methodOnly), at: now)
        if segment != segment.methodOnly { count(counts, gateway: gateway, key: ScoreKey.fleet(segment), at: now) }
    }

    /// The row of a score key, added (empty) when new.
    private mutating func row(for key: UInt64) -> Int {
        if let row = rows[key] { return row }
        rows[key] = rowKeys.count
        rowKeys.append(key)
        estimates.append(contentsOf: repeatElement(SuccessEstimate(), count: table.gatewayCount))
        return rowKeys.count - 1
    }

    /// A loop sent a half-open probe to a gateway.
    public mutating func probeGranted(
        breaker slot: Int, generation: UInt64, at now: UInt64, random: inout some RandomNumberGenerator
    ) {
        guard breakers[slot].generation == generation else { return }
        let before = breakers[slot].generation
        if breakers[slot].acquirePermit(at: now, random: &random)?.isProbe == true { counters.probesGranted += 1 }
        noteTransition(slot, from: before)
    }

    /// Moves every breaker along with time: open periods that ended, probes
    /// overdue for their report.
    public mutating func advance(to now: UInt64, random: inout some RandomNumberGenerator) {
        for slot in breakers.indices {
            let before = breakers[slot].generation
            breakers[slot].advance(to: now, random: &random)
            noteTransition(slot, from: before)
        }
    }

    // MARK: - SRE orders

    public mutating func force(_ state: CircuitBreaker.State, breaker slot: Int, at now: UInt64) {
        let before = breakers[slot].generation
        if state == .closed { breakers[slot].reset(at: now) } else { breakers[slot].force(state, at: now) }
        noteTransition(slot, from: before)
    }

    /// Takes a breaker transition another instance of the fleet made.
    public mutating func adopt(_ state: CircuitBreaker.State, breaker slot: Int, openUntil: UInt64, at now: UInt64) {
        let before = breakers[slot].generation
        breakers[slot].adopt(state, openUntil: openUntil, at: now)
        noteTransition(slot, from: before)
    }

    /// Breaker transitions since the last call, oldest first.
    public mutating func takeTransitions() -> [(breaker: Int, CircuitBreaker.Transition)] {
        defer { transitions.removeAll() }
        return transitions
    }

    private mutating func noteTransition(_ slot: Int, from generation: UInt64) {
        guard breakers[slot].generation != generation else { return }
        let breaker = breakers[slot]
        guard let transition = breaker.lastTransition else { return }
        counters.breakerTransitions += 1
        slotCounts[slot].transitions += 1
        transitions.append((slot, transition))
        keepScoresAcross(transition, slot: slot)
        visibleSince[slot] = version &+ 1
        awaitingProbes.removeAll { $0 == slot }
        if breaker.state == .halfOpen, probesAwaitFleet {
            tickets.close(slot)
            awaitingProbes.append(slot)
        } else if breaker.state == .halfOpen {
            tickets.open(
                slot, generation: breaker.generation,
                probes: breaker.configuration.permittedNumberOfCallsInHalfOpenState)
        } else {
            tickets.close(slot)
        }
    }

    private mutating func keepScoresAcross(_ transition: CircuitBreaker.Transition, slot: Int) {
        let gateway = slot / table.methodCount
        let method = UInt8(slot % table.methodCount)
        switch (transition.from, transition.to) {
        case (.closed, .open):
            var kept: [UInt64: SuccessEstimate] = [:]
            for (row, key) in rowKeys.enumerated() where ScoreKey.segment(key).method == method {
                kept[key] = estimates[row * table.gatewayCount + gateway]
            }
            scoresAtTrip[slot] = kept
        case (.halfOpen, .closed), (.open, .closed):
            guard let kept = scoresAtTrip.removeValue(forKey: slot),
                transition.reason == .probesSucceeded || transition.reason == .fleet
            else { return }
            for (row, key) in rowKeys.enumerated() where ScoreKey.segment(key).method == method {
                estimates[row * table.gatewayCount + gateway] = kept[key] ?? SuccessEstimate()
            }
        case (_, .open), (_, .halfOpen):
            return
        default:
            scoresAtTrip[slot] = nil
        }
    }

    /// This instance won the right to probe a half-open breaker for the
    /// fleet: its probe tickets open. False when the breaker has moved on.
    @discardableResult
    public mutating func grantProbes(breaker slot: Int, generation: UInt64) -> Bool {
        guard breakers[slot].state == .halfOpen, breakers[slot].generation == generation,
            awaitingProbes.contains(slot)
        else { return false }
        awaitingProbes.removeAll { $0 == slot }
        tickets.open(
            slot, generation: generation, probes: breakers[slot].configuration.permittedNumberOfCallsInHalfOpenState)
        return true
    }

    // MARK: - Publishing

    /// Builds the snapshot decisions read from now on.
    public mutating func snapshot(at now: UInt64) -> RoutingSnapshot {
        version &+= 1
        builtAt[Int(version) % RoutingState.versionsRemembered] = (version, now)
        let gateways = table.gatewayCount
        let weight = table.routing.priorWeight
        var published: [UInt64: Int] = [:]
        var first: [Double] = []
        var second: [Double] = []
        var methodMeans: [UInt8: [Double]] = [:]

        func add(_ key: UInt64, _ values: [(Double, Double)]) {
            published[key] = published.count
            for (a, b) in values {
                first.append(a)
                second.append(b)
            }
        }
        // Decay every row to now; rows with nothing left are forgotten.
        var evidence: [UInt64: [(Double, Double)]] = [:]
        var keptKeys: [UInt64] = []
        var keptEstimates: [SuccessEstimate] = []
        for (row, key) in rowKeys.enumerated() {
            let slice = estimates[row * gateways..<(row + 1) * gateways]
            let counts = slice.map { $0.evidence(at: now, halfLife: halfLife) }
            guard counts.contains(where: { $0.successes + $0.failures >= RoutingState.negligibleEvidence }) else {
                continue
            }
            evidence[key] = counts.map { ($0.successes, $0.failures) }
            keptKeys.append(key)
            keptEstimates.append(contentsOf: slice)
        }
        if keptKeys.count != rowKeys.count {
            rowKeys = keptKeys
            estimates = keptEstimates
            rows = Dictionary(uniqueKeysWithValues: keptKeys.enumerated().map { ($1, $0) })
        }

        // Method level: a gateway with no evidence starts at the smoothed
        // average of its peers for the method.
        for (key, counts) in evidence where ScoreKey.merchantIndex(key) == nil {
            let segment = ScoreKey.segment(key)
            guard segment == segment.methodOnly else { continue }
            let successes = counts.reduce(0) { $0 + $1.0 }
            let total = counts.reduce(0) { $0 + $1.0 + $1.1 }
            let root = (successes + weight * table.routing.priorSuccessRate) / (total + weight)
            let posteriors = counts.map {
                SuccessEstimate.Posterior(priorMean: root, priorWeight: weight, successes: $0.0, failures: $0.1)
            }
            methodMeans[segment.method] = posteriors.map(\.mean)
            add(key, posteriors.map { ($0.alpha, $0.beta) })
        }
        for (key, counts) in evidence {
            let segment = ScoreKey.segment(key)
            if ScoreKey.merchantIndex(key) != nil {
                add(key, counts)
            } else if segment != segment.methodOnly {
                let parent =
                    methodMeans[segment.method]
                    ?? Array(repeating: table.routing.priorSuccessRate, count: gateways)
                add(
                    key,
                    zip(parent, counts).map {
                        let posterior = SuccessEstimate.Posterior(
                            priorMean: $0, priorWeight: weight, successes: $1.0, failures: $1.1)
                        return (posterior.alpha, posterior.beta)
                    })
            }
        }
        return RoutingSnapshot(
            table: table, version: version, builtAt: now, rows: published, first: first, second: second,
            breakerStates: breakers.map(\.state), breakerGenerations: breakers.map(\.generation),
            latencies: latencies, tickets: tickets)
    }
}
