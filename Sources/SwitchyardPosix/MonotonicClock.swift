import CLinux
import Glibc

/// Nanoseconds since an arbitrary start, never going backwards. Read through
/// the vDSO: no system call.
public enum MonotonicClock {

    public static func nanoseconds() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
    }
}

/// The calendar time in Unix seconds (for key expiry; never for measuring
/// intervals, which it may jump across). Also read through the vDSO.
public enum WallClock {
    public static func seconds() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec)
    }

    public static func nanoseconds() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
    }

    public static func milliseconds() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1_000 + Int64(ts.tv_nsec) / 1_000_000
    }
}

/// Ticks of a counter cheaper to read than ``MonotonicClock`` (the CPU's
/// time-stamp counter on x86-64), for timing short intervals on one thread,
/// such as a batch of requests for the latency histograms.
public enum TickClock {
    @inline(__always)
    public static func now() -> UInt64 { clinux_ticks() }

    /// Nanoseconds per tick, measured once against the monotonic clock over 10 ms.
    public static let nanosecondsPerTick: Double = {
        let (startNanoseconds, startTicks) = (MonotonicClock.nanoseconds(), clinux_ticks())
        var pause = timespec(tv_sec: 0, tv_nsec: 10_000_000)
        var left = timespec()
        while nanosleep(&pause, &left) != 0 { pause = left }
        let (endNanoseconds, endTicks) = (MonotonicClock.nanoseconds(), clinux_ticks())
        guard endTicks > startTicks else { return 1 }
        return Double(endNanoseconds - startNanoseconds) / Double(endTicks - startTicks)
    }()
}
