import SwitchyardCore
import Synchronization

/// The last decisions of one event loop, for `ADMIN_EXPLAIN`: a ring of
/// fixed-size records indexed by the decision id's sequence, so a lookup is
/// one slot and recording allocates nothing. The loop writes with relaxed
/// atomic stores and no lock; the admin thread reads a record between two
/// reads of its id word, which the loop clears before rewriting the slot,
/// so a record overwritten meanwhile reads as no longer remembered.
final class DecisionLog: Sendable {
    /// Decisions remembered per loop (a power of two dividing 2^18, the id's sequence range).
    static let capacity = 4_096
    /// Failover entries kept per decision; the list's length is kept too.
    static let maxEntries = 8
    /// Words per record: id, versions, query, segment and draw, amount,
    /// tried, time, list length, the rules' labels, then two per entry.
    private static let words = entriesStart + 2 * maxEntries
    private static let entriesStart = 9
    private let slots = AtomicSlots(count: capacity * words)

    /// What a decision was, as recorded.
    struct Record {
        var snapshotVersion: UInt32
        var tableGeneration: UInt32
        var merchant: Int
        var method: Int
        var currency: Int?
        var segment: Segment
        var firstProbability: Double
        var amount: UInt64
        var tried: UInt64
        /// The loop's monotonic clock when it decided.
        var at: UInt64
        /// How long the failover list was (at most ``maxEntries`` are kept).
        var listLength: Int
        var entries: [(gateway: Int, reason: RouteReason, successRate: Double, score: Double)]
        /// The routing rule followed (nil: none), and what rules read that the fields above do not.
        var rule: Int?
        var attempt: Int
        var ruleNetwork: Int
        var ruleLabels: RuleLabels
    }

    /// Starts the record of decision `id`, made for `query` on the snapshot
    /// of `snapshotVersion`, with a failover list of `listLength` entries;
    /// ``entry(_:of:_:)`` adds them and ``finish(_:)`` publishes it. In three
    /// calls because the caller reads the decision in place: a copy of it
    /// would retain its arrays.
    func begin(
        _ id: UInt64, query: RouteQuery, firstProbability: Double, listLength: Int, rule: Int,
        snapshotVersion: UInt32, tableGeneration: UInt32, at now: UInt64
    ) {
        let base = Int(id & UInt64(DecisionLog.capacity - 1)) &* DecisionLog.words
        slots.set(base, 0)
        atomicMemoryFence(ordering: .releasing)
        slots.set(base + 1, UInt64(snapshotVersion) << 32 | UInt64(tableGeneration))
        slots.set(
            base + 2,
            UInt64(UInt32(truncatingIfNeeded: query.merchant)) << 32 | UInt64(UInt8(truncatingIfNeeded: query.method))
                << 16 | UInt64(query.currency.map { UInt16(truncatingIfNeeded: $0) } ?? UInt16.max))
        slots.set(base + 3, UInt64(query.segment.key) << 32 | UInt64(Float(firstProbability).bitPattern))
        slots.set(base + 4, query.amount)
        slots.set(base + 5, query.tried)
        slots.set(base + 6, now)
        // The list's length, the rule (+1), the attempt and the rules' network index (+1), packed.
        slots.set(
            base + 7,
            UInt64(min(listLength, 255)) | UInt64(UInt16(truncatingIfNeeded: rule + 1)) << 8
                | UInt64(UInt8(truncatingIfNeeded: query.attempt)) << 24
                | UInt64(UInt16(truncatingIfNeeded: query.ruleNetwork + 1)) << 32)
        slots.set(base + 8, query.ruleLabels.packed)
    }

    /// Entry `index` of decision `id`'s list (those past ``maxEntries`` are not kept).
    @inline(__always)
    func entry(_ index: Int, of id: UInt64, _ entry: RouteEntry) {
        guard index < DecisionLog.maxEntries else { return }
        let base =
            Int(id & UInt64(DecisionLog.capacity - 1)) &* DecisionLog.words + DecisionLog.entriesStart + 2 * index
        slots.set(base, UInt64(UInt32(truncatingIfNeeded: entry.gateway)) << 16 | UInt64(entry.reason.rawValue))
        slots.set(base + 1, UInt64(Float(entry.successRate).bitPattern) << 32 | UInt64(Float(entry.score).bitPattern))
    }

    /// Publishes decision `id`'s record to readers.
    func finish(_ id: UInt64) {
        slots.store(Int(id & UInt64(DecisionLog.capacity - 1)) &* DecisionLog.words, id)
    }

    /// The record of decision `id`, or nil when it was overwritten by a
    /// later decision (or never made by this loop).
    func lookup(_ id: UInt64) -> Record? {
        let base = Int(id & UInt64(DecisionLog.capacity - 1)) * DecisionLog.words
        guard id != 0, slots.load(base) == id else { return nil }
        let versions = slots.value(base + 1)
        let query = slots.value(base + 2)
        let segment = slots.value(base + 3)
        let packed = slots.value(base + 7)
        let listLength = Int(UInt8(truncatingIfNeeded: packed))
        let rule = Int(UInt16(truncatingIfNeeded: packed >> 8)) - 1
        var entries: [(gateway: Int, reason: RouteReason, successRate: Double, score: Double)] = []
        for i in 0..<min(listLength, DecisionLog.maxEntries) {
            let head = slots.value(base + DecisionLog.entriesStart + 2 * i)
            let figures = slots.value(base + DecisionLog.entriesStart + 1 + 2 * i)
            entries.append(
                (
                    Int(head >> 16), RouteReason(rawValue: UInt16(truncatingIfNeeded: head)) ?? .failover,
                    Double(Float(bitPattern: UInt32(truncatingIfNeeded: figures >> 32))),
                    Double(Float(bitPattern: UInt32(truncatingIfNeeded: figures)))
                ))
        }
        let record = Record(
            snapshotVersion: UInt32(truncatingIfNeeded: versions >> 32),
            tableGeneration: UInt32(truncatingIfNeeded: versions),
            merchant: Int(query >> 32), method: Int(UInt8(truncatingIfNeeded: query >> 16)),
            currency: UInt16(truncatingIfNeeded: query) == UInt16.max ? nil : Int(UInt16(truncatingIfNeeded: query)),
            segment: Segment(key: UInt32(truncatingIfNeeded: segment >> 32)),
            firstProbability: Double(Float(bitPattern: UInt32(truncatingIfNeeded: segment))),
            amount: slots.value(base + 4), tried: slots.value(base + 5), at: slots.value(base + 6),
            listLength: listLength, entries: entries, rule: rule < 0 ? nil : rule,
            attempt: Int(UInt8(truncatingIfNeeded: packed >> 24)),
            ruleNetwork: Int(UInt16(truncatingIfNeeded: packed >> 32)) - 1,
            ruleLabels: RuleLabels(packed: slots.value(base + 8)))
        // A slot rewritten while it was read has another id (or 0) by now.
        atomicMemoryFence(ordering: .acquiring)
        return slots.value(base) == id ? record : nil
    }
}
