import SwitchyardClient
import SwitchyardCore
import SwitchyardPosix
import SwitchyardWire

/// A first-in first-out queue on a ring that grows by doubling: the requests
/// a connection awaits replies for (both servers answer in order), and the
/// outcomes it still has to report.
struct Ring<Element> {
    private var slots: [Element?] = Array(repeating: nil, count: 64)
    private var head = 0
    private(set) var count = 0

    var isEmpty: Bool { count == 0 }

    mutating func push(_ element: Element) {
        if count == slots.count {
            let old = (0..<count).map { slots[(head + $0) & (slots.count - 1)] }
            slots = old + Array(repeating: nil, count: old.count)
            head = 0
        }
        slots[(head + count) & (slots.count - 1)] = element
        count += 1
    }

    mutating func pop() -> Element? {
        guard count > 0 else { return nil }
        let element = slots[head]
        slots[head] = nil
        head = (head + 1) & (slots.count - 1)
        count -= 1
        return element
    }
}

/// How a reply went, for the counts of a run.
enum Verdict {
    case answered
    /// An AUTHORIZE or DECIDE reply that refused (a rate limit, say: a load
    /// test of limits needs the admitted count).
    case refused
    /// An error reply, with its status code (Redis's errors carry none: `UInt16.max`).
    case error(UInt16)
}

/// One connection of the load generator, in either protocol, so Switchyard
/// and Redis are driven by exactly the same loop. It remembers when each
/// request in flight was meant to be sent, and which payments were routed,
/// to report their outcomes back as an API server would.
final class LoadConnection {
    enum Transport {
        case switchyard(Connection)
        case redis(RawStream)
    }

    struct InFlight {
        var operation: Operation
        var payment: Int32
        var paymentNumber: UInt64
        /// When the request was meant to go out: latency counts from here,
        /// so a request held back by a slow server is charged for the wait.
        var intended: UInt64
        /// A REPORT's outcome (1 to 4); 0 for other operations.
        var outcome: UInt8 = 0
    }

    struct PendingReport {
        var payment: Int32
        var paymentNumber: UInt64
        var decisionID: UInt64
        var gateway: Int
    }

    /// Outcomes waiting beyond this are dropped (counted): a server that
    /// routes faster than it takes reports must not grow the generator.
    static let pendingLimit = 100_000

    let transport: Transport
    let number: UInt64
    private(set) var inFlight = Ring<InFlight>()
    private var pendingReports = Ring<PendingReport>()
    private(set) var droppedReports = 0
    /// REPORT replies by ``ReportResult`` raw value: recorded, duplicate,
    /// recorded for a decision the server does not know.
    private(set) var reportResults = [0, 0, 0]
    /// REPORTs the server took (recorded, for a known decision or not) whose
    /// outcome counts for the gateway: not declines, which are neutral.
    private(set) var attributableReports = 0
    /// Connection-level notices (SHUTTING_DOWN, IDLE_TIMEOUT, ...) by status:
    /// they answer no request.
    private(set) var notices: [UInt16: Int] = [:]
    /// The server closed this connection; it takes no more requests.
    var isClosed = false
    private var sequence: UInt64 = 0
    var blockedOnWrite = false

    init(_ transport: Transport, number: Int) {
        self.transport = transport
        self.number = UInt64(number)
    }

    var fd: Int32 {
        switch transport {
        case .switchyard(let connection): connection.fd
        case .redis(let stream): stream.fd
        }
    }

    /// Queues `count` requests of the workload, all meant to go out at
    /// `intended`. Nothing is written before ``writeQueued()``. A batch per
    /// call: the generator shares a core with the server it measures, and
    /// what it spends per request is taken from the server.
    func queue(_ count: Int, _ workload: Workload, intended: UInt64, random: inout SplitMix64) {
        switch transport {
        case .redis(let stream):
            for _ in 0..<count {
                stream.queue(stream.request)
                inFlight.push(InFlight(operation: .get, payment: 0, paymentNumber: 0, intended: intended))
            }
        case .switchyard(let connection):
            for _ in 0..<count { queue(workload, intended: intended, random: &random, on: connection) }
        }
    }

    private func queue(_ workload: Workload, intended: UInt64, random: inout SplitMix64, on connection: Connection) {
        var operation = workload.nextOperation(&random)
        var report: PendingReport?
        if operation == .report && workload.reportsOutcomes {
            report = pendingReports.pop()
            if report == nil { operation = workload.routedOperation }
        }
        let payment: Int32
        let paymentNumber: UInt64
        if let report {
            (payment, paymentNumber) = (report.payment, report.paymentNumber)
        } else {
            payment = workload.paymentIndex(connection: number, &random)
            sequence += 1
            paymentNumber = number << 40 | sequence
        }
        let outcome = workload.encode(
            operation, payment: Int(payment), paymentNumber: paymentNumber, report: report, random: &random,
            on: connection)
        inFlight.push(
            InFlight(
                operation: operation, payment: payment, paymentNumber: paymentNumber, intended: intended,
                outcome: outcome))
    }

    /// Writes as much of the queue as the socket takes; true when all is written.
    func writeQueued() throws -> Bool {
        switch transport {
        case .switchyard(let connection): try connection.writeQueued()
        case .redis(let stream): try stream.writeQueued()
        }
    }

