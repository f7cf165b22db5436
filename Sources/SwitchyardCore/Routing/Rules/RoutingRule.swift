/// One routing rule as configured: when a payment matches every
/// condition, the rule's output decides which gateways are eligible and in
/// what order, combined with success-rate scoring as `mode` says.
public struct RoutingRule: Equatable, Sendable {
    public var name: String
    public var conditions = Conditions()
    public var output: Output
    public var mode = Mode.scoreWithin
    /// Evaluated and counted, never acted on: how SREs roll a rule out.
    public var shadow = false
    /// Where the rule starts in its file, for messages.
    public var line = 0

    public enum Mode: String, Equatable, Sendable, CaseIterable {
        /// The rule's order as given (breakers still apply).
        case strict
        /// The rule decides the eligible gateways and their tiers; scores order each tier.
        case scoreWithin = "score_within"
        /// The split picks the first gateway; scores order the rest.
        case splitThenScore = "split_then_score"
    }

    public enum Output: Equatable, Sendable {
        /// Tiers of gateways, first tier first.
        case priority([[String]])
        /// Shares in percent, summing to 100.
        case split([Share])
        /// Only these gateways.
        case allow([String])
        /// Every gateway but these.
        case deny([String])

        /// Every gateway the output names.
        public var gateways: [String] {
            switch self {
            case .priority(let tiers): tiers.flatMap { $0 }
            case .split(let shares): shares.map(\.gateway)
            case .allow(let names), .deny(let names): names
            }
        }
    }

    public struct Share: Equatable, Sendable {
        public var gateway: String
        public var percent: Int

        public init(gateway: String, percent: Int) {
            self.gateway = gateway
            self.percent = percent
        }
    }

    /// What a payment must be for the rule to apply: every condition holds
    /// (AND); several rules express OR. A condition on a field the request
    /// does not carry does not hold.
    public struct Conditions: Equatable, Sendable {
        public var method = ValueSet.any
        public var cardNetwork = ValueSet.any
        public var currency = ValueSet.any
        public var tier = ValueSet.any
        /// Inclusive bounds, in minor units.
        public var amount: ClosedRange<UInt64> = 0...UInt64.max
        public var attempt: ClosedRange<Int> = 1...255
        /// Per label the request may carry: the values it must (not) have.
        public var labels: [String: ValueSet] = [:]

        public init() {}

        /// Whether every payment these conditions take is also taken by `other`.
        public func isCovered(by other: Conditions) -> Bool {
            method.isCovered(by: other.method) && cardNetwork.isCovered(by: other.cardNetwork)
                && currency.isCovered(by: other.currency) && tier.isCovered(by: other.tier)
                && other.amount.contains(amount.lowerBound) && other.amount.contains(amount.upperBound)
                && other.attempt.contains(attempt.lowerBound) && other.attempt.contains(attempt.upperBound)
                && other.labels.allSatisfy { key, set in labels[key].map { $0.isCovered(by: set) } ?? (set == .any) }
        }
    }

    /// A condition on a field with named values.
    public enum ValueSet: Equatable, Sendable {
        case any
        case oneOf(Set<String>)
        case noneOf(Set<String>)

        /// Whether a request whose field is `value` (nil: absent) passes.
        public func admits(_ value: String?) -> Bool {
            switch self {
            case .any: true
            case .oneOf(let values): value.map(values.contains) ?? false
            case .noneOf(let values): value.map { !values.contains($0) } ?? false
            }
        }

        /// Every value the sets name, sorted, each once.
        static func names(in sets: [ValueSet]) -> [String] {
            var names = Set<String>()
            for case .oneOf(let values) in sets { names.formUnion(values) }
            for case .noneOf(let values) in sets { names.formUnion(values) }
            return names.sorted()
        }

        /// Whether every value this admits, `other` admits too.
        func isCovered(by other: ValueSet) -> Bool {
            switch (self, other) {
            case (_, .any): true
            case (.any, _): false
            case (.oneOf(let mine), .oneOf(let theirs)): mine.isSubset(of: theirs)
            case (.oneOf(let mine), .noneOf(let theirs)): mine.isDisjoint(with: theirs)
            case (.noneOf, .oneOf): false
            case (.noneOf(let mine), .noneOf(let theirs)): theirs.isSubset(of: mine)
            }
        }
    }

    public init(name: String, output: Output) {
        self.name = name
        self.output = output
    }
}

extension RoutingRule {
    /// The share of a split a payment falls in (an index into `percents`),
    /// from its id alone, so a retried payment keeps its arm: the id's hash,
    /// spread over 10,000 slots, laid over the shares in order.
    public static func splitArm(paymentID: UnsafeRawBufferPointer, percents: [Int]) -> Int {
        splitArm(hash: splitHash(paymentID: paymentID), percents: percents)
    }

    /// What a payment's split arm is drawn from: computed once per request.
    public static func splitHash(paymentID: UnsafeRawBufferPointer) -> UInt64 {
        Hashing.bytes(paymentID, seed: splitSeed)
    }

    static func splitArm(hash: UInt64, percents: [Int]) -> Int {
        let slot = Int(hash % 10_000)
        var bound = 0
        for i in 0..<percents.count {
            bound += percents[i] * 100
            if slot < bound { return i }
        }
        return max(0, percents.count - 1)
    }

    /// Apart from the other hashes of ids, so a split does not line up with them.
    static let splitSeed: UInt64 = 0x5EED_5B11_7A2B_1E55
}
