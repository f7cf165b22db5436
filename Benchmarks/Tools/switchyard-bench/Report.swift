import Histogram
import SwitchyardWire

/// The figures of one run, as a table for people or JSON for scripts.
struct Report {
    let target: String
    /// The operation, or `mix` for a mix.
    let operation: String
    let mix: [(String, Double)]
    let address: String
    let connections: Int
    let mode: LoadRun.Mode
    let payload: Int
    let result: LoadRun.Result
    /// What a hostile client run beside the load did (--attack).
    var attack: (kind: AttackKind, tally: AttackTally)? = nil

    private static let percentiles: [(String, Double)] = [
        ("p50", 50), ("p90", 90), ("p99", 99), ("p99_9", 99.9), ("p99_99", 99.99),
    ]

    private var pipeline: Int {
        if case .closed(let depth) = mode { return depth }
        return 0
    }

    private var offered: Double? {
        if case .open(let rate, _) = mode { return rate }
        return nil
    }

    /// The operations that were sent, in the order of `Operation`.
    private var sent: [(Operation, LoadRun.Tally)] {
        Operation.allCases.compactMap { operation in
            let tally = result.byOperation[operation.index]
            return tally.requests > 0 ? (operation, tally) : nil
        }
    }

    private static func microseconds(_ tally: LoadRun.Tally, _ percentile: Double) -> Double {
        Double(tally.histogram.valueAtPercentile(percentile)) / 1_000
    }

    var text: String {
        let load =
            switch mode {
            case .closed(let depth): "closed loop, \(connections) connections x pipeline \(depth)"
            case .open(let rate, let poisson):
                "open loop, \(connections) connections, \(Int(rate)) req/s offered (\(poisson ? "Poisson" : "even") arrivals)"
            }
        let total = mix.reduce(0) { $0 + $1.1 }
        var lines: [String?] = [
            "target        \(target) at \(address)",
            "load          \(load)",
            "mix           "
                + mix.map { "\($0.0) \(format($0.1 / total * 100)) %" }.joined(separator: ", ")
                + (payload > 0 ? ", payload \(payload) B" : ""),
            "requests      \(result.all.requests) in \(format(result.elapsedSeconds)) s, \(result.all.errors) errors, \(result.all.refused) refused"
                + (offered == nil ? "" : ", \(result.unanswered) unanswered")
                + (result.droppedReports > 0 ? ", \(result.droppedReports) outcomes not reported" : ""),
            result.byOperation[Operation.report.index].requests == 0
                ? nil
                : "reports       \(result.reportResults[0]) recorded against a decision, \(result.reportResults[1]) duplicates, \(result.reportResults[2]) for decisions unknown to the server",
            "throughput    \(Int(result.throughput.rounded())) req/s",
            offered == nil
                ? nil
                : "send lag (us) p50 \(lag(50))  p99 \(lag(99))  p99.9 \(lag(99.9))  max \(format(Double(result.sendLag.max) / 1_000))",
            "",
            "latency (us)  " + "requests".leftPadded(10) + "    min" + "   mean"
                + Report.percentiles.map { $0.0.replacingUnderscores.leftPadded(9) }.joined() + "      max",
        ]
        for (name, tally) in sent.map({ ($0.0.rawValue, $0.1) }) + [("all", result.all)] {
            var line = name.rightPadded(14)
            line += String(tally.requests).leftPadded(10)
            line += format(Double(tally.histogram.min) / 1_000).leftPadded(7)
            line += format(tally.histogram.mean / 1_000).leftPadded(7)
            for (_, percentile) in Report.percentiles {
                line += format(Report.microseconds(tally, percentile)).leftPadded(9)
            }
            line += format(Double(tally.histogram.max) / 1_000).leftPadded(9)
            lines.append(line)
        }
        if !result.all.errorsByStatus.isEmpty {
            lines.append("errors by status  " + Report.byStatus(result.all.errorsByStatus))
        }
        if result.closedByServer > 0 || !result.notices.isEmpty {
            lines.append(
                "closed by the server  \(result.closedByServer) connections, \(result.lostAtClose) requests in flight then; "
                    + "notices: " + (result.notices.isEmpty ? "none" : Report.byStatus(result.notices)))
        }
        if let attack { lines += ["", "\(attack.kind.rawValue) " + attack.tally.text] }
        return lines.compactMap { $0 }.joined(separator: "\n")
    }

