/// The slice of traffic a score is kept for: the method, and the card
/// network, currency and amount band when configuration segments by them.
/// Each part is a small index (0: not segmented by it), packed into one key.
public struct Segment: Hashable, Sendable {
    public let method: UInt8
    public let network: UInt8
    public let currency: UInt8
    public let band: UInt8

    public init(method: UInt8, network: UInt8 = 0, currency: UInt8 = 0, band: UInt8 = 0) {
        self.method = method
        self.network = network
        self.currency = currency
        self.band = band
    }

    public init(key: UInt32) {
        self.init(
            method: UInt8(truncatingIfNeeded: key >> 24), network: UInt8(truncatingIfNeeded: key >> 16),
            currency: UInt8(truncatingIfNeeded: key >> 8), band: UInt8(truncatingIfNeeded: key))
    }

    public var key: UInt32 {
        UInt32(method) << 24 | UInt32(network) << 16 | UInt32(currency) << 8 | UInt32(band)
    }

    /// The parent every segment borrows from: the same method, nothing else.
    public var methodOnly: Segment { Segment(method: method) }
}

/// Where a score is kept: fleet-wide, or for one merchant; always for a segment.
public enum ScoreKey {
    public static func fleet(_ segment: Segment) -> UInt64 { UInt64(segment.key) }

    public static func merchant(_ merchant: Int, _ segment: Segment) -> UInt64 {
        UInt64(merchant + 1) << 32 | UInt64(segment.key)
    }

    /// The merchant index of a key, nil for a fleet key.
    public static func merchantIndex(_ key: UInt64) -> Int? {
        key >> 32 == 0 ? nil : Int(key >> 32) - 1
    }

    public static func segment(_ key: UInt64) -> Segment { Segment(key: UInt32(truncatingIfNeeded: key)) }
}
