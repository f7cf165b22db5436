import Logging
import SwitchyardCore
import SwitchyardTesting
import SwitchyardWire
import Testing

@testable import SwitchyardServer

/// The protocol rules, without sockets: bytes in, bytes out.
@Suite struct RequestHandlerTests {
    let handler: RequestHandler = {
        var configuration = Configuration()
        configuration.server = TestServer.configuration()
        configuration.routing.reportDedupCapacity = 1_024
        let service = RoutingService(
            configuration: configuration, loops: 1, logger: Logger(label: "test"), seed: 1, instanceTag: 1,
            keyHasher: nil)
        return RequestHandler(
            settings: ServerSettings(configuration.server),
            routing: LoopRouting(service: service, loopIndex: 0, seed: 1))
    }()

    /// Feeds `input` in chunks the way the event loop does (unconsumed bytes
    /// stay at the front of the buffer) and returns all output.
    func run(_ input: [UInt8], chunks: [Int], outputCapacity: Int = 65_536) -> (
        output: [UInt8], stops: [RequestHandler.Stop]
    ) {
        var buffered: [UInt8] = []
        var output: [UInt8] = []
        var stops: [RequestHandler.Stop] = []
        var offset = 0
        for size in chunks + [input.count] where offset < input.count {
            let end = min(input.count, offset + size)
            buffered += input[offset..<end]
            offset = end
            while true {
                var out = [UInt8](repeating: 0, count: outputCapacity)
                let progress = buffered.withUnsafeBytes { inBytes in
                    out.withUnsafeMutableBytes { handler.process(input: inBytes, output: $0) }
                }
                output += out[..<progress.produced]
                buffered.removeFirst(progress.consumed)
                stops.append(progress.stop)
                if progress.stop != .needOutputSpace { break }
            }
        }
        return (output, stops)
    }

    func expectedPingReplies(_ ids: Range<UInt32>, payload: [UInt8] = []) -> [UInt8] {
        ids.flatMap { id in
            var frame = Frames.ping(id: id, payload: payload)
            frame[4] = 0x01  // REPLY
            return frame
        }
    }

    @Test func aFrameSplitAtEveryBytePositionIsAnsweredOnce() {
        let frame = Frames.ping(id: 77, payload: Array("split me".utf8))
        for split in 1..<frame.count {
            let (output, _) = run(frame, chunks: [split])
            #expect(output == expectedPingReplies(77..<78, payload: Array("split me".utf8)), "split at \(split)")
        }
    }

    @Test func bytesArrivingOneAtATimeAreAnsweredInOrder() {
        let input = (1..<21).flatMap { Frames.ping(id: UInt32($0)) }
        let (output, _) = run(input, chunks: Array(repeating: 1, count: input.count))
        #expect(output == expectedPingReplies(1..<21))
    }

    @Test func thousandsOfPipelinedFramesInOneWrite() {
        let input = (1..<5_001).flatMap { Frames.ping(id: UInt32($0)) }
        let (output, stops) = run(input, chunks: [input.count], outputCapacity: 16_384)
        #expect(output == expectedPingReplies(1..<5_001))
        #expect(stops.contains(.needOutputSpace), "a small output makes the handler stop and resume")
    }

    @Test func garbageAnswersBadMagicAndCloses() {
        let (output, stops) = run(Array("hello there\n".utf8), chunks: [12])
        #expect(stops == [.close])
        #expect(output.count > 16)
        #expect(output[6] == UInt8(Status.badMagic.rawValue))
        #expect(output[4] == 0x03, "REPLY | CLOSE")
    }

    @Test func framesBeforeGarbageAreStillAnswered() {
        let input = Frames.ping(id: 1) + Frames.ping(id: 2) + [0xFF, 0xFF]
        let (output, stops) = run(input, chunks: [input.count])
        #expect(stops == [.close])
        #expect(Array(output.prefix(32)) == expectedPingReplies(1..<3))
        #expect(output[32 + 6] == UInt8(Status.badMagic.rawValue))
    }

