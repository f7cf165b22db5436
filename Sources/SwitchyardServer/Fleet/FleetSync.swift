import Glibc
import Logging
import SwitchyardCore
import SwitchyardPosix
import SwitchyardRedis
import Synchronization

/// The sync thread: every `sync_interval_ms`, in one pipelined round trip,
/// it flushes this instance's outcome counts and breaker transitions to
/// Redis, and reads back the fleet's counts, breaker records and SRE
/// overrides. It owns its hiredis connection and never runs on an event
/// loop; decisions never wait for it.
///
/// Every socket operation with Redis is bounded by `timeout_ms`, and a
/// circuit breaker guards Redis itself: after consecutive failures the
/// thread stops calling for an open period that doubles (with jitter) up to
/// 10 s, then tries one call. That is the reconnect backoff too.
///
/// A flush is exactly-once: its counts go out with a flush id under a Lua
/// script that applies them only if the id is new (`SET NX`), and a flush
/// whose reply was lost is resent with the same id and counts.
final class FleetSync: Sendable {
    private let routing: RoutingService
    private let settings: RedisConfiguration
    private let logger: Logger
    /// Names this process's flushes: the instance id and a per-process nonce.
    private let flushPrefix: String
    private let thread = BackgroundThread()
    private let connected = Atomic<Bool>(false)
    /// The dropped-outcome count last logged.
    private let droppedLogged = Atomic<Int64>(0)
    /// What the fleet's limits did (leases granted, given back, lost).
    let leaseCounters = LeaseCounters()
    /// Rung by the loops when a fleet limit runs short while this thread sleeps.
    let doorbell: EventFD

    /// False while Redis is unreachable (or not yet reached): health says `degraded`.
    var isConnected: Bool { connected.load(ordering: .relaxed) }

    /// When a sync cycle last completed with Redis (the monotonic clock; 0: never).
    private let lastSynced = Atomic<UInt64>(0)

    /// How old the fleet's state this instance holds is: seconds since the
    /// last completed sync cycle; nil before the first.
    var syncAgeSeconds: Double? {
        let last = lastSynced.load(ordering: .relaxed)
        return last == 0 ? nil : Double(MonotonicClock.nanoseconds() &- last) / 1e9
    }

    /// Applies a flush's increments once per flush id, to the bucket and to
    /// this process's mirror of its own part (`<process>|<counter>` fields),
    /// skipping (and counting) counters whose value is not an integer.
    /// KEYS: bucket, flush id, mirror; ARGV: lifetime, process, then
    /// counter and increment pairs.
    static let flushScript = """
        if not redis.call('SET', KEYS[2], '1', 'NX', 'EX', ARGV[1]) then return {0, 0} end
        local rejected = 0
        for i = 3, #ARGV, 2 do
          local reply = redis.pcall('HINCRBY', KEYS[1], ARGV[i], ARGV[i + 1])
          if type(reply) == 'table' and reply.err then rejected = rejected + 1 end
          redis.pcall('HINCRBY', KEYS[3], ARGV[2] .. '|' .. ARGV[i], ARGV[i + 1])
        end
        redis.call('EXPIRE', KEYS[1], ARGV[1])
        redis.call('EXPIRE', KEYS[3], ARGV[1])
        return {1, rejected}
        """

    /// Compare-and-set of one breaker's fleet record: taken only if the
    /// record is still at the generation the proposal follows; announced on
    /// the breaker channel. KEYS: the breakers hash; ARGV: breaker, the
    /// generation followed, state, open-until (Unix ms), channel.
    static let breakerScript = """
        local current = redis.call('HGET', KEYS[1], ARGV[1])
        local generation = 0
        if current then generation = tonumber(string.match(current, '^(%d+)|')) or 0 end
        if generation ~= tonumber(ARGV[2]) then return {0, generation} end
        generation = generation + 1
        local record = generation .. '|' .. ARGV[3] .. '|' .. ARGV[4]
        redis.call('HSET', KEYS[1], ARGV[1], record)
        redis.call('PUBLISH', ARGV[5], ARGV[1] .. '|' .. record)
        return {1, generation}
        """

