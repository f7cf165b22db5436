import Histogram

/// The figures of one run, as a table for people or JSON for scripts.
struct Report {
    let target: String
    let operation: String
    let address: String
    let connections: Int
    let pipeline: Int
    let payload: Int
    let result: LoadRun.Result

    private static let percentiles: [(String, Double)] = [
        ("p50", 50), ("p90", 90), ("p99", 99), ("p99_9", 99.9), ("p99_99", 99.99),
    ]

    private func microseconds(_ percentile: Double) -> Double {
        Double(result.histogram.valueAtPercentile(percentile)) / 1_000
    }

    var text: String {
        var lines = [
            "target        \(target) at \(address), \(operation.uppercased())",
            "connections   \(connections), pipeline \(pipeline), payload \(payload) B",
            "requests      \(result.requests) in \(format(result.elapsedSeconds)) s, \(result.errors) errors, \(result.refused) refused",
            "throughput    \(Int(result.throughput.rounded())) req/s",
            "latency (us)  min \(format(Double(result.histogram.min) / 1_000))  mean \(format(result.histogram.mean / 1_000))  max \(format(Double(result.histogram.max) / 1_000))",
        ]
        lines.append(
            "              "
                + Report.percentiles.map { "\($0.0) \(format(microseconds($0.1)))" }.joined(separator: "  "))
        return lines.joined(separator: "\n")
    }

    var json: String {
        let latency =
            Report.percentiles.map { "\"\($0.0)\": \(format(microseconds($0.1)))" }
            + [
                "\"min\": \(format(Double(result.histogram.min) / 1_000))",
                "\"mean\": \(format(result.histogram.mean / 1_000))",
                "\"max\": \(format(Double(result.histogram.max) / 1_000))",
            ]
        return """
            {"target": "\(target)", "operation": "\(operation)", "address": "\(address)", "connections": \(connections), "pipeline": \(pipeline), \
            "payload_bytes": \(payload), "requests": \(result.requests), "errors": \(result.errors), \
            "refused": \(result.refused), \
            "seconds": \(format(result.elapsedSeconds)), "throughput_rps": \(Int(result.throughput.rounded())), \
            "latency_us": {\(latency.joined(separator: ", "))}}
            """
    }
}
