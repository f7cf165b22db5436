import SwitchyardCore
import SwitchyardPosix
public import SwitchyardWire

/// One event loop's request metrics: requests by operation and status, and
/// how long each batch of requests stayed in the loop, by operation. The
/// loop alone writes them (a load and a store per counter, no lock, no
/// allocation); `/metrics` reads them from loop 0.
///
/// Latency is measured once per batch, not per request: a loop answers
/// every complete frame of a read and sends the replies with one write, so
/// every request of a batch waits the same time in the loop, from the
/// wake-up that brought it to the write that answers it. One reading of the
/// tick counter (``TickClock``, half the cost of the monotonic clock) per
/// batch then serves all its requests. Only one wake-up in
/// ``timedWakeupInterval`` is timed: with one request per wake-up, two
/// readings of the counter (about 18 ns each on the test VM) would
/// otherwise cost more than every counter together. Sampling by wake-up
/// count does not bias the distribution; the request counters stay exact.
public final class LoopMetrics: @unchecked Sendable {
    // Unchecked: `tally` and `touched` belong to the loop's thread; the
    // counters are atomics.

    /// Operations as metrics label them; admin operations share a slot.
    static let operations = ["hello", "ping", "authorize", "route", "decide", "report", "admin", "other"]
    /// Statuses in the order of `Status.allDefined`; a code outside it counts as `other`.
    static let statuses = Status.allDefined.map { "\($0.name)" } + ["OTHER"]
    /// Histogram bucket upper bounds, in nanoseconds (the last bucket, +Inf, follows).
    static let bucketBounds: [UInt64] = [
        1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 500_000, 1_000_000, 2_500_000, 5_000_000,
        10_000_000, 25_000_000, 100_000_000,
    ]
    static var buckets: Int { bucketBounds.count + 1 }
    /// One wake-up in this many is timed for the histograms (a power of two).
    public static let timedWakeupInterval: UInt64 = 4

    /// [operation × status]
    let requests = AtomicSlots(count: operations.count * statuses.count)
    /// [operation × bucket], and per operation the sum of latencies (ticks).
    let latency = AtomicSlots(count: operations.count * buckets)
    let latencySum = AtomicSlots(count: operations.count)

    /// `statuses.count`, kept here: a static array is a lazy global, checked at every use.
    private let statusCount = statuses.count
    /// Status code → its slot in `statuses`, for every code below 512.
    private let statusSlot: UnsafeMutablePointer<UInt8>
    /// `bucketBounds` in ticks, in memory of its own for the same reason.
    private let bounds: UnsafeMutablePointer<UInt64>
    /// The tick counter's rate, for the scrape.
    let nanosecondsPerTick = TickClock.nanosecondsPerTick
    private let boundCount = bucketBounds.count
    /// Requests of the current batch per operation, and which operations it had (bits).
    private let tally: UnsafeMutablePointer<UInt64>
    private var touched: UInt32 = 0

    public init() {
        statusSlot = .allocate(capacity: 512)
        statusSlot.initialize(repeating: UInt8(Self.statuses.count - 1), count: 512)
        for (slot, status) in Status.allDefined.enumerated() where status.rawValue < 512 {
            statusSlot[Int(status.rawValue)] = UInt8(slot)
        }
        tally = .allocate(capacity: Self.operations.count)
        tally.initialize(repeating: 0, count: Self.operations.count)
        bounds = .allocate(capacity: Self.bucketBounds.count)
        bounds.initialize(
            from: Self.bucketBounds.map { UInt64(Double($0) / TickClock.nanosecondsPerTick) },
            count: Self.bucketBounds.count)
    }

    deinit {
        statusSlot.deallocate()
        tally.deallocate()
        bounds.deallocate()
    }

    @inline(__always)
    static func operationSlot(_ opcode: Opcode) -> Int {
        switch opcode.rawValue {
        case 0x01: 0
        case 0x02: 1
        case 0x10: 2
        case 0x11: 3
        case 0x12: 4
        case 0x13: 5
        case 0x40...0x48: 6
        default: 7
        }
    }

    /// Counts one answered request, whose reply starts at `reply` (its
    /// status is read back from the reply header, so no handler has to
    /// report it).
    @inline(__always)
    public func count(_ opcode: Opcode, reply: UnsafeRawPointer) {
        let status = Int(reply.loadUnaligned(fromByteOffset: 6, as: UInt16.self).littleEndian)
        let operation = Self.operationSlot(opcode)
        requests.add(operation * statusCount + Int(statusSlot[min(status, 511)]))
        tally[operation] &+= 1
        touched |= 1 << UInt32(operation)
    }

    /// The batch's replies went out `elapsed` ticks (``TickClock``) after the
    /// wake-up that brought its requests: every request of the batch waited
    /// that long. Nil for a wake-up that was not timed.
    public func closeBatch(elapsed: UInt64?) {
        guard touched != 0 else { return }
        guard let elapsed else {
            var bits = touched
            while bits != 0 {
                tally[bits.trailingZeroBitCount] = 0
                bits &= bits - 1
            }
            touched = 0
            return
        }
        var bucket = 0
        while bucket < boundCount && elapsed > bounds[bucket] { bucket += 1 }
        var bits = touched
        while bits != 0 {
            let operation = bits.trailingZeroBitCount
            bits &= bits - 1
            latency.add(operation * (boundCount + 1) + bucket, tally[operation])
            latencySum.add(operation, elapsed &* tally[operation])
            tally[operation] = 0
        }
        touched = 0
    }

    /// A request answered off the loop (an admin operation), with its own latency.
    func countAnsweredElsewhere(_ opcode: Opcode, reply: UnsafeRawPointer, elapsed: UInt64) {
        count(opcode, reply: reply)
        closeBatch(elapsed: elapsed)
    }
}
