public import Foundation
import Glibc

/// A child process started with posix_spawn, its output (stdout and stderr)
/// going to a file, stopped by its pid.
///
/// Not Foundation's Process: it starts children with the calling thread's
/// signal mask, and test threads block SIGTERM, so a child would ignore it.
public final class ChildProcess: @unchecked Sendable {
    // @unchecked: the pid and log path are immutable; `status` is only
    // touched by the test that owns the child.
    public let pid: pid_t
    private let logPath: String
    private var status: Int32?

    public init(executable: String, arguments: [String], environment: [String: String]? = nil) throws {
        logPath = NSTemporaryDirectory() + "switchyard-child-\(UUID().uuidString).log"
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, logPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK))

        let environment = (environment ?? ProcessInfo.processInfo.environment).map { "\($0.key)=\($0.value)" }
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup($0) } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid = pid_t()
        let rc = posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
        guard rc == 0 else { throw ChildProcessError.spawn(executable, rc) }
        self.pid = pid
    }

    deinit {
        if isRunning {
            kill(pid, SIGKILL)
            _ = waitForExit(seconds: 10)
        }
        unlink(logPath)
    }

    /// Everything the child has written so far.
    public var output: String {
        (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
    }

    public var isRunning: Bool {
        if status != nil { return false }
        var raw: Int32 = 0
        guard waitpid(pid, &raw, WNOHANG) == pid else { return true }
        // Exit status, or 128 + signal for a child killed by a signal.
        status = (raw & 0x7F) == 0 ? (raw >> 8) & 0xFF : 128 + (raw & 0x7F)
        return false
    }

    /// Waits, up to `seconds`, for the output to contain `text`; returns whether it did.
    public func waitForOutput(containing text: String, seconds: Double = 20) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if output.contains(text) { return true }
            if !isRunning { return output.contains(text) }
            usleep(20_000)
        }
        return false
    }

    public func signal(_ signal: Int32) { kill(pid, signal) }

    /// Waits up to `seconds` for the process to exit and returns its status,
    /// or nil (after killing it) when it did not.
    public func waitForExit(seconds: Double = 20) -> Int32? {
        let deadline = Date().addingTimeInterval(seconds)
        while isRunning && Date() < deadline { usleep(10_000) }
        if isRunning {
            kill(pid, SIGKILL)
            while isRunning { usleep(10_000) }
            return nil
        }
        return status
    }

    /// Runs a command to completion and returns its exit status and output.
    public static func run(_ executable: String, _ arguments: [String], seconds: Double = 60) throws -> (
        status: Int32?, output: String
    ) {
        let child = try ChildProcess(executable: executable, arguments: arguments)
        let status = child.waitForExit(seconds: seconds)
        return (status, child.output)
    }
}

public enum ChildProcessError: Error {
    case spawn(String, Int32)
    /// The daemon exited or never said it started; its output tells why.
    case didNotStart(String)
}

extension ChildProcess {
    /// Starts the built `switchyard` on a configuration file and waits until
    /// it says it started.
    public static func switchyard(config file: String, environment: [String: String]? = nil) throws -> ChildProcess {
        let daemon = try ChildProcess(
            executable: BuiltProducts.switchyard, arguments: ["--config", file], environment: environment)
        guard daemon.waitForOutput(containing: "switchyard started") else {
            _ = daemon.waitForExit(seconds: 1)
            throw ChildProcessError.didNotStart(daemon.output)
        }
        return daemon
    }

    /// A port from a started daemon's "listening" log line: `port` (the
    /// protocol's) or `admin_port`.
    public func listeningPort(_ field: String = "port") -> UInt16? {
        guard let line = output.split(separator: "\n").first(where: { $0.contains("listening") }) else { return nil }
        return line.split(separator: " ").first { $0.hasPrefix(field + "=") }.flatMap {
            UInt16($0.dropFirst(field.count + 1))
        }
    }
}

/// Paths of the products built next to the test bundle.
public enum BuiltProducts {
    /// The directory holding the test bundle, and the executables built with it.
    public static var directory: String {
        let executable =
            (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return URL(fileURLWithPath: executable).deletingLastPathComponent().path
    }

    public static var switchyard: String { directory + "/switchyard" }
    public static var switchyardctl: String { directory + "/switchyardctl" }
}

/// A scratch directory removed when the value goes away.
public final class TemporaryDirectory {
    public let path: String

    public init() throws {
        path = NSTemporaryDirectory() + "switchyard-test-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    /// Writes `text` to a file in the directory and returns its path.
    @discardableResult
    public func write(_ name: String, _ text: String) throws -> String {
        let file = path + "/" + name
        try text.write(toFile: file, atomically: true, encoding: .utf8)
        return file
    }
}
