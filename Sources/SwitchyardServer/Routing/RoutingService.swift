import Glibc
import Logging
import SwitchyardCore
import SwitchyardPosix
import Synchronization

/// The routing brain of a server, shared by its event loops, and the
/// authorization table it publishes beside the routing snapshot (both are
/// built from the configuration and swapped together on reload).
///
/// Loops decide on an immutable ``RoutingSnapshot`` and push what they learn
/// (reported outcomes, probes sent) into their own ``OutcomeRing``. The
/// merger thread drains the rings every `snapshot_interval_ms`, folds them
/// into the one ``RoutingState``, moves breakers along with time, and
/// publishes a new snapshot. A decision therefore sees every report received
/// up to one interval (plus one merge) earlier, and nothing on the request
/// path takes a lock: a loop looks at one atomic counter per wake-up and
/// takes the publication lock only when it changed.
final class RoutingService: Sendable {
    let rings: [OutcomeRing]
    let ledger: ReportLedger
    /// The ledger's size is fixed at start.
    let ledgerSettings: (capacity: Int, windowSeconds: Int)
    /// Distinguishes this process's decision ids from other instances' and earlier runs'.
    let instanceTag: UInt16
    let loops: Int
    private let logger: Logger
    private let merger: LockedValue<Merger>
    private let publication: LockedValue<Publication>
    private let publications = Atomic<UInt64>(0)
    private let thread = BackgroundThread()

    /// What the loops decide on, swapped as one. A class of constants,
    /// built here (off the loops, so they never allocate for it): a loop
    /// holds one reference per batch, and reading its fields costs no
    /// reference counting, where each read of a loop's own variable would.
    final class Publication: Sendable {
        let snapshot: RoutingSnapshot
        let tableGeneration: UInt32
        let authorization: AuthorizationTable
        /// Decisions and authorizations by configured names, for metrics.
        let counters: TableCounters
        /// The longest ROUTE reply the table can produce (DECIDE adds its AUTHORIZE fields).
        let routeReplyBound: Int

        init(
            snapshot: RoutingSnapshot, tableGeneration: UInt32, authorization: AuthorizationTable,
            counters: TableCounters
        ) {
            self.snapshot = snapshot
            self.tableGeneration = tableGeneration
            self.authorization = authorization
            self.counters = counters
            routeReplyBound = RequestHandler.routeReplyBound(snapshot.table)
        }
    }

    private struct Merger {
        var state: RoutingState
        var authorization: AuthorizationTable
        var tableGeneration: UInt32 = 1
        /// The table before the last reload: events validated against it are translated.
        var previousTable: RoutingTable?
        var random: SplitMix64
        var lastPublished: UInt64 = 0
        var pending = false
        /// What this instance shares with its fleet; nil when standalone.
        var fleet: FleetHealth?
        var fleetBreakers: FleetBreakers?
        var counters: TableCounters
        /// What the counters of earlier table generations had counted, by label values.
        var retired = LabelledTotals()
    }

    static let ringCapacity = 1 << 16
    /// An idle service still republishes this often, so snapshots age no further.
    static let maximumSnapshotAge: UInt64 = 1_000_000_000

    /// The key hasher made from the server secret; nil when none is configured (no key then matches).
    let keyHasher: KeyHasher?
    /// Wakes the sync thread when a fleet limit runs short (Redis configured).
    let leaseDoorbell: (any LeasePools.Doorbell)?

    init(
        configuration: Configuration, loops: Int, logger: Logger, seed: UInt64, instanceTag: UInt16,
        keyHasher: KeyHasher? = nil, leaseDoorbell: (any LeasePools.Doorbell)? = nil
    ) {
        let table = RoutingTable(configuration)
        var state = RoutingState(table: table)
        state.probesAwaitFleet = configuration.redis.isEnabled
        let now = MonotonicClock.nanoseconds()
        let snapshot = state.snapshot(at: now)
        rings = (0..<loops).map { _ in OutcomeRing(capacity: RoutingService.ringCapacity) }
        ledger = ReportLedger(
            capacity: configuration.routing.reportDedupCapacity,
            windowSeconds: configuration.routing.reportDedupWindowSeconds)
        ledgerSettings = (configuration.routing.reportDedupCapacity, configuration.routing.reportDedupWindowSeconds)
        self.instanceTag = instanceTag
        self.logger = logger
        self.keyHasher = keyHasher
        self.leaseDoorbell = leaseDoorbell
        let authorization = AuthorizationTable(configuration, hasher: keyHasher, doorbell: leaseDoorbell)
        self.loops = loops
        let counters = TableCounters(configuration: configuration, table: table, loops: loops)
        merger = LockedValue(
            Merger(
                state: state, authorization: authorization, random: SplitMix64(seed: seed), lastPublished: now,
                fleet: configuration.redis.isEnabled
                    ? FleetHealth(maxPendingCounters: configuration.redis.maxPendingCounters) : nil,
                fleetBreakers: configuration.redis.isEnabled ? FleetBreakers() : nil, counters: counters))
        publication = LockedValue(
            Publication(snapshot: snapshot, tableGeneration: 1, authorization: authorization, counters: counters))
    }

