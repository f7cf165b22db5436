import Glibc
import Logging
import SwitchyardPosix
import SwitchyardWire

/// One event-loop thread: its own epoll set, its own SO_REUSEPORT listener,
/// its connections and buffers. Built on its own thread and never shared, so
/// its state needs no lock and the compiler checks exclusive access statically.
///
/// Per readable connection the loop makes one read, answers every complete
/// frame, and sends all replies of the batch with one write: a request costs
/// no syscall beyond those, no lock and no allocation once buffers are warm.
struct EventLoop: ~Copyable {
    private static let listenerToken = UInt64.max
    private static let wakeToken = UInt64.max - 1
    private static let adminToken = UInt64.max - 2
    /// What a connection that is not write-blocked listens for. A constant:
    /// an option-set literal at the call site allocates in debug builds.
    private static let reading: Epoll.Interest = [.read, .peerClosedWriting]
    /// A connection waiting for its admin reply: errors and hang-ups only.
    private static let paused: Epoll.Interest = []
    /// How often idle connections are looked for; also bounds how late a drain deadline is noticed.
    private static let sweepIntervalNanoseconds: UInt64 = 250_000_000
    /// A read this large makes its connection heavy: a pipeline of a dozen
    /// DECIDEs or more, where an API server's single request is 150 bytes.
    private static let heavyReadBytes = 2_048
    /// Heavy connections served per wake-up. The loop serves every light
    /// connection first and then this many heavy ones, from a rotating
    /// start; epoll (level-triggered) reports the rest again at once. So a
    /// single request waits for at most this many pipelines, not for one
    /// from every connection that floods the loop.
    private static let heavyPerWakeup = 8

    private let handle: LoopHandle
    private let budget: ConnectionBudget
    private let epoll: Epoll
    private var listener: Int32
    private var settings: ServerSettings
    private var handler: RequestHandler
    private let routing: LoopRouting
    private var connections = ConnectionTable()
    private var pool: BufferPool
    private var logger: Logger
    private var now: UInt64 = MonotonicClock.nanoseconds()
    /// ``TickClock`` at the same wake-up, for the latency histograms; nil
    /// when this wake-up is not timed (see ``LoopMetrics``).
    private var wakeTicks: UInt64? = nil
    private var wakeups: UInt64 = 0
    private var nextSweep: UInt64 = 0
    private var drainDeadline: UInt64? = nil
    /// The HTTP admin endpoints, on loop 0 only.
    private let admin: AdminServer?
    /// Answers admin protocol requests off the loop.
    private let adminWorker: AdminWorker
    /// Long admin replies not yet moved into their connection's output buffer, by slot.
    private var overflows: [Int: [UInt8]] = [:]
    /// Events of heavy connections in this wake-up, served after the others.
    private var heavyEvents: ContiguousArray<Int> = []
    /// Where the next wake-up starts among its heavy connections.
    private var heavyRotation = 0

    init(
        handle: LoopHandle, listener: Int32, settings: ServerSettings, routing: LoopRouting, budget: ConnectionBudget,
        adminWorker: AdminWorker, admin: AdminServer? = nil, logger: Logger
    )
        throws(SyscallError)
    {
        let epoll = try Epoll(capacity: 256)
        try epoll.add(listener, interest: .read, token: EventLoop.listenerToken)
        try epoll.add(handle.wake.fd, interest: .read, token: EventLoop.wakeToken)
        if let admin { try epoll.add(admin.fd, interest: .read, token: EventLoop.adminToken) }
        self.admin = admin
        self.adminWorker = adminWorker
        self.epoll = epoll
        self.handle = handle
        self.listener = listener
        self.settings = settings
        self.routing = routing
        self.handler = RequestHandler(settings: settings, routing: routing, metrics: handle.metrics)
        self.budget = budget
        self.pool = BufferPool(bufferBytes: settings.bufferBytes, retainLimit: 1_024)
        self.logger = logger
        self.logger[metadataKey: "loop"] = "\(handle.index)"
        heavyEvents.reserveCapacity(self.epoll.capacity)
    }

