import CLinux
import Glibc

/// TCP socket set-up: listeners, accepted connections, outgoing connections.
/// Everything here happens once per connection, never per request.
public enum Socket {
    /// A non-blocking listener. With `reusePort`, several listeners (one per
    /// event loop) share the port and the kernel spreads connections over them.
    public static func listen(on address: SocketAddress, reusePort: Bool, backlog: Int32 = 1024) throws(SyscallError)
        -> Int32
    {
        let fd = try retrying("socket") {
            socket(address.domain, Int32(SOCK_STREAM.rawValue | SOCK_NONBLOCK.rawValue | SOCK_CLOEXEC.rawValue), 0)
        }
        do throws(SyscallError) {
            try setOption(fd, SOL_SOCKET, SO_REUSEADDR, 1, "SO_REUSEADDR")
            if reusePort { try setOption(fd, SOL_SOCKET, SO_REUSEPORT, 1, "SO_REUSEPORT") }
            _ = try retrying("bind") { address.withSockaddr { Glibc.bind(fd, $0, $1) } }
            _ = try retrying("listen") { Glibc.listen(fd, backlog) }
        } catch {
            Descriptor.close(fd)
            throw error
        }
        return fd
    }

    /// The port a socket is bound to (useful after binding port 0).
    public static func localPort(_ fd: Int32) throws(SyscallError) -> UInt16 {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        _ = try retrying("getsockname") {
            withUnsafeMutablePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
            }
        }
        let family = storage.ss_family
        return withUnsafePointer(to: &storage) { pointer in
            if family == sa_family_t(AF_INET6) {
                return pointer.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) {
                    UInt16(bigEndian: $0.pointee.sin6_port)
                }
            }
            return pointer.withMemoryRebound(to: sockaddr_in.self, capacity: 1) {
                UInt16(bigEndian: $0.pointee.sin_port)
            }
        }
    }

    /// Accepts one pending connection as a non-blocking socket with Nagle off,
    /// or returns nil when none is pending.
    public static func accept(_ listener: Int32) throws(SyscallError) -> Int32? {
        while true {
            let fd = clinux_accept4(listener, nil, nil, Int32(SOCK_NONBLOCK.rawValue | SOCK_CLOEXEC.rawValue))
            if fd >= 0 {
                // Replies are small and latency is the product: never wait to coalesce.
                try? setOption(fd, Int32(IPPROTO_TCP), TCP_NODELAY, 1, "TCP_NODELAY")
                return fd
            }
            let err = Glibc.errno
            switch err {
            case EINTR, ECONNABORTED: continue
            case EAGAIN: return nil
            default: throw SyscallError(call: "accept4", errno: err)
            }
        }
    }

    /// Connects with a deadline and returns a blocking socket with Nagle off.
    public static func connect(to address: SocketAddress, timeoutMilliseconds: Int32) throws(SyscallError) -> Int32 {
        let fd = try retrying("socket") {
            socket(address.domain, Int32(SOCK_STREAM.rawValue | SOCK_NONBLOCK.rawValue | SOCK_CLOEXEC.rawValue), 0)
        }
        do throws(SyscallError) {
            let rc = address.withSockaddr { Glibc.connect(fd, $0, $1) }
            if rc != 0 {
                guard errno == EINPROGRESS else { throw SyscallError(call: "connect", errno: errno) }
                var pfd = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
                let ready = try retrying("poll") { poll(&pfd, 1, timeoutMilliseconds) }
                if ready == 0 { throw SyscallError(call: "connect", errno: ETIMEDOUT) }
                var soError: Int32 = 0
                var length = socklen_t(MemoryLayout<Int32>.size)
                _ = try retrying("getsockopt") { getsockopt(fd, SOL_SOCKET, SO_ERROR, &soError, &length) }
                if soError != 0 { throw SyscallError(call: "connect", errno: soError) }
            }
            try setBlocking(fd, true)
            try setOption(fd, Int32(IPPROTO_TCP), TCP_NODELAY, 1, "TCP_NODELAY")
        } catch {
            Descriptor.close(fd)
            throw error
        }
        return fd
    }

    public static func setBlocking(_ fd: Int32, _ blocking: Bool) throws(SyscallError) {
        let flags = try retrying("fcntl") { fcntl(fd, F_GETFL) }
        let updated = blocking ? flags & ~O_NONBLOCK : flags | O_NONBLOCK
        _ = try retrying("fcntl") { fcntl(fd, F_SETFL, updated) }
    }

    /// Bounds how long a blocking read may wait (0: forever).
    public static func setReceiveTimeout(_ fd: Int32, milliseconds: Int) throws(SyscallError) {
        var tv = timeval(tv_sec: milliseconds / 1000, tv_usec: (milliseconds % 1000) * 1000)
        _ = try retrying("setsockopt(SO_RCVTIMEO)") {
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        }
    }

    /// Shrinks the kernel's receive buffer (tests use it to make backpressure
    /// appear after kilobytes instead of megabytes).
    public static func setReceiveBufferSize(_ fd: Int32, bytes: Int32) throws(SyscallError) {
        try setOption(fd, SOL_SOCKET, SO_RCVBUF, bytes, "SO_RCVBUF")
    }

    static func setOption(_ fd: Int32, _ level: Int32, _ name: Int32, _ value: Int32, _ label: StaticString)
        throws(SyscallError)
    {
        var value = value
        _ = try retrying(label) { setsockopt(fd, level, name, &value, socklen_t(MemoryLayout<Int32>.size)) }
    }
}