    /// Starts the merger thread.
    func start() throws(SyscallError) {
        try thread.start(name: "sy-merger") { [self] in
            while !thread.isStopping {
                let interval = publication.withLock { $0.snapshot.table.routing.snapshotIntervalMilliseconds }
                usleep(UInt32(interval) * 1_000)
                merge(at: MonotonicClock.nanoseconds())
            }
            // What the loops pushed while draining is folded in before exit.
            merge(at: MonotonicClock.nanoseconds())
        }
    }

    func shutdown() { thread.stop() }

    /// How many snapshots have been published; a loop compares it with the
    /// last one it took.
    var publicationCount: UInt64 { publications.load(ordering: .acquiring) }

    var current: Publication { publication.withLock { $0 } }

    var counters: RoutingCounters { merger.withLock { $0.state.counters } }

    // MARK: - The fleet's side (called by the sync thread)

    /// Outcomes seen here and not yet flushed to Redis (empty when standalone).
    func takeFleetPending() -> [String: FleetHealth.Counts] {
        merger.withLock { $0.fleet?.takePending() ?? [:] }
    }

    /// A half-open breaker waiting for the right to probe for the fleet.
    struct ProbeClaim {
        let slot: Int
        let generation: UInt64
        /// Its fleet name and the fleet generation of its record.
        let breaker: String
        let fleetGeneration: Int64
        /// How long the right lasts: the probe timeout (an instance that dies
        /// holding it blocks the others no longer).
        let leaseMilliseconds: UInt64
    }

    func probeClaims() -> [ProbeClaim] {
        merger.withLock { merger in
            guard let fleet = merger.fleetBreakers else { return [] }
            let table = merger.state.table
            return merger.state.awaitingProbes.map { slot in
                let name = RoutingService.breakerName(slot, in: table)
                return ProbeClaim(
                    slot: slot, generation: merger.state.breakers[slot].generation, breaker: name,
                    fleetGeneration: fleet.generation(of: name),
                    leaseMilliseconds: max(1, table.routing.breaker.probeTimeout / 1_000_000))
            }
        }
    }

    /// This instance won the right to probe `slot` (at `generation`) for the fleet.
    func grantProbes(slot: Int, generation: UInt64) {
        merger.withLock { merger in
            if merger.state.grantProbes(breaker: slot, generation: generation) {
                publish(&merger, at: MonotonicClock.nanoseconds())
            }
        }
    }

    /// This instance's breaker transitions the fleet has not heard of.
    func takeBreakerProposals() -> [FleetBreakers.Proposal] {
        merger.withLock { $0.fleetBreakers?.takeProposals() ?? [] }
    }

    /// The fleet's breaker records as read (after this cycle's proposals,
    /// `accepted` with their new generations): newer ones are adopted.
    func fleetBreakersRead(
        _ records: [String: FleetBreakers.Record], accepted: [(breaker: String, generation: Int64)], at now: UInt64
    ) {
        merger.withLock { merger in
            guard merger.fleetBreakers != nil else { return }
            for (breaker, generation) in accepted { merger.fleetBreakers?.accepted(breaker, generation: generation) }
            guard let newer = merger.fleetBreakers?.newer(records) else { return }
            let table = merger.state.table
            let wall = WallClock.milliseconds()
            for (name, record) in newer {
                let parts = name.split(separator: "|").map(String.init)
                guard parts.count == 2, let gateway = table.gatewayIDs.index(of: parts[0]),
                    let method = table.methods.index(of: parts[1])
                else { continue }
                let left = max(0, record.openUntilMilliseconds - wall)
                merger.state.adopt(
                    record.state, breaker: table.breakerIndex(gateway: gateway, method: method),
                    openUntil: now &+ UInt64(left) * 1_000_000, at: now)
                merger.pending = true
            }
            log(merger.state.takeTransitions(), table: table)
        }
    }

