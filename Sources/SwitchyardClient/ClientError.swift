public import SwitchyardPosix
public import SwitchyardWire

/// Why a request got no successful reply.
public enum ClientError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The address could not be parsed.
    case invalidAddress(AddressError)
    /// Connecting failed or timed out.
    case connect(SyscallError)
    /// Reading or writing the socket failed.
    case io(SyscallError)
    /// No reply within the reply timeout.
    case timeout
    /// The server closed the connection without a frame saying why.
    case connectionClosed
    /// The server answered with an error status. `closing` means the server
    /// closes the connection after it.
    case server(status: Status, message: String, closing: Bool)
    /// The server sent bytes that are not a valid reply (a bug on one side).
    case protocolViolation(String)

    public var description: String {
        switch self {
        case .invalidAddress(let error): "\(error)"
        case .connect(let error): "cannot connect: \(error)"
        case .io(let error): "\(error)"
        case .timeout: "no reply within the timeout"
        case .connectionClosed: "the server closed the connection"
        case .server(let status, let message, let closing):
            "server error \(status)\(message.isEmpty ? "" : ": \(message)")\(closing ? " (connection closed)" : "")"
        case .protocolViolation(let what): "protocol violation: \(what)"
        }
    }

    /// True when the connection cannot be used any more and a new one is needed.
    public var isConnectionLost: Bool {
        switch self {
        case .connect, .io, .timeout, .connectionClosed, .protocolViolation: true
        case .server(_, _, let closing): closing
        case .invalidAddress: false
        }
    }
}
