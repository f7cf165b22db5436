/// One reported outcome, as the event loops hand it to the merger: indices
/// into the ``RoutingTable`` the report was validated against.
public struct OutcomeReport: Sendable, Equatable {
    public var gateway: Int
    public var merchant: Int
    public var segment: Segment
    public var outcome: PaymentOutcome
    public var latencyMilliseconds: UInt32
    /// The snapshot version the decision was made on; nil when this instance
    /// did not make the decision (another instance, a restart, no id).
    public var decisionVersion: UInt32?

    public init(
        gateway: Int, merchant: Int, segment: Segment, outcome: PaymentOutcome, latencyMilliseconds: UInt32,
        decisionVersion: UInt32?
    ) {
        self.gateway = gateway
        self.merchant = merchant
        self.segment = segment
        self.outcome = outcome
        self.latencyMilliseconds = latencyMilliseconds
        self.decisionVersion = decisionVersion
    }
}

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

    public init() {}
}
