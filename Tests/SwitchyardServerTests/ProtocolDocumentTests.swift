import Foundation
import Logging
import SwitchyardCore
import SwitchyardTesting
import SwitchyardWire
import Testing

@testable import SwitchyardServer

/// Keeps docs/protocol.md and the code in step: every hex example in the
/// document is fed to the request handler, and its reply must be the
/// documented bytes exactly.
@Suite struct ProtocolDocumentTests {
    static let document: String = {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        return (try? String(contentsOf: root.appendingPathComponent("docs/protocol.md"), encoding: .utf8)) ?? ""
    }()

    /// Named hex blocks: ```hex NAME, one or more lines of hex pairs, `#` starts a comment.
    static let examples: [String: [UInt8]] = {
        var found: [String: [UInt8]] = [:]
        var name: String?
        var bytes: [UInt8] = []
        for line in document.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("```hex ") {
                name = String(line.dropFirst(7))
                bytes = []
            } else if line.hasPrefix("```"), let current = name {
                found[current] = bytes
                name = nil
            } else if name != nil {
                let code = line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
                bytes += code.split(separator: " ").compactMap { UInt8($0, radix: 16) }
            }
        }
        return found
    }()

    static let exchanges: [String] = examples.keys.filter { $0.hasSuffix(".request") }
        .map { String($0.dropLast(".request".count)) }.sorted()

    /// The configuration behind the ROUTE and REPORT examples.
    /// The key examples authorize with, under a fixed secret.
    static let keyHasher = try! KeyHasher(secret: Array("switchyard protocol document secret".utf8))

    static let routingConfiguration: Configuration = {
        var configuration = TestServer.routingConfiguration()
        var merchant = MerchantConfiguration(id: "m_123")
        var scoped = MerchantConfiguration.Key(digest: keyHasher.digest(of: "sk_live_7c1e"))
        scoped.scopes = ["payments:create"]
        merchant.keys = [MerchantConfiguration.Key(digest: keyHasher.digest(of: "sk_live_9f2c")), scoped]
        merchant.limits = [MerchantLimit(RateLimit(rate: 100, periodNanoseconds: 1_000_000_000, burst: 50))]
        configuration.merchants = [merchant]
        configuration.server.adminTokenHash = AdminTokenDigest(token: "t0ken")
        var labelled = RoutingRule(name: "app-razorpay", output: .priority([["razorpay"]]))
        labelled.conditions.labels = ["channel": .oneOf(["app"])]
        labelled.mode = .strict
        configuration.routing.rules = [labelled]
        return configuration
    }()

    /// A handler whose routing has seen some history: razorpay 197 of 200
    /// card payments at 2.3 s, payu 45 of 50 at 1.8 s, cashfree nothing.
    /// Seeds are fixed, so the replies are exact.
    var handler: RequestHandler {
        let configuration = Self.routingConfiguration
        let service = RoutingService(
            configuration: configuration, loops: 1, logger: Logger(label: "docs"), seed: 7, instanceTag: 0x5359,
            keyHasher: Self.keyHasher)
        let card = Segment(method: 0)
        for (gateway, successes, total, latency) in [(0, 197, 200, 2_300), (1, 45, 50, 1_800)]
            as [(Int, Int, Int, UInt32)]
        {
            for i in 0..<total {
                let report = OutcomeReport(
                    gateway: gateway, merchant: 0, segment: card, outcome: i < successes ? .success : .gatewayError,
                    latencyMilliseconds: latency, decisionVersion: nil)
                service.rings[0].push(.report(report, tableGeneration: 1))
            }
        }
        service.merge(at: 1_000_000_000)
        let routing = LoopRouting(service: service, loopIndex: 0, seed: 11)
        routing.now = 1_000_000_000
        return RequestHandler(settings: ServerSettings(configuration.server), routing: routing)
    }

    func answer(_ request: [UInt8]) -> [UInt8] {
        var output = [UInt8](repeating: 0, count: 65_536)
        let progress = request.withUnsafeBytes { input in
            output.withUnsafeMutableBytes { handler.process(input: input, output: $0) }
        }
        #expect(progress.consumed == request.count)
        return Array(output[..<progress.produced])
    }

    @Test func theDocumentHasExamples() {
        #expect(Self.exchanges.count >= 18)
        for name in Self.exchanges { #expect(Self.examples[name + ".reply"] != nil, "\(name) has no reply") }
    }

    @Test(arguments: exchanges)
    func documentedReplyIsWhatTheServerSends(name: String) throws {
        let request = try #require(Self.examples[name + ".request"])
        let reply = try #require(Self.examples[name + ".reply"])
        #expect(answer(request) == reply)
    }

    @Test(arguments: [
        ("too-many-connections.notice", Status.tooManyConnections),
        ("idle-timeout.notice", Status.idleTimeout),
        ("frame-timeout.notice", Status.frameTimeout),
        ("shutting-down.notice", Status.shuttingDown),
    ])
    func documentedNoticesAreWhatTheServerSends(name: String, status: Status) throws {
        let documented = try #require(Self.examples[name])
        var output = [UInt8](repeating: 0, count: 1_024)
        let count = output.withUnsafeMutableBytes {
            writeError(status, for: FrameHeader(opcode: .none, requestID: 0), close: true, into: $0)
        }
        #expect(Array(output[..<count]) == documented)
    }

    @Test func theClientEncodesDocumentedRequestsByteForByte() throws {
        var output = [UInt8](repeating: 0, count: 256)
        let hello = Hello(features: .all, clientName: "shop-api")
        let count = output.withUnsafeMutableBytes {
            FrameEncoder.encode(into: $0, header: FrameHeader(opcode: .hello, requestID: 1)) { hello.write(to: &$0) }
        }
        #expect(Array(output[..<count!]) == Self.examples["hello.request"])
        #expect(Frames.ping(id: 2, payload: Array("hi".utf8)) == Self.examples["ping.request"])
    }

    /// Hex blocks named `NAME.client`: admin requests, answered off the handler by the admin thread.
    static let adminRequests: [String: AdminRequest.Operation] = [
        "admin-stats": .stats, "admin-health": .health,
        "admin-set-weight": .setWeight(gateway: "razorpay", thousandths: 1_500),
        "admin-breaker": .breaker(gateway: "razorpay", method: "upi", action: .forceOpen),
        "admin-gateway-state": .gatewayState(gateway: "payu", state: .draining), "admin-reload": .reload,
        "admin-merchant": .merchant(id: "m_123"), "admin-explain": .explain(decisionID: 0x1D2C_3B4A),
        "admin-merchant-status": .merchantStatus(id: "m_123", status: .suspended),
    ]

    @Test func theClientEncodesDocumentedAdminRequestsByteForByte() throws {
        #expect(
            Set(Self.examples.keys.filter { $0.hasSuffix(".client") })
                == Set(Self.adminRequests.keys.map { $0 + ".client" }))
        for (name, operation) in Self.adminRequests {
            let request = AdminRequest(token: "t0ken", operation: operation)
            let documented = try #require(Self.examples[name + ".client"])
            var output = [UInt8](repeating: 0, count: 4_096)
            let count = output.withUnsafeMutableBytes {
                FrameEncoder.encode(
                    into: $0, header: FrameHeader(opcode: request.opcode, requestID: UInt32(documented[8]))
                ) { request.write(to: &$0) }
            }
            #expect(Array(output[..<count!]) == documented, "\(name)")
            // And the server reads back what the client meant.
            let body = documented[FrameHeader.size...]
            let read = try Array(body).withUnsafeBytes { try AdminRequest(opcode: request.opcode, body: $0) }
            #expect(read == request, "\(name)")
            // With the right token the handler hands the request over untouched.
            let progress = documented.withUnsafeBytes { input in
                output.withUnsafeMutableBytes { handler.process(input: input, output: $0) }
            }
            #expect(progress == RequestHandler.Progress(consumed: 0, produced: 0, stop: .admin), "\(name)")
        }
    }

    @Test func documentedAdminReplyBodiesDecode() throws {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        func body(_ name: String) throws -> Data {
            let marker = "```json \(name).reply-body\n"
            let start = try #require(Self.document.range(of: marker), "\(name)").upperBound
            let end = try #require(Self.document[start...].range(of: "```")).lowerBound
            return Data(Self.document[start..<end].utf8)
        }
        _ = try decoder.decode(AdminStats.self, from: body("admin-stats"))
        #expect(try decoder.decode(AdminHealth.self, from: body("admin-health")).rows.count == 2)
        #expect(try decoder.decode(AdminExplain.self, from: body("admin-explain")).excluded.count == 1)
        for name in ["admin-set-weight", "admin-breaker", "admin-gateway-state", "admin-merchant-status"] {
            _ = try decoder.decode(AdminChange.self, from: body(name))
        }
        _ = try decoder.decode(AdminReload.self, from: body("admin-reload"))
        #expect(try decoder.decode(AdminMerchant.self, from: body("admin-merchant")).status == "suspended")
    }

    @Test func everyOpcodeAndStatusIsDocumented() {
        for opcode in Opcode.allDefined {
            #expect(Self.document.contains("`\(opcode.name)`"), "\(opcode) missing from docs/protocol.md")
        }
        for status in Status.allDefined {
            #expect(
                Self.document.contains("| \(status.rawValue) | `\(status.name)` |"),
                "\(status) missing from docs/protocol.md")
        }
    }
}