    /// Takes (or keeps) the right to probe one half-open breaker for the
    /// fleet: 1 for the process that holds it. KEYS: the right; ARGV: this
    /// process, its lifetime in ms.
    static let proberScript = """
        local holder = redis.call('GET', KEYS[1])
        if not holder then
          redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
          return 1
        end
        if holder == ARGV[1] then return 1 end
        return 0
        """

    /// `doorbell` must be the one the routing service gives its tables' lease pools.
    init(
        routing: RoutingService, settings: RedisConfiguration, instanceID: String, doorbell: EventFD, logger: Logger
    ) {
        self.routing = routing
        self.doorbell = doorbell
        self.settings = settings
        self.logger = logger
        var random = SystemRandomNumberGenerator()
        flushPrefix = "\(instanceID):\(String(random.next() as UInt64, radix: 36))"
    }

    /// Starts the thread; `apply` receives the fleet's SRE overrides whenever
    /// they change in Redis (and once at the first contact when there are any).
    func start(applying apply: @escaping @Sendable (FleetOverrides) -> Void) throws(SyscallError) {
        try thread.start(name: "sy-fleet", niceness: 10) { [self] in run(apply) }
    }

    /// Stops the thread after one last flush.
    func shutdown() { thread.stop() }

    func key(_ kind: String, _ suffix: String) -> String { "{\(settings.fleet)}:\(kind):\(suffix)" }

    private struct Flush {
        let id: UInt64
        let bucket: Int64
        let counts: [String: FleetHealth.Counts]
        /// Counts Redis lost by restarting empty, sent again: they are
        /// already this instance's part of the bucket.
        let restoring: Bool
    }

    /// What the sync thread keeps between cycles.
    private struct Session {
        let connection: RedisConnection
        var breaker = CircuitBreaker(configuration: FleetSync.breakerSettings)
        var random: SplitMix64
        /// Flushes to send, oldest first; a failed cycle keeps them, ids and all.
        var queue: [Flush] = []
        /// Breaker transitions to propose; a failed cycle keeps them.
        var proposals: [FleetBreakers.Proposal] = []
        var nextID: UInt64 = 0
        /// The `run_id` of the Redis last reached: another one means it restarted.
        var runID: String?
        /// The overrides last handed over, and the fields last found unreadable.
        var overrides = FleetOverrides()
        var overrideProblems: [String] = []
        let apply: @Sendable (FleetOverrides) -> Void
        var leases: LeaseKeeper
        /// Limits whose Redis key held garbage or whose script failed, already logged.
        var leaseProblems: Set<String> = []
        /// The lease script's SHA-1 on the Redis connected to; nil: load it first.
        var leaseScript: String?
    }

    private func run(_ apply: @escaping @Sendable (FleetOverrides) -> Void) {
        let (host, port) = FleetSync.split(settings.address ?? "")
        var session = Session(
            connection: RedisConnection(host: host, port: port, timeoutMilliseconds: settings.timeoutMilliseconds),
            random: SplitMix64(seed: UInt64(truncatingIfNeeded: MonotonicClock.nanoseconds())), apply: apply,
            leases: LeaseKeeper(counters: leaseCounters))
        while waitForNextCycle(&session) { cycle(&session) }
        // The last outcomes go out before exit (one try, within the timeout),
        // with the credit this instance owes and the leases it did not use.
        session.breaker = CircuitBreaker(configuration: FleetSync.breakerSettings)
        cycle(&session)
        lease(&session, at: MonotonicClock.nanoseconds(), closing: true)
        if !routing.current.authorization.leased.isEmpty {
            let counters = leaseCounters
            logger.info(
                "fleet limits at exit",
                metadata: [
                    "tokens_granted": "\(counters.granted.load(ordering: .relaxed))",
                    "tokens_returned": "\(counters.returned.load(ordering: .relaxed))",
                    "tokens_expired": "\(counters.expired.load(ordering: .relaxed))",
                    "leases_refused": "\(counters.refused.load(ordering: .relaxed))",
                    "tokens_reused": "\(counters.reused.load(ordering: .relaxed))",
                    "reservations": "\(counters.reservations.load(ordering: .relaxed))",
                ])
        }
        if !session.queue.isEmpty {
            logger.warning(
                "exiting with outcome counts Redis did not take",
                metadata: ["counters": "\(session.queue.map(\.counts.count).reduce(0, +))"])
        }
    }

