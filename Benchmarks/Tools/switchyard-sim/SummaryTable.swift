import Foundation
import SwitchyardSimulation

/// The console table: one row per scenario, rate and policy, averaged over seeds.
enum SummaryTable {
    static func render(_ runs: [RunSummary]) -> String {
        var groups: [String: [RunSummary]] = [:]
        var order: [String] = []
        for run in runs {
            let key = "\(run.scenario)|\(run.rate)|\(run.policy.rawValue)"
            if groups[key] == nil { order.append(key) }
            groups[key, default: []].append(run)
        }
        var lines = [
            pad("scenario", 24) + pad("rate", 7) + pad("policy", 15) + pad("seeds", 6) + pad("success %", 11)
                + pad("regret", 10) + pad("detect s", 10) + pad("failed", 9) + pad("recover s", 10)
                + "false opens/gw-day"
        ]
        for key in order {
            let runs = groups[key]!
            let first = runs[0]
            let mean = { (value: (RunSummary) -> Double) in runs.reduce(0) { $0 + value($1) } / Double(runs.count) }
            let detect = runs.compactMap { $0.outage?.detectionSeconds }
            let recover = runs.compactMap { $0.outage?.recoverySeconds }
            var line = pad(first.scenario, 24) + pad(format(first.rate, 0), 7) + pad(first.policy.rawValue, 15)
            line += pad("\(runs.count)", 6) + pad(format(mean { $0.successRate * 100 }, 3), 11)
            line += pad(format(mean { $0.regret }, 1), 10)
            if first.outage != nil {
                line += pad(detect.count == runs.count ? format(median(detect), 1) : "never", 10)
                line += pad(format(mean { Double($0.outage?.failedBeforeDetection ?? 0) }, 1), 9)
                line += pad(
                    recover.count == runs.count ? format(median(recover), 1) : detect.isEmpty ? "-" : "never", 10)
            } else {
                line += pad("-", 10) + pad("-", 9) + pad("-", 10)
            }
            line += format(mean { $0.falseOpeningsPerGatewayDay }, 2)
            lines.append(line)
        }
        return lines.joined(separator: "\n")
    }

    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        let mid = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
    }

    private static func format(_ value: Double, _ decimals: Int) -> String { String(format: "%.\(decimals)f", value) }

    private static func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text + " " : text + String(repeating: " ", count: width - text.count)
    }
}
