import Synchronization

/// A thread that runs until told to stop: the merger and the fleet sync are
/// loops that check ``isStopping`` between rounds and finish their last
/// round before ``stop()`` returns.
public final class BackgroundThread: Sendable {
    private let stopping = Atomic<Bool>(false)
    private let thread = Mutex<Thread?>(nil)

    public init() {}

    /// True once ``stop()`` was called.
    public var isStopping: Bool { stopping.load(ordering: .relaxed) }

    /// Starts `body` on a thread named `name`.
    public func start(name: String, _ body: @escaping @Sendable () -> Void) throws(SyscallError) {
        let started = try Thread(name: name, body)
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
