import Glibc
public import Logging
public import SwitchyardCore
public import SwitchyardPosix
public import SwitchyardWire
import Synchronization

/// Where a running server reads its configuration again.
public struct ConfigurationSource: Sendable {
    /// The file, for logs and replies.
    public let name: String
    public let load: @Sendable () throws(ConfigurationError) -> Configuration
    /// Called once a reloaded configuration is in force (the daemon sets its log level).
    public let applied: @Sendable (Configuration) -> Void

    public init(
        name: String, load: @escaping @Sendable () throws(ConfigurationError) -> Configuration,
        applied: @escaping @Sendable (Configuration) -> Void
    ) {
        self.name = name
        self.load = load
        self.applied = applied
    }
}

/// The Switchyard server: N event loops, each on its own thread with its own
/// SO_REUSEPORT listener. The object itself is the supervisor's handle: start,
/// reload, shut down.
public final class Server: Sendable {
    /// The port the listeners are bound to (the real one when the configuration asked for port 0).
    public let port: UInt16
    /// The admin endpoints' port (`server.admin_listen`); nil when they are off.
    public let adminPort: UInt16?
    public let loopCount: Int
    /// Set once a shutdown begins: `/ready` then says so.
    private let stopping = Atomic<Bool>(false)

    let handles: [LoopHandle]
    /// Answers admin protocol requests off the loops.
    let adminWorker: AdminWorker
    /// Where a reload reads the configuration from; nil when it came from the caller alone.
    let source: ConfigurationSource?
    let startedAt = MonotonicClock.nanoseconds()
    let routing: RoutingService
    /// Shares gateway health with the fleet through Redis; nil when standalone.
    let fleet: FleetSync?
    /// The `redis` section the server started with (it needs a restart).
    let redisSettings: RedisConfiguration
    /// The log format the process started with (it needs a restart).
    let logFormat: LoggingConfiguration.Format
    /// The audit log of decisions; nil when `audit.path` is not set.
    let audit: AuditLog?
    private let budget = ConnectionBudget()
    let state: LockedValue<State>
    let logger: Logger

    struct State {
        var settings: ServerSettings
        var configuration: ServerConfiguration
        /// The configuration as loaded (file or caller), before fleet
        /// overrides, without the merchants' keys and limits: those live in
        /// the authorization table, and re-applying overrides takes them from there.
        var base: Configuration
        /// The SRE overrides from Redis applied on top of `base`.
        var overrides = FleetOverrides()
        /// Listeners not yet handed to a loop (before start) and loop threads (after).
        var listeners: [Int32]
        /// The admin listener until loop 0 takes it (-1: none).
        var adminListener: Int32
        var threads: [Thread] = []
    }

    public enum StartError: Error, CustomStringConvertible {
        case address(AddressError)
        case adminAddress(AddressError)
        case system(SyscallError)
        case audit(SyscallError)

        public var description: String {
            switch self {
            case .address(let error): "server.listen: \(error)"
            case .adminAddress(let error): "server.admin_listen: \(error)"
            case .audit(let error): "audit.path: \(error)"
            case .system(let error): "\(error)"
            }
        }
    }

