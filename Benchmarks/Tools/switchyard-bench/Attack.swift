import ArgumentParser
import Glibc
import SwitchyardCore
import SwitchyardPosix
import SwitchyardWire

/// Hostile clients run on a thread of their own beside the measured load
/// (`--attack`), so one run shows what an attack does to everyone else's
/// latency (docs/hardening.md, "Hostile clients").
enum AttackKind: String, CaseIterable, ExpressibleByArgument, Sendable {
    /// Connections opened and then left silent.
    case idle
    /// Connect, one PING, close, as fast as one thread can.
    case churn
    /// Valid frames sent a byte at a time, one byte a second per connection.
    case slowloris
    /// PINGs of 4 KiB pipelined without ever reading a reply.
    case nonreader
    /// Random bytes; every connection the server closes is opened again.
    case garbage
    /// Well-framed requests whose fields are absurd, pipelined in batches.
    case absurd
    /// AUTHORIZE with a random wrong key each, pipelined in batches.
    case wrongkey

    /// Whether a connection the server closes is opened again.
    var reconnects: Bool { self != .idle }
}

struct AttackSettings: Sendable {
    var kind: AttackKind
    var address: SocketAddress
    var connections: Int
    /// The merchant a wrong-key flood claims to be.
    var merchant: String
    var seed: UInt64
}

/// What the attacker did and what the server answered.
struct AttackTally: Sendable {
    var opened = 0
    var connectFailures = 0
    var closedByServer = 0
    var framesSent = 0
    var bytesSent = 0
    /// Replies and notices received, by status code.
    var statuses: [UInt16: Int] = [:]

    var json: String {
        """
        {"opened": \(opened), "connect_failures": \(connectFailures), "closed_by_server": \(closedByServer), \
        "frames_sent": \(framesSent), "bytes_sent": \(bytesSent), "statuses": \(Report.statusJSON(statuses))}
        """
    }

    var text: String {
        """
        attack: \(opened) connections opened (\(connectFailures) failed), \(closedByServer) closed by the server, \
        \(framesSent) frames / \(bytesSent) bytes sent; received: \(statuses.isEmpty ? "nothing" : Report.byStatus(statuses))
        """
    }
}

/// Starts the attack on its own thread; ``stop()`` ends it and returns its tally.
final class Attacker: Sendable {
    private let thread = BackgroundThread()
    private let result = LockedValue(AttackTally())

    init(_ settings: AttackSettings) throws(SyscallError) {
        try thread.start(name: "sy-attack") { [thread, result] in
            do {
                var engine = try AttackEngine(settings)
                engine.run(while: { !thread.isStopping })
                let tally = engine.tally
                result.withLock { $0 = tally }
            } catch {
                FileOutput.standardError("attack: \(error)\n")
            }
        }
    }

    func stop() -> AttackTally {
        thread.stop()
        return result.withLock { $0 }
    }
}

/// One attack's connections, driven by one epoll set.
private struct AttackEngine: ~Copyable {
    struct Slot {
        var fd: Int32 = -1
        /// Reply bytes not yet making a whole frame.
        var replies: [UInt8] = []
        /// Slow loris: how much of `AttackEngine.slowFrame` is sent.
        var sent = 0
        /// Bytes the socket did not take yet: sent before anything else, so
        /// the stream stays well-framed.
        var unsent: ArraySlice<UInt8> = []
        /// Batched attacks: replies still due for the last batch.
        var outstanding = 0
    }

    let settings: AttackSettings
    var tally = AttackTally()
    private var slots: [Slot]
    private var random: SplitMix64
    private let epoll: Epoll
    private var scratch = [UInt8](repeating: 0, count: 65_536)
    private var nextRequestID: UInt32 = 1
    /// The absurd batch, built once: the attacker's cycles go to sending.
    private var absurdBatch: [UInt8] = []
    private var absurdBatchFrames = 0

    /// A slow loris's frame: long enough (80 bytes at a byte a second) to
    /// outlast any sensible frame timeout.
    private static let slowFrame = ping(payloadBytes: 64)
    private static let floodFrame = ping(payloadBytes: 4_096)
    private static let tickNanoseconds: UInt64 = 10_000_000

    init(_ settings: AttackSettings) throws(SyscallError) {
        self.settings = settings
        slots = Array(repeating: Slot(), count: settings.connections)
        random = SplitMix64(seed: settings.seed ^ 0xA77A_C4)
        epoll = try Epoll(capacity: 256)
    }