    @Test func wrongVersionAndOversizedBodyClose() {
        let (v2, v2Stops) = run(Frames.make(.ping, id: 3, version: 2), chunks: [16])
        #expect(v2Stops == [.close])
        #expect(v2[6] == UInt8(Status.unsupportedVersion.rawValue))

        var huge = Frames.make(.ping, id: 4)
        huge.replaceSubrange(12..<16, with: Frames.le(UInt32(16_385)))
        let (tooLarge, stops) = run(huge, chunks: [16])
        #expect(stops == [.close])
        #expect(tooLarge[6] == UInt8(Status.frameTooLarge.rawValue))
        #expect(Array(tooLarge[8..<12]) == Frames.le(UInt32(4)), "request id echoed")
    }

    @Test func aTruncatedFrameWaitsForMore() {
        let frame = Frames.ping(id: 5, payload: [1, 2, 3])
        let (output, stops) = run(Array(frame.dropLast()), chunks: [frame.count - 1])
        #expect(output.isEmpty)
        #expect(stops == [.needInput])
    }

    @Test func adminRequestsAreRefusedWithoutTheTokenAndTheStreamGoesOn() {
        for opcode in Opcode.allDefined where opcode.isAdmin {
            // No admin_token_hash in this handler's settings.
            let input = Frames.make(opcode, id: 9, body: [1, 0, 0x41]) + Frames.ping(id: 10)
            let (output, _) = run(input, chunks: [input.count])
            #expect(Array(output[6..<8]) == Frames.le(Status.adminDisabled.rawValue), "\(opcode)")
            #expect(output[4] == 0x01, "no CLOSE for \(opcode)")
            #expect(Array(output.suffix(16)) == expectedPingReplies(10..<11))
            // A body without the token is malformed, whatever the configuration.
            let bare = Frames.make(opcode, id: 11)
            let (refused, _) = run(bare, chunks: [bare.count])
            #expect(Array(refused[6..<8]) == Frames.le(Status.malformedBody.rawValue), "\(opcode)")
        }
    }

