import Foundation
import Glibc
import SwitchyardPosix

/// A real redis-server on a free loopback port, for tests; stopped by its pid.
public final class RedisServer {
    public let port: UInt16
    private var child: ChildProcess
    /// Arguments beyond the defaults (kept for restarts).
    private let extra: [String]

    /// The redis-server executable, when installed.
    public static var executable: String? {
        ["/usr/bin/redis-server", "/usr/local/bin/redis-server"].first {
            FileManager.default.isExecutableFile(atPath: $0)
        }
    }

    public static var isAvailable: Bool { executable != nil }

    /// `arguments` are added to the defaults (loopback, a free port, no persistence).
    public init(arguments: [String] = []) throws {
        var lastOutput = ""
        // A port found free can be taken before Redis binds it; try a few.
        for _ in 0..<5 {
            let port = try RedisServer.freePort()
            if let child = try RedisServer.start(port: port, extra: arguments, output: &lastOutput) {
                self.port = port
                self.child = child
                extra = arguments
                return
            }
        }
        throw RedisServerError.didNotStart(lastOutput)
    }

    /// Stops the server and starts an empty one on the same port.
    public func restart() throws {
        child.signal(SIGCONT)
        child.signal(SIGTERM)
        _ = child.waitForExit(seconds: 10)
        var output = ""
        guard let child = try RedisServer.start(port: port, extra: extra, output: &output) else {
            throw RedisServerError.didNotStart(output)
        }
        self.child = child
    }

    private static func start(port: UInt16, extra: [String], output: inout String) throws -> ChildProcess? {
        guard let executable = RedisServer.executable else { throw RedisServerError.notInstalled }
        let child = try ChildProcess(
            executable: executable,
            arguments: ["--bind", "127.0.0.1", "--port", "\(port)", "--save", "", "--appendonly", "no"] + extra)
        if child.waitForOutput(containing: "Ready to accept connections", seconds: 10) { return child }
        output = child.output
        _ = child.waitForExit(seconds: 1)
        return nil
    }

    /// Stops the server's process (SIGSTOP): it keeps its connections and answers nothing.
    public func pause() { child.signal(SIGSTOP) }

    /// Lets a paused server go on (SIGCONT).
    public func resume() { child.signal(SIGCONT) }

    deinit {
        child.signal(SIGCONT)
        child.signal(SIGTERM)
        _ = child.waitForExit(seconds: 10)
    }

    public static func freePort() throws -> UInt16 {
        let fd = try Socket.listen(on: SocketAddress(host: "127.0.0.1", port: 0), reusePort: false)
        defer { Descriptor.close(fd) }
        return try Socket.localPort(fd)
    }
}

/// Three redis-server processes made into a Redis Cluster (no replicas),
/// every slot covered; stopped with the object.
public final class RedisCluster {
    public let nodes: [RedisServer]
    private let directory: TemporaryDirectory

    public init() throws {
        directory = try TemporaryDirectory()
        var nodes: [RedisServer] = []
        for index in 0..<3 {
            nodes.append(
                try RedisServer(arguments: [
                    "--cluster-enabled", "yes", "--cluster-config-file", "\(directory.path)/nodes-\(index).conf",
                    "--dir", directory.path,
                ]))
        }
        self.nodes = nodes
        let cli = RedisServer.executable!.replacingOccurrences(of: "redis-server", with: "redis-cli")
        let create = try ChildProcess(
            executable: cli,
            arguments: ["--cluster", "create"] + nodes.map { "127.0.0.1:\($0.port)" } + [
                "--cluster-replicas", "0", "--cluster-yes",
            ])
        guard create.waitForExit(seconds: 30) == 0 else { throw RedisServerError.didNotStart(create.output) }
    }
}

public enum RedisServerError: Error {
    case notInstalled
    case didNotStart(String)
}
