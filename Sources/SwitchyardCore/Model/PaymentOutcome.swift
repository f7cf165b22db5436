/// What happened to one payment attempt at a gateway. Only gateway errors and
/// timeouts are the gateway's fault: they alone count against its score and
/// its breaker. A decline by the customer or the issuer (insufficient funds,
/// wrong OTP) says nothing about the gateway and is only counted.
public enum PaymentOutcome: UInt8, Sendable, CaseIterable {
    case success = 1
    case declined = 2
    case gatewayError = 3
    case timeout = 4

    /// The outcome in snake case, as metrics labels and admin replies show it.
    public var name: String {
        switch self {
        case .success: "success"
        case .declined: "declined"
        case .gatewayError: "gateway_error"
        case .timeout: "timeout"
        }
    }

    /// For scores and breakers: true for success, false for the gateway's
    /// failures, nil for a decline (neutral).
    public var attributableSuccess: Bool? {
        switch self {
        case .success: true
        case .declined: nil
        case .gatewayError, .timeout: false
        }
    }
}
