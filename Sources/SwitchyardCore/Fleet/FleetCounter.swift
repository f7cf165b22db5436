/// The name a fleet shares a gateway's outcome counter by: gateway, method,
/// card network, currency and amount band by name, not by this instance's
/// table indices, so instances whose configurations list them in another
/// order (or one reloaded before the other) still agree:
/// `razorpay|card|visa|INR|2` (`-` for a part the segment does not use).
public enum FleetCounter {
    public static func name(gateway: Int, segment: Segment, in table: RoutingTable) -> String {
        table.gateways[gateway].id + "|" + segmentName(segment, in: table)
    }

    /// A segment for people: the method alone when nothing finer is
    /// segmented (`card`), else ``segmentName(_:in:)``.
    public static func segmentLabel(_ segment: Segment, in table: RoutingTable) -> String {
        segment == segment.methodOnly ? table.methods.names[Int(segment.method)] : segmentName(segment, in: table)
    }

    /// A segment by name: `card|visa|INR|2`, the counter name without its gateway.
    public static func segmentName(_ segment: Segment, in table: RoutingTable) -> String {
        func part(_ index: UInt8, _ names: NameTable) -> String {
            index == 0 ? "-" : index == UInt8.max ? "*" : names.names[Int(index) - 1]
        }
        return [
            table.methods.names[Int(segment.method)], part(segment.network, table.networks),
            part(segment.currency, table.currencies), String(segment.band),
        ].joined(separator: "|")
    }

    /// The gateway and segment a counter name means in `table`; nil for a
    /// name it does not know (another configuration) or a malformed one.
    public static func parse(_ name: String, in table: RoutingTable) -> (gateway: Int, segment: Segment)? {
        let parts = name.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 5, let gateway = table.gatewayIDs.index(of: parts[0]),
            let method = table.methods.index(of: parts[1]), let band = UInt8(parts[4])
        else { return nil }
        func index(_ text: String, _ names: NameTable) -> UInt8? {
            switch text {
            case "-": 0
            case "*": UInt8.max
            default: names.index(of: text).map { UInt8($0 + 1) }
            }
        }
        guard let network = index(parts[2], table.networks), let currency = index(parts[3], table.currencies) else {
            return nil
        }
        return (gateway, Segment(method: UInt8(method), network: network, currency: currency, band: band))
    }
}
