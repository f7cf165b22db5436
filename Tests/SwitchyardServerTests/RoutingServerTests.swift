import Glibc
import SwitchyardClient
import SwitchyardCore
import SwitchyardServer
import SwitchyardTesting
import SwitchyardWire
import Testing

/// ROUTE and REPORT through a real server (in process) and the client library.
@Suite struct RoutingServerTests {
    static let payment = RouteRequest(
        merchantID: "m_1", paymentID: "pay_1", method: "card", currency: "INR", amount: 49_900, cardNetwork: "visa")

    static func report(
        _ payment: String, gateway: String = "payu", outcome: UInt8 = 1, attempt: UInt8 = 1, decision: UInt64 = 0
    ) -> ReportRequest {
        ReportRequest(
            merchantID: "m_1", decisionID: decision, paymentID: payment, attempt: attempt, gateway: gateway,
            outcome: outcome, latencyMilliseconds: 900, method: "card", currency: "INR", amount: 49_900)
    }

    /// The error status a call fails with; nil when it succeeds.
    static func status(_ call: () throws -> Void) -> Status? {
        do {
            try call()
            return nil
        } catch let error as ClientError {
            if case .server(let status, _, let closing) = error, !closing { return status }
            return nil
        } catch {
            return nil
        }
    }

    /// Waits (bounded) until the merger has counted `count` reports in all.
    static func waitForReports(_ server: TestServer, _ count: UInt64) {
        for _ in 0..<2_000 where server.server.routingCounters.reports.reduce(0, +) < count { usleep(1_000) }
    }

    @Test func routeAnswersAFailoverListAndReportIsIdempotent() throws {
        let server = try TestServer(configuration: TestServer.routingConfiguration())
        let client = try Client(address: server.address)
        let reply = try client.route(Self.payment)
        #expect(Set(reply.entries.map(\.gateway)) == ["razorpay", "payu", "cashfree"])
        #expect(reply.decisionID != 0)
        #expect(reply.firstProbabilityPPM > 0 && reply.firstProbabilityPPM <= 1_000_000)
        #expect(reply.entries.first.map { [1, 2].contains($0.reason) } == true)

        let first = reply.entries[0].gateway
        #expect(try client.report(Self.report("pay_1", gateway: first, decision: reply.decisionID)) == .recorded)
        #expect(try client.report(Self.report("pay_1", gateway: first, decision: reply.decisionID)) == .duplicate)
        #expect(try client.report(Self.report("pay_1", gateway: first, attempt: 2)) == .recordedUnknownDecision)
        Self.waitForReports(server, 2)
        #expect(server.server.routingCounters.reports[1] == 2, "the duplicate was not counted")
        #expect(server.server.routingCounters.unknownDecisions == 1)

        // Tried gateways are left out; a pinned merchant rule is not needed for that.
        let retry = try client.route(
            RouteRequest(
                merchantID: "m_1", paymentID: "pay_1", attempt: 2, method: "card", currency: "INR", amount: 49_900,
                tried: [first]))
        #expect(!retry.entries.map(\.gateway).contains(first))
        #expect(retry.entries.count == 2)
    }

    @Test func customerDeclinesDoNotCountAgainstAGateway() throws {
        let server = try TestServer(configuration: TestServer.routingConfiguration())
        let client = try Client(address: server.address)
        let before = server.server.routingSnapshot.estimate(merchant: 0, segment: Segment(method: 0), gateway: 1)
        for i in 0..<20 { try client.report(Self.report("pay_d\(i)", outcome: 2)) }
        Self.waitForReports(server, 20)
        for _ in 0..<100 where server.server.routingSnapshot.version < 3 { usleep(2_000) }
        #expect(server.server.routingCounters.reports[2] == 20)
        let after = server.server.routingSnapshot.estimate(merchant: 0, segment: Segment(method: 0), gateway: 1)
        #expect(after == before, "declines are neutral: \(before) → \(after)")
    }

    static let badRoutes: [(RouteRequest, Status)] = {
        func route(_ change: (inout RouteRequest) -> Void) -> RouteRequest {
            var request = payment
            change(&request)
            return request
        }
        return [
            (route { $0.merchantID = "m_404" }, .unknownMerchant),
            (route { $0.method = "crypto" }, .unknownMethod),
            (route { $0.currency = "USD" }, .unknownCurrency),
            (route { $0.currency = "inr" }, .unknownCurrency),
            (route { $0.amount = 0 }, .invalidAmount),
            (route { $0.amount = 2_000_000_000_000_000 }, .invalidAmount),
            (route { $0.attempt = 0 }, .invalidAttempt),
            (route { $0.attempt = 9 }, .invalidAttempt),
            (route { $0.tried = ["stripe"] }, .invalidTried),
            (route { $0.tried = ["payu", "payu", "payu", "payu"] }, .invalidTried),
            (route { $0.tried = ["razorpay", "payu", "cashfree"] }, .allGatewaysTried),
            (route { $0.paymentID = "" }, .malformedBody),
            (
                route {
                    $0.method = "upi"; $0.tried = ["razorpay"]
                }, .allGatewaysTried
            ),
        ]
    }()

