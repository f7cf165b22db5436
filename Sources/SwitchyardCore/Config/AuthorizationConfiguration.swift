/// Limits on failed authentications (brute-force protection). Once a
/// merchant or a client address has used up its budget of failures, even a
/// correct key is refused until the budget refills.
public struct AuthorizationConfiguration: Equatable, Sendable {
    public var failuresPerMerchant = RateLimit(rate: 20, periodNanoseconds: 60_000_000_000, burst: 20)
    public var failuresPerAddress = RateLimit(rate: 10, periodNanoseconds: 60_000_000_000, burst: 10)
    /// Client addresses tracked at once (a fixed table; addresses that share
    /// a slot share a budget, which errs on the side of refusing).
    public var addressSlots = 65_536
    /// Bearer tokens; nil: API keys only.
    public var tokens: TokenSettings?

    public init() {}

    static let fields = ["failures_per_merchant", "failures_per_address", "address_slots", "tokens"]
    static let limitFields = ["rate", "period_ms", "burst"]

    /// `directory`: the configuration file's, for the paths it names.
    init(reading reader: ConfigReader, directory: String) {
        failuresPerMerchant = AuthorizationConfiguration.readLimit(
            reader.section("failures_per_merchant"), default: failuresPerMerchant)
        failuresPerAddress = AuthorizationConfiguration.readLimit(
            reader.section("failures_per_address"), default: failuresPerAddress)
        addressSlots = reader.integer("address_slots", default: addressSlots, in: 1_024...(1 << 26))
        if reader.keys.contains("tokens") {
            tokens = TokenSettings(reading: reader.section("tokens"), directory: directory)
        }
        reader.rejectUnknownKeys(known: AuthorizationConfiguration.fields)
    }

    /// Reads `rate`, `period_ms` and `burst`; `alsoKnown` names the other
    /// fields the caller reads from the same section.
    static func readLimit(_ reader: ConfigReader, default fallback: RateLimit, alsoKnown: [String] = []) -> RateLimit {
        let rate = reader.integer("rate", default: fallback.rate, in: 1...1_000_000_000, unit: "requests")
        let period = reader.integer(
            "period_ms", default: Int(fallback.periodNanoseconds / 1_000_000), in: 1...86_400_000, unit: "milliseconds")
        let burst = reader.integer("burst", default: fallback.burst, in: 0...1_000_000_000, unit: "requests")
        reader.rejectUnknownKeys(known: limitFields + alsoKnown)
        let limit = RateLimit(rate: rate, periodNanoseconds: UInt64(period) * 1_000_000, burst: burst)
        if limit.emissionInterval == 0 {
            // A period of 0 is a missing field, which the caller reports.
            if period > 0 { reader.report(field: "rate", "more than one request per nanosecond of period_ms") }
            return fallback
        }
        return limit
    }
}
