import Foundation
public import SwitchyardCore

/// A simulated world (docs/simulator.md): gateways whose true success rates
/// per segment change over time, the payments that arrive, and how their
/// outcomes come back. Read from a scenario file in `perf/scenarios/`.
public struct Scenario: Sendable {
    public var name: String
    public var summary: String
    public var durationSeconds: Double
    /// Payments per second (Poisson arrivals); the command line may override it.
    public var rate: Double
    /// Merchants the payments spread over, evenly (m_1 ... m_N).
    public var merchants: Int
    public var segments: [PaymentSegment]
    public var gateways: [SimulatedGateway]
    public var outage: Outage?
    public var feedback: Feedback
    /// Static priority's configured order (gateway indices).
    public var staticOrder: [Int]
    /// Switchyard's routing settings in this world, as the daemon reads them.
    public var routing: RoutingConfiguration

    /// A kind of payment, with its share of the traffic.
    public struct PaymentSegment: Sendable {
        public var name: String
        public var method: String
        /// A card network, scored separately when the routing settings say so.
        public var network: String
        public var share: Double
    }

    /// One gateway and its true behaviour.
    public struct SimulatedGateway: Sendable {
        public var id: String
        /// Its true success rate, per segment (indexed like `segments`).
        public var success: [Double]
        /// Later rates: from `atSeconds` on, `success` (per segment) applies.
        public var changes: [(atSeconds: Double, success: [Double])]
        /// Added to the rate: amplitude · sin(2π t / period + phase).
        public var drift: Drift?
        public var latencyMilliseconds: UInt32
        /// Segments it serves (indices), all by default.
        public var serves: [Bool]
    }

    public struct Drift: Sendable {
        public var amplitude: Double
        public var periodSeconds: Double
        public var phaseDegrees: Double
    }

    /// A gateway failing most payments for a while: applied to its rate, and
    /// the window detection and recovery are measured on.
    public struct Outage: Sendable {
        public var gateway: Int
        public var fromSeconds: Double
        public var toSeconds: Double
        public var success: Double
    }

    /// How outcomes come back: after a log-normal delay (none when the
    /// median is 0), and some never.
    public struct Feedback: Sendable {
        public var medianDelaySeconds: Double = 0
        public var p99DelaySeconds: Double = 0
        public var lostFraction: Double = 0
    }

    /// The true success rate of `gateway` for `segment` at `seconds`.
    public func successRate(gateway: Int, segment: Int, at seconds: Double) -> Double {
        let g = gateways[gateway]
        if let outage, outage.gateway == gateway, seconds >= outage.fromSeconds, seconds < outage.toSeconds {
            return outage.success
        }
        var rate = g.success[segment]
        for change in g.changes where change.atSeconds <= seconds { rate = change.success[segment] }
        if let drift = g.drift {
            rate +=
                drift.amplitude * sin(2 * Double.pi * seconds / drift.periodSeconds + drift.phaseDegrees * .pi / 180)
        }
        return min(max(rate, 0), 1)
    }

    /// The true success rate of `gateway` over the segments it serves, weighted by their shares.
    public func meanSuccessRate(gateway: Int, at seconds: Double) -> Double {
        var weighted = 0.0
        var shares = 0.0
        for s in segments.indices where gateways[gateway].serves[s] {
            weighted += segments[s].share * successRate(gateway: gateway, segment: s, at: seconds)
            shares += segments[s].share
        }
        return shares > 0 ? weighted / shares : 0
    }

    /// The daemon's configuration for this world: its gateways, merchants and routing settings.
    public var configuration: Configuration {
        var configuration = Configuration()
        configuration.routing = routing
        configuration.gateways = gateways.map { gateway in
            var methods: [String] = []
            for s in segments.indices where gateway.serves[s] && !methods.contains(segments[s].method) {
                methods.append(segments[s].method)
            }
            return GatewayConfiguration(id: gateway.id, methods: methods, currencies: ["INR"])
        }
        configuration.merchants = (1...merchants).map { MerchantConfiguration(id: "m_\($0)") }
        return configuration
    }
}