    /// Runs until a drain has closed every connection (or its grace period ended).
    mutating func run() {
        while true {
            let ready: Int
            do {
                ready = try epoll.wait(timeoutMilliseconds: Int32(EventLoop.sweepIntervalNanoseconds / 1_000_000))
            } catch {
                logger.critical("epoll_wait failed, loop stops", metadata: ["error": "\(error)"])
                break
            }
            now = MonotonicClock.nanoseconds()
            wakeups &+= 1
            wakeTicks = wakeups & (LoopMetrics.timedWakeupInterval - 1) == 0 ? TickClock.now() : nil
            handle.countWakeup()
            routing.now = now
            routing.wallSeconds = WallClock.seconds()
            routing.refresh()
            heavyEvents.removeAll(keepingCapacity: true)
            for i in 0..<ready {
                let (token, interest) = epoll.event(at: i)
                switch token {
                case EventLoop.listenerToken: acceptPending()
                case EventLoop.wakeToken: readMailbox()
                case EventLoop.adminToken: admin?.serve(now: now)
                default:
                    guard let slot = connections.slot(for: token) else { continue }
                    if connections.slots[slot].heavy {
                        heavyEvents.append(i)
                    } else {
                        serve(slot, token: token, interest)
                    }
                }
            }
            serveHeavyConnections()
            if now >= nextSweep {
                nextSweep = now + EventLoop.sweepIntervalNanoseconds
                closeIdleConnections()
                admin?.sweep(now: now)
                handle.report(allocatedBytes: Allocator.threadAllocatedBytes)
            }
            if let deadline = drainDeadline, connections.openCount == 0 || now >= deadline { break }
        }
        for slot in connections.slots.indices where connections.slots[slot].isOpen { close(slot) }
        if listener >= 0 { Descriptor.close(listener) }
    }

    private mutating func serve(_ slot: Int, token: UInt64, _ interest: Epoll.Interest) {
        if interest.contains(.write) { onWritable(slot) }
        if !interest.isDisjoint(with: EventLoop.reading) { onReadable(slot) }
        // Both directions gone or an error: nothing can be delivered any
        // more. (Read first: the peer's last requests may be answerable if
        // only its writing side closed.)
        if !interest.isDisjoint(with: .failed), connections.slot(for: token) != nil { close(slot) }
    }

    /// A few of this wake-up's heavy connections, the next few at the next.
    private mutating func serveHeavyConnections() {
        let count = heavyEvents.count
        guard count > 0 else { return }
        let served = min(count, EventLoop.heavyPerWakeup)
        let start = heavyRotation % count
        heavyRotation &+= served
        for k in 0..<served {
            let (token, interest) = epoll.event(at: heavyEvents[(start + k) % count])
            guard let slot = connections.slot(for: token) else { continue }
            serve(slot, token: token, interest)
        }
    }

    // MARK: - Accepting

    private mutating func acceptPending() {
        // Bounded, so a connection storm cannot starve the connections this
        // loop already serves; level-triggered epoll reports the rest.
        for _ in 0..<64 {
            let fd: Int32
            do {
                guard let accepted = try Socket.accept(listener) else { return }
                fd = accepted
            } catch {
                // EMFILE and friends: log, and let the next event retry.
                logger.error("accept failed", metadata: ["error": "\(error)"])
                return
            }
            guard budget.reserve(limit: settings.maxConnections) else {
                sendNotice(.tooManyConnections, to: fd)
                Descriptor.close(fd)
                continue
            }
            let slot = connections.open(fd: fd, now: now)
            do {
                try epoll.add(fd, interest: EventLoop.reading, token: token(slot))
            } catch {
                logger.error("epoll_ctl(ADD) failed for a new connection", metadata: ["error": "\(error)"])
                close(slot)
            }
        }
    }

    /// A connection-level error frame written straight to a socket we are
    /// about to close; on a fresh or idle socket the kernel buffer has room.
    private func sendNotice(_ status: Status, to fd: Int32) {
        withUnsafeTemporaryAllocation(byteCount: RequestHandler.maxFixedReplyBytes, alignment: 8) { buffer in
            let count = writeError(status, for: FrameHeader(opcode: .none, requestID: 0), close: true, into: buffer)
            _ = try? Descriptor.write(fd, from: buffer.baseAddress!, count: count)
        }
    }

    // MARK: - Reading and answering

