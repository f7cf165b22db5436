import Foundation

/// One merchant: its standing, its credentials and limits (authorization),
/// and its routing rules.
public struct MerchantConfiguration: Equatable, Sendable {
    public enum Status: String, Equatable, Sendable, CaseIterable {
        case active, suspended, disabled
    }

    /// One API key, in stored form only.
    public struct Key: Equatable, Sendable {
        public enum Mode: String, Equatable, Sendable, CaseIterable { case live, test }
        public var digest: KeyDigest
        public var mode = Mode.live
        /// Unix seconds after which the key is refused; nil: no expiry.
        public var expiresAt: Int64?
        /// The operations the key may be used for (`payments:create`, ...);
        /// nil: any. A request for another operation, or naming none, is
        /// denied with `scope_denied`.
        public var scopes: [String]?

        public init(digest: KeyDigest) { self.digest = digest }
    }

    public var id: String
    public var status = Status.active
    /// A label for SREs and metrics (`standard`, `enterprise`, ...).
    public var tier = "standard"
    /// Several keys for rotation: each is valid until removed or expired.
    public var keys: [Key] = []
    /// All must admit a request (per second and per minute, say).
    public var limits: [MerchantLimit] = []
    /// Client addresses the merchant's requests may come from; empty: any.
    public var clientAllowlist: [CIDR] = []
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
    /// Routing rules of its own, tried before `routing.rules` (docs/routing.md, "Rules").
    public var rules: [RoutingRule] = []

    public init(id: String) { self.id = id }

    static let fields = [
        "id", "status", "tier", "keys", "limits", "client_allowlist", "allowed_methods", "gateways", "rules",
    ]
    static let keyFields = ["hash", "mode", "expires", "scopes"]
    /// Limits one merchant may have (the limiter tracks them in one word).
    public static let maxLimits = 16
    /// Keys one merchant may hold at once: rotation needs two or three, and
    /// every AUTHORIZE compares against all of them.
    public static let maxKeys = 64
    /// Address blocks in one merchant's allowlist.
    public static let maxAllowlist = 1_024
    static let ruleFields = ["allow", "deny", "priority", "weights"]

