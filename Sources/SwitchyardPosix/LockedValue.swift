import Glibc

/// A value that threads share, guarded by a pthread mutex.
///
/// Not `Synchronization.Mutex`: on Linux that is a bare futex, which
/// ThreadSanitizer does not model as a lock, so it reports every access the
/// lock guards as a race and cannot gate CI (docs/hardening.md). TSan
/// intercepts pthread mutexes. Uncontended, both cost one atomic operation
/// each way, and no lock of the daemon is taken per request.
public final class LockedValue<Value: ~Copyable>: @unchecked Sendable {
    // Heap-allocated: a pthread mutex must not move once initialised.
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private var value: Value

    public init(_ value: consuming sending Value) {
        mutex = .allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        pthread_mutex_init(mutex, nil)
        self.value = value
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    /// Runs `body` with the value, the lock held.
    public func withLock<Result: ~Copyable, E: Error>(
        _ body: (inout sending Value) throws(E) -> sending Result
    ) throws(E) -> sending Result {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&value)
    }
}
