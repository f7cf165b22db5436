/// The bookkeeping behind shared breakers: the transitions this instance
/// made that the fleet has not heard of, and the fleet generation it last
/// saw of each breaker. Pure: the sync thread does the Redis calls.
///
/// Redis keeps one record per breaker (`gateway|method`): a fleet generation,
/// a state (`open` or `closed`) and, when open, until when (Unix
/// milliseconds). An instance proposes its own trip or recovery with the
/// generation it last saw; Redis takes it only if that is still the latest
/// (compare-and-set), so two instances tripping at once make one transition.
/// Every instance adopts any record newer than what it saw.
public struct FleetBreakers: Sendable {
    public struct Record: Equatable, Sendable {
        public var generation: Int64
        public var state: CircuitBreaker.State
        public var openUntilMilliseconds: Int64

        public init(generation: Int64, state: CircuitBreaker.State, openUntilMilliseconds: Int64) {
            self.generation = generation
            self.state = state
            self.openUntilMilliseconds = openUntilMilliseconds
        }

        /// `7|open|1795000000000`; nil for anything else.
        public init?(text: String) {
            let parts = text.split(separator: "|").map(String.init)
            guard parts.count == 3, let generation = Int64(parts[0]), generation > 0,
                let state = CircuitBreaker.State(rawValue: parts[1]), state == .open || state == .closed,
                let until = Int64(parts[2])
            else { return nil }
            self.init(generation: generation, state: state, openUntilMilliseconds: until)
        }
    }

    /// A transition of this instance to propose to the fleet.
    public struct Proposal: Equatable, Sendable {
        public var breaker: String
        /// The fleet generation it follows (0: none seen yet).
        public var after: Int64
        public var state: CircuitBreaker.State
        public var openUntilMilliseconds: Int64
    }

    public private(set) var proposals: [Proposal] = []
    private var seen: [String: Int64] = [:]

    public init() {}

    /// This instance's breaker `breaker` tripped open until then, or closed
    /// after its probes succeeded. Only the latest proposal per breaker is kept.
    public mutating func propose(_ breaker: String, _ state: CircuitBreaker.State, openUntilMilliseconds: Int64) {
        proposals.removeAll { $0.breaker == breaker }
        proposals.append(
            Proposal(
                breaker: breaker, after: seen[breaker] ?? 0, state: state, openUntilMilliseconds: openUntilMilliseconds
            ))
    }

    /// The fleet generation of a breaker's record this instance last saw (0: none).
    public func generation(of breaker: String) -> Int64 { seen[breaker] ?? 0 }

    public mutating func takeProposals() -> [Proposal] {
        defer { proposals = [] }
        return proposals
    }

    /// Redis took a proposal: it is the fleet's record `generation` now.
    public mutating func accepted(_ breaker: String, generation: Int64) {
        seen[breaker] = max(seen[breaker] ?? 0, generation)
    }

    /// The records read from Redis that are newer than what this instance
    /// saw (and marks them seen): the transitions to adopt.
    public mutating func newer(_ records: [String: Record]) -> [(breaker: String, record: Record)] {
        var adopt: [(breaker: String, record: Record)] = []
        for (breaker, record) in records.sorted(by: { $0.key < $1.key })
        where record.generation > (seen[breaker] ?? 0) {
            seen[breaker] = record.generation
            adopt.append((breaker, record))
        }
        return adopt
    }
}