    mutating func run(while going: () -> Bool) {
        if settings.kind == .churn {
            churn(while: going)
            return
        }
        for index in slots.indices { open(index) }
        var nextTick = MonotonicClock.nanoseconds()
        while going() {
            let ready = (try? epoll.wait(timeoutMilliseconds: 10)) ?? 0
            for event in 0..<ready {
                let index = Int(epoll.event(at: event).token)
                guard index < slots.count, slots[index].fd >= 0 else { continue }
                // The non-reader listens for hang-ups only: any event is the server closing it.
                if settings.kind == .nonreader { closedByServer(index) } else { readReplies(index) }
            }
            let now = MonotonicClock.nanoseconds()
            if now >= nextTick {
                nextTick = now + AttackEngine.tickNanoseconds
                tick(now: now)
            }
        }
        for index in slots.indices where slots[index].fd >= 0 { Descriptor.close(slots[index].fd) }
    }

    // MARK: - Connections

    private mutating func open(_ index: Int) {
        guard let fd = try? Socket.connect(to: settings.address, timeoutMilliseconds: 1_000) else {
            tally.connectFailures += 1
            return
        }
        try? Socket.setBlocking(fd, false)
        slots[index] = Slot(fd: fd)
        tally.opened += 1
        // The non-reader is never told its replies are there.
        let interest: Epoll.Interest = settings.kind == .nonreader ? [.peerClosedWriting] : [.read, .peerClosedWriting]
        guard (try? epoll.add(fd, interest: interest, token: UInt64(index))) != nil else {
            close(index)
            return
        }
        switch settings.kind {
        case .absurd, .wrongkey: sendBatch(index)
        case .nonreader: flood(index)
        default: break
        }
    }

    private mutating func close(_ index: Int) {
        Descriptor.close(slots[index].fd)
        slots[index] = Slot()
    }

    /// The server closed the connection: counted, and opened again when the attack persists.
    private mutating func closedByServer(_ index: Int) {
        tally.closedByServer += 1
        close(index)
        if settings.kind.reconnects { open(index) }
    }

    // MARK: - Reading

    private mutating func readReplies(_ index: Int) {
        let fd = slots[index].fd
        let count = scratch.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
        if count < 0 && (errno == EAGAIN || errno == EINTR) { return }
        if count <= 0 {
            closedByServer(index)
            return
        }
        slots[index].replies += scratch[..<count]
        var answered = 0
        while slots[index].replies.count >= FrameHeader.size {
            let replies = slots[index].replies
            let status = UInt16(replies[6]) | UInt16(replies[7]) << 8
            let bodyLength = replies[12..<16].reversed().reduce(0) { $0 << 8 | Int($1) }
            guard replies.count >= FrameHeader.size + bodyLength else { break }
            tally.statuses[status, default: 0] += 1
            slots[index].replies.removeFirst(FrameHeader.size + bodyLength)
            answered += 1
        }
        slots[index].outstanding -= answered
        if slots[index].outstanding <= 0, settings.kind == .absurd || settings.kind == .wrongkey { sendBatch(index) }
    }

    // MARK: - Writing

    /// Sends what the socket takes without blocking and returns how much;
    /// 0 also when the server closed the connection (counted, and reopened).
    @discardableResult
    private mutating func send(_ index: Int, _ bytes: ArraySlice<UInt8>) -> Int {
        let fd = slots[index].fd
        let written = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        if written < 0 {
            if errno != EAGAIN && errno != EINTR { closedByServer(index) }
            return 0
        }
        tally.bytesSent += written
        return written
    }

    private mutating func tick(now: UInt64) {
        for index in slots.indices {
            if slots[index].fd < 0 {
                if settings.kind.reconnects { open(index) }
                continue
            }
            switch settings.kind {
            case .slowloris:
                // One byte a second per connection, the connections spread over the second.
                guard (now / AttackEngine.tickNanoseconds) % 100 == UInt64(index % 100) else { continue }
                let frame = AttackEngine.slowFrame
                if send(index, frame[slots[index].sent...].prefix(1)) == 1 {
                    slots[index].sent = (slots[index].sent + 1) % frame.count
                    if slots[index].sent == 0 { tally.framesSent += 1 }
                }
            case .garbage:
                var bytes = [UInt8](repeating: 0, count: 256)
                for i in bytes.indices { bytes[i] = UInt8(truncatingIfNeeded: random.next()) }
                send(index, bytes[...])
            case .nonreader:
                // Every 100 ms: whatever the socket takes now.
                if (now / AttackEngine.tickNanoseconds) % 10 == 0 { flood(index) }
            case .absurd, .wrongkey:
                pushUnsent(index)
            default: break
            }
        }
    }

    /// Sends what is left of earlier writes; true when nothing is.
    @discardableResult
    private mutating func pushUnsent(_ index: Int) -> Bool {
        while slots[index].fd >= 0 && !slots[index].unsent.isEmpty {
            let written = send(index, slots[index].unsent)
            if written == 0 { return false }
            if slots[index].fd >= 0 { slots[index].unsent = slots[index].unsent.dropFirst(written) }
        }
        return slots[index].fd >= 0
    }

    private mutating func flood(_ index: Int) {
        while pushUnsent(index) {
            slots[index].unsent = AttackEngine.floodFrame[...]
            tally.framesSent += 1
        }
    }

