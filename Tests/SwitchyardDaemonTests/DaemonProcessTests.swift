import Foundation
import SwitchyardClient
import SwitchyardCore
import SwitchyardTesting
import SwitchyardWire
import Testing

/// The built `switchyard` executable, run as a process and driven over the protocol.
@Suite struct DaemonProcessTests {
    static let binary = BuiltProducts.switchyard

    func config(instance: String, extra: String = "") -> String {
        """
        server:
          listen: "127.0.0.1:0"
          admin_listen: "127.0.0.1:0"
          loops: 2
          instance_id: \(instance)
        \(extra)
        """
    }

    /// Sanitizer builds (Package.swift, SWITCHYARD_SANITIZER) use the sanitizer's allocator.
    static let jemallocBuild = ProcessInfo.processInfo.environment["SWITCHYARD_SANITIZER"] == nil

    @Test(.enabled(if: jemallocBuild)) func buildInfoProvesJemallocIsTheAllocator() throws {
        let (status, output) = try ChildProcess.run(Self.binary, ["--build-info"])
        #expect(status == 0)
        #expect(output.contains("allocator: jemalloc 5."))
        #expect(output.contains("(malloc is bound to it)"))
        #expect(output.contains("crypto: OpenSSL 3."))
    }

    @Test(.enabled(if: jemallocBuild)) func theDynamicLinkerBindsMallocToJemalloc() throws {
        let child = try ChildProcess(
            executable: Self.binary, arguments: ["--build-info"],
            environment: ProcessInfo.processInfo.environment.merging(["LD_DEBUG": "bindings"]) { $1 })
        #expect(child.waitForExit() == 0)
        let bindings = child.output.split(separator: "\n").filter { $0.contains("normal symbol `malloc'") }
        #expect(!bindings.isEmpty)
        #expect(bindings.allSatisfy { $0.contains("libjemalloc") }, "malloc bound elsewhere: \(bindings.prefix(3))")
    }

    @Test func checkAcceptsAGoodFileAndExplainsABadOne() throws {
        let directory = try TemporaryDirectory()
        let good = try directory.write("good.yaml", config(instance: "x"))
        let (goodStatus, goodOutput) = try ChildProcess.run(Self.binary, ["--check", "--config", good])
        #expect(goodStatus == 0)
        #expect(goodOutput.contains("configuration is valid"))

        let bad = try directory.write("bad.yaml", "server:\n  loops: 2\n  max_connections: none\n")
        let (badStatus, badOutput) = try ChildProcess.run(Self.binary, ["--check", "--config", bad])
        #expect(badStatus == 1)
        #expect(badOutput.contains("\(bad):3:20: server.max_connections: expected an integer"))

        let (noDefaultsStatus, _) = try ChildProcess.run(Self.binary, ["--check"])
        #expect(noDefaultsStatus == 0, "the built-in defaults are valid")

        let (badFlagStatus, badFlagOutput) = try ChildProcess.run(
            Self.binary, ["--check", "--admin-listen", "nowhere"])
        #expect(badFlagStatus == 1)
        #expect(badFlagOutput.contains("--admin-listen"), "\(badFlagOutput)")
    }

