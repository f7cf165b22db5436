import SwitchyardSimulation

/// Traffic share per gateway and its true success rate, per 10 seconds:
/// what the charts in perf/ROUTING.md draw.
enum SeriesWriter {
    static let binSeconds = 10.0
    static let header = "policy,seconds,gateway,share,true_rate\n"

    static func csv(_ result: RunResult, simulator: Simulator) -> String {
        let scenario = simulator.scenario
        let perBin = RunResult.bucket(binSeconds)
        let traffic = (0..<result.gateways).map { result.traffic(of: $0) }
        var text = ""
        var start = 0
        while start < result.buckets {
            let seconds = Double(start) * RunResult.bucketSeconds
            for g in 0..<result.gateways {
                let share = traffic[g].share(start..<start + perBin) ?? 0
                let truth = scenario.meanSuccessRate(gateway: g, at: seconds + binSeconds / 2)
                text += "\(result.policy.rawValue),\(seconds),\(scenario.gateways[g].id),"
                text += "\(rounded(share)),\(rounded(truth))\n"
            }
            start += perBin
        }
        return text
    }

    private static func rounded(_ value: Double) -> String { String(Double(Int((value * 10_000).rounded())) / 10_000) }
}
