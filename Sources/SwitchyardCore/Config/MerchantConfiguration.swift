/// One merchant's routing rules. (Keys, status and rate limits arrive with
/// authorization.)
public struct MerchantConfiguration: Equatable, Sendable {
    public var id: String
    /// Methods this merchant may route; nil: any.
    public var allowedMethods: [String]?
    /// Gateways it may use; nil: any enabled gateway.
    public var allowedGateways: [String]?
    /// Gateways it must never use (applied after `allowedGateways`).
    public var deniedGateways: [String] = []
    /// A fixed order for its healthy gateways; gateways not listed follow, by
    /// score. Breakers still apply: a pinned gateway whose breaker is open
    /// moves down with the other open ones.
    public var priority: [String] = []
    /// Weights that replace the gateways' SRE weights for this merchant.
    public var weights: [String: Double] = [:]

    public init(id: String) { self.id = id }

    static let fields = ["id", "allowed_methods", "gateways"]
    static let ruleFields = ["allow", "deny", "priority", "weights"]

    /// Reads one merchant; `gateways` (id → methods) checks every reference.
    init?(reading reader: ConfigReader, gateways: [String: [String]]) {
        let id = reader.string("id", default: "")
        let idProblem = MerchantConfiguration.idProblem(id)
        if let idProblem { reader.report(field: "id", idProblem) }
        self.init(id: id)
        let known = Set(gateways.values.joined())
        let methods = reader.strings("allowed_methods", default: []) { method in
            known.contains(method) ? nil : "'\(method)' is not a method of any configured gateway"
        }
        allowedMethods = methods.isEmpty ? nil : methods
        let rules = reader.section("gateways")
        let reference: (String) -> String? = { gateways[$0] == nil ? "unknown gateway '\($0)'" : nil }
        let allow = rules.strings("allow", default: [], reference)
        allowedGateways = allow.isEmpty ? nil : allow
        deniedGateways = rules.strings("deny", default: [], reference)
        priority = rules.strings("priority", default: [], reference)
        if Set(priority).count != priority.count { rules.report(field: "priority", "a gateway is listed twice") }
        let weightReader = rules.section("weights")
        for gateway in weightReader.keys {
            let weight = weightReader.decimal(gateway, default: 1, in: 0...1_000)
            if gateways[gateway] == nil {
                weightReader.report(field: gateway, "unknown gateway '\(gateway)'")
            } else {
                weights[gateway] = weight
            }
        }
        rules.rejectUnknownKeys(known: MerchantConfiguration.ruleFields)
        reader.rejectUnknownKeys(known: MerchantConfiguration.fields)
        if idProblem != nil { return nil }
    }

    /// 1 to 64 printable ASCII bytes, no spaces: the wire carries it as str8.
    static func idProblem(_ text: String) -> String? {
        if text.isEmpty { return "every merchant needs an id" }
        let printable = text.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F }
        return text.utf8.count <= 64 && printable
            ? nil : "'\(text)' is not a merchant id: 1 to 64 printable ASCII characters, no spaces"
    }
}
