/// The names a ``RuleTable`` resolves against (built before the routing table is complete).
struct RoutingTableNames {
    let gatewayIDs: NameTable
    let methods: NameTable
    let currencies: NameTable
}

/// The configured routing rules compiled against a ``RoutingTable``: names
/// resolved to indices and gateway masks, so matching a payment against
/// every rule compares integers and allocates nothing.
public struct RuleTable: Sendable {
    /// What a matched rule does.
    struct Rule: Sendable {
        let name: String
        let mode: RoutingRule.Mode
        /// The gateways the rule leaves eligible.
        let gateways: UInt64
        /// Tiers (priority: one gateway each, in order), or a split's arms in order.
        let tiers: [UInt64]
        let order: [Int]
        let percents: [Int]
    }

    /// A condition on a field whose values are small indices (0..<64); -1: the
    /// request has no such field; 64 and above: a value no rule names.
    struct Condition: Sendable {
        let mask: UInt64
        let negated: Bool
        let any: Bool

        static let always = Condition(mask: 0, negated: false, any: true)

        func admits(_ index: Int) -> Bool {
            if any { return true }
            if index < 0 { return false }
            let named = index < 64 && mask & (1 << UInt64(index)) != 0
            return negated ? !named : named
        }
    }

    let rules: [Rule]
    /// Each rule's conditions, apart and free of references: matching reads
    /// them for every decision, and a `Rule` (with its name and arrays) read
    /// by value would be retained and released, rule by rule.
    private let conditions: [Conditions]

    struct Conditions {
        let shadow: Bool
        let methods: UInt64
        let networks: Condition
        let currencies: Condition
        let tier: Condition
        let amount: ClosedRange<UInt64>
        let attempt: ClosedRange<Int>
        /// The rule's label conditions: `labelConditions[labels]`.
        let labels: Range<Int>
    }

    /// A condition on the label whose key is `labelKeys[key]`.
    struct LabelCondition {
        let key: Int
        let condition: Condition
    }

    private let labelConditions: [LabelCondition]

    /// Rules 0..<globalCount apply to every merchant; a merchant's own come
    /// after them in `rules`, at its range, and are tried first.
    public let globalCount: Int
    let merchantRules: [Int: Range<Int>]
    /// For each merchant rule (rule `globalCount + i`), its merchant.
    private let ruleMerchants: [Int]

    /// Every card network, currency, tier and label key some rule names,
    /// and per label key every value some rule names.
    let networks: NameTable
    let currencyNames: NameTable
    /// Per currency of the routing table: its index in `currencyNames` (64 when no rule names it).
    private let currencyIndices: [UInt8]
    let tierNames: NameTable
    let labelKeys: NameTable
    let labelValues: [NameTable]
    /// Per merchant: its tier's index in `tierNames` (64 when no rule names it).
    let merchantTiers: [UInt8]

    static let maxNames = 64
    /// A request's labels are packed one byte per key the rules name (``RouteQuery/ruleLabels``).
    public static let maxLabelKeys = 8

