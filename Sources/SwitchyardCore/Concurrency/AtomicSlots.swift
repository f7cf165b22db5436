public import Synchronization

/// A fixed array of 64-bit atomics, shared by threads without a lock: the
/// probe tickets of half-open breakers and the report ledger are made of it.
public final class AtomicSlots: @unchecked Sendable {
    // Unchecked: every access goes through an Atomic.
    @usableFromInline let base: UnsafeMutablePointer<Atomic<UInt64>>
    public let count: Int

    public init(count: Int) {
        self.count = count
        base = .allocate(capacity: max(count, 1))
        for i in 0..<count { (base + i).initialize(to: Atomic(0)) }
    }

    deinit {
        base.deinitialize(count: count)
        base.deallocate()
    }

    public func load(_ index: Int) -> UInt64 {
        precondition(index >= 0 && index < count)
        return base[index].load(ordering: .acquiring)
    }

    public func store(_ index: Int, _ value: UInt64) {
        precondition(index >= 0 && index < count)
        base[index].store(value, ordering: .releasing)
    }

    /// Adds `amount` to a slot that only the calling thread writes (a
    /// counter of one event loop): a load and a store, no locked
    /// read-modify-write, so readers on other threads see a total that is
    /// at most one write behind.
    @inlinable
    public func add(_ index: Int, _ amount: UInt64 = 1) {
        precondition(index >= 0 && index < count)
        base[index].store(base[index].load(ordering: .relaxed) &+ amount, ordering: .relaxed)
    }

    /// Stores into a slot with no ordering against other memory (fields of a
    /// record whose publication is ordered by another slot).
    @inlinable
    public func set(_ index: Int, _ value: UInt64) {
        precondition(index >= 0 && index < count)
        base[index].store(value, ordering: .relaxed)
    }

    /// A slot's value, with no ordering against other memory (for metrics).
    public func value(_ index: Int) -> UInt64 {
        precondition(index >= 0 && index < count)
        return base[index].load(ordering: .relaxed)
    }

    /// Replaces `expected` with `desired`; false when the slot held something else.
    public func compareExchange(_ index: Int, expected: UInt64, desired: UInt64) -> Bool {
        precondition(index >= 0 && index < count)
        return base[index].compareExchange(expected: expected, desired: desired, ordering: .acquiringAndReleasing)
            .exchanged
    }
}