    private mutating func sendBatch(_ index: Int) {
        var batch: [UInt8] = []
        var frames = 0
        if settings.kind == .wrongkey {
            for _ in 0..<16 {
                var key = "sk_live_"
                for _ in 0..<4 { key += String(random.next(), radix: 36) }
                let address = withUnsafeBytes(of: UInt32(truncatingIfNeeded: random.next())) { Array($0) }
                let request = AuthorizeRequest(merchantID: settings.merchant, credential: key, clientAddress: address)
                batch += frame(.authorize) { request.write(to: &$0) }
                frames += 1
            }
        } else {
            if absurdBatch.isEmpty {
                // An empty one is a frame the encoder refused: not sent, not awaited.
                for bytes in absurdFrames() where !bytes.isEmpty {
                    absurdBatch += bytes
                    absurdBatchFrames += 1
                }
            }
            batch = absurdBatch
            frames = absurdBatchFrames
        }
        slots[index].outstanding = frames
        tally.framesSent += frames
        slots[index].unsent = batch[...]
        pushUnsent(index)
    }

    /// Frames a parser must survive: every length at its edge, every number
    /// at its extreme, every name unknown, none breaking the framing.
    private mutating func absurdFrames() -> [[UInt8]] {
        let long = String(repeating: "x", count: 255)
        let huge = String(repeating: "k", count: 4_096)
        let everything = (0..<255).map { "g\($0)" }
        let noise = (0..<64).map { _ in random.next() }
        return [
            frame(.hello) {
                Hello(minVersion: 200, maxVersion: 255, features: .init(rawValue: .max), clientName: long).write(
                    to: &$0)
            },
            frame(.route) {
                RouteRequest(
                    merchantID: long, paymentID: long, attempt: .max, method: long, currency: "ZZZ", amount: .max,
                    cardNetwork: long, tried: everything
                ).write(to: &$0)
            },
            frame(.route) {
                RouteRequest(merchantID: "m_1", paymentID: "", attempt: 0, method: "", currency: "", amount: 0).write(
                    to: &$0)
            },
            frame(.authorize) {
                AuthorizeRequest(
                    merchantID: "m_1", credential: huge, clientAddress: [UInt8](repeating: 0xFF, count: 16), cost: .max,
                    credentialKind: 255
                ).write(to: &$0)
            },
            frame(.authorize) { AuthorizeRequest(merchantID: "", credential: "", cost: 0).write(to: &$0) },
            frame(.report) {
                ReportRequest(
                    merchantID: "m_1", decisionID: .max, paymentID: long, attempt: .max, gateway: long, outcome: 255,
                    latencyMilliseconds: .max, method: "card", currency: "INR", amount: .max
                ).write(to: &$0)
            },
            frame(.decide) { _ in },
            frame(Opcode(rawValue: 0x7F)) { _ in },
            // A body of noise under a valid header.
            frame(.route) { writer in
                for word in noise { writer.u64(word) }
            },
        ]
    }

    private mutating func frame(_ opcode: Opcode, _ write: (inout BodyWriter) -> Void) -> [UInt8] {
        defer { nextRequestID &+= 1 }
        return AttackEngine.frame(opcode, id: nextRequestID, write)
    }

    private static func frame(_ opcode: Opcode, id: UInt32, _ write: (inout BodyWriter) -> Void) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: 16_384)
        let count = bytes.withUnsafeMutableBytes {
            FrameEncoder.encode(into: $0, header: FrameHeader(opcode: opcode, requestID: id), body: write)
        }
        return Array(bytes[..<(count ?? 0)])
    }

    private static func ping(payloadBytes: Int) -> [UInt8] {
        let payload = [UInt8](repeating: 0x5A, count: payloadBytes)
        return frame(.ping, id: 1) { writer in payload.withUnsafeBytes { writer.raw($0) } }
    }

    // MARK: - Churn

    /// Blocking on purpose: one connection at a time, each answered before
    /// the next, as fast as the thread can go.
    private mutating func churn(while going: () -> Bool) {
        let ping = AttackEngine.frame(.ping, id: 1) { _ in }
        while going() {
            guard let fd = try? Socket.connect(to: settings.address, timeoutMilliseconds: 1_000) else {
                tally.connectFailures += 1
                usleep(1_000)
                continue
            }
            tally.opened += 1
            try? Socket.setReceiveTimeout(fd, milliseconds: 1_000)
            let sent = ping.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if sent == ping.count {
                tally.framesSent += 1
                tally.bytesSent += sent
                let count = scratch.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                if count >= FrameHeader.size {
                    tally.statuses[UInt16(scratch[6]) | UInt16(scratch[7]) << 8, default: 0] += 1
                } else {
                    tally.closedByServer += 1
                }
            }
            Descriptor.close(fd)
        }
    }
}
