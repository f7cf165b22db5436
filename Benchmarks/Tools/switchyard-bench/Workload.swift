import Glibc
import SwitchyardClient
import SwitchyardCore
import SwitchyardWire

/// The operations a run can send; a mix gives each a share of the requests.
enum Operation: String, CaseIterable {
    case ping, authorize, route, decide, report, get

    /// Its position in `allCases`, without building `allCases` (an array
    /// allocated at every use) for each reply.
    var index: Int {
        switch self {
        case .ping: 0
        case .authorize: 1
        case .route: 2
        case .decide: 3
        case .report: 4
        case .get: 5
        }
    }
}

/// A choice among items in proportion to their weights, by inverse CDF.
/// Serves the operation mix, the payment methods and card networks, and the
/// merchants' Zipf law alike.
struct WeightedChoice {
    private let cumulative: [Double]

    init(weights: [Double]) {
        var total = 0.0
        cumulative = weights.map {
            total += $0
            return total
        }
    }

    /// Zipf's law over `count` items: item k (from 0) has weight 1/(k+1)^s.
    init(zipfCount count: Int, exponent s: Double) {
        self.init(weights: (1...count).map { 1 / pow(Double($0), s) })
    }

    func pick(_ random: inout SplitMix64) -> Int {
        let target = random.nextUnit() * cumulative[cumulative.count - 1]
        var low = 0
        var high = cumulative.count - 1
        while low < high {
            let middle = (low + high) / 2
            if cumulative[middle] > target { high = middle } else { low = middle + 1 }
        }
        return low
    }
}

/// `name=weight,name=weight`, as the command line gives a mix or a distribution.
struct WeightList {
    let names: [String]
    let weights: [Double]

    init(parsing text: String, option: String) throws(WorkloadError) {
        var names: [String] = []
        var weights: [Double] = []
        for item in text.split(separator: ",") {
            let parts = item.split(separator: "=", omittingEmptySubsequences: false)
            guard parts.count == 2, !parts[0].isEmpty, let weight = Double(parts[1]), weight >= 0, weight.isFinite
            else { throw WorkloadError("\(option): \"\(item)\" is not name=weight with a weight of 0 or more") }
            guard !names.contains(String(parts[0])) else { throw WorkloadError("\(option): \(parts[0]) appears twice") }
            names.append(String(parts[0]))
            weights.append(weight)
        }
        guard weights.contains(where: { $0 > 0 }) else { throw WorkloadError("\(option): no weight above 0") }
        self.names = names
        self.weights = weights
    }
}

extension WeightList {
    /// One name alone: a run of a single operation.
    init(only name: String) {
        names = [name]
        weights = [1]
    }
}

struct WorkloadError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// What a payment platform's API servers send: payments from merchants drawn
/// by Zipf's law (a few large merchants, a long tail), methods, card networks
/// and amounts drawn from their distributions, and every routed payment's
/// outcome reported back, drawn from each gateway's true success rate.
///
/// Request bodies are encoded once, for a pool of payments drawn up front;
/// only the payment id (unique per payment, as the daemon's report ledger
/// needs) and a REPORT's decision, gateway and outcome are written per
/// request, so the generator's own cost stays small next to the daemon's.
final class Workload {
    /// Where the payments come from.
    enum Payments {
        /// Connection i always pays for merchant i mod N with the same
        /// fields: the steady state of one busy segment, for comparisons
        /// with a single Redis GET.
        case perConnection(method: String, currency: String, amount: UInt64, network: String)
        /// Each request draws a payment: a merchant by Zipf's law with this
        /// exponent, a method and (for cards) a network by their weights,
        /// and a log-normal amount around the median.
        case drawn(skew: Double, methods: WeightList, networks: WeightList, currency: String, medianAmount: UInt64)
    }

