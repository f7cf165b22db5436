import Foundation
import SwitchyardWire

/// The human renderings of admin replies: aligned columns, one line per row.
enum Table {
    static func render(_ header: [String], _ rows: [[String]]) -> String {
        let widths = header.indices.map { column in
            ([header] + rows).map { $0[column].count }.max() ?? 0
        }
        return ([header] + rows).map { row in
            zip(row, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }
                .joined(separator: "  ").trimmingCharacters(in: .whitespaces)
        }.joined(separator: "\n")
    }

    static func percent(_ value: Double) -> String { String(format: "%.1f%%", value * 100) }

    static func health(_ health: AdminHealth) -> String {
        let rows = health.rows.map { row in
            [
                row.gateway, row.segment, percent(row.successRate), "±" + percent(row.uncertainty),
                String(format: "%.0f", row.evidence), "\(row.reportsLastMinute)", percent(row.shareLastMinute),
                row.breaker, "\(row.breakerGeneration)", "\(row.probesInFlight)",
                String(format: "%g", row.weight), row.enabled ? "enabled" : "draining",
            ]
        }
        return "instance \(health.instance)\n"
            + render(
                [
                    "GATEWAY", "SEGMENT", "SUCCESS", "UNCERTAINTY", "EVIDENCE", "REPORTS/1m", "SHARE/1m", "BREAKER",
                    "GEN", "PROBES", "WEIGHT", "STATE",
                ], rows)
    }

    static func stats(_ stats: AdminStats) -> String {
        let reports = stats.reports.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        return render(
            ["FIELD", "VALUE"],
            [
                ["instance", stats.instance], ["version", stats.version],
                ["uptime", String(format: "%.0f s", stats.uptimeSeconds)], ["loops", "\(stats.loops)"],
                ["connections", "\(stats.connections)"], ["redis", stats.redis], ["gateways", "\(stats.gateways)"],
                ["merchants", "\(stats.merchants)"], ["reports", reports],
                ["unknown decisions", "\(stats.unknownDecisions)"],
                ["breaker transitions", "\(stats.breakerTransitions)"], ["probes granted", "\(stats.probesGranted)"],
                ["fleet outcomes", "\(stats.fleetOutcomes)"], ["fleet dropped", "\(stats.fleetDropped)"],
                ["overrides", "\(stats.overrides)"],
            ])
    }

    static func rules(_ rules: [AdminStats.Rule], merchant: String?) -> String {
        let shown = rules.filter { merchant == nil || $0.scope == "global" || $0.scope == "merchant:\(merchant!)" }
        if shown.isEmpty { return "no routing rules" }
        return render(
            ["RULE", "SCOPE", "MODE", "STATE", "DECISIONS", "SHADOW MATCHES", "DIFFERS", "REFUSALS"],
            shown.map { rule in
                let share = { (count: UInt64) in
                    rule.shadowMatches == 0
                        ? "\(count)" : "\(count) (\(percent(Double(count) / Double(rule.shadowMatches))))"
                }
                return [
                    rule.name, rule.scope, rule.mode, rule.shadow ? "shadow" : "acting", "\(rule.decisions)",
                    "\(rule.shadowMatches)", share(rule.shadowDiffers), share(rule.shadowRefusals),
                ]
            })
    }

    static func change(_ change: AdminChange) -> String {
        "\(change.change) (\(change.scope == "fleet" ? "fleet-wide, kept in Redis" : "this instance, until it restarts"))"
    }

    static func reload(_ reload: AdminReload) -> String {
        (["reloaded \(reload.config)"] + reload.notes.map { "note: \($0)" }).joined(separator: "\n")
    }

    static func explain(_ explain: AdminExplain) -> String {
        var lines = [
            "decision \(explain.decisionId) by \(explain.instance) loop \(explain.loop), "
                + String(format: "%.0f ms ago", explain.ageMs) + ", snapshot \(explain.snapshotVersion)",
            "payment  merchant \(explain.merchant), \(explain.method) \(explain.currency ?? "?") \(explain.amount), "
                + "segment \(explain.segment)"
                + (explain.tried.isEmpty ? "" : ", tried \(explain.tried.joined(separator: ", "))"),
            "draw     \(explain.draw)",
        ]
        if let passed = explain.rulesPassedOver {
            let followed = explain.rule.map { "\($0.name) (\($0.scope) rule #\($0.index))" } ?? "none"
            lines.append("rule     \(followed)")
            if !passed.isEmpty {
                lines.append("passed   " + passed.map { "\($0.name) (\($0.failed))" }.joined(separator: ", "))
            }
        }
        lines.append(
            render(
                ["#", "GATEWAY", "REASON", "SUCCESS", "SCORE"],
                explain.entries.enumerated().map {
                    [
                        "\($0.offset + 1)", $0.element.gateway, $0.element.reason, percent($0.element.successRate),
                        String(format: "%.4f", $0.element.score),
                    ]
                }))
        if explain.listLength > explain.entries.count {
            lines.append("... and \(explain.listLength - explain.entries.count) more")
        }
        if !explain.excluded.isEmpty {
            lines.append(render(["LEFT OUT", "WHY"], explain.excluded.map { [$0.gateway, $0.reason] }))
        }
        return lines.joined(separator: "\n")
    }

    static func merchant(_ merchant: AdminMerchant) -> String {
        var lines = [
            "merchant \(merchant.merchant)",
            "status   \(merchant.status)"
                + (merchant.configuredStatus.map { " (override; the file says \($0))" } ?? ""),
            "tier     \(merchant.tier)", "keys     \(merchant.keys)",
        ]
        if let methods = merchant.allowedMethods { lines.append("methods  \(methods.joined(separator: ", "))") }
        if let gateways = merchant.allowedGateways { lines.append("gateways \(gateways.joined(separator: ", "))") }
        if !merchant.limits.isEmpty {
            lines.append(
                render(
                    ["RATE", "PERIOD", "BURST", "SCOPE", "WHEN REDIS DOWN"],
                    merchant.limits.map {
                        ["\($0.rate)", "\($0.periodMs) ms", "\($0.burst)", $0.scope, $0.whenRedisDown]
                    }))
        }
        return lines.joined(separator: "\n")
    }
}