    /// Binds every loop's listener; nothing runs until ``start()``.
    /// `keyHasher` verifies API keys; without one (no secret configured) no key matches.
    /// `source` is where ``reloadFromSource(cause:)`` (SIGHUP, ADMIN_RELOAD) reads the configuration again.
    public init(
        configuration whole: Configuration, logger: Logger, keyHasher: KeyHasher? = nil,
        source: ConfigurationSource? = nil
    ) throws(StartError) {
        let configuration = whole.server
        let address: SocketAddress
        do { address = try SocketAddress(parsing: configuration.listen) } catch { throw .address(error) }
        let loops = configuration.loops > 0 ? configuration.loops : Server.onlineCores()

        var admin: (address: SocketAddress, fd: Int32, port: UInt16)?
        if let text = configuration.adminListen {
            do {
                let address = try SocketAddress(parsing: text)
                let fd = try Socket.listen(on: address, reusePort: false)
                do { admin = (address, fd, try Socket.localPort(fd)) } catch {
                    Descriptor.close(fd)
                    throw error
                }
            } catch let error as AddressError {
                throw .adminAddress(error)
            } catch {
                throw .system(error as! SyscallError)
            }
        }
        adminPort = admin?.port
        var listeners: [Int32] = []
        do {
            // Bind the first listener, then bind the rest to the port it got,
            // so that port 0 gives every loop the same ephemeral port.
            let first = try Socket.listen(on: address, reusePort: true)
            listeners.append(first)
            let port = try Socket.localPort(first)
            let bound = try SocketAddress(host: address.host, port: port)
            for _ in 1..<loops { listeners.append(try Socket.listen(on: bound, reusePort: true)) }
            self.port = port
            handles = try (0..<loops).map { index throws(SyscallError) in try LoopHandle(index: index) }
        } catch let error as SyscallError {
            (listeners + [admin?.fd].compactMap { $0 }).forEach(Descriptor.close)
            throw .system(error)
        } catch {
            (listeners + [admin?.fd].compactMap { $0 }).forEach(Descriptor.close)
            throw .address(error as! AddressError)
        }
        loopCount = loops
        self.logger = logger
        self.source = source
        let doorbell: EventFD?
        do {
            doorbell = whole.redis.isEnabled ? try EventFD() : nil
            adminWorker = try AdminWorker()
        } catch {
            (listeners + [admin?.fd].compactMap { $0 }).forEach(Descriptor.close)
            throw .system(error)
        }
        do {
            audit = whole.audit.isEnabled ? try AuditLog(settings: whole.audit, loops: loops, logger: logger) : nil
        } catch {
            (listeners + [admin?.fd].compactMap { $0 }).forEach(Descriptor.close)
            throw .audit(error)
        }
        var seed = SystemRandomNumberGenerator()
        let routing = RoutingService(
            configuration: whole, loops: loops, logger: logger, seed: seed.next(), instanceTag: seed.next(),
            keyHasher: keyHasher, leaseDoorbell: doorbell.map(LeaseDoorbell.init))
        self.routing = routing
        redisSettings = whole.redis
        logFormat = whole.logging.format
        fleet = doorbell.map {
            FleetSync(
                routing: routing, settings: whole.redis, instanceID: configuration.instanceID, doorbell: $0,
                logger: logger)
        }
        state = LockedValue(
            State(
                settings: ServerSettings(configuration), configuration: configuration,
                base: whole.credentialsMovedToTables(),
                listeners: listeners, adminListener: admin?.fd ?? -1))
    }

    /// Starts the loop threads.
    public func start() throws(SyscallError) {
        let (settings, listeners, adminListener) = state.withLock { ($0.settings, $0.listeners, $0.adminListener) }
        // A descriptor per connection, and a few hundred to spare for the
        // listeners, Redis, the audit file and the admin endpoints.
        let wantedFiles = settings.maxConnections + 256
        let fileLimit = FileLimit.raise(to: wantedFiles)
        if fileLimit < wantedFiles {
            logger.warning(
                "the open-file limit is below max_connections: connections past it fail to be accepted",
                metadata: ["limit": "\(fileLimit)", "max_connections": "\(settings.maxConnections)"])
        }
        try routing.start()
        try audit?.start()
        try fleet?.start { [weak self] overrides in self?.apply(overrides, cause: "redis") }
        try adminWorker.start(replyingThrough: handles) { [weak self] frame in
            self?.answerAdmin(frame) ?? Server.adminShutdownReply(frame)
        }
        var threads: [Thread] = []
        for (handle, listener) in zip(handles, listeners) {
            let budget = self.budget
            let logger = self.logger
            let routing = self.routing
            let thread = try Thread(name: "sy-loop-\(handle.index)") {
                do {
                    var seed = SystemRandomNumberGenerator()
                    let loopRouting = LoopRouting(
                        service: routing, loopIndex: handle.index, seed: seed.next(), decisionLog: handle.decisions,
                        audit: self.audit)
                    var admin: AdminServer?
                    if handle.index == 0 && adminListener >= 0 {
                        let metrics = MetricsExporter(fleet: self.fleet != nil)
                        admin = try AdminServer(listener: adminListener) { [weak self] path in
                            guard let self else { return .text(503, "stopping") }
                            return path == "/metrics"
                                ? .metrics(metrics.scrape(self.metricsSample)) : self.adminResponse(path)
                        }
                    }
                    var loop = try EventLoop(
                        handle: handle, listener: listener, settings: settings, routing: loopRouting, budget: budget,
                        adminWorker: self.adminWorker, admin: admin, logger: logger)
                    loop.run()
                } catch {
                    logger.critical("event loop could not start", metadata: ["error": "\(error)"])
                }
            }
            threads.append(thread)
        }
        state.withLock {
            $0.threads = threads
            $0.listeners = []
            $0.adminListener = -1
        }
        var metadata: Logger.Metadata = ["port": "\(port)", "loops": "\(loopCount)"]
        if let adminPort { metadata["admin_port"] = "\(adminPort)" }
        logger.info("listening", metadata: metadata)
    }

    /// Open connections across all loops.
    public var connectionCount: Int { budget.count }