    /// Reads what arrived and hands each completed reply to `handle` with
    /// the request it answers.
    func readReplies(_ workload: Workload, _ handle: (InFlight, Verdict) -> Void) throws {
        switch transport {
        case .switchyard(let connection):
            try connection.readAvailable()
            while try connection.nextReply({ header, body in
                if header.opcode == .none {
                    notices[header.status.rawValue, default: 0] += 1
                    return
                }
                guard let request = inFlight.pop() else { return }
                let verdict: Verdict
                if header.status != .ok {
                    verdict = .error(header.status.rawValue)
                } else if header.opcode == .authorize || header.opcode == .decide, body.first == 0 {
                    // Both replies open with AUTHORIZE's `allowed` byte.
                    verdict = .refused
                } else {
                    verdict = .answered
                    if header.opcode == .report, let result = body.first, result < 3 {
                        reportResults[Int(result)] += 1
                        if result != 1 && request.outcome != PaymentOutcome.declined.rawValue {
                            attributableReports += 1
                        }
                    }
                    if workload.reportsOutcomes { rememberOutcome(of: request, header.opcode, body, workload) }
                }
                handle(request, verdict)
            }) {}
        case .redis(let stream):
            let (replies, errors) = try stream.readRedisReplies()
            for index in 0..<replies {
                guard let request = inFlight.pop() else { break }
                handle(request, index < errors ? .error(.max) : .answered)
            }
        }
    }

    /// Keeps a routed payment's decision id and first gateway, to report
    /// the attempt's outcome in a later REPORT slot.
    private func rememberOutcome(
        of request: InFlight, _ opcode: Opcode, _ body: UnsafeRawBufferPointer, _ workload: Workload
    ) {
        let route: UnsafeRawBufferPointer
        switch opcode {
        case .route: route = body
        case .decide where body.count > AuthorizeReply.size:
            route = UnsafeRawBufferPointer(rebasing: body[AuthorizeReply.size...])
        default: return
        }
        var reader = BodyReader(route)
        let decisionID = reader.u64()
        _ = reader.u32()
        guard reader.u8() > 0 else { return }
        let gateway = reader.str8()
        guard !reader.failed else { return }
        guard pendingReports.count < LoadConnection.pendingLimit else {
            droppedReports += 1
            return
        }
        pendingReports.push(
            PendingReport(
                payment: request.payment, paymentNumber: request.paymentNumber, decisionID: decisionID,
                gateway: workload.gatewayIndex(gateway)))
    }
}

/// A non-blocking socket speaking just enough RESP for PING and GET: the
/// request is `PING` (what redis-benchmark's ping_mbulk sends) or `GET key`;
/// replies are simple strings, errors or bulk strings.
final class RawStream {
    static let ping = Array("*1\r\n$4\r\nPING\r\n".utf8)
    static func get(_ key: String) -> [UInt8] { Array("*2\r\n$3\r\nGET\r\n$\(key.utf8.count)\r\n\(key)\r\n".utf8) }

    let fd: Int32
    let request: [UInt8]
    /// Bytes of a bulk string's body (and its CRLF) still to skip.
    private var bulkRemaining = 0
    private var header: [UInt8] = []
    private var output: [UInt8] = []
    private var written = 0
    private var input = [UInt8](repeating: 0, count: 65_536)
    private var lineIsError = false
    private var atLineStart = true

    init(address: SocketAddress, request: [UInt8]) throws {
        self.request = request
        fd = try Socket.connect(to: address, timeoutMilliseconds: 2_000)
        try Socket.setBlocking(fd, false)
    }

    deinit { Descriptor.close(fd) }

    func queue(_ bytes: [UInt8]) { output += bytes }

    func writeQueued() throws -> Bool {
        while written < output.count {
            let result = try output[written...].withUnsafeBytes {
                try Descriptor.write(fd, from: $0.baseAddress!, count: $0.count)
            }
            guard let count = result else { return false }
            written += count
        }
        output.removeAll(keepingCapacity: true)
        written = 0
        return true
    }

    /// The replies completed by what arrived, and how many of them were
    /// errors (errors are counted, not placed: a GET or PING never fails
    /// in these runs unless the server does).
    func readRedisReplies() throws -> (replies: Int, errors: Int) {
        let result = try input.withUnsafeMutableBytes {
            try Descriptor.read(fd, into: $0.baseAddress!, count: $0.count)
        }
        guard let count = result else { return (0, 0) }
        if count == 0 { throw ClientError.connectionClosed }
        var replies = 0
        var errors = 0
        var index = 0
        while index < count {
            if bulkRemaining > 0 {
                let skip = min(bulkRemaining, count - index)
                bulkRemaining -= skip
                index += skip
                if bulkRemaining == 0 { replies += 1 }
                continue
            }
            let byte = input[index]
            index += 1
            if atLineStart {
                lineIsError = byte == UInt8(ascii: "-")
                atLineStart = false
                header.removeAll(keepingCapacity: true)
            }
            header.append(byte)
            guard byte == UInt8(ascii: "\n") else { continue }
            atLineStart = true
            // A bulk string header ($n) is followed by n bytes and CRLF; $-1 is a nil reply.
            if header.first == UInt8(ascii: "$"),
                let length = Int(String(decoding: header.dropFirst().dropLast(2), as: UTF8.self)),
                length >= 0
            {
                bulkRemaining = length + 2
                continue
            }
            replies += 1
            if lineIsError { errors += 1 }
        }
        return (replies, errors)
    }
}
