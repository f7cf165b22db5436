/// What the routing state has counted, for metrics and tests.
public struct RoutingCounters: Sendable, Equatable {
    /// Reports by outcome (indexed by `PaymentOutcome.rawValue`).
    public var reports = [UInt64](repeating: 0, count: 5)
    /// Reports of decisions this instance did not make.
    public var unknownDecisions: UInt64 = 0
    /// Reports a breaker ignored because its state changed after the decision.
    public var staleForBreaker: UInt64 = 0
    public var breakerTransitions: UInt64 = 0
    public var probesGranted: UInt64 = 0
    /// Outcomes other instances saw, folded in from Redis.
    public var fleetOutcomes: UInt64 = 0

    public init() {}
}