    /// Applies a new configuration to the running loops and to routing
    /// (scores and breakers of what still exists are kept). Settings that
    /// need a restart (listen address, loops, max_body_bytes, the report
    /// ledger's size, the redis section) keep their running value; the
    /// returned messages name them.
    @discardableResult
    public func reload(_ whole: Configuration) -> [String] {
        let configuration = whole.server
        let (settings, ignored, effective) = state.withLock {
            state -> (ServerSettings, [String], Configuration) in
            state.base = whole.credentialsMovedToTables()
            var ignored: [String] = []
            var applied = configuration
            let running = state.configuration
            if applied.listen != running.listen {
                ignored.append("server.listen changes only on restart (still \(running.listen))")
                applied.listen = running.listen
            }
            if applied.adminListen != running.adminListen {
                ignored.append(
                    "server.admin_listen changes only on restart (still \(running.adminListen ?? "none"))")
                applied.adminListen = running.adminListen
            }
            if applied.loops != running.loops {
                ignored.append("server.loops changes only on restart (still \(running.loops))")
                applied.loops = running.loops
            }
            if applied.maxBodyBytes != running.maxBodyBytes {
                ignored.append("server.max_body_bytes changes only on restart (still \(running.maxBodyBytes))")
                applied.maxBodyBytes = running.maxBodyBytes
            }
            state.configuration = applied
            state.settings = ServerSettings(applied, bufferBytes: state.settings.bufferBytes)
            return (state.settings, ignored, state.overrides.applied(to: whole))
        }
        handles.forEach { $0.post(settings: settings) }
        routing.reload(effective)
        var notes = ignored
        for (name, old, new) in [
            ("report_dedup_capacity", routing.ledgerSettings.capacity, whole.routing.reportDedupCapacity),
            ("report_dedup_window_s", routing.ledgerSettings.windowSeconds, whole.routing.reportDedupWindowSeconds),
        ] where old != new {
            notes.append("routing.\(name) changes only on restart")
        }
        if whole.redis != redisSettings { notes.append("the redis section changes only on restart") }
        if whole.logging.format != logFormat { notes.append("logging.format changes only on restart") }
        if whole.audit != (audit?.settings ?? AuditSettings()) {
            notes.append("the audit section changes only on restart")
        }
        return notes
    }

    /// Reads the configuration again from its source and applies it
    /// (SIGHUP and `ADMIN_RELOAD`); a broken file changes nothing.
    public func reloadFromSource(cause: String) -> Result<AdminReload, ReloadFailure> {
        guard let source else { return .failure(.noSource) }
        let notes: [String]
        do {
            let updated = try source.load()
            notes = reload(updated)
            source.applied(updated)
        } catch {
            logger.error(
                "reload refused, the running configuration stays",
                metadata: ["problems": "\(error)", "cause": "\(cause)"])
            return .failure(.invalid(error))
        }
        // Once the loaded copy is gone: the server keeps one without keys and limits.
        Allocator.returnFreePages()
        for note in notes { logger.warning("reload: \(note)") }
        logger.info("configuration reloaded", metadata: ["config": "\(source.name)", "cause": "\(cause)"])
        return .success(AdminReload(config: source.name, notes: notes))
    }

    public enum ReloadFailure: Error, CustomStringConvertible {
        case noSource
        case invalid(ConfigurationError)

        public var description: String {
            switch self {
            case .noSource: "the daemon runs on its built-in defaults (no --config file): there is nothing to reload"
            case .invalid(let error): "reload refused, the running configuration stays: \(error)"
            }
        }
    }

    /// How many times each loop has woken from epoll_wait. An idle loop wakes
    /// four times a second; a figure racing ahead with no traffic is a busy loop.
    public var loopWakeups: [UInt64] { handles.map(\.wakeupCount) }

    /// Bytes each loop thread has allocated since it started, fresh from the
    /// loops themselves; nil when a loop did not answer within the timeout.
    /// Tests and soak runs use the difference between two readings to prove
    /// the request path allocates nothing.
    public func loopAllocatedBytes(timeoutMilliseconds: Int = 5_000) -> [UInt64]? {
        let before = handles.map { $0.lastReport.count }
        handles.forEach { $0.postReportRequest() }
        let deadline = MonotonicClock.nanoseconds() + UInt64(timeoutMilliseconds) * 1_000_000
        while true {
            let reports = handles.map(\.lastReport)
            if zip(reports, before).allSatisfy({ $0.count > $1 }) { return reports.map(\.allocatedBytes) }
            if MonotonicClock.nanoseconds() > deadline { return nil }
            usleep(1_000)
        }
    }