    /// Waits one sync interval, in steps of at most 20 ms so that shutdown
    /// does not wait for a long one, and tends the fleet's limits meanwhile:
    /// asleep until a loop rings the doorbell for a limit that ran short,
    /// then every millisecond while limits keep running short (so their
    /// reservations share round trips); false once stopping.
    private func waitForNextCycle(_ session: inout Session) -> Bool {
        let end = MonotonicClock.nanoseconds() + UInt64(settings.syncIntervalMilliseconds) * 1_000_000
        while !thread.isStopping {
            var now = MonotonicClock.nanoseconds()
            guard now < end else { return true }
            let table = routing.current.authorization
            guard let pools = table.leases, !table.leased.isEmpty else {
                usleep(UInt32(min(end - now, FleetSync.longestWait) / 1_000))
                continue
            }
            let next = lease(&session, at: now)
            now = MonotonicClock.nanoseconds()
            guard now < end else { return true }
            let wait = min(end - now, FleetSync.longestWait)
            switch next {
            case .doorbell: pools.sleep { doorbell.wait(timeoutMilliseconds: Int32(wait / 1_000_000) + 1) }
            case .tick: usleep(UInt32(min(wait, FleetSync.leaseTick) / 1_000))
            case .cycle: usleep(UInt32(wait / 1_000))
            }
        }
        return false
    }

    /// How soon the sync thread looks at the fleet's limits again while they
    /// run short, and the longest it sleeps at once.
    static let leaseTick: UInt64 = 1_000_000
    static let longestWait: UInt64 = 20_000_000

    /// When the fleet's limits want the sync thread again.
    private enum NextLease {
        /// When a loop rings: nothing is short.
        case doorbell
        /// In a millisecond: limits ran short, more are likely.
        case tick
        /// Not before the next step of the wait: Redis is away, and the
        /// shortages stay marked until it answers (waking on them would spin).
        case cycle
    }

    /// Reserves the tokens the fleet's limits need now, in one pipeline,
    /// under the same breaker as the rest of the sync. While Redis is away,
    /// limits in `reuse_last_lease` keep getting leases of the last size.
    @discardableResult
    private func lease(_ session: inout Session, at now: UInt64, closing: Bool = false) -> NextLease {
        let table = routing.current.authorization
        // While the breaker around Redis is not closed, the shortages stay
        // marked (planning them would only mark them again every tick); the
        // cycle's calls probe Redis, and leasing resumes once it answers.
        // Only `reuse_last_lease` limits need a look meanwhile.
        guard session.breaker.state == .closed || closing else {
            session.leases.reuse(table, now: now)
            return session.leases.reuses ? .tick : .cycle
        }
        let reservations = session.leases.plan(table, now: now, closing: closing)
        guard !reservations.isEmpty else {
            // Nothing owed or short, and Redis answered the last cycle: the
            // limits are leased again.
            if isConnected { leasesCaughtUp() }
            session.leases.reuse(table, now: now)
            return table.leases?.degradedSince == 0 ? .doorbell : .cycle
        }
        guard session.breaker.acquirePermit(at: now, random: &session.random) != nil else {
            session.leases.failed(reservations, table)
            setConnected(false)
            session.leases.reuse(table, now: now)
            return .cycle
        }
        let generation = session.breaker.generation
        do {
            try connect(&session, buckets())
            let sha = try leaseScript(&session)
            let commands = LeaseKeeper.commands(reservations, script: sha) { key("limit", $0) }
            let replies = try exchange(commands, &session, buckets())
            let (failed, garbage, unknownScript) = session.leases.absorb(
                replies[...], reservations, table, sentAt: now)
            if unknownScript { session.leaseScript = nil }
            for limit in garbage where session.leaseProblems.insert(limit).inserted {
                logger.warning(
                    "a fleet limit's time in Redis was not a time: replaced by a spent budget",
                    metadata: ["limit": "\(limit)"])
            }
            for limit in failed where session.leaseProblems.insert(limit).inserted {
                logger.warning("Redis refused a lease: the limit runs on its credit", metadata: ["limit": "\(limit)"])
            }
            note(session.breaker.record(.success, generation: generation, at: now, random: &session.random))
            setConnected(true)
            if reservations.count < LeaseKeeper.largestBatch { leasesCaughtUp() }
        } catch {
            session.leases.failed(reservations, table)
            note(session.breaker.record(.failure, generation: generation, at: now, random: &session.random), error)
            setConnected(false)
            session.leases.reuse(table, now: now)
        }
        return .tick
    }