    @Test func badRoutesGetTheirCodeAndTheConnectionLives() throws {
        let server = try TestServer(configuration: TestServer.routingConfiguration())
        let connection = try Connection(to: server.address)
        for (request, status) in Self.badRoutes {
            #expect(Self.status { _ = try connection.route(request) } == status, "\(request)")
        }
        #expect(try connection.route(Self.payment).entries.count == 3)
    }

    @Test func badReportsGetTheirCodeAndChangeNothing() throws {
        let server = try TestServer(configuration: TestServer.routingConfiguration())
        let connection = try Connection(to: server.address)
        func report(_ change: (inout ReportRequest) -> Void) -> ReportRequest {
            var request = Self.report("pay_bad")
            change(&request)
            return request
        }
        let cases: [(ReportRequest, Status)] = [
            (report { $0.merchantID = "m_404" }, .unknownMerchant),
            (report { $0.gateway = "stripe" }, .unknownGateway),
            (report { $0.outcome = 0 }, .unknownOutcome),
            (report { $0.outcome = 5 }, .unknownOutcome),
            (report { $0.method = "crypto" }, .unknownMethod),
            (report { $0.currency = "EUR" }, .unknownCurrency),
            (report { $0.amount = 0 }, .invalidAmount),
            (report { $0.attempt = 0 }, .invalidAttempt),
        ]
        for (request, status) in cases {
            #expect(Self.status { try connection.report(request) } == status, "\(request)")
        }
        // A body that does not match the layout.
        #expect(
            throws: ClientError.server(
                status: .malformedBody, message: String(describing: ReportRequestView.layout), closing: false)
        ) {
            try connection.call(.report, bytes: [1, 2, 3])
        }
        // Nothing was counted, and the attempt is still unreported.
        usleep(30_000)
        #expect(server.server.routingCounters == RoutingCounters())
        #expect(try connection.report(Self.report("pay_bad")) == .recordedUnknownDecision)
    }

    @Test func merchantRulesShapeTheList() throws {
        var configuration = TestServer.routingConfiguration()
        var merchant = MerchantConfiguration(id: "m_2")
        merchant.deniedGateways = ["cashfree"]
        merchant.priority = ["payu"]
        var narrow = MerchantConfiguration(id: "m_3")
        narrow.allowedGateways = ["cashfree"]
        narrow.allowedMethods = ["card"]
        configuration.merchants += [merchant, narrow]
        let server = try TestServer(configuration: configuration)
        let client = try Client(address: server.address)
        var request = Self.payment
        request.merchantID = "m_2"
        let reply = try client.route(request)
        #expect(reply.entries.map(\.gateway) == ["payu", "razorpay"])
        #expect(reply.entries[0].reason == RouteReason.pinned.rawValue)
        #expect(reply.firstProbabilityPPM == 1_000_000)

        request.merchantID = "m_3"
        #expect(try client.route(request).entries.map(\.gateway) == ["cashfree"])
        request.tried = ["cashfree"]
        #expect(Self.status { _ = try client.route(request) } == .allGatewaysTried)
        request.tried = []
        request.method = "upi"
        #expect(Self.status { _ = try client.route(request) } == .methodNotAllowed)
    }

    @Test func aReloadKeepsWhatWasLearned() throws {
        var configuration = TestServer.routingConfiguration()
        let server = try TestServer(configuration: configuration)
        let client = try Client(address: server.address)
        for i in 0..<40 { try client.report(Self.report("pay_r\(i)", gateway: "cashfree", outcome: 3)) }
        Self.waitForReports(server, 40)
        usleep(30_000)
        let learned = server.server.routingSnapshot.estimate(merchant: 0, segment: Segment(method: 0), gateway: 2)
        #expect(learned < 0.6)

        configuration.gateways.swapAt(0, 2)  // indices change; names carry the state
        configuration.gateways[1].weight = 0.5
        server.server.reload(configuration)
        let kept = server.server.routingSnapshot.estimate(merchant: 0, segment: Segment(method: 0), gateway: 0)
        #expect(abs(kept - learned) < 0.01, "cashfree kept its score across the reload: \(learned) → \(kept)")
        #expect(try client.route(Self.payment).entries.last?.gateway == "cashfree")
    }

    @Test func routingAndReportingAllocateNothingOnTheLoop() throws {
        let server = try TestServer {
            $0 = TestServer.routingConfiguration()
            $0.server.loops = 1
        }
        let raw = try RawConnection(port: server.port)
        var next: UInt32 = 0
        func exchange() throws {
            var batch: [UInt8] = []
            for _ in 0..<50 {
                next += 1
                batch += Frames.route(id: next, Self.payment)
                batch += Frames.report(id: next, Self.report("pay_a\(next)", outcome: next % 7 == 0 ? 3 : 1))
            }
            try raw.write(batch)
            for _ in 0..<100 { #expect(try raw.readFrame().header.status == .ok) }
        }
        for _ in 0..<20 { try exchange() }  // warm the buffer pool and the snapshot
        let before = try #require(server.server.loopAllocatedBytes())
        for _ in 0..<100 { try exchange() }
        let after = try #require(server.server.loopAllocatedBytes())
        #expect(
            after[0] - before[0] == 0, "the loop allocated \(after[0] - before[0]) bytes for 5,000 ROUTE + 5,000 REPORT"
        )
    }
}
