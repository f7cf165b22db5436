import Histogram
import SwitchyardClient
import SwitchyardPosix

/// A closed-loop run: every connection keeps one batch of `depth` requests
/// in flight; when the whole batch is answered it sends the next. That is
/// redis-benchmark's meaning of -P, so the two tools' figures compare.
struct LoadRun {
    struct Settings {
        var connections: Int
        var depth: Int
        var seconds: Double
        var warmupSeconds: Double
        var maxRequests: Int
        var progress: Bool
    }

    struct Result {
        var requests = 0
        var errors = 0
        /// AUTHORIZE or DECIDE replies that refused.
        var refused = 0
        var elapsedSeconds = 0.0
        var histogram = Histogram<UInt64>(highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: .three)
        var throughput: Double { elapsedSeconds > 0 ? Double(requests) / elapsedSeconds : 0 }
    }

    let settings: Settings

    func run(_ connections: [LoadConnection]) throws -> Result {
        let epoll = try Epoll(capacity: max(64, connections.count))
        var outstanding = [Int](repeating: 0, count: connections.count)
        var batchStart = [UInt64](repeating: 0, count: connections.count)
        var blockedOnWrite = [Bool](repeating: false, count: connections.count)

        let start = MonotonicClock.nanoseconds()
        let warmupEnd = start + UInt64(settings.warmupSeconds * 1e9)
        let end = warmupEnd + UInt64(settings.seconds * 1e9)
        var measuring = settings.warmupSeconds == 0
        var result = Result()
        var measuredStart = start
        var nextProgress = start + 1_000_000_000
        var lastProgressRequests = 0

        for (index, connection) in connections.enumerated() {
            try epoll.add(connection.fd, interest: .read, token: UInt64(index))
            batchStart[index] = MonotonicClock.nanoseconds()
            outstanding[index] = settings.depth
            if try !connection.sendBatch(settings.depth) {
                blockedOnWrite[index] = true
                try epoll.modify(connection.fd, interest: [.read, .write], token: UInt64(index))
            }
        }

        var stopping = false
        while true {
            let ready = try epoll.wait(timeoutMilliseconds: 100)
            let now = MonotonicClock.nanoseconds()
            if !measuring && now >= warmupEnd {
                measuring = true
                measuredStart = now
                result = Result()
            }
            for i in 0..<ready {
                let (token, interest) = epoll.event(at: i)
                let index = Int(token)
                let connection = connections[index]
                if interest.contains(.write), blockedOnWrite[index], try connection.writeQueued() {
                    blockedOnWrite[index] = false
                    try epoll.modify(connection.fd, interest: .read, token: token)
                }
                guard !interest.isDisjoint(with: [.read, .failed]) else { continue }
                let (replies, errors, refused) = try connection.readReplies()
                guard replies > 0 else { continue }
                outstanding[index] -= replies
                if measuring {
                    let latency = now - batchStart[index]
                    _ = result.histogram.record(latency, count: UInt64(replies))
                    result.requests += replies
                    result.errors += errors
                    result.refused += refused
                }
                if outstanding[index] == 0 && !stopping {
                    batchStart[index] = now
                    outstanding[index] = settings.depth
                    if try !connection.sendBatch(settings.depth) {
                        blockedOnWrite[index] = true
                        try epoll.modify(connection.fd, interest: [.read, .write], token: token)
                    }
                }
            }
            if settings.progress && now >= nextProgress {
                let rate = result.requests - lastProgressRequests
                lastProgressRequests = result.requests
                let phase = measuring ? "" : " (warm-up)"
                let p50 = Double(result.histogram.valueAtPercentile(50)) / 1_000
                let p99 = Double(result.histogram.valueAtPercentile(99)) / 1_000
                FileOutput.standardError(
                    "\r\u{1B}[K  \(Int((now - start) / 1_000_000_000))s  \(rate) req/s  p50 \(format(p50)) us  p99 \(format(p99)) us\(phase)"
                )
                nextProgress += 1_000_000_000
            }
            if !stopping && (now >= end || (settings.maxRequests > 0 && result.requests >= settings.maxRequests)) {
                stopping = true
                result.elapsedSeconds = Double(now - measuredStart) / 1e9
            }
            // Let the batches in flight land so no connection is cut mid-reply.
            if stopping && (outstanding.allSatisfy { $0 == 0 } || now >= end + 2_000_000_000) { break }
        }
        if settings.progress { FileOutput.standardError("\r\u{1B}[K") }
        return result
    }
}

func format(_ value: Double) -> String {
    let rounded = (value * 10).rounded() / 10
    return String(rounded)
}
