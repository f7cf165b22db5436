import Foundation
import SwitchyardCore
import SwitchyardRedis
import SwitchyardTesting
import Testing

/// Faults under load against the real daemon in a fleet: Redis paused,
/// restarted empty; the daemon reloaded and stopped. The load is
/// switchyard-bench's payments mix (DECIDE, and a REPORT for each routed
/// payment); every honest request must be answered and no reported outcome
/// lost. perf/faults measures the latencies around each fault.
@Suite(.serialized, .enabled(if: RedisServer.isAvailable, "redis-server is not installed"))
struct FaultDaemonTests {
    static let fleet = "fault-test"

    static func start(_ directory: TemporaryDirectory, redis: RedisServer, weight: Double = 1) throws -> (
        ChildProcess, UInt16, String
    ) {
        let file = try write(directory, redis: redis, weight: weight)
        let daemon = try ChildProcess.switchyard(
            config: file, environment: ["SWITCHYARD_KEY_SECRET": HostileClientTests.secret])
        return (daemon, try #require(daemon.listeningPort()), file)
    }

    @discardableResult
    static func write(_ directory: TemporaryDirectory, redis: RedisServer, weight: Double) throws -> String {
        let hasher = try KeyHasher(secret: [UInt8](repeating: 0x5A, count: 32))
        let digest = hasher.digest(of: "sk_live_bench").storedForm
        let merchants = (1...10).map { "  - {id: m_\($0), keys: [{hash: \"\(digest)\"}]}" }
        return try directory.write(
            "switchyard.yaml",
            fleetDaemonConfig(
                redis: redis.port, fleet: fleet,
                rest: """
                    gateways:
                      - {id: razorpay, methods: [card, upi], currencies: [INR], weight: \(weight)}
                      - {id: payu, methods: [card], currencies: [INR]}
                    merchants:
                    \(merchants.joined(separator: "\n"))
                    """))
    }

    /// The payments mix at 500 a second for `seconds`, started now; its JSON
    /// report once it ends.
    static func load(port: UInt16, seconds: Double) throws -> ChildProcess {
        try ChildProcess(
            executable: LoadGeneratorTests.binary,
            arguments: [
                "--address", "127.0.0.1:\(port)", "--mix", "decide=70,report=30", "--methods", "card=70,upi=30",
                "--merchants", "10", "-c", "4",
                "--rate", "500", "--duration", "\(seconds)", "--warmup", "0", "--quiet", "--json",
            ])
    }

    static func report(_ load: ChildProcess) throws -> [String: Any] {
        #expect(load.waitForExit(seconds: 60) == 0, "\(load.output)")
        let line = try #require(load.output.split(separator: "\n").last { $0.hasPrefix("{") })
        return try #require(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
    }

    /// Every request answered, none refused, none failed.
    static func expectAllServed(_ json: [String: Any]) {
        #expect(json["requests"] as? Int ?? 0 > 0, "\(json)")
        #expect(json["errors"] as? Int == 0, "\(json)")
        #expect(json["refused"] as? Int == 0, "\(json)")
        #expect(json["unanswered"] as? Int == 0, "\(json)")
    }

    /// The fleet's outcome counts in Redis, summed over every bucket.
    static func outcomesInRedis(_ redis: RedisServer) throws -> Int64 {
        let connection = RedisConnection(host: "127.0.0.1", port: Int(redis.port), timeoutMilliseconds: 1_000)
        try connection.connect()
        guard case .array(let keys) = try connection.command(["KEYS", "{\(fleet)}:health:*"]) else { return -1 }
        var total: Int64 = 0
        for case .bulk(let key) in keys {
            guard case .array(let fields) = try connection.command(["HGETALL", String(decoding: key, as: UTF8.self)])
            else { continue }
            for index in stride(from: 1, to: fields.count, by: 2) { total += fields[index].integerValue ?? 0 }
        }
        return total
    }

    @Test func redisPausedThenRestartedEmptyFailsNoRequest() throws {
        let redis = try RedisServer()
        let directory = try TemporaryDirectory()
        let (daemon, port, _) = try Self.start(directory, redis: redis)
        let load = try Self.load(port: port, seconds: 4)
        usleep(1_000_000)
        redis.pause()
        usleep(1_000_000)
        redis.resume()
        try redis.restart()
        Self.expectAllServed(try Self.report(load))
        #expect(eventually(seconds: 15) { daemon.output.contains("Redis is back") }, "\(daemon.output)")
        daemon.signal(SIGTERM)
        #expect(daemon.waitForExit(seconds: 10) == 0, "\(daemon.output)")
    }

    @Test func reloadsUnderLoadFailNoRequest() throws {
        let redis = try RedisServer()
        let directory = try TemporaryDirectory()
        let (daemon, port, _) = try Self.start(directory, redis: redis)
        let load = try Self.load(port: port, seconds: 3)
        for round in 1...5 {
            usleep(400_000)
            try Self.write(directory, redis: redis, weight: round % 2 == 0 ? 1 : 3)
            daemon.signal(SIGHUP)
        }
        Self.expectAllServed(try Self.report(load))
        let reloads = daemon.output.split(separator: "\n").filter { $0.contains("configuration reloaded") }
        #expect(reloads.count == 5, "\(daemon.output)")
        daemon.signal(SIGTERM)
        #expect(daemon.waitForExit(seconds: 10) == 0, "\(daemon.output)")
    }

    @Test func sigtermUnderLoadAnswersWhatItReadAndLosesNoOutcome() throws {
        let redis = try RedisServer()
        let directory = try TemporaryDirectory()
        let (daemon, port, _) = try Self.start(directory, redis: redis)
        let load = try Self.load(port: port, seconds: 4)
        usleep(1_500_000)
        daemon.signal(SIGTERM)
        #expect(daemon.waitForExit(seconds: 15) == 0, "\(daemon.output)")
        let json = try Self.report(load)
        // Every connection was told before it was closed, and nothing the
        // daemon read went unanswered: a request still in flight at the
        // close was sent after the daemon stopped reading.
        #expect(json["closed_by_server"] as? Int == 4, "\(json)")
        #expect((json["notices"] as? [String: Int])?["SHUTTING_DOWN(10)"] == 4, "\(json)")
        #expect(json["errors"] as? Int == 0, "\(json)")
        #expect(json["unanswered"] as? Int == 0, "\(json)")
        // The last flush on the way out: Redis holds every outcome the daemon
        // recorded that counts for a gateway (declines are neutral).
        let reports = try #require(json["report_results"] as? [String: Int])
        #expect(reports["attributable"] ?? 0 > 0, "\(json)")
        #expect(try Self.outcomesInRedis(redis) == Int64(reports["attributable"] ?? -1), "\(json)")
    }
}
