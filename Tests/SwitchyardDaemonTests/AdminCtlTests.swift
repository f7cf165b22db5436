import Foundation
import SwitchyardClient
import SwitchyardCore
import SwitchyardTesting
import SwitchyardWire
import Testing

/// `switchyardctl` against the built daemon: every subcommand, its JSON,
/// its exit codes, and changes that show in decisions.
@Suite struct AdminCtlTests {
    static let token = "0123456789abcdef0123456789abcdef-admin-test-token"

    static func config(tokenHash: String? = AdminTokenDigest(token: token).storedForm, weight: Double = 1) -> String {
        """
        server:
          listen: "127.0.0.1:0"
          admin_listen: "127.0.0.1:0"
          loops: 1
        \(tokenHash.map { "  admin_token_hash: \"\($0)\"" } ?? "")
        \(routing(payuWeight: weight))
        """
    }

    /// Two card gateways, razorpay first by weight, no exploration (the
    /// first choice is always the best score), and merchant m_1.
    static func routing(payuWeight: Double = 1) -> String {
        """
        routing:
          exploration_floor_percent: 0
          exploration_ceiling_percent: 0
          snapshot_interval_ms: 2
        gateways:
          - {id: razorpay, methods: [card, upi], currencies: [INR], weight: 2}
          - {id: payu, methods: [card], currencies: [INR], weight: \(payuWeight)}
        merchants:
          - id: m_1
            status: active
            limits:
              - {rate: 100, period_ms: 1000, burst: 20, scope: instance}
        """
    }

    /// A daemon on `config`, a token file, and a way to run switchyardctl against both.
    struct Setup {
        let directory: TemporaryDirectory
        let file: String
        let daemon: ChildProcess
        let port: UInt16
        let tokenFile: String

        init(config: String = AdminCtlTests.config()) throws {
            directory = try TemporaryDirectory()
            file = try directory.write("switchyard.yaml", config)
            tokenFile = try directory.write("token", AdminCtlTests.token + "\n")
            daemon = try ChildProcess.switchyard(config: file)
            port = try #require(daemon.listeningPort())
        }

        /// Runs `switchyardctl` with this daemon's address and token; returns the exit status and output.
        func ctl(_ arguments: String..., token: String? = nil) throws -> (status: Int32?, output: String) {
            let tokenArguments = ["--token-file", token.map { try! directory.write("other-token", $0) } ?? tokenFile]
            return try ChildProcess.run(
                BuiltProducts.switchyardctl, arguments + ["--address", "127.0.0.1:\(port)"] + tokenArguments)
        }

        func json(_ arguments: String...) throws -> [String: Any] {
            let (status, output) = try ChildProcess.run(
                BuiltProducts.switchyardctl,
                arguments + ["--json", "--address", "127.0.0.1:\(port)", "--token-file", tokenFile])
            #expect(status == 0, "\(arguments): \(output)")
            let parsed = try JSONSerialization.jsonObject(with: Data(output.utf8))
            return try #require(parsed as? [String: Any], "\(output)")
        }

        func firstChoices(_ count: Int) throws -> [String] {
            let client = try Client(address: "127.0.0.1:\(port)")
            return try (0..<count).map { i in
                let reply = try client.route(
                    RouteRequest(
                        merchantID: "m_1", paymentID: "p-\(i)-\(UUID().uuidString.prefix(8))", method: "card",
                        currency: "INR", amount: 49_900))
                return reply.entries.first?.gateway ?? ""
            }
        }
    }

