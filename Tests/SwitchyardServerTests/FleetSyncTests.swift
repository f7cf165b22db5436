import Glibc
import SwitchyardClient
import SwitchyardCore
import SwitchyardRedis
import SwitchyardServer
import SwitchyardTesting
import SwitchyardWire
import Testing

/// Instances sharing gateway health through a real redis-server.
@Suite(.enabled(if: RedisServer.isAvailable, "redis-server is not installed"))
struct FleetSyncTests {
    static func configuration(redis port: UInt16, syncMilliseconds: Int = 50) -> Configuration {
        var configuration = TestServer.routingConfiguration()
        configuration.server.loops = 1
        configuration.redis.address = "127.0.0.1:\(port)"
        configuration.redis.syncIntervalMilliseconds = syncMilliseconds
        configuration.redis.fleet = "test"
        return configuration
    }

    static func failure(_ payment: Int) -> ReportRequest {
        RoutingServerTests.report("pay_\(payment)", gateway: "razorpay", outcome: 3)
    }

    static let payment = RouteRequest(
        merchantID: "m_1", paymentID: "pay_r", method: "card", currency: "INR", amount: 49_900)

    /// The success-rate estimate an instance gives razorpay for a card payment.
    static func razorpayRate(_ client: Client) throws -> UInt32? {
        try client.route(payment).entries.first { $0.gateway == "razorpay" }?.successRatePPM
    }

    /// Sums the outcome counters of every bucket in Redis whose name ends in `kind` (`|s` or `|f`).
    static func countsInRedis(_ redis: RedisServer, kind: String) throws -> Int64 {
        try countsInRedis(port: redis.port, kind: kind)
    }

    static func countsInRedis(port: UInt16, kind: String) throws -> Int64 {
        let connection = RedisConnection(host: "127.0.0.1", port: Int(port), timeoutMilliseconds: 1_000)
        try connection.connect()
        guard case .array(let keys) = try connection.command(["KEYS", "{test}:health:*"]) else { return 0 }
        var total: Int64 = 0
        for key in keys.compactMap(\.text) {
            guard case .array(let items) = try connection.command(["HGETALL", key]) else { continue }
            for pair in stride(from: 0, to: items.count - 1, by: 2)
            where items[pair].text?.hasSuffix(kind) == true {
                total += items[pair + 1].integerValue ?? 0
            }
        }
        return total
    }

