/// One payment gateway Switchyard may route to.
public struct GatewayConfiguration: Equatable, Sendable {
    /// Lower-case identifier, such as `razorpay`; what ROUTE answers and REPORT names.
    public var id: String
    public var enabled = true
    /// Payment methods it takes (`card`, `upi`, `netbanking`, `wallet`, ...). Never empty.
    public var methods: [String]
    /// ISO 4217 codes it takes. Never empty.
    public var currencies: [String]
    /// The amounts it takes, in minor units, inclusive.
    public var minAmount: Int = 1
    public var maxAmount: Int = 1_000_000_000_000
    /// The SRE weight: multiplies the gateway's sampled score. 0 sends it no
    /// traffic while it stays configured; 1 is neutral.
    public var weight: Double = 1
    /// What the gateway charges, in basis points, when known.
    public var costBasisPoints: Int?

    public init(id: String, methods: [String], currencies: [String]) {
        self.id = id
        self.methods = methods
        self.currencies = currencies
    }

    static let fields = [
        "id", "enabled", "methods", "currencies", "min_amount", "max_amount", "weight", "cost_bps",
    ]

    /// An identifier: 1 to 64 of `a-z 0-9 _ -`, starting with a letter or digit.
    static func identifierProblem(_ text: String) -> String? {
        let allowed = text.utf8.allSatisfy {
            ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x5F || $0 == 0x2D
        }
        guard (1...64).contains(text.utf8.count), allowed, text.first != "_", text.first != "-" else {
            return "'\(text)' is not an identifier: 1 to 64 of a-z, 0-9, '_' and '-', starting with a letter or digit"
        }
        return nil
    }

    static func currencyProblem(_ text: String) -> String? {
        text.utf8.count == 3 && text.utf8.allSatisfy({ $0 >= 0x41 && $0 <= 0x5A })
            ? nil : "'\(text)' is not an ISO 4217 code (three capital letters, such as INR)"
    }

    init?(reading reader: ConfigReader) {
        let id = reader.string("id", default: "")
        let idProblem = GatewayConfiguration.identifierProblem(id)
        if let idProblem { reader.report(field: "id", id.isEmpty ? "every gateway needs an id" : idProblem) }
        let methods = reader.strings("methods", default: [], GatewayConfiguration.identifierProblem)
        if methods.isEmpty { reader.report(field: "methods", "list at least one payment method") }
        let currencies = reader.strings("currencies", default: [], GatewayConfiguration.currencyProblem)
        if currencies.isEmpty { reader.report(field: "currencies", "list at least one currency") }
        self.init(id: id, methods: methods, currencies: currencies)
        enabled = reader.boolean("enabled", default: true)
        minAmount = reader.integer("min_amount", default: minAmount, in: 1...Int(Int64.max), unit: "minor units")
        maxAmount = reader.integer("max_amount", default: maxAmount, in: 1...Int(Int64.max), unit: "minor units")
        if minAmount > maxAmount {
            reader.report(field: "max_amount", "must be at least min_amount (\(minAmount))")
        }
        weight = reader.decimal("weight", default: 1, in: 0...1_000)
        let cost = reader.integer("cost_bps", default: -1, in: 0...10_000, unit: "basis points")
        costBasisPoints = cost >= 0 ? cost : nil
        reader.rejectUnknownKeys(known: GatewayConfiguration.fields)
        if idProblem != nil { return nil }
    }
}
