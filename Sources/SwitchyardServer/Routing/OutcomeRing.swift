import SwitchyardCore
import Synchronization

/// What an event loop hands the merger.
enum RoutingEvent {
    case report(OutcomeReport, tableGeneration: UInt32)
    case probe(breaker: Int, generation: UInt64, tableGeneration: UInt32)
}

/// A single-producer, single-consumer ring: one event loop pushes, the merger
/// pops. No lock and no allocation after creation; head and tail are atomics
/// each written by one side only.
final class OutcomeRing: @unchecked Sendable {
    // Unchecked: `storage` slots are written only by the producer before it
    // publishes them through `tail`, and read only by the consumer after it
    // sees them there.
    private let storage: UnsafeMutablePointer<RoutingEvent>
    private let capacity: Int
    private let head = Atomic<Int>(0)
    private let tail = Atomic<Int>(0)

    init(capacity: Int) {
        self.capacity = capacity
        storage = .allocate(capacity: capacity)
    }

    deinit {
        var index = head.load(ordering: .relaxed)
        let end = tail.load(ordering: .relaxed)
        while index != end {
            (storage + index % capacity).deinitialize(count: 1)
            index += 1
        }
        storage.deallocate()
    }

    /// Room for at least `count` more events (producer side: only the
    /// consumer changes it meanwhile, and only upward).
    func hasRoom(for count: Int) -> Bool {
        tail.load(ordering: .relaxed) - head.load(ordering: .acquiring) + count <= capacity
    }

    /// Producer side. False when the ring is full.
    @discardableResult
    func push(_ event: RoutingEvent) -> Bool {
        let end = tail.load(ordering: .relaxed)
        guard end - head.load(ordering: .acquiring) < capacity else { return false }
        (storage + end % capacity).initialize(to: event)
        tail.store(end + 1, ordering: .releasing)
        return true
    }

    /// Consumer side: hands every event pushed so far to `body`, oldest first.
    func drain(_ body: (RoutingEvent) -> Void) {
        var index = head.load(ordering: .relaxed)
        let end = tail.load(ordering: .acquiring)
        while index != end {
            body((storage + index % capacity).move())
            index += 1
            head.store(index, ordering: .releasing)
        }
    }
}