    @Test func outcomesReportedToOneInstanceMoveAnothersScores() throws {
        let redis = try RedisServer()
        let a = try TestServer(configuration: Self.configuration(redis: redis.port))
        let b = try TestServer(configuration: Self.configuration(redis: redis.port))
        let clientA = try Client(address: a.address)
        let clientB = try Client(address: b.address)
        let before = try #require(try Self.razorpayRate(clientB))

        for payment in 0..<60 { #expect(try clientA.report(Self.failure(payment)) == .recordedUnknownDecision) }
        // Bounded wait: a flush by A and a pull by B, both every 50 ms.
        var after = before
        try eventually {
            after = try #require(try Self.razorpayRate(clientB))
            return after < before / 2
        }
        #expect(after < before / 2, "B's estimate for razorpay moved from \(before) ppm to \(after) ppm")
        // The estimate may move on the first part: wait (bounded) for all of it.
        eventually { b.server.routingCounters.fleetOutcomes >= 60 }
        #expect(try Self.countsInRedis(redis, kind: "|f") == 60, "every failure counted once")
        #expect(b.server.routingCounters.fleetOutcomes == 60)
        #expect(b.server.fleetConnected == true)
    }

    @Test func decisionsGoOnWithoutRedisAndTheLastOutcomesAreFlushedAtShutdown() throws {
        let redis = try RedisServer()
        // Long sync period: only the shutdown flush can carry these outcomes.
        let a = try TestServer(configuration: Self.configuration(redis: redis.port, syncMilliseconds: 10_000))
        let client = try Client(address: a.address)
        for payment in 0..<25 { #expect(try client.report(Self.failure(payment)) == .recordedUnknownDecision) }
        RoutingServerTests.waitForReports(a, 25)
        a.server.shutdown()
        #expect(try Self.countsInRedis(redis, kind: "|f") == 25)

        // Nothing listens on this port: decisions are made on local state.
        let closed = try RedisServer.freePort()
        let alone = try TestServer(configuration: Self.configuration(redis: closed))
        let reply = try Client(address: alone.address).route(Self.payment)
        #expect(reply.entries.count == 3)
        usleep(200_000)
        #expect(alone.server.fleetConnected == false)
    }

    @Test func redisCallsAreBoundedAndFailWithTypedErrors() throws {
        let closed = RedisConnection(host: "127.0.0.1", port: Int(try RedisServer.freePort()), timeoutMilliseconds: 100)
        #expect(throws: RedisError.self) { try closed.connect() }
        #expect(throws: RedisError.notConnected) { try closed.command(["PING"]) }

        let redis = try RedisServer()
        let connection = RedisConnection(host: "127.0.0.1", port: Int(redis.port), timeoutMilliseconds: 100)
        try connection.connect()
        #expect(try connection.command(["SET", "k", "not a number"]) == .status("OK"))
        #expect(
            try connection.pipeline([["GET", "k"], ["HGETALL", "none"]]) == [
                .bulk(Array("not a number".utf8)), .array([]),
            ])
        #expect(throws: RedisError.self) { try connection.command(["INCR", "k"]) }
        #expect(connection.isConnected, "an error reply leaves the connection usable")

        // A stopped server answers nothing: the call ends at the timeout, not never.
        redis.pause()
        #expect {
            try connection.command(["PING"])
        } throws: { error in
            guard case .io = error as? RedisError else { return false }
            return true
        }
        #expect(!connection.isConnected)
        redis.resume()
        try connection.connect()
        #expect(try connection.command(["PING"]) == .status("PONG"))
    }