    @Test func helloGrantsWhatIsServedAndReportsLimits() throws {
        let hello = Hello(features: .all, clientName: "t")
        var body = [UInt8](repeating: 0, count: 64)
        let count = body.withUnsafeMutableBytes { raw in
            var writer = BodyWriter(raw)
            hello.write(to: &writer)
            return writer.count
        }
        let (output, _) = run(Frames.make(.hello, id: 1, body: Array(body[..<count])), chunks: [100])
        let reply = try #require(
            output.withUnsafeBytes { HelloReply(body: UnsafeRawBufferPointer(rebasing: $0[16...])) })
        #expect(reply.features == [.authorize, .route, .decide, .report, .admin])
        #expect(reply.maxBodyBytes == 16_384)
        #expect(reply.instanceID == "sy-1")
        #expect(reply.serverName == "switchyard")
    }

    @Test func handlingPingsAllocatesNothing() {
        let input = (1..<1_001).flatMap { Frames.ping(id: UInt32($0), payload: [1, 2, 3, 4]) }
        var output = [UInt8](repeating: 0, count: 65_536)
        let handler = self.handler
        func handleAll() -> Int {
            input.withUnsafeBytes { inBytes in
                output.withUnsafeMutableBytes { handler.process(input: inBytes, output: $0).produced }
            }
        }
        _ = handleAll()  // warm-up
        let before = Allocator.threadAllocatedBytes
        var produced = 0
        for _ in 0..<20 { produced += handleAll() }
        let allocated = Allocator.threadAllocatedBytes - before
        #expect(produced == 20 * 1_000 * 20)
        #expect(allocated == 0, "\(allocated) bytes allocated while answering 20,000 PINGs")
    }

    @Test func handlingAuthorizationsAndDecisionsAllocatesNothing() {
        let handler = ProtocolDocumentTests().handler
        let frames =
            ["sk_live_9f2c", "sk_live_bad0"].map { key in
                Frames.encode(.authorize, id: 3) {
                    AuthorizeRequest(merchantID: "m_123", credential: key, clientAddress: [10, 0, 0, 1]).write(to: &$0)
                }
            } + [
                Frames.encode(.decide, id: 4) {
                    DecideRequest(
                        authorize: AuthorizeRequest(merchantID: "m_123", credential: "sk_live_9f2c"),
                        route: RouteRequest(
                            merchantID: "m_123", paymentID: "p", method: "card", currency: "INR", amount: 100)
                    ).write(to: &$0)
                }
            ]
        var output = [UInt8](repeating: 0, count: 4_096)
        func handle(_ frame: [UInt8]) {
            frame.withUnsafeBytes { input in
                output.withUnsafeMutableBytes { _ = handler.process(input: input, output: $0) }
            }
        }
        // Warm-up: the first use of a path may instantiate runtime metadata once.
        for frame in frames { handle(frame) }
        let before = Allocator.threadAllocatedBytes
        for _ in 0..<500 {
            handle(frames[0])
            handle(frames[1])
            handle(frames[2])
        }
        let allocated = Allocator.threadAllocatedBytes - before
        #expect(allocated == 0, "\(allocated) bytes allocated for 1,000 AUTHORIZE and 500 DECIDE")
    }

    @Test func authorizingOnLeasedFleetTokensAllocatesNothing() throws {
        var configuration = ProtocolDocumentTests.routingConfiguration
        configuration.redis.address = "127.0.0.1:6379"
        configuration.merchants[0].limits = [
            MerchantLimit(RateLimit(rate: 1_000_000, periodNanoseconds: 1_000_000_000, burst: 100_000))
        ]
        let service = RoutingService(
            configuration: configuration, loops: 1, logger: Logger(label: "lease"), seed: 7, instanceTag: 1,
            keyHasher: ProtocolDocumentTests.keyHasher)
        let pools = try #require(service.current.authorization.leases)
        let routing = LoopRouting(service: service, loopIndex: 0, seed: 11)
        routing.now = 1_000_000_000
        #expect(pools.install(0, tokens: 10_000, expiresAt: 60_000_000_000, now: routing.now))
        let handler = RequestHandler(settings: ServerSettings(configuration.server), routing: routing)
        let frame = Frames.encode(.authorize, id: 3) {
            AuthorizeRequest(merchantID: "m_123", credential: "sk_live_9f2c").write(to: &$0)
        }
        var output = [UInt8](repeating: 0, count: 4_096)
        func handle() {
            frame.withUnsafeBytes { input in
                output.withUnsafeMutableBytes { _ = handler.process(input: input, output: $0) }
            }
        }
        handle()
        let before = Allocator.threadAllocatedBytes
        for _ in 0..<1_000 { handle() }
        let allocated = Allocator.threadAllocatedBytes - before
        #expect(allocated == 0, "\(allocated) bytes allocated for 1,000 AUTHORIZE on leased tokens")
        #expect(pools.leases(0, now: routing.now).tokens == 10_000 - 1_001, "all spent from the lease")
    }

    @Test func handlingRoutesAndReportsAllocatesNothing() {
        let handler = ProtocolDocumentTests().handler
        let route = Frames.route(
            id: 1, RouteRequest(merchantID: "m_123", paymentID: "p", method: "card", currency: "INR", amount: 100))
        // Distinct attempts, so every report is recorded and pushed to the merger.
        let reports = (0..<1_000).map {
            Frames.report(
                id: 2,
                ReportRequest(
                    merchantID: "m_123", decisionID: 0, paymentID: "pay_\($0)", gateway: "payu", outcome: 3,
                    latencyMilliseconds: 700, method: "card", currency: "INR", amount: 100))
        }
        var output = [UInt8](repeating: 0, count: 65_536)
        var produced = 0
        func handle(_ frame: [UInt8]) {
            frame.withUnsafeBytes { input in
                output.withUnsafeMutableBytes { produced += handler.process(input: input, output: $0).produced }
            }
        }
        // Warm-up, with a report of its own: the first use of a path may
        // instantiate runtime metadata once.
        handle(route)
        handle(
            Frames.report(
                id: 2,
                ReportRequest(
                    merchantID: "m_123", decisionID: 0, paymentID: "warm-up", gateway: "payu", outcome: 3,
                    latencyMilliseconds: 700, method: "card", currency: "INR", amount: 100)))
        let before = Allocator.threadAllocatedBytes
        // Index loops: generic iteration allocates in debug builds, in the test as anywhere.
        for i in 0..<reports.count {
            handle(route)
            handle(reports[i])
        }
        let allocated = Allocator.threadAllocatedBytes - before
        #expect(produced > 1_000 * 40)
        #expect(allocated == 0, "\(allocated) bytes allocated for 1,000 ROUTE and 1,000 REPORT")
    }
}