    /// Stops accepting, lets each loop answer what it has received and close
    /// its connections (within shutdown_grace_ms), and waits for the loops to end.
    public func shutdown() {
        stopping.store(true, ordering: .relaxed)
        let (threads, unstarted) = state.withLock { state in
            defer {
                state.threads = []
                state.listeners = []
                state.adminListener = -1
            }
            return (state.threads, state.listeners + [state.adminListener].filter { $0 >= 0 })
        }
        unstarted.forEach(Descriptor.close)
        handles.forEach { $0.postDrain() }
        threads.forEach { $0.join() }
        adminWorker.shutdown()
        // The merger folds the loops' last outcomes in, then the fleet flushes them.
        routing.shutdown()
        fleet?.shutdown()
        // After the loops: their last records are written too.
        audit?.shutdown()
    }

    /// Applies the fleet's SRE overrides (read from Redis by the sync
    /// thread) on top of the loaded configuration: weights, drained
    /// gateways and merchant statuses by a reload that keeps all state,
    /// forced breakers directly.
    func apply(_ overrides: FleetOverrides, cause: String) {
        let (previous, effective) = state.withLock { state -> (FleetOverrides, Configuration) in
            defer { state.overrides = overrides }
            return (state.overrides, overrides.applied(to: state.base))
        }
        var configured = (before: previous, after: overrides)
        configured.before.breakers = [:]
        configured.after.breakers = [:]
        if configured.before != configured.after { routing.reload(effective) }
        for change in overrides.breakerChanges(since: previous) {
            routing.force(change.state, gateway: change.gateway, method: change.method)
        }
        logger.info(
            "overrides applied",
            metadata: [
                "cause": "\(cause)",
                "weights": "\(overrides.weights.count)", "gateways": "\(overrides.enabled.count)",
                "breakers": "\(overrides.breakers.count)", "merchants": "\(overrides.merchantStatus.count)",
            ])
    }

    /// Whether the fleet sync reaches Redis (nil when standalone).
    public var fleetConnected: Bool? { fleet?.isConnected }

    /// The admin endpoints, for load balancers and orchestrators: `/health`
    /// (the process answers), `/ready` (configuration loaded and loops
    /// running; 503 once stopping). Redis away is `degraded`, and still
    /// ready: decisions go on from local state. (`/metrics` is answered by
    /// loop 0's ``MetricsExporter``.)
    func adminResponse(_ path: String) -> HTTPResponse {
        switch path {
        case "/health":
            return .json(200, #"{"status": "alive"}"#)
        case "/ready":
            let redis = redisStatus
            let status = stopping.load(ordering: .relaxed) ? "stopping" : "ready"
            return .json(
                status == "ready" ? 200 : 503,
                #"{"status": "\#(status)", "loops": \#(loopCount), "redis": "\#(redis)"}"#)
        default:
            return .text(404, "not found: the admin endpoints are /health, /ready and /metrics")
        }
    }

    /// What `/metrics` reports, read when scraped.
    var metricsSample: MetricsExporter.Sample {
        let totals = routing.labelledTotals()
        let (table, counts, states) = routing.slotMetrics()
        let snapshot = routing.current.snapshot
        var gateways: [MetricsExporter.GatewaySample] = []
        if snapshot.table === table {
            for gateway in 0..<table.gatewayCount {
                for method in 0..<table.methodCount where table.serves(gateway: gateway, method: method) {
                    let slot = table.breakerIndex(gateway: gateway, method: method)
                    gateways.append(
                        MetricsExporter.GatewaySample(
                            gateway: table.gateways[gateway].id, method: table.methods.names[method],
                            counts: counts[slot], state: states[slot],
                            successRate: snapshot.fleetEstimate(
                                gateway: gateway, segment: Segment(method: UInt8(method)))))
                }
            }
        }
        return MetricsExporter.Sample(
            connections: connectionCount, loops: loopCount, allocatedBytes: Allocator.allocatedBytes,
            routing: routing.counters,
            redisConnected: fleet?.isConnected ?? false, syncAge: fleet?.syncAgeSeconds, dropped: routing.fleetDropped,
            limitsDegraded: (routing.current.authorization.leases?.degradedSince ?? 0) != 0,
            leases: fleet?.leaseCounters, loopMetrics: handles.map(\.metrics), totals: totals,
            gateways: gateways, audit: audit.map { (written: $0.written, dropped: $0.dropped, rotations: $0.rotations) }
        )
    }

    /// What routing has counted so far (reports by outcome, unknown decisions, breaker transitions).
    public var routingCounters: RoutingCounters { routing.counters }

    /// The newest routing snapshot (for tests and admin views).
    public var routingSnapshot: RoutingSnapshot { routing.current.snapshot }

    static func onlineCores() -> Int {
        max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
    }
}
