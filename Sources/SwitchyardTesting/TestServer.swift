import Logging
public import SwitchyardCore
public import SwitchyardServer

/// An in-process server on 127.0.0.1 and a free port, for tests.
public final class TestServer {
    public let server: Server
    public var port: UInt16 { server.port }
    public var address: String { "127.0.0.1:\(server.port)" }

    /// The configuration tests start from: loopback, port 0, two loops and a
    /// fixed instance id so replies are byte-for-byte predictable.
    public static func configuration() -> ServerConfiguration {
        var configuration = ServerConfiguration()
        configuration.listen = "127.0.0.1:0"
        configuration.loops = 2
        configuration.instanceID = "sy-1"
        configuration.adminListen = "127.0.0.1:0"
        return configuration
    }

    /// Three card gateways for INR (razorpay also takes UPI) and one merchant,
    /// `m_1`: what routing tests start from.
    public static func routingConfiguration() -> Configuration {
        var configuration = Configuration()
        configuration.server = TestServer.configuration()
        configuration.gateways = [
            GatewayConfiguration(id: "razorpay", methods: ["card", "upi"], currencies: ["INR"]),
            GatewayConfiguration(id: "payu", methods: ["card"], currencies: ["INR"]),
            GatewayConfiguration(id: "cashfree", methods: ["card"], currencies: ["INR"]),
        ]
        configuration.merchants = [MerchantConfiguration(id: "m_1")]
        return configuration
    }

    public convenience init(_ configure: (inout Configuration) -> Void = { _ in }) throws {
        var configuration = Configuration()
        configuration.server = TestServer.configuration()
        configure(&configuration)
        try self.init(configuration: configuration)
    }

    public init(configuration: Configuration, keyHasher: KeyHasher? = nil) throws {
        var logger = Logger(label: "switchyard-test")
        logger.logLevel = .warning
        server = try Server(configuration: configuration, logger: logger, keyHasher: keyHasher)
        try server.start()
    }

    deinit { server.shutdown() }
}