    /// Returns true when it read bytes and the connection is still open.
    @discardableResult
    private mutating func onReadable(_ slot: Int) -> Bool {
        let conn = connections.slots[slot]
        if conn.writeBlocked || conn.closing || conn.awaitingAdmin { return false }
        let bufferBytes = pool.bufferBytes
        if conn.input == nil { connections.slots[slot].input = pool.take() }
        let input = connections.slots[slot].input!
        let result: Int?
        do {
            result = try Descriptor.read(conn.fd, into: input + conn.inputCount, count: bufferBytes - conn.inputCount)
        } catch {
            close(slot)  // ECONNRESET and the like: the peer is gone.
            return false
        }
        guard let count = result else {
            releaseEmptyBuffers(slot)
            return false
        }
        if count == 0 {
            // The peer closed its side. Every complete frame it sent was
            // answered on earlier reads, and no output is pending (reading
            // pauses while it is), so nothing is lost by closing now.
            close(slot)
            return false
        }
        connections.slots[slot].inputCount += count
        connections.slots[slot].lastActivity = now
        connections.slots[slot].heavy = count >= EventLoop.heavyReadBytes
        if conn.frameStarted == 0 { connections.slots[slot].frameStarted = now }
        answerBufferedFrames(slot)
        return connections.slots[slot].isOpen
    }

    /// Answers complete frames in the input buffer, writing replies in batches,
    /// until the input holds no complete frame or the peer stops reading.
    private mutating func answerBufferedFrames(_ slot: Int) {
        let bufferBytes = pool.bufferBytes
        while true {
            if connections.slots[slot].output == nil { connections.slots[slot].output = pool.take() }
            let conn = connections.slots[slot]
            let progress = handler.process(
                input: UnsafeRawBufferPointer(start: conn.input, count: conn.inputCount),
                output: UnsafeMutableRawBufferPointer(
                    start: conn.output! + conn.outputEnd, count: bufferBytes - conn.outputEnd)
            )
            connections.slots[slot].outputEnd += progress.produced
            consumeInput(slot, progress.consumed)
            if progress.stop == .close { connections.slots[slot].closing = true }
            if progress.stop == .admin {
                handOverAdminRequest(slot)
                _ = flush(slot)
                handler.metrics.closeBatch(elapsed: wakeTicks.map { TickClock.now() &- $0 })
                return
            }

            let written = flush(slot)
            handler.metrics.closeBatch(elapsed: wakeTicks.map { TickClock.now() &- $0 })
            guard written else { return }  // closed, or waiting for the peer to read
            if progress.stop != .needOutputSpace { break }
        }
        releaseEmptyBuffers(slot)
    }

    /// Sends the admin request at the front of the input to the admin
    /// worker and pauses the connection until its reply comes back.
    private mutating func handOverAdminRequest(_ slot: Int) {
        let conn = connections.slots[slot]
        let input = UnsafeRawBufferPointer(start: conn.input, count: conn.inputCount)
        // The handler parsed this header a moment ago: a whole frame is there.
        guard case .header(let header) = FrameHeader.parse(input, maxBodyLength: settings.maxBodyBytes) else { return }
        let frame = Array(input[..<header.frameLength])
        consumeInput(slot, header.frameLength)
        connections.slots[slot].awaitingAdmin = true
        connections.slots[slot].adminSince = TickClock.now()
        do {
            try epoll.modify(conn.fd, interest: EventLoop.paused, token: token(slot))
        } catch {
            close(slot)
            return
        }
        adminWorker.submit(AdminWorker.Job(loop: handle.index, connection: token(slot), frame: frame))
    }

    /// An admin reply came back: it goes out, and the connection's waiting
    /// frames are answered.
    private mutating func deliverAdminReply(_ frame: [UInt8], to slot: Int) {
        if connections.slots[slot].output == nil { connections.slots[slot].output = pool.take() }
        let conn = connections.slots[slot]
        let direct = min(pool.bufferBytes - conn.outputEnd, frame.count)
        frame.withUnsafeBytes { bytes in
            (conn.output! + conn.outputEnd).copyMemory(from: bytes.baseAddress!, byteCount: direct)
        }
        connections.slots[slot].outputEnd += direct
        if direct < frame.count {
            overflows[slot] = Array(frame[direct...])
            connections.slots[slot].hasOverflow = true
        }
        connections.slots[slot].awaitingAdmin = false
        frame.withUnsafeBytes {
            handler.metrics.countAnsweredElsewhere(
                Opcode(rawValue: $0[3]), reply: $0.baseAddress!, elapsed: TickClock.now() &- conn.adminSince)
        }
        // A write-blocked connection resumes when the peer reads (onWritable).
        guard !conn.writeBlocked, flush(slot) else { return }
        resumeReading(slot)
    }