    /// This instance's counts of `bucket` that Redis no longer has.
    func fleetMissing(bucket: Int64, recorded: [String: FleetHealth.Counts]) -> [String: FleetHealth.Counts] {
        merger.withLock { $0.fleet?.missing(bucket: bucket, recorded: recorded) ?? [:] }
    }

    /// Outcomes lost because Redis was away too long.
    var fleetDropped: Int64 { merger.withLock { $0.fleet?.dropped ?? 0 } }

    /// Flushes reached Redis, and these are the fleet's totals per bucket
    /// (the buckets from `oldest` on): the other instances' new outcomes are
    /// folded into the scores, published with the next merge.
    func fleetSynced(
        flushed: [(bucket: Int64, counts: [String: FleetHealth.Counts])],
        totals: [Int64: [String: FleetHealth.Counts]], oldest: Int64, at now: UInt64
    ) {
        merger.withLock { merger in
            guard merger.fleet != nil else { return }
            for flush in flushed { merger.fleet?.flushed(flush.counts, into: flush.bucket) }
            for (bucket, counts) in totals {
                guard let fresh = merger.fleet?.absorb(bucket: bucket, totals: counts) else { continue }
                for (counter, added) in fresh {
                    guard let (gateway, segment) = FleetCounter.parse(counter, in: merger.state.table) else { continue }
                    merger.state.absorb(added, gateway: gateway, segment: segment, at: now)
                    merger.pending = true
                }
            }
            merger.fleet?.forget(before: oldest)
        }
    }

    /// Drains the rings, moves breakers along and publishes when anything changed.
    func merge(at now: UInt64) {
        merger.withLock { merger in
            for ring in rings {
                ring.drain { event in
                    merger.pending = true
                    apply(event, to: &merger, at: now)
                }
            }
            merger.state.advance(to: now, random: &merger.random)
            let transitions = merger.state.takeTransitions()
            log(transitions, table: merger.state.table)
            propose(transitions, &merger, at: now)
            guard
                merger.pending || !transitions.isEmpty
                    || now &- merger.lastPublished >= RoutingService.maximumSnapshotAge
            else { return }
            publish(&merger, at: now)
        }
    }

    /// Swaps in a new configuration, keeping the scores and breakers of
    /// everything that still exists.
    func reload(_ configuration: Configuration) {
        merger.withLock { merger in
            let table = RoutingTable(configuration)
            merger.previousTable = merger.state.table
            merger.state = RoutingState(table: table, carryingOver: merger.state)
            merger.authorization = AuthorizationTable(
                configuration, hasher: keyHasher, carryingOver: merger.authorization, doorbell: leaseDoorbell)
            // Loops may count into the old generation until their next batch: those few are lost.
            merger.retired.add(merger.counters.totals())
            merger.counters = TableCounters(configuration: configuration, table: table, loops: loops)
            merger.tableGeneration &+= 1
            publish(&merger, at: MonotonicClock.nanoseconds())
        }
    }

    /// Forces (or, with `.closed`, resets) the breakers of a gateway, for
    /// one method or all; names this table does not have are ignored.
    func force(_ state: CircuitBreaker.State, gateway: String, method: String?) {
        merger.withLock { merger in
            let table = merger.state.table
            guard let gatewayIndex = table.gatewayIDs.index(of: gateway) else { return }
            let now = MonotonicClock.nanoseconds()
            for methodIndex in 0..<table.methodCount where method == nil || table.methods.names[methodIndex] == method {
                merger.state.force(
                    state, breaker: table.breakerIndex(gateway: gatewayIndex, method: methodIndex), at: now)
            }
            log(merger.state.takeTransitions(), table: table)
            publish(&merger, at: now)
        }
    }

    /// The labelled counters (``TableCounters``) since the start, across reloads.
    func labelledTotals() -> LabelledTotals {
        merger.withLock { merger in
            var totals = merger.counters.totals()
            totals.add(merger.retired)
            return totals
        }
    }

    /// Per breaker slot: its (gateway, method), reports by outcome,
    /// transitions, breaker state; and the method-level success estimates.
    func slotMetrics() -> (table: RoutingTable, counts: [RoutingState.SlotCounts], states: [CircuitBreaker.State]) {
        merger.withLock { ($0.state.table, $0.state.slotCounts, $0.state.breakers.map(\.state)) }
    }

