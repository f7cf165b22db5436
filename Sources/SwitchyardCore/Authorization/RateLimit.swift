/// One rate limit: `rate` requests per `period`, with `burst` more allowed
/// at once. In any interval of length t it admits at most
/// floor(t / T) + burst + 1 units, where T = period / rate (the emission
/// interval) — the promise GCRA keeps exactly.
public struct RateLimit: Hashable, Sendable {
    public let rate: Int
    public let periodNanoseconds: UInt64
    public let burst: Int
    /// T: the time one unit of the limit stands for, in nanoseconds.
    /// Stored, like `horizon`: every check needs both, and a division is
    /// the dearest instruction in one.
    public let emissionInterval: UInt64
    /// How far ahead of now the theoretical arrival time may run: τ + T.
    public let horizon: UInt64

    public init(rate: Int, periodNanoseconds: UInt64, burst: Int) {
        self.rate = rate
        self.periodNanoseconds = periodNanoseconds
        self.burst = burst
        emissionInterval = periodNanoseconds / UInt64(max(rate, 1))
        horizon = emissionInterval &* UInt64(burst + 1)
    }
}
