import SwitchyardClient
import SwitchyardPosix
import SwitchyardWire

/// One connection of the load generator: it writes a batch of `depth`
/// requests at once and counts replies, in either protocol, so Switchyard and
/// Redis are driven by exactly the same loop.
enum LoadConnection {
    case switchyard(Connection, SwitchyardRequest)
    case redis(RawStream)

    var fd: Int32 {
        switch self {
        case .switchyard(let connection, _): connection.fd
        case .redis(let stream): stream.fd
        }
    }

    /// Queues `count` requests and writes as much as the socket takes.
    /// Returns true when everything was written.
    func sendBatch(_ count: Int) throws -> Bool {
        switch self {
        case .switchyard(let connection, let request):
            for _ in 0..<count { request.send(on: connection) }
            return try connection.writeQueued()
        case .redis(let stream):
            for _ in 0..<count { stream.queue(stream.request) }
            return try stream.writeQueued()
        }
    }

    func writeQueued() throws -> Bool {
        switch self {
        case .switchyard(let connection, _): try connection.writeQueued()
        case .redis(let stream): try stream.writeQueued()
        }
    }

    /// Reads what arrived and returns the replies completed by it, how many
    /// were errors, and how many AUTHORIZE or DECIDE answers refused (a
    /// rate limit, say: a load test of limits needs the admitted count).
    func readReplies() throws -> (replies: Int, errors: Int, refused: Int) {
        switch self {
        case .switchyard(let connection, _):
            try connection.readAvailable()
            var replies = 0
            var errors = 0
            var refused = 0
            while try connection.nextReply({ header, body in
                replies += 1
                if header.status != .ok {
                    errors += 1
                } else if header.opcode == .authorize || header.opcode == .decide, body.first == 0 {
                    // Both replies open with AUTHORIZE's `allowed` byte.
                    refused += 1
                }
            }) {}
            return (replies, errors, refused)
        case .redis(let stream):
            let (replies, errors) = try stream.readRedisReplies()
            return (replies, errors, 0)
        }
    }
}

/// What a Switchyard connection sends: the same PING or ROUTE body every
/// time, or a REPORT with a new payment id each time (a repeated one would
/// only measure the duplicate check).
final class SwitchyardRequest {
    enum Kind {
        case fixed(Opcode, [UInt8])
        case report(ReportRequest)
    }

    let kind: Kind
    private var sequence = 0

    init(_ kind: Kind) { self.kind = kind }

    func send(on connection: Connection) {
        switch kind {
        case .fixed(let opcode, let body):
            _ = connection.send(opcode, bytes: body)
        case .report(var report):
            sequence += 1
            report.paymentID = "bench-\(ObjectIdentifier(self).hashValue & 0xFFFF)-\(sequence)"
            _ = connection.send(.report) { report.write(to: &$0) }
        }
    }
}

/// A non-blocking socket speaking just enough RESP for PING and GET: the
/// request is `PING` (what redis-benchmark's ping_mbulk sends) or `GET key`;
/// replies are simple strings, errors or bulk strings.
final class RawStream {
    static let ping = Array("*1\r\n$4\r\nPING\r\n".utf8)
    static func get(_ key: String) -> [UInt8] { Array("*2\r\n$3\r\nGET\r\n$\(key.utf8.count)\r\n\(key)\r\n".utf8) }

    let fd: Int32
    let request: [UInt8]
    /// Bytes of a bulk string's body (and its CRLF) still to skip.
    private var bulkRemaining = 0
    private var header: [UInt8] = []
    private var output: [UInt8] = []
    private var written = 0
    private var input = [UInt8](repeating: 0, count: 65_536)
    private var lineIsError = false
    private var atLineStart = true

    init(address: SocketAddress, request: [UInt8]) throws {
        self.request = request
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
        var index = 0
        while index < count {
            if bulkRemaining > 0 {
                let skip = min(bulkRemaining, count - index)
                bulkRemaining -= skip
                index += skip
                if bulkRemaining == 0 { replies += 1 }
                continue
            }
            let byte = input[index]
            index += 1
            if atLineStart {
                lineIsError = byte == UInt8(ascii: "-")
                atLineStart = false
                header.removeAll(keepingCapacity: true)
            }
            header.append(byte)
            guard byte == UInt8(ascii: "\n") else { continue }
            atLineStart = true
            // A bulk string header ($n) is followed by n bytes and CRLF; $-1 is a nil reply.
            if header.first == UInt8(ascii: "$"),
                let length = Int(String(decoding: header.dropFirst().dropLast(2), as: UTF8.self)),
                length >= 0
            {
                bulkRemaining = length + 2
                continue
            }
            replies += 1
            if lineIsError { errors += 1 }
        }
        return (replies, errors)
    }
}
