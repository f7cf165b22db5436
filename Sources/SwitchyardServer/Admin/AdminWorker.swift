import SwitchyardPosix

/// Answers admin requests on a thread of its own. An admin operation may
/// take milliseconds (reading a configuration file, writing to Redis,
/// building the health table); on an event loop that would be the latency
/// of every payment queued behind it. The loop hands the request over (one
/// copy, on the cold path), keeps the connection's later frames waiting,
/// and writes the reply when it comes back through its mailbox.
final class AdminWorker: Sendable {
    struct Job: Sendable {
        let loop: Int
        /// The connection's epoll token: a connection closed meanwhile is recognised.
        let connection: UInt64
        let frame: [UInt8]
    }

    private let queue = LockedValue<[Job]>([])
    private let wake: EventFD
    private let thread = BackgroundThread()

    init() throws(SyscallError) { wake = try EventFD() }

    func submit(_ job: Job) {
        queue.withLock { $0.append(job) }
        wake.signal()
    }

    /// Starts the thread; `answer` turns a request frame into its reply frame.
    func start(replyingThrough handles: [LoopHandle], _ answer: @escaping @Sendable ([UInt8]) -> [UInt8])
        throws(SyscallError)
    {
        try thread.start(name: "sy-admin") { [self] in
            while !thread.isStopping {
                // Woken by a job; the timeout only bounds how late a stop is seen.
                _ = wake.wait(timeoutMilliseconds: 250)
                wake.drain()
                for job in queue.withLock({ jobs in
                    defer { jobs = [] }; return jobs
                }) {
                    handles[job.loop].post(adminReply: answer(job.frame), connection: job.connection)
                }
            }
        }
    }

    func shutdown() { thread.stop() }
}
