/// A request's labels as routing rules see them, in one word: a byte per
/// label key the rules name (``RuleTable/maxLabelKeys``), holding the
/// value's index among those the rules name, plus one (0: the request
/// does not carry the label). Copied with the query, compared in a cycle.
public struct RuleLabels: Equatable, Sendable {
    public private(set) var packed: UInt64 = 0

    public init() {}

    /// Labels as ``packed`` held them (a decision's record).
    public init(packed: UInt64) { self.packed = packed }

    /// The value index of key `k`: -1 absent, 0..<64 a value some rule
    /// names, ``RuleTable/unnamed`` one none does.
    @inline(__always)
    public func value(at k: Int) -> Int {
        Int(truncatingIfNeeded: (packed >> UInt64(k * 8)) & 0xFF) - 1
    }

    mutating func set(_ k: Int, _ value: Int) {
        let shift = UInt64(k * 8)
        packed = packed & ~(0xFF << shift) | UInt64(value + 1) << shift
    }
}