    @Test func aPausedRedisDelaysNothingAndItsReturnNeedsNoRestart() throws {
        let redis = try RedisServer()
        let a = try TestServer(configuration: Self.configuration(redis: redis.port))
        let client = try Client(address: a.address)
        eventually { a.server.fleetConnected == true }
        #expect(a.server.fleetConnected == true)

        redis.pause()
        for payment in 0..<30 { #expect(try client.report(Self.failure(payment)) == .recordedUnknownDecision) }
        #expect(try client.route(Self.payment).entries.count == 3, "decisions go on from local state")
        eventually { a.server.fleetConnected == false }
        #expect(a.server.fleetConnected == false)

        redis.resume()
        // Back after the breaker's open period (0.5 s, doubling). The flush
        // sent while Redis was stopped sat in its socket and ran on resume;
        // its retry carries the same flush id, so the counts arrive once.
        eventually { a.server.fleetConnected == true }
        #expect(a.server.fleetConnected == true)
        usleep(200_000)
        #expect(try Self.countsInRedis(redis, kind: "|f") == 30)
    }

    @Test func aRedisRestartedEmptyGetsEveryInstancesCountsBackOnce() throws {
        let redis = try RedisServer()
        let a = try TestServer(configuration: Self.configuration(redis: redis.port))
        let b = try TestServer(configuration: Self.configuration(redis: redis.port))
        let clientA = try Client(address: a.address)
        let clientB = try Client(address: b.address)
        for payment in 0..<20 { _ = try clientA.report(Self.failure(payment)) }
        for payment in 100..<110 { _ = try clientB.report(Self.failure(payment)) }
        func waitForRedis(_ expected: Int64) -> Int64 {
            var counted: Int64 = 0
            eventually(seconds: 15) {
                counted = (try? Self.countsInRedis(redis, kind: "|f")) ?? 0
                return counted == expected
            }
            return counted
        }
        #expect(waitForRedis(30) == 30)
        eventually { b.server.routingCounters.fleetOutcomes >= 20 }

        try redis.restart()
        #expect(waitForRedis(30) == 30, "both instances sent their counts again")
        usleep(300_000)
        #expect(try Self.countsInRedis(redis, kind: "|f") == 30, "and only once")
        #expect(a.server.routingCounters.fleetOutcomes == 10, "nothing applied twice")
        #expect(b.server.routingCounters.fleetOutcomes == 20)
    }

    @Test func overridesInRedisReachEveryInstanceAndOutliveThem() throws {
        let redis = try RedisServer()
        let admin = RedisConnection(host: "127.0.0.1", port: Int(redis.port), timeoutMilliseconds: 1_000)
        try admin.connect()
        let a = try TestServer(configuration: Self.configuration(redis: redis.port))
        let b = try TestServer(configuration: Self.configuration(redis: redis.port))
        let clients = [try Client(address: a.address), try Client(address: b.address)]
        func gateways(_ client: Client) throws -> [String] { try client.route(Self.payment).entries.map(\.gateway) }
        #expect(try clients.allSatisfy { try Set(gateways($0)) == ["razorpay", "payu", "cashfree"] })

        // Drain razorpay and force payu's breakers open, fleet-wide.
        _ = try admin.command([
            "HSET", "{test}:overrides", "gateway:razorpay", "disabled", "breaker:payu", "forced_open",
        ])
        #expect(try eventually { try clients.allSatisfy { try !gateways($0).contains("razorpay") } })
        #expect(try eventually { try clients.allSatisfy { try gateways($0).first == "cashfree" } })

        // An instance started later finds them in Redis.
        let c = try TestServer(configuration: Self.configuration(redis: redis.port))
        let late = try Client(address: c.address)
        #expect(try eventually { try !gateways(late).contains("razorpay") })

        // Deleting the orders gives the file's values and the automatic breaker back.
        _ = try admin.command(["DEL", "{test}:overrides"])
        #expect(try eventually { try (clients + [late]).allSatisfy { try gateways($0).count == 3 } })
        #expect(a.server.routingSnapshot.breakerStates.allSatisfy { $0 == .closed })
    }

    @Test func aBreakerThatTripsOnOneInstanceOpensOnTheOthers() throws {
        let redis = try RedisServer()
        let a = try TestServer(configuration: Self.configuration(redis: redis.port))
        let b = try TestServer(configuration: Self.configuration(redis: redis.port))
        let clientA = try Client(address: a.address)
        func state(_ server: TestServer) -> CircuitBreaker.State {
            let snapshot = server.server.routingSnapshot
            let table = snapshot.table
            let slot = table.breakerIndex(
                gateway: table.gatewayIDs.index(of: "razorpay")!, method: table.methods.index(of: "card")!)
            return snapshot.breakerStates[slot]
        }
        #expect(state(b) == .closed)
        // Consecutive gateway errors trip A's breaker (threshold 10).
        for payment in 0..<15 { _ = try clientA.report(Self.failure(payment)) }
        eventually { state(a) == .open }
        #expect(state(a) == .open)
        eventually { state(b) == .open }
        #expect(state(b) == .open, "B adopted A's trip")

        let admin = RedisConnection(host: "127.0.0.1", port: Int(redis.port), timeoutMilliseconds: 1_000)
        try admin.connect()
        let record = try admin.command(["HGET", "{test}:breakers", "razorpay|card"]).text
        #expect(record?.hasPrefix("1|open|") == true, "one fleet transition: \(record ?? "none")")
    }

    @Test func garbageInRedisIsSkippedAndDecisionsAndSyncGoOn() throws {
        let redis = try RedisServer()
        let admin = RedisConnection(host: "127.0.0.1", port: Int(redis.port), timeoutMilliseconds: 1_000)
        try admin.connect()
        let now = Int64(time(nil)) / 10
        for bucket in now - 1...now + 2 { _ = try admin.command(["SET", "{test}:health:\(bucket)", "not a hash"]) }
        _ = try admin.command(["SET", "{test}:breakers", "garbage"])
        _ = try admin.command(["HSET", "{test}:health:\(now - 3)", "razorpay|card|-|-|0|f", "many", "x|y", "1"])
        _ = try admin.command(["HSET", "{test}:overrides", "weight:payu", "heavy"])

        let a = try TestServer(configuration: Self.configuration(redis: redis.port))
        let client = try Client(address: a.address)
        for payment in 0..<10 { _ = try client.report(Self.failure(payment)) }
        #expect(try client.route(Self.payment).entries.count == 3)
        eventually { a.server.fleetConnected == true }
        #expect(a.server.fleetConnected == true, "a flush into a bucket holding garbage still completes")
        #expect(try client.route(Self.payment).entries.count == 3, "the unreadable override changed nothing")

        // Once the garbage is gone, outcomes are shared again.
        for bucket in now - 1...now + 2 { _ = try admin.command(["DEL", "{test}:health:\(bucket)"]) }
        for payment in 10..<20 { _ = try client.report(Self.failure(payment)) }
        var counted: Int64 = 0
        try eventually {
            counted = try Self.countsInRedis(redis, kind: "|f")
            return counted >= 10
        }
        #expect(counted >= 10)
    }

    @Test func instancesWithDifferentConfigurationsShareWhatTheyHaveInCommon() throws {
        let redis = try RedisServer()
        var other = Self.configuration(redis: redis.port)
        other.gateways.insert(GatewayConfiguration(id: "stripe", methods: ["card"], currencies: ["INR"]), at: 0)
        let a = try TestServer(configuration: Self.configuration(redis: redis.port))
        let b = try TestServer(configuration: other)
        let clientB = try Client(address: b.address)
        for payment in 0..<10 {
            _ = try clientB.report(RoutingServerTests.report("s_\(payment)", gateway: "stripe", outcome: 3))
            _ = try clientB.report(Self.failure(payment))
        }
        eventually { a.server.routingCounters.fleetOutcomes >= 10 }
        usleep(200_000)
        #expect(
            a.server.routingCounters.fleetOutcomes == 10, "razorpay's outcomes, not stripe's, which A does not have")
    }

