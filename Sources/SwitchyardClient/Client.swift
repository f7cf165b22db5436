import Glibc
public import SwitchyardPosix
public import SwitchyardWire

/// A connection that comes back by itself. Each call uses the current
/// connection; when it is lost, the next call reconnects (with a growing pause
/// between failed attempts), and calls marked idempotent are retried once on a
/// fresh connection.
public final class Client {
    public struct Options: Sendable {
        public var connectTimeoutMilliseconds: Int32 = 2_000
        public var replyTimeoutMilliseconds = 5_000
        /// First pause after a failed connect; doubles up to ``maxBackoffMilliseconds``.
        public var initialBackoffMilliseconds = 50
        public var maxBackoffMilliseconds = 2_000
        public init() {}
    }

    public let address: SocketAddress
    public let options: Options
    private var connection: Connection?
    private var backoffMilliseconds = 0
    private var reconnects = 0

    public init(address: String, options: Options = Options()) throws(ClientError) {
        do { self.address = try SocketAddress(parsing: address) } catch { throw .invalidAddress(error) }
        self.options = options
    }

    /// How many times a lost connection was replaced.
    public var reconnectCount: Int { reconnects }

    /// The live connection, connecting first when there is none.
    public func connected() throws(ClientError) -> Connection {
        if let connection { return connection }
        if backoffMilliseconds > 0 { sleepMilliseconds(backoffMilliseconds) }
        do {
            let fresh = try Connection(
                to: address, connectTimeoutMilliseconds: options.connectTimeoutMilliseconds,
                replyTimeoutMilliseconds: options.replyTimeoutMilliseconds)
            connection = fresh
            backoffMilliseconds = 0
            return fresh
        } catch {
            backoffMilliseconds = min(
                options.maxBackoffMilliseconds, max(options.initialBackoffMilliseconds, backoffMilliseconds * 2))
            throw error
        }
    }

    /// Sends one request and returns its reply. With `idempotent`, a request
    /// whose connection was lost is sent again once on a new connection.
    public func call(_ opcode: Opcode, idempotent: Bool, body: (inout BodyWriter) -> Void = { _ in })
        throws(ClientError) -> Reply
    {
        try retrying(idempotent: idempotent) { connection throws(ClientError) in try connection.call(opcode, body: body)
        }
    }

    public func hello(clientName: String, features: Features = .all) throws(ClientError) -> HelloReply {
        try retrying { connection throws(ClientError) in
            try connection.hello(clientName: clientName, features: features)
        }
    }

    @discardableResult
    public func ping(payload: [UInt8] = []) throws(ClientError) -> [UInt8] {
        try retrying { connection throws(ClientError) in try connection.ping(payload: payload) }
    }

    /// ROUTE, sent again on a new connection if the first was lost: a
    /// decision that was never acted on costs nothing.
    public func route(_ request: RouteRequest) throws(ClientError) -> RouteReply {
        try retrying { connection throws(ClientError) in try connection.route(request) }
    }

    /// REPORT, sent again on a new connection if the first was lost: the
    /// server answers a repeat with `duplicate`, never counting it twice.
    @discardableResult
    public func report(_ request: ReportRequest) throws(ClientError) -> ReportResult {
        try retrying { connection throws(ClientError) in try connection.report(request) }
    }

    /// AUTHORIZE, not sent again on a new connection: it may have spent
    /// rate-limit units already.
    public func authorize(_ request: AuthorizeRequest) throws(ClientError) -> AuthorizeReply {
        try retrying(idempotent: false) { connection throws(ClientError) in try connection.authorize(request) }
    }

    /// DECIDE, not sent again on a new connection: its AUTHORIZE part may
    /// have spent rate-limit units already.
    public func decide(_ request: DecideRequest) throws(ClientError) -> DecideReply {
        try retrying(idempotent: false) { connection throws(ClientError) in try connection.decide(request) }
    }

    /// An admin operation; returns the reply's JSON document. Sent again on
    /// a new connection if the first was lost: every admin operation is
    /// idempotent (a change sets a value, it does not add to one).
    public func admin(_ request: AdminRequest) throws(ClientError) -> [UInt8] {
        try retrying { connection throws(ClientError) in try connection.admin(request) }
    }

    private func retrying<T>(idempotent: Bool = true, _ body: (Connection) throws(ClientError) -> T)
        throws(ClientError) -> T
    {
        do {
            return try body(connected())
        } catch  where error.isConnectionLost {
            dropConnection()
            guard idempotent else { throw error }
            return try body(connected())
        }
    }

    /// Closes the current connection; the next call opens a new one.
    public func dropConnection() {
        if connection != nil { reconnects += 1 }
        connection = nil
    }
}

private func sleepMilliseconds(_ milliseconds: Int) {
    var request = timespec(tv_sec: milliseconds / 1000, tv_nsec: (milliseconds % 1000) * 1_000_000)
    var remaining = timespec()
    while nanosleep(&request, &remaining) != 0 { request = remaining }
}
