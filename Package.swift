// swift-tools-version: 6.2
import PackageDescription

// Every Swift target: Swift 6 mode, the strictness Hummingbird and NIO use,
// warnings as errors.
let strict: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .treatAllWarnings(as: .error),
]

let cStrict: [CSetting] = [
    .unsafeFlags(["-Wall", "-Wextra", "-Werror"])
]

// Under a sanitizer (SWITCHYARD_SANITIZER=1 scripts/sanitize thread),
// malloc must be the sanitizer's: jemalloc would take the runtime's
// allocations out of its sight, and ThreadSanitizer aborts on the first free
// it did not see. The daemon is then built on the system allocator.
let sanitizerBuild = Context.environment["SWITCHYARD_SANITIZER"] != nil
let allocator: [Target.Dependency] = sanitizerBuild ? [] : ["CJemalloc"]
let allocatorSettings: [SwiftSetting] = sanitizerBuild ? [.define("SWITCHYARD_NO_JEMALLOC")] : []

var package = Package(
    name: "switchyard",
    products: [
        .executable(name: "switchyard", targets: ["switchyard"]),
        .executable(name: "switchyard-bench", targets: ["switchyard-bench"]),
        .executable(name: "switchyardctl", targets: ["switchyardctl"]),
        .executable(name: "switchyard-sim", targets: ["switchyard-sim"]),
        .library(name: "SwitchyardClient", targets: ["SwitchyardClient"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
    ],
    targets: [
        // C: byte-level hot paths and the system calls Glibc's module lacks.
        .target(name: "CRouting", cSettings: cStrict),
        .target(name: "CLinux", cSettings: cStrict + [.define("_GNU_SOURCE")]),
        .target(name: "CCrypto", cSettings: cStrict, linkerSettings: [.linkedLibrary("crypto")]),
        .systemLibrary(name: "CHiredis"),
        .systemLibrary(name: "COpenSSL"),
        .systemLibrary(name: "CJemalloc"),

        // Swift modules, one responsibility each.
        .target(
            name: "SwitchyardCore",
            dependencies: ["CCrypto", .product(name: "Yams", package: "Yams")],
            swiftSettings: strict
        ),
        .target(name: "SwitchyardWire", dependencies: ["CRouting"], swiftSettings: strict),
        .target(name: "SwitchyardPosix", dependencies: ["CLinux"], swiftSettings: strict),
        .target(
            name: "SwitchyardServer",
            dependencies: [
                "SwitchyardCore", "SwitchyardWire", "SwitchyardPosix", "SwitchyardRedis",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ] + allocator,
            swiftSettings: strict + allocatorSettings
        ),
        .target(name: "SwitchyardRedis", dependencies: ["CHiredis"], swiftSettings: strict),
        .target(name: "SwitchyardSimulation", dependencies: ["SwitchyardCore"], swiftSettings: strict),
        .target(
            name: "SwitchyardClient",
            dependencies: ["SwitchyardWire", "SwitchyardPosix"],
            swiftSettings: strict
        ),
        .target(
            name: "SwitchyardTesting",
            dependencies: ["SwitchyardServer", "SwitchyardClient", "SwitchyardCore", "SwitchyardPosix"],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "switchyard",
            dependencies: [
                "SwitchyardServer", "SwitchyardCore", "COpenSSL",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "switchyardctl",
            dependencies: [
                "SwitchyardClient", "SwitchyardWire",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict
        ),
        // The load generator sits one folder below Benchmarks/ so that
        // package-benchmark, which runs every executable whose parent folder is
        // Benchmarks, does not take it for a micro-benchmark suite.
        .executableTarget(
            name: "switchyard-bench",
            dependencies: [
                "SwitchyardClient", "SwitchyardCore", "SwitchyardWire", "SwitchyardPosix",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ],
            path: "Benchmarks/Tools/switchyard-bench",
            // The generator shares a core with the server it measures: the
            // run-time exclusivity checks on its per-connection state were a
            // fifth of its instructions per request. Its state is touched by
            // its one thread only, and the compile-time checks still apply.
            swiftSettings: strict + [.unsafeFlags(["-enforce-exclusivity=unchecked"])]
        ),
        .executableTarget(
            name: "switchyard-sim",
            dependencies: [
                "SwitchyardSimulation", "SwitchyardCore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Benchmarks/Tools/switchyard-sim",
            swiftSettings: strict
        ),

        .testTarget(name: "SwitchyardWireTests", dependencies: ["SwitchyardWire", "CRouting"], swiftSettings: strict),
        .testTarget(name: "CCryptoTests", dependencies: ["CCrypto"], swiftSettings: strict),
        .testTarget(
            name: "SwitchyardCoreTests", dependencies: ["SwitchyardCore", "SwitchyardTesting"], swiftSettings: strict),
        .testTarget(
            name: "SwitchyardSimulationTests", dependencies: ["SwitchyardSimulation", "SwitchyardCore"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "SwitchyardServerTests",
            dependencies: [
                "SwitchyardServer", "SwitchyardClient", "SwitchyardTesting", "SwitchyardWire", "SwitchyardPosix",
                "SwitchyardCore", "SwitchyardRedis", .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "SwitchyardDaemonTests",
            dependencies: [
                "SwitchyardClient", "SwitchyardCore", "SwitchyardTesting", "SwitchyardWire", "SwitchyardPosix",
                "SwitchyardRedis", "CHiredis",
            ],
            swiftSettings: strict
        ),
    ]
)

// package-benchmark and its tree (argument parser tools, atomics, numerics,
// the malloc interposer) would triple every clean build; it is declared only
// when asked for: SWITCHYARD_BENCHMARKS=1 swift package benchmark
if Context.environment["SWITCHYARD_BENCHMARKS"] != nil {
    package.dependencies.append(
        .package(url: "https://github.com/ordo-one/benchmark", exact: "1.38.1", traits: ["MallocInterposer"])
    )
    package.targets.append(
        .executableTarget(
            name: "SwitchyardBenchmarks",
            dependencies: [
                "SwitchyardWire", "SwitchyardServer", "SwitchyardCore", "SwitchyardTesting", "CRouting",
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/SwitchyardBenchmarks",
            swiftSettings: strict,
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        )
    )
}
