import Glibc
import SwitchyardClient
import SwitchyardTesting
import SwitchyardWire
import Testing

/// Two built daemons sharing gateway health through a real redis-server.
@Suite(.enabled(if: RedisServer.isAvailable, "redis-server is not installed"))
struct FleetDaemonTests {
    static func config(redis port: UInt16) -> String {
        fleetDaemonConfig(
            redis: port, fleet: "daemon-test",
            rest: """
                gateways:
                  - {id: razorpay, methods: [card], currencies: [INR]}
                  - {id: payu, methods: [card], currencies: [INR]}
                merchants:
                  - id: m_1
                """)
    }

    static func start(_ file: String) throws -> (ChildProcess, Client) {
        let daemon = try ChildProcess.switchyard(config: file)
        let port = try #require(daemon.listeningPort())
        return (daemon, try Client(address: "127.0.0.1:\(port)"))
    }

    static let payment = RouteRequest(
        merchantID: "m_1", paymentID: "p", method: "card", currency: "INR", amount: 49_900)

    @Test func outcomesReportedToOneDaemonMoveTheOthersScores() throws {
        let redis = try RedisServer()
        let directory = try TemporaryDirectory()
        let file = try directory.write("switchyard.yaml", Self.config(redis: redis.port))
        let (a, clientA) = try Self.start(file)
        let (b, clientB) = try Self.start(file)
        func rate(_ client: Client) throws -> UInt32 {
            try #require(try client.route(Self.payment).entries.first { $0.gateway == "payu" }?.successRatePPM)
        }
        let before = try rate(clientB)
        for i in 0..<50 {
            _ = try clientA.report(
                ReportRequest(
                    merchantID: "m_1", decisionID: 0, paymentID: "pay_\(i)", gateway: "payu", outcome: 4,
                    latencyMilliseconds: 30_000, method: "card", currency: "INR", amount: 49_900))
        }
        var after = before
        for _ in 0..<500 where after >= before / 2 {
            usleep(10_000)
            after = try rate(clientB)
        }
        #expect(after < before / 2, "payu at B: \(before) ppm before, \(after) ppm after 50 timeouts at A")

        // SIGTERM: both exit cleanly, with the sync thread stopped.
        for daemon in [a, b] {
            daemon.signal(SIGTERM)
            #expect(daemon.waitForExit(seconds: 10) == 0, "\(daemon.output)")
        }
    }
}
