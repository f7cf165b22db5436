import CLinux
import Synchronization

/// A thread that runs until told to stop: the merger and the fleet sync are
/// loops that check ``isStopping`` between rounds and finish their last
/// round before ``stop()`` returns.
public final class BackgroundThread: Sendable {
    private let stopping = Atomic<Bool>(false)
    private let thread = LockedValue<Thread?>(nil)

    public init() {}

    /// True once ``stop()`` was called.
    public var isStopping: Bool { stopping.load(ordering: .relaxed) }

    /// Starts `body` on a thread named `name`. A `niceness` above 0 makes
    /// the thread yield the CPU to the event loops when they share a core:
    /// background work must not delay a decision.
    public func start(name: String, niceness: Int32 = 0, _ body: @escaping @Sendable () -> Void)
        throws(SyscallError)
    {
        let started = try Thread(name: name) {
            if niceness != 0 { _ = clinux_set_thread_niceness(niceness) }
            body()
        }
        thread.withLock { $0 = started }
    }

    /// Asks the loop to stop and waits until it has.
    public func stop() {
        stopping.store(true, ordering: .relaxed)
        thread.withLock { thread in
            thread?.join()
            thread = nil
        }
    }
}
