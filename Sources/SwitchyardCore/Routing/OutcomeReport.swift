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
