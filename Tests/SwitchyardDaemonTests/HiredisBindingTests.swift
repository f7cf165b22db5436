import CHiredis
import SwitchyardTesting
import Testing

/// The hiredis module map links and works against a real redis-server.
@Suite(.enabled(if: RedisServer.isAvailable, "redis-server is not installed"))
struct HiredisBindingTests {
    @Test func pingsARealRedisServer() throws {
        let redis = try RedisServer()
        let context = try #require(
            redisConnectWithTimeout("127.0.0.1", Int32(redis.port), timeval(tv_sec: 2, tv_usec: 0)))
        defer { redisFree(context) }
        #expect(context.pointee.err == 0)
        var argv: [UnsafePointer<CChar>?] = []
        let reply = "PING".withCString { ping -> UnsafeMutableRawPointer? in
            argv = [ping]
            var lengths = [4]
            return redisCommandArgv(context, 1, &argv, &lengths)
        }
        let typed = try #require(reply?.assumingMemoryBound(to: redisReply.self))
        defer { freeReplyObject(reply) }
        #expect(typed.pointee.type == REDIS_REPLY_STATUS)
        #expect(String(cString: typed.pointee.str) == "PONG")
    }
}