    /// `global` apply to every merchant; `merchants[m]` to merchant m, first.
    init(
        _ global: [RoutingRule], merchants: [[RoutingRule]], table: RoutingTableNames, merchantTiers tiers: [String]
    ) {
        var configured = global
        var ranges: [Int: Range<Int>] = [:]
        var owners: [Int] = []
        for (merchant, own) in merchants.enumerated() where !own.isEmpty {
            ranges[merchant] = configured.count..<configured.count + own.count
            configured += own
            owners += repeatElement(merchant, count: own.count)
        }
        merchantRules = ranges
        ruleMerchants = owners
        globalCount = global.count
        func names(_ sets: [RoutingRule.ValueSet]) -> [String] {
            Array(RoutingRule.ValueSet.names(in: sets).prefix(RuleTable.maxNames))
        }
        networks = NameTable(names(configured.map(\.conditions.cardNetwork)))
        tierNames = NameTable(names(configured.map(\.conditions.tier)))
        let currencyNames = NameTable(names(configured.map(\.conditions.currency)))
        self.currencyNames = currencyNames
        currencyIndices = table.currencies.names.map { UInt8(currencyNames.index(of: $0) ?? RuleTable.maxNames) }
        let keys = Set(configured.flatMap(\.conditions.labels.keys)).sorted().prefix(RuleTable.maxLabelKeys)
        labelKeys = NameTable(Array(keys))
        labelValues = keys.map { key in NameTable(names(configured.compactMap { $0.conditions.labels[key] })) }
        let labelKeys = self.labelKeys
        let labelValues = self.labelValues
        let tierNames = self.tierNames
        merchantTiers = tierNames.count == 0 ? [] : tiers.map { UInt8(tierNames.index(of: $0) ?? RuleTable.maxNames) }
        let networks = self.networks
        func condition(_ set: RoutingRule.ValueSet, in table: NameTable) -> Condition {
            switch set {
            case .any: return .always
            case .oneOf(let values), .noneOf(let values):
                var mask: UInt64 = 0
                for value in values { if let i = table.index(of: value) { mask |= 1 << UInt64(i) } }
                if case .noneOf = set { return Condition(mask: mask, negated: true, any: false) }
                return Condition(mask: mask, negated: false, any: false)
            }
        }
        func gatewayMask(_ names: [String]) -> UInt64 {
            names.reduce(0) { mask, name in table.gatewayIDs.index(of: name).map { mask | 1 << UInt64($0) } ?? mask }
        }
        let all: UInt64 = table.gatewayIDs.count == 64 ? .max : (1 << UInt64(table.gatewayIDs.count)) - 1
        var conditions: [Conditions] = []
        var labelConditions: [LabelCondition] = []
        rules = configured.map { rule in
            let labelsStart = labelConditions.count
            for (key, set) in rule.conditions.labels.sorted(by: { $0.key < $1.key }) {
                guard let index = labelKeys.index(of: key) else { continue }
                labelConditions.append(LabelCondition(key: index, condition: condition(set, in: labelValues[index])))
            }
            let methods = condition(rule.conditions.method, in: table.methods)
            var methodMask: UInt64 = 0
            for i in 0..<table.methods.count where methods.admits(i) { methodMask |= 1 << UInt64(i) }
            let tiers: [UInt64]
            let percents: [Int]
            var eligible = all
            switch rule.output {
            case .priority(let names):
                tiers = names.map(gatewayMask)
                percents = []
                eligible = tiers.reduce(0, |)
            case .split(let shares):
                tiers = shares.map { gatewayMask([$0.gateway]) }
                percents = shares.map(\.percent)
                eligible = tiers.reduce(0, |)
            case .allow(let names):
                tiers = []
                percents = []
                eligible = gatewayMask(names)
            case .deny(let names):
                tiers = []
                percents = []
                eligible = all & ~gatewayMask(names)
            }
            conditions.append(
                Conditions(
                    shadow: rule.shadow, methods: methodMask,
                    networks: condition(rule.conditions.cardNetwork, in: networks),
                    currencies: condition(rule.conditions.currency, in: currencyNames),
                    tier: condition(rule.conditions.tier, in: tierNames), amount: rule.conditions.amount,
                    attempt: rule.conditions.attempt, labels: labelsStart..<labelConditions.count))
            return Rule(
                name: rule.name, mode: rule.mode, gateways: eligible, tiers: tiers,
                order: tiers.map { $0.trailingZeroBitCount }, percents: percents)
        }
        self.conditions = conditions
        self.labelConditions = labelConditions
        hasShadow = conditions.contains { $0.shadow }
        hasSplits = rules.contains { !$0.percents.isEmpty }
    }

    public var isEmpty: Bool { conditions.isEmpty }

    /// Whether some rule is in shadow, so decisions must also evaluate it.
    public let hasShadow: Bool
    /// Whether some rule splits volume, so requests need their payment id's hash.
    public let hasSplits: Bool

    /// The index of a value (card network, currency, tier, label) no rule names.
    public static let unnamed = maxNames

    /// The first rule (not in shadow) the payment matches, or nil.
    func match(_ query: RouteQuery) -> Int? {
        guard !conditions.isEmpty else { return nil }
        let (own, tier) = scope(of: query.merchant)
        return conditions.withUnsafeBufferPointer { conditions in
            // Through a pointer: an element read by subscript is a copy of all its fields.
            let rule = conditions.baseAddress!
            for i in own where !rule[i].shadow && failedCondition(rule + i, query, tier: tier) == nil { return i }
            for i in 0..<globalCount where !rule[i].shadow && failedCondition(rule + i, query, tier: tier) == nil {
                return i
            }
            return nil
        }
    }

