/// An admin request (opcodes 0x40-0x47): the admin token, then the
/// operation's fields. Owned: the client builds it, and the server reads it
/// off the event loop, where a copy costs nothing that matters.
public struct AdminRequest: Equatable, Sendable {
    public enum BreakerAction: UInt8, Sendable, CaseIterable {
        case forceOpen = 1
        case forceClosed = 2
        /// Lifts a forced state and starts the breaker afresh, closed.
        case reset = 3
    }

    /// A merchant's status as an override sets it; `configured` lifts the
    /// override (the configuration file's status applies again).
    public enum MerchantStatus: UInt8, Sendable, CaseIterable {
        case configured = 0
        case active = 1
        case suspended = 2
        case disabled = 3
    }

    public enum GatewayState: UInt8, Sendable, CaseIterable {
        case enabled = 1
        /// No new traffic; outcomes of payments already routed are still taken.
        case draining = 2
    }

    public enum Operation: Equatable, Sendable {
        case stats
        case health
        /// The weight in thousandths: 1000 is 1.0.
        case setWeight(gateway: String, thousandths: UInt32)
        /// An empty method means every method of the gateway.
        case breaker(gateway: String, method: String, action: BreakerAction)
        case gatewayState(gateway: String, state: GatewayState)
        case reload
        case merchant(id: String)
        case explain(decisionID: UInt64)
        case merchantStatus(id: String, status: MerchantStatus)
    }

    public var token: String
    public var operation: Operation

    public init(token: String, operation: Operation) {
        self.token = token
        self.operation = operation
    }

    public var opcode: Opcode {
        switch operation {
        case .stats: .adminStats
        case .health: .adminHealth
        case .setWeight: .adminSetWeight
        case .breaker: .adminBreaker
        case .gatewayState: .adminGatewayState
        case .reload: .adminReload
        case .merchant: .adminMerchant
        case .explain: .adminExplain
        case .merchantStatus: .adminMerchantStatus
        }
    }

    public func write(to writer: inout BodyWriter) {
        writer.str16(token)
        switch operation {
        case .stats, .health, .reload: break
        case .setWeight(let gateway, let thousandths):
            writer.str8(gateway)
            writer.u32(thousandths)
        case .breaker(let gateway, let method, let action):
            writer.str8(gateway)
            writer.str8(method)
            writer.u8(action.rawValue)
        case .gatewayState(let gateway, let state):
            writer.str8(gateway)
            writer.u8(state.rawValue)
        case .merchant(let id):
            writer.str8(id)
        case .explain(let decisionID):
            writer.u64(decisionID)
        case .merchantStatus(let id, let status):
            writer.str8(id)
            writer.u8(status.rawValue)
        }
    }

    /// The token at the front of an admin body, without copying; nil when
    /// the body does not start with a str16. The event loop checks it
    /// before anything else is read.
    public static func token(in body: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer? {
        var reader = BodyReader(body)
        let token = reader.str16()
        return reader.failed ? nil : token
    }

    /// Why a body could not be read: the status and a message for people.
    public struct Problem: Error, Equatable, Sendable {
        public let status: Status
        public let message: String
    }

    /// Reads the operation `opcode` names from `body`.
    public init(opcode: Opcode, body: UnsafeRawBufferPointer) throws(Problem) {
        var reader = BodyReader(body)
        let tokenBytes = reader.str16()
        func text(_ bytes: UnsafeRawBufferPointer, _ field: String) throws(Problem) -> String {
            guard let text = bytes.utf8String else {
                throw Problem(status: .malformedBody, message: "\(field) is not UTF-8")
            }
            return text
        }
        let operation: Operation
        switch opcode {
        case .adminStats: operation = .stats
        case .adminHealth: operation = .health
        case .adminReload: operation = .reload
        case .adminSetWeight:
            let gateway = reader.str8()
            operation = .setWeight(gateway: try text(gateway, "gateway"), thousandths: reader.u32())
        case .adminBreaker:
            let gateway = try text(reader.str8(), "gateway")
            let method = try text(reader.str8(), "method")
            let action = reader.u8()
            guard reader.failed || BreakerAction(rawValue: action) != nil else {
                throw Problem(
                    status: .invalidArgument,
                    message: "breaker action \(action) is not 1 (force open), 2 (force closed) or 3 (reset)")
            }
            operation = .breaker(gateway: gateway, method: method, action: BreakerAction(rawValue: action) ?? .reset)
        case .adminGatewayState:
            let gateway = try text(reader.str8(), "gateway")
            let state = reader.u8()
            guard reader.failed || GatewayState(rawValue: state) != nil else {
                throw Problem(
                    status: .invalidArgument, message: "gateway state \(state) is not 1 (enabled) or 2 (draining)")
            }
            operation = .gatewayState(gateway: gateway, state: GatewayState(rawValue: state) ?? .enabled)
        case .adminMerchant:
            operation = .merchant(id: try text(reader.str8(), "merchant_id"))
        case .adminExplain:
            operation = .explain(decisionID: reader.u64())
        case .adminMerchantStatus:
            let id = try text(reader.str8(), "merchant_id")
            let status = reader.u8()
            guard reader.failed || MerchantStatus(rawValue: status) != nil else {
                throw Problem(
                    status: .invalidArgument,
                    message:
                        "merchant status \(status) is not 0 (as configured), 1 (active), 2 (suspended) or 3 (disabled)")
            }
            operation = .merchantStatus(id: id, status: MerchantStatus(rawValue: status) ?? .configured)
        default:
            throw Problem(status: .unknownOpcode, message: "\(opcode.name) is not an admin operation")
        }
        guard reader.isComplete else {
            throw Problem(status: .malformedBody, message: AdminRequest.layout(opcode))
        }
        token = try text(tokenBytes, "admin_token")
        self.operation = operation
    }

    /// The body layout of an admin operation, for MALFORMED_BODY messages.
    public static func layout(_ opcode: Opcode) -> String {
        let fields =
            switch opcode {
            case .adminSetWeight: ", str8 gateway, u32 weight (thousandths)"
            case .adminBreaker: ", str8 gateway, str8 method (empty: all), u8 action"
            case .adminGatewayState: ", str8 gateway, u8 state"
            case .adminMerchant: ", str8 merchant_id"
            case .adminExplain: ", u64 decision_id"
            case .adminMerchantStatus: ", str8 merchant_id, u8 status"
            default: ""
            }
        return "\(opcode.name) body is str16 admin_token\(fields)"
    }
}