    struct Settings {
        var mix: WeightList
        var payments: Payments
        /// m_1 ... m_N; 0: the one merchant `merchant`.
        var merchants: Int
        var merchant: String
        var apiKey: String
        /// Sent instead of the API key, as credential kind 2.
        var bearerToken: String?
        /// The operation AUTHORIZE and DECIDE name (nil: none).
        var operation: String?
        var gatewaySuccess: [String: Double]
        /// What a REPORT reports on when the mix routes nothing (REPORT alone).
        var reportGateway: String
        var pingPayload: Int
        var seed: UInt64
        /// Labels every ROUTE and DECIDE carries (for routing rules).
        var labels: [String: String] = [:]
    }

    /// Where a pool payment's encoded fields sit in ``PaymentPool/arena``.
    struct EncodedPayment {
        /// str8 merchant_id.
        var merchant: Range<Int>
        /// The AUTHORIZE fields (merchant, credential, client address, cost),
        /// without extensions: DECIDE's come after its ROUTE fields.
        var authorize: Range<Int>
        /// str8 method, str8 currency, u64 amount, str8 card_network: what
        /// ROUTE, DECIDE and REPORT all carry after the payment id.
        var segment: Range<Int>
    }

    /// Every payment's fields, encoded once, back to back. Immutable, so
    /// reading it per request costs no exclusivity check.
    struct PaymentPool {
        let arena: [UInt8]
        let payments: [EncodedPayment]
        let pingBody: Range<Int>
        /// The extensions every ROUTE ends with (labels), and every AUTHORIZE
        /// and DECIDE (operation; DECIDE's with the labels). Empty: none.
        let labels: Range<Int>
        let authorizeExtensions: Range<Int>
        let decideExtensions: Range<Int>
        let reportGateway: [UInt8]
        /// With one operation and payments per connection (`--op`, not
        /// REPORT), each payment's whole request body, sent as it is: ROUTE
        /// and DECIDE do not look at the payment id, so one per payment
        /// does, and a request costs the generator one copy.
        let wholeBodies: [Range<Int>]

