import Glibc
import Logging
import SwitchyardCore
import SwitchyardPosix
import SwitchyardRedis
import Synchronization

/// The sync thread: every `sync_interval_ms` it flushes this instance's
/// outcome counts to Redis and folds in what the rest of the fleet saw. It
/// owns its hiredis connection and never runs on an event loop; decisions
/// never wait for it.
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
    /// Unix seconds: which bucket a flush goes to. Every instance must agree.
    private let wallSeconds: @Sendable () -> Int64
    /// Names this process's flushes: the instance id and a per-process nonce.
    private let flushPrefix: String
    private let stopping = Atomic<Bool>(false)
    private let thread = Mutex<Thread?>(nil)
    private let connected = Atomic<Bool>(false)
    /// The dropped-outcome count last logged.
    private let droppedLogged = Atomic<Int64>(0)

    /// False while Redis is unreachable (or not yet reached): health says `degraded`.
    var isConnected: Bool { connected.load(ordering: .relaxed) }

    /// Applies a flush's increments once per flush id; skips (and counts)
    /// counters whose value in Redis is not an integer.
    static let flushScript = """
        if not redis.call('SET', KEYS[2], '1', 'NX', 'EX', ARGV[1]) then return {0, 0} end
        local rejected = 0
        for i = 2, #ARGV, 2 do
          local reply = redis.pcall('HINCRBY', KEYS[1], ARGV[i], ARGV[i + 1])
          if type(reply) == 'table' and reply.err then rejected = rejected + 1 end
        end
        redis.call('EXPIRE', KEYS[1], ARGV[1])
        return {1, rejected}
        """

    init(
        routing: RoutingService, settings: RedisConfiguration, instanceID: String, logger: Logger,
        wallSeconds: @escaping @Sendable () -> Int64 = { Int64(time(nil)) }
    ) {
        self.routing = routing
        self.settings = settings
        self.logger = logger
        self.wallSeconds = wallSeconds
        var random = SystemRandomNumberGenerator()
        flushPrefix = "\(instanceID):\(String(random.next() as UInt64, radix: 36))"
    }

    func start() throws(SyscallError) {
        let thread = try Thread(name: "sy-fleet") { [self] in run() }
        self.thread.withLock { $0 = thread }
    }

    /// Stops the thread after one last flush.
    func shutdown() {
        stopping.store(true, ordering: .relaxed)
        thread.withLock { thread in
            thread?.join()
            thread = nil
        }
    }

    func key(_ kind: String, _ suffix: String) -> String { "{\(settings.fleet)}:\(kind):\(suffix)" }

    private struct Flush {
        let id: UInt64
        let bucket: Int64
        let counts: [String: FleetHealth.Counts]
    }

    private func run() {
        let (host, port) = FleetSync.split(settings.address ?? "")
        let connection = RedisConnection(host: host, port: port, timeoutMilliseconds: settings.timeoutMilliseconds)
        var breaker = CircuitBreaker(configuration: FleetSync.breakerSettings)
        var random = SplitMix64(seed: UInt64(truncatingIfNeeded: MonotonicClock.nanoseconds()))
        var unsent: Flush?
        var nextID: UInt64 = 0
        while waitForNextCycle() { cycle(connection, &breaker, &random, &unsent, &nextID) }
        // The last outcomes go out before exit (one try, within the timeout).
        breaker = CircuitBreaker(configuration: FleetSync.breakerSettings)
        cycle(connection, &breaker, &random, &unsent, &nextID)
        if let unsent {
            logger.warning(
                "exiting with outcome counts Redis did not take", metadata: ["counters": "\(unsent.counts.count)"])
        }
    }

    /// Sleeps one sync interval, in short steps so that shutdown does not
    /// wait for a long one; false once stopping.
    private func waitForNextCycle() -> Bool {
        let end = MonotonicClock.nanoseconds() + UInt64(settings.syncIntervalMilliseconds) * 1_000_000
        while !stopping.load(ordering: .relaxed) {
            let now = MonotonicClock.nanoseconds()
            guard now < end else { return true }
            usleep(UInt32(min(end - now, 20_000_000) / 1_000))
        }
        return false
    }

    private func cycle(
        _ connection: RedisConnection, _ breaker: inout CircuitBreaker, _ random: inout SplitMix64,
        _ unsent: inout Flush?, _ nextID: inout UInt64
    ) {
        let now = MonotonicClock.nanoseconds()
        guard breaker.acquirePermit(at: now, random: &random) != nil else { return }
        if unsent == nil {
            let counts = routing.takeFleetPending()
            if !counts.isEmpty {
                nextID += 1
                unsent = Flush(id: nextID, bucket: wallSeconds() / Int64(settings.bucketSeconds), counts: counts)
            }
        }
        let generation = breaker.generation
        do {
            if !connection.isConnected { try connection.connect() }
            let current = wallSeconds() / Int64(settings.bucketSeconds)
            let oldest = current - Int64(settings.windowSeconds / settings.bucketSeconds)
            var commands: [[String]] = []
            if let unsent { commands.append(flushCommand(unsent)) }
            for bucket in oldest...current { commands.append(["HGETALL", key("health", String(bucket))]) }
            let replies = try connection.pipeline(commands)
            var flushed: [String: FleetHealth.Counts] = [:]
            var flushedBucket = current
            if let flush = unsent {
                guard case .array(let result) = replies[0], result.count == 2, let rejected = result[1].integerValue
                else { throw RedisError.reply("flush script: \(replies[0])") }
                if rejected > 0 {
                    logger.warning(
                        "Redis holds non-integer outcome counters; their increments were skipped",
                        metadata: ["bucket": "\(flush.bucket)", "counters": "\(rejected)"])
                }
                flushed = flush.counts
                flushedBucket = flush.bucket
                unsent = nil
            }
            var totals: [Int64: [String: FleetHealth.Counts]] = [:]
            let buckets = Array(oldest...current)
            let firstRead = replies.count - buckets.count
            for (offset, bucket) in buckets.enumerated() {
                totals[bucket] = FleetSync.counts(in: replies[firstRead + offset])
            }
            routing.fleetSynced(flushed: flushed, into: flushedBucket, totals: totals, oldest: oldest, at: now)
            note(breaker.record(.success, generation: generation, at: now, random: &random))
            setConnected(true)
        } catch {
            note(breaker.record(.failure, generation: generation, at: now, random: &random), error)
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

    private func flushCommand(_ flush: Flush) -> [String] {
        var command = [
            "EVAL", FleetSync.flushScript, "2", key("health", String(flush.bucket)),
            key("flush", "\(flushPrefix):\(flush.id)"), String(settings.windowSeconds + settings.bucketSeconds),
        ]
        for (counter, counts) in flush.counts {
            if counts.successes > 0 { command += [counter + "|s", String(counts.successes)] }
            if counts.failures > 0 { command += [counter + "|f", String(counts.failures)] }
        }
        return command
    }

    /// A bucket's counters from an HGETALL reply; fields or values that are
    /// not ours (garbage written by something else) are skipped.
    static func counts(in reply: RedisReply) -> [String: FleetHealth.Counts] {
        guard case .array(let items) = reply else { return [:] }
        var counts: [String: FleetHealth.Counts] = [:]
        var index = 0
        while index + 1 < items.count {
            defer { index += 2 }
            guard let field = items[index].text, let value = items[index + 1].integerValue, value >= 0,
                field.count > 2
            else { continue }
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

    private func setConnected(_ value: Bool) { connected.store(value, ordering: .relaxed) }

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