    /// The lease script's SHA-1, loaded into Redis when not yet (on this
    /// connection, or since Redis said it did not know it).
    private func leaseScript(_ session: inout Session) throws(RedisError) -> String {
        if let sha = session.leaseScript { return sha }
        let reply = try session.connection.command(["SCRIPT", "LOAD", LeaseKeeper.script])
        guard case .bulk = reply, let sha = reply.text else { throw .reply("SCRIPT LOAD: \(reply)") }
        session.leaseScript = sha
        return sha
    }

    /// The outcome buckets of the window that ends now (Unix time: every
    /// instance of the fleet must agree on them).
    private func buckets() -> [Int64] {
        let current = WallClock.seconds() / Int64(settings.bucketSeconds)
        return Array((current - Int64(settings.windowSeconds / settings.bucketSeconds))...current)
    }

    /// Where each part of a cycle's pipeline sits among the replies.
    private struct Layout {
        var flushes: Range<Int>
        var proposals: Range<Int>
        var claims: Range<Int>
        var overrides: Int
        var breakers: Int
        var buckets: Range<Int>
    }

    private func cycle(_ session: inout Session) {
        let now = MonotonicClock.nanoseconds()
        guard session.breaker.acquirePermit(at: now, random: &session.random) != nil else { return }
        let buckets = buckets()
        collect(&session, bucket: buckets[buckets.count - 1])
        let generation = session.breaker.generation
        do {
            // Connected first: the counts a restarted Redis lost go out in this cycle.
            try connect(&session, buckets)
            let claims = routing.probeClaims()
            let sent = (flushes: session.queue, proposals: session.proposals)
            let (commands, layout) = commands(sent.flushes, sent.proposals, claims, buckets)
            let replies = try exchange(commands, &session, buckets)
            try absorb(replies, layout, sent, claims, buckets, &session, at: now)
            note(session.breaker.record(.success, generation: generation, at: now, random: &session.random))
            setConnected(true)
            lastSynced.store(MonotonicClock.nanoseconds(), ordering: .relaxed)
        } catch {
            note(session.breaker.record(.failure, generation: generation, at: now, random: &session.random), error)
            setConnected(false)
        }
        let dropped = routing.fleetDropped
        if dropped > droppedLogged.load(ordering: .relaxed) {
            logger.warning(
                "outcome counts dropped: Redis was away longer than redis.max_pending_counters allows",
                metadata: ["dropped_total": "\(dropped)"])
            droppedLogged.store(dropped, ordering: .relaxed)
        }
    }

    /// Takes what the merger has for the fleet: outcome counts (only while
    /// no earlier flush waits, so what is held here stays one flush plus the
    /// restores) and breaker transitions (the latest per breaker).
    private func collect(_ session: inout Session, bucket: Int64) {
        if !session.queue.contains(where: { !$0.restoring }) {
            let counts = routing.takeFleetPending()
            if !counts.isEmpty {
                session.nextID += 1
                session.queue.append(Flush(id: session.nextID, bucket: bucket, counts: counts, restoring: false))
            }
        }
        for proposal in routing.takeBreakerProposals() {
            session.proposals.removeAll { $0.breaker == proposal.breaker }
            session.proposals.append(proposal)
        }
    }

