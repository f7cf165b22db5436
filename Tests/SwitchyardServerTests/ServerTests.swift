import Foundation
import Glibc
import SwitchyardClient
import SwitchyardCore
import SwitchyardPosix
import SwitchyardServer
import SwitchyardTesting
import SwitchyardWire
import Testing

/// The event loops over real loopback sockets: the in-process server on port 0.
@Suite struct ServerTests {
    @Test func helloAndPingThroughTheClient() throws {
        let server = try TestServer()
        let connection = try Connection(to: server.address)
        let hello = try connection.hello(clientName: "server-tests")
        #expect(hello.version == 1)
        #expect(hello.instanceID == "sy-1")
        #expect(hello.maxBodyBytes == 16_384)
        #expect(try connection.ping(payload: [9, 8, 7]) == [9, 8, 7])
        #expect(try connection.ping() == [])
    }

    @Test func adminRequestsNeedTheTokenAndAnUnknownOpcodeIsRefused() throws {
        let server = try TestServer()
        let connection = try Connection(to: server.address)
        #expect(
            throws: ClientError.server(
                status: .adminDisabled, message: "admin operations are off: server.admin_token_hash is not configured",
                closing: false)
        ) {
            try connection.admin(AdminRequest(token: "t", operation: .stats))
        }
        #expect(throws: ClientError.server(status: .unknownOpcode, message: "unknown opcode", closing: false)) {
            try connection.call(Opcode(rawValue: 0x7F))
        }
        #expect(try connection.ping(payload: [1]) == [1])
    }

    /// An admin reply longer than a connection's output buffer (the health
    /// table of 60 gateways × 4 methods, about 60 KB against 20 KB) goes out
    /// whole, and the frames pipelined behind the admin request are
    /// answered after it, in order.
    @Test func aLongAdminReplyGoesOutWholeAndPipelinedFramesWaitForIt() throws {
        var configuration = TestServer.routingConfiguration()
        configuration.server.adminTokenHash = AdminTokenDigest(token: "t0ken")
        configuration.gateways = (0..<60).map {
            GatewayConfiguration(
                id: "gateway_\($0)", methods: ["card", "upi", "wallet", "netbanking"], currencies: ["INR"])
        }
        let server = try TestServer(configuration: configuration)
        let connection = try Connection(to: server.address)
        let ping = connection.send(.ping, bytes: [1])
        let health = connection.send(.adminHealth) { AdminRequest(token: "t0ken", operation: .health).write(to: &$0) }
        let after = connection.send(.ping, bytes: [2])
        try connection.flush()
        let replies = try (0..<3).map { _ in try connection.receive() }
        #expect(replies.map(\.header.requestID) == [ping, health, after])
        #expect(replies[1].header.status == .ok)
        #expect(replies[1].body.count > 40_960, "over twice the 20 KiB buffer: \(replies[1].body.count) bytes")
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        let table = try decoder.decode(AdminHealth.self, from: Data(replies[1].body))
        #expect(table.rows.count == 240)
        #expect(replies[2].body == [2])
    }

    @Test func pipelinedRequestsAreAnsweredInOrder() throws {
        let server = try TestServer()
        let connection = try Connection(to: server.address)
        var sent: [UInt32] = []
        for i in 0..<5_000 { sent.append(connection.send(.ping, bytes: [UInt8(i & 0xFF)])) }
        try connection.flush()
        for (i, id) in sent.enumerated() {
            let reply = try connection.receive()
            #expect(reply.header.requestID == id)
            #expect(reply.body == [UInt8(i & 0xFF)])
        }
    }

    @Test func thousandsOfFramesInOneWriteOverARawSocket() throws {
        let server = try TestServer()
        let raw = try RawConnection(port: server.port)
        let count = 10_000
        try raw.write((1...count).flatMap { Frames.ping(id: UInt32($0)) })
        for id in 1...count {
            let (header, _) = try raw.readFrame()
            #expect(header.requestID == UInt32(id))
            if header.requestID != UInt32(id) { break }
        }
    }

    @Test func aFrameSplitAcrossWritesAtEveryPosition() throws {
        let server = try TestServer()
        let raw = try RawConnection(port: server.port)
        let frame = Frames.ping(id: 1, payload: Array("payload".utf8))
        for split in 1..<frame.count {
            try raw.write(Array(frame[..<split]))
            usleep(1_000)  // gives the server a chance to read the first part alone
            try raw.write(Array(frame[split...]))
            let (header, body) = try raw.readFrame()
            #expect(header.requestID == 1 && body == Array("payload".utf8), "split at \(split)")
        }
    }

    @Test(arguments: [
        ("garbage", Array("GET / HTTP/1.1\r\n\r\n".utf8), Status.badMagic),
        ("wrong magic", Frames.make(.ping, id: 1, magic: (0x53, 0x5A)), Status.badMagic),
        ("version 2", Frames.make(.ping, id: 1, version: 2), Status.unsupportedVersion),
        (
            "body over the limit", Array(Frames.make(.ping, id: 1).prefix(12)) + Frames.le(UInt32(1 << 20)),
            Status.frameTooLarge
        ),
    ])
    func badStreamsGetTheirErrorThenAClose(name: String, bytes: [UInt8], status: Status) throws {
        let server = try TestServer()
        let bystander = try Connection(to: server.address)
        let raw = try RawConnection(port: server.port)
        try raw.write(bytes)
        let (header, body) = try raw.readFrame()
        #expect(header.status == status, "\(name)")
        #expect(header.flags == [.reply, .close])
        #expect(body.withUnsafeBytes { ErrorReply.message(body: $0) }.isEmpty == false)
        #expect(raw.isClosedByServer(), "\(name): the connection is closed after the error")
        #expect(try bystander.ping(payload: [42]) == [42], "other connections carry on")
    }

    @Test func nonFatalErrorsKeepTheConnection() throws {
        let server = try TestServer()
        let raw = try RawConnection(port: server.port)
        try raw.write(
            Frames.make(.ping, id: 1, flags: 0x0001) + Frames.make(.hello, id: 2, body: [1]) + Frames.ping(id: 3))
        #expect(try raw.readFrame().header.status == .invalidHeader)
        #expect(try raw.readFrame().header.status == .malformedBody)
        let last = try raw.readFrame().header
        #expect(last.status == .ok && last.requestID == 3)
    }

    @Test func aTruncatedFrameFollowedByEndOfStreamIsDroppedQuietly() throws {
        let server = try TestServer()
        let raw = try RawConnection(port: server.port)
        try raw.write(Array(Frames.ping(id: 1, payload: [1, 2, 3, 4]).dropLast(2)))
        raw.shutdownWrite()
        #expect(raw.isClosedByServer())
        let connection = try Connection(to: server.address)
        #expect(try connection.ping(payload: [5]) == [5])
    }

    @Test func aClientThatNeverReadsIsThrottledAndLosesNothing() throws {
        let server = try TestServer { $0.server.loops = 1 }
        let slow = try RawConnection(port: server.port)
        let (complete, unsent) = try slow.floodWithoutReading(payloadBytes: 8_192, maxFrames: 20_000)
        #expect(complete < 20_000, "the server kept reading a client that never reads")
        // The loop that holds the stalled client still serves others.
        let other = try Connection(to: server.address)
        #expect(try other.ping(payload: [1]) == [1])
        // Now read: every complete request is answered, in order, then the
        // last (partly written) one once it is finished.
        func expectReply(_ id: Int) throws -> Bool {
            let (header, body) = try slow.readFrame()
            #expect(header.requestID == UInt32(id) && body.count == 8_192)
            return header.requestID == UInt32(id)
        }
        for id in 1...complete where try !expectReply(id) { break }
        if !unsent.isEmpty {
            try slow.write(unsent)
            _ = try expectReply(complete + 1)
        }
    }

    @Test func aPeerThatStopsSendingAndReadingDoesNotSpinTheLoop() throws {
        let server = try TestServer { $0.server.loops = 1 }
        let raw = try RawConnection(port: server.port)
        // Fill both directions until the server stops reading us, then close
        // our writing side while still not reading: the server is left with
        // unsent replies to a peer that has said "no more requests".
        let (sent, _) = try raw.floodWithoutReading()
        raw.shutdownWrite()
        usleep(50_000)
        // With no traffic a loop wakes for its sweep four times a second; a
        // loop spinning on a level-triggered event would wake thousands of times.
        let before = server.server.loopWakeups[0]
        usleep(300_000)
        let wakeups = server.server.loopWakeups[0] - before
        #expect(wakeups < 20, "the loop woke \(wakeups) times in 300 ms with nothing to do")
        // Reading now delivers every complete request's reply, then the close.
        for _ in 0..<sent { _ = try raw.readFrameBytes() }
        #expect(raw.isClosedByServer())
    }

    @Test func aSlowLorisIsClosedWhenItsFrameTakesLongerThanTheFrameTimeout() throws {
        let server = try TestServer { $0.server.frameTimeoutMilliseconds = 200 }
        let raw = try RawConnection(port: server.port)
        // A byte every 20 ms keeps the connection far from idle, but the
        // frame's 20 bytes take 400 ms: the frame timeout ends it first.
        for byte in Frames.ping(id: 1, payload: [1, 2, 3, 4]) {
            guard (try? raw.write([byte])) != nil else { break }  // closed under us
            usleep(20_000)
        }
        let (header, _) = try raw.readFrame()
        #expect(header.status == .frameTimeout)
        #expect(header.flags == [.reply, .close])
        #expect(raw.isClosedByServer())
    }

    @Test func framesThatCompleteInTimeAreAnsweredHoweverSlowlyTheyArrive() throws {
        let server = try TestServer { $0.server.frameTimeoutMilliseconds = 1_000 }
        let raw = try RawConnection(port: server.port)
        // Four 16-byte frames a byte every 25 ms: 400 ms a frame, well inside
        // the timeout, but 1.6 s in all: the clock restarts at each frame.
        for id in 1...4 {
            for byte in Frames.ping(id: UInt32(id)) {
                try raw.write([byte])
                usleep(25_000)
            }
            let (header, _) = try raw.readFrame()
            #expect(header.status == .ok)
            #expect(header.requestID == UInt32(id))
        }
    }

    @Test func anIdleConnectionIsToldAndClosed() throws {
        let server = try TestServer { $0.server.idleTimeoutMilliseconds = 100 }
        let raw = try RawConnection(port: server.port)
        let (header, _) = try raw.readFrame()
        #expect(header.status == .idleTimeout)
        #expect(header.opcode == .none)
        #expect(header.flags == [.reply, .close])
        #expect(raw.isClosedByServer())
    }

    @Test func connectionsOverTheLimitAreRefused() throws {
        let server = try TestServer { $0.server.maxConnections = 2 }
        let first = try Connection(to: server.address)
        let second = try Connection(to: server.address)
        try first.ping()
        try second.ping()
        let third = try RawConnection(port: server.port)
        let (header, _) = try third.readFrame()
        #expect(header.status == .tooManyConnections)
        #expect(third.isClosedByServer())
        #expect(try first.ping(payload: [3]) == [3], "admitted connections are unaffected")
    }

    @Test func aClosedConnectionFreesItsPlace() throws {
        let server = try TestServer { $0.server.maxConnections = 1 }
        do {
            let first = try Connection(to: server.address)
            try first.ping()
        }
        // The close reaches the server asynchronously; retry for a bounded time.
        var admitted = false
        for _ in 0..<200 where !admitted {
            let next = try Connection(to: server.address)
            admitted = (try? next.ping()) != nil
            if !admitted { usleep(10_000) }
        }
        #expect(admitted)
    }

    @Test func shutdownAnswersWhatWasReceivedThenSaysGoodbye() throws {
        let server = try TestServer()
        let raw = try RawConnection(port: server.port)
        try raw.write((1...100).flatMap { Frames.ping(id: UInt32($0)) })
        #expect(try raw.readFrame().header.requestID == 1, "the server is serving")
        server.server.shutdown()
        for id in 2...100 { #expect(try raw.readFrame().header.requestID == UInt32(id)) }
        let (notice, _) = try raw.readFrame()
        #expect(notice.status == .shuttingDown)
        #expect(raw.isClosedByServer())
        #expect(throws: ClientError.self) { try Connection(to: server.address, connectTimeoutMilliseconds: 500) }
    }

    @Test func reloadAppliesWhatItCanAndNamesWhatNeedsARestart() throws {
        let server = try TestServer()
        var updated = Configuration()
        updated.server = TestServer.configuration()
        updated.server.listen = "127.0.0.1:1"
        updated.server.maxBodyBytes = 1_024
        updated.server.instanceID = "sy-2"
        let ignored = server.server.reload(updated)
        #expect(ignored.count == 2)
        #expect(ignored.contains { $0.hasPrefix("server.listen") })
        #expect(ignored.contains { $0.hasPrefix("server.max_body_bytes") })
        // The mailbox is read between event batches; a new HELLO sees the change.
        var instance = ""
        for _ in 0..<100 where instance != "sy-2" {
            instance = try Connection(to: server.address).hello(clientName: "t").instanceID
            if instance != "sy-2" { usleep(5_000) }
        }
        #expect(instance == "sy-2")
    }

    @Test func theServerPathAllocatesNothingPerRequest() throws {
        let server = try TestServer { $0.server.loops = 1 }
        let raw = try RawConnection(port: server.port)
        let batch = (1...100).flatMap { Frames.ping(id: UInt32($0), payload: [1, 2, 3, 4]) }
        func exchange() throws {
            try raw.write(batch)
            _ = try raw.read(count: batch.count)
        }
        for _ in 0..<20 { try exchange() }  // warm the buffer pool
        let before = try #require(server.server.loopAllocatedBytes())
        for _ in 0..<200 { try exchange() }
        let after = try #require(server.server.loopAllocatedBytes())
        #expect(after[0] - before[0] == 0, "the loop allocated \(after[0] - before[0]) bytes for 20,000 PINGs")
    }
}
