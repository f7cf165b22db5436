import Foundation
import SwitchyardCore
import SwitchyardServer
import SwitchyardTesting
import Testing

/// switchyard-bench as a process, against an in-process server and a real Redis.
@Suite struct LoadGeneratorTests {
    static let binary = BuiltProducts.directory + "/switchyard-bench"

    func report(_ output: String) throws -> [String: Any] {
        let line = try #require(output.split(separator: "\n").last { $0.hasPrefix("{") })
        return try #require(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
    }

    @Test func measuresASwitchyardServerAndPrintsJSON() throws {
        let server = try TestServer()
        let (status, output) = try ChildProcess.run(
            Self.binary,
            [
                "--address", server.address, "-c", "4", "-p", "8", "--requests", "5000", "--duration", "30",
                "--warmup", "0", "--payload", "16", "--json",
            ])
        #expect(status == 0, "\(output)")
        let json = try report(output)
        #expect(json["target"] as? String == "switchyard")
        #expect((json["requests"] as? Int ?? 0) >= 5_000)
        #expect(json["errors"] as? Int == 0)
        let latency = try #require(json["latency_us"] as? [String: Double])
        #expect(latency["p50"]! > 0 && latency["p50"]! <= latency["p99"]!)
    }

    @Test(.enabled(if: RedisServer.isAvailable, "redis-server is not installed"))
    func measuresARedisServerWithTheSameLoop() throws {
        let redis = try RedisServer()
        let (status, output) = try ChildProcess.run(
            Self.binary,
            [
                "--target", "redis", "--address", "127.0.0.1:\(redis.port)", "-c", "2", "-p", "4",
                "--requests", "2000", "--duration", "30", "--warmup", "0", "--json",
            ])
        #expect(status == 0, "\(output)")
        let json = try report(output)
        #expect((json["requests"] as? Int ?? 0) >= 2_000)
        #expect(json["errors"] as? Int == 0)
    }

    @Test func refusesNonsenseArguments() throws {
        let (status, output) = try ChildProcess.run(Self.binary, ["--connections", "0"])
        #expect(status != 0)
        #expect(output.contains("--connections must be 1 to 10000"))
        let (unreachable, message) = try ChildProcess.run(Self.binary, ["--address", "127.0.0.1:1", "--duration", "1"])
        #expect(unreachable != 0)
        #expect(message.contains("cannot connect"))
    }
}

/// The payments mix and the open loop, against an in-process server with
/// merchants that hold the key the generator presents.
@Suite struct LoadGeneratorWorkloadTests {
    static func server() throws -> TestServer {
        let hasher = try KeyHasher(secret: [UInt8](repeating: 0x5A, count: 32))
        var configuration = TestServer.routingConfiguration()
        configuration.merchants = (1...20).map { index in
            var merchant = MerchantConfiguration(id: "m_\(index)")
            merchant.keys = [.init(digest: hasher.digest(of: "sk_live_bench"))]
            return merchant
        }
        return try TestServer(configuration: configuration, keyHasher: hasher)
    }

    func run(_ arguments: [String]) throws -> [String: Any] {
        let (status, output) = try ChildProcess.run(LoadGeneratorTests.binary, arguments + ["--json"])
        #expect(status == 0, "\(output)")
        let line = try #require(output.split(separator: "\n").last { $0.hasPrefix("{") })
        return try #require(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
    }

    @Test func aMixReportsEveryRoutedPaymentsOutcomeAgainstItsDecision() throws {
        let server = try Self.server()
        let json = try run([
            "--address", server.address, "--mix", "decide=60,report=30,authorize=10", "--merchants", "20",
            "--methods", "card=70,upi=30", "-c", "4", "-p", "4", "--requests", "4000", "--duration", "30",
            "--warmup", "0",
        ])
        #expect(json["operation"] as? String == "mix")
        #expect(json["errors"] as? Int == 0)
        #expect(json["refused"] as? Int == 0)
        let operations = try #require(json["operations"] as? [String: [String: Any]])
        for operation in ["decide", "report", "authorize"] {
            #expect((operations[operation]?["requests"] as? Int ?? 0) > 0, "\(operation) in \(operations)")
        }
        // Every REPORT carried the decision id and gateway of a DECIDE of this run.
        let results = try #require(json["report_results"] as? [String: Int])
        #expect(results["recorded"] ?? 0 > 0)
        #expect(results["duplicate"] == 0)
        #expect(results["unknown_decision"] == 0)
    }