    /// One cycle's pipeline: flushes, breaker proposals, probing claims, then
    /// the reads (overrides, breaker records, the window's buckets).
    private func commands(
        _ flushes: [Flush], _ proposals: [FleetBreakers.Proposal], _ claims: [RoutingService.ProbeClaim],
        _ buckets: [Int64]
    ) -> ([[String]], Layout) {
        let breakers = "{\(settings.fleet)}:breakers"
        let channel = "{\(settings.fleet)}:breaker-transitions"
        var commands = flushes.map(flushCommand)
        let flushed = 0..<commands.count
        commands += proposals.map {
            [
                "EVAL", FleetSync.breakerScript, "1", breakers, $0.breaker, String($0.after), $0.state.rawValue,
                String($0.openUntilMilliseconds), channel,
            ]
        }
        let proposed = flushed.upperBound..<commands.count
        commands += claims.map {
            [
                "EVAL", FleetSync.proberScript, "1", key("prober", "\($0.breaker):\($0.fleetGeneration)"),
                flushPrefix, String($0.leaseMilliseconds),
            ]
        }
        let claimed = proposed.upperBound..<commands.count
        commands += [["HGETALL", "{\(settings.fleet)}:overrides"], ["HGETALL", breakers]]
        commands += buckets.map { ["HGETALL", key("health", String($0))] }
        let layout = Layout(
            flushes: flushed, proposals: proposed, claims: claimed, overrides: claimed.upperBound,
            breakers: claimed.upperBound + 1, buckets: claimed.upperBound + 2..<commands.count)
        return (commands, layout)
    }

    /// Applies a cycle's replies to what was `sent`. A flush Redis did not
    /// take throws before anything is applied: the cycle failed, and it is
    /// all sent again.
    private func absorb(
        _ replies: [RedisReply], _ layout: Layout, _ sent: (flushes: [Flush], proposals: [FleetBreakers.Proposal]),
        _ claims: [RoutingService.ProbeClaim], _ buckets: [Int64], _ session: inout Session, at now: UInt64
    ) throws(RedisError) {
        for (flush, reply) in zip(sent.flushes, replies[layout.flushes]) {
            guard case .array(let result) = reply, result.count == 2, let rejected = result[1].integerValue else {
                throw .reply("flush script: \(reply)")
            }
            if rejected > 0 {
                logger.warning(
                    "Redis holds non-integer outcome counters; their increments were skipped",
                    metadata: ["bucket": "\(flush.bucket)", "counters": "\(rejected)"])
            }
        }
        var accepted: [(breaker: String, generation: Int64)] = []
        for (proposal, reply) in zip(sent.proposals, replies[layout.proposals]) {
            // A record Redis cannot take (the hash holds garbage) is dropped,
            // not retried: this instance's breaker works alone.
            guard case .array(let result) = reply, result.count == 2, let taken = result[0].integerValue,
                let generation = result[1].integerValue
            else {
                logger.warning(
                    "Redis refused a breaker transition; the breaker stays this instance's own",
                    metadata: ["breaker": "\(proposal.breaker)", "reply": "\(reply)"])
                continue
            }
            if taken == 1 { accepted.append((proposal.breaker, generation)) }
        }
        for (claim, reply) in zip(claims, replies[layout.claims]) where reply.integerValue == 1 {
            routing.grantProbes(slot: claim.slot, generation: claim.generation)
        }
        takeOverrides(replies[layout.overrides], &session)
        routing.fleetBreakersRead(FleetSync.records(in: replies[layout.breakers]), accepted: accepted, at: now)
        var totals: [Int64: [String: FleetHealth.Counts]] = [:]
        for (bucket, reply) in zip(buckets, replies[layout.buckets]) { totals[bucket] = FleetSync.counts(in: reply) }
        let flushed = sent.flushes.filter { !$0.restoring }.map { (bucket: $0.bucket, counts: $0.counts) }
        let sentIDs = Set(sent.flushes.map(\.id))
        session.queue.removeAll { sentIDs.contains($0.id) }
        session.proposals.removeAll { proposal in sent.proposals.contains { $0.breaker == proposal.breaker } }
        routing.fleetSynced(flushed: flushed, totals: totals, oldest: buckets[0], at: now)
    }

