import Glibc
public import SwitchyardCore

/// The part of the configuration the event loops read, as one immutable
/// snapshot. A reload builds a new snapshot and posts it to every loop, which
/// swaps its reference between event batches: nothing on the request path
/// takes a lock to read settings.
public final class ServerSettings: Sendable {
    public static let serverName = "switchyard"
    public static let serverVersion = "0.1.0"

    public let maxBodyBytes: UInt32
    public let maxConnections: Int
    public let idleTimeoutNanoseconds: UInt64
    public let frameTimeoutNanoseconds: UInt64
    public let shutdownGraceNanoseconds: UInt64
    public let instanceID: String
    /// Admin requests must carry the token with this hash; nil: admin operations are off.
    public let adminToken: AdminTokenDigest?

    /// Size of each pooled connection buffer: one whole frame plus room for
    /// its reply, rounded to pages. Fixed at start-up (max_body_bytes needs a restart).
    public let bufferBytes: Int

    public init(_ configuration: ServerConfiguration, bufferBytes: Int? = nil) {
        maxBodyBytes = UInt32(configuration.maxBodyBytes)
        maxConnections = configuration.maxConnections
        idleTimeoutNanoseconds = UInt64(configuration.idleTimeoutMilliseconds) * 1_000_000
        frameTimeoutNanoseconds = UInt64(configuration.frameTimeoutMilliseconds) * 1_000_000
        shutdownGraceNanoseconds = UInt64(configuration.shutdownGraceMilliseconds) * 1_000_000
        instanceID = configuration.instanceID.isEmpty ? ServerSettings.hostName() : configuration.instanceID
        adminToken = configuration.adminTokenHash
        let needed = max(16_384, configuration.maxBodyBytes + RequestHandler.maxFixedReplyBytes + 16)
        self.bufferBytes = bufferBytes ?? (needed + 4095) / 4096 * 4096
    }

    private static func hostName() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "switchyard" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
