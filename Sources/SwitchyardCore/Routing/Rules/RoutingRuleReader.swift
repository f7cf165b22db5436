/// Reads a list of routing rules and reports, with file, line and rule name,
/// every rule that cannot work as written: unknown gateways, gateways that do
/// not take the rule's methods, splits that do not sum to 100, rules that can
/// never match, and rules an earlier rule shadows completely.
enum RoutingRuleReader {
    static let fields = ["name", "when", "then", "mode", "shadow"]
    static let conditionFields = ["method", "card_network", "currency", "tier", "amount", "attempt", "labels"]
    static let outputFields = ["priority", "tiers", "split", "allow", "deny"]
    static let maxRules = 1_000
    static let maxAmount: UInt64 = 1_000_000_000_000_000

    static func read(_ reader: ConfigReader, key: String, gateways: [GatewayConfiguration]) -> [RoutingRule] {
        let entries = reader.list(key)
        if entries.count > maxRules { reader.report(field: key, "at most \(maxRules) rules") }
        var rules: [RoutingRule] = []
        var readers: [ConfigReader] = []
        for entry in entries {
            guard let rule = readRule(entry, gateways: gateways) else { continue }
            if rules.contains(where: { $0.name == rule.name }) {
                entry.report(field: "name", "a second rule named '\(rule.name)'")
            }
            rules.append(rule)
            readers.append(entry)
        }
        // A rule every one of whose payments an earlier acting rule takes first never applies.
        for (j, rule) in rules.enumerated() where !rule.shadow {
            if let i = rules[..<j].firstIndex(where: { !$0.shadow && rule.conditions.isCovered(by: $0.conditions) }) {
                readers[j].report(
                    field: "when",
                    "rule '\(rule.name)' never applies: every payment it matches is taken first by rule "
                        + "'\(rules[i].name)' (line \(rules[i].line))")
            }
        }
        return rules
    }

    /// The limits of a compiled ``RuleTable`` over every rule list, global
    /// and merchants' together: a request packs what the rules name into
    /// bit masks and bytes.
    static func checkNames(_ rules: [RoutingRule], reader: ConfigReader) {
        func named(_ sets: [RoutingRule.ValueSet]) -> [String] { RoutingRule.ValueSet.names(in: sets) }
        let limit = RuleTable.maxNames
        let networks = named(rules.map(\.conditions.cardNetwork)).count
        if networks > limit {
            reader.report(field: "rules", "the rules name \(networks) card networks; at most \(limit)")
        }
        let currencies = named(rules.map(\.conditions.currency)).count
        if currencies > limit {
            reader.report(field: "rules", "the rules name \(currencies) currencies; at most \(limit)")
        }
        let tiers = named(rules.map(\.conditions.tier)).count
        if tiers > limit { reader.report(field: "rules", "the rules name \(tiers) merchant tiers; at most \(limit)") }
        let keys = Set(rules.flatMap(\.conditions.labels.keys)).sorted()
        if keys.count > RuleTable.maxLabelKeys {
            reader.report(
                field: "rules",
                "the rules name \(keys.count) label keys (\(keys.joined(separator: ", "))); at most "
                    + "\(RuleTable.maxLabelKeys)")
        }
        for key in keys {
            let values = named(rules.compactMap { $0.conditions.labels[key] }).count
            if values > limit {
                reader.report(field: "rules", "the rules name \(values) values of label '\(key)'; at most \(limit)")
            }
        }
    }

    private static func readRule(_ entry: ConfigReader, gateways: [GatewayConfiguration]) -> RoutingRule? {
        let name = entry.string("name", default: "")
        if name.isEmpty { entry.report(field: "name", "every rule needs a name") }
        let output = readOutput(entry.section("then"), of: entry)
        guard let output else {
            entry.rejectUnknownKeys(known: fields)
            return nil
        }
        var rule = RoutingRule(name: name, output: output)
        rule.line = entry.line
        rule.conditions = readConditions(entry.section("when"))
        let mode = entry.choice(
            "mode", default: RoutingRule.Mode.scoreWithin.rawValue, from: RoutingRule.Mode.allCases.map(\.rawValue))
        rule.mode = RoutingRule.Mode(rawValue: mode) ?? .scoreWithin
        rule.shadow = entry.boolean("shadow", default: false)
        entry.rejectUnknownKeys(known: fields)

        let isSplit: Bool
        if case .split = output { isSplit = true } else { isSplit = false }
        if rule.mode == .splitThenScore, !isSplit {
            entry.report(field: "mode", "rule '\(name)': split_then_score needs a split")
        }
        if isSplit, rule.mode == .scoreWithin {
            entry.report(field: "mode", "rule '\(name)': a split goes with strict or split_then_score")
        }
        checkGateways(rule, entry, gateways: gateways)
        if let never = neverMatches(rule.conditions, gateways: gateways) {
            entry.report(field: "when", "rule '\(name)' can never match: \(never)")
        }
        return rule
    }

