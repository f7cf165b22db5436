import SwitchyardClient
import SwitchyardPosix
import SwitchyardWire

/// One connection of the load generator: it writes a batch of `depth`
/// requests at once and counts replies, in either protocol, so Switchyard and
/// Redis are driven by exactly the same loop.
enum LoadConnection {
    case switchyard(Connection, payload: [UInt8])
    case redis(RawStream)

    var fd: Int32 {
        switch self {
        case .switchyard(let connection, _): connection.fd
        case .redis(let stream): stream.fd
        }
    }

    /// Queues `count` PINGs and writes as much as the socket takes.
    /// Returns true when everything was written.
    func sendBatch(_ count: Int) throws -> Bool {
        switch self {
        case .switchyard(let connection, let payload):
            for _ in 0..<count { connection.send(.ping, bytes: payload) }
            return try connection.writeQueued()
        case .redis(let stream):
            for _ in 0..<count { stream.queue(RawStream.redisPing) }
            return try stream.writeQueued()
        }
    }

    func writeQueued() throws -> Bool {
        switch self {
        case .switchyard(let connection, _): try connection.writeQueued()
        case .redis(let stream): try stream.writeQueued()
        }
    }

    /// Reads what arrived and returns (replies, error replies) completed by it.
    func readReplies() throws -> (replies: Int, errors: Int) {
        switch self {
        case .switchyard(let connection, _):
            try connection.readAvailable()
            var replies = 0
            var errors = 0
            while try connection.nextReply({ header, _ in
                replies += 1
                if header.status != .ok { errors += 1 }
            }) {}
            return (replies, errors)
        case .redis(let stream):
            return try stream.readRedisReplies()
        }
    }
}

/// A non-blocking socket speaking just enough RESP for PING: requests are
/// `*1\r\n$4\r\nPING\r\n` (what redis-benchmark's ping_mbulk sends), replies
/// are simple strings or errors, one line each.
final class RawStream {
    static let redisPing = Array("*1\r\n$4\r\nPING\r\n".utf8)

    let fd: Int32
    private var output: [UInt8] = []
    private var written = 0
    private var input = [UInt8](repeating: 0, count: 65_536)
    private var lineIsError = false
    private var atLineStart = true

    init(address: SocketAddress) throws {
        fd = try Socket.connect(to: address, timeoutMilliseconds: 2_000)
        try Socket.setBlocking(fd, false)
    }

    deinit { Descriptor.close(fd) }

    func queue(_ bytes: [UInt8]) { output += bytes }

    func writeQueued() throws -> Bool {
        while written < output.count {
            let result = try output[written...].withUnsafeBytes {
                try Descriptor.write(fd, from: $0.baseAddress!, count: $0.count)
            }
            guard let count = result else { return false }
            written += count
        }
        output.removeAll(keepingCapacity: true)
        written = 0
        return true
    }

    func readRedisReplies() throws -> (replies: Int, errors: Int) {
        let result = try input.withUnsafeMutableBytes {
            try Descriptor.read(fd, into: $0.baseAddress!, count: $0.count)
        }
        guard let count = result else { return (0, 0) }
        if count == 0 { throw ClientError.connectionClosed }
        var replies = 0
        var errors = 0
        for byte in input[..<count] {
            if atLineStart {
                lineIsError = byte == UInt8(ascii: "-")
                atLineStart = false
            }
            if byte == UInt8(ascii: "\n") {
                replies += 1
                if lineIsError { errors += 1 }
                atLineStart = true
            }
        }
        return (replies, errors)
    }
}
