/// The JSON documents admin replies carry (docs/protocol.md section 4.7),
/// shared by the daemon that writes them and `switchyardctl` that reads
/// them. Keys are snake_case on the wire (the encoders convert).

/// `ADMIN_STATS`: what the instance has done since it started.
public struct AdminStats: Codable, Equatable, Sendable {
    public var instance: String
    public var version: String
    public var uptimeSeconds: Double
    public var loops: Int
    public var connections: Int
    /// `standalone`, `connected` or `degraded` (Redis configured but away).
    public var redis: String
    public var gateways: Int
    public var merchants: Int
    /// Reports taken, by outcome name.
    public var reports: [String: UInt64]
    public var unknownDecisions: UInt64
    public var breakerTransitions: UInt64
    public var probesGranted: UInt64
    /// Outcomes other instances saw, folded in from Redis.
    public var fleetOutcomes: UInt64
    /// Outcomes lost because Redis was away longer than the pending bound.
    public var fleetDropped: Int64
    /// SRE overrides in force (weights, gateway states, breakers, merchant statuses).
    public var overrides: Int
    /// The routing rules in force, in the order they are tried (each
    /// merchant's own before the global ones), with what they decided.
    public var rules: [Rule]

    /// A routing rule's counts since the start (across reloads, by name and scope).
    public struct Rule: Codable, Equatable, Sendable {
        public var name: String
        /// `global`, or `merchant:` and the merchant's id.
        public var scope: String
        public var mode: String
        public var shadow: Bool
        /// Decisions that followed it (while acting).
        public var decisions: UInt64
        /// Payments it would have decided while in shadow; of those, how many
        /// with another gateway first, and how many with no gateway.
        public var shadowMatches: UInt64
        public var shadowDiffers: UInt64
        public var shadowRefusals: UInt64

        public init(
            name: String, scope: String, mode: String, shadow: Bool, decisions: UInt64, shadowMatches: UInt64,
            shadowDiffers: UInt64, shadowRefusals: UInt64
        ) {
            self.name = name
            self.scope = scope
            self.mode = mode
            self.shadow = shadow
            self.decisions = decisions
            self.shadowMatches = shadowMatches
            self.shadowDiffers = shadowDiffers
            self.shadowRefusals = shadowRefusals
        }
    }

    public init(
        instance: String, version: String, uptimeSeconds: Double, loops: Int, connections: Int, redis: String,
        gateways: Int, merchants: Int, reports: [String: UInt64], unknownDecisions: UInt64,
        breakerTransitions: UInt64, probesGranted: UInt64, fleetOutcomes: UInt64, fleetDropped: Int64, overrides: Int,
        rules: [Rule] = []
    ) {
        self.instance = instance
        self.version = version
        self.uptimeSeconds = uptimeSeconds
        self.loops = loops
        self.connections = connections
        self.redis = redis
        self.gateways = gateways
        self.merchants = merchants
        self.reports = reports
        self.unknownDecisions = unknownDecisions
        self.breakerTransitions = breakerTransitions
        self.probesGranted = probesGranted
        self.fleetOutcomes = fleetOutcomes
        self.fleetDropped = fleetDropped
        self.overrides = overrides
        self.rules = rules
    }
}

/// `ADMIN_HEALTH`: one row per gateway and segment the instance has scores
/// for, and one per gateway with none yet (segment `-`).
public struct AdminHealth: Codable, Equatable, Sendable {
    public struct Row: Codable, Equatable, Sendable {
        public var gateway: String
        /// `method`, or `method|network|currency|band` (`-` for an unused part).
        public var segment: String
        /// The posterior mean of the success rate, and its standard deviation.
        public var successRate: Double
        public var uncertainty: Double
        /// Decayed evidence behind the estimate (successes + failures).
        public var evidence: Double
        /// Outcomes reported for this gateway and segment over the last
        /// minute, and their share of the segment's outcomes.
        public var reportsLastMinute: Int
        public var shareLastMinute: Double
        /// The breaker of the gateway for the segment's method.
        public var breaker: String
        public var breakerGeneration: UInt64
        public var probesInFlight: Int
        public var weight: Double
        public var enabled: Bool

        public init(
            gateway: String, segment: String, successRate: Double, uncertainty: Double, evidence: Double,
            reportsLastMinute: Int, shareLastMinute: Double, breaker: String, breakerGeneration: UInt64,
            probesInFlight: Int, weight: Double, enabled: Bool
        ) {
            self.gateway = gateway
            self.segment = segment
            self.successRate = successRate
            self.uncertainty = uncertainty
            self.evidence = evidence
            self.reportsLastMinute = reportsLastMinute
            self.shareLastMinute = shareLastMinute
            self.breaker = breaker
            self.breakerGeneration = breakerGeneration
            self.probesInFlight = probesInFlight
            self.weight = weight
            self.enabled = enabled
        }
    }

    public var instance: String
    public var rows: [Row]

    public init(instance: String, rows: [Row]) {
        self.instance = instance
        self.rows = rows
    }
}

/// The answer to a change (weight, breaker, gateway state): what was
/// ordered and where it applies.
public struct AdminChange: Codable, Equatable, Sendable {
    /// The override as stored, e.g. `weight:razorpay = 1.5`.
    public var change: String
    /// `fleet` (written to Redis: every instance applies it within a sync
    /// period, and it outlives restarts) or `instance` (standalone: this
    /// process only, until it restarts).
    public var scope: String

