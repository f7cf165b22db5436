import Glibc
import SwitchyardClient
import SwitchyardCore
import SwitchyardServer
import SwitchyardTesting
import SwitchyardWire
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

    /// The value of one series of a Prometheus text exposition, nil when absent.
    static func value(_ exposition: String, _ series: String) -> Double? {
        exposition.split(separator: "\n").first { $0.hasPrefix(series + " ") }.flatMap {
            Double($0.split(separator: " ").last ?? "")
        }
    }

    /// Every line is a comment (`# HELP` or `# TYPE`) or a sample
    /// `name{labels} value`, and every sample's metric has a TYPE line.
    static func problems(_ exposition: String) -> [String] {
        var typed: Set<Substring> = []
        var problems: [String] = []
        for line in exposition.split(separator: "\n") {
            if line.hasPrefix("# TYPE ") {
                let parts = line.split(separator: " ")
                guard parts.count == 4, ["counter", "gauge", "histogram"].contains(parts[3]) else {
                    problems.append("bad TYPE: \(line)")
                    continue
                }
                typed.insert(parts[2])
            } else if line.hasPrefix("# HELP ") {
                continue
            } else {
                let parts = line.split(separator: " ")
                let name = parts.first?.split(separator: "{").first ?? ""
                let validName = name.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" || $0 == ":" }
                guard parts.count == 2, validName, Double(parts[1]) != nil, typed.contains(name) else {
                    problems.append("bad sample: \(line)")
                    continue
                }
            }
        }
        return problems
    }

    @Test func metricsParseAsPrometheusTextAndMoveWithTraffic() throws {
        let server = try TestServer(configuration: TestServer.routingConfiguration())
        let port = try #require(server.server.adminPort)
        let before = try httpGet(port: port, "/metrics")
        #expect(before.status == 200)
        #expect(Self.problems(before.body).isEmpty, "\(Self.problems(before.body))")
        #expect(Self.value(before.body, "switchyard_loops") == 2)
        #expect(Self.value(before.body, "switchyard_redis_connected") == nil, "no fleet metrics when standalone")
        let client = try Client(address: server.address)
        for payment in 0..<20 {
            _ = try client.report(RoutingServerTests.report("pay_\(payment)", gateway: "razorpay"))
        }
        #expect(
            try eventually {
                let after = try httpGet(port: port, "/metrics").body
                return Self.value(after, #"switchyard_reports_total{outcome="success"}"#) == 20
                    && Self.value(after, "switchyard_connections") == 1
            })
    }

    @Test func fleetMetricsAppearWithRedisConfigured() throws {
        let closed = try RedisServer.freePort()
        let server = try TestServer { $0.redis.address = "127.0.0.1:\(closed)" }
        let port = try #require(server.server.adminPort)
        #expect(eventually { server.server.fleetConnected == false })
        let scraped = try httpGet(port: port, "/metrics").body
        #expect(Self.problems(scraped).isEmpty, "\(Self.problems(scraped))")
        #expect(Self.value(scraped, "switchyard_redis_connected") == 0)
        #expect(Self.value(scraped, "switchyard_fleet_outcomes_dropped_total") == 0)
        #expect(Self.value(scraped, "switchyard_fleet_limit_tokens_expired_total") == 0)
    }
}