    @Test func theOpenLoopSendsTheScheduleAndCountsFromIntendedTimes() throws {
        let server = try Self.server()
        let json = try run([
            "--address", server.address, "--op", "decide", "--merchants", "20", "-c", "4", "--rate", "2000",
            "--duration", "1", "--warmup", "0.2",
        ])
        #expect(json["mode"] as? String == "open")
        #expect(json["offered_rps"] as? Int == 2_000)
        // Arrivals follow the clock, not the replies: 2,000 a second for one measured second.
        let requests = try #require(json["requests"] as? Int)
        #expect((1_999...2_001).contains(requests))
        #expect(json["unanswered"] as? Int == 0)
        #expect(json["errors"] as? Int == 0)
        #expect(json["send_lag_us"] is [String: Double])
    }

    /// `--labels` reach the routing rules, with one operation and in a mix.
    @Test func labelsReachTheRules() throws {
        let hasher = try KeyHasher(secret: [UInt8](repeating: 0x5A, count: 32))
        var configuration = TestServer.routingConfiguration()
        var merchant = MerchantConfiguration(id: "m_1")
        merchant.keys = [.init(digest: hasher.digest(of: "sk_live_bench"))]
        configuration.merchants = [merchant]
        var rule = RoutingRule(name: "app", output: .priority([["payu"]]))
        rule.conditions.labels = ["channel": .oneOf(["app"])]
        configuration.routing.rules = [rule]
        let server = try TestServer(configuration: configuration, keyHasher: hasher)
        let port = try #require(server.server.adminPort)
        for arguments in [["--op", "route"], ["--mix", "decide=1,route=1", "--methods", "card=1"]] {
            let json = try run(
                arguments + [
                    "--address", server.address, "--labels", "channel=app,device=ios", "-c", "2", "-p", "4",
                    "--requests", "400", "--duration", "30", "--warmup", "0",
                ])
            #expect(json["errors"] as? Int == 0, "\(arguments)")
        }
        let metrics = try httpGet(port: port, "/metrics").body
        let line = metrics.split(separator: "\n").first { $0.hasPrefix(#"switchyard_rule_decisions_total{rule="app""#) }
        let decisions = try #require(line.flatMap { Double($0.split(separator: " ").last ?? "") })
        #expect(decisions >= 800, "every request followed the labelled rule")
    }

    /// `--bearer-token` and `--operation` reach the authorizer: an RS256
    /// token for payments:create is allowed by AUTHORIZE and DECIDE (the
    /// operation after DECIDE's ROUTE fields), and refused for an operation
    /// outside its scope; a scoped key likewise.
    @Test func bearerTokensAndOperationsReachTheAuthorizer() throws {
        let hasher = try KeyHasher(secret: [UInt8](repeating: 0x5A, count: 32))
        var configuration = TestServer.routingConfiguration()
        var merchant = MerchantConfiguration(id: "m_1")
        var key = MerchantConfiguration.Key(digest: hasher.digest(of: "sk_live_bench"))
        key.scopes = ["payments:create"]
        merchant.keys = [key]
        configuration.merchants = [merchant]
        configuration.authorization.tokens = TokenVectors.settings()
        let server = try TestServer(configuration: configuration, keyHasher: hasher)
        let token = try #require(TokenVectors.vectors["rs256"])
        for (credential, operation, op, refused) in [
            (["--bearer-token", token], "payments:create", "authorize", false),
            (["--bearer-token", token], "payments:create", "decide", false),
            (["--bearer-token", token], "payouts:create", "authorize", true),
            (["--api-key", "sk_live_bench"], "payments:create", "decide", false),
            (["--api-key", "sk_live_bench"], "refunds:create", "authorize", true),
        ] {
            let json = try run(
                credential + [
                    "--op", op, "--merchant", "m_1", "--operation", operation, "--address", server.address,
                    "-c", "1", "-p", "4", "--requests", "200", "--duration", "30", "--warmup", "0",
                ])
            let requests = json["requests"] as? Int ?? 0
            #expect(json["errors"] as? Int == 0 && requests >= 200, "\(op) \(operation): \(json)")
            #expect(json["refused"] as? Int == (refused ? requests : 0), "\(op) \(operation): \(json)")
        }
    }

    @Test func refusesAMixOrALoadItCannotRun() throws {
        for (arguments, message) in [
            (["--rate", "1000", "-p", "4"], "--pipeline is for the closed loop"),
            (["--mix", "decide=x"], "--mix: \"decide=x\" is not name=weight"),
            (["--mix", "decide=1,teleport=1"], "--mix: teleport is not one of"),
            (["--mix", "decide=0"], "--mix: no weight above 0"),
            (["--mix", "decide=1", "--target", "redis"], "--mix is for --target switchyard"),
            (["--mix", "decide=1", "--gateway-success", "payu=1.5"], "payu's rate must be 0 to 1"),
            (["--labels", "channel"], "--labels: 'channel' is not key=value"),
        ] {
            let (status, output) = try ChildProcess.run(LoadGeneratorTests.binary, arguments + ["--duration", "1"])
            #expect(status != 0)
            #expect(output.contains(message), "\(arguments): \(output)")
        }
    }
}