    @Test func theFleetSendsNoMoreHalfOpenProbesThanTheBudget() throws {
        let redis = try RedisServer()
        var configuration = Self.configuration(redis: redis.port)
        configuration.routing.breaker.waitDurationInOpenState = 300_000_000
        configuration.routing.breaker.openJitterPercent = 0
        configuration.routing.breaker.permittedNumberOfCallsInHalfOpenState = 3
        let servers = [try TestServer(configuration: configuration), try TestServer(configuration: configuration)]
        let clients = try servers.map { try Client(address: $0.address) }
        for payment in 0..<15 { _ = try clients[0].report(Self.failure(payment)) }

        // Every instance routes during the half-open period; only one holds
        // the right to probe, with the breaker's budget of 3.
        var probes = 0
        var routed = 0
        for _ in 0..<300 where probes < 3 || routed < 200 {
            for client in clients {
                let reply = try client.route(Self.payment)
                probes += reply.entries.filter { $0.reason == RouteReason.probe.rawValue }.count
                routed += 1
            }
            usleep(5_000)
        }
        #expect(probes == 3, "\(probes) probes in \(routed) decisions across the fleet")
        let holders = RedisConnection(host: "127.0.0.1", port: Int(redis.port), timeoutMilliseconds: 1_000)
        try holders.connect()
        guard case .array(let keys) = try holders.command(["KEYS", "{test}:prober:*"]) else {
            Issue.record("no probing right in Redis")
            return
        }
        #expect(keys.count == 1, "one right to probe for the one half-open period")
    }

    @Test func theSameCodeRunsAgainstARedisCluster() throws {
        let cluster = try RedisCluster()
        // Each instance starts at another node; at most one holds the {test} slot.
        let a = try TestServer(configuration: Self.configuration(redis: cluster.nodes[0].port))
        let b = try TestServer(configuration: Self.configuration(redis: cluster.nodes[1].port))
        let clientA = try Client(address: a.address)
        for payment in 0..<40 { _ = try clientA.report(Self.failure(payment)) }
        eventually { b.server.routingCounters.fleetOutcomes >= 40 }
        #expect(b.server.routingCounters.fleetOutcomes == 40)
        #expect(a.server.fleetConnected == true && b.server.fleetConnected == true)
        let counted = try cluster.nodes.map { try Self.countsInRedis(port: $0.port, kind: "|f") }
        #expect(counted.reduce(0, +) == 40 && counted.filter { $0 > 0 }.count == 1, "one slot, one node: \(counted)")
    }
}
