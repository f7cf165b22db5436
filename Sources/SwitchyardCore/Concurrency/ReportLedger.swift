/// Remembers which (merchant, payment, attempt) have been reported, so a
/// repeated REPORT changes nothing. Shared by every event loop without a
/// lock, fixed in size, allocation-free after creation.
///
/// Each slot is one 64-bit word: a 40-bit fingerprint of the key and the
/// second (24 bits, wrapping) it was recorded in. A slot older than the
/// window is free again, so memory never grows. Keys probe a run of 16 slots
/// (two cache lines); an insert claims the first free one with a
/// compare-and-swap and rescans when it loses a race, so two loops reporting
/// the same attempt at once see one `recorded` and one `duplicate`.
///
/// Two different keys are confused only when their fingerprints and probe
/// runs coincide: about 16 in 2^40 per lookup. When all 16 slots of a run
/// are live the report is still counted but cannot be remembered
/// (`unremembered`); size the capacity for the window's report volume.
public struct ReportLedger: Sendable {
    private let slots: AtomicSlots
    private let mask: Int
    private let windowSeconds: UInt64

    public enum Result: Equatable, Sendable { case recorded, duplicate, unremembered }

    static let probeLength = 16
    static let secondBits: UInt64 = 24
    static let secondMask: UInt64 = (1 << secondBits) - 1

    /// `capacity` is rounded up to a power of two.
    public init(capacity: Int, windowSeconds: Int) {
        var size = 1_024
        while size < capacity { size *= 2 }
        slots = AtomicSlots(count: size)
        mask = size - 1
        self.windowSeconds = UInt64(min(windowSeconds, Int(ReportLedger.secondMask / 2)))
    }

    /// Records `hash` (see ``hash(merchant:payment:attempt:)``) at `second`
    /// (any clock counting seconds), unless it was recorded within the window.
    public func record(_ hash: UInt64, second: UInt64) -> Result {
        // Fingerprint 0 would read as an empty slot.
        let fingerprint = max(hash >> ReportLedger.secondBits, 1)
        let stamp = second & ReportLedger.secondMask
        let word = fingerprint << ReportLedger.secondBits | stamp
        let start = Int(truncatingIfNeeded: hash) & mask
        for _ in 0..<4 {
            var free: (index: Int, value: UInt64)?
            for i in 0..<ReportLedger.probeLength {
                let index = (start + i) & mask
                let value = slots.load(index)
                let live = value != 0 && (stamp &- value) & ReportLedger.secondMask < windowSeconds
                if live, value >> ReportLedger.secondBits == fingerprint { return .duplicate }
                if !live, free == nil { free = (index, value) }
            }
            guard let free else { return .unremembered }
            if slots.compareExchange(free.index, expected: free.value, desired: word) { return .recorded }
        }
        return .unremembered
    }

    /// The key of one attempt: a hash of the payment id seeded with the
    /// merchant and the attempt.
    public static func hash(merchant: Int, payment: UnsafeRawBufferPointer, attempt: UInt8) -> UInt64 {
        let seed = Hashing.seed ^ UInt64(truncatingIfNeeded: merchant) &* 0x9E37_79B9_7F4A_7C15 ^ UInt64(attempt) << 56
        return Hashing.bytes(payment, seed: seed)
    }
}