    private mutating func resumeReading(_ slot: Int) {
        do {
            try epoll.modify(connections.slots[slot].fd, interest: EventLoop.reading, token: token(slot))
        } catch {
            close(slot)
            return
        }
        // Frames that arrived while reading was paused are still buffered.
        answerBufferedFrames(slot)
    }

    private mutating func consumeInput(_ slot: Int, _ count: Int) {
        guard count > 0 else { return }
        let remaining = connections.slots[slot].inputCount - count
        connections.slots[slot].frameStarted = remaining > 0 ? now : 0
        if remaining > 0 {
            // Only a partial frame is left; moving it to the front keeps room
            // for the rest of it (a buffer always holds one whole frame).
            let input = connections.slots[slot].input!
            input.copyMemory(from: input + count, byteCount: remaining)
        }
        connections.slots[slot].inputCount = remaining
    }

    // MARK: - Writing

    /// Writes pending output once. Returns true when the connection is open
    /// and has nothing left to send; false when it was closed or is now
    /// waiting for the peer to read.
    private mutating func flush(_ slot: Int) -> Bool {
        while true {
            guard flushOnce(slot) else { return false }
            guard connections.slots[slot].hasOverflow else { return true }
            refillFromOverflow(slot)
        }
    }

    /// Moves as much of a long reply as fits into the (empty) output buffer.
    private mutating func refillFromOverflow(_ slot: Int) {
        if connections.slots[slot].output == nil { connections.slots[slot].output = pool.take() }
        let pending = overflows[slot] ?? []
        let count = min(pool.bufferBytes, pending.count)
        let output = connections.slots[slot].output!
        pending.withUnsafeBytes { output.copyMemory(from: $0.baseAddress!, byteCount: count) }
        if count < pending.count {
            overflows[slot] = Array(pending[count...])
        } else {
            overflows[slot] = nil
            connections.slots[slot].hasOverflow = false
        }
        connections.slots[slot].outputStart = 0
        connections.slots[slot].outputEnd = count
    }

    private mutating func flushOnce(_ slot: Int) -> Bool {
        let conn = connections.slots[slot]
        if conn.pendingOutput > 0 {
            let written: Int?
            do {
                written = try Descriptor.write(
                    conn.fd, from: conn.output! + conn.outputStart, count: conn.pendingOutput)
            } catch {
                close(slot)
                return false
            }
            if let written, written > 0 {
                connections.slots[slot].outputStart += written
                connections.slots[slot].lastActivity = now
            }
            if connections.slots[slot].pendingOutput > 0 {
                waitForWritable(slot)
                return false
            }
            connections.slots[slot].outputStart = 0
            connections.slots[slot].outputEnd = 0
        }
        if connections.slots[slot].closing && !connections.slots[slot].hasOverflow {
            close(slot)
            return false
        }
        return true
    }

    /// Stops reading a peer that does not read its replies, until it does.
    private mutating func waitForWritable(_ slot: Int) {
        guard !connections.slots[slot].writeBlocked else { return }
        connections.slots[slot].writeBlocked = true
        let output = connections.slots[slot].output!
        let start = connections.slots[slot].outputStart
        let pending = connections.slots[slot].pendingOutput
        // Keep the unsent tail at the front so the next batch has the most room.
        output.copyMemory(from: output + start, byteCount: pending)
        connections.slots[slot].outputStart = 0
        connections.slots[slot].outputEnd = pending
        do {
            // Only writability: a peer that closed its writing side while not
            // reading would otherwise keep reporting RDHUP (level-triggered)
            // and spin the loop.
            try epoll.modify(connections.slots[slot].fd, interest: .write, token: token(slot))
        } catch {
            close(slot)
        }
    }

    private mutating func onWritable(_ slot: Int) {
        guard connections.slots[slot].writeBlocked else { return }
        connections.slots[slot].writeBlocked = false
        guard flush(slot) else { return }
        guard connections.slots[slot].awaitingAdmin else {
            resumeReading(slot)
            return
        }
        do {
            try epoll.modify(connections.slots[slot].fd, interest: EventLoop.paused, token: token(slot))
        } catch {
            close(slot)
        }
    }