    /// Connects when not connected, and then checks whether Redis restarted.
    private func connect(_ session: inout Session, _ buckets: [Int64]) throws(RedisError) {
        guard !session.connection.isConnected else { return }
        do {
            try session.connection.connect()
        } catch {
            // A node followed by MOVED that is gone (a failover): the next
            // try starts again from the configured address.
            let (host, port) = FleetSync.split(settings.address ?? "")
            session.connection.retarget(host: host, port: port)
            throw error
        }
        // Another Redis, or the same one restarted, may not know the lease script.
        session.leaseScript = nil
        try noticeRestart(&session, buckets)
    }

    /// Sends the cycle's commands and returns the replies. On Redis Cluster,
    /// a node that does not hold the fleet's slot answers MOVED (every key
    /// shares one hash tag, so every command does): the connection follows
    /// it to the node named, once per cycle.
    private func exchange(_ commands: [[String]], _ session: inout Session, _ buckets: [Int64]) throws(RedisError)
        -> [RedisReply]
    {
        let replies = try session.connection.pipeline(commands)
        guard let target = replies.lazy.compactMap(\.redirection).first else { return replies }
        logger.info("Redis Cluster: following the fleet's slot", metadata: ["node": "\(target.host):\(target.port)"])
        session.connection.retarget(host: target.host, port: target.port)
        try connect(&session, buckets)
        return try session.connection.pipeline(commands)
    }

    /// Hands the overrides over when they changed; logs the fields it could not read.
    private func takeOverrides(_ reply: RedisReply, _ session: inout Session) {
        guard case .array(let items) = reply else { return }
        var fields: [(String, String)] = []
        for pair in stride(from: 0, to: items.count - 1, by: 2) {
            if let field = items[pair].text, let value = items[pair + 1].text { fields.append((field, value)) }
        }
        let (overrides, problems) = FleetOverrides.parse(fields)
        if problems != session.overrideProblems {
            for problem in problems { logger.warning("ignored a fleet override", metadata: ["problem": "\(problem)"]) }
            session.overrideProblems = problems
        }
        guard overrides != session.overrides else { return }
        session.overrides = overrides
        session.apply(overrides)
    }

    /// On a new connection: when Redis is another run than before (it
    /// restarted), queues again this instance's counts of the window that
    /// Redis no longer has, as its mirror of them (`{fleet}:mine:<bucket>`)
    /// shows. Exact whether the restart kept the data (persistence) or not.
    private func noticeRestart(_ session: inout Session, _ buckets: [Int64]) throws(RedisError) {
        let info = try session.connection.command(["INFO", "server"]).text ?? ""
        let runID = info.split(whereSeparator: \.isNewline).first { $0.hasPrefix("run_id:") }.map {
            String($0.dropFirst("run_id:".count))
        }
        defer { session.runID = runID }
        guard let previous = session.runID, previous != runID else { return }
        let replies = try session.connection.pipeline(buckets.map { ["HGETALL", key("mine", String($0))] })
        var restored = 0
        for (bucket, reply) in zip(buckets, replies) {
            let recorded = FleetSync.counts(in: reply, prefix: flushPrefix + "|")
            let missing = routing.fleetMissing(bucket: bucket, recorded: recorded)
            guard !missing.isEmpty else { continue }
            session.nextID += 1
            session.queue.insert(Flush(id: session.nextID, bucket: bucket, counts: missing, restoring: true), at: 0)
            restored += missing.count
        }
        // Another node of a cluster has another run_id too: only a loss is news.
        guard restored > 0 else { return }
        logger.warning(
            "Redis lost outcome counts (a restart or a failover): sending them again",
            metadata: ["counters": "\(restored)"])
    }

    private func flushCommand(_ flush: Flush) -> [String] {
        var command = [
            "EVAL", FleetSync.flushScript, "3", key("health", String(flush.bucket)),
            key("flush", "\(flushPrefix):\(flush.id)"), key("mine", String(flush.bucket)),
            String(settings.windowSeconds + settings.bucketSeconds), flushPrefix,
        ]
        for (counter, counts) in flush.counts {
            if counts.successes > 0 { command += [counter + "|s", String(counts.successes)] }
            if counts.failures > 0 { command += [counter + "|f", String(counts.failures)] }
        }
        return command
    }

