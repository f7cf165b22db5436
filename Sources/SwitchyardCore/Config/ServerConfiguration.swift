/// How the daemon listens and bounds its connections.
public struct ServerConfiguration: Equatable, Sendable {
    /// `host:port` or `[v6]:port`; numeric addresses or `localhost` only.
    public var listen: String = "127.0.0.1:7400"
    /// Event-loop threads; 0 means one per online core.
    public var loops: Int = 0
    /// Name reported by HELLO; empty means the host name.
    public var instanceID: String = ""
    /// Open connections across all loops; one more gets TOO_MANY_CONNECTIONS.
    public var maxConnections: Int = 10_000
    /// Largest frame body accepted; a larger header gets FRAME_TOO_LARGE and a close.
    public var maxBodyBytes: Int = 16_384
    /// A connection with no traffic for this long is closed; 0 disables.
    public var idleTimeoutMilliseconds: Int = 300_000
    /// A frame begun but not completed for this long closes the connection
    /// (slow-loris clients hold a buffer each); 0 disables.
    public var frameTimeoutMilliseconds: Int = 10_000
    /// How long SIGTERM waits for in-flight replies before closing anyway.
    public var shutdownGraceMilliseconds: Int = 5_000
    /// Where the HTTP admin endpoints (`/health`, `/ready`) listen, served by
    /// event loop 0; nil (`none` in the file) turns them off.
    public var adminListen: String? = "127.0.0.1:7401"
    /// The admin token's stored form (`sha256:...`, made by
    /// `switchyard hash-token`); nil turns the admin operations off.
    public var adminTokenHash: AdminTokenDigest? = nil

    public init() {}

    static let fields = [
        "listen", "loops", "instance_id", "max_connections", "max_body_bytes",
        "idle_timeout_ms", "frame_timeout_ms", "shutdown_grace_ms", "admin_listen", "admin_token_hash",
    ]

    /// Reads `admin_listen`: an address, or `none`.
    static func adminAddress(_ text: String) -> Result<String?, InvalidValue> {
        text == "none" ? .success(nil) : ListenAddress.validate(text).map { Optional($0) }
    }

    /// The `admin_listen` a command-line value stands for, or why it cannot.
    public static func adminListen(parsing text: String) -> Result<String?, ConfigurationError> {
        adminAddress(text).mapError { ConfigurationError(file: "--admin-listen", message: $0.message) }
    }

    init(reading reader: ConfigReader) {
        let d = ServerConfiguration()
        listen = reader.parsed("listen", default: d.listen, ListenAddress.validate)
        loops = reader.integer("loops", default: d.loops, in: 0...256)
        instanceID = reader.string("instance_id", default: d.instanceID)
        if instanceID.utf8.count > 255 {
            reader.report(field: "instance_id", "at most 255 bytes (it travels as a str8 in HELLO)")
        }
        maxConnections = reader.integer("max_connections", default: d.maxConnections, in: 1...1_000_000)
        maxBodyBytes = reader.integer("max_body_bytes", default: d.maxBodyBytes, in: 256...16_777_216, unit: "bytes")
        idleTimeoutMilliseconds = reader.integer(
            "idle_timeout_ms", default: d.idleTimeoutMilliseconds, in: 0...86_400_000, unit: "milliseconds")
        frameTimeoutMilliseconds = reader.integer(
            "frame_timeout_ms", default: d.frameTimeoutMilliseconds, in: 0...3_600_000, unit: "milliseconds")
        shutdownGraceMilliseconds = reader.integer(
            "shutdown_grace_ms", default: d.shutdownGraceMilliseconds, in: 0...600_000, unit: "milliseconds")
        adminListen = reader.parsed("admin_listen", default: d.adminListen, ServerConfiguration.adminAddress)
        adminTokenHash = reader.parsed("admin_token_hash", default: d.adminTokenHash) { text in
            AdminTokenDigest(storedForm: text).map { .success($0) }
                ?? .failure(
                    InvalidValue("expected sha256: and 64 lower-case hex digits (switchyard hash-token prints it)"))
        }
        reader.rejectUnknownKeys(known: Self.fields)
    }
}

/// Syntax check of a listen address, kept free of socket code so Core stays
/// pure; the server parses it again into a socket address.
enum ListenAddress {
    static func validate(_ text: String) -> Result<String, InvalidValue> {
        let host: Substring
        let port: Substring
        if text.hasPrefix("["), let close = text.firstIndex(of: "]") {
            host = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            guard rest.hasPrefix(":") else { return .failure(InvalidValue("expected [IPv6]:port, got '\(text)'")) }
            port = rest.dropFirst()
            guard host.contains(":") else { return .failure(InvalidValue("'\(host)' is not an IPv6 address")) }
        } else {
            guard let colon = text.lastIndex(of: ":"), text.firstIndex(of: ":") == colon else {
                return .failure(InvalidValue("expected host:port (IPv6 as [addr]:port), got '\(text)'"))
            }
            host = text[..<colon]
            port = text[text.index(after: colon)...]
            let octets = host.split(separator: ".", omittingEmptySubsequences: false)
            let isV4 = octets.count == 4 && octets.allSatisfy { UInt8($0) != nil }
            guard isV4 || host == "localhost" else {
                return .failure(
                    InvalidValue("'\(host)' is not a numeric IPv4 address or localhost (names are not resolved)"))
            }
        }
        guard UInt16(port) != nil else { return .failure(InvalidValue("the port in '\(text)' must be 0 to 65535")) }
        return .success(text)
    }
}