    @Test func rulesListsEachRuleWithItsCounts() throws {
        let config = Self.config().replacingOccurrences(
            of: "  snapshot_interval_ms: 2\n",
            with: """
                  snapshot_interval_ms: 2
                  rules:
                    - {name: upi-first, when: {method: {in: [upi]}}, then: {priority: [razorpay]}, shadow: true}
                    - {name: card-payu, when: {method: {in: [card]}}, then: {allow: [payu]}}

                """)
        let setup = try Setup(config: config)
        #expect(try setup.firstChoices(3) == ["payu", "payu", "payu"])
        let (status, table) = try setup.ctl("rules", "--merchant", "m_1")
        #expect(status == 0, "\(table)")
        let lines = table.split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true) }
        #expect(
            lines.first == ["RULE", "SCOPE", "MODE", "STATE", "DECISIONS", "SHADOW", "MATCHES", "DIFFERS", "REFUSALS"])
        #expect(lines.dropFirst().first == ["upi-first", "global", "score_within", "shadow", "0", "0", "0", "0"])
        #expect(lines.dropFirst(2).first == ["card-payu", "global", "score_within", "acting", "3", "0", "0", "0"])
        let stats = try setup.json("rules")
        #expect((stats["rules"] as? [[String: Any]])?.count == 2)

        let decision = try Client(address: "127.0.0.1:\(setup.port)").route(
            RouteRequest(merchantID: "m_1", paymentID: "p-explained", method: "card", currency: "INR", amount: 100))
        let (explainStatus, explained) = try setup.ctl("explain", String(decision.decisionID))
        #expect(explainStatus == 0, "\(explained)")
        #expect(explained.contains("rule     card-payu (global rule #1)"), "\(explained)")
        #expect(explained.contains("passed   upi-first (method)"), "\(explained)")
    }

    @Test func statsHealthAndMerchantReadAsJSON() throws {
        let setup = try Setup()
        let stats = try setup.json("stats")
        #expect(stats["redis"] as? String == "standalone")
        #expect(stats["gateways"] as? Int == 2)
        #expect(stats["loops"] as? Int == 1)
        #expect((stats["reports"] as? [String: Any])?["success"] as? Int == 0)

        let health = try setup.json("health")
        let rows = try #require(health["rows"] as? [[String: Any]])
        #expect(
            Set(rows.map { "\($0["gateway"]!)/\($0["segment"]!)" }) == ["razorpay/card", "payu/card", "razorpay/upi"])
        let razorpay = try #require(rows.first { $0["gateway"] as? String == "razorpay" })
        #expect(razorpay["weight"] as? Double == 2)
        #expect(razorpay["breaker"] as? String == "closed")
        for key in ["success_rate", "uncertainty", "share_last_minute", "reports_last_minute", "probes_in_flight"] {
            #expect(razorpay[key] != nil, "\(key)")
        }

        let merchant = try setup.json("merchant", "m_1")
        #expect(merchant["status"] as? String == "active")
        let limits = try #require(merchant["limits"] as? [[String: Any]])
        #expect(limits.first?["rate"] as? Int == 100)
        #expect(limits.first?["scope"] as? String == "instance")

        // The human forms print tables.
        let (status, table) = try setup.ctl("health")
        #expect(status == 0)
        #expect(table.contains("GATEWAY") && table.contains("razorpay"))
        let (topStatus, top) = try setup.ctl("top", "--iterations", "2", "--interval-ms", "50")
        #expect(topStatus == 0)
        #expect(top.components(separatedBy: "GATEWAY").count == 3, "two refreshes")
    }

    @Test func aWeightChangeShiftsTraffic() throws {
        let setup = try Setup()
        #expect(try setup.firstChoices(20).allSatisfy { $0 == "razorpay" }, "weight 2 leads")
        let change = try setup.json("set-weight", "razorpay", "0")
        #expect(change["change"] as? String == "weight:razorpay = 0")
        #expect(change["scope"] as? String == "instance")
        #expect(try setup.firstChoices(20).allSatisfy { $0 == "payu" }, "weight 0 takes razorpay out")
        _ = try setup.json("set-weight", "razorpay", "2.5")
        #expect(try setup.firstChoices(20).allSatisfy { $0 == "razorpay" })
        let rows = try #require(try setup.json("health")["rows"] as? [[String: Any]])
        #expect(rows.first { $0["gateway"] as? String == "razorpay" }?["weight"] as? Double == 2.5)
    }

    @Test func aForcedOpenBreakerRemovesAGatewayAndAResetBringsItBack() throws {
        let setup = try Setup()
        _ = try setup.json("breaker", "open", "razorpay", "--method", "card")
        #expect(try setup.firstChoices(20).allSatisfy { $0 == "payu" })
        let rows = try #require(try setup.json("health")["rows"] as? [[String: Any]])
        let card = rows.first { $0["gateway"] as? String == "razorpay" && $0["segment"] as? String == "card" }
        #expect(card?["breaker"] as? String == "forced_open")
        let upi = rows.first { $0["gateway"] as? String == "razorpay" && $0["segment"] as? String == "upi" }
        #expect(upi?["breaker"] as? String == "closed", "only the card breaker")

        _ = try setup.json("breaker", "reset", "razorpay")
        #expect(try setup.firstChoices(20).allSatisfy { $0 == "razorpay" })

        _ = try setup.json("breaker", "close", "razorpay")
        let closed = try #require(try setup.json("health")["rows"] as? [[String: Any]])
        #expect(
            closed.filter { $0["gateway"] as? String == "razorpay" }.allSatisfy {
                $0["breaker"] as? String == "forced_closed"
            })
    }

    @Test func aDrainedGatewayGetsNoTrafficUntilEnabled() throws {
        let setup = try Setup()
        _ = try setup.json("gateway", "drain", "razorpay")
        #expect(try setup.firstChoices(20).allSatisfy { $0 == "payu" })
        let rows = try #require(try setup.json("health")["rows"] as? [[String: Any]])
        #expect(rows.first { $0["gateway"] as? String == "razorpay" }?["enabled"] as? Bool == false)
        _ = try setup.json("gateway", "enable", "razorpay")
        #expect(try setup.firstChoices(20).allSatisfy { $0 == "razorpay" })
    }

    @Test func reloadAppliesAGoodFileAndRefusesABrokenOne() throws {
        let setup = try Setup()
        try Self.config(weight: 5).write(toFile: setup.file, atomically: true, encoding: .utf8)
        let reload = try setup.json("reload")
        #expect(reload["config"] as? String == setup.file)
        #expect(try setup.firstChoices(20).allSatisfy { $0 == "payu" }, "payu's weight 5 from the file")

        try (Self.config() + "\n  - {id: stripe, methods: [card], currencies: [INR], weight: -1}\n")
            .write(toFile: setup.file, atomically: true, encoding: .utf8)
        let (status, output) = try setup.ctl("reload")
        #expect(status == 65)
        #expect(output.contains("CHANGE_REFUSED") && output.contains("weight"), "\(output)")
        #expect(try setup.firstChoices(20).allSatisfy { $0 == "payu" }, "the running configuration stays")
    }

    @Test func explainShowsTheListTheDrawAndWhatWasLeftOut() throws {
        let setup = try Setup()
        let client = try Client(address: "127.0.0.1:\(setup.port)")
        var payment = RouteRequest(
            merchantID: "m_1", paymentID: "p-explain", method: "card", currency: "INR", amount: 49_900)
        let first = try client.route(payment)
        payment.attempt = 2
        payment.tried = ["razorpay"]
        let second = try client.route(payment)

        let explained = try setup.json("explain", "0x" + String(first.decisionID, radix: 16))
        #expect(explained["decision_id"] as? String == "0x" + String(first.decisionID, radix: 16))
        let entries = try #require(explained["entries"] as? [[String: Any]])
        #expect(entries.map { $0["gateway"] as? String } == first.entries.map(\.gateway))
        #expect(entries.first?["reason"] as? String == "best_score")
        #expect((explained["draw"] as? String)?.contains("razorpay has the best score") == true)
        #expect(explained["merchant"] as? String == "m_1" && explained["segment"] as? String == "card")
        #expect((explained["excluded"] as? [Any])?.isEmpty == true)

        let retried = try setup.json("explain", String(second.decisionID))
        let excluded = try #require(retried["excluded"] as? [[String: String]])
        #expect(excluded == [["gateway": "razorpay", "reason": "already tried for this payment"]])
        #expect(retried["tried"] as? [String] == ["razorpay"])

        let (status, table) = try setup.ctl("explain", String(second.decisionID))
        #expect(status == 0)
        #expect(table.contains("LEFT OUT") && table.contains("already tried"), "\(table)")
    }

    @Test func aMerchantStatusOverrideAppliesAndLifts() throws {
        let setup = try Setup()
        let change = try setup.json("merchant-status", "m_1", "suspended")
        #expect(change["change"] as? String == "merchant:m_1 = suspended")
        let suspended = try setup.json("merchant", "m_1")
        #expect(suspended["status"] as? String == "suspended")
        #expect(suspended["configured_status"] as? String == "active")
        _ = try setup.json("merchant-status", "m_1", "configured")
        let lifted = try setup.json("merchant", "m_1")
        #expect(lifted["status"] as? String == "active")
        #expect(lifted["configured_status"] == nil || lifted["configured_status"] is NSNull)
        let (status, output) = try setup.ctl("merchant-status", "m_404", "disabled")
        #expect(status == 65)
        #expect(output.contains("UNKNOWN_MERCHANT"), "\(output)")
    }

    @Test func badRequestsGetClearAnswersAndExitCodes() throws {
        let setup = try Setup()
        var (status, output) = try setup.ctl("stats", token: "not the token")
        #expect(status == 77)
        #expect(output.contains("ADMIN_TOKEN_REJECTED"), "\(output)")
        (status, output) = try setup.ctl("set-weight", "nope", "1")
        #expect(status == 65)
        #expect(output.contains("unknown gateway 'nope'"), "\(output)")
        (status, output) = try setup.ctl("set-weight", "razorpay", "1000.5")
        #expect(status == 65)
        #expect(output.contains("INVALID_ARGUMENT"), "\(output)")
        (status, output) = try setup.ctl("breaker", "open", "razorpay", "--method", "crypto")
        #expect(status == 65)
        #expect(output.contains("UNKNOWN_METHOD"), "\(output)")
        (status, output) = try setup.ctl("merchant", "m_404")
        #expect(status == 65)
        #expect(output.contains("unknown merchant 'm_404'"), "\(output)")
        (status, output) = try setup.ctl("explain", "0x1")
        #expect(status == 65)
        #expect(output.contains("UNKNOWN_DECISION") && output.contains("not made by this instance"), "\(output)")
        (status, _) = try setup.ctl("breaker", "sideways", "razorpay")
        #expect(status == 64, "bad usage")

        // Unreachable, and no token at all.
        let (down, downOutput) = try ChildProcess.run(
            BuiltProducts.switchyardctl, ["stats", "--address", "127.0.0.1:1", "--token-file", setup.tokenFile])
        #expect(down == 69)
        #expect(downOutput.contains("cannot reach switchyard at 127.0.0.1:1"), "\(downOutput)")
        let (missing, missingOutput) = try ChildProcess.run(
            BuiltProducts.switchyardctl,
            ["stats", "--address", "127.0.0.1:\(setup.port)", "--token-file", "/nonexistent"])
        #expect(missing == 77)
        #expect(missingOutput.contains("cannot read an admin token"), "\(missingOutput)")

        // Nothing above changed the daemon.
        #expect(try setup.json("stats")["overrides"] as? Int == 0)
        #expect(try setup.firstChoices(5).allSatisfy { $0 == "razorpay" })
    }

    @Test func withoutATokenHashAdminOperationsAreOff() throws {
        let setup = try Setup(config: Self.config(tokenHash: nil))
        let (status, output) = try setup.ctl("stats")
        #expect(status == 77)
        #expect(output.contains("ADMIN_DISABLED") && output.contains("admin_token_hash"), "\(output)")
    }
}