    /// The fleet's breaker records from an HGETALL reply; unreadable ones are skipped.
    static func records(in reply: RedisReply) -> [String: FleetBreakers.Record] {
        guard case .array(let items) = reply else { return [:] }
        var records: [String: FleetBreakers.Record] = [:]
        for pair in stride(from: 0, to: items.count - 1, by: 2) {
            guard let breaker = items[pair].text, let text = items[pair + 1].text,
                let record = FleetBreakers.Record(text: text)
            else { continue }
            records[breaker] = record
        }
        return records
    }

    /// A bucket's counters from an HGETALL reply; fields or values that are
    /// not ours (garbage written by something else) are skipped.
    static func counts(in reply: RedisReply, prefix: String = "") -> [String: FleetHealth.Counts] {
        guard case .array(let items) = reply else { return [:] }
        var counts: [String: FleetHealth.Counts] = [:]
        var index = 0
        while index + 1 < items.count {
            defer { index += 2 }
            guard let text = items[index].text, text.hasPrefix(prefix), let value = items[index + 1].integerValue,
                value >= 0
            else { continue }
            let field = text.dropFirst(prefix.count)
            guard field.count > 2 else { continue }
            let counter = String(field.dropLast(2))
            switch field.suffix(2) {
            case "|s": counts[counter, default: FleetHealth.Counts()].successes = value
            case "|f": counts[counter, default: FleetHealth.Counts()].failures = value
            default: continue
            }
        }
        return counts
    }

    private func note(_ result: CircuitBreaker.RecordResult, _ error: (any Error)? = nil) {
        guard case .recorded(let transition?) = result else { return }
        var metadata: Logger.Metadata = ["from": "\(transition.from.rawValue)", "to": "\(transition.to.rawValue)"]
        if let error { metadata["error"] = "\(error)" }
        if transition.to == .closed {
            logger.info("Redis is back: fleet sync resumed", metadata: metadata)
        } else {
            logger.warning("Redis unreachable: deciding on local state, keeping outcome counts", metadata: metadata)
        }
    }

    /// Records whether Redis answers, for health; once it does not, the
    /// fleet's limits switch to their `when_redis_down` modes.
    private func setConnected(_ value: Bool) {
        connected.store(value, ordering: .relaxed)
        guard !value, let pools = routing.current.authorization.leases, pools.degradedSince == 0 else { return }
        pools.setDegraded(since: MonotonicClock.nanoseconds())
    }

    /// Ends the limits' `when_redis_down` modes: only once every limit that
    /// ran short has been reserved for again, so that a limit whose credit
    /// went in the outage keeps its fallback until its lease arrives rather
    /// than refusing in between.
    private func leasesCaughtUp() {
        guard let pools = routing.current.authorization.leases, pools.degradedSince != 0 else { return }
        pools.setDegraded(since: 0)
    }

    /// Three failed cycles in a row open the breaker for 0.5 s, doubling up to 10 s.
    static let breakerSettings: BreakerConfiguration = {
        var settings = BreakerConfiguration()
        settings.consecutiveFailureThreshold = 3
        settings.minimumNumberOfCalls = 1_000_000
        settings.waitDurationInOpenState = 500_000_000
        settings.maxWaitDurationInOpenState = 10_000_000_000
        settings.permittedNumberOfCallsInHalfOpenState = 1
        settings.probeTimeout = 60_000_000_000
        return settings
    }()

    static func split(_ address: String) -> (String, Int) {
        guard let colon = address.lastIndex(of: ":"), let port = Int(address[address.index(after: colon)...]) else {
            return (address, 6379)
        }
        var host = String(address[..<colon])
        if host.hasPrefix("[") { host = String(host.dropFirst().dropLast()) }
        return (host == "localhost" ? "127.0.0.1" : host, port)
    }
}

/// The lease pools' doorbell: a counter the sync thread sleeps on.
struct LeaseDoorbell: LeasePools.Doorbell {
    let event: EventFD
    func ring() { event.signal() }
}
