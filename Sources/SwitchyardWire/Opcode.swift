/// The operation a frame asks for; replies carry the opcode of their request.
///
/// A struct rather than an enum so that a frame with an opcode this build
/// does not know can still be represented and answered with
/// ``Status/unknownOpcode``.
public struct Opcode: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt8

    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// Connection-level notices from the server (a frame that could not be
    /// attributed to a request, idle timeout, shutdown, too many connections).
    public static let none = Opcode(rawValue: 0x00)
    public static let hello = Opcode(rawValue: 0x01)
    public static let ping = Opcode(rawValue: 0x02)

    public static let authorize = Opcode(rawValue: 0x10)
    public static let route = Opcode(rawValue: 0x11)
    public static let decide = Opcode(rawValue: 0x12)
    public static let report = Opcode(rawValue: 0x13)

    public static let adminStats = Opcode(rawValue: 0x40)
    public static let adminHealth = Opcode(rawValue: 0x41)
    public static let adminSetWeight = Opcode(rawValue: 0x42)
    public static let adminBreaker = Opcode(rawValue: 0x43)
    public static let adminGatewayState = Opcode(rawValue: 0x44)
    public static let adminReload = Opcode(rawValue: 0x45)
    public static let adminMerchant = Opcode(rawValue: 0x46)
    public static let adminExplain = Opcode(rawValue: 0x47)
    public static let adminMerchantStatus = Opcode(rawValue: 0x48)

    /// The admin operations: answered off the event loop, behind the admin token.
    @inlinable public var isAdmin: Bool { rawValue >= 0x40 && rawValue <= 0x48 }

    /// Every opcode protocol v1 defines, implemented or reserved.
    public static let allDefined: [Opcode] = [
        .hello, .ping, .authorize, .route, .decide, .report,
        .adminStats, .adminHealth, .adminSetWeight, .adminBreaker,
        .adminGatewayState, .adminReload, .adminMerchant, .adminExplain, .adminMerchantStatus,
    ]

    public var name: StaticString {
        switch self {
        case .none: "NONE"
        case .hello: "HELLO"
        case .ping: "PING"
        case .authorize: "AUTHORIZE"
        case .route: "ROUTE"
        case .decide: "DECIDE"
        case .report: "REPORT"
        case .adminStats: "ADMIN_STATS"
        case .adminHealth: "ADMIN_HEALTH"
        case .adminSetWeight: "ADMIN_SET_WEIGHT"
        case .adminBreaker: "ADMIN_BREAKER"
        case .adminGatewayState: "ADMIN_GATEWAY_STATE"
        case .adminReload: "ADMIN_RELOAD"
        case .adminMerchant: "ADMIN_MERCHANT"
        case .adminExplain: "ADMIN_EXPLAIN"
        case .adminMerchantStatus: "ADMIN_MERCHANT_STATUS"
        default: "UNKNOWN"
        }
    }

    public var description: String {
        let hex = String(rawValue, radix: 16, uppercase: true)
        return "\(name)(0x\(rawValue < 0x10 ? "0" : "")\(hex))"
    }
}
