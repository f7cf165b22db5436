import Foundation
import SwitchyardClient
import SwitchyardCore
import SwitchyardTesting
import SwitchyardWire
import Testing

@testable import SwitchyardServer

/// The audit log through a real server: denials, decisions and routing
/// failures each leave one JSON line with the request's trace id, and no
/// credential ever appears in the file.
@Suite struct AuditServerTests {
    static let traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

    static func records(_ path: String, count: Int) throws -> [[String: Any]] {
        var lines: [Substring] = []
        // The writer flushes every millisecond here; a bounded wait for it.
        for _ in 0..<1_000 {
            lines = ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(separator: "\n")
            if lines.count >= count { break }
            usleep(2_000)
        }
        return try lines.map { try #require(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
    }

    @Test func denialsDecisionsAndFailuresAreRecorded() throws {
        let directory = try TemporaryDirectory()
        var configuration = AuthorizationServerTests.configuration()
        configuration.audit.path = directory.path + "/audit.jsonl"
        configuration.audit.flushIntervalMilliseconds = 1
        var tokens = TokenVectors.settings()
        tokens.secrets = ["m_1": [TokenSettings.Secret(kid: "k1", bytes: TokenVectors.secret)]]
        configuration.authorization.tokens = tokens
        let server = try TestServer(configuration: configuration, keyHasher: AuthorizationServerTests.hasher)
        let connection = try Connection(to: server.address)

        var denied = AuthorizationServerTests.request("sk_live_guess")
        denied.traceparent = Self.traceparent
        denied.operation = "payments:create"
        #expect(try !connection.authorize(denied).allowed)
        #expect(try connection.authorize(AuthorizationServerTests.request()).allowed, "allows are not recorded")
        let forged = AuthorizeRequest(
            merchantID: "m_1", credential: TokenVectors.vectors["otherSecret"]!, credentialKind: 2)
        #expect(try !connection.authorize(forged).allowed)

        var decide = DecideServerTests.decide()
        decide.authorize.traceparent = Self.traceparent
        decide.authorize.operation = "payments:create"
        let decided = try connection.decide(decide)
        let decisionID = try #require(decided.route?.decisionID)
        var route = RouteRequest(
            merchantID: "m_1", paymentID: "pay_r1", attempt: 2, method: "card", currency: "INR", amount: 100)
        _ = try connection.route(route)
        route.tried = ["razorpay", "payu", "cashfree"]
        #expect(throws: ClientError.self) { try connection.route(route) }

        let records = try Self.records(directory.path + "/audit.jsonl", count: 5)
        #expect(records.count == 5)
        let text = try String(contentsOfFile: directory.path + "/audit.jsonl", encoding: .utf8)
        for secret in ["sk_live_guess", "sk_live_one", String(TokenVectors.vectors["otherSecret"]!.prefix(40))] {
            #expect(!text.contains(secret), "a credential in the audit log")
        }
        func record(_ event: String, _ result: String, _ reason: String) -> [String: Any]? {
            records.first {
                $0["event"] as? String == event && $0["result"] as? String == result
                    && $0["reason"] as? String == reason
            }
        }
        let badKey = try #require(record("authorize", "denied", "bad_key"), "\(records)")
        #expect(badKey["merchant"] as? String == "m_1" && badKey["operation"] as? String == "payments:create")
        #expect(badKey["trace_id"] as? String == "4bf92f3577b34da6a3ce929d0e0e4736")
        #expect(badKey["parent_id"] as? String == "00f067aa0ba902b7")
        #expect((badKey["time"] as? String)?.hasSuffix("Z") == true)
        let token = try #require(record("authorize", "denied", "token_signature_invalid"))
        #expect(token["trace_id"] is NSNull && token["operation"] is NSNull)

        let decision = try #require(records.first { $0["event"] as? String == "decide" })
        #expect(decision["result"] as? String == "routed" && decision["decision_id"] as? String == "\(decisionID)")
        #expect(decision["payment_id"] as? String == "pay_d1" && decision["attempt"] as? Int == 1)
        #expect(decision["trace_id"] as? String == "4bf92f3577b34da6a3ce929d0e0e4736")
        let gateways = try #require(decision["gateways"] as? [[String: Any]])
        #expect(gateways.map { $0["gateway"] as? String } == decided.route?.entries.map(\.gateway))
        for (gateway, entry) in zip(gateways, decided.route!.entries) {
            #expect(abs((gateway["score"] as? Double ?? -1) - Double(entry.scorePPM) / 1e6) < 1e-6)
        }
        let propensity = try #require(decision["propensity"] as? Double)
        #expect(abs(propensity - Double(decided.route!.firstProbabilityPPM) / 1e6) < 1e-6)

        let routed = try #require(
            record("route", "routed", (records.first { $0["event"] as? String == "route" }?["reason"] as? String) ?? "")
        )
        #expect(routed["payment_id"] as? String == "pay_r1" && routed["attempt"] as? Int == 2)
        let failed = try #require(record("route", "failed", "all_tried"))
        #expect(failed["payment_id"] as? String == "pay_r1")

        let sample = server.server.metricsSample
        #expect(sample.audit?.written == 5 && sample.audit?.dropped == 0)
    }

    @Test func aMalformedTraceparentIsAMalformedBody() throws {
        let server = try TestServer(
            configuration: AuthorizationServerTests.configuration(), keyHasher: AuthorizationServerTests.hasher)
        let connection = try Connection(to: server.address)
        var request = AuthorizationServerTests.request()
        request.traceparent = "00-not-a-trace"
        #expect(AuthorizationServerTests.status { _ = try connection.authorize(request) } == .malformedBody)
    }
}
