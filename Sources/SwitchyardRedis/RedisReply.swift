/// A Redis reply, copied out of hiredis's reply tree (which is freed at once).
public enum RedisReply: Equatable, Sendable {
    case status(String)
    case error(String)
    case integer(Int64)
    case bulk([UInt8])
    case null
    case array([RedisReply])

    /// The integer a reply stands for: an integer reply, or a bulk string of
    /// decimal digits (what HGETALL returns for counters). Nil otherwise.
    public var integerValue: Int64? {
        switch self {
        case .integer(let value): value
        case .bulk(let bytes): Int64(String(decoding: bytes, as: UTF8.self))
        default: nil
        }
    }

    /// Where a Redis Cluster node says the key lives (`MOVED <slot> <host>:<port>`
    /// or `ASK ...`); nil for any other reply.
    public var redirection: (host: String, port: Int)? {
        guard case .error(let message) = self else { return nil }
        let parts = message.split(separator: " ")
        guard parts.count == 3, parts[0] == "MOVED" || parts[0] == "ASK", let colon = parts[2].lastIndex(of: ":"),
            let port = Int(parts[2][parts[2].index(after: colon)...])
        else { return nil }
        return (String(parts[2][..<colon]), port)
    }

    public var text: String? {
        switch self {
        case .status(let text), .error(let text): text
        case .bulk(let bytes): String(decoding: bytes, as: UTF8.self)
        default: nil
        }
    }
}

/// Why a Redis call failed. After `.io` or `.protocol` the connection is
/// closed; `.reply` (an error reply, such as WRONGTYPE) leaves it usable.
public enum RedisError: Error, Equatable, CustomStringConvertible {
    /// Could not connect (refused, timed out, unreachable).
    case connect(String)
    /// A read or write failed or timed out, or the server closed the connection.
    case io(String)
    /// The server's bytes were not RESP.
    case `protocol`(String)
    /// Redis answered with an error.
    case reply(String)
    /// No connection: not yet connected, or closed after an error.
    case notConnected

    public var description: String {
        switch self {
        case .connect(let message): "cannot connect to Redis: \(message)"
        case .io(let message): "Redis I/O failed: \(message)"
        case .protocol(let message): "Redis protocol error: \(message)"
        case .reply(let message): "Redis error reply: \(message)"
        case .notConnected: "not connected to Redis"
        }
    }
}
