import ArgumentParser
import Foundation
import SwitchyardCore
import SwitchyardSimulation
import Synchronization

/// switchyard-sim: Switchyard's routing and the field's baselines through
/// simulated worlds, on a virtual clock (docs/simulator.md).
@main
struct SwitchyardSim: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "switchyard-sim",
        abstract: "Run routing policies through simulated worlds and measure how many payments each earns.",
        discussion: """
            Every policy meets the same payments and the same luck for a seed; the same \
            scenario, seed and policy give the same numbers, byte for byte. \
            perf/routing runs the full table into perf/ROUTING.md.
            """)

    @Argument(help: "Scenario files (perf/scenarios/*.yaml).")
    var scenarios: [String]

    @Option(help: "Policies, comma separated, or all: \(PolicyKind.allCases.map(\.rawValue).joined(separator: ", ")).")
    var policies = "all"

    @Option(help: "Seeds: a list (1,2,3) or a range (1-5).")
    var seeds = "1"

    @Option(help: "Payments per second, comma separated; default: each scenario's own.")
    var rates: String?

    @Option(name: .customLong("duration-s"), help: "Simulated seconds; default: each scenario's own.")
    var durationSeconds: Double?

    @Option(help: "Write one JSON line per run (scenario, policy, seed, rate) to this file.")
    var json: String?

    @Option(help: "Write traffic shares and true rates per 10 s, for the first seed, into this directory.")
    var series: String?

    @Option(help: "Runs in parallel (default: online cores).")
    var jobs: Int?

    func run() throws {
        var worlds: [(file: String, scenario: Scenario)] = []
        for file in scenarios {
            do {
                worlds.append((file, try Scenario.load(path: file)))
            } catch {
                throw ValidationError("\(error)")
            }
        }
        let kinds = try parsePolicies()
        let seedList = try parseSeeds()
        let rateList = try rates.map { text in
            try text.split(separator: ",").map {
                guard let rate = Double($0), rate > 0 else { throw ValidationError("--rates: \($0) is not a rate") }
                return rate
            }
        }
        if let durationSeconds, durationSeconds <= 0 { throw ValidationError("--duration-s must be positive") }

        struct Job: Sendable {
            let world: Int
            let simulator: Simulator
            let policy: PolicyKind
        }
        var jobs: [Job] = []
        for (index, world) in worlds.enumerated() {
            for rate in rateList ?? [world.scenario.rate] {
                for seed in seedList {
                    let simulator = Simulator(
                        scenario: world.scenario, seed: seed, rate: rate, durationSeconds: durationSeconds)
                    for policy in kinds { jobs.append(Job(world: index, simulator: simulator, policy: policy)) }
                }
            }
        }
        let summaries = Mutex([RunSummary?](repeating: nil, count: jobs.count))
        let charts = Mutex([String?](repeating: nil, count: jobs.count))
        let next = Atomic<Int>(0)
        let workers = max(1, min(jobs.count, self.jobs ?? ProcessInfo.processInfo.activeProcessorCount))
        let wantSeries = series != nil
        let firstSeed = seedList[0]
        let frozen = jobs
        DispatchQueue.concurrentPerform(iterations: workers) { _ in
            while true {
                let i = next.add(1, ordering: .relaxed).oldValue
                guard i < frozen.count else { return }
                let job = frozen[i]
                let result = job.simulator.run(job.policy)
                let summary = RunSummary(result, simulator: job.simulator)
                summaries.withLock { $0[i] = summary }
                if wantSeries, job.simulator.seed == firstSeed {
                    let text = SeriesWriter.csv(result, simulator: job.simulator)
                    charts.withLock { $0[i] = text }
                }
            }
        }
        let results = summaries.withLock { $0.compactMap { $0 } }
        print(SummaryTable.render(results))

        if let json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            var lines = ""
            for summary in results { lines += String(decoding: try encoder.encode(summary), as: UTF8.self) + "\n" }
            try lines.write(toFile: json, atomically: true, encoding: .utf8)
        }
        if let series {
            try FileManager.default.createDirectory(atPath: series, withIntermediateDirectories: true)
            let texts = charts.withLock { $0 }
            var files: [String: String] = [:]
            for (i, job) in frozen.enumerated() {
                guard let text = texts[i] else { continue }
                let stem = ((worlds[job.world].file as NSString).lastPathComponent as NSString).deletingPathExtension
                let name = "\(series)/\(stem)-\(Int(job.simulator.rate)).csv"
                files[name, default: SeriesWriter.header] += text
            }
            for (name, text) in files { try text.write(toFile: name, atomically: true, encoding: .utf8) }
        }
    }

    private func parsePolicies() throws -> [PolicyKind] {
        if policies == "all" { return PolicyKind.allCases }
        return try policies.split(separator: ",").map {
            guard let kind = PolicyKind(rawValue: String($0)) else {
                throw ValidationError(
                    "--policies: no policy \($0) (known: \(PolicyKind.allCases.map(\.rawValue).joined(separator: ", ")))"
                )
            }
            return kind
        }
    }

    private func parseSeeds() throws -> [UInt64] {
        let parts = seeds.split(separator: "-")
        if parts.count == 2, let low = UInt64(parts[0]), let high = UInt64(parts[1]), low <= high {
            return Array(low...high)
        }
        let list = seeds.split(separator: ",").compactMap { UInt64($0) }
        guard !list.isEmpty, list.count == seeds.split(separator: ",").count else {
            throw ValidationError("--seeds: expected a list (1,2,3) or a range (1-5), got \(seeds)")
        }
        return list
    }
}
