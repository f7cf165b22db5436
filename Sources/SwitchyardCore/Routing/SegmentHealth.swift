/// One line of the health table SREs read (`switchyardctl health`): what
/// this instance believes of a gateway in a segment, and how much traffic
/// it has seen there lately.
public struct SegmentHealth: Equatable, Sendable {
    public let gateway: Int
    public let segment: Segment
    /// The fleet-level posterior decisions start from (before merchant evidence).
    public let posterior: SuccessEstimate.Posterior
    /// Outcomes reported for this gateway in the segment over the last
    /// minute, and for every gateway in the segment.
    public let reportsLastMinute: Int
    public let segmentReportsLastMinute: Int
}

extension RoutingState {
    /// The health table as of `snapshot` (scores) and `now` (traffic): a row
    /// per gateway for every fleet segment with scores or recent traffic,
    /// each method's row before its finer segments. A gateway with neither appears under its methods
    /// with the prior, so that every gateway is listed.
    public mutating func health(snapshot: RoutingSnapshot, at now: UInt64) -> [SegmentHealth] {
        var keys = Set(traffic.keys)
        for key in snapshot.rows.keys where ScoreKey.merchantIndex(key) == nil { keys.insert(key) }
        for method in 0..<table.methodCount { keys.insert(ScoreKey.fleet(Segment(method: UInt8(method)))) }
        // A fleet key is the segment's key, method in the top byte: each
        // method's own row sorts before its finer segments.
        let ordered = keys.sorted()
        var rows: [SegmentHealth] = []
        for key in ordered {
            let segment = ScoreKey.segment(key)
            var counts = Array(repeating: 0, count: table.gatewayCount)
            if traffic[key] != nil {
                for gateway in counts.indices { counts[gateway] = traffic[key]![gateway].calls(at: now) }
            }
            let total = counts.reduce(0, +)
            let fleetRow = snapshot.fleetRow(segment)
            for gateway in 0..<table.gatewayCount
            where table.serves(gateway: gateway, method: Int(segment.method)) {
                let posterior =
                    fleetRow.map {
                        let i = $0 * table.gatewayCount + gateway
                        return SuccessEstimate.Posterior(alpha: snapshot.first[i], beta: snapshot.second[i])
                    }
                    ?? SuccessEstimate.Posterior(
                        priorMean: table.routing.priorSuccessRate, priorWeight: table.routing.priorWeight,
                        successes: 0, failures: 0)
                rows.append(
                    SegmentHealth(
                        gateway: gateway, segment: segment, posterior: posterior,
                        reportsLastMinute: counts[gateway], segmentReportsLastMinute: total))
            }
        }
        return rows
    }
}
