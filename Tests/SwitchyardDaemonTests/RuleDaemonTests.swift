import Foundation
import Glibc
import SwitchyardClient
import SwitchyardCore
import SwitchyardTesting
import SwitchyardWire
import Testing

/// Routing rules through the built daemon, over the protocol; and a reload
/// that swaps them.
@Suite struct RuleDaemonTests {
    static let token = "0123456789abcdef0123456789abcdef-rule-test-token"
    static let config = """
        server:
          listen: "127.0.0.1:0"
          admin_listen: "none"
          loops: 1
          admin_token_hash: "\(AdminTokenDigest(token: token).storedForm)"
        routing:
          rules:
            - name: amex-large
              when: {method: {in: [card]}, card_network: {in: [amex]}, amount: {min: 100000}}
              then: {priority: [cashfree, payu]}
              mode: strict
            - name: upi-split
              when: {method: {in: [upi]}}
              then: {split: {razorpay: 70, payu: 30}}
              mode: split_then_score
            - name: retries
              when: {attempt: {min: 2}}
              then: {deny: [razorpay]}
        gateways:
          - {id: razorpay, methods: [card, upi], currencies: [INR], weight: 2}
          - {id: payu, methods: [card, upi], currencies: [INR]}
          - {id: cashfree, methods: [card], currencies: [INR]}
        merchants:
          - id: m_1
        """

    static func route(
        _ payment: String, method: String = "card", amount: UInt64 = 49_900, network: String = "", attempt: UInt8 = 1
    ) -> RouteRequest {
        RouteRequest(
            merchantID: "m_1", paymentID: payment, attempt: attempt, method: method, currency: "INR", amount: amount,
            cardNetwork: network)
    }

