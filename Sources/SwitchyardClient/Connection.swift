public import SwitchyardPosix
public import SwitchyardWire

/// One connection to a Switchyard server, owned by one thread.
///
/// Requests are pipelined: ``send(_:body:)`` only encodes into the output
/// buffer and returns the request id, ``flush()`` writes everything queued in
/// one go, and ``receive()`` returns replies in the order the requests were
/// sent (the server answers in order; each reply carries its request id).
/// ``call(_:body:)`` does all three for one request.
///
/// A load generator can drive many connections from its own event loop with
/// ``isNonBlocking``, ``writeQueued()``, ``readAvailable()`` and ``nextReply(_:)``.
public final class Connection {
    public let address: SocketAddress
    /// The socket, for registering with an event loop.
    public let fd: Int32

    private var input = ByteBuffer(capacity: 65_536)
    private var output = ByteBuffer(capacity: 65_536)
    private var nextRequestID: UInt32 = 1
    private var closed = false

    /// Connects, waiting at most `connectTimeoutMilliseconds`; a blocking
    /// ``receive()`` waits at most `replyTimeoutMilliseconds` (0: forever).
    public init(
        to address: SocketAddress, connectTimeoutMilliseconds: Int32 = 2_000, replyTimeoutMilliseconds: Int = 5_000
    ) throws(ClientError) {
        self.address = address
        do {
            fd = try Socket.connect(to: address, timeoutMilliseconds: connectTimeoutMilliseconds)
        } catch {
            throw .connect(error)
        }
        do {
            try Socket.setReceiveTimeout(fd, milliseconds: replyTimeoutMilliseconds)
        } catch {
            Descriptor.close(fd)
            throw .io(error)
        }
    }

    /// Connects to `host:port` (or `[v6]:port`).
    public convenience init(
        to address: String, connectTimeoutMilliseconds: Int32 = 2_000, replyTimeoutMilliseconds: Int = 5_000
    ) throws(ClientError) {
        let parsed: SocketAddress
        do { parsed = try SocketAddress(parsing: address) } catch { throw .invalidAddress(error) }
        try self.init(
            to: parsed, connectTimeoutMilliseconds: connectTimeoutMilliseconds,
            replyTimeoutMilliseconds: replyTimeoutMilliseconds)
    }

    deinit { Descriptor.close(fd) }

    /// Makes reads and writes return instead of waiting, for use with epoll.
    public var isNonBlocking = false {
        didSet { try? Socket.setBlocking(fd, !isNonBlocking) }
    }

    // MARK: - Pipelining

    /// Queues a request and returns its request id. Nothing is sent before ``flush()``.
    @discardableResult
    public func send(_ opcode: Opcode, body: (inout BodyWriter) -> Void = { _ in }) -> UInt32 {
        let id = nextRequestID
        nextRequestID = nextRequestID == UInt32.max ? 1 : nextRequestID + 1
        var room = 1_024
        while true {
            let region = output.writable(atLeast: room)
            if let count = FrameEncoder.encode(
                into: region, header: FrameHeader(opcode: opcode, requestID: id), body: body)
            {
                output.didWrite(count)
                return id
            }
            room = region.count * 2
        }
    }

    /// Queues a request whose body is given as bytes.
    @discardableResult
    public func send(_ opcode: Opcode, bytes: [UInt8]) -> UInt32 {
        bytes.withUnsafeBytes { raw in send(opcode) { $0.raw(raw) } }
    }

    /// Writes every queued request, blocking until all are sent.
    public func flush() throws(ClientError) {
        while output.readableCount > 0 {
            guard try writeQueued() else { throw .timeout }
        }
    }

    /// Writes as much of the queue as the socket takes. Returns true when the queue is empty.
    @discardableResult
    public func writeQueued() throws(ClientError) -> Bool {
        while output.readableCount > 0 {
            let pending = output.readable
            let written: Int?
            do {
                written = try Descriptor.write(fd, from: pending.baseAddress!, count: pending.count)
            } catch {
                throw .io(error)
            }
            guard let written else { return false }
            output.didRead(written)
        }
        return true
    }

    /// Bytes queued but not yet written.
    public var queuedBytes: Int { output.readableCount }

    /// Reads what the socket has (blocking until something arrives unless
    /// non-blocking). Returns the number of bytes read, 0 when nothing was available.
    @discardableResult
    public func readAvailable() throws(ClientError) -> Int {
        let region = input.writable(atLeast: 16_384)
        let result: Int?
        do {
            result = try Descriptor.read(fd, into: region.baseAddress!, count: region.count)
        } catch {
            throw .io(error)
        }
        guard let count = result else {
            if isNonBlocking { return 0 }
            throw .timeout  // SO_RCVTIMEO expired
        }
        if count == 0 { throw .connectionClosed }
        input.didWrite(count)
        return count
    }