    @Test func startsServesReloadsAndStopsCleanly() throws {
        let directory = try TemporaryDirectory()
        let file = try directory.write("switchyard.yaml", config(instance: "e2e-1"))
        let daemon = try ChildProcess.switchyard(config: file)
        let port = try #require(daemon.listeningPort())

        let client = try Client(address: "127.0.0.1:\(port)")
        #expect(try client.hello(clientName: "e2e").instanceID == "e2e-1")
        #expect(try client.ping(payload: [1, 2]) == [1, 2])

        // SIGHUP with a changed file: new connections see the new instance id.
        try directory.write("switchyard.yaml", config(instance: "e2e-2"))
        daemon.signal(SIGHUP)
        #expect(daemon.waitForOutput(containing: "configuration reloaded"))
        var instance = ""
        for _ in 0..<100 where instance != "e2e-2" {
            instance = try Connection(to: "127.0.0.1:\(port)").hello(clientName: "e2e").instanceID
            if instance != "e2e-2" { usleep(10_000) }
        }
        #expect(instance == "e2e-2")

        // SIGHUP with a broken file: refused, the running configuration stays.
        try directory.write("switchyard.yaml", "server:\n  idle_timeout_ms: soon\n")
        daemon.signal(SIGHUP)
        #expect(daemon.waitForOutput(containing: "reload refused"))
        #expect(daemon.output.contains("switchyard.yaml:2:20: server.idle_timeout_ms"))
        #expect(try Connection(to: "127.0.0.1:\(port)").hello(clientName: "e2e").instanceID == "e2e-2")

        // SIGTERM: requests already sent are answered, then a notice, then exit 0.
        let raw = try RawConnection(port: port)
        try raw.write((1...50).flatMap { Frames.ping(id: UInt32($0)) })
        #expect(try raw.readFrame().header.requestID == 1)
        daemon.signal(SIGTERM)
        for id in 2...50 { #expect(try raw.readFrame().header.requestID == UInt32(id)) }
        #expect(try raw.readFrame().header.status == .shuttingDown)
        #expect(daemon.waitForExit() == 0)
        #expect(daemon.output.contains("stopped"))
    }

    @Test func refusesToStartOnAnAddressItCannotUse() throws {
        let (status, output) = try ChildProcess.run(Self.binary, ["--listen", "203.0.113.1:7400"])
        #expect(status == 1)
        #expect(output.contains("cannot start"))
    }

    @Test func hashKeyPrintsTheStoredFormAndNeverTheKey() throws {
        let secret = String(repeating: "aa", count: 32)
        let child = try ChildProcess(
            executable: "/bin/sh",
            arguments: ["-c", "printf 'sk_live_9f2c\\nsk_test_1\\n' | '\(Self.binary)' hash-key"],
            environment: ["SWITCHYARD_KEY_SECRET": secret, "PATH": "/usr/bin:/bin"])
        #expect(child.waitForExit() == 0)
        let lines = child.output.split(separator: "\n").map(String.init)
        #expect(lines.count == 2)
        #expect(lines.allSatisfy { KeyDigest(storedForm: $0) != nil })
        #expect(!child.output.contains("sk_live"))
        let hasher = try KeyHasher(secret: [UInt8](repeating: 0xAA, count: 32))
        #expect(lines.first == hasher.digest(of: "sk_live_9f2c").storedForm)

        let missing = try ChildProcess(
            executable: "/bin/sh", arguments: ["-c", "echo k | '\(Self.binary)' hash-key"],
            environment: ["PATH": "/usr/bin:/bin"])
        #expect(missing.waitForExit() == 1)
        #expect(missing.output.contains("no key secret"))
    }

    @Test func hashTokenMakesATokenFileAndPrintsOnlyItsHash() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path + "/admin-token"
        let (status, output) = try ChildProcess.run(Self.binary, ["hash-token", "--generate", path])
        #expect(status == 0)
        let token = try String(contentsOfFile: path, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(token.count == 64)
        #expect(output.trimmingCharacters(in: .whitespacesAndNewlines) == AdminTokenDigest(token: token).storedForm)
        #expect(!output.contains(token))
        let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
        #expect(mode == 0o600)

        let (again, refusal) = try ChildProcess.run(Self.binary, ["hash-token", "--generate", path])
        #expect(again == 1)
        #expect(refusal.contains("never overwritten"))

        let piped = try ChildProcess(
            executable: "/bin/sh", arguments: ["-c", "'\(Self.binary)' hash-token < '\(path)'"],
            environment: ["PATH": "/usr/bin:/bin"])
        #expect(piped.waitForExit() == 0)
        #expect(
            piped.output.trimmingCharacters(in: .whitespacesAndNewlines) == AdminTokenDigest(token: token).storedForm)
    }

    @Test(arguments: ["json", "logfmt"])
    func logsOneStructuredLinePerEventWhenAsked(format: String) throws {
        let directory = try TemporaryDirectory()
        let file = try directory.write(
            "switchyard.yaml", config(instance: "logs", extra: "logging:\n  format: \(format)"))
        let daemon = try ChildProcess.switchyard(config: file)
        daemon.signal(SIGTERM)
        #expect(daemon.waitForExit() == 0)
        let lines = daemon.output.split(separator: "\n").map(String.init)
        #expect(lines.count >= 4, "\(daemon.output)")
        for line in lines {
            if format == "json" {
                let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
                #expect(object?["ts"] is String && object?["level"] is String && object?["msg"] is String, "\(line)")
            } else {
                #expect(line.hasPrefix("ts=") && line.contains(" level=") && line.contains(" msg="), "\(line)")
            }
        }
        let listening = try #require(lines.first { $0.contains("listening") })
        #expect(listening.contains(format == "json" ? #""loops":"2""# : "loops=2"), "\(listening)")
        #expect(lines.contains { $0.contains(format == "json" ? #""msg":"stopped""# : "msg=stopped") })
    }

    @Test func keysWithoutASecretStopTheStart() throws {
        let directory = try TemporaryDirectory()
        let file = try directory.write(
            "switchyard.yaml",
            config(
                instance: "k",
                extra: """
                    merchants:
                      - id: m_1
                        keys: [{hash: "hmac-sha256:\(String(repeating: "0a", count: 32))"}]
                    """))
        let (status, output) = try ChildProcess.run(Self.binary, ["--config", file])
        #expect(status == 1)
        #expect(output.contains("no key secret"), "\(output)")
    }
}