// MARK: - Reading a scenario file

extension Scenario {
    static let fields = [
        "name", "summary", "duration_s", "rate", "merchants", "segments", "gateways", "outage", "feedback",
        "static_order", "routing",
    ]

    /// Reads and validates a scenario file; every mistake is reported with its line and field.
    public static func load(path: String) throws(ConfigurationError) -> Scenario {
        try parse(yaml: Configuration.text(of: path), file: path)
    }

    public static func parse(yaml: String, file: String) throws(ConfigurationError) -> Scenario {
        let reader = try Configuration.reader(yaml: yaml, file: file)
        let name = reader.string("name", default: (file as NSString).lastPathComponent)
        let summary = reader.string("summary", default: "")
        let duration = reader.decimal("duration_s", default: 3_600, in: 1...604_800)
        let rate = reader.decimal("rate", default: 100, in: 0.01...100_000)
        let merchants = reader.integer("merchants", default: 1, in: 1...100_000)

        var segments: [PaymentSegment] = []
        for entry in reader.list("segments") {
            segments.append(
                PaymentSegment(
                    name: entry.string("name", default: ""), method: entry.string("method", default: "card"),
                    network: entry.string("network", default: ""),
                    share: entry.decimal("share", default: 1, in: 0.000_001...1_000_000)))
            entry.rejectUnknownKeys(known: ["name", "method", "network", "share"])
        }
        if segments.isEmpty { segments = [PaymentSegment(name: "card", method: "card", network: "", share: 1)] }
        for i in segments.indices where segments[i].name.isEmpty {
            segments[i].name = segments[i].network.isEmpty ? segments[i].method : segments[i].network
        }
        if Set(segments.map(\.name)).count != segments.count {
            reader.report(field: "segments", "segment names must be unique")
        }
        let total = segments.reduce(0) { $0 + $1.share }
        for i in segments.indices { segments[i].share /= total }
        let segmentNames = segments.map(\.name)

        var gateways: [SimulatedGateway] = []
        for entry in reader.list("gateways") {
            gateways.append(readGateway(entry, segments: segmentNames))
        }
        if gateways.count < 2 || gateways.count > 64 {
            reader.report(field: "gateways", "expected 2 to 64 gateways, got \(gateways.count)")
        }
        let ids = gateways.map(\.id)
        if Set(ids).count != ids.count { reader.report(field: "gateways", "gateway ids must be unique") }
        for s in segments.indices where !gateways.contains(where: { $0.serves[s] }) {
            reader.report(field: "segments", "no gateway serves \(segments[s].name)")
        }

        var outage: Outage?
        let outageReader = reader.section("outage")
        if !outageReader.keys.isEmpty {
            let gatewayName = outageReader.string("gateway", default: "")
            let gateway = ids.firstIndex(of: gatewayName)
            if gateway == nil { outageReader.report(field: "gateway", "no gateway \(gatewayName) in this scenario") }
            let from = outageReader.decimal("from_s", default: 0, in: 0...604_800)
            let to = outageReader.decimal("to_s", default: duration, in: 0...604_800)
            if to <= from { outageReader.report(field: "to_s", "must be after from_s") }
            outage = Outage(
                gateway: gateway ?? 0, fromSeconds: from, toSeconds: to,
                success: outageReader.decimal("success", default: 0.1, in: 0...1))
            outageReader.rejectUnknownKeys(known: ["gateway", "from_s", "to_s", "success"])
        }

        let feedbackReader = reader.section("feedback")
        var feedback = Feedback()
        feedback.medianDelaySeconds = feedbackReader.decimal("median_delay_s", default: 0, in: 0...86_400)
        feedback.p99DelaySeconds = feedbackReader.decimal(
            "p99_delay_s", default: feedback.medianDelaySeconds, in: 0...86_400)
        if feedback.p99DelaySeconds < feedback.medianDelaySeconds {
            feedbackReader.report(field: "p99_delay_s", "must be at least median_delay_s")
        }
        feedback.lostFraction = feedbackReader.decimal("lost", default: 0, in: 0...1)
        feedbackReader.rejectUnknownKeys(known: ["median_delay_s", "p99_delay_s", "lost"])

        // Static priority's order: as configured, else best first at the start.
        var order: [Int] = []
        for id in reader.strings("static_order", default: []) {
            guard let index = ids.firstIndex(of: id) else {
                reader.report(field: "static_order", "no gateway \(id) in this scenario")
                continue
            }
            order.append(index)
        }
        var scenario = Scenario(
            name: name, summary: summary, durationSeconds: duration, rate: rate, merchants: merchants,
            segments: segments, gateways: gateways, outage: outage, feedback: feedback, staticOrder: [],
            routing: RoutingConfiguration())
        scenario.routing = RoutingConfiguration(
            reading: reader.section("routing"), gateways: scenario.configuration.gateways)
        if order.isEmpty {
            order = gateways.indices.sorted {
                scenario.meanSuccessRate(gateway: $0, at: 0) > scenario.meanSuccessRate(gateway: $1, at: 0)
            }
        }
        for gateway in gateways.indices where !order.contains(gateway) { order.append(gateway) }
        scenario.staticOrder = order
        reader.rejectUnknownKeys(known: fields)
        if !reader.collected.isEmpty { throw ConfigurationError(problems: reader.collected) }
        return scenario
    }