    private static func readOutput(_ then: ConfigReader, of entry: ConfigReader) -> RoutingRule.Output? {
        let given = then.keys.filter(outputFields.contains)
        defer { then.rejectUnknownKeys(known: outputFields) }
        guard given.count == 1 else {
            entry.report(
                field: "then", "expected exactly one of \(outputFields.joined(separator: ", ")), got \(given.count)")
            return nil
        }
        switch given[0] {
        case "priority": return .priority(then.strings("priority", default: []).map { [$0] })
        case "tiers": return .priority(then.stringLists("tiers"))
        case "allow": return .allow(then.strings("allow", default: []))
        case "deny": return .deny(then.strings("deny", default: []))
        default:
            let split = then.section("split")
            let shares = split.keys.map {
                RoutingRule.Share(gateway: $0, percent: split.integer($0, default: 0, in: 0...100, unit: "percent"))
            }
            let total = shares.reduce(0) { $0 + $1.percent }
            if total != 100 { then.report(field: "split", "the shares sum to \(total), not 100") }
            return .split(shares)
        }
    }

    private static func readConditions(_ when: ConfigReader) -> RoutingRule.Conditions {
        var conditions = RoutingRule.Conditions()
        conditions.method = readSet(when.section("method"))
        conditions.cardNetwork = readSet(when.section("card_network"))
        conditions.currency = readSet(when.section("currency"))
        conditions.tier = readSet(when.section("tier"))
        let amount = when.section("amount")
        let lowest = UInt64(amount.integer("min", default: 0, in: 0...Int(maxAmount), unit: "minor units"))
        let highest = UInt64(
            amount.integer("max", default: Int(maxAmount), in: 0...Int(maxAmount), unit: "minor units"))
        amount.rejectUnknownKeys(known: ["min", "max"])
        if lowest > highest { amount.report(field: "max", "below min: the rule can never match") }
        conditions.amount = lowest...max(lowest, highest)
        let attempt = when.section("attempt")
        let first = attempt.integer("min", default: 1, in: 1...255)
        let last = attempt.integer("max", default: 255, in: 1...255)
        attempt.rejectUnknownKeys(known: ["min", "max"])
        if first > last { attempt.report(field: "max", "below min: the rule can never match") }
        conditions.attempt = first...max(first, last)
        let labels = when.section("labels")
        for key in labels.keys { conditions.labels[key] = readSet(labels.section(key)) }
        when.rejectUnknownKeys(known: conditionFields)
        return conditions
    }

    /// `{in: [...]}` or `{not_in: [...]}`; absent: any value.
    private static func readSet(_ reader: ConfigReader) -> RoutingRule.ValueSet {
        defer { reader.rejectUnknownKeys(known: ["in", "not_in"]) }
        let keys = reader.keys.filter { $0 == "in" || $0 == "not_in" }
        guard !keys.isEmpty else { return .any }
        if keys.count > 1 {
            reader.report(field: "not_in", "give in or not_in, not both")
            return .any
        }
        let values = Set(reader.strings(keys[0], default: []))
        if keys[0] == "in", values.isEmpty { reader.report(field: "in", "an empty list never matches") }
        return keys[0] == "in" ? .oneOf(values) : .noneOf(values)
    }

    private static func checkGateways(_ rule: RoutingRule, _ entry: ConfigReader, gateways: [GatewayConfiguration]) {
        for name in rule.output.gateways {
            guard let gateway = gateways.first(where: { $0.id == name }) else {
                entry.report(field: "then", "rule '\(rule.name)': no gateway '\(name)' is configured")
                continue
            }
            if case .oneOf(let methods) = rule.conditions.method, methods.isDisjoint(with: gateway.methods) {
                entry.report(
                    field: "then",
                    "rule '\(rule.name)': gateway '\(name)' takes none of \(methods.sorted().joined(separator: ", "))")
            }
        }
    }

    /// Why no payment can satisfy `conditions`, or nil.
    private static func neverMatches(_ conditions: RoutingRule.Conditions, gateways: [GatewayConfiguration])
        -> String?
    {
        let methods = Set(gateways.flatMap(\.methods))
        let currencies = Set(gateways.flatMap(\.currencies))
        if case .oneOf(let wanted) = conditions.method, wanted.isDisjoint(with: methods) {
            return "no gateway takes method \(wanted.sorted().joined(separator: ", "))"
        }
        if case .oneOf(let wanted) = conditions.currency, wanted.isDisjoint(with: currencies) {
            return "no gateway takes currency \(wanted.sorted().joined(separator: ", "))"
        }
        if case .noneOf(let unwanted) = conditions.method, methods.isSubset(of: unwanted) {
            return "it excludes every method a gateway takes"
        }
        return nil
    }
}
