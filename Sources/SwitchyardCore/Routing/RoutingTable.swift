/// The routing part of a configuration, compiled for the request path: every
/// name a request may carry resolves to a small index through a ``NameTable``,
/// and gateway sets are 64-bit masks (a configuration lists at most 64
/// gateways and 64 methods). Immutable; a reload compiles a new one.
public final class RoutingTable: Sendable {
    public let routing: RoutingConfiguration
    public let gateways: [GatewayConfiguration]
    public let gatewayIDs: NameTable
    /// Every method some gateway takes.
    public let methods: NameTable
    /// Every currency some gateway takes.
    public let currencies: NameTable
    /// The card networks scored separately (when segments.card_network is on).
    public let networks: NameTable
    /// The card networks the routing rules name (a request's network is looked up here for them).
    public var ruleNetworks: NameTable { rules.networks }
    public let merchants: NameTable
    public let merchantRules: [MerchantRules]

    /// Per method: the gateways that take it.
    let methodGateways: [UInt64]
    /// Per currency: the gateways that take it.
    let currencyMasks: [UInt64]
    let minAmounts: [UInt64]
    let maxAmounts: [UInt64]
    let enabledMask: UInt64
    let amountBands: [UInt64]

    /// The settings a decision reads, as plain fields: reading them through
    /// `routing` would copy the whole configuration struct on every request.
    struct DecisionSettings {
        let priorWeight: Double
        let priorSuccessRate: Double
        let explorationFloor: Double
        let explorationCeiling: Double
        let latencyTargetMilliseconds: Double
        let latencyPenaltyPerSecond: Double
        let leastBad: Bool
    }
    let settings: DecisionSettings
    /// The routing rules, compiled; empty when none are configured.
    public let rules: RuleTable

    /// A merchant's rules, compiled.
    public struct MerchantRules: Sendable {
        /// Methods it may route; all ones when unrestricted.
        public let methodMask: UInt64
        /// Gateways its allow and deny lists leave.
        public let gatewayMask: UInt64
        /// Its pinned order (gateway indices).
        public let priority: [UInt8]
        /// The weight of each gateway for this merchant (its override, else the SRE weight).
        public let weights: [Double]
    }

    public static let maxMethods = 64
    public static let maxCurrencies = 254

    public init(_ configuration: Configuration) {
        routing = configuration.routing
        settings = DecisionSettings(
            priorWeight: routing.priorWeight, priorSuccessRate: routing.priorSuccessRate,
            explorationFloor: routing.explorationFloorPercent / 100,
            explorationCeiling: routing.explorationCeilingPercent / 100,
            latencyTargetMilliseconds: Double(routing.latencyTargetMilliseconds),
            latencyPenaltyPerSecond: routing.latencyPenaltyPerSecond, leastBad: routing.onAllUnhealthy == .leastBad)
        gateways = configuration.gateways
        gatewayIDs = NameTable(gateways.map(\.id))
        var methodNames: [String] = []
        var currencyNames: [String] = []
        for gateway in gateways {
            for method in gateway.methods where !methodNames.contains(method) { methodNames.append(method) }
            for currency in gateway.currencies where !currencyNames.contains(currency) {
                currencyNames.append(currency)
            }
        }
        methods = NameTable(Array(methodNames.prefix(RoutingTable.maxMethods)))
        currencies = NameTable(Array(currencyNames.prefix(RoutingTable.maxCurrencies)))
        networks = NameTable(configuration.routing.segments.cardNetworks)
        merchants = NameTable(configuration.merchants.map(\.id))

        let methods = self.methods
        let gatewayIDs = self.gatewayIDs
        let gateways = configuration.gateways
        func mask(_ names: [String], in table: NameTable) -> UInt64 {
            names.reduce(0) { mask, name in table.index(of: name).map { mask | 1 << UInt64($0) } ?? mask }
        }
        methodGateways = methods.names.map { method in
            gateways.enumerated().reduce(0) { $0 | ($1.element.methods.contains(method) ? 1 << UInt64($1.offset) : 0) }
        }
        currencyMasks = currencies.names.map { currency in
            gateways.enumerated().reduce(0) {
                $0 | ($1.element.currencies.contains(currency) ? 1 << UInt64($1.offset) : 0)
            }
        }
        minAmounts = gateways.map { UInt64($0.minAmount) }
        maxAmounts = gateways.map { UInt64($0.maxAmount) }
        enabledMask = gateways.enumerated().reduce(0) { $0 | ($1.element.enabled ? 1 << UInt64($1.offset) : 0) }
        amountBands = configuration.routing.segments.amountBands.map { UInt64($0) }
        let all: UInt64 = gateways.count == 64 ? .max : (1 << UInt64(gateways.count)) - 1
        merchantRules = configuration.merchants.map { merchant in
            let allowed = merchant.allowedGateways.map { mask($0, in: gatewayIDs) } ?? all
            return MerchantRules(
                methodMask: merchant.allowedMethods.map { mask($0, in: methods) } ?? .max,
                gatewayMask: allowed & ~mask(merchant.deniedGateways, in: gatewayIDs),
                priority: merchant.priority.compactMap { gatewayIDs.index(of: $0).map(UInt8.init) },
                weights: gateways.map { merchant.weights[$0.id] ?? $0.weight })
        }
        rules = RuleTable(
            configuration.routing.rules, merchants: configuration.merchants.map(\.rules),
            table: RoutingTableNames(
                gatewayIDs: gatewayIDs, methods: methods,
                currencies: currencies), merchantTiers: configuration.merchants.map(\.tier))
    }

    public var gatewayCount: Int { gateways.count }
    public var methodCount: Int { methods.count }

    /// Whether `gateway` takes payments of `method` at all.
    public func serves(gateway: Int, method: Int) -> Bool { methodGateways[method] & 1 << UInt64(gateway) != 0 }

    /// The breaker (and latency) slot of a gateway for a method.
    public func breakerIndex(gateway: Int, method: Int) -> Int { gateway * methods.count + method }

    /// The segment of a payment, from the indices its request resolved to.
    /// `network` is nil for a payment without one, `currency` nil for one no
    /// gateway takes.
    public func segment(method: Int, network: UnsafeRawBufferPointer, currency: Int?, amount: UInt64) -> Segment {
        let segments = routing.segments
        var networkPart: UInt8 = 0
        if segments.cardNetwork, network.count > 0 {
            networkPart = networks.index(of: network).map { UInt8($0 + 1) } ?? UInt8.max
        }
        var currencyPart: UInt8 = 0
        if segments.currency, let currency { currencyPart = UInt8(currency + 1) }
        var band: UInt8 = 0
        if !amountBands.isEmpty {
            band = 1
            for bound in amountBands where amount >= bound { band += 1 }
        }
        return Segment(method: UInt8(method), network: networkPart, currency: currencyPart, band: band)
    }

    /// Gateways that take this method, currency and amount (configuration only:
    /// no merchant rules, no breakers).
    public func gatewaysTaking(method: Int, currency: Int, amount: UInt64) -> UInt64 {
        var mask = enabledMask & currencyMasks[currency] & methodGateways[method]
        var candidates = mask
        while candidates != 0 {
            let gateway = candidates.trailingZeroBitCount
            candidates &= candidates - 1
            if amount < minAmounts[gateway] || amount > maxAmounts[gateway] { mask &= ~(1 << UInt64(gateway)) }
        }
        return mask
    }
}
