import CLinux
import Glibc

/// A counter another thread can bump to wake an epoll loop. Shared by the
/// supervisor (writer) and one loop (reader), so it is a reference type that
/// closes its descriptor when the last owner lets go.
public final class EventFD: Sendable {
    public let fd: Int32

    public init() throws(SyscallError) {
        fd = try retrying("eventfd") { eventfd(0, Int32(EFD_NONBLOCK | EFD_CLOEXEC)) }
    }

    deinit { Descriptor.close(fd) }

    public func signal() {
        // EAGAIN only happens when the counter is saturated: a wakeup is then
        // already pending, which is all a signal asks for.
        _ = eventfd_write(fd, 1)
    }

    /// Waits until signalled or `timeoutMilliseconds` pass (for a thread
    /// that sleeps on the counter alone, without an epoll set); true when
    /// signalled. Resets the counter.
    @discardableResult
    public func wait(timeoutMilliseconds: Int32) -> Bool {
        var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        let ready = poll(&entry, 1, timeoutMilliseconds) > 0
        if ready { drain() }
        return ready
    }

    /// Resets the counter after a wakeup.
    public func drain() {
        var value: eventfd_t = 0
        _ = eventfd_read(fd, &value)
    }
}
