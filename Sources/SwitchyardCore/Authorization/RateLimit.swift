/// One rate limit: `rate` requests per `period`, with `burst` more allowed
/// at once. In any interval of length t it admits at most
/// floor(t / T) + burst + 1 units, where T = period / rate (the emission
/// interval) — the promise GCRA keeps exactly.
public struct RateLimit: Equatable, Sendable {
    public var rate: Int
    public var periodNanoseconds: UInt64
    public var burst: Int

    public init(rate: Int, periodNanoseconds: UInt64, burst: Int) {
        self.rate = rate
        self.periodNanoseconds = periodNanoseconds
        self.burst = burst
    }

    /// T: the time one unit of the limit stands for, in nanoseconds.
    public var emissionInterval: UInt64 { periodNanoseconds / UInt64(max(rate, 1)) }

    /// How far ahead of now the theoretical arrival time may run: τ + T.
    public var horizon: UInt64 { emissionInterval &* UInt64(burst + 1) }
}