/// Admin changes in a fleet: written to Redis by the instance asked, applied
/// by every instance, kept across restarts, refused when Redis cannot take them.
@Suite(.enabled(if: RedisServer.isAvailable, "redis-server is not installed"))
struct FleetAdminCtlTests {
    static func config(redis port: UInt16) -> String {
        fleetDaemonConfig(
            redis: port, fleet: "admin-test",
            serverFields: ["admin_token_hash: \"\(AdminTokenDigest(token: AdminCtlTests.token).storedForm)\""],
            rest: AdminCtlTests.routing())
    }

    static func row(_ setup: AdminCtlTests.Setup, _ gateway: String) throws -> [String: Any]? {
        let rows = try setup.json("health")["rows"] as? [[String: Any]]
        return rows?.first { $0["gateway"] as? String == gateway && $0["segment"] as? String == "card" }
    }

    @Test func aChangeThroughOneInstanceReachesTheOthersAndOutlivesARestart() throws {
        let redis = try RedisServer()
        let a = try AdminCtlTests.Setup(config: Self.config(redis: redis.port))
        var b = try AdminCtlTests.Setup(config: Self.config(redis: redis.port))

        let change = try a.json("set-weight", "payu", "3")
        #expect(change["scope"] as? String == "fleet")
        #expect(try eventually(seconds: 5) { try Self.row(b, "payu")?["weight"] as? Double == 3 })
        #expect(try b.firstChoices(20).allSatisfy { $0 == "payu" }, "B routes by A's order")

        _ = try b.json("breaker", "open", "payu", "--method", "card")
        #expect(try eventually(seconds: 5) { try Self.row(a, "payu")?["breaker"] as? String == "forced_open" })
        #expect(try a.firstChoices(20).allSatisfy { $0 == "razorpay" })

        // A restarted instance starts with the fleet's orders.
        b.daemon.signal(SIGTERM)
        #expect(b.daemon.waitForExit(seconds: 10) == 0)
        b = try AdminCtlTests.Setup(config: Self.config(redis: redis.port))
        #expect(
            try eventually(seconds: 5) {
                let row = try Self.row(b, "payu")
                return row?["weight"] as? Double == 3 && row?["breaker"] as? String == "forced_open"
            })

