import Glibc
import Histogram
import SwitchyardClient
import SwitchyardCore
import SwitchyardPosix

/// One run of the load generator, in one of two modes.
///
/// Closed loop: every connection keeps one batch of `depth` requests in
/// flight and sends the next when the whole batch is answered: that is
/// redis-benchmark's meaning of -P, so the two tools' figures compare. It
/// finds the throughput a server sustains, but its latency is the latency
/// of a client that waits, never of arrivals that do not.
///
/// Open loop: requests arrive at a fixed rate, spread over the connections
/// in turn, whatever the server does (wrk2's model). Each request's latency
/// counts from the moment it was meant to be sent, not from when it was
/// written, so a server that stalls is charged for every request that
/// queued behind the stall: the correction for coordinated omission.
struct LoadRun {
    enum Mode {
        case closed(depth: Int)
        /// `rate` requests a second; `poisson` draws exponential gaps
        /// between arrivals instead of even ones.
        case open(rate: Double, poisson: Bool)
    }

    struct Settings {
        var mode: Mode
        var seconds: Double
        var warmupSeconds: Double
        var maxRequests: Int
        var progress: Bool
        var seed: UInt64
    }

    /// The figures of one operation (or of all).
    struct Tally {
        var requests = 0
        var errors = 0
        var errorsByStatus: [UInt16: Int] = [:]
        var refused = 0
        var histogram = Histogram<UInt64>(highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: .three)

        mutating func count(_ verdict: Verdict) {
            requests += 1
            switch verdict {
            case .answered: break
            case .refused: refused += 1
            case .error(let status):
                errors += 1
                errorsByStatus[status, default: 0] += 1
            }
        }
    }

    struct Result {
        var all = Tally()
        var byOperation = [Tally](repeating: Tally(), count: Operation.allCases.count)
        /// Open loop: requests still unanswered when the run ended; each is
        /// recorded with the wait it had reached, a lower bound.
        var unanswered = 0
        /// Open loop: how late each request was written after its intended
        /// time. Latency already includes it; a large lag says the load
        /// generator itself stalled (descheduled, or short of CPU), and the
        /// tail is then not all the server's.
        var sendLag = Histogram<UInt64>(highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: .two)
        /// Outcomes of routed payments that found the report queue full.
        var droppedReports = 0
        /// Connections the server closed during the run, the requests they
        /// had in flight then (sent, never answered), and the notices that
        /// came before the closes, by status.
        var closedByServer = 0
        var lostAtClose = 0
        var notices: [UInt16: Int] = [:]
        /// REPORT replies: recorded, duplicate, recorded for an unknown decision
        /// (over the whole run, warm-up included).
        var reportResults = [0, 0, 0]
        /// Of those taken, the ones whose outcome counts for the gateway (not declines).
        var attributableReports = 0
        var elapsedSeconds = 0.0
        var throughput: Double { elapsedSeconds > 0 ? Double(all.requests) / elapsedSeconds : 0 }

        /// Replies of one wake-up that share an operation and a latency (a
        /// closed loop's batch: one intended time, one arrival time), waiting
        /// to go into the histograms as one record with a count: the
        /// generator shares a core with the server it measures, and a record
        /// per reply would cost the server a visible share of it.
        private var pending: (operation: Operation, latency: UInt64, count: UInt64)?

        mutating func record(_ request: LoadConnection.InFlight, at now: UInt64, _ verdict: Verdict) {
            let latency = now > request.intended ? now - request.intended : 0
            all.count(verdict)
            byOperation[request.operation.index].count(verdict)
            if let run = pending, run.operation == request.operation, run.latency == latency {
                pending = (run.operation, latency, run.count + 1)
                return
            }
            flush()
            pending = (request.operation, latency, 1)
        }

        mutating func flush() {
            guard let run = pending else { return }
            _ = all.histogram.record(run.latency, count: run.count)
            _ = byOperation[run.operation.index].histogram.record(run.latency, count: run.count)
            pending = nil
        }
    }

    let settings: Settings