    public init(change: String, scope: String) {
        self.change = change
        self.scope = scope
    }
}

/// `ADMIN_RELOAD`: the configuration file was read again and applied.
public struct AdminReload: Codable, Equatable, Sendable {
    public var config: String
    /// Settings that changed in the file but need a restart.
    public var notes: [String]

    public init(config: String, notes: [String]) {
        self.config = config
        self.notes = notes
    }
}

/// `ADMIN_MERCHANT`: a merchant's status and limits as this instance applies them.
public struct AdminMerchant: Codable, Equatable, Sendable {
    public struct Limit: Codable, Equatable, Sendable {
        public var rate: Int
        public var periodMs: Int
        public var burst: Int
        /// `fleet` or `instance`.
        public var scope: String
        public var whenRedisDown: String

        public init(rate: Int, periodMs: Int, burst: Int, scope: String, whenRedisDown: String) {
            self.rate = rate
            self.periodMs = periodMs
            self.burst = burst
            self.scope = scope
            self.whenRedisDown = whenRedisDown
        }
    }

    public var merchant: String
    public var status: String
    /// The status the configuration file gives, when an override changed it.
    public var configuredStatus: String?
    public var tier: String
    public var keys: Int
    public var limits: [Limit]
    public var allowedMethods: [String]?
    public var allowedGateways: [String]?

    public init(
        merchant: String, status: String, configuredStatus: String?, tier: String, keys: Int, limits: [Limit],
        allowedMethods: [String]?, allowedGateways: [String]?
    ) {
        self.merchant = merchant
        self.status = status
        self.configuredStatus = configuredStatus
        self.tier = tier
        self.keys = keys
        self.limits = limits
        self.allowedMethods = allowedMethods
        self.allowedGateways = allowedGateways
    }
}

/// `ADMIN_EXPLAIN`: a decision this instance made and still remembers.
public struct AdminExplain: Codable, Equatable, Sendable {
    public struct Entry: Codable, Equatable, Sendable {
        public var gateway: String
        /// `best_score`, `exploration`, `pinned`, `probe`, `failover`, `half_open` or `least_bad`.
        public var reason: String
        public var successRate: Double
        /// What gateways are ranked by: success rate × weight × latency factor.
        public var score: Double

        public init(gateway: String, reason: String, successRate: Double, score: Double) {
            self.gateway = gateway
            self.reason = reason
            self.successRate = successRate
            self.score = score
        }
    }

    public struct Exclusion: Codable, Equatable, Sendable {
        public var gateway: String
        public var reason: String

        public init(gateway: String, reason: String) {
            self.gateway = gateway
            self.reason = reason
        }
    }

    /// In hex, as logs and clients usually print it.
    public var decisionId: String
    public var instance: String
    public var loop: Int
    public var ageMs: Double
    public var merchant: String
    public var method: String
    public var currency: String?
    public var amount: UInt64
    /// `method|network|currency|band`, as the health table names segments.
    public var segment: String
    public var tried: [String]
    public var snapshotVersion: UInt32
    /// How the first place was decided, in words.
    public var draw: String
    /// The chance the first entry had of going first.
    public var firstProbability: Double
    /// The failover list as answered (its first entries when long).
    public var entries: [Entry]
    public var listLength: Int
    /// The gateways left out, each with the first rule that excluded it.
    public var excluded: [Exclusion]
    /// The routing rule the decision followed (absent: none matched).
    public var rule: MatchedRule?
    /// Routing rules tried before it (all of them, when none matched), each
    /// with the first condition the payment failed; absent without rules.
    public var rulesPassedOver: [PassedOver]?

    public struct MatchedRule: Codable, Equatable, Sendable {
        public var name: String
        /// `merchant` (the merchant's own rules) or `global` (`routing.rules`).
        public var scope: String
        /// Its place in that list, from 0.
        public var index: Int

        public init(name: String, scope: String, index: Int) {
            self.name = name
            self.scope = scope
            self.index = index
        }
    }

    public struct PassedOver: Codable, Equatable, Sendable {
        public var name: String
        /// `method`, `card_network`, `currency`, `tier`, `amount`, `attempt`, `labels`, or `shadow`.
        public var failed: String

        public init(name: String, failed: String) {
            self.name = name
            self.failed = failed
        }
    }

    public init(
        decisionId: String, instance: String, loop: Int, ageMs: Double, merchant: String, method: String,
        currency: String?, amount: UInt64, segment: String, tried: [String], snapshotVersion: UInt32, draw: String,
        firstProbability: Double, entries: [Entry], listLength: Int, excluded: [Exclusion],
        rule: MatchedRule? = nil, rulesPassedOver: [PassedOver]? = nil
    ) {
        self.rule = rule
        self.rulesPassedOver = rulesPassedOver
        self.decisionId = decisionId
        self.instance = instance
        self.loop = loop
        self.ageMs = ageMs
        self.merchant = merchant
        self.method = method
        self.currency = currency
        self.amount = amount
        self.segment = segment
        self.tried = tried
        self.snapshotVersion = snapshotVersion
        self.draw = draw
        self.firstProbability = firstProbability
        self.entries = entries
        self.listLength = listLength
        self.excluded = excluded
    }
}