    @Test func rulesDecideOverTheProtocol() throws {
        let directory = try TemporaryDirectory()
        let daemon = try ChildProcess.switchyard(config: try directory.write("switchyard.yaml", Self.config))
        let port = try #require(daemon.listeningPort())
        let client = try Client(address: "127.0.0.1:\(port)")

        let amex = try client.route(Self.route("p-amex", amount: 150_000, network: "amex"))
        #expect(amex.entries.map(\.gateway) == ["cashfree", "payu"])
        #expect(amex.entries.map(\.reason) == [8, 8])  // RULE
        #expect(amex.firstProbabilityPPM == 1_000_000)

        // Below the amount no rule applies: scores (razorpay's weight 2) lead.
        let small = try client.route(Self.route("p-small", amount: 50_000, network: "amex"))
        #expect(small.entries.first?.gateway == "razorpay")
        #expect(small.entries.count == 3)

        var razorpay = 0
        for i in 0..<400 {
            let upi = try client.route(Self.route("p-upi-\(i)", method: "upi"))
            #expect(upi.entries.first?.reason == 9)  // SPLIT
            #expect([700_000, 300_000].contains(upi.firstProbabilityPPM))
            if upi.entries.first?.gateway == "razorpay" { razorpay += 1 }
            let again = try client.route(Self.route("p-upi-\(i)", method: "upi"))
            #expect(again.entries.first?.gateway == upi.entries.first?.gateway, "a retry keeps its arm")
        }
        #expect((240...320).contains(razorpay), "about 70 % of 400: \(razorpay)")

        let retry = try client.route(Self.route("p-retry", network: "visa", attempt: 2))
        #expect(!retry.entries.map(\.gateway).contains("razorpay"))

        // Absurd amounts never reach a rule: refused as such, or (above every
        // gateway's max_amount, 10^12 by default) taken by no gateway.
        let largest = try client.route(Self.route("p-max", amount: 1_000_000_000_000, network: "amex"))
        #expect(largest.entries.map(\.gateway) == ["cashfree", "payu"])
        for (amount, status) in [
            (0, "INVALID_AMOUNT"), (1_000_000_000_001, "NO_GATEWAY_FOR_PAYMENT"),
            (1_000_000_000_000_001, "INVALID_AMOUNT"), (.max, "INVALID_AMOUNT"),
        ] as [(UInt64, String)] {
            do {
                _ = try client.route(Self.route("p-absurd", amount: amount, network: "amex"))
                Issue.record("amount \(amount) was routed")
            } catch {
                #expect("\(error)".contains(status), "\(amount): \(error)")
            }
        }

        // Explain names the rule followed and why the earlier ones were passed over.
        func explain(_ decision: UInt64) throws -> [String: Any] {
            let body = try client.admin(AdminRequest(token: Self.token, operation: .explain(decisionID: decision)))
            return try #require(try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any])
        }
        let amexExplained = try explain(amex.decisionID)
        let amexRule = try #require(amexExplained["rule"] as? [String: Any])
        #expect(amexRule["name"] as? String == "amex-large" && amexRule["scope"] as? String == "global")
        #expect(amexRule["index"] as? Int == 0)
        #expect((amexExplained["rules_passed_over"] as? [Any])?.isEmpty == true)
        #expect((amexExplained["draw"] as? String)?.contains("routing rule 'amex-large'") == true)
        let retryExplained = try explain(retry.decisionID)
        #expect((retryExplained["rule"] as? [String: Any])?["name"] as? String == "retries")
        #expect((retryExplained["rule"] as? [String: Any])?["index"] as? Int == 2)
        #expect(
            (retryExplained["rules_passed_over"] as? [[String: String]])
                == [["name": "amex-large", "failed": "card_network"], ["name": "upi-split", "failed": "method"]])
        let smallExplained = try explain(small.decisionID)
        #expect(smallExplained["rule"] == nil)
        #expect(
            (smallExplained["rules_passed_over"] as? [[String: String]])
                == [
                    ["name": "amex-large", "failed": "amount"], ["name": "upi-split", "failed": "method"],
                    ["name": "retries", "failed": "attempt"],
                ])

        daemon.signal(SIGTERM)
        #expect(daemon.waitForExit() == 0)
    }

    @Test func aReloadSwapsTheRulesAndABadRuleKeepsTheOldOnes() throws {
        let directory = try TemporaryDirectory()
        let file = try directory.write("switchyard.yaml", Self.config)
        let daemon = try ChildProcess.switchyard(config: file)
        let port = try #require(daemon.listeningPort())
        let client = try Client(address: "127.0.0.1:\(port)")
        #expect(
            try client.route(Self.route("a", amount: 150_000, network: "amex")).entries.first?.gateway == "cashfree")

        // A rule naming a gateway that does not exist: refused, with its place; the old rules stay.
        _ = try directory.write(
            "switchyard.yaml", Self.config.replacingOccurrences(of: "[cashfree, payu]", with: "[adyen, payu]"))
        daemon.signal(SIGHUP)
        #expect(daemon.waitForOutput(containing: "rule 'amex-large': no gateway 'adyen' is configured"))
        #expect(
            try client.route(Self.route("b", amount: 150_000, network: "amex")).entries.first?.gateway == "cashfree")

        _ = try directory.write(
            "switchyard.yaml", Self.config.replacingOccurrences(of: "[cashfree, payu]", with: "[payu, cashfree]"))
        daemon.signal(SIGHUP)
        #expect(
            try eventually {
                try client.route(Self.route("c", amount: 150_000, network: "amex")).entries.first?.gateway == "payu"
            })
        daemon.signal(SIGTERM)
        #expect(daemon.waitForExit() == 0)
    }

    /// Rules in shadow are counted, never followed; `ADMIN_STATS` (and so
    /// `switchyardctl rules`) shows each rule's counts.
    @Test func shadowRulesAreCountedNotFollowed() throws {
        let config = Self.config.replacingOccurrences(
            of: "  rules:\n",
            with: """
                  rules:
                    - name: upi-payu-only
                      when: {method: {in: [upi]}}
                      then: {priority: [payu]}
                      mode: strict
                      shadow: true
                    - name: card-cashfree
                      when: {method: {in: [card]}, card_network: {in: [visa]}}
                      then: {allow: [cashfree]}
                      shadow: true

                """)
        let directory = try TemporaryDirectory()
        let daemon = try ChildProcess.switchyard(config: try directory.write("switchyard.yaml", config))
        let port = try #require(daemon.listeningPort())
        let client = try Client(address: "127.0.0.1:\(port)")

        var payu = 0
        for i in 0..<200 {
            let upi = try client.route(Self.route("u\(i)", method: "upi"))
            #expect(upi.entries.first?.reason == 9, "the split still decides")
            if upi.entries.first?.gateway == "payu" { payu += 1 }
        }
        for i in 0..<20 {
            var request = Self.route("v\(i)", network: "visa")
            if i < 5 { request.tried = ["cashfree"] }
            _ = try client.route(request)
        }
        _ = try client.route(Self.route("amex", amount: 150_000, network: "amex"))

        let body = try client.admin(AdminRequest(token: Self.token, operation: .stats))
        let stats = try #require(try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any])
        let rules = try #require(stats["rules"] as? [[String: Any]])
        func rule(_ name: String) -> [String: Any] { rules.first { $0["name"] as? String == name } ?? [:] }
        #expect(
            rules.map { $0["name"] as? String } == [
                "upi-payu-only", "card-cashfree", "amex-large", "upi-split", "retries",
            ])
        #expect(rule("upi-payu-only")["shadow"] as? Bool == true)
        #expect(rule("upi-payu-only")["shadow_matches"] as? Int == 200)
        #expect(rule("upi-payu-only")["shadow_differs"] as? Int == 200 - payu, "every payment the split sent elsewhere")
        #expect(rule("upi-payu-only")["decisions"] as? Int == 0)
        #expect(rule("upi-split")["decisions"] as? Int == 200)
        #expect(rule("amex-large")["decisions"] as? Int == 1)
        let cashfree = rule("card-cashfree")
        #expect(cashfree["shadow_matches"] as? Int == 20)
        #expect(cashfree["shadow_refusals"] as? Int == 5, "cashfree already tried: the rule would leave nothing")
        // Razorpay (weight 2) leads the live decisions, cashfree the rule's.
        #expect((cashfree["shadow_differs"] as? Int).map { $0 >= 10 && $0 <= 15 } == true, "\(cashfree)")
        #expect(rule("card-cashfree")["scope"] as? String == "global")

        daemon.signal(SIGTERM)
        #expect(daemon.waitForExit() == 0)
    }

    /// Labels a request carries reach the rules over ROUTE and DECIDE;
    /// labels no rule names are ignored, and a malformed labels field is
    /// a MALFORMED_BODY that leaves the connection serving.
    @Test func labelsRouteOverRouteAndDecide() throws {
        let secret = String(repeating: "5a", count: 32)
        let digest = try KeyHasher(secret: [UInt8](repeating: 0x5A, count: 32)).digest(of: "sk_live_rules")
        let config = Self.config.replacingOccurrences(
            of: "  rules:\n",
            with: """
                  rules:
                    - name: app-payu
                      when: {labels: {channel: {in: [app]}}}
                      then: {priority: [payu]}
                      mode: strict

                """
        ).replacingOccurrences(of: "  - id: m_1", with: "  - id: m_1\n    keys: [{hash: \"\(digest.storedForm)\"}]")
        let directory = try TemporaryDirectory()
        let daemon = try ChildProcess.switchyard(
            config: try directory.write("switchyard.yaml", config),
            environment: ["SWITCHYARD_KEY_SECRET": secret, "PATH": "/usr/bin:/bin"])
        let port = try #require(daemon.listeningPort())
        let client = try Client(address: "127.0.0.1:\(port)")

        var app = Self.route("l1", network: "visa")
        app.labels = ["channel": "app", "device": "ios"]
        let routed = try client.route(app)
        #expect(routed.entries.map(\.gateway) == ["payu"])
        #expect(routed.entries.first?.reason == 8)  // RULE
        var web = Self.route("l2", network: "visa")
        web.labels = ["channel": "web"]
        #expect(try client.route(web).entries.count == 3, "no rule: every gateway, by score")

        let decided = try client.decide(
            DecideRequest(authorize: AuthorizeRequest(merchantID: "m_1", credential: "sk_live_rules"), route: app))
        #expect(decided.authorization.allowed)
        #expect(decided.route?.entries.map(\.gateway) == ["payu"])

        // A labels field naming a key twice: refused, and the connection still serves.
        let connection = try Connection(to: "127.0.0.1:\(port)")
        var plain = Self.route("l3")
        plain.labels = [:]
        _ = connection.send(.route) { writer in
            plain.write(to: &writer)
            writer.u8(1)
            writer.u16(9)
            writer.u8(2)
            for _ in 0..<2 {
                writer.str8("k")
                writer.str8("v")
            }
        }
        try connection.flush()
        #expect(try connection.receive().header.status == .malformedBody)
        _ = connection.send(.route) { app.write(to: &$0) }
        try connection.flush()
        #expect(try connection.receive().header.status == .ok)

        // Explain names a label condition the payment failed.
        let explained = try client.admin(
            AdminRequest(token: Self.token, operation: .explain(decisionID: routed.decisionID)))
        let document = try #require(try JSONSerialization.jsonObject(with: Data(explained)) as? [String: Any])
        #expect((document["rule"] as? [String: Any])?["name"] as? String == "app-payu")
        let webExplained = try client.admin(
            AdminRequest(token: Self.token, operation: .explain(decisionID: try client.route(web).decisionID)))
        let webDocument = try #require(try JSONSerialization.jsonObject(with: Data(webExplained)) as? [String: Any])
        #expect(
            (webDocument["rules_passed_over"] as? [[String: String]])?.first == [
                "name": "app-payu", "failed": "labels",
            ])

        daemon.signal(SIGTERM)
        #expect(daemon.waitForExit() == 0)
    }
}
