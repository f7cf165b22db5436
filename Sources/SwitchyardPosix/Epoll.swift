public import CLinux
import Glibc

/// An epoll instance and its event array. Level-triggered, as in Redis's
/// ae_epoll.c and NIO: a connection left with unread bytes is reported again.
public struct Epoll: ~Copyable {
    public let fd: Int32
    public let capacity: Int
    @usableFromInline let events: UnsafeMutablePointer<epoll_event>

    public struct Interest: OptionSet, Sendable {
        public let rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }
        public static let read = Interest(rawValue: EPOLLIN.rawValue)
        public static let write = Interest(rawValue: EPOLLOUT.rawValue)
        /// The peer shut down its writing side (it may still read).
        public static let peerClosedWriting = Interest(rawValue: EPOLLRDHUP.rawValue)
        /// The connection is gone or failed. Always reported, whatever was registered.
        public static let failed = Interest(rawValue: EPOLLHUP.rawValue | EPOLLERR.rawValue)
    }

    public init(capacity: Int = 256) throws(SyscallError) {
        fd = try retrying("epoll_create1") { epoll_create1(Int32(EPOLL_CLOEXEC)) }
        self.capacity = capacity
        events = .allocate(capacity: capacity)
    }

    deinit {
        events.deallocate()
        Descriptor.close(fd)
    }

    public func add(_ target: Int32, interest: Interest, token: UInt64) throws(SyscallError) {
        try control(EPOLL_CTL_ADD, target, interest, token)
    }

    public func modify(_ target: Int32, interest: Interest, token: UInt64) throws(SyscallError) {
        try control(EPOLL_CTL_MOD, target, interest, token)
    }

    public func remove(_ target: Int32) throws(SyscallError) {
        try control(EPOLL_CTL_DEL, target, [], 0)
    }

    private func control(_ op: Int32, _ target: Int32, _ interest: Interest, _ token: UInt64) throws(SyscallError) {
        var event = epoll_event()
        event.events = interest.rawValue
        event.data.u64 = token
        _ = try retrying("epoll_ctl") { epoll_ctl(fd, op, target, &event) }
    }

    /// Waits up to `timeoutMilliseconds` (-1: forever) and returns how many
    /// events are ready; read them with ``event(at:)``.
    public func wait(timeoutMilliseconds: Int32) throws(SyscallError) -> Int {
        let n = epoll_wait(fd, events, Int32(capacity), timeoutMilliseconds)
        if n >= 0 { return Int(n) }
        let err = Glibc.errno
        if err == EINTR { return 0 }
        throw SyscallError(call: "epoll_wait", errno: err)
    }

    @inlinable
    public func event(at index: Int) -> (token: UInt64, interest: Interest) {
        let event = events[index]
        return (event.data.u64, Interest(rawValue: event.events))
    }
}
