import Benchmark
import SwitchyardCore
import SwitchyardWire

/// Eight card gateways with history, one merchant, and the state, snapshot
/// and decision buffer a loop would hold.
final class DecisionFixture: @unchecked Sendable {
    // @unchecked: used from the benchmark thread only.
    static let configuration: Configuration = {
        var configuration = Configuration()
        configuration.gateways = (0..<8).map {
            GatewayConfiguration(id: "gateway\($0)", methods: ["card"], currencies: ["INR"])
        }
        configuration.merchants = [MerchantConfiguration(id: "m_1")]
        return configuration
    }()

    static let routeFrame: [UInt8] = frame(.route) {
        RouteRequest(merchantID: "m_1", paymentID: "pay_1", method: "card", currency: "INR", amount: 49_900)
            .write(to: &$0)
    }

    /// The same merchant with a key and a limit it never reaches, for DECIDE
    /// through a live server; the key is `sk_live_bench` under `keyHasher`.
    static let keyHasher = try! KeyHasher(secret: [UInt8](repeating: 0x42, count: 32))
    static let decideConfiguration: Configuration = {
        var configuration = DecisionFixture.configuration
        configuration.merchants[0].keys = [MerchantConfiguration.Key(digest: keyHasher.digest(of: "sk_live_bench"))]
        configuration.merchants[0].limits = [
            MerchantLimit(RateLimit(rate: 1_000_000_000, periodNanoseconds: 1_000_000_000, burst: 1_000_000))
        ]
        return configuration
    }()

    static let decideFrame: [UInt8] = frame(.decide) {
        DecideRequest(
            authorize: AuthorizeRequest(
                merchantID: "m_1", credential: "sk_live_bench", clientAddress: [203, 0, 113, 7]),
            route: RouteRequest(merchantID: "m_1", paymentID: "pay_1", method: "card", currency: "INR", amount: 49_900)
        ).write(to: &$0)
    }

    /// Where the 8 digits of the payment id sit in `reportFrame`.
    static let reportCounterOffset = FrameHeader.size + (1 + 3) + 8 + (1 + 4)
    static let reportFrame: [UInt8] = frame(.report) {
        ReportRequest(
            merchantID: "m_1", decisionID: 0, paymentID: "pay_00000000", gateway: "gateway3", outcome: 1,
            latencyMilliseconds: 900, method: "card", currency: "INR", amount: 49_900
        ).write(to: &$0)
    }

    static func frame(_ opcode: Opcode, _ write: (inout BodyWriter) -> Void) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: 512)
        let count = bytes.withUnsafeMutableBytes {
            FrameEncoder.encode(into: $0, header: FrameHeader(opcode: opcode, requestID: 1), body: write)!
        }
        return Array(bytes[..<count])
    }

    /// 49 rules the payment does not match (each names card networks it
    /// does not carry, with an amount range and an attempt condition), then
    /// one that it does, on the label it carries: two tiers of four
    /// gateways, scored within.
    static let ruleConfiguration: Configuration = {
        var configuration = DecisionFixture.configuration
        configuration.routing.rules = (0..<49).map { i in
            var rule = RoutingRule(name: "rule\(i)", output: .priority([["gateway\(i % 8)"]]))
            rule.conditions.method = .oneOf(["card"])
            rule.conditions.cardNetwork = .oneOf(["network\(i)"])
            rule.conditions.amount = 1_000...10_000_000
            rule.conditions.attempt = 1...3
            rule.mode = .strict
            return rule
        }
        var tiers = RoutingRule(
            name: "tiers", output: .priority([(0..<4).map { "gateway\($0)" }, (4..<8).map { "gateway\($0)" }]))
        tiers.conditions.labels = ["channel": .oneOf(["app"])]
        configuration.routing.rules.append(tiers)
        return configuration
    }()

    /// The 50 rules, with the matching one in shadow ahead of them: each
    /// decision also ranks what that rule would have decided.
    static let shadowConfiguration: Configuration = {
        var configuration = ruleConfiguration
        var watched = RoutingRule(name: "watched", output: .allow((2..<6).map { "gateway\($0)" }))
        watched.shadow = true
        configuration.routing.rules.insert(watched, at: 0)
        return configuration
    }()

    var state: RoutingState
    let snapshot: RoutingSnapshot
    var decision = RouteDecision()
    var shadowDecision = RouteDecision()
    var shadowVerdicts = 0
    var cache = DecisionCache()
    var random = SplitMix64(seed: 1)
    var now: UInt64 = 1_000_000_000
    var query = RouteQuery(merchant: 0, method: 0, currency: 0, amount: 49_900, segment: Segment(method: 0), tried: 0)
    let report = OutcomeReport(
        gateway: 3, merchant: 0, segment: Segment(method: 0), outcome: .success, latencyMilliseconds: 900,
        decisionVersion: 1)

    init(configuration: Configuration = DecisionFixture.configuration) {
        state = RoutingState(table: RoutingTable(configuration))
        // A visa card, a network no rule names, from the app.
        query.ruleNetwork = RuleTable.unnamed
        let table = state.table
        var labels = RuleLabels()
        Array("channel".utf8).withUnsafeBytes { key in
            Array("app".utf8).withUnsafeBytes { table.rules.pack(label: key, value: $0, into: &labels) }
        }
        query.ruleLabels = labels
        for gateway in 0..<8 {
            for i in 0..<200 {
                let outcome: PaymentOutcome = i % 100 < 90 + gateway ? .success : .gatewayError
                var report = report
                report.gateway = gateway
                report.outcome = outcome
                state.record(report, at: now, random: &random)
            }
        }
        snapshot = state.snapshot(at: now)
        // The rules' benchmarks measure a payment that does reach its rule.
        decide()
        precondition(configuration.routing.rules.isEmpty || decision.rule >= 0, "the payment matches no rule")
    }

    func decide() {
        blackHole(Router.decide(query, snapshot: snapshot, into: &decision, random: &random))
    }

    /// What a loop does for a busy merchant: the ranking comes from the cache.
    func decideCached() {
        blackHole(cache.decide(query, snapshot: snapshot, into: &decision, random: &random))
    }

    /// What a loop does with rules in shadow: the decision (its ranking
    /// cached), then each shadow rule's, compared.
    func decideWithShadow() {
        let luck = random
        let failure = cache.decide(query, snapshot: snapshot, into: &decision, random: &random)
        Router.shadow(
            query, followed: decision.rule >= 0 ? decision.rule : nil,
            first: failure == nil ? decision.entries[0].gateway : nil, snapshot: snapshot, luck: luck,
            scratch: &shadowDecision
        ) { _, verdict in
            if verdict != .agrees { shadowVerdicts &+= 1 }
        }
    }

    func record() {
        now += 1_000
        state.record(report, at: now, random: &random)
    }
}

