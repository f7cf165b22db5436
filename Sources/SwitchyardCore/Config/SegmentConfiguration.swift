/// Which dimensions of a payment a score is kept for. The method always is;
/// each other dimension multiplies the number of scores, so each thins the
/// evidence behind every one of them. A thin segment borrows from its parent
/// (the same gateway and method, fleet-wide) until its own evidence grows.
public struct SegmentConfiguration: Equatable, Sendable {
    /// Keep separate scores per card network.
    public var cardNetwork = false
    /// The networks scored separately when `cardNetwork` is on; any other
    /// network shares one `other` segment, so a client cannot grow the table.
    public var cardNetworks = ["visa", "mastercard", "rupay", "amex", "diners", "discover", "jcb", "unionpay"]
    /// Keep separate scores per currency.
    public var currency = false
    /// Upper bounds (exclusive, minor units, ascending) of amount bands; empty: no bands.
    /// `[10000, 1000000]` makes three bands: below 10000, below 1000000, the rest.
    public var amountBands: [Int] = []

    public init() {}

    static let fields = ["card_network", "card_networks", "currency", "amount_bands"]
    /// Band and network indices are packed into a segment key.
    static let maxNetworks = 254
    static let maxBands = 254

    init(reading reader: ConfigReader) {
        cardNetwork = reader.boolean("card_network", default: cardNetwork)
        cardNetworks = reader.strings("card_networks", default: cardNetworks, GatewayConfiguration.identifierProblem)
        if cardNetworks.count > SegmentConfiguration.maxNetworks {
            reader.report(field: "card_networks", "at most \(SegmentConfiguration.maxNetworks) networks")
        }
        if Set(cardNetworks).count != cardNetworks.count {
            reader.report(field: "card_networks", "a network is listed twice")
        }
        currency = reader.boolean("currency", default: currency)
        amountBands = reader.strings("amount_bands", default: []) { text in
            Int(text.filter { $0 != "_" }).map { $0 > 0 ? nil : "'\(text)' must be above 0" }
                ?? "'\(text)' is not a whole number of minor units"
        }.compactMap { Int($0.filter { $0 != "_" }) }
        if zip(amountBands, amountBands.dropFirst()).contains(where: { $0 >= $1 }) {
            reader.report(field: "amount_bands", "bounds must be strictly ascending")
        }
        if amountBands.count > SegmentConfiguration.maxBands {
            reader.report(field: "amount_bands", "at most \(SegmentConfiguration.maxBands) bands")
        }
        reader.rejectUnknownKeys(known: SegmentConfiguration.fields)
    }
}