    /// `NAME(code) count, ...` in code order.
    static func byStatus(_ counts: [UInt16: Int]) -> String {
        counts.keys.sorted().map { "\(Status(rawValue: $0)) \(counts[$0]!)" }.joined(separator: ", ")
    }

    static func statusJSON(_ counts: [UInt16: Int]) -> String {
        "{" + counts.keys.sorted().map { "\"\(Status(rawValue: $0))\": \(counts[$0]!)" }.joined(separator: ", ") + "}"
    }

    private func lag(_ percentile: Double) -> String {
        format(Double(result.sendLag.valueAtPercentile(percentile)) / 1_000)
    }

    private static func latencyJSON(_ tally: LoadRun.Tally) -> String {
        let fields =
            percentiles.map { "\"\($0.0)\": \(format(microseconds(tally, $0.1)))" }
            + [
                "\"min\": \(format(Double(tally.histogram.min) / 1_000))",
                "\"mean\": \(format(tally.histogram.mean / 1_000))",
                "\"max\": \(format(Double(tally.histogram.max) / 1_000))",
            ]
        return "{\(fields.joined(separator: ", "))}"
    }

    var json: String {
        let operations = sent.map { operation, tally in
            "\"\(operation.rawValue)\": {\"requests\": \(tally.requests), \"errors\": \(tally.errors), "
                + "\"refused\": \(tally.refused), \"latency_us\": \(Report.latencyJSON(tally))}"
        }
        let mixJSON = mix.map { "\"\($0.0)\": \($0.1)" }.joined(separator: ", ")
        let modeName = offered == nil ? "closed" : "open"
        return """
            {"target": "\(target)", "operation": "\(operation)", "mix": {\(mixJSON)}, "address": "\(address)", \
            "mode": "\(modeName)", "connections": \(connections), "pipeline": \(pipeline), \
            "offered_rps": \(offered.map { String(Int($0)) } ?? "null"), \
            "payload_bytes": \(payload), "requests": \(result.all.requests), "errors": \(result.all.errors), \
            "refused": \(result.all.refused), "unanswered": \(result.unanswered), \
            "errors_by_status": \(Report.statusJSON(result.all.errorsByStatus)), \
            "closed_by_server": \(result.closedByServer), "lost_at_close": \(result.lostAtClose), \
            "notices": \(Report.statusJSON(result.notices)), \
            "outcomes_not_reported": \(result.droppedReports), \
            "report_results": {"recorded": \(result.reportResults[0]), "duplicate": \(result.reportResults[1]), \
            "unknown_decision": \(result.reportResults[2]), "attributable": \(result.attributableReports)}, \
            "send_lag_us": {"p50": \(lag(50)), "p99": \(lag(99)), "p99_9": \(lag(99.9)), \
            "max": \(format(Double(result.sendLag.max) / 1_000))}, \
            "seconds": \(format(result.elapsedSeconds)), "throughput_rps": \(Int(result.throughput.rounded())), \
            "latency_us": \(Report.latencyJSON(result.all)), "operations": {\(operations.joined(separator: ", "))}\
            \(attack.map { ", \"attack\": {\"kind\": \"\($0.kind.rawValue)\", \"tally\": \($0.tally.json)}" } ?? "")}
            """
    }

    /// HdrHistogram's percentile distribution text, in microseconds: what
    /// HdrHistogram's plotter and perf/plot read.
    static func percentileDistribution(_ tally: LoadRun.Tally) -> String {
        var text = "Value(us) Percentile TotalCount 1/(1-Percentile)\n"
        for step in tally.histogram.percentiles(ticksPerHalfDistance: 5) {
            let level = step.percentileLevelIteratedTo / 100
            let inverse = level >= 1 ? "inf" : String(1 / (1 - level))
            text += "\(Double(step.value) / 1_000) \(level) \(step.totalCountToThisValue) \(inverse)\n"
        }
        return text
    }
}

extension String {
    fileprivate func leftPadded(_ width: Int) -> String {
        count >= width ? " " + self : String(repeating: " ", count: width - count) + self
    }

    fileprivate func rightPadded(_ width: Int) -> String {
        count >= width ? self + " " : self + String(repeating: " ", count: width - count)
    }

    fileprivate var replacingUnderscores: String {
        String(map { $0 == "_" ? "." : $0 })
    }
}
