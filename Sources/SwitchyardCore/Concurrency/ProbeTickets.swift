/// The half-open probe budget of every breaker, shared by all event loops
/// without a lock. A slot holds the breaker generation it belongs to and the
/// probes left; a loop claims one with a compare-and-swap that succeeds only
/// for the generation its snapshot shows, so a budget can never be spent
/// twice, nor spent on a breaker that has moved on.
public struct ProbeTickets: Sendable {
    private let slots: AtomicSlots
    private static let countBits: UInt64 = 16

    public init(breakers: Int) { slots = AtomicSlots(count: breakers) }

    /// Opens a budget of `probes` for a breaker that entered half-open in `generation`.
    public func open(_ breaker: Int, generation: UInt64, probes: Int) {
        slots.store(breaker, generation << ProbeTickets.countBits | UInt64(probes))
    }

    /// Ends the budget of a breaker that left half-open.
    public func close(_ breaker: Int) { slots.store(breaker, 0) }

    /// Takes one probe of `generation`'s budget; false when none is left.
    public func claim(_ breaker: Int, generation: UInt64) -> Bool {
        while true {
            let value = slots.load(breaker)
            let left = value & (1 << ProbeTickets.countBits - 1)
            guard value >> ProbeTickets.countBits == generation, left > 0 else { return false }
            if slots.compareExchange(breaker, expected: value, desired: value - 1) { return true }
        }
    }

    /// Probes left for `generation` (0 when the budget belongs to another).
    public func remaining(_ breaker: Int, generation: UInt64) -> Int {
        let value = slots.load(breaker)
        return value >> ProbeTickets.countBits == generation ? Int(value & (1 << ProbeTickets.countBits - 1)) : 0
    }
}
