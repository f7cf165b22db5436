import CLinux
import Glibc

/// A one-shot timer on the monotonic clock that an epoll set can watch, with
/// nanosecond deadlines: what an open-loop load generator needs to send at
/// the intended moment, where epoll's own timeout only counts milliseconds.
public final class TimerFD {
    public let fd: Int32

    public init() throws(SyscallError) {
        fd = try retrying("timerfd_create") {
            timerfd_create(CLOCK_MONOTONIC, Int32(TFD_NONBLOCK | TFD_CLOEXEC))
        }
    }

    deinit { Descriptor.close(fd) }

    /// Fires once when ``MonotonicClock/nanoseconds()`` reaches `deadline`
    /// (at once if it has passed), replacing any earlier deadline.
    public func arm(atNanoseconds deadline: UInt64) throws(SyscallError) {
        // 0 would disarm the timer; the clock's epoch is long past 1 ns.
        let at = max(deadline, 1)
        var spec = itimerspec(
            it_interval: timespec(tv_sec: 0, tv_nsec: 0),
            it_value: timespec(tv_sec: Int(at / 1_000_000_000), tv_nsec: Int(at % 1_000_000_000)))
        _ = try retrying("timerfd_settime") { timerfd_settime(fd, Int32(TFD_TIMER_ABSTIME), &spec, nil) }
    }

    /// Consumes the expiry count after a wakeup, so the descriptor stops reading as ready.
    public func drain() {
        var expirations: UInt64 = 0
        _ = Glibc.read(fd, &expirations, 8)
    }
}