        init(_ settings: Settings) {
            var arena = [UInt8](repeating: 0x78, count: settings.pingPayload)
            var payments: [EncodedPayment] = []
            var body = [UInt8](repeating: 0, count: 1_024)
            func append(_ write: (inout BodyWriter) -> Void) -> Range<Int> {
                let count = body.withUnsafeMutableBytes { raw in
                    var writer = BodyWriter(raw)
                    write(&writer)
                    return writer.count
                }
                let start = arena.count
                arena += body[..<count]
                return start..<arena.count
            }
            func add(merchant: String, method: String, currency: String, amount: UInt64, network: String) {
                let authorize = AuthorizeRequest(
                    merchantID: merchant, credential: settings.bearerToken ?? settings.apiKey,
                    clientAddress: [10, 0, 0, 1], credentialKind: settings.bearerToken == nil ? 1 : 2)
                payments.append(
                    EncodedPayment(
                        merchant: append { $0.str8(merchant) },
                        authorize: append { authorize.write(to: &$0) },
                        segment: append {
                            $0.str8(method)
                            $0.str8(currency)
                            $0.u64(amount)
                            $0.str8(network)
                        }))
            }
            func merchantName(_ index: Int) -> String {
                settings.merchants > 0 ? "m_\(index + 1)" : settings.merchant
            }
            let merchantCount = max(1, settings.merchants)
            switch settings.payments {
            case .perConnection(let method, let currency, let amount, let network):
                for index in 0..<merchantCount {
                    add(
                        merchant: merchantName(index), method: method, currency: currency, amount: amount,
                        network: network)
                }
            case .drawn(let skew, let methods, let networks, let currency, let medianAmount):
                var random = SplitMix64(seed: settings.seed)
                let merchants = WeightedChoice(zipfCount: merchantCount, exponent: skew)
                let methodChoice = WeightedChoice(weights: methods.weights)
                let networkChoice = WeightedChoice(weights: networks.weights)
                for _ in 0..<Workload.drawnPoolSize {
                    let merchant = merchantName(merchants.pick(&random))
                    let method = methods.names[methodChoice.pick(&random)]
                    let network = method == "card" ? networks.names[networkChoice.pick(&random)] : ""
                    // Log-normal amounts (sigma 1): most payments small, some large.
                    let normal = sqrt(-2 * log(1 - random.nextUnit())) * cos(2 * Double.pi * random.nextUnit())
                    let amount = UInt64(max(100, (Double(medianAmount) * exp(normal)).rounded()))
                    add(merchant: merchant, method: method, currency: currency, amount: amount, network: network)
                }
            }
            let labelRange = append { RequestExtensions.write(labels: settings.labels, operation: nil, to: &$0) }
            let authorizeRange = append { RequestExtensions.write(labels: [:], operation: settings.operation, to: &$0) }
            let decideRange = append {
                RequestExtensions.write(labels: settings.labels, operation: settings.operation, to: &$0)
            }
            var wholeBodies: [Range<Int>] = []
            if case .perConnection = settings.payments, settings.mix.names.count == 1,
                let operation = Operation(rawValue: settings.mix.names[0]),
                operation == .route || operation == .decide || operation == .authorize
            {
                for (index, payment) in payments.enumerated() {
                    guard operation != .authorize else {
                        let (fields, tail) = (Array(arena[payment.authorize]), Array(arena[authorizeRange]))
                        wholeBodies.append(
                            append { writer in
                                fields.withUnsafeBytes { writer.raw($0) }
                                tail.withUnsafeBytes { writer.raw($0) }
                            })
                        continue
                    }
                    let opening = operation == .route ? payment.merchant : payment.authorize
                    let id = (Workload.hexDigits(UInt32(index)), Workload.zeroDigits, Workload.zeroDigits)
                    // Copied out first: `append` grows the arena they sit in.
                    let (head, segment, tail) = (
                        Array(arena[opening]), Array(arena[payment.segment]),
                        Array(arena[operation == .route ? labelRange : decideRange])
                    )
                    wholeBodies.append(
                        append { writer in
                            head.withUnsafeBytes { head in
                                segment.withUnsafeBytes { segment in
                                    tail.withUnsafeBytes {
                                        Workload.writeRouted(
                                            &writer, opening: head, id: id, segment: segment, labels: $0)
                                    }
                                }
                            }
                        })
                }
            }
            self.arena = arena
            self.payments = payments
            self.wholeBodies = wholeBodies
            pingBody = 0..<settings.pingPayload
            self.labels = labelRange
            authorizeExtensions = authorizeRange
            decideExtensions = decideRange
            reportGateway = Array(settings.reportGateway.utf8)
        }
    }

    /// Payments drawn up front when they are drawn at all (a power of two).
    static let drawnPoolSize = 1 << 16

    let settings: Settings
    /// Opens every payment id: the daemon remembers reported payments for a
    /// while, and a second run against it must not look like duplicates.
    private let runDigits = Workload.hexDigits(UInt32.random(in: 0...UInt32.max))
    private let mix: WeightedChoice
    private let mixOperations: [Operation]
    /// Whether REPORT slots report outcomes of this run's own routed payments.
    let reportsOutcomes: Bool
    /// What a REPORT slot sends when no outcome is waiting to be reported.
    let routedOperation: Operation
    private let pool: PaymentPool
    /// Read per request from plain stored values: matching on
    /// `settings.payments` would copy the settings' strings and arrays.
    private let paymentsDrawn: Bool
    private let paymentCount: Int
    /// Gateway ids met in replies, interned so a pending report holds an index.
    private var gateways: [[UInt8]] = []
    private var gatewaySuccess: [Double] = []

