import SwitchyardPosix
import Synchronization

/// What the supervisor keeps of a loop running on another thread: the wake-up
/// descriptor and a mailbox. The mailbox is touched only on cold events
/// (reload, shutdown, admin replies), never per request.
final class LoopHandle: Sendable {
    let index: Int
    let wake: EventFD
    /// The loop's request metrics: written by the loop, read by `/metrics`.
    let metrics = LoopMetrics()
    /// The loop's last decisions: written by the loop, read by `ADMIN_EXPLAIN`.
    let decisions = DecisionLog()
    private let mailbox = LockedValue(Mail())
    /// Bytes the loop thread has allocated since it started, as of its last
    /// report, and how many reports it has made. A loop reports at every idle
    /// sweep and when asked; a figure that grows under steady traffic means
    /// something on the request path allocates.
    private let allocated = Atomic<UInt64>(0)
    private let reports = Atomic<UInt64>(0)
    /// Times the loop returned from epoll_wait. Written by the loop alone (a
    /// load and a store, not a shared read-modify-write), once per batch of
    /// events, never per request.
    private let wakeups = Atomic<UInt64>(0)

    struct Mail {
        var settings: ServerSettings?
        var drain = false
        var report = false
        /// Admin replies, by the token of the connection that asked.
        var adminReplies: [(connection: UInt64, frame: [UInt8])] = []
    }

    init(index: Int) throws(SyscallError) {
        self.index = index
        wake = try EventFD()
    }

    func post(settings: ServerSettings) {
        mailbox.withLock { $0.settings = settings }
        wake.signal()
    }

    func post(adminReply frame: [UInt8], connection: UInt64) {
        mailbox.withLock { $0.adminReplies.append((connection, frame)) }
        wake.signal()
    }

    func postReportRequest() {
        mailbox.withLock { $0.report = true }
        wake.signal()
    }

    /// Called on the loop's own thread.
    func report(allocatedBytes: UInt64) {
        allocated.store(allocatedBytes, ordering: .relaxed)
        reports.add(1, ordering: .releasing)
    }

    var lastReport: (count: UInt64, allocatedBytes: UInt64) {
        let count = reports.load(ordering: .acquiring)
        return (count, allocated.load(ordering: .relaxed))
    }

    /// Called on the loop's own thread after each epoll_wait.
    func countWakeup() {
        wakeups.store(wakeups.load(ordering: .relaxed) &+ 1, ordering: .relaxed)
    }

    var wakeupCount: UInt64 { wakeups.load(ordering: .relaxed) }

    func postDrain() {
        mailbox.withLock { $0.drain = true }
        wake.signal()
    }

    func collect() -> Mail {
        wake.drain()
        return mailbox.withLock { mail in
            defer { mail = Mail() }
            return mail
        }
    }
}

/// Counts open connections across all loops to enforce max_connections.
/// Touched at accept and close only.
final class ConnectionBudget: Sendable {
    private let open = Atomic<Int>(0)

    /// Reserves a place for one more connection, or says there is none.
    func reserve(limit: Int) -> Bool {
        var current = open.load(ordering: .relaxed)
        while current < limit {
            let (exchanged, original) = open.compareExchange(
                expected: current, desired: current + 1, ordering: .relaxed)
            if exchanged { return true }
            current = original
        }
        return false
    }

    func release() { open.subtract(1, ordering: .relaxed) }

    var count: Int { open.load(ordering: .relaxed) }
}