        _ = try a.json("breaker", "reset", "payu")
        #expect(try eventually(seconds: 5) { try Self.row(b, "payu")?["breaker"] as? String == "closed" })
        #expect(try a.json("stats")["overrides"] as? Int == 1, "the weight stays")

        _ = try a.json("merchant-status", "m_1", "disabled")
        #expect(try eventually(seconds: 5) { try b.json("merchant", "m_1")["status"] as? String == "disabled" })
    }

    @Test func aChangeRedisCannotTakeIsRefusedAndChangesNothing() throws {
        let a = try AdminCtlTests.Setup(config: Self.config(redis: try RedisServer.freePort()))
        let (status, output) = try a.ctl("set-weight", "payu", "3")
        #expect(status == 65)
        #expect(output.contains("CHANGE_REFUSED") && output.contains("nothing changed"), "\(output)")
        #expect(try Self.row(a, "payu")?["weight"] as? Double == 1)
        #expect(try a.firstChoices(10).allSatisfy { $0 == "razorpay" })
    }

    /// A stalled Redis takes the write into its socket and runs it when it
    /// resumes: the change is reported unconfirmed, not refused, and does
    /// reach the fleet.
    @Test func aChangeAStalledRedisDoesNotConfirmIsReportedAsUnconfirmed() throws {
        let redis = try RedisServer()
        let a = try AdminCtlTests.Setup(config: Self.config(redis: redis.port))
        redis.pause()
        let (status, output) = try a.ctl("set-weight", "payu", "3")
        redis.resume()
        #expect(status == 75)
        #expect(output.contains("CHANGE_UNCONFIRMED") && output.contains("may still apply"), "\(output)")
        #expect(try eventually(seconds: 10) { try Self.row(a, "payu")?["weight"] as? Double == 3 })
    }
}