    /// Reads one merchant; `gateways` (id → methods) checks every reference
    /// (`configured`, the gateways themselves, its routing rules), `redis`
    /// whether a fleet can share its limits.
    init?(
        reading reader: ConfigReader, gateways: [String: [String]], configured: [GatewayConfiguration],
        redis: RedisConfiguration
    ) {
        let id = reader.string("id", default: "")
        let idProblem = MerchantConfiguration.idProblem(id)
        if let idProblem { reader.report(field: "id", idProblem) }
        self.init(id: id)
        rules = RoutingRuleReader.read(reader, key: "rules", gateways: configured)
        readAuthorization(reader, redis: redis)
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

    static let maxScopesPerKey = 16
    /// Distinct scopes across all merchants' keys: a key's are a bit mask.
    public static let maxScopes = 64

    /// Why `text` is not a scope name (`payments:create`: lower-case words of
    /// `a-z 0-9 _ - .` joined by `:`, 1 to 64 bytes), or nil.
    static func scopeProblem(_ text: String) -> String? {
        let allowed = Set("abcdefghijklmnopqrstuvwxyz0123456789_-.:")
        guard (1...64).contains(text.utf8.count), text.allSatisfy(allowed.contains), !text.hasPrefix(":"),
            !text.hasSuffix(":"), !text.contains("::")
        else {
            return "'\(text)' is not a scope: lower-case words (a-z 0-9 _ - .) joined by ':', "
                + "1 to 64 bytes, such as payments:create"
        }
        return nil
    }

    private mutating func readAuthorization(_ reader: ConfigReader, redis: RedisConfiguration) {
        let statusText = reader.choice("status", default: status.rawValue, from: Status.allCases.map(\.rawValue))
        status = Status(rawValue: statusText) ?? .active
        tier = reader.string("tier", default: tier)
        if let problem = GatewayConfiguration.identifierProblem(tier) { reader.report(field: "tier", problem) }
        for keyReader in reader.list("keys") {
            let digest = keyReader.parsed("hash", default: KeyDigest?.none) { text in
                KeyDigest(storedForm: text).map { .success($0) }
                    ?? .failure(
                        InvalidValue(
                            "not a stored key: expected 'hmac-sha256:' and 64 lower-case hex digits (switchyard hash-key makes one)"
                        ))
            }
            if digest == nil, !keyReader.keys.contains("hash") {
                keyReader.report(field: "hash", "every key needs a hash")
            }
            let mode = keyReader.choice("mode", default: "live", from: Key.Mode.allCases.map(\.rawValue))
            let expires = keyReader.parsed("expires", default: Int64?.none) { text in
                MerchantConfiguration.instant(text).map { .success($0) }
                    ?? .failure(InvalidValue("'\(text)' is not a UTC time such as 2027-01-31T00:00:00Z"))
            }
            var listed = 0
            let scopes =
                keyReader.keys.contains("scopes")
                ? keyReader.strings("scopes", default: []) { scope in
                    listed += 1
                    return MerchantConfiguration.scopeProblem(scope)
                } : nil
            if let scopes {
                if listed == 0 {
                    keyReader.report(field: "scopes", "an empty list allows nothing: name scopes or leave it out")
                }
                if scopes.count > MerchantConfiguration.maxScopesPerKey {
                    keyReader.report(field: "scopes", "at most \(MerchantConfiguration.maxScopesPerKey) scopes per key")
                }
            }
            keyReader.rejectUnknownKeys(known: MerchantConfiguration.keyFields)
            guard let digest else { continue }
            if keys.contains(where: { $0.digest == digest }) {
                keyReader.report(field: "hash", "the same key is listed twice")
            }
            var key = Key(digest: digest)
            key.mode = Key.Mode(rawValue: mode) ?? .live
            key.expiresAt = expires
            key.scopes = scopes
            keys.append(key)
        }
        for limitReader in reader.list("limits") {
            for field in ["rate", "period_ms"] where !limitReader.keys.contains(field) {
                limitReader.report(field: field, "every limit needs rate and period_ms")
            }
            let placeholder = RateLimit(rate: 1, periodNanoseconds: 0, burst: 0)
            let sharing = LimitSharing(reading: limitReader)
            let limit = AuthorizationConfiguration.readLimit(
                limitReader, default: placeholder, alsoKnown: LimitSharing.fields)
            // Only a fleet can be too large for a limit: alone, every limit works.
            if redis.isEnabled, limit != placeholder,
                let problem = FleetLimit.problem(limit, sharing: sharing, fleetSize: redis.fleetSize)
            {
                limitReader.report(field: "burst", problem)
            }
            if limit != placeholder { limits.append(MerchantLimit(limit, sharing: sharing)) }
        }
        if limits.count > MerchantConfiguration.maxLimits {
            reader.report(field: "limits", "at most \(MerchantConfiguration.maxLimits) limits per merchant")
        }
        if keys.count > MerchantConfiguration.maxKeys {
            reader.report(field: "keys", "at most \(MerchantConfiguration.maxKeys) keys per merchant")
        }
        clientAllowlist = reader.strings("client_allowlist", default: []) { text in
            CIDR(parsing: text) == nil
                ? "'\(text)' is not an address block such as 203.0.113.0/24 or 2001:db8::/32 (host bits must be 0)"
                : nil
        }.compactMap(CIDR.init(parsing:))
        if clientAllowlist.count > MerchantConfiguration.maxAllowlist {
            reader.report(
                field: "client_allowlist", "at most \(MerchantConfiguration.maxAllowlist) address blocks per merchant")
        }
    }

    /// Unix seconds of an RFC 3339 UTC time (`2027-01-31T00:00:00Z`).
    static func instant(_ text: String) -> Int64? {
        guard text.hasSuffix("Z"), let date = try? Date(text, strategy: .iso8601) else { return nil }
        return Int64(date.timeIntervalSince1970)
    }

    /// 1 to 64 printable ASCII bytes, no spaces: the wire carries it as str8.
    static func idProblem(_ text: String) -> String? {
        if text.isEmpty { return "every merchant needs an id" }
        let printable = text.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F }
        return text.utf8.count <= 64 && printable
            ? nil : "'\(text)' is not a merchant id: 1 to 64 printable ASCII characters, no spaces"
    }
}
