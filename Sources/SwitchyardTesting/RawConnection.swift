import Glibc
import SwitchyardPosix
public import SwitchyardWire

/// A blocking TCP connection that sends any bytes at all, for tests of what
/// the server does with bad input. Every read waits at most the timeout, so a
/// server bug fails a test in seconds instead of hanging CI.
public final class RawConnection {
    public let fd: Int32

    public init(port: UInt16, timeoutMilliseconds: Int = 5_000) throws {
        fd = try Socket.connect(to: SocketAddress(host: "127.0.0.1", port: port), timeoutMilliseconds: 2_000)
        try Socket.setReceiveTimeout(fd, milliseconds: timeoutMilliseconds)
    }

    deinit { Descriptor.close(fd) }

    /// Writes all of `bytes`; a connection the server closed is an error
    /// (EPIPE), not a SIGPIPE that would end the test process.
    public func write(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { throw SyscallError(call: "write", errno: errno) }
            offset += n
        }
    }

    /// Writes without blocking; returns how many bytes the socket took.
    public func writeSome(_ bytes: [UInt8]) -> Int {
        let n = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT | MSG_NOSIGNAL)) }
        return max(0, n)
    }

    /// Sends PINGs numbered from 1, each carrying `payloadBytes`, without
    /// reading a single reply, until the server stops taking them (backpressure)
    /// or `maxFrames` were sent. Returns how many frames went out whole and the
    /// unsent tail of the one in progress (empty when none is).
    public func floodWithoutReading(payloadBytes: Int = 8_192, maxFrames: Int = 20_000) throws -> (
        complete: Int, unsent: [UInt8]
    ) {
        // A small receive buffer makes the flood stall after a few MiB; not a
        // tiny one: below a few KiB loopback TCP crawls on zero-window probes.
        try Socket.setReceiveBufferSize(fd, bytes: 65_536)
        let payload = [UInt8](repeating: 0xAB, count: payloadBytes)
        var unsent: [UInt8] = []
        var complete = 0
        var stalled = 0
        while stalled < 50 && (complete < maxFrames || !unsent.isEmpty) {
            if unsent.isEmpty { unsent = Frames.ping(id: UInt32(complete + 1), payload: payload) }
            let taken = writeSome(unsent)
            if taken == 0 {
                stalled += 1
                usleep(2_000)
            } else {
                stalled = 0
                unsent.removeFirst(taken)
                if unsent.isEmpty { complete += 1 }
            }
        }
        return (complete, unsent)
    }

    /// Closes the sending side; the server sees end of stream.
    public func shutdownWrite() { shutdown(fd, Int32(SHUT_WR)) }

    /// Reads exactly `count` bytes, or throws on timeout or end of stream.
    public func read(count: Int) throws -> [UInt8] {
        var result = [UInt8](repeating: 0, count: count)
        var offset = 0
        while offset < count {
            let n = result[offset...].withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n == 0 { throw RawConnectionError.endOfStream(received: offset) }
            if n < 0 {
                if errno == EINTR { continue }
                throw errno == EAGAIN ? RawConnectionError.timeout : RawConnectionError.failed(errno)
            }
            offset += n
        }
        return result
    }

    /// Reads until the server closes the connection (an HTTP answer, say).
    public func readToEnd() throws -> [UInt8] {
        var result: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4_096)
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n == 0 || (n < 0 && errno == ECONNRESET) { return result }
            if n < 0 {
                if errno == EINTR { continue }
                throw errno == EAGAIN ? RawConnectionError.timeout : RawConnectionError.failed(errno)
            }
            result += chunk[..<n]
        }
    }

    /// Reads one whole frame and returns its bytes.
    public func readFrameBytes() throws -> [UInt8] {
        let header = try read(count: FrameHeader.size)
        let length = Int(
            UInt32(header[12]) | UInt32(header[13]) << 8 | UInt32(header[14]) << 16 | UInt32(header[15]) << 24)
        return header + (try read(count: length))
    }

    /// Reads one frame and returns its header and body.
    public func readFrame() throws -> (header: FrameHeader, body: [UInt8]) {
        let bytes = try readFrameBytes()
        guard case .header(let header) = bytes.withUnsafeBytes({ FrameHeader.parse($0, maxBodyLength: .max) }) else {
            throw RawConnectionError.notAFrame(bytes)
        }
        return (header, Array(bytes[FrameHeader.size...]))
    }

    /// True when the server has closed the connection (end of stream, or a reset).
    public func isClosedByServer() -> Bool {
        var byte: UInt8 = 0
        while true {
            let n = Glibc.read(fd, &byte, 1)
            if n == 0 { return true }
            if n < 0 && errno == EINTR { continue }
            return n < 0 && errno == ECONNRESET
        }
    }
}

public enum RawConnectionError: Error, Equatable {
    case timeout
    case endOfStream(received: Int)
    case failed(Int32)
    case notAFrame([UInt8])
}