    /// The health table (`ADMIN_HEALTH`): scores of the newest snapshot,
    /// traffic and breakers as the merger holds them now, and the table they index.
    func health() -> (rows: [SegmentHealth], breakers: [CircuitBreaker], table: RoutingTable) {
        merger.withLock { merger in
            let snapshot = current.snapshot
            let rows = merger.state.health(snapshot: snapshot, at: MonotonicClock.nanoseconds())
            return (rows, merger.state.breakers, merger.state.table)
        }
    }

    private func publish(_ merger: inout Merger, at now: UInt64) {
        let snapshot = merger.state.snapshot(at: now)
        let generation = merger.tableGeneration
        let authorization = merger.authorization
        let counters = merger.counters
        publication.withLock {
            $0 = Publication(
                snapshot: snapshot, tableGeneration: generation, authorization: authorization, counters: counters)
        }
        publications.add(1, ordering: .releasing)
        merger.lastPublished = now
        merger.pending = false
    }

    private func apply(_ event: RoutingEvent, to merger: inout Merger, at now: UInt64) {
        switch event {
        case .report(var report, let generation):
            if generation != merger.tableGeneration {
                guard generation &+ 1 == merger.tableGeneration, let old = merger.previousTable,
                    let translated = translate(report, from: old, to: merger.state.table)
                else { return }
                report = translated
            }
            merger.state.record(report, at: now, random: &merger.random)
            if merger.fleet != nil, let success = report.outcome.attributableSuccess {
                let counter = FleetCounter.name(
                    gateway: report.gateway, segment: report.segment, in: merger.state.table)
                merger.fleet?.record(counter, success: success)
            }
        case .probe(let breaker, let breakerGeneration, let generation):
            // A probe granted under an older table belonged to a breaker that was replaced.
            guard generation == merger.tableGeneration else { return }
            merger.state.probeGranted(breaker: breaker, generation: breakerGeneration, at: now, random: &merger.random)
        }
    }

    /// A report validated against the table before a reload, in the new
    /// table's indices; nil when its gateway, method or merchant is gone.
    private func translate(_ report: OutcomeReport, from old: RoutingTable, to new: RoutingTable) -> OutcomeReport? {
        guard let gateway = new.gatewayIDs.index(of: old.gateways[report.gateway].id),
            let method = new.methods.index(of: old.methods.names[Int(report.segment.method)]),
            let merchant = new.merchants.index(of: old.merchants.names[report.merchant])
        else { return nil }
        var translated = report
        translated.gateway = gateway
        translated.merchant = merchant
        // Finer segment parts may mean something else now: credit the method only.
        translated.segment = Segment(method: UInt8(method))
        translated.decisionVersion = nil
        return translated
    }

    /// The name the fleet knows a breaker by: `gateway|method`.
    static func breakerName(_ slot: Int, in table: RoutingTable) -> String {
        table.gateways[slot / max(table.methodCount, 1)].id + "|"
            + table.methods.names[slot % max(table.methodCount, 1)]
    }

    /// Offers this instance's own trips and recoveries to the fleet (not the
    /// ones it adopted, nor SRE orders, which travel as overrides).
    private func propose(
        _ transitions: [(breaker: Int, CircuitBreaker.Transition)], _ merger: inout Merger, at now: UInt64
    ) {
        guard merger.fleetBreakers != nil else { return }
        let wall = WallClock.milliseconds()
        for (slot, transition) in transitions where ![.fleet, .forced, .reset].contains(transition.reason) {
            let name = RoutingService.breakerName(slot, in: merger.state.table)
            switch transition.to {
            case .open:
                let left = merger.state.breakers[slot].openUntil &- now
                merger.fleetBreakers?.propose(name, .open, openUntilMilliseconds: wall + Int64(left / 1_000_000))
            case .closed:
                merger.fleetBreakers?.propose(name, .closed, openUntilMilliseconds: 0)
            default:
                continue
            }
        }
    }

    private func log(_ transitions: [(breaker: Int, CircuitBreaker.Transition)], table: RoutingTable) {
        for (slot, transition) in transitions {
            let gateway = table.gateways[slot / max(table.methodCount, 1)].id
            let method = table.methods.names[slot % max(table.methodCount, 1)]
            logger.notice(
                "breaker transition",
                metadata: [
                    "gateway": "\(gateway)", "method": "\(method)", "from": "\(transition.from.rawValue)",
                    "to": "\(transition.to.rawValue)", "reason": "\(transition.reason.rawValue)",
                    "generation": "\(transition.generation)",
                ])
        }
    }
}
