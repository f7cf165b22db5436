import ArgumentParser
import COpenSSL
import Foundation
import Glibc
import Logging
import SwitchyardCore
import SwitchyardPosix
import SwitchyardServer

/// The Switchyard command: the daemon by default, and its helpers.
struct Switchyard: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "switchyard",
        abstract: "Routing and authorization daemon for payment platforms.",
        version: "switchyard \(ServerSettings.serverVersion)",
        subcommands: [Serve.self, HashKey.self, HashToken.self],
        defaultSubcommand: Serve.self
    )
}

/// The daemon (the default: `switchyard --config FILE` runs it).
struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the daemon (the default subcommand).",
        discussion: """
            With no --config the daemon runs on its built-in defaults (listen on 127.0.0.1:7400, \
            standalone, no Redis); config/switchyard.yaml spells them out. SIGHUP reloads the \
            configuration file; SIGTERM or SIGINT stops accepting, answers what is in flight and exits 0.
            """
    )

    @Option(name: .shortAndLong, help: "YAML configuration file.")
    var config: String?

    @Flag(help: "Validate the configuration, print the result and exit (0 valid, 1 invalid).")
    var check = false

    @Option(help: "Override server.listen (host:port).")
    var listen: String?

    @Option(help: "Override server.admin_listen (host:port, or none).")
    var adminListen: String?

    @Option(help: "Override server.loops (0: one per core).")
    var loops: Int?

    @Flag(help: "Print the version, the allocator and the crypto library the process uses, then exit.")
    var buildInfo = false

    mutating func run() throws {
        if buildInfo {
            print("switchyard \(ServerSettings.serverVersion)")
            let bound = Allocator.mallocIsJemalloc ? "malloc is bound to it" : "malloc is NOT bound to it"
            print("allocator: jemalloc \(Allocator.jemallocVersion ?? "missing") (\(bound))")
            print("crypto: \(String(cString: OpenSSL_version(OPENSSL_VERSION)))")
            return
        }
        let configuration: Configuration
        do {
            configuration = try loadConfiguration()
        } catch {
            FileHandleStderr.write("\(error)\n")
            throw ExitCode(1)
        }
        if check {
            print("\(config ?? "built-in defaults"): configuration is valid")
            return
        }
        // Handed over, not kept: the server keeps its own copy without the
        // merchants' keys and limits, and this one can then be freed.
        try serve(consume configuration)
    }

    private func loadConfiguration() throws(ConfigurationError) -> Configuration {
        try Serve.load(config: config, listen: listen, adminListen: adminListen, loops: loops)
    }

    /// The configuration file (or the defaults) with the command line's overrides on top.
    private static func load(config: String?, listen: String?, adminListen: String?, loops: Int?)
        throws(ConfigurationError) -> Configuration
    {
        var configuration =
            try config.map { path throws(ConfigurationError) in try Configuration.load(path: path) } ?? Configuration()
        if let listen { configuration.server.listen = listen }
        if let adminListen {
            configuration.server.adminListen = try ServerConfiguration.adminListen(parsing: adminListen).get()
        }
        if let loops {
            guard (0...256).contains(loops) else {
                throw ConfigurationError(file: "--loops", message: "expected 0 to 256, got \(loops)")
            }
            configuration.server.loops = loops
        }
        return configuration
    }

    private func serve(_ configuration: consuming Configuration) throws {
        let level = LogLevelSwitch(Logger.Level(rawValue: configuration.logging.level) ?? .info)
        let format = configuration.logging.format
        LoggingSystem.bootstrap { label -> any LogHandler in
            if format == .text { return level.handler(wrapping: StreamLogHandler.standardError(label: label)) }
            return level.handler(wrapping: StructuredLogHandler(format: format, label: label))
        }
        let logger = Logger(label: "switchyard")

        // Signals are read from a descriptor by this thread; they are blocked
        // before any loop thread starts, so every thread inherits the mask.
        let signals = try SignalFD(blocking: [SIGTERM, SIGINT, SIGHUP])
        let server: Server
        do {
            let (config, listen, adminListen, loops) = (self.config, self.listen, self.adminListen, self.loops)
            let source = config.map { path in
                ConfigurationSource(
                    name: path,
                    load: { () throws(ConfigurationError) in
                        try Serve.load(config: path, listen: listen, adminListen: adminListen, loops: loops)
                    },
                    applied: { level.level = Logger.Level(rawValue: $0.logging.level) ?? level.level })
            }
            server = try Server(
                configuration: configuration, logger: logger, keyHasher: try keyHasher(configuration), source: source)
            try server.start()
            Allocator.returnFreePages()
        } catch {
            logger.critical("cannot start", metadata: ["error": "\(error)"])
            throw ExitCode(1)
        }
        logger.info(
            "switchyard started",
            metadata: [
                "version": "\(ServerSettings.serverVersion)",
                "config": "\(config ?? "built-in defaults")",
                "allocator": "jemalloc \(Allocator.jemallocVersion ?? "missing")",
            ])

        while true {
            let signal = try signals.next()
            if signal == SIGHUP {
                if case .failure(.noSource) = server.reloadFromSource(cause: "SIGHUP") {
                    logger.warning("SIGHUP: no --config file, nothing to reload")
                }
                continue
            }
            logger.info("stopping: draining connections", metadata: ["signal": "\(signal)"])
            server.shutdown()
            logger.info("stopped")
            return
        }
    }

    /// The API key hasher, from the secret in the environment: required as
    /// soon as a merchant has keys; its absence then stops the start.
    private func keyHasher(_ configuration: Configuration) throws -> KeyHasher? {
        let environment = ProcessInfo.processInfo.environment
        let configured = environment[KeySecret.fileVariable] != nil || environment[KeySecret.hexVariable] != nil
        guard configured || configuration.merchants.contains(where: { !$0.keys.isEmpty }) else { return nil }
        return try KeyHasher(secret: KeySecret.load(environment: environment))
    }
}

/// Unbuffered writes to standard error, for messages before logging starts.
enum FileHandleStderr {
    static func write(_ text: String) {
        var text = text
        text.withUTF8 { _ = Glibc.write(2, $0.baseAddress, $0.count) }
    }
}

Switchyard.main()
