import Foundation
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