    func run(_ connections: [LoadConnection], _ workload: Workload) throws -> Result {
        let epoll = try Epoll(capacity: max(64, connections.count + 1))
        let timer = try TimerFD()
        let timerToken = UInt64(connections.count)
        try epoll.add(timer.fd, interest: .read, token: timerToken)
        var random = SplitMix64(seed: settings.seed ^ 0xA5A5_5A5A)

        let start = MonotonicClock.nanoseconds()
        let measureFrom = start + UInt64(settings.warmupSeconds * 1e9)
        let end = measureFrom + UInt64(settings.seconds * 1e9)
        var result = Result()
        var stopAt = end
        var progress = Progress(start: start, enabled: settings.progress)

        // Open loop: the next arrival's intended time and the connection it goes to.
        var nextArrival = start
        var arrivals: UInt64 = 0
        var touched: [Int] = []
        var isTouched = [Bool](repeating: false, count: connections.count)

        /// The server closed the connection (SIGTERM's drain, a timeout): what
        /// it had in flight is counted lost, and the run goes on without it.
        func closedByServer(_ index: Int) {
            let connection = connections[index]
            guard !connection.isClosed else { return }
            connection.isClosed = true
            try? epoll.remove(connection.fd)
            result.closedByServer += 1
            var left = connection.inFlight
            while left.pop() != nil { result.lostAtClose += 1 }
        }
        func flush(_ index: Int) {
            let connection = connections[index]
            guard !connection.blockedOnWrite, !connection.isClosed else { return }
            do {
                if try !connection.writeQueued() {
                    connection.blockedOnWrite = true
                    try epoll.modify(connection.fd, interest: [.read, .write], token: UInt64(index))
                }
            } catch {
                closedByServer(index)
            }
        }
        func sendBatch(_ index: Int, depth: Int, at now: UInt64) {
            connections[index].queue(depth, workload, intended: now, random: &random)
            flush(index)
        }

        for (index, connection) in connections.enumerated() {
            try epoll.add(connection.fd, interest: .read, token: UInt64(index))
        }
        switch settings.mode {
        case .closed(let depth):
            for index in connections.indices { sendBatch(index, depth: depth, at: start) }
        case .open:
            try timer.arm(atNanoseconds: start)
        }

        var stopping = false
        while true {
            let ready = try epoll.wait(timeoutMilliseconds: 100)
            let now = MonotonicClock.nanoseconds()
            let measuring = now >= measureFrom
            for i in 0..<ready {
                let (token, interest) = epoll.event(at: i)
                if token == timerToken {
                    timer.drain()
                    continue
                }
                let index = Int(token)
                let connection = connections[index]
                guard !connection.isClosed else { continue }
                do {
                    if interest.contains(.write), connection.blockedOnWrite, try connection.writeQueued() {
                        connection.blockedOnWrite = false
                        try epoll.modify(connection.fd, interest: .read, token: token)
                    }
                    guard !interest.isDisjoint(with: [.read, .failed]) else { continue }
                    try connection.readReplies(workload) { request, verdict in
                        if request.intended >= measureFrom { result.record(request, at: now, verdict) }
                    }
                } catch {
                    result.flush()
                    closedByServer(index)
                    continue
                }
                result.flush()
                if case .closed(let depth) = settings.mode, connection.inFlight.isEmpty, !stopping {
                    sendBatch(index, depth: depth, at: now)
                }
            }
            if case .open(let rate, let poisson) = settings.mode, !stopping {
                // Every arrival whose time has come, including those a slow
                // wake-up let pile up: the schedule does not wait for the
                // server. None after the end, so a run of --rate R for D
                // seconds sends R x D measured requests.
                while nextArrival <= min(now, end), result.closedByServer < connections.count {
                    var index = Int(arrivals % UInt64(connections.count))
                    // Arrivals for a closed connection go to the next open one.
                    while connections[index].isClosed { index = (index + 1) % connections.count }
                    connections[index].queue(1, workload, intended: nextArrival, random: &random)
                    if nextArrival >= measureFrom { _ = result.sendLag.record(now - nextArrival) }
                    if !isTouched[index] {
                        isTouched[index] = true
                        touched.append(index)
                    }
                    arrivals += 1
                    let gap = poisson ? -log(1 - random.nextUnit()) / rate : 1 / rate
                    nextArrival += UInt64(gap * 1e9)
                }
                for index in touched {
                    isTouched[index] = false
                    flush(index)
                }
                touched.removeAll(keepingCapacity: true)
                try timer.arm(atNanoseconds: nextArrival)
            }
            progress.update(now: now, measuring: measuring, result.all)
            let allClosed = result.closedByServer == connections.count
            if !stopping
                && (now >= end || allClosed
                    || (settings.maxRequests > 0 && result.all.requests >= settings.maxRequests))
            {
                stopping = true
                stopAt = now
                result.elapsedSeconds = Double(now - measureFrom) / 1e9
            }
            // Let the requests in flight land so no connection is cut mid-reply.
            guard stopping else { continue }
            let answered = connections.allSatisfy { $0.inFlight.isEmpty || $0.isClosed }
            guard answered || now >= stopAt + 2_000_000_000 else { continue }
            for connection in connections where !connection.isClosed {
                var left = connection.inFlight
                while let request = left.pop() {
                    guard request.intended >= measureFrom else { continue }
                    result.unanswered += 1
                    result.record(request, at: now, .error(.max))
                }
            }
            result.flush()
            break
        }
        result.droppedReports = connections.reduce(0) { $0 + $1.droppedReports }
        for connection in connections {
            for index in 0..<3 { result.reportResults[index] += connection.reportResults[index] }
            result.notices.merge(connection.notices, uniquingKeysWith: +)
            result.attributableReports += connection.attributableReports
        }
        progress.finish()
        return result
    }
}

/// The line a run prints on standard error once a second.
struct Progress {
    private let start: UInt64
    private let enabled: Bool
    private var next: UInt64
    private var lastRequests = 0

    init(start: UInt64, enabled: Bool) {
        self.start = start
        self.enabled = enabled
        next = start + 1_000_000_000
    }

    mutating func update(now: UInt64, measuring: Bool, _ tally: LoadRun.Tally) {
        guard enabled, now >= next else { return }
        let rate = tally.requests - lastRequests
        lastRequests = tally.requests
        let p50 = Double(tally.histogram.valueAtPercentile(50)) / 1_000
        let p99 = Double(tally.histogram.valueAtPercentile(99)) / 1_000
        FileOutput.standardError(
            "\r\u{1B}[K  \((now - start) / 1_000_000_000)s  \(rate) req/s  p50 \(format(p50)) us  p99 \(format(p99)) us"
                + (measuring ? "" : " (warm-up)"))
        next += 1_000_000_000
    }

    func finish() {
        if enabled { FileOutput.standardError("\r\u{1B}[K") }
    }
}

func format(_ value: Double) -> String {
    let rounded = (value * 10).rounded() / 10
    return String(rounded)
}
