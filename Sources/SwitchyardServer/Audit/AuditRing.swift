import Synchronization

/// One loop's records on their way to the audit writer: bytes in a ring,
/// one producer (the loop) and one consumer (the writer thread), no lock.
/// A record goes in whole or not at all; one that finds no room is
/// dropped and counted, so the loop never waits on the disk.
final class AuditRing: Sendable {
    // The storage is written by the producer only between `tail` and
    // `head + capacity`, and read by the consumer only between `head` and
    // `tail`: the atomics order every access.
    private nonisolated(unsafe) let storage: UnsafeMutableRawPointer
    let capacity: Int
    /// Bytes taken by the consumer, and put by the producer, since the start.
    private let head = Atomic<Int>(0)
    private let tail = Atomic<Int>(0)
    /// Records the producer found no room for.
    private let droppedRecords = Atomic<Int>(0)

    init(capacity: Int) {
        self.capacity = capacity
        storage = .allocate(byteCount: capacity, alignment: 64)
    }

    deinit { storage.deallocate() }

    var dropped: Int { droppedRecords.load(ordering: .relaxed) }

    /// Counts a record the producer could not even put together.
    func countDropped() { droppedRecords.add(1, ordering: .relaxed) }

    /// Producer side.
    @discardableResult
    func append(_ record: UnsafeRawBufferPointer) -> Bool {
        let end = tail.load(ordering: .relaxed)
        guard end - head.load(ordering: .acquiring) + record.count <= capacity, let source = record.baseAddress else {
            droppedRecords.add(1, ordering: .relaxed)
            return false
        }
        let offset = end % capacity
        let first = min(record.count, capacity - offset)
        (storage + offset).copyMemory(from: source, byteCount: first)
        if first < record.count { storage.copyMemory(from: source + first, byteCount: record.count - first) }
        tail.store(end + record.count, ordering: .releasing)
        return true
    }

    /// Consumer side: what is waiting, as one or two spans (the second when
    /// it wraps), and the position to pass to ``release(to:)`` once written.
    func waiting() -> (UnsafeRawBufferPointer, UnsafeRawBufferPointer, end: Int) {
        let start = head.load(ordering: .relaxed)
        let end = tail.load(ordering: .acquiring)
        let offset = start % capacity
        let first = min(end - start, capacity - offset)
        return (
            UnsafeRawBufferPointer(start: storage + offset, count: first),
            UnsafeRawBufferPointer(start: storage, count: end - start - first), end
        )
    }

    /// Consumer side: frees what ``waiting()`` showed, up to `end`.
    func release(to end: Int) { head.store(end, ordering: .releasing) }
}
