/// Where the fleet shares its state, and how often. Without an `address` an
/// instance runs alone on in-memory state (the default).
public struct RedisConfiguration: Equatable, Sendable {
    /// `host:port` of Redis (numeric IPv4 or localhost); nil: standalone.
    public var address: String?
    /// How often the sync thread flushes outcome deltas and pulls the fleet's.
    public var syncIntervalMilliseconds = 200
    /// The longest any one socket operation with Redis may take.
    public var timeoutMilliseconds = 100
    /// The hash tag every key carries (`{fleet}:...`): instances with the
    /// same fleet share state, and on Redis Cluster all its keys share a slot.
    public var fleet = "switchyard"
    /// The width of one outcome bucket.
    public var bucketSeconds = 10
    /// How far back the fleet's outcomes are pulled (and how long buckets live).
    public var windowSeconds = 120
    /// Outcome counters (gateway and segment) kept while Redis is unreachable;
    /// outcomes for new counters beyond it are dropped, and counted.
    public var maxPendingCounters = 100_000
    /// The most instances that share the fleet's limits: each leases a share
    /// of every fleet-scoped limit, and with Redis away, `local_fallback`
    /// enforces 1/fleet_size of it. Too small a value lets the fleet exceed
    /// its limits; too large only admits less.
    public var fleetSize = 3

    public init() {}

    public var isEnabled: Bool { address != nil }

    static let fields = [
        "address", "sync_interval_ms", "timeout_ms", "fleet", "bucket_seconds", "window_seconds",
        "max_pending_counters", "fleet_size",
    ]

    init(reading reader: ConfigReader) {
        address = reader.parsed("address", default: nil) { text in
            ListenAddress.validate(text).map { Optional($0) }
        }
        syncIntervalMilliseconds = reader.integer(
            "sync_interval_ms", default: syncIntervalMilliseconds, in: 20...10_000, unit: "milliseconds")
        timeoutMilliseconds = reader.integer(
            "timeout_ms", default: timeoutMilliseconds, in: 1...10_000, unit: "milliseconds")
        fleet = reader.parsed("fleet", default: fleet) { text in
            GatewayConfiguration.identifierProblem(text).map { .failure(InvalidValue($0)) } ?? .success(text)
        }
        bucketSeconds = reader.integer("bucket_seconds", default: bucketSeconds, in: 1...3_600, unit: "seconds")
        windowSeconds = reader.integer("window_seconds", default: windowSeconds, in: 1...86_400, unit: "seconds")
        maxPendingCounters = reader.integer(
            "max_pending_counters", default: maxPendingCounters, in: 1...10_000_000, unit: "counters")
        fleetSize = reader.integer("fleet_size", default: fleetSize, in: 1...1_000, unit: "instances")
        if windowSeconds < bucketSeconds {
            reader.report(field: "window_seconds", "must be at least bucket_seconds (\(bucketSeconds))")
        }
        reader.rejectUnknownKeys(known: RedisConfiguration.fields)
    }
}