/// The default-sized report ledger, filled as a second of reports passes.
final class LedgerFixture: @unchecked Sendable {
    // @unchecked: used from the benchmark thread only.
    let ledger = ReportLedger(capacity: RoutingConfiguration().reportDedupCapacity, windowSeconds: 3_600)
    var key: UInt64 = 0
    var count: UInt64 = 0

    func remember() {
        key &+= 0x9E37_79B9_7F4A_7C15
        count += 1
        // A new second every 100,000 reports, as under a heavy load.
        blackHole(ledger.record(key, second: count / 100_000))
    }
}

/// One merchant with two keys and a limit it never reaches, so each call
/// takes the full path: a good key ends allowed, a bad one ends refused.
/// `leased`: the limit is fleet-scoped (Redis configured) and spent from a
/// lease, as the sync thread would have installed it.
final class AuthorizationFixture: @unchecked Sendable {
    // @unchecked: used from the benchmark thread only.
    let table: AuthorizationTable
    let merchant = Array("m_1".utf8)
    let address: [UInt8] = [203, 0, 113, 7]
    var now: UInt64 = 1_000_000_000
    let leased: Bool

    init(leased: Bool = false) {
        self.leased = leased
        let hasher = try! KeyHasher(secret: [UInt8](repeating: 0x42, count: 32))
        var configuration = Configuration()
        var merchant = MerchantConfiguration(id: "m_1")
        merchant.keys = ["sk_live_1", "sk_live_2"].map { MerchantConfiguration.Key(digest: hasher.digest(of: $0)) }
        merchant.limits = [
            MerchantLimit(RateLimit(rate: 1_000_000_000, periodNanoseconds: 1_000_000_000, burst: 1_000_000))
        ]
        configuration.merchants = [merchant]
        let unlimited = RateLimit(rate: 1_000_000_000, periodNanoseconds: 1_000_000_000, burst: 1_000_000)
        configuration.authorization.failuresPerMerchant = unlimited
        configuration.authorization.failuresPerAddress = unlimited
        if leased { configuration.redis.address = "127.0.0.1:6379" }
        table = AuthorizationTable(configuration, hasher: hasher)
        refill()
    }

    /// A lease as large as one can be, for a day.
    private func refill() {
        guard leased, let pools = table.leases else { return }
        _ = pools.reclaimExpired(0, now: .max)
        _ = pools.install(0, tokens: FleetLimit.largestLease, expiresAt: now + 86_400_000_000_000, now: now)
    }

    func authorize(_ key: [UInt8], merchant: [UInt8]) {
        now += 1_000
        // Once per million calls: a lease holds 16.7 million tokens.
        if leased, now % 1_000_000_000 == 0 { refill() }
        merchant.withUnsafeBytes { m in
            key.withUnsafeBytes { k in
                address.withUnsafeBytes { a in
                    blackHole(
                        table.authorize(
                            AuthorizationQuery(
                                merchantID: m, key: k, address: a, cost: 1, now: now, wallSeconds: 1_800_000_000)))
                }
            }
        }
    }
}