    // MARK: - Closing

    private mutating func close(_ slot: Int) {
        let conn = connections.slots[slot]
        // Closing the descriptor also removes it from the epoll set.
        Descriptor.close(conn.fd)
        if let input = conn.input { pool.give(input) }
        if let output = conn.output { pool.give(output) }
        if conn.hasOverflow { overflows[slot] = nil }
        connections.release(slot)
        budget.release()
    }

    private mutating func releaseEmptyBuffers(_ slot: Int) {
        if connections.slots[slot].inputCount == 0, let input = connections.slots[slot].input {
            pool.give(input)
            connections.slots[slot].input = nil
        }
        if connections.slots[slot].pendingOutput == 0, let output = connections.slots[slot].output {
            pool.give(output)
            connections.slots[slot].output = nil
        }
    }

    /// Closes connections idle past the idle timeout, and those whose
    /// current frame has been arriving for longer than the frame timeout.
    /// Frames held while reading is paused do not count against the peer
    /// when the pause is ours (an admin request being answered); a peer that
    /// does not read is left to the idle timeout.
    private mutating func closeIdleConnections() {
        let idleTimeout = settings.idleTimeoutNanoseconds
        let frameTimeout = settings.frameTimeoutNanoseconds
        guard idleTimeout > 0 || frameTimeout > 0 else { return }
        for slot in connections.slots.indices {
            let conn = connections.slots[slot]
            guard conn.isOpen else { continue }
            let status: Status
            if idleTimeout > 0 && now - conn.lastActivity >= idleTimeout {
                status = .idleTimeout
            } else if frameTimeout > 0, conn.frameStarted != 0, !conn.awaitingAdmin, !conn.writeBlocked,
                now - conn.frameStarted >= frameTimeout
            {
                status = .frameTimeout
            } else {
                continue
            }
            if conn.pendingOutput == 0 { sendNotice(status, to: conn.fd) }
            close(slot)
        }
    }

    // MARK: - Mailbox: reload and shutdown

    private mutating func readMailbox() {
        let mail = handle.collect()
        if let updated = mail.settings {
            settings = updated
            handler = RequestHandler(settings: updated, routing: routing, metrics: handle.metrics)
        }
        if mail.drain && drainDeadline == nil { beginDrain() }
        if mail.report { handle.report(allocatedBytes: Allocator.threadAllocatedBytes) }
        // By index, not `for in`: in a debug build, the first iteration of a
        // new iterator type instantiates its metadata, an allocation on the
        // loop that the allocation tests would see.
        var index = 0
        while index < mail.adminReplies.count {
            let (connection, frame) = mail.adminReplies[index]
            index += 1
            guard let slot = connections.slot(for: connection), connections.slots[slot].awaitingAdmin else { continue }
            deliverAdminReply(frame, to: slot)
        }
    }

    /// Stops accepting, answers what each connection has already sent (up to
    /// 64 reads' worth, so a client that never stops sending cannot hold the
    /// stop), tells it the server is going away, and closes it once its
    /// replies are out.
    private mutating func beginDrain() {
        drainDeadline = now + settings.shutdownGraceNanoseconds
        try? epoll.remove(listener)
        Descriptor.close(listener)
        listener = -1
        for slot in connections.slots.indices where connections.slots[slot].isOpen {
            var reads = 0
            while reads < 64 && onReadable(slot) { reads += 1 }
            guard connections.slots[slot].isOpen else { continue }
            appendShutdownNotice(slot)
            connections.slots[slot].closing = true
            if !connections.slots[slot].writeBlocked { _ = flush(slot) }
        }
    }

    private mutating func appendShutdownNotice(_ slot: Int) {
        if connections.slots[slot].output == nil { connections.slots[slot].output = pool.take() }
        let conn = connections.slots[slot]
        let room = pool.bufferBytes - conn.outputEnd
        guard room >= RequestHandler.maxFixedReplyBytes else { return }
        connections.slots[slot].outputEnd += writeError(
            .shuttingDown, for: FrameHeader(opcode: .none, requestID: 0), close: true,
            into: UnsafeMutableRawBufferPointer(start: conn.output! + conn.outputEnd, count: room))
    }

    private func token(_ slot: Int) -> UInt64 {
        ConnectionTable.token(slot: slot, generation: connections.slots[slot].generation)
    }
}
