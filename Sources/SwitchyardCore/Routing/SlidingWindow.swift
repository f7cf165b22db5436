/// Calls and failures over the last N seconds, in one-second buckets that are
/// cleared as time moves past them (subtract-on-evict, as resilience4j's
/// time-based window). Fixed size: recording never allocates.
struct SlidingWindow: Equatable, Sendable {
    private var calls: [Int]
    private var failures: [Int]
    /// The second (of the injected clock) the newest bucket stands for.
    private var newestSecond: UInt64 = 0
    private(set) var totalCalls = 0
    private(set) var totalFailures = 0

    init(seconds: Int) {
        calls = Array(repeating: 0, count: max(1, seconds))
        failures = Array(repeating: 0, count: max(1, seconds))
    }

    mutating func record(failure: Bool, at now: UInt64) {
        advance(to: now)
        let index = Int(newestSecond % UInt64(calls.count))
        calls[index] += 1
        totalCalls += 1
        if failure {
            failures[index] += 1
            totalFailures += 1
        }
    }

    /// Failure percentage over the window, or nil below `minimumCalls`.
    mutating func failureRate(at now: UInt64, minimumCalls: Int) -> Int? {
        advance(to: now)
        guard totalCalls >= minimumCalls, totalCalls > 0 else { return nil }
        return totalFailures * 100 / totalCalls
    }

    /// Calls over the window as of `now`.
    mutating func calls(at now: UInt64) -> Int {
        advance(to: now)
        return totalCalls
    }

    mutating func clear() {
        for i in calls.indices {
            calls[i] = 0
            failures[i] = 0
        }
        totalCalls = 0
        totalFailures = 0
    }

    private mutating func advance(to now: UInt64) {
        let second = now / 1_000_000_000
        guard second > newestSecond else { return }
        let steps = min(second - newestSecond, UInt64(calls.count))
        for step in 1...steps {
            let index = Int((newestSecond + step) % UInt64(calls.count))
            totalCalls -= calls[index]
            totalFailures -= failures[index]
            calls[index] = 0
            failures[index] = 0
        }
        newestSecond = second
    }
}