    init(_ settings: Settings) throws(WorkloadError) {
        self.settings = settings
        var operations: [Operation] = []
        for name in settings.mix.names {
            // GET is Redis's; Workload is not consulted for a Redis target's requests.
            guard let operation = Operation(rawValue: name), operation != .get || settings.mix.names == ["get"] else {
                throw WorkloadError("--mix: \(name) is not one of ping, authorize, route, decide, report")
            }
            operations.append(operation)
        }
        mixOperations = operations
        mix = WeightedChoice(weights: settings.mix.weights)
        let weight = { (operation: Operation) in
            operations.firstIndex(of: operation).map { settings.mix.weights[$0] } ?? 0
        }
        reportsOutcomes = weight(.report) > 0 && weight(.decide) + weight(.route) > 0
        routedOperation = weight(.decide) > 0 ? .decide : .route
        pool = PaymentPool(settings)
        paymentCount = pool.payments.count
        if case .drawn = settings.payments { paymentsDrawn = true } else { paymentsDrawn = false }
    }

    func nextOperation(_ random: inout SplitMix64) -> Operation {
        mixOperations.count == 1 ? mixOperations[0] : mixOperations[mix.pick(&random)]
    }

    /// The pool payment a new request of `connection` pays.
    func paymentIndex(connection: UInt64, _ random: inout SplitMix64) -> Int32 {
        paymentsDrawn
            ? Int32(truncatingIfNeeded: random.next() & UInt64(Workload.drawnPoolSize - 1))
            : Int32(connection % UInt64(paymentCount))
    }