    /// Hands the next complete buffered reply to `body` without copying it and
    /// returns true, or returns false when no complete reply is buffered.
    public func nextReply(_ body: (FrameHeader, UnsafeRawBufferPointer) -> Void) throws(ClientError) -> Bool {
        let bytes = input.readable
        switch FrameHeader.parse(bytes, maxBodyLength: UInt32.max) {
        case .needMore:
            return false
        case .fatal(let status, _):
            throw .protocolViolation("reply header refused: \(status)")
        case .header(let header):
            guard bytes.count >= header.frameLength else { return false }
            guard header.flags.contains(.reply) else { throw .protocolViolation("frame without the REPLY flag") }
            body(header, UnsafeRawBufferPointer(rebasing: bytes[FrameHeader.size..<header.frameLength]))
            input.didRead(header.frameLength)
            return true
        }
    }

    /// Blocks until the next reply arrives and returns it.
    public func receive() throws(ClientError) -> Reply {
        while true {
            var reply: Reply?
            if try nextReply({ header, body in reply = Reply(header: header, body: Array(body)) }), let reply {
                return reply
            }
            try readAvailable()
        }
    }

    // MARK: - One request at a time

    /// Sends one request, waits for its reply and returns it; an error status
    /// throws ``ClientError/server(status:message:closing:)``.
    public func call(_ opcode: Opcode, body: (inout BodyWriter) -> Void = { _ in }) throws(ClientError) -> Reply {
        try exchange(send(opcode, body: body))
    }

    /// Sends one request whose body is given as bytes and returns its reply.
    public func call(_ opcode: Opcode, bytes: [UInt8]) throws(ClientError) -> Reply {
        try exchange(send(opcode, bytes: bytes))
    }

    private func exchange(_ id: UInt32) throws(ClientError) -> Reply {
        try flush()
        let reply = try receive()
        if let error = reply.error { throw error }
        guard reply.header.requestID == id else {
            throw .protocolViolation("reply for request \(reply.header.requestID), expected \(id)")
        }
        return reply
    }

    /// HELLO: agrees on the protocol version and features.
    public func hello(clientName: String, features: Features = .all) throws(ClientError) -> HelloReply {
        let hello = Hello(features: features, clientName: clientName)
        let reply = try call(.hello) { hello.write(to: &$0) }
        guard let decoded = reply.body.withUnsafeBytes({ HelloReply(body: $0) }) else {
            throw .protocolViolation("HELLO reply does not match its layout")
        }
        return decoded
    }

    /// PING: the server echoes `payload`.
    @discardableResult
    public func ping(payload: [UInt8] = []) throws(ClientError) -> [UInt8] {
        try call(.ping, bytes: payload).body
    }

    /// ROUTE: the failover list for a payment.
    public func route(_ request: RouteRequest) throws(ClientError) -> RouteReply {
        let reply = try call(.route) { request.write(to: &$0) }
        guard let decoded = reply.body.withUnsafeBytes({ RouteReply(body: $0) }) else {
            throw .protocolViolation("ROUTE reply does not match its layout")
        }
        return decoded
    }

    /// REPORT: the outcome of one attempt.
    @discardableResult
    public func report(_ request: ReportRequest) throws(ClientError) -> ReportResult {
        let reply = try call(.report) { request.write(to: &$0) }
        guard let first = reply.body.first, let result = ReportResult(rawValue: first) else {
            throw .protocolViolation("REPORT reply does not match its layout")
        }
        return result
    }

    /// AUTHORIZE: may this merchant make this request?
    public func authorize(_ request: AuthorizeRequest) throws(ClientError) -> AuthorizeReply {
        let reply = try call(.authorize) { request.write(to: &$0) }
        guard let decoded = reply.body.withUnsafeBytes({ AuthorizeReply(body: $0) }) else {
            throw .protocolViolation("AUTHORIZE reply does not match its layout")
        }
        return decoded
    }

    /// DECIDE: AUTHORIZE and, when allowed, ROUTE in one round trip.
    public func decide(_ request: DecideRequest) throws(ClientError) -> DecideReply {
        let reply = try call(.decide) { request.write(to: &$0) }
        guard let decoded = reply.body.withUnsafeBytes({ DecideReply(body: $0) }) else {
            throw .protocolViolation("DECIDE reply does not match its layout")
        }
        return decoded
    }

    /// An admin operation: returns the reply's JSON document.
    public func admin(_ request: AdminRequest) throws(ClientError) -> [UInt8] {
        try call(request.opcode) { request.write(to: &$0) }.body
    }
}
