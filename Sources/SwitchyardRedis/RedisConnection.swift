import CHiredis
import Glibc

/// One blocking hiredis connection, for a background thread (never an event
/// loop): every socket operation is bounded by `timeout`, so a call to a
/// stopped or slow Redis returns `.io` instead of hanging. Commands are
/// pipelined: ``pipeline(_:)`` writes all of them, then reads every reply.
///
/// Not thread-safe: one owner.
public final class RedisConnection {
    public private(set) var host: String
    public private(set) var port: Int
    public let timeoutMilliseconds: Int
    private var context: UnsafeMutablePointer<redisContext>?

    public var isConnected: Bool { context != nil }

    public init(host: String, port: Int, timeoutMilliseconds: Int) {
        self.host = host
        self.port = port
        self.timeoutMilliseconds = timeoutMilliseconds
    }

    deinit { close() }

    /// Connects (closing any previous connection first).
    public func connect() throws(RedisError) {
        close()
        let timeout = RedisConnection.timeval(milliseconds: timeoutMilliseconds)
        guard let context = redisConnectWithTimeout(host, Int32(port), timeout) else {
            throw .connect("out of memory")
        }
        if context.pointee.err != 0 {
            let message = RedisConnection.errorText(context)
            redisFree(context)
            throw .connect(message)
        }
        guard redisSetTimeout(context, timeout) == REDIS_OK else {
            redisFree(context)
            throw .connect("cannot set the socket timeout")
        }
        self.context = context
    }

    /// Points the connection at another server (a cluster redirection),
    /// closing the current one; the next ``connect()`` goes there.
    public func retarget(host: String, port: Int) {
        close()
        self.host = host
        self.port = port
    }

    public func close() {
        if let context { redisFree(context) }
        context = nil
    }

    /// Runs one command.
    public func command(_ arguments: [String]) throws(RedisError) -> RedisReply {
        let replies = try pipeline([arguments])
        if case .error(let message) = replies[0] { throw .reply(message) }
        return replies[0]
    }

    /// Sends every command, then reads one reply for each, in order. Error
    /// replies are returned in place; an I/O or protocol failure throws and
    /// closes the connection (its replies are out of step from then on).
    public func pipeline(_ commands: [[String]]) throws(RedisError) -> [RedisReply] {
        guard let context else { throw .notConnected }
        for command in commands {
            let status = RedisConnection.withArgv(command) { argc, argv, lengths in
                redisAppendCommandArgv(context, argc, argv, lengths)
            }
            guard status == REDIS_OK else { throw failure(context) }
        }
        var replies: [RedisReply] = []
        replies.reserveCapacity(commands.count)
        for _ in commands {
            var raw: UnsafeMutableRawPointer?
            guard redisGetReply(context, &raw) == REDIS_OK, let raw else { throw failure(context) }
            let reply = raw.assumingMemoryBound(to: redisReply.self)
            replies.append(RedisConnection.copy(reply))
            freeReplyObject(raw)
        }
        return replies
    }

    private func failure(_ context: UnsafeMutablePointer<redisContext>) -> RedisError {
        let message = RedisConnection.errorText(context)
        let protocolError = context.pointee.err == REDIS_ERR_PROTOCOL
        close()
        return protocolError ? .protocol(message) : .io(message)
    }

    private static func copy(_ reply: UnsafeMutablePointer<redisReply>) -> RedisReply {
        let value = reply.pointee
        func bytes() -> [UInt8] {
            guard let str = value.str else { return [] }
            return Array(UnsafeRawBufferPointer(start: str, count: value.len))
        }
        switch value.type {
        case REDIS_REPLY_STATUS: return .status(String(decoding: bytes(), as: UTF8.self))
        case REDIS_REPLY_ERROR: return .error(String(decoding: bytes(), as: UTF8.self))
        case REDIS_REPLY_INTEGER: return .integer(value.integer)
        case REDIS_REPLY_STRING: return .bulk(bytes())
        case REDIS_REPLY_ARRAY:
            return .array((0..<value.elements).map { copy(value.element[$0]!) })
        default: return .null
        }
    }

    /// Calls `body` with hiredis's argv form of `arguments`: pointers into
    /// one buffer holding them all, and their lengths (binary-safe).
    private static func withArgv<T>(
        _ arguments: [String], _ body: (Int32, UnsafeMutablePointer<UnsafePointer<CChar>?>, UnsafePointer<Int>) -> T
    ) -> T {
        let encoded = arguments.map { Array($0.utf8) }
        let buffer = UnsafeMutableRawBufferPointer.allocate(
            byteCount: max(encoded.reduce(0) { $0 + $1.count }, 1), alignment: 1)
        defer { buffer.deallocate() }
        var pointers: [UnsafePointer<CChar>?] = []
        var offset = 0
        for bytes in encoded {
            UnsafeMutableRawBufferPointer(rebasing: buffer[offset..<offset + bytes.count]).copyBytes(from: bytes)
            pointers.append(UnsafePointer(buffer.baseAddress!.advanced(by: offset).assumingMemoryBound(to: CChar.self)))
            offset += bytes.count
        }
        let lengths = encoded.map(\.count)
        return pointers.withUnsafeMutableBufferPointer { argv in
            lengths.withUnsafeBufferPointer { body(Int32(arguments.count), argv.baseAddress!, $0.baseAddress!) }
        }
    }

    private static func errorText(_ context: UnsafeMutablePointer<redisContext>) -> String {
        withUnsafeBytes(of: context.pointee.errstr) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
    }

    private static func timeval(milliseconds: Int) -> Glibc.timeval {
        Glibc.timeval(tv_sec: milliseconds / 1_000, tv_usec: (milliseconds % 1_000) * 1_000)
    }
}