    /// Queues one request on `connection`: the pool payment's fields as
    /// encoded, with a payment id made of the run's id and the payment's
    /// number (unique, as the daemon's report ledger needs) and, for a REPORT, the
    /// attempt's decision, gateway, and an outcome drawn for it. Returns
    /// the outcome a REPORT carries (0 for other operations).
    @discardableResult
    func encode(
        _ operation: Operation, payment: Int, paymentNumber: UInt64, report: LoadConnection.PendingReport?,
        random: inout SplitMix64, on connection: Connection
    ) -> UInt8 {
        if !pool.wholeBodies.isEmpty {
            let opcode: Opcode = operation == .authorize ? .authorize : operation == .route ? .route : .decide
            pool.arena.withUnsafeBytes { arena in
                _ = connection.send(opcode) {
                    $0.raw(UnsafeRawBufferPointer(rebasing: arena[pool.wholeBodies[payment]]))
                }
            }
            return 0
        }
        let fields = pool.payments[payment]
        var outcome: (outcome: UInt8, milliseconds: UInt32) = (1, 900)
        if let report { outcome = self.outcome(gateway: report.gateway, &random) }
        // The id's 24 hex digits, spelt in three words and written in one copy.
        let id = (
            runDigits, Workload.hexDigits(UInt32(paymentNumber >> 32)),
            Workload.hexDigits(UInt32(truncatingIfNeeded: paymentNumber))
        )
        let paymentID = { (writer: inout BodyWriter) in Workload.writePaymentID(&writer, id) }
        pool.arena.withUnsafeBytes { arena in
            func bytes(_ range: Range<Int>) -> UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: arena[range]) }
            switch operation {
            case .ping, .get:
                connection.send(.ping) { $0.raw(bytes(pool.pingBody)) }
            case .authorize:
                connection.send(.authorize) {
                    $0.raw(bytes(fields.authorize))
                    $0.raw(bytes(pool.authorizeExtensions))
                }
            case .route, .decide:
                connection.send(operation == .route ? .route : .decide) {
                    Workload.writeRouted(
                        &$0, opening: bytes(operation == .route ? fields.merchant : fields.authorize), id: id,
                        segment: bytes(fields.segment),
                        labels: bytes(operation == .route ? pool.labels : pool.decideExtensions))
                }
            case .report:
                let gateway = report.map { gateways[$0.gateway] } ?? pool.reportGateway
                _ = gateway.withUnsafeBytes { gateway in
                    connection.send(.report) {
                        $0.raw(bytes(fields.merchant))
                        $0.u64(report?.decisionID ?? 0)
                        paymentID(&$0)
                        $0.u8(1)
                        $0.str8(gateway)
                        $0.u8(outcome.outcome)
                        $0.u32(outcome.milliseconds)
                        $0.raw(bytes(fields.segment))
                    }
                }
            }
        }
        return operation == .report ? outcome.outcome : 0
    }

    func gatewayIndex(_ name: UnsafeRawBufferPointer) -> Int {
        if let known = gateways.firstIndex(where: { $0.elementsEqual(name) }) { return known }
        let id = [UInt8](name)
        gateways.append(id)
        gatewaySuccess.append(
            settings.gatewaySuccess[String(decoding: id, as: UTF8.self)] ?? Workload.defaultSuccess(of: id))
        return gateways.count - 1
    }

    /// A ROUTE or DECIDE body: the fields that open it (ROUTE's merchant_id,
    /// DECIDE's AUTHORIZE fields), the payment id, attempt 1, the payment's
    /// segment fields, nothing tried before, and the labels extension.
    static func writeRouted(
        _ writer: inout BodyWriter, opening: UnsafeRawBufferPointer, id: (UInt64, UInt64, UInt64),
        segment: UnsafeRawBufferPointer, labels: UnsafeRawBufferPointer
    ) {
        writer.raw(opening)
        writePaymentID(&writer, id)
        writer.u8(1)
        writer.raw(segment)
        writer.u8(0)
        writer.raw(labels)
    }

    /// A payment id of 24 hex digits, given as three words of 8 (``hexDigits(_:)``).
    static func writePaymentID(_ writer: inout BodyWriter, _ id: (UInt64, UInt64, UInt64)) {
        writer.u8(24)
        withUnsafeBytes(of: id) { writer.raw($0) }
    }

    /// "00000000", as ``hexDigits(_:)`` spells 0.
    static let zeroDigits: UInt64 = 0x3030_3030_3030_3030

    /// The 8 lower-case hex digits of `value`, most significant first, as the
    /// 8 bytes of a word in memory order: each nibble spread to a byte,
    /// then '0' or 'a' added, with no loop and no table.
    static func hexDigits(_ value: UInt32) -> UInt64 {
        var x = UInt64(value)
        x = (x | x << 16) & 0x0000_FFFF_0000_FFFF
        x = (x | x << 8) & 0x00FF_00FF_00FF_00FF
        x = (x | x << 4) & 0x0F0F_0F0F_0F0F_0F0F
        let letters = ((x &+ 0x0606_0606_0606_0606) >> 4) & 0x0101_0101_0101_0101
        x = x &+ 0x3030_3030_3030_3030 &+ letters &* 0x27
        return x.byteSwapped
    }

    /// A gateway without a rate on the command line succeeds 80 to 95 % of
    /// the time, fixed by its name, so gateways differ and runs repeat.
    private static func defaultSuccess(of id: [UInt8]) -> Double {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in id { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01B3 }
        return 0.80 + 0.15 * Double(hash % 1_000) / 1_000
    }

    /// An attempt's outcome (1 success, 2 declined, 3 gateway error,
    /// 4 timeout) and its latency in milliseconds, as the gateway would give it.
    private func outcome(gateway: Int, _ random: inout SplitMix64) -> (outcome: UInt8, milliseconds: UInt32) {
        let draw = random.nextUnit()
        let success = gatewaySuccess[gateway]
        let latency = UInt32(400 + random.nextUnit() * 1_600)
        if draw < success { return (1, latency) }
        // Failures: 70 % declines, 20 % gateway errors, 10 % timeouts.
        let failure = (draw - success) / (1 - success)
        if failure < 0.7 { return (2, latency) }
        if failure < 0.9 { return (3, latency / 2) }
        return (4, 30_000)
    }
}