    private static func readGateway(_ entry: ConfigReader, segments: [String]) -> SimulatedGateway {
        let id = entry.string("id", default: "")
        if id.isEmpty { entry.report(field: "id", "every gateway needs an id") }
        /// A rate for every segment: `success`, or `success_by_segment` over it.
        func rates(_ reader: ConfigReader, default fallback: [Double]) -> [Double] {
            var rates = fallback
            if reader.keys.contains("success") {
                rates = Array(repeating: reader.decimal("success", default: 0, in: 0...1), count: segments.count)
            }
            let bySegment = reader.section("success_by_segment")
            for name in bySegment.keys {
                guard let s = segments.firstIndex(of: name) else {
                    bySegment.report(field: name, "no segment \(name) in this scenario")
                    continue
                }
                rates[s] = bySegment.decimal(name, default: rates[s], in: 0...1)
            }
            return rates
        }
        let success = rates(entry, default: Array(repeating: 0.9, count: segments.count))
        var changes: [(Double, [Double])] = []
        for change in entry.list("changes") {
            let at = change.decimal("at_s", default: 0, in: 0...604_800)
            changes.append((at, rates(change, default: changes.last?.1 ?? success)))
            change.rejectUnknownKeys(known: ["at_s", "success", "success_by_segment"])
        }
        if zip(changes, changes.dropFirst()).contains(where: { $0.0 >= $1.0 }) {
            entry.report(field: "changes", "changes must be in time order")
        }
        var drift: Drift?
        let driftReader = entry.section("drift")
        if !driftReader.keys.isEmpty {
            drift = Drift(
                amplitude: driftReader.decimal("amplitude", default: 0.05, in: 0...1),
                periodSeconds: driftReader.decimal("period_s", default: 10_800, in: 1...604_800),
                phaseDegrees: driftReader.decimal("phase_deg", default: 0, in: -360...360))
            driftReader.rejectUnknownKeys(known: ["amplitude", "period_s", "phase_deg"])
        }
        var serves = Array(repeating: true, count: segments.count)
        let served = entry.strings("segments", default: segments)
        for s in segments.indices { serves[s] = served.contains(segments[s]) }
        for name in served where !segments.contains(name) {
            entry.report(field: "segments", "no segment \(name) in this scenario")
        }
        let latency = entry.integer("latency_ms", default: 0, in: 0...600_000, unit: "milliseconds")
        entry.rejectUnknownKeys(known: [
            "id", "success", "success_by_segment", "changes", "drift", "latency_ms", "segments",
        ])
        return SimulatedGateway(
            id: id, success: success, changes: changes, drift: drift, latencyMilliseconds: UInt32(latency),
            serves: serves)
    }
}
