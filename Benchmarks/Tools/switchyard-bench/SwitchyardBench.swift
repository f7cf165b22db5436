import ArgumentParser
import Glibc
import Histogram
import SwitchyardClient
import SwitchyardPosix
import SwitchyardWire

/// switchyard-bench: load generator for Switchyard (and, for side-by-side
/// comparisons, Redis, driven by the very same loop).
extension Operation: ExpressibleByArgument {}

@main
struct SwitchyardBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "switchyard-bench",
        abstract: "Load against a Switchyard daemon (one operation or a payments mix) or a Redis server (PING, GET).",
        discussion: """
            Closed loop (the default): every connection sends a batch of --pipeline requests in one \
            write and the next batch when all replies are in (redis-benchmark's -P); latency runs from \
            the batch's write to each reply. Open loop (--rate): requests arrive at a fixed rate over the \
            connections in turn, and latency runs from each request's intended send time, so stalls are \
            not hidden (coordinated omission corrected). The first --warmup seconds are not counted.

            --op sends one operation with fixed payment fields, connection i speaking for merchant \
            m_(i mod --merchants + 1). --mix draws every request: the operation by the mix's weights, the \
            merchant by Zipf's law over m_1 ... m_N (--merchant-skew), the method, card network and amount \
            by their distributions; every payment routed by DECIDE or ROUTE has its outcome reported in a \
            later REPORT slot (decision id, first gateway, an outcome drawn from the gateway's success rate).
            """
    )

    enum Target: String, ExpressibleByArgument, CaseIterable {
        case switchyard, redis
    }

    @Option(help: "Server address, host:port.")
    var address = "127.0.0.1:7400"

    @Option(help: "Protocol of the server: switchyard or redis (RESP).")
    var target: Target = .switchyard

    @Option(
        name: [.short, .customLong("connections")],
        help: "Concurrent connections (0 with --attack: the attack alone, for --duration seconds).")
    var connections = 1

    @Option(name: [.short, .customLong("pipeline")], help: "Closed loop: requests per batch on each connection.")
    var pipeline = 1

    @Option(help: "Open loop: requests a second over all connections (0: closed loop).")
    var rate = 0.0

    @Flag(help: "Open loop: exponential gaps between arrivals (Poisson) instead of even ones.")
    var poisson = false

    @Option(name: [.short, .customLong("duration")], help: "Measured seconds.")
    var duration = 10.0

    @Option(help: "Seconds of load before measuring starts.")
    var warmup = 1.0

    @Option(help: "Stop after this many measured requests (0: no limit).")
    var requests = 0

    @Option(help: "One operation: ping; authorize, route, decide or report (Switchyard); get (Redis GET of --key).")
    var op: Operation = .ping

    @Option(help: "A mix, name=weight,...: of decide, route, authorize, report, ping (Switchyard; draws payments).")
    var mix: String?

    @Option(help: "PING payload bytes (Switchyard only).")
    var payload = 0

    @Option(help: "The merchant when --merchants is 0.")
    var merchant = "m_1"

    @Option(help: "Merchants m_1 ... m_N (0: just --merchant).")
    var merchants = 0

    @Option(help: "AUTHORIZE and DECIDE: the API key every merchant is asked with.")
    var apiKey = "sk_live_bench"

    @Option(
        help: """
            AUTHORIZE and DECIDE: a bearer token (JWT, credential kind 2) instead of the API key. A token \
            names its merchant: give that one with --merchant (and no --merchants).
            """)
    var bearerToken: String?

    @Option(help: "AUTHORIZE and DECIDE: the operation every request names, for key and token scopes.")
    var operation: String?

    @Option(help: "--mix: Zipf exponent of the merchants' shares (0: all alike; 1: m_1 twice m_2's traffic).")
    var merchantSkew = 1.0

    @Option(help: "--mix: payment methods and their weights.")
    var methods = "card=60,upi=30,netbanking=10"

    @Option(help: "--mix: card networks of card payments and their weights.")
    var networks = "visa=50,mastercard=35,rupay=15"

    @Option(help: "--mix: median amount in minor units (amounts are log-normal around it).")
    var medianAmount: UInt64 = 150_000

    @Option(help: "--mix: true success rates, gateway=rate,... (others: 0.80-0.95, fixed by the name).")
    var gatewaySuccess = ""

    @Option(help: "Seed of every random draw.")
    var seed: UInt64 = 1

    @Option(help: "--op: payment method, currency, amount (minor units) and card network.")
    var method = "card"
    @Option var currency = "INR"
    @Option var amount: UInt64 = 49_900
    @Option var network = ""

    @Option(help: "ROUTE and DECIDE: labels every request carries for routing rules, key=value,... (up to 16).")
    var labels = ""

    @Option(help: "--op report: the gateway reported on.")
    var gateway = "razorpay"

    @Option(help: "GET: the Redis key.")
    var key = "switchyard-bench"

    @Option(
        help: ArgumentHelp(
            "A hostile client to run beside the measured load: \(AttackKind.allCases.map(\.rawValue).joined(separator: ", ")).",
            discussion: "Its tally (connections, closes, replies by status) is printed after the load's figures."))
    var attack: AttackKind?

    @Option(help: "--attack: the attacker's connections (churn uses one at a time).")
    var attackConnections = 100

    @Option(help: "--attack wrongkey: the merchant the wrong keys are sent for.")
    var attackMerchant = "m_1"

    @Flag(help: "Print the result as one JSON object on standard output.")
    var json = false

    @Flag(help: "No progress line.")
    var quiet = false

    @Option(
        help: """
            Write the latency distribution (HdrHistogram percentile format) to this file, and with \
            --mix each operation's to FILE.OPERATION.
            """)
    var histogram: String?

    func validate() throws {
        guard (1...10_000).contains(connections) || (connections == 0 && attack != nil) else {
            throw ValidationError("--connections must be 1 to 10000 (0 only with --attack)")
        }
        guard (1...4_096).contains(pipeline) else { throw ValidationError("--pipeline must be 1 to 4096") }
        guard rate >= 0 && rate <= 20_000_000 else { throw ValidationError("--rate must be 0 to 20000000") }
        guard rate == 0 || pipeline == 1 else {
            throw ValidationError("--pipeline is for the closed loop; with --rate, requests go out as they arrive")
        }
        guard duration > 0 && duration <= 3_600 else {
            throw ValidationError("--duration must be above 0 and at most 3600")
        }
        guard warmup >= 0 && warmup <= 600 else { throw ValidationError("--warmup must be 0 to 600") }
        guard payload >= 0 && payload <= 16_000 else { throw ValidationError("--payload must be 0 to 16000") }
        guard (0...10_000_000).contains(merchants) else { throw ValidationError("--merchants must be 0 to 10000000") }
        guard merchantSkew >= 0 && merchantSkew <= 10 else { throw ValidationError("--merchant-skew must be 0 to 10") }
        switch (target, op) {
        case (.switchyard, .get): throw ValidationError("--op get is for --target redis")
        case (.redis, .route), (.redis, .report), (.redis, .authorize), (.redis, .decide):
            throw ValidationError("--op \(op.rawValue) is for --target switchyard")
        default: break
        }
        if mix != nil && target == .redis { throw ValidationError("--mix is for --target switchyard") }
        guard (1...60_000).contains(attackConnections) else {
            throw ValidationError("--attack-connections must be 1 to 60000")
        }
        if attack != nil && target == .redis { throw ValidationError("--attack is for --target switchyard") }
    }

    private func workload() throws -> Workload {
        let mixList = try mix.map { try WeightList(parsing: $0, option: "--mix") }
        var success: [String: Double] = [:]
        if !gatewaySuccess.isEmpty {
            let rates = try WeightList(parsing: gatewaySuccess, option: "--gateway-success")
            for (name, rate) in zip(rates.names, rates.weights) {
                guard rate <= 1 else { throw ValidationError("--gateway-success: \(name)'s rate must be 0 to 1") }
                success[name] = rate
            }
        }
        let payments: Workload.Payments =
            mixList == nil
            ? .perConnection(method: method, currency: currency, amount: amount, network: network)
            : .drawn(
                skew: merchantSkew, methods: try WeightList(parsing: methods, option: "--methods"),
                networks: try WeightList(parsing: networks, option: "--networks"), currency: currency,
                medianAmount: medianAmount)
        return try Workload(
            Workload.Settings(
                mix: mixList ?? WeightList(only: op.rawValue), payments: payments, merchants: merchants,
                merchant: merchant, apiKey: apiKey, bearerToken: bearerToken, operation: operation,
                gatewaySuccess: success, reportGateway: gateway,
                pingPayload: payload, seed: seed, labels: try labelPairs()))
    }

    private func labelPairs() throws -> [String: String] {
        var pairs: [String: String] = [:]
        for pair in labels.split(separator: ",") {
            let parts = pair.split(separator: "=", maxSplits: 1)
            guard parts.count == 2, (1...RequestExtensions.maxLabelKey).contains(parts[0].utf8.count),
                parts[1].utf8.count <= RequestExtensions.maxLabelValue, pairs[String(parts[0])] == nil
            else {
                throw ValidationError(
                    "--labels: '\(pair)' is not key=value (a key of 1 to 32 bytes, given once; a value of up to 64)")
            }
            pairs[String(parts[0])] = String(parts[1])
        }
        guard pairs.count <= RequestExtensions.maxLabels else { throw ValidationError("--labels: at most 16") }
        return pairs
    }

    func run() throws {
        let workload: Workload
        do {
            workload = try self.workload()
        } catch let error as WorkloadError {
            throw ValidationError(error.description)
        }
        let address = try SocketAddress(parsing: self.address)
        if attack != nil || connections > 1_000 { FileLimit.raise(to: connections + attackConnections + 64) }
        var open: [LoadConnection] = []
        for index in 0..<connections {
            switch target {
            case .switchyard:
                let connection = try Connection(to: address)
                connection.isNonBlocking = true
                open.append(LoadConnection(.switchyard(connection), number: index))
            case .redis:
                let request = op == .get ? RawStream.get(key) : RawStream.ping
                open.append(LoadConnection(.redis(try RawStream(address: address, request: request)), number: index))
            }
        }
        let mode: LoadRun.Mode = rate > 0 ? .open(rate: rate, poisson: poisson) : .closed(depth: pipeline)
        let settings = LoadRun.Settings(
            mode: mode, seconds: duration, warmupSeconds: warmup, maxRequests: requests, progress: !quiet && !json,
            seed: seed)
        let attacker = try attack.map {
            try Attacker(
                AttackSettings(
                    kind: $0, address: address, connections: attackConnections, merchant: attackMerchant, seed: seed))
        }
        if let attacker, connections == 0 {
            usleep(UInt32(min(duration + warmup, 3_600) * 1_000_000))
            let tally = attacker.stop()
            print(json ? "{\"attack\": {\"kind\": \"\(attack!.rawValue)\", \"tally\": \(tally.json)}}" : tally.text)
            return
        }
        let result = try LoadRun(settings: settings).run(open, workload)
        let attackTally = attacker?.stop()
        if let histogram {
            try write(Report.percentileDistribution(result.all), to: histogram)
            if mix != nil {
                for operation in Operation.allCases where result.byOperation[operation.index].requests > 0 {
                    try write(
                        Report.percentileDistribution(result.byOperation[operation.index]),
                        to: "\(histogram).\(operation.rawValue)")
                }
            }
        }
        let settingsMix =
            mix == nil ? [(op.rawValue, 1.0)] : Array(zip(workload.settings.mix.names, workload.settings.mix.weights))
        let report = Report(
            target: target.rawValue, operation: mix == nil ? op.rawValue : "mix", mix: settingsMix,
            address: self.address, connections: connections, mode: mode, payload: payload, result: result,
            attack: attack.map { ($0, attackTally ?? AttackTally()) })
        print(json ? report.json : report.text)
        if result.all.requests == 0 { throw ExitCode(1) }
    }

    private func write(_ text: String, to path: String) throws {
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
