import Glibc
import SwitchyardPosix

/// The admin listener's HTTP side, served by event loop 0 beside its
/// binary-protocol connections: a handful of short-lived connections, each
/// one GET answered and closed. It owns an epoll set of its own, which loop
/// 0 watches as one descriptor, so the loop's hot path gains no branch.
///
/// Bounded on every side: at most ``maxConnections`` at once (more are
/// closed at accept), a request head of at most 8 KiB, and
/// ``timeoutNanoseconds`` for the whole exchange (a client that never
/// finishes gets 408 and is closed).
final class AdminServer {
    static let maxConnections = 16
    static let timeoutNanoseconds: UInt64 = 5_000_000_000

    private struct Exchange {
        let fd: Int32
        let openedAt: UInt64
        var request = [UInt8](repeating: 0, count: HTTPRequestHead.maxBytes)
        var received = 0
        var response: [UInt8] = []
        var written = 0
    }

    private let epoll: Epoll
    private let listener: Int32
    private var exchanges: [Exchange?] = Array(repeating: nil, count: AdminServer.maxConnections)
    private let respond: (String) -> HTTPResponse
    private static let listenerToken = UInt64.max

    /// The descriptor loop 0 adds to its epoll set.
    var fd: Int32 { epoll.fd }

    /// `respond` answers a GET for a path; it runs on loop 0's thread.
    init(listener: Int32, respond: @escaping (String) -> HTTPResponse) throws(SyscallError) {
        epoll = try Epoll(capacity: AdminServer.maxConnections + 1)
        try epoll.add(listener, interest: .read, token: AdminServer.listenerToken)
        self.listener = listener
        self.respond = respond
    }

    deinit {
        for slot in exchanges.indices where exchanges[slot] != nil { close(slot) }
        Descriptor.close(listener)
    }

    /// Handles what is ready, without waiting.
    func serve(now: UInt64) {
        guard let ready = try? epoll.wait(timeoutMilliseconds: 0) else { return }
        for i in 0..<ready {
            let (token, interest) = epoll.event(at: i)
            if token == AdminServer.listenerToken {
                accept(now: now)
            } else if exchanges.indices.contains(Int(token)), exchanges[Int(token)] != nil {
                let slot = Int(token)
                if interest.contains(.write) { write(slot) } else { read(slot) }
            }
        }
    }

    /// Answers 408 to, and closes, exchanges that have taken too long.
    func sweep(now: UInt64) {
        for slot in exchanges.indices {
            guard let exchange = exchanges[slot], now - exchange.openedAt >= AdminServer.timeoutNanoseconds else {
                continue
            }
            if exchange.response.isEmpty {
                answer(slot, .text(408, "the request did not arrive within 5 s"))
            } else {
                close(slot)
            }
        }
    }

    private func accept(now: UInt64) {
        for _ in 0..<AdminServer.maxConnections {
            guard let fd = try? Socket.accept(listener) else { return }
            guard let slot = exchanges.firstIndex(where: { $0 == nil }) else {
                Descriptor.close(fd)
                continue
            }
            do {
                try epoll.add(fd, interest: .read, token: UInt64(slot))
                exchanges[slot] = Exchange(fd: fd, openedAt: now)
            } catch {
                Descriptor.close(fd)
            }
        }
    }

    private func read(_ slot: Int) {
        guard var exchange = exchanges[slot], exchange.response.isEmpty else { return }
        let room = exchange.request.count - exchange.received
        let count: Int?
        do {
            count = try exchange.request.withUnsafeMutableBytes { buffer in
                try Descriptor.read(exchange.fd, into: buffer.baseAddress! + exchange.received, count: room)
            }
        } catch {
            close(slot)
            return
        }
        guard let count else { return }
        guard count > 0 else {
            // The peer left before asking anything complete.
            close(slot)
            return
        }
        exchange.received += count
        exchanges[slot] = exchange
        let head = exchange.request.withUnsafeBytes {
            HTTPRequestHead(parsing: UnsafeRawBufferPointer(rebasing: $0[..<exchange.received]))
        }
        switch head {
        case .incomplete: return
        case .refused(let status, let reason): answer(slot, .text(status, reason))
        case .get(let path): answer(slot, respond(path))
        }
    }

    private func answer(_ slot: Int, _ response: HTTPResponse) {
        exchanges[slot]?.response = response.bytes
        write(slot)
    }

    private func write(_ slot: Int) {
        guard var exchange = exchanges[slot] else { return }
        while exchange.written < exchange.response.count {
            let written: Int?
            do {
                written = try exchange.response.withUnsafeBytes { bytes in
                    try Descriptor.write(
                        exchange.fd, from: bytes.baseAddress! + exchange.written,
                        count: bytes.count - exchange.written)
                }
            } catch {
                close(slot)
                return
            }
            guard let written else {
                // The peer reads slowly: go on when it has room.
                exchanges[slot] = exchange
                try? epoll.modify(exchange.fd, interest: .write, token: UInt64(slot))
                return
            }
            exchange.written += written
        }
        close(slot)
    }

    private func close(_ slot: Int) {
        guard let exchange = exchanges[slot] else { return }
        Descriptor.close(exchange.fd)
        exchanges[slot] = nil
    }
}
