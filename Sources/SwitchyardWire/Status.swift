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
    public static let frameTimeout = Status(rawValue: 12)

    // 100-199: authorization.
    public static let invalidCost = Status(rawValue: 100)
    public static let unsupportedCredential = Status(rawValue: 101)
    public static let invalidCredential = Status(rawValue: 102)

    // 200-299: routing (ROUTE, and the fields REPORT shares with it).
    public static let unknownMerchant = Status(rawValue: 200)
    public static let unknownMethod = Status(rawValue: 201)
    public static let methodNotAllowed = Status(rawValue: 202)
    public static let invalidAmount = Status(rawValue: 203)
    public static let invalidAttempt = Status(rawValue: 204)
    public static let invalidTried = Status(rawValue: 205)
    public static let noGatewayForPayment = Status(rawValue: 206)
    public static let excludedByRules = Status(rawValue: 207)
    public static let allGatewaysTried = Status(rawValue: 208)
    public static let allGatewaysUnhealthy = Status(rawValue: 209)
    public static let unknownCurrency = Status(rawValue: 210)

    // 300-399: reporting.
    public static let unknownGateway = Status(rawValue: 300)
    public static let unknownOutcome = Status(rawValue: 301)
    public static let reportBacklog = Status(rawValue: 302)

    // 400-499: admin operations.
    public static let adminDisabled = Status(rawValue: 400)
    public static let adminTokenRejected = Status(rawValue: 401)
    public static let invalidArgument = Status(rawValue: 402)
    public static let unknownDecision = Status(rawValue: 403)
    public static let changeRefused = Status(rawValue: 404)
    public static let changeUnconfirmed = Status(rawValue: 405)

    /// Every code defined so far, for documentation and tests.
    public static let allDefined: [Status] = [
        .ok, .badMagic, .unsupportedVersion, .frameTooLarge, .invalidHeader, .unknownOpcode,
        .malformedBody, .notImplemented, .tooManyConnections, .idleTimeout, .shuttingDown,
        .internalError, .frameTimeout, .invalidCost, .unsupportedCredential, .invalidCredential, .unknownMerchant,
        .unknownMethod,
        .methodNotAllowed, .invalidAmount, .invalidAttempt,
        .invalidTried, .noGatewayForPayment, .excludedByRules, .allGatewaysTried, .allGatewaysUnhealthy,
        .unknownCurrency, .unknownGateway, .unknownOutcome, .reportBacklog, .adminDisabled, .adminTokenRejected,
        .invalidArgument, .unknownDecision, .changeRefused, .changeUnconfirmed,
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
        case .frameTimeout: "FRAME_TIMEOUT"
        case .invalidCost: "INVALID_COST"
        case .unsupportedCredential: "UNSUPPORTED_CREDENTIAL"
        case .invalidCredential: "INVALID_CREDENTIAL"
        case .unknownMerchant: "UNKNOWN_MERCHANT"
        case .unknownMethod: "UNKNOWN_METHOD"
        case .methodNotAllowed: "METHOD_NOT_ALLOWED"
        case .invalidAmount: "INVALID_AMOUNT"
        case .invalidAttempt: "INVALID_ATTEMPT"
        case .invalidTried: "INVALID_TRIED"
        case .noGatewayForPayment: "NO_GATEWAY_FOR_PAYMENT"
        case .excludedByRules: "EXCLUDED_BY_RULES"
        case .allGatewaysTried: "ALL_GATEWAYS_TRIED"
        case .allGatewaysUnhealthy: "ALL_GATEWAYS_UNHEALTHY"
        case .unknownCurrency: "UNKNOWN_CURRENCY"
        case .unknownGateway: "UNKNOWN_GATEWAY"
        case .unknownOutcome: "UNKNOWN_OUTCOME"
        case .reportBacklog: "REPORT_BACKLOG"
        case .adminDisabled: "ADMIN_DISABLED"
        case .adminTokenRejected: "ADMIN_TOKEN_REJECTED"
        case .invalidArgument: "INVALID_ARGUMENT"
        case .unknownDecision: "UNKNOWN_DECISION"
        case .changeRefused: "CHANGE_REFUSED"
        case .changeUnconfirmed: "CHANGE_UNCONFIRMED"
        default: "UNKNOWN_STATUS"
        }
    }

    public var description: String { "\(name)(\(rawValue))" }
}
