import Glibc
import SwitchyardCore
import SwitchyardServer
import SwitchyardTesting
import Testing

/// The HTTP admin endpoints on a live in-process server: what load
/// balancers and orchestrators ask, and every kind of bad request.
@Suite struct AdminEndpointTests {
    @Test func healthAndReadinessAnswerAsJSON() throws {
        let server = try TestServer()
        let port = try #require(server.server.adminPort)
        #expect(try httpGet(port: port, "/health") == (200, "{\"status\": \"alive\"}\n"))
        let ready = try httpGet(port: port, "/ready?verbose=1")
        #expect(ready.status == 200)
        #expect(ready.body == "{\"status\": \"ready\", \"loops\": 2, \"redis\": \"standalone\"}\n")
        #expect(try httpGet(port: port, "/nothing").status == 404)
    }

    @Test func redisAwayIsDegradedButStillReady() throws {
        let closed = try RedisServer.freePort()
        let server = try TestServer { $0.redis.address = "127.0.0.1:\(closed)" }
        let port = try #require(server.server.adminPort)
        #expect(eventually { server.server.fleetConnected == false })
        let ready = try httpGet(port: port, "/ready")
        #expect(ready.status == 200 && ready.body.contains("\"redis\": \"degraded\""), "\(ready)")
    }

    @Test func badRequestsGetAClearStatusAndLeaveTheServerAsItWas() throws {
        let server = try TestServer()
        let port = try #require(server.server.adminPort)
        #expect(try httpExchange(port: port, "POST /health HTTP/1.1\r\n\r\n").status == 405)
        #expect(try httpExchange(port: port, "hello there\r\n\r\n").status == 400)
        #expect(try httpExchange(port: port, "GET health HTTP/1.1\r\n\r\n").status == 400)
        let oversized = "GET /health HTTP/1.1\r\nX-Pad: " + String(repeating: "a", count: 9_000)
        #expect(try httpExchange(port: port, oversized).status == 431)
        // A head that arrives in pieces is read whole.
        let pieces = try RawConnection(port: port)
        try pieces.write(Array("GET /hea".utf8))
        usleep(50_000)
        try pieces.write(Array("lth HTTP/1.1\r\n\r\n".utf8))
        #expect(httpAnswer(try pieces.readToEnd()).status == 200)
        // More connections than the admin side keeps: the extra ones are
        // closed, and it answers again once they are gone.
        let crowd = try (0..<20).map { _ in try RawConnection(port: port, timeoutMilliseconds: 200) }
        usleep(100_000)
        let closedEarly = crowd.filter { $0.isClosedByServer() }.count
        #expect(closedEarly >= 4, "\(closedEarly) of 20 closed at once")
        _ = consume crowd
        #expect(try eventually(seconds: 10) { try httpGet(port: port, "/health").status == 200 })
    }

    @Test func aRequestThatNeverFinishesGets408() throws {
        let server = try TestServer()
        let port = try #require(server.server.adminPort)
        let slow = try RawConnection(port: port, timeoutMilliseconds: 10_000)
        try slow.write(Array("GET /health HTTP/1.1\r\n".utf8))
        #expect(httpAnswer(try slow.readToEnd()).status == 408)
        #expect(try httpGet(port: port, "/health").status == 200)
    }
}
