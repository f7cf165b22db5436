import ArgumentParser
import Glibc
import Histogram
import SwitchyardClient
import SwitchyardPosix
import SwitchyardWire

/// switchyard-bench: load generator for Switchyard (and, for side-by-side
/// comparisons, Redis, driven by the very same loop).
@main
struct SwitchyardBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "switchyard-bench",
        abstract: "Closed-loop load against a Switchyard daemon (PING, ROUTE, REPORT) or a Redis server (PING, GET).",
        discussion: """
            Every connection sends a batch of --pipeline requests in one write and sends the next \
            batch when all replies are in (redis-benchmark's -P). Latency is measured per request, \
            from the batch's write to the reply's arrival. The first --warmup seconds are not counted.
            """
    )

    enum Target: String, ExpressibleByArgument, CaseIterable {
        case switchyard, redis
    }

    enum Operation: String, ExpressibleByArgument, CaseIterable {
        case ping, authorize, route, decide, report, get
    }

    @Option(help: "Server address, host:port.")
    var address = "127.0.0.1:7400"

    @Option(help: "Protocol of the server: switchyard (PING frames) or redis (RESP PING).")
    var target: Target = .switchyard

    @Option(name: [.short, .customLong("connections")], help: "Concurrent connections.")
    var connections = 1

    @Option(name: [.short, .customLong("pipeline")], help: "Requests per batch on each connection.")
    var pipeline = 1

    @Option(name: [.short, .customLong("duration")], help: "Measured seconds.")
    var duration = 10.0

    @Option(help: "Seconds of load before measuring starts.")
    var warmup = 1.0

    @Option(help: "Stop after this many measured requests (0: no limit).")
    var requests = 0

    @Option(help: "What to send: ping; authorize, route, decide or report (Switchyard); get (Redis GET of --key).")
    var op: Operation = .ping

    @Option(help: "PING payload bytes (Switchyard only).")
    var payload = 0

    @Option(help: "AUTHORIZE, ROUTE, DECIDE and REPORT: the merchant.")
    var merchant = "m_1"

    @Option(help: "AUTHORIZE and DECIDE: the API key.")
    var apiKey = "sk_live_bench"

    @Option(help: "AUTHORIZE and DECIDE: spread requests over merchants m_1 ... m_N (0: just --merchant).")
    var merchants = 0

    @Option(help: "ROUTE and REPORT: payment method, currency, amount (minor units) and card network.")
    var method = "card"
    @Option var currency = "INR"
    @Option var amount: UInt64 = 49_900
    @Option var network = ""

    @Option(help: "REPORT: the gateway reported on.")
    var gateway = "razorpay"

    @Option(help: "GET: the Redis key.")
    var key = "switchyard-bench"

    @Flag(help: "Print the result as one JSON object on standard output.")
    var json = false

    @Flag(help: "No progress line.")
    var quiet = false

    @Option(help: "Also write the latency distribution (HdrHistogram percentile format) to this file.")
    var histogram: String?

    func validate() throws {
        guard (1...10_000).contains(connections) else { throw ValidationError("--connections must be 1 to 10000") }
        guard (1...4_096).contains(pipeline) else { throw ValidationError("--pipeline must be 1 to 4096") }
        guard duration > 0 && duration <= 3_600 else {
            throw ValidationError("--duration must be above 0 and at most 3600")
        }
        guard warmup >= 0 && warmup <= 600 else { throw ValidationError("--warmup must be 0 to 600") }
        guard payload >= 0 && payload <= 16_000 else { throw ValidationError("--payload must be 0 to 16000") }
        switch (target, op) {
        case (.switchyard, .get): throw ValidationError("--op get is for --target redis")
        case (.redis, .route), (.redis, .report):
            throw ValidationError("--op \(op.rawValue) is for --target switchyard")
        default: break
        }
    }

    private func switchyardRequest(connection index: Int) -> SwitchyardRequest {
        // With --merchants N, connection i speaks for merchant m_(i mod N + 1).
        let merchant = merchants > 0 ? "m_\(index % merchants + 1)" : self.merchant
        let authorize = AuthorizeRequest(merchantID: merchant, credential: apiKey, clientAddress: [10, 0, 0, 1])
        let route = RouteRequest(
            merchantID: merchant, paymentID: "bench", method: method, currency: currency, amount: amount,
            cardNetwork: network)
        switch op {
        case .authorize:
            return SwitchyardRequest(.fixed(.authorize, Self.encode { authorize.write(to: &$0) }))
        case .decide:
            let decide = DecideRequest(authorize: authorize, route: route)
            return SwitchyardRequest(.fixed(.decide, Self.encode { decide.write(to: &$0) }))
        case .route:
            return SwitchyardRequest(.fixed(.route, Self.encode { route.write(to: &$0) }))
        case .report:
            return SwitchyardRequest(
                .report(
                    ReportRequest(
                        merchantID: merchant, decisionID: 0, paymentID: "", gateway: gateway, outcome: 1,
                        latencyMilliseconds: 900, method: method, currency: currency, amount: amount,
                        cardNetwork: network)))
        case .ping, .get:
            return SwitchyardRequest(.fixed(.ping, [UInt8](repeating: 0x78, count: payload)))
        }
    }

    private static func encode(_ write: (inout BodyWriter) -> Void) -> [UInt8] {
        var body = [UInt8](repeating: 0, count: 4_096)
        let count = body.withUnsafeMutableBytes { raw in
            var writer = BodyWriter(raw)
            write(&writer)
            return writer.count
        }
        return Array(body[..<count])
    }

    func run() throws {
        let address = try SocketAddress(parsing: self.address)
        var open: [LoadConnection] = []
        for index in 0..<connections {
            switch target {
            case .switchyard:
                let connection = try Connection(to: address)
                connection.isNonBlocking = true
                open.append(.switchyard(connection, switchyardRequest(connection: index)))
            case .redis:
                open.append(
                    .redis(try RawStream(address: address, request: op == .get ? RawStream.get(key) : RawStream.ping)))
            }
        }
        let settings = LoadRun.Settings(
            connections: connections, depth: pipeline, seconds: duration, warmupSeconds: warmup,
            maxRequests: requests, progress: !quiet && !json)
        let result = try LoadRun(settings: settings).run(open)
        if let histogram { try writeHistogram(result, to: histogram) }
        let report = Report(
            target: target.rawValue, operation: op.rawValue, address: self.address, connections: connections,
            pipeline: pipeline,
            payload: payload, result: result)
        print(json ? report.json : report.text)
        if result.requests == 0 { throw ExitCode(1) }
    }

    private func writeHistogram(_ result: LoadRun.Result, to path: String) throws {
        var text = "Value(us) Percentile TotalCount 1/(1-Percentile)\n"
        for step in result.histogram.percentiles(ticksPerHalfDistance: 5) {
            let inverse =
                step.percentileLevelIteratedTo >= 100 ? "inf" : String(1 / (1 - step.percentileLevelIteratedTo / 100))
            text +=
                "\(Double(step.value) / 1_000) \(step.percentileLevelIteratedTo / 100) \(step.totalCountToThisValue) \(inverse)\n"
        }
        guard let file = fopen(path, "w") else { throw ValidationError("cannot write \(path)") }
        fputs(text, file)
        fclose(file)
    }
}

enum FileOutput {
    static func standardError(_ text: String) {
        var text = text
        text.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
    }
}
