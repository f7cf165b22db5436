/// SRE orders for the whole fleet, kept in Redis (one hash, `{fleet}:overrides`)
/// so that they reach every instance and outlive any of them. Each field is
/// one order:
///
/// | field | value | effect |
/// |---|---|---|
/// | `weight:<gateway>` | a number ≥ 0 | the gateway's SRE weight (0 takes it out of rotation) |
/// | `gateway:<gateway>` | `enabled` or `disabled` | drains the gateway (no new traffic) or lets it back |
/// | `breaker:<gateway>` or `breaker:<gateway>:<method>` | `forced_open` or `forced_closed` | forces its breakers |
/// | `merchant:<id>` | `active`, `suspended` or `disabled` | the merchant's status |
///
/// They apply on top of the configuration file: a reload keeps them, and
/// deleting a field gives the file's value (or the automatic breaker) back.
public struct FleetOverrides: Equatable, Sendable {
    public var weights: [String: Double] = [:]
    public var enabled: [String: Bool] = [:]
    /// By `gateway` (every method) or `gateway:method`.
    public var breakers: [String: CircuitBreaker.State] = [:]
    public var merchantStatus: [String: MerchantConfiguration.Status] = [:]

    public init() {}

    /// The orders in `fields` (name, value), and a message for each field it
    /// could not read (those are ignored; the rest apply).
    public static func parse(_ fields: [(String, String)]) -> (FleetOverrides, problems: [String]) {
        var overrides = FleetOverrides()
        var problems: [String] = []
        for (field, value) in fields {
            let parts = field.split(separator: ":", maxSplits: 1).map(String.init)
            guard parts.count == 2, !parts[1].isEmpty else {
                problems.append("\(field): expected weight:, gateway:, breaker: or merchant: and a name")
                continue
            }
            let name = parts[1]
            switch parts[0] {
            case "weight":
                guard let weight = Double(value), weight >= 0, weight.isFinite else {
                    problems.append("\(field): '\(value)' is not a weight (a number, 0 or more)")
                    continue
                }
                overrides.weights[name] = weight
            case "gateway":
                guard value == "enabled" || value == "disabled" else {
                    problems.append("\(field): '\(value)' is not enabled or disabled")
                    continue
                }
                overrides.enabled[name] = value == "enabled"
            case "breaker":
                guard let state = CircuitBreaker.State(rawValue: value), state == .forcedOpen || state == .forcedClosed
                else {
                    problems.append("\(field): '\(value)' is not forced_open or forced_closed")
                    continue
                }
                overrides.breakers[name] = state
            case "merchant":
                guard let status = MerchantConfiguration.Status(rawValue: value) else {
                    problems.append("\(field): '\(value)' is not active, suspended or disabled")
                    continue
                }
                overrides.merchantStatus[name] = status
            default:
                problems.append("\(field): expected weight:, gateway:, breaker: or merchant: and a name")
            }
        }
        return (overrides, problems)
    }

    /// Sets one field (as stored in Redis) to `value`, or removes it (nil);
    /// the problem with the value when it cannot be read (nothing changes then).
    public mutating func set(_ field: String, to value: String?) -> String? {
        guard let value else {
            let parts = field.split(separator: ":", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { return nil }
            switch parts[0] {
            case "weight": weights[parts[1]] = nil
            case "gateway": enabled[parts[1]] = nil
            case "breaker": breakers[parts[1]] = nil
            case "merchant": merchantStatus[parts[1]] = nil
            default: break
            }
            return nil
        }
        let (one, problems) = FleetOverrides.parse([(field, value)])
        if let problem = problems.first { return problem }
        weights.merge(one.weights) { $1 }
        enabled.merge(one.enabled) { $1 }
        breakers.merge(one.breakers) { $1 }
        merchantStatus.merge(one.merchantStatus) { $1 }
        return nil
    }

    /// How many orders are in force.
    public var count: Int { weights.count + enabled.count + breakers.count + merchantStatus.count }

    /// `configuration` with the weights, gateway switches and merchant
    /// statuses applied; names it does not have are left alone.
    public func applied(to configuration: Configuration) -> Configuration {
        var result = configuration
        for index in result.gateways.indices {
            let id = result.gateways[index].id
            if let weight = weights[id] { result.gateways[index].weight = weight }
            if let enabled = enabled[id] { result.gateways[index].enabled = enabled }
        }
        for index in result.merchants.indices {
            if let status = merchantStatus[result.merchants[index].id] { result.merchants[index].status = status }
        }
        return result
    }

    /// The breaker orders as (gateway, method or nil for all, state), for
    /// the breakers that `previous` forced and this no longer does, the
    /// state is `.closed` (back to automatic).
    public func breakerChanges(since previous: FleetOverrides) -> [(
        gateway: String, method: String?, state: CircuitBreaker.State
    )] {
        var changes: [(gateway: String, method: String?, state: CircuitBreaker.State)] = []
        func target(_ key: String) -> (String, String?) {
            let parts = key.split(separator: ":", maxSplits: 1).map(String.init)
            return (parts[0], parts.count == 2 ? parts[1] : nil)
        }
        for (key, _) in previous.breakers where breakers[key] == nil {
            let (gateway, method) = target(key)
            changes.append((gateway, method, .closed))
        }
        for (key, state) in breakers.sorted(by: { $0.key < $1.key }) where previous.breakers[key] != state {
            let (gateway, method) = target(key)
            changes.append((gateway, method, state))
        }
        return changes
    }
}
