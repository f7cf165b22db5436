import Foundation
import SwitchyardCore
import SwitchyardTesting
import Testing

/// Each hostile client of `switchyard-bench --attack` against the real
/// daemon, beside an honest open-loop DECIDE load: the honest requests are
/// all answered, allowed and routed, and the daemon deals with the attacker
/// as documented (docs/hardening.md). How much the attacks cost the honest
/// clients' latency is measured by perf/hostile, not asserted here.
@Suite(.serialized) struct HostileClientTests {
    static let secret = String(repeating: "5a", count: 32)

    /// A daemon on two loops whose merchants m_1 ... m_20 hold the key the
    /// generator presents, with a frame timeout short enough for a test.
    static func daemon(_ directory: TemporaryDirectory) throws -> (ChildProcess, UInt16) {
        let hasher = try KeyHasher(secret: [UInt8](repeating: 0x5A, count: 32))
        let digest = hasher.digest(of: "sk_live_bench").storedForm
        let merchants = (1...20).map { "  - {id: m_\($0), keys: [{hash: \"\(digest)\"}]}" }
        let file = try directory.write(
            "switchyard.yaml",
            """
            server:
              listen: "127.0.0.1:0"
              admin_listen: none
              loops: 2
              max_connections: 3000
              frame_timeout_ms: 300
            gateways:
              - {id: razorpay, methods: [card, upi], currencies: [INR]}
              - {id: payu, methods: [card], currencies: [INR]}
            merchants:
            \(merchants.joined(separator: "\n"))
            """)
        let daemon = try ChildProcess.switchyard(config: file, environment: ["SWITCHYARD_KEY_SECRET": secret])
        return (daemon, try #require(daemon.listeningPort()))
    }

    /// Two seconds of honest DECIDEs at 500 a second with `attack` running;
    /// returns the generator's JSON report.
    func honestLoad(port: UInt16, attack: String, connections: Int) throws -> [String: Any] {
        let (status, output) = try ChildProcess.run(
            LoadGeneratorTests.binary,
            [
                "--address", "127.0.0.1:\(port)", "--op", "decide", "--merchants", "10", "-c", "4", "--rate", "500",
                "--duration", "2", "--warmup", "0.5", "--attack", attack, "--attack-connections", "\(connections)",
                "--attack-merchant", "m_20", "--json",
            ])
        #expect(status == 0, "\(output)")
        let line = try #require(output.split(separator: "\n").last { $0.hasPrefix("{") })
        let json = try #require(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        // Every honest request answered, allowed and routed, none late past the run.
        #expect(json["requests"] as? Int ?? 0 >= 990, "\(json)")
        #expect(json["errors"] as? Int == 0, "\(json)")
        #expect(json["refused"] as? Int == 0, "\(json)")
        #expect(json["unanswered"] as? Int == 0, "\(json)")
        return json
    }

    /// A fresh daemon, the honest load beside `attack`, and a clean stop;
    /// the attacker's counts and the statuses it received.
    func underAttack(_ attack: String, connections: Int) throws -> (counts: [String: Int], statuses: [String: Int]) {
        let directory = try TemporaryDirectory()
        let (daemon, port) = try Self.daemon(directory)
        let result = try tally(honestLoad(port: port, attack: attack, connections: connections))
        daemon.signal(SIGTERM)
        #expect(daemon.waitForExit() == 0, "\(daemon.output)")
        #expect(daemon.output.contains("stopped"))
        return result
    }

    func tally(_ json: [String: Any]) throws -> (counts: [String: Int], statuses: [String: Int]) {
        let attack = try #require(json["attack"] as? [String: Any])
        let tally = try #require(attack["tally"] as? [String: Any])
        let statuses = try #require(tally["statuses"] as? [String: Int])
        return (tally.compactMapValues { $0 as? Int }, statuses)
    }

    @Test func idleConnectionsTakeNothingFromTheOthers() throws {
        let (counts, statuses) = try underAttack("idle", connections: 2_000)
        #expect(counts["opened"] == 2_000)
        #expect(counts["closed_by_server"] == 0)
        #expect(statuses.isEmpty)
    }

    @Test func connectionChurnIsServed() throws {
        let (counts, statuses) = try underAttack("churn", connections: 1)
        // Each churned connection had its PING answered before it closed.
        #expect(counts["opened"] ?? 0 > 100)
        #expect(statuses["OK(0)"] == counts["opened"])
    }

    @Test func aSlowLorisIsCutOffByTheFrameTimeout() throws {
        let (counts, statuses) = try underAttack("slowloris", connections: 200)
        // A byte a second per connection: each frame outlives the 300 ms timeout.
        #expect(counts["closed_by_server"] ?? 0 >= 200)
        #expect(statuses["FRAME_TIMEOUT(12)"] ?? 0 >= 200)
    }

    @Test func clientsThatNeverReadAreHeldBackAlone() throws {
        let (counts, _) = try underAttack("nonreader", connections: 20)
        #expect(counts["opened"] == 20)
        #expect(counts["frames_sent"] ?? 0 > 20)
    }

    @Test func randomBytesAreRefusedAndClosed() throws {
        let (counts, statuses) = try underAttack("garbage", connections: 20)
        #expect(counts["closed_by_server"] ?? 0 > 20)
        // Random bytes almost never start with the magic; when they do, the
        // header is refused for its version, length or flags.
        let refusals = ["BAD_MAGIC(1)", "UNSUPPORTED_VERSION(2)", "FRAME_TOO_LARGE(3)"].map { statuses[$0] ?? 0 }
        #expect(refusals.reduce(0, +) >= counts["closed_by_server"]! * 9 / 10, "\(statuses)")
    }

    @Test func absurdFieldsGetTheirErrorCodesAndNothingElse() throws {
        let (counts, statuses) = try underAttack("absurd", connections: 20)
        #expect(counts["closed_by_server"] == 0, "every absurd frame is well-framed: the connection stays")
        for expected in [
            "UNSUPPORTED_VERSION(2)", "UNKNOWN_OPCODE(5)", "MALFORMED_BODY(6)", "UNSUPPORTED_CREDENTIAL(101)",
            "INVALID_CREDENTIAL(102)", "UNKNOWN_MERCHANT(200)",
        ] {
            #expect(statuses[expected] ?? 0 > 0, "\(expected) in \(statuses)")
        }
        #expect(statuses["INTERNAL_ERROR(11)"] == nil)
        #expect(statuses["OK(0)"] == nil, "no absurd request succeeds")
    }

    @Test func aWrongKeyFloodIsDeniedWhileOtherMerchantsAreServed() throws {
        let (counts, statuses) = try underAttack("wrongkey", connections: 20)
        // Denials travel as OK replies with allowed = false.
        #expect(statuses["OK(0)"] ?? 0 > 1_000)
        #expect(counts["closed_by_server"] == 0)
    }
}
