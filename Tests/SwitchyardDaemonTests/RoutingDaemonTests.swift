import Glibc
import SwitchyardClient
import SwitchyardTesting
import SwitchyardWire
import Testing

/// Routing through the built daemon, driven over the protocol like an API server.
@Suite struct RoutingDaemonTests {
    static let config = """
        server:
          listen: "127.0.0.1:0"
          admin_listen: "127.0.0.1:0"
          loops: 2
        routing:
          # No exploration: the first choice is always the best score, so the
          # test can name it.
          exploration_floor_percent: 0
          exploration_ceiling_percent: 0
          snapshot_interval_ms: 2
          breaker:
            wait_duration_in_open_state_ms: 300
            open_jitter_percent: 0
        gateways:
          - {id: razorpay, methods: [card, upi], currencies: [INR], weight: 2}
          - {id: payu, methods: [card], currencies: [INR]}
          - {id: cashfree, methods: [card], currencies: [INR]}
        merchants:
          - id: m_1
        """

    static func route(_ payment: String) -> RouteRequest {
        RouteRequest(merchantID: "m_1", paymentID: payment, method: "card", currency: "INR", amount: 49_900)
    }

    static func report(_ payment: String, _ gateway: String, _ outcome: UInt8, decision: UInt64) -> ReportRequest {
        ReportRequest(
            merchantID: "m_1", decisionID: decision, paymentID: payment, gateway: gateway, outcome: outcome,
            latencyMilliseconds: 800, method: "card", currency: "INR", amount: 49_900)
    }

    /// A gateway that starts failing every call leaves first place within
    /// the bound (30 attributable failures), sits at the end of the list while
    /// open, is probed when half-open, and leads again once its probes succeed.
    @Test func aFailingGatewayIsMovedDownProbedAndRestored() throws {
        let directory = try TemporaryDirectory()
        let file = try directory.write("switchyard.yaml", Self.config)
        let daemon = try ChildProcess.switchyard(config: file)
        let port = try #require(daemon.listeningPort())
        let client = try Client(address: "127.0.0.1:\(port)")

        // Healthy: razorpay (weight 2) leads; it earns some history.
        for i in 0..<20 {
            let decision = try client.route(Self.route("warm-\(i)"))
            #expect(decision.entries.first?.gateway == "razorpay")
            try client.report(Self.report("warm-\(i)", "razorpay", 1, decision: decision.decisionID))
        }

        // Outage: every call to razorpay fails with a gateway error.
        var failures = 0
        var decision = try client.route(Self.route("out-0"))
        while decision.entries.first?.gateway == "razorpay" && failures < 40 {
            try client.report(Self.report("out-\(failures)", "razorpay", 3, decision: decision.decisionID))
            failures += 1
            usleep(5_000)  // lets the merger fold the report in (snapshot_interval_ms: 2)
            decision = try client.route(Self.route("out-\(failures)"))
        }
        #expect(failures <= 30, "razorpay kept first place for \(failures) failures")
        #expect(decision.entries.last?.gateway == "razorpay", "an open gateway comes last: \(decision.entries)")
        #expect(decision.entries.last?.reason == 7)  // LEAST_BAD
        #expect(daemon.waitForOutput(containing: "breaker transition"))

        // Half-open after the open period: probes go to razorpay, and succeed.
        var probes = 0
        for i in 0..<2_000 where probes < 3 {
            let next = try client.route(Self.route("probe-\(i)"))
            if next.entries.first?.gateway == "razorpay" {
                #expect(next.entries.first?.reason == 4)  // PROBE
                #expect(next.firstProbabilityPPM == 1_000_000)
                try client.report(Self.report("probe-\(i)", "razorpay", 1, decision: next.decisionID))
                probes += 1
            } else {
                usleep(2_000)
            }
        }
        #expect(probes == 3)

        // Closed again: razorpay leads on its score.
        var restored = false
        for i in 0..<500 where !restored {
            let next = try client.route(Self.route("after-\(i)"))
            restored = next.entries.first?.gateway == "razorpay" && next.entries.first?.reason == 1
            if !restored { usleep(2_000) }
        }
        #expect(restored)
        #expect(daemon.output.contains("to=closed"))
        daemon.signal(SIGTERM)
        #expect(daemon.waitForExit() == 0)
    }
}