    /// Calls `body` with each rule in shadow the payment matches and that is
    /// tried before `matched` (the rule the decision followed; nil: none):
    /// the rules that would have decided it, each had it been the one turned on.
    func forEachShadow(_ query: RouteQuery, before matched: Int?, _ body: (Int) -> Void) {
        let (own, tier) = scope(of: query.merchant)
        conditions.withUnsafeBufferPointer { conditions in
            let rule = conditions.baseAddress!
            for i in own {
                if i == matched { return }
                if rule[i].shadow, failedCondition(rule + i, query, tier: tier) == nil { body(i) }
            }
            for i in 0..<globalCount {
                if i == matched { return }
                if rule[i].shadow, failedCondition(rule + i, query, tier: tier) == nil { body(i) }
            }
        }
    }

    /// For explanations: the rules tried before `matched` (all of them, when
    /// none matched), in order, each with the first of its conditions the
    /// payment failed, or "shadow" for a rule in shadow it matched.
    public func passedOver(_ query: RouteQuery, matched: Int?) -> [(name: String, reason: String)] {
        let (own, tier) = scope(of: query.merchant)
        var passed: [(name: String, reason: String)] = []
        conditions.withUnsafeBufferPointer { conditions in
            for i in Array(own) + Array(0..<globalCount) {
                if i == matched { break }
                if let failed = failedCondition(conditions.baseAddress! + i, query, tier: tier) {
                    passed.append((rules[i].name, failed.rawValue))
                } else if conditions[i].shadow {
                    passed.append((rules[i].name, "shadow"))
                }
            }
        }
        return passed
    }

    public var count: Int { rules.count }

    /// The merchant (its index in the table) rule `index` belongs to; nil for a global rule.
    public func merchant(of index: Int) -> Int? {
        isMerchantRule(index) ? ruleMerchants[index - globalCount] : nil
    }

    /// Rule `index`'s place in its configured list (`routing.rules`, or its merchant's `rules`), from 0.
    public func place(of index: Int) -> Int {
        guard let merchant = merchant(of: index), let range = merchantRules[merchant] else { return index }
        return index - range.lowerBound
    }

    public func isShadow(_ index: Int) -> Bool { conditions[index].shadow }

    public func mode(of index: Int) -> RoutingRule.Mode { rules[index].mode }

    /// Whether rule `index` is one of the merchant's own (else it is for every merchant).
    public func isMerchantRule(_ index: Int) -> Bool { index >= globalCount }

    public func name(of index: Int) -> String { rules[index].name }

    /// A merchant's own rules (tried first) and its tier's index.
    private func scope(of merchant: Int) -> (own: Range<Int>, tier: Int) {
        (
            merchantRules.isEmpty ? 0..<0 : merchantRules[merchant] ?? 0..<0,
            merchantTiers.isEmpty ? RuleTable.maxNames : Int(merchantTiers[merchant])
        )
    }

    /// The condition names explanations use.
    enum FailedCondition: String {
        case method, cardNetwork = "card_network", currency, tier, amount, attempt, labels
    }

    /// The first condition of `rule` the payment fails; nil when it matches.
    /// (Inlined into the loops over the rules: called, it took a copy of
    /// the conditions and the query for each rule.)
    @inline(__always)
    private func failedCondition(_ rule: UnsafePointer<Conditions>, _ query: RouteQuery, tier: Int)
        -> FailedCondition?
    {
        if rule.pointee.methods & (1 << UInt64(query.method)) == 0 { return .method }
        if !rule.pointee.networks.admits(query.ruleNetwork) { return .cardNetwork }
        if !rule.pointee.currencies.admits(query.currency.map { Int(currencyIndices[$0]) } ?? -1) { return .currency }
        if !rule.pointee.tier.admits(tier) { return .tier }
        if !rule.pointee.amount.contains(query.amount) { return .amount }
        if !rule.pointee.attempt.contains(query.attempt) { return .attempt }
        for i in rule.pointee.labels
        where !labelConditions[i].condition.admits(query.ruleLabels.value(at: labelConditions[i].key)) {
            return .labels
        }
        return nil
    }

    /// Adds a request's label to `labels`: a key no rule names is ignored,
    /// a value no rule names is kept as ``unnamed``.
    public func pack(label key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer, into labels: inout RuleLabels) {
        guard let k = labelKeys.index(of: key) else { return }
        labels.set(k, labelValues[k].index(of: value) ?? RuleTable.unnamed)
    }
}
