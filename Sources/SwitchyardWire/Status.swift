/// The status carried in every reply header: 0 for success, otherwise a
/// stable error code. Codes are never renumbered; new ones are appended within
/// their range (see docs/protocol.md, "Status codes").
public struct Status: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt16

    public init(rawValue: UInt16) { self.rawValue = rawValue }

    public static let ok = Status(rawValue: 0)

    // 1-99: framing and connection. Codes 1-3 leave the stream untrustworthy,
    // so they always come with CLOSE.
    public static let badMagic = Status(rawValue: 1)
    public static let unsupportedVersion = Status(rawValue: 2)
    public static let frameTooLarge = Status(rawValue: 3)
    public static let invalidHeader = Status(rawValue: 4)
    public static let unknownOpcode = Status(rawValue: 5)
    public static let malformedBody = Status(rawValue: 6)
    public static let notImplemented = Status(rawValue: 7)
    public static let tooManyConnections = Status(rawValue: 8)
    public static let idleTimeout = Status(rawValue: 9)
    public static let shuttingDown = Status(rawValue: 10)
    public static let internalError = Status(rawValue: 11)

    /// Every code defined so far, for documentation and tests.
    public static let allDefined: [Status] = [
        .ok, .badMagic, .unsupportedVersion, .frameTooLarge, .invalidHeader, .unknownOpcode,
        .malformedBody, .notImplemented, .tooManyConnections, .idleTimeout, .shuttingDown,
        .internalError,
    ]

    public var name: StaticString {
        switch self {
        case .ok: "OK"
        case .badMagic: "BAD_MAGIC"
        case .unsupportedVersion: "UNSUPPORTED_VERSION"
        case .frameTooLarge: "FRAME_TOO_LARGE"
        case .invalidHeader: "INVALID_HEADER"
        case .unknownOpcode: "UNKNOWN_OPCODE"
        case .malformedBody: "MALFORMED_BODY"
        case .notImplemented: "NOT_IMPLEMENTED"
        case .tooManyConnections: "TOO_MANY_CONNECTIONS"
        case .idleTimeout: "IDLE_TIMEOUT"
        case .shuttingDown: "SHUTTING_DOWN"
        case .internalError: "INTERNAL_ERROR"
        default: "UNKNOWN_STATUS"
        }
    }

    public var description: String { "\(name)(\(rawValue))" }
}
