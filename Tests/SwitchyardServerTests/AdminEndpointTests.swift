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
    /// `name{labels} value`, and every sample's metric has a TYPE line (a
    /// histogram's `_bucket`, `_sum` and `_count` samples that of the histogram).
    static func problems(_ exposition: String) -> [String] {
        var typed: Set<Substring> = []
        var histograms: Set<Substring> = []
        var problems: [String] = []
        for line in exposition.split(separator: "\n") {
            if line.hasPrefix("# TYPE ") {
                let parts = line.split(separator: " ")
                guard parts.count == 4, ["counter", "gauge", "histogram"].contains(parts[3]) else {
                    problems.append("bad TYPE: \(line)")
                    continue
                }
                typed.insert(parts[2])
                if parts[3] == "histogram" { histograms.insert(parts[2]) }
            } else if line.hasPrefix("# HELP ") {
                continue
            } else {
                let parts = line.split(separator: " ")
                let name = parts.first?.split(separator: "{").first ?? ""
                let validName = name.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" || $0 == ":" }
                let family = ["_bucket", "_sum", "_count"].first { name.hasSuffix($0) }.map {
                    name.dropLast($0.count)
                }
                let isTyped = typed.contains(name) || family.map { histograms.contains($0) } == true
                guard parts.count == 2, validName, Double(parts[1]) != nil, isTyped else {
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
        if Allocator.allocatedBytes != nil {  // not in sanitizer builds, which have no jemalloc
            #expect(Self.value(before.body, "switchyard_memory_allocated_bytes") ?? 0 > 1_000_000)
        }
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

    /// Requests by operation and status, the latency histogram, decisions
    /// by gateway, authorizations by tier and per-gateway reports, all
    /// moving with the traffic that makes them.
    @Test func requestAndGatewayMetricsMoveWithTraffic() throws {
        var configuration = TestServer.routingConfiguration()
        configuration.merchants[0].tier = "gold"
        let server = try TestServer(configuration: configuration)
        let port = try #require(server.server.adminPort)
        let client = try Client(address: server.address)
        var payment = RoutingServerTests.payment
        for number in 0..<30 {
            payment.paymentID = "m-\(number)"
            _ = try client.route(payment)
        }
        for number in 0..<10 {
            _ = try client.report(RoutingServerTests.report("m-\(number)", gateway: "payu", outcome: 3))
        }
        payment.merchantID = "m_9"
        #expect(RoutingServerTests.status { _ = try client.route(payment) } == .unknownMerchant)
        _ = try client.authorize(
            AuthorizeRequest(merchantID: "m_1", credential: "sk_nope"))
        RoutingServerTests.waitForReports(server, 10)

        let scraped = try httpGet(port: port, "/metrics").body
        #expect(Self.problems(scraped).isEmpty, "\(Self.problems(scraped))")
        #expect(Self.value(scraped, #"switchyard_requests_total{operation="route",status="OK"}"#) == 30)
        #expect(Self.value(scraped, #"switchyard_requests_total{operation="route",status="UNKNOWN_MERCHANT"}"#) == 1)
        #expect(Self.value(scraped, #"switchyard_requests_total{operation="report",status="OK"}"#) == 10)
        // One wake-up in four is timed: each of these requests had one to itself.
        let timed = try #require(Self.value(scraped, #"switchyard_request_duration_seconds_count{operation="route"}"#))
        #expect(timed >= 4 && timed <= 31, "\(timed)")
        #expect(
            Self.value(scraped, #"switchyard_request_duration_seconds_bucket{operation="route",le="+Inf"}"#) == timed)
        let buckets = scraped.split(separator: "\n").filter {
            $0.hasPrefix(#"switchyard_request_duration_seconds_bucket{operation="route""#)
        }.compactMap { Double($0.split(separator: " ").last ?? "") }
        #expect(buckets.count == 16 && buckets == buckets.sorted(), "cumulative, 1 µs to 100 ms and +Inf")
        let decided = ["razorpay", "payu", "cashfree"].compactMap {
            Self.value(scraped, #"switchyard_decisions_total{gateway="\#($0)",method="card"}"#)
        }
        #expect(decided.reduce(0, +) == 30)
        #expect(
            Self.value(
                scraped, #"switchyard_gateway_reports_total{gateway="payu",method="card",outcome="gateway_error"}"#)
                == 10)
        // Ten gateway errors in a row trip payu's card breaker (state 2, open).
        #expect(Self.value(scraped, #"switchyard_gateway_breaker_state{gateway="payu",method="card"}"#) == 2)
        #expect(
            Self.value(scraped, #"switchyard_gateway_breaker_transitions_total{gateway="payu",method="card"}"#) == 1)
        #expect(Self.value(scraped, #"switchyard_gateway_breaker_state{gateway="razorpay",method="card"}"#) == 0)
        #expect(Self.value(scraped, #"switchyard_authorizations_total{tier="gold",reason="bad_key"}"#) == 1)
        let rate = try #require(Self.value(scraped, #"switchyard_gateway_success_rate{gateway="payu",method="card"}"#))
        #expect(rate < 0.85, "ten gateway errors pull payu below the prior")
    }

    /// Each rule's decisions, and what a rule in shadow would have done.
    @Test func ruleMetricsCountDecisionsAndShadowVerdicts() throws {
        var configuration = TestServer.routingConfiguration()
        var watched = RoutingRule(name: "payu-only", output: .priority([["payu"]]))
        watched.mode = .strict
        watched.shadow = true
        var large = RoutingRule(name: "large", output: .allow(["razorpay"]))
        large.conditions.amount = 100_000...1_000_000
        configuration.routing.rules = [watched, large]
        // The merchant's own rule is tried first: small payments stop there.
        var small = RoutingRule(name: "small", output: .allow(["payu", "cashfree"]))
        small.conditions.amount = 1...5_000
        configuration.merchants[0].rules = [small]
        let server = try TestServer(configuration: configuration)
        let port = try #require(server.server.adminPort)
        let client = try Client(address: server.address)
        var payment = RoutingServerTests.payment
        for number in 0..<12 {
            payment.paymentID = "r-\(number)"
            payment.amount = number < 4 ? 200_000 : 1_000
            _ = try client.route(payment)
        }
        let scraped = try httpGet(port: port, "/metrics").body
        #expect(Self.problems(scraped).isEmpty, "\(Self.problems(scraped))")
        #expect(Self.value(scraped, #"switchyard_rule_decisions_total{rule="large",scope="global"}"#) == 4)
        #expect(Self.value(scraped, #"switchyard_rule_decisions_total{rule="small",scope="merchant:m_1"}"#) == 8)
        // Only the large payments reach payu-only; they went to razorpay, so it differs on each.
        #expect(Self.value(scraped, #"switchyard_rule_shadow_matches_total{rule="payu-only",scope="global"}"#) == 4)
        #expect(Self.value(scraped, #"switchyard_rule_shadow_differs_total{rule="payu-only",scope="global"}"#) == 4)
    }

    @Test(.enabled(if: RedisServer.isAvailable, "redis-server is not installed"))
    func theFleetSyncAgeStaysUnderASyncPeriodOrTwoWithRedisUp() throws {
        let redis = try RedisServer()
        let server = try TestServer {
            $0.redis.address = "127.0.0.1:\(redis.port)"
            $0.redis.syncIntervalMilliseconds = 50
        }
        let port = try #require(server.server.adminPort)
        #expect(
            try eventually {
                let age = Self.value(try httpGet(port: port, "/metrics").body, "switchyard_fleet_sync_age_seconds")
                return age.map { $0 >= 0 && $0 < 5 } ?? false
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
        #expect(Self.value(scraped, "switchyard_fleet_sync_age_seconds") == -1, "never synced")
        #expect(Self.value(scraped, "switchyard_fleet_outcomes_dropped_total") == 0)
        #expect(Self.value(scraped, "switchyard_fleet_limit_tokens_expired_total") == 0)
    }
}
